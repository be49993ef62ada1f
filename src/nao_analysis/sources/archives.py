"""Archives: extract a downloaded zip safely (no member outside its folder, no zip bomb)."""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from nao_analysis.errors import UnsafeArchiveError
from nao_analysis.sources.policy import ARCHIVE_MAX_EXPANDED_BYTES, ARCHIVE_MAX_RATIO


def safe_extract_zip(
    archive: Path,
    dest: Path,
    *,
    max_bytes: int | None = None,
    max_ratio: float | None = None,
) -> list[Path]:
    """Extract a zip, refusing members that escape ``dest`` or that expand beyond the limits.

    Parameters
    ----------
    archive
        The zip file (e.g. a boundary download).
    dest
        Folder to extract into; created if missing.
    max_bytes, max_ratio
        Limits on the total expanded size and on expanded/packed size; default
        ``policy.ARCHIVE_MAX_EXPANDED_BYTES`` and ``policy.ARCHIVE_MAX_RATIO``.

    Returns
    -------
    list of Path
        The regular files written, in archive order.

    Raises
    ------
    UnsafeArchiveError
        Not a zip; a member with an absolute path, a drive, ``..`` or a link; a declared or
        actual expansion beyond the limits. Nothing is left in ``dest`` when this is raised.
    """
    max_bytes = ARCHIVE_MAX_EXPANDED_BYTES if max_bytes is None else max_bytes
    max_ratio = ARCHIVE_MAX_RATIO if max_ratio is None else max_ratio
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        raise UnsafeArchiveError(f"{archive}: not a valid zip archive - delete it and download again") from None
    bomb = (
        f"{archive}: expands beyond the limit ({max_bytes:,} bytes or {max_ratio:g}x its packed size) - "
        "refusing a possible zip bomb; get the file from the official source"
    )
    with zf:
        members = zf.infolist()
        declared = sum(m.file_size for m in members)
        packed = max(archive.stat().st_size, 1)
        if declared > max_bytes or declared / packed > max_ratio:
            raise UnsafeArchiveError(bomb)
        dest = Path(dest).resolve()
        for member in members:
            name = member.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            target = (dest / pure).resolve()
            is_link = (member.external_attr >> 16) & 0o170000 == 0o120000
            if pure.is_absolute() or ":" in name or ".." in pure.parts or is_link or not target.is_relative_to(dest):
                raise UnsafeArchiveError(
                    f"{archive}: member {name!r} would be written outside {dest} - refusing the archive; get it from the official source"
                )
        created = not dest.exists()
        dest.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        expanded = 0
        try:
            for member in members:
                target = (dest / PurePosixPath(member.filename.replace("\\", "/"))).resolve()
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written.append(target)
                # Count real output bytes: the sizes in the header are the archive's claim, not a fact.
                with zf.open(member) as src, open(target, "wb") as out:
                    for block in iter(lambda src=src: src.read(1 << 20), b""):
                        expanded += len(block)
                        if expanded > max_bytes or expanded / packed > max_ratio:
                            raise UnsafeArchiveError(bomb)
                        out.write(block)
        except BaseException as exc:
            for path in written:
                path.unlink(missing_ok=True)
            if created:
                shutil.rmtree(dest, ignore_errors=True)
            if isinstance(exc, (zipfile.BadZipFile, EOFError, zlib.error)):
                raise UnsafeArchiveError(
                    f"{archive}: damaged zip archive ({exc.__class__.__name__}) - delete it and download again"
                ) from None
            raise
        return written
