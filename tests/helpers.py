"""Small assertions shared by the test modules."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(raw_dir: Path) -> list[str]:
    """Everything in the raw cache, hidden temporary files included."""
    return sorted(str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*"))


def assert_one_line(exc: BaseException, *must_contain: str) -> None:
    """The error is one line and says each of ``must_contain``."""
    text = str(exc)
    assert "\n" not in text
    for fragment in must_contain:
        assert fragment in text, f"{fragment!r} not in {text!r}"
