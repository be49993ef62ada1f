"""Small file-system helpers every layer shares: atomic writes and HTML-page detection."""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: How an HTML page (an error or login page served in place of a data file) starts.
HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes of a file are an HTML page rather than data (BOM and whitespace ignored)."""
    return bool(HTML_START.match(head.lstrip(b"\xef\xbb\xbf")[:512]))


def file_looks_like_html(path: Path) -> bool:
    with open(path, "rb") as handle:
        return looks_like_html(handle.read(512))


def write_atomic(target: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``target`` and rename it into place.

    Readers never see a half-written file, and a failed write leaves no ``.tmp-*`` behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        # mkstemp makes the file private; outputs and caches are meant to be read like any other file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    return write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    return write_atomic(target, lambda p: p.write_bytes(data))


def move_into_place(source: Path, target: Path) -> None:
    """Rename ``source`` onto ``target``; across filesystems, copy beside the target first, then rename."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        write_atomic(target, lambda p: shutil.copyfile(source, p))
        Path(source).unlink(missing_ok=True)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml where PyYAML has it: the same safe types, about ten times faster."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - both loaders are the safe ones
