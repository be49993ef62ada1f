"""Resolve a source to a verified local file: cache -> mirror -> HTTPS download.

Nothing unverified is ever left in the cache: every file is written to a temporary
name, its sha256 checked, and only then renamed into place with a provenance record.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlparse

from nao_analysis import paths
from nao_analysis.errors import (
    DownloadError,
    HashMismatchError,
    SourceError,
    SourceUnavailableError,
    UnsafeArchiveError,
)
from nao_analysis.sources.registry import Source, SourceFile, expected_hash, load_registry, record_pin

#: Hosts that publish the official files this suite reads. Anything else is refused.
OFFICIAL_HOSTS = frozenset(
    {
        "www.gov.uk",
        "assets.publishing.service.gov.uk",
        "www.ons.gov.uk",
        "geoportal.statistics.gov.uk",
        "open-geography-portalx-ons.hub.arcgis.com",
        "services1.arcgis.com",
        "fingertips.phe.org.uk",
        "www.ndtms.net",
    }
)
MAX_DOWNLOAD_BYTES = 500 * 1024**2
MAX_ARCHIVE_EXPANDED_BYTES = 2 * 1024**3
MAX_ARCHIVE_RATIO = 200
#: How an HTML error page starts (compared lower-cased, after leading whitespace and a BOM).
HTML_SIGNATURES = (b"<!doctype html", b"<html", b"<head", b"<body")


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

    def write(self, target: Path) -> None:
        _atomic_write_text(provenance_path(target), json.dumps(asdict(self), indent=2) + "\n")


#: Inputs resolved in this process, so a notebook can list exactly what it read.
USED_INPUTS: dict[str, dict] = {}


def provenance_path(target: Path) -> Path:
    return target.with_name(target.name + ".provenance.json")


def cache_path(source: Source, file: SourceFile) -> Path:
    return paths.raw_dir() / source.id / file.filename


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _new_temp(target: Path) -> Path:
    """An empty temporary file beside ``target`` (same suffix, so content checks know the type)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    return Path(name)


def _discard(tmp: Path, target: Path) -> None:
    """Remove a temporary file, and the source's folder if that leaves it empty (never the raw root)."""
    tmp.unlink(missing_ok=True)
    # Not empty means other files of this source are cached there: the folder stays.
    _remove_if_empty(target.parent)


def _drop_cached(target: Path) -> None:
    target.unlink(missing_ok=True)
    provenance_path(target).unlink(missing_ok=True)
    _discard(target, target)


def allowed_origins() -> set[str]:
    """Extra loopback origins allowed for tests and local protocol servers (``NAO_EXTRA_ALLOWED_ORIGINS``)."""
    extra = {o.strip().rstrip("/") for o in os.environ.get("NAO_EXTRA_ALLOWED_ORIGINS", "").split(",") if o.strip()}
    for origin in extra:
        host = urlparse(origin).hostname or ""
        if host != "localhost":
            try:
                if not ipaddress.ip_address(host).is_loopback:
                    raise ValueError
            except ValueError:
                raise SourceError(
                    f"NAO_EXTRA_ALLOWED_ORIGINS: {origin!r} is not a loopback address - only 127.0.0.1/localhost may be added"
                ) from None
    return extra


def check_url_allowed(url: str, where: str) -> None:
    """Refuse anything but HTTPS to an official host (or an explicitly allowed loopback origin)."""
    parsed = urlparse(url)
    origin = f"{parsed.scheme}://{parsed.netloc}"
    if origin in allowed_origins():
        return
    if parsed.scheme != "https":
        raise SourceError(f"{where}: URL {url!r} is not https - use the publisher's https address")
    if parsed.hostname not in OFFICIAL_HOSTS:
        raise SourceError(
            f"{where}: host {parsed.hostname!r} is not an official publisher on the allowlist "
            f"({', '.join(sorted(OFFICIAL_HOSTS))}) - use the official URL, "
            "or add a file obtained by hand with `nao-analysis sources add ID --file PATH`"
        )


