"""The raw cache on disk: where a source's files live, their provenance records, and installing into it.

A cached file is ``<settings.raw_dir>/<source id>/<filename>`` with ``<filename>.provenance.json`` beside it.
Files arrive under a temporary name in the same folder and are renamed into place only once verified,
so a reader never sees a half-written or unverified file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from nao_analysis.errors import SourceError
from nao_analysis.safe_io import move_into_place, write_text_atomic
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import Source, SourceFile

#: Errors of the file system itself (not of the file): the user fixes these by freeing space or changing permissions.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


@dataclass(frozen=True)
class Provenance:
    """What we know about where a local raw file came from."""

    source_id: str
    filename: str
    origin: str  # "download" | "mirror" | "added by hand"
    location: str  # URL, mirror path, or the path a user supplied
    retrieved_at: str
    sha256: str
    bytes: int
    kind: str
    copied_from: str | None = None
    route: str | None = None  # the route kind a download took ("url", "fingertips_api", ...)
    route_notes: dict | None = None  # what a route chose on the way (e.g. which attachment)

    def write(self, target: Path) -> None:
        # default=str: a route may note a value JSON has no type for (a date, a path); it is kept as text.
        write_text_atomic(provenance_path(target), json.dumps(asdict(self), indent=2, default=str) + "\n")


def provenance_path(target: Path) -> Path:
    return target.with_name(target.name + ".provenance.json")


def cache_path(source: Source, file: SourceFile, settings: Settings) -> Path:
    return settings.raw_dir / source.id / file.filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_provenance(target: Path) -> dict | None:
    """The record beside ``target``, or None if it is missing or not a record."""
    try:
        record = json.loads(provenance_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("sha256"), str) else None


def new_temp(target: Path) -> Path:
    """An empty temporary file beside ``target`` (same suffix, so content checks know the type)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    return Path(name)


def remove_if_empty(folder: Path, settings: Settings) -> None:
    """Remove a source's folder once nothing is left in it (never the raw root itself)."""
    if folder.resolve() != settings.raw_dir.resolve():
        with contextlib.suppress(OSError):
            folder.rmdir()


def discard(tmp: Path, target: Path, settings: Settings) -> None:
    """Remove a temporary file, and the source's folder if that leaves it empty."""
    # Cleanup must never mask the error that made it necessary (a read-only folder refuses the unlink too).
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
    remove_if_empty(target.parent, settings)


def drop_cached(target: Path, settings: Settings) -> None:
    """Forget a cached file and its record (a stale, corrupt or unaccepted copy)."""
    with contextlib.suppress(OSError):
        target.unlink(missing_ok=True)
        provenance_path(target).unlink(missing_ok=True)
    remove_if_empty(target.parent, settings)


def install(tmp: Path, target: Path, provenance: Provenance) -> None:
    """Move a verified file into place with its record (renamed, or copied across file systems)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Record first, file second: a parallel build that sees the file must also see its record
    # (a cached file without one is treated as unfinished and dropped).
    provenance.write(target)
    try:
        move_into_place(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            provenance_path(target).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def disk_errors(source_id: str, folder: Path) -> Iterator[None]:
    """Turn a full disk or a read-only folder into one line naming the folder and the fix."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_FULL | NOT_WRITABLE:
            raise
        where = Path(exc.filename).parent if exc.filename else folder
        reason = exc.strerror or os.strerror(exc.errno)
        if exc.errno in DISK_FULL:
            fix = f"free some space on the disk holding {where} and fetch {source_id} again"
        else:
            fix = f"make {where} writable, or point NAO_RAW_DIR at a writable folder, and fetch {source_id} again"
        raise SourceError(f"{where}: cannot save source {source_id!r} ({reason}); nothing was cached - {fix}") from None