def _verify(path: Path, source: Source, file: SourceFile, shown_as: str) -> tuple[str, int]:
    """Return (sha256, bytes); raise if it disagrees with the pin."""
    actual = sha256_of(path)
    size = path.stat().st_size
    want, want_size = expected_hash(source, file)
    if want and actual != want:
        raise HashMismatchError(
            f"{shown_as}: sha256 {actual[:12]}... ({size:,} bytes) differs from the pinned {want[:12]}... "
            f"({want_size if want_size is not None else '?'} bytes) for source {source.id!r}, so the file changed - "
            f"if the publisher re-released it on purpose, accept it with `nao-analysis fetch {source.id} --accept-new-hash` "
            "and review `nao-analysis diff`; otherwise restore the original file"
        )
    return actual, size


def _install(tmp: Path, target: Path, provenance: Provenance) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Record first, file second: a parallel build that sees the file must also see its record
    # (a cached file without one is treated as unfinished and dropped).
    provenance.write(target)
    try:
        os.replace(tmp, target)
    except BaseException:
        provenance_path(target).unlink(missing_ok=True)
        raise


def _read_provenance(target: Path) -> dict | None:
    try:
        record = json.loads(provenance_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("sha256"), str) else None


def _from_cache(source: Source, file: SourceFile) -> Path | None:
    """The cached copy, if it still verifies; a stale, corrupt or unrecorded copy is dropped."""
    target = cache_path(source, file)
    if not target.exists():
        return None
    record = _read_provenance(target)
    want, _ = expected_hash(source, file)
    # With no pin yet, the hash recorded when the file was cached is what it must still have.
    want = want or (record or {}).get("sha256")
    if record is None or want is None or sha256_of(target) != want:
        _drop_cached(target)
        return None
    return target


def _from_mirror(source: Source, file: SourceFile) -> Path | None:
    mirror = paths.mirror_dir()
    if not mirror or not file.mirror:
        return None
    # A lexical check (the registry already forbids '..'): a mirror made of symlinks stays usable.
    candidate = Path(os.path.normpath(mirror / file.mirror))
    if not candidate.is_relative_to(mirror):
        raise SourceError(
            f"data/sources.yaml source {source.id!r}: mirror path {file.mirror!r} leaves the mirror folder - give a path inside it"
        )
    if not candidate.is_file():
        return None
    target = cache_path(source, file)
    tmp = _new_temp(target)
    try:
        shutil.copyfile(candidate, tmp)
        sha, size = _verify(tmp, source, file, str(candidate))
        _install(
            tmp,
            target,
            Provenance(
                source.id,
                file.filename,
                "mirror",
                str(candidate),
                _now(),
                sha,
                size,
                source.kind,
                source.copied_from,
            ),
        )
    finally:
        _discard(tmp, target)
    return target


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def resolve_download_url(source: Source) -> str:
    """The file's URL: given directly, or the matching attachment of a GOV.UK statistics page."""
    if source.url:
        return source.url
    if not source.govuk_slug:
        raise SourceUnavailableError(
            f"source {source.id!r}: no download exists for this {source.kind.replace('_', ' ')} "
            f"(copied from {source.copied_from}) - "
            f"set NAO_DATA_MIRROR to a folder holding {source.primary.mirror or source.primary.filename}"
        )
    from nao_analysis.sources.download import get_json

    api = os.environ.get("NAO_GOVUK_API", "https://www.gov.uk/api/content/government/statistics/")
    api_url = api.rstrip("/") + "/" + source.govuk_slug
    check_url_allowed(api_url, f"source {source.id!r} govuk_slug")
    content = get_json(api_url)
    attachments = (content.get("details") or {}).get("attachments") or []
    pattern = (source.attachment_pattern or source.primary.filename.split("_")[0]).lower()
    candidates = [a for a in attachments if isinstance(a, dict) and a.get("url")]
    # The registered filename wins; otherwise the first attachment whose name contains the pattern.
    exact = [a for a in candidates if (a.get("filename") or "").lower() == source.primary.filename.lower()]
    for attachment in exact or candidates:
        name = (attachment.get("filename") or attachment["url"]).lower()
        if exact or pattern in name:
            return urljoin(api_url, attachment["url"])
    raise DownloadError(
        f"{api_url}: no attachment matching {pattern!r} among {len(attachments)} attachments - "
        f"set `url` for source {source.id!r} in data/sources.yaml"
    )


def download_and_install(
    source: Source,
    file: SourceFile,
    url: str,
    *,
    accept_new_hash: bool = False,
    check_content: Callable[[Path, str], None] | None = None,
) -> Path:
    """Download ``url`` as ``file`` of ``source``: verify, install atomically with provenance, pin if new.

    For clients that build their own request URL (the Fingertips API); ``fetch`` uses it for a plain ``url``.

    Parameters
    ----------
    source, file
        The registry entry and the file the download becomes.
    url
        Checked against the allowlist here.
    accept_new_hash
        Accept (and pin) a sha256 that differs from the pinned one.
    check_content
        Called as ``check_content(tmp_path, url)`` before hashing; raise a one-line ``SourceError`` to refuse.

    Returns
    -------
    Path
        The installed file. On any failure nothing is left in the cache and nothing is pinned.
    """
    from nao_analysis.sources.download import download_to

    check_url_allowed(url, f"data/sources.yaml source {source.id!r}")
    target = cache_path(source, file)
    tmp = _new_temp(target)
    try:
        download_to(url, tmp, expect_binary=not file.filename.endswith((".csv", ".json", ".geojson", ".txt")))
        if check_content:
            check_content(tmp, url)
        want, _ = expected_hash(source, file)
        sha = sha256_of(tmp)
        size = tmp.stat().st_size
        pin_reason = None
        if want is None:
            pin_reason = "pinned on first download"
        elif sha != want:
            if not accept_new_hash:
                _verify(tmp, source, file, url)
            pin_reason = f"re-release accepted on purpose (was {want})"
        _install(tmp, target, Provenance(source.id, file.filename, "download", url, _now(), sha, size, source.kind, source.copied_from))
        if pin_reason:
            try:
                record_pin(source.id, file.filename, sha, size, url, pin_reason)
            except BaseException:
                # An unpinned file must not stay cached as if it had been accepted.
                _drop_cached(target)
                raise
    finally:
        _discard(tmp, target)
    return target


def _from_download(source: Source, file: SourceFile, *, accept_new_hash: bool) -> Path:
    url = resolve_download_url(source)
    return download_and_install(source, file, url, accept_new_hash=accept_new_hash)


def _check_can_download(source: Source, file: SourceFile) -> None:
    """Raise the one-line reason why ``file`` cannot be downloaded here, if there is one."""
    if not source.downloadable:
        where = f"$NAO_DATA_MIRROR/{file.mirror}" if file.mirror else "a local copy"
        raise SourceUnavailableError(
            f"source {source.id!r} ({file.filename}): not cached, not in the mirror, and it has no official download "
            f"- point NAO_DATA_MIRROR at a folder holding {where}, or add it with `nao-analysis sources add {source.id} --file PATH`"
        )
    if os.environ.get("NAO_OFFLINE") == "1":
        raise SourceUnavailableError(
            f"source {source.id!r} ({file.filename}): missing offline (NAO_OFFLINE=1) - download it on a machine with internet "
            f"with `nao-analysis fetch {source.id}`, or point NAO_DATA_MIRROR at a copy"
        )


def _remove_if_empty(folder: Path) -> None:
    if folder != paths.raw_dir():
        with contextlib.suppress(OSError):
            folder.rmdir()


def _from_download_archive(source: Source, *, accept_new_hash: bool) -> dict[str, Path]:
    """Download a source published as one zip, and install every listed member (all verified first, or none).

    Returns
    -------
    dict
        filename -> installed path, for every file of the source.
    """
    from nao_analysis.sources.download import download_to

    url = resolve_download_url(source)
    check_url_allowed(url, f"data/sources.yaml source {source.id!r}")
    folder = cache_path(source, source.primary).parent
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".tmp-"))
    installed: dict[str, Path] = {}
    try:
        archive = staging / "download.zip"
        download_to(url, archive)
        members = {p.name: p for p in safe_extract_zip(archive, staging / "members")}
        checked = []
        for file in source.files:
            member = members.get(file.filename)
            if member is None:
                raise DownloadError(
                    f"{url}: the archive has no member {file.filename!r} (it holds {', '.join(sorted(members)) or 'nothing'}) - "
                    f"update the files of source {source.id!r} in data/sources.yaml"
                )
            want, _ = expected_hash(source, file)
            sha, size = sha256_of(member), member.stat().st_size
            pin_reason = None
            if want is None:
                pin_reason = "pinned on first download"
            elif sha != want:
                if not accept_new_hash:
                    _verify(member, source, file, f"{url} (member {file.filename})")
                pin_reason = f"re-release accepted on purpose (was {want})"
            checked.append((file, member, sha, size, pin_reason))
        for file, member, sha, size, _ in checked:
            target = cache_path(source, file)
            record = Provenance(
                source.id, file.filename, "download", f"{url}#{file.filename}", _now(), sha, size, source.kind, source.copied_from
            )
            _install(member, target, record)
            installed[file.filename] = target
        for file, _, sha, size, pin_reason in checked:
            if pin_reason:
                record_pin(source.id, file.filename, sha, size, url, pin_reason)
    except BaseException:
        # All or nothing: a half-installed shapefile would pass for a whole one.
        for target in installed.values():
            _drop_cached(target)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(folder)
    return installed


def resolve_local(source: Source, file: SourceFile) -> Path | None:
    """A verified copy from the cache or, failing that, the mirror; None if neither has one."""
    return _from_cache(source, file) or _from_mirror(source, file)


def fetch_file(source: Source, file: SourceFile, *, force: bool = False, accept_new_hash: bool = False) -> Path:
    """Resolve one file of a source to a verified local path: cache, then mirror, then download.

    Parameters
    ----------
    source, file
        A registry entry and one of its files.
    force
        Skip the cache and the mirror and download again.
    accept_new_hash
        Download again and accept (pin) a sha256 that differs from the registry's.

    Returns
    -------
    Path
        ``data/raw/<source id>/<filename>``, verified, with its provenance record beside it.

    Raises
    ------
    SourceError
        One line naming the source or URL and what to do (see the subclasses in ``nao_analysis.errors``).
    """
    if not force and not accept_new_hash:
        for resolver in (_from_cache, _from_mirror):
            found = resolver(source, file)
            if found:
                return found
    _check_can_download(source, file)
    if source.archive == "zip":
        return _from_download_archive(source, accept_new_hash=accept_new_hash)[file.filename]
    return _from_download(source, file, accept_new_hash=accept_new_hash)


def fetch(source_id: str, *, force: bool = False, accept_new_hash: bool = False) -> Path:
    """Resolve every file of a source and return the path of its primary file.

    The files of a multi-file source (a shapefile) sit side by side in one folder.

    Parameters
    ----------
    source_id
        An id in ``data/sources.yaml``.
    force, accept_new_hash
        As :func:`fetch_file`.

    Returns
    -------
    Path
        The verified local copy of the source's first file; the input is recorded in :data:`USED_INPUTS`.
    """
    source = load_registry().get(source_id)
    if source.format == "fingertips_csv" and "indicator_id" in source.serves:
        # An API query, not a file: the Fingertips client builds the request (and honours NAO_FINGERTIPS_BASE_URL).
        from nao_analysis.sources.fingertips import fetch_indicator

        local = [fetch_indicator(source_id, force=force, accept_new_hash=accept_new_hash)]
    elif source.archive == "zip" and (force or accept_new_hash):
        # One download serves every member: do not fetch the archive once per file.
        _check_can_download(source, source.primary)
        installed = _from_download_archive(source, accept_new_hash=accept_new_hash)
        local = [installed[f.filename] for f in source.files]
    else:
        local = [fetch_file(source, f, force=force, accept_new_hash=accept_new_hash) for f in source.files]
    primary = local[0]
    record = json.loads(provenance_path(primary).read_text())
    record["title"] = source.title
    record["licence"] = source.licence
    record["official_url"] = source.url or source.landing_page
    USED_INPUTS[source_id] = record
    return primary


def status(source: Source) -> str:
    """One word for ``nao-analysis sources``: cached, mirror, downloadable or missing offline."""
    if all(cache_path(source, f).exists() and provenance_path(cache_path(source, f)).exists() for f in source.files):
        return "cached"
    mirror = paths.mirror_dir()
    if mirror and all(f.mirror and (mirror / f.mirror).is_file() for f in source.files):
        return "mirror"
    if source.downloadable and os.environ.get("NAO_OFFLINE") != "1":
        return "download"
    return "missing offline"


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
        ``MAX_ARCHIVE_EXPANDED_BYTES`` and ``MAX_ARCHIVE_RATIO``.

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
    max_bytes = MAX_ARCHIVE_EXPANDED_BYTES if max_bytes is None else max_bytes
    max_ratio = MAX_ARCHIVE_RATIO if max_ratio is None else max_ratio
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
