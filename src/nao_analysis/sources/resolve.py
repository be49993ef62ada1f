"""The resolver: a source id becomes a verified local file, from the cache, the mirror, or a download route.

Order: the cache (``settings.raw_dir``), then the mirror (``settings.mirror``), then the source's route.

Routes are data: :data:`ROUTES` maps a route kind to a function ``(source, file, settings, session) -> str | Path``.

- Returning a URL (a ``str``) asks the resolver to download it: the URL is checked against the allowlist,
  streamed under the size cap, deadline and minimum rate, verified, pinned if new, and installed.
- Returning a ``Path`` hands over a file the route assembled itself (e.g. paged API answers), written under
  ``session.new_file(name)``; the resolver verifies, pins and installs it the same way.
- A route makes any request of its own through ``session`` (``session.get_json(url)``, ``session.download_to``):
  that is what keeps every hop on the allowlist. ``session.note(key, value)`` records a choice in provenance.
- A value given as ``"package.module:function"`` is imported only when a source needs it, so a route whose
  module is not installed leaves every other source working and fails its own with one clean line.

Nothing unverified is ever left in the cache: every file is written to a temporary name, its sha256
checked, and only then renamed into place with a provenance record. A full disk or a read-only cache
ends in one line naming the folder; nothing half-written stays behind.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nao_analysis.errors import DownloadError, HashMismatchError, SourceError, SourceUnavailableError
from nao_analysis.settings import Settings
from nao_analysis.sources.archives import safe_extract_zip
from nao_analysis.sources.download import DownloadSession
from nao_analysis.sources.policy import check_url_allowed, expects_binary, file_looks_like_html, max_bytes_for
from nao_analysis.sources.provenance import (
    Provenance,
    cache_path,
    discard,
    disk_errors,
    drop_cached,
    install,
    new_temp,
    now,
    provenance_path,
    read_provenance,
    remove_if_empty,
    sha256_of,
)
from nao_analysis.sources.registry import Source, SourceFile, expected_hash, load_registry, record_pin

Route = Callable[[Source, SourceFile, Settings, DownloadSession], "str | Path"]


def url_route(source: Source, file: SourceFile, settings: Settings, session: DownloadSession) -> str:
    """The ``url`` route: the registry's own address for the file."""
    return source.url or ""


#: Route kind -> the function that finds the file, or "module:function" imported when first needed.
ROUTES: dict[str, Route | str] = {
    "url": url_route,
    "fingertips_api": "nao_analysis.sources.fingertips:route",
    "govuk_content_api": "nao_analysis.sources.routes.govuk:route",
    "ons_dataset_page": "nao_analysis.sources.routes.ons:route",
    "arcgis_query": "nao_analysis.sources.routes.arcgis:route",
}
#: Checks a downloaded body must pass before it is hashed, by registry format ("module:function" or callable).
CONTENT_CHECKS: dict[str, Callable[[Path, str], None] | str] = {
    "fingertips_csv": "nao_analysis.sources.fingertips:check_is_fingertips_csv",
}


@dataclass(frozen=True)
class Resolved:
    """A source resolved to a verified local file.

    Attributes
    ----------
    path
        The source's primary file (the other files of a multi-file source sit beside it).
    provenance
        The primary file's record (sha256, origin download/mirror/added by hand, location, kind, ...), plus the
        source's title, publisher and licence, ``resolved_from`` (cache, mirror or download, for this call) and
        ``files`` (filename -> sha256 for every file of the source).
    """

    path: Path
    provenance: dict[str, Any] = field(hash=False, compare=False)


# -- routes ------------------------------------------------------------------------------------------
def route_kind(source: Source) -> str | None:
    """How a source is downloaded, or None if it cannot be.

    An explicit ``route`` on the entry (a kind, or a mapping/object with a ``kind``) wins; otherwise a Fingertips
    entry that names its indicator and area type uses the API, a ``url`` is downloaded as given, and a
    ``govuk_slug`` goes through the GOV.UK content API.
    """
    declared = getattr(source, "route", None)
    if declared:
        kind = declared if isinstance(declared, str) else getattr(declared, "kind", None)
        if kind is None and isinstance(declared, dict):
            kind = declared.get("kind")
        if kind:
            return str(kind)
    if source.format == "fingertips_csv" and {"indicator_id", "area_type_id"} <= set(source.serves):
        return "fingertips_api"
    if source.url:
        return "url"
    if getattr(source, "govuk_slug", None):
        return "govuk_content_api"
    return None


def _load(name: str, table: dict, what: str, source: Source) -> Callable:
    entry = table.get(name)
    if entry is None:
        raise SourceUnavailableError(
            f"source {source.id!r}: unknown {what} {name!r} (known: {', '.join(sorted(table))}) - fix its entry in data/sources.yaml"
        )
    if callable(entry):
        return entry
    module_name, _, attribute = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not module_name.startswith(exc.name or "\0"):
            raise  # the route module exists but something it imports does not: a real bug, not a missing route
        raise SourceUnavailableError(
            f"source {source.id!r}: {what} {name!r} is not available in this installation ({module_name} is missing) "
            "- point NAO_DATA_MIRROR at a folder holding the file, or add it with `nao-analysis sources add`"
        ) from None
    return getattr(module, attribute)


# -- cache and mirror ----------------------------------------------------------------------------------
def _from_cache(source: Source, file: SourceFile, settings: Settings) -> Path | None:
    """The cached copy, if it still verifies; a stale, corrupt or unrecorded copy is dropped."""
    target = cache_path(source, file, settings)
    if not target.exists():
        return None
    record = read_provenance(target)
    want, _ = expected_hash(source, file, settings)
    # With no pin yet, the hash recorded when the file was cached is what it must still have.
    want = want or (record or {}).get("sha256")
    if record is None or want is None or sha256_of(target) != want:
        drop_cached(target, settings)
        return None
    return target


@functools.cache
def _warn_missing_mirror(mirror: Path) -> None:
    # Cached so that the warning is one line per process, not one per source a build resolves.
    print(
        f"nao-analysis: warning: NAO_DATA_MIRROR={mirror} is not a folder - sources are looked up in the cache and "
        "downloaded instead; point it at the mirror folder or unset it",
        file=sys.stderr,
    )


def mirror_folder(settings: Settings) -> Path | None:
    """``settings.mirror`` if it is a folder; a setting that points nowhere is warned about once and ignored."""
    mirror = settings.mirror
    if mirror is None:
        return None
    if not mirror.is_dir():
        _warn_missing_mirror(mirror)
        return None
    return mirror


def _mirror_candidate(source: Source, file: SourceFile, settings: Settings) -> Path | None:
    mirror = mirror_folder(settings)
    if not mirror or not file.mirror:
        return None
    # A lexical check (the registry already forbids '..'): a mirror made of symlinks stays usable.
    candidate = Path(os.path.normpath(mirror / file.mirror))
    if not candidate.is_relative_to(mirror):
        raise SourceError(
            f"data/sources.yaml source {source.id!r}: mirror path {file.mirror!r} leaves the mirror folder - give a path inside it"
        )
    return candidate if candidate.is_file() else None


def _pin_decision(source: Source, file: SourceFile, settings: Settings, sha: str, size: int, shown_as: str, accept: bool) -> str | None:
    """The reason to pin ``sha`` (None if it already is the pinned hash); raise if it differs and is not accepted."""
    want, want_size = expected_hash(source, file, settings)
    if want is None:
        return "pinned on first download"
    if sha == want:
        return None
    if not accept:
        raise HashMismatchError(
            f"{shown_as}: sha256 {sha[:12]}... ({size:,} bytes) differs from the pinned {want[:12]}... "
            f"({want_size if want_size is not None else '?'} bytes) for source {source.id!r}, so the file changed - "
            f"if the publisher re-released it on purpose, accept it with `nao-analysis fetch {source.id} --accept-new-hash` "
            "and review `nao-analysis diff`; otherwise restore the original file"
        )
    return f"re-release accepted on purpose (was {want})"


def _from_mirror(source: Source, file: SourceFile, settings: Settings, *, accept_new_hash: bool = False) -> Path | None:
    candidate = _mirror_candidate(source, file, settings)
    if candidate is None:
        return None
    target = cache_path(source, file, settings)
    tmp = new_temp(target)
    try:
        shutil.copyfile(candidate, tmp)
        sha, size = sha256_of(tmp), tmp.stat().st_size
        reason = _pin_decision(source, file, settings, sha, size, str(candidate), accept_new_hash)
        record = Provenance(source.id, file.filename, "mirror", str(candidate), now(), sha, size, source.kind, source.copied_from)
        install(tmp, target, record)
        # A mirror copy is pinned only when a changed one is accepted on purpose; an unpinned source
        # keeps verifying against its mirror copy's record, as before.
        if reason and accept_new_hash and reason != "pinned on first download":
            _pin_or_drop(source, file, settings, target, sha, size, str(candidate), reason.replace("re-release", "mirror copy"))
    finally:
        discard(tmp, target, settings)
    return target


def _pin_or_drop(source: Source, file: SourceFile, settings: Settings, target: Path, sha: str, size: int, where: str, reason: str) -> None:
    try:
        record_pin(source.id, file.filename, sha, size, where, reason, settings=settings)
    except BaseException:
        # An unpinned file must not stay cached as if it had been accepted.
        drop_cached(target, settings)
        raise


# -- download ---------------------------------------------------------------------------------------
def _unavailable_reason(source: Source, file: SourceFile, settings: Settings) -> str | None:
    """Why ``file`` cannot be downloaded here (one line), or None if it can."""
    mirror_note = ""
    if settings.mirror is not None and not settings.mirror.is_dir():
        mirror_note = f"NAO_DATA_MIRROR={settings.mirror} does not exist, so the mirror was not searched; "
    kind = route_kind(source)
    if kind is None:
        where = f"$NAO_DATA_MIRROR/{file.mirror}" if file.mirror else "a local copy"
        return (
            f"source {source.id!r} ({file.filename}): not cached, not in the mirror, and it has no download route - "
            f"{mirror_note}point NAO_DATA_MIRROR at a folder holding {where}, "
            f"or add it with `nao-analysis sources add {source.id} --file PATH`"
        )
    if settings.offline:
        return (
            f"source {source.id!r} ({file.filename}): missing offline (NAO_OFFLINE=1) - {mirror_note}download it on a machine "
            f"with internet with `nao-analysis fetch {source.id}`, or point NAO_DATA_MIRROR at a copy"
        )
    return None


def _download_one(
    source: Source, file: SourceFile, settings: Settings, *, target: Path | None = None
) -> tuple[Path, str, str | None, dict]:
    """Take the source's route to a temporary file beside ``target``: (temporary path, location, route kind, notes).

    The caller owns the temporary file (verifies, installs or discards it).
    """
    kind = route_kind(source)
    route = _load(kind or "", ROUTES, "route", source)
    target = target or cache_path(source, file, settings)
    tmp = new_temp(target)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-route-"))
    try:
        with DownloadSession(settings, scratch=scratch) as session:
            answer = route(source, file, settings, session)
            limit = max_bytes_for(source.format, "download.zip" if source.archive == "zip" else file.filename)
            if isinstance(answer, Path):
                location = f"{kind}:{answer.name}"
                _check_assembled(answer, location, limit)
                shutil.copyfile(answer, tmp)
            elif isinstance(answer, str) and answer:
                location = answer
                where = f"data/sources.yaml source {source.id!r}"
                check_url_allowed(answer, where, settings)
                session.download_to(answer, tmp, max_bytes=limit, expect_binary=expects_binary(tmp.name), where=where)
            else:
                raise SourceUnavailableError(
                    f"source {source.id!r}: route {kind!r} found no address for {file.filename} - check its entry in data/sources.yaml"
                )
            if source.format in CONTENT_CHECKS:
                _load(source.format, CONTENT_CHECKS, "content check", source)(tmp, location)
            return tmp, location, kind, dict(session.notes)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)  # first, so that the source's folder can go if it is empty
        discard(tmp, target, settings)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_assembled(path: Path, location: str, limit: int) -> None:
    """The checks a download gets, for a file a route assembled itself."""
    size = path.stat().st_size
    if size > limit:
        raise DownloadError(f"{location}: {size:,} bytes, over the {limit:,}-byte limit - refusing the file")
    if size == 0:
        raise DownloadError(f"{location}: the route produced an empty file - check the source's route, or try again later")
    if file_looks_like_html(path):
        raise DownloadError(f"{location}: the route produced an HTML page instead of a data file - check the source's route")


def _from_download(source: Source, file: SourceFile, settings: Settings, *, accept_new_hash: bool) -> Path:
    target = cache_path(source, file, settings)
    tmp, location, kind, notes = _download_one(source, file, settings)
    try:
        sha, size = sha256_of(tmp), tmp.stat().st_size
        reason = _pin_decision(source, file, settings, sha, size, location, accept_new_hash)
        record = Provenance(
            source.id, file.filename, "download", location, now(), sha, size, source.kind, source.copied_from, kind, notes or None
        )
        install(tmp, target, record)
        if reason:
            _pin_or_drop(source, file, settings, target, sha, size, location, reason)
    finally:
        discard(tmp, target, settings)
    return target


def _from_download_archive(source: Source, settings: Settings, *, accept_new_hash: bool) -> dict[str, Path]:
    """Download a source published as one zip, and install every listed member (all verified first, or none).

    Returns
    -------
    dict
        filename -> installed path, for every file of the source.
    """
    folder = cache_path(source, source.primary, settings).parent
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".tmp-"))
    installed: dict[str, Path] = {}
    try:
        archive, url, kind, notes = _download_one(source, source.primary, settings, target=staging / "download.zip")
        members = {p.name: p for p in safe_extract_zip(archive, staging / "members")}
        checked = []
        for file in source.files:
            member = members.get(file.filename)
            if member is None:
                raise DownloadError(
                    f"{url}: the archive has no member {file.filename!r} (it holds {', '.join(sorted(members)) or 'nothing'}) - "
                    f"update the files of source {source.id!r} in data/sources.yaml"
                )
            sha, size = sha256_of(member), member.stat().st_size
            reason = _pin_decision(source, file, settings, sha, size, f"{url} (member {file.filename})", accept_new_hash)
            checked.append((file, member, sha, size, reason))
        for file, member, sha, size, _ in checked:
            target = cache_path(source, file, settings)
            record = Provenance(
                source.id, file.filename, "download", f"{url}#{file.filename}", now(), sha, size, source.kind,
                source.copied_from, kind, notes or None,
            )  # fmt: skip
            install(member, target, record)
            installed[file.filename] = target
        for file, _, sha, size, reason in checked:
            if reason:
                record_pin(source.id, file.filename, sha, size, url, reason, settings=settings)
    except BaseException:
        # All or nothing: a half-installed shapefile would pass for a whole one.
        for target in installed.values():
            drop_cached(target, settings)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        remove_if_empty(folder, settings)
    return installed


# -- public --------------------------------------------------------------------------------------------
def fetch_file(source: Source, file: SourceFile, settings: Settings, *, force: bool = False, accept_new_hash: bool = False) -> Path:
    """Resolve one file of a source to a verified local path: cache, then mirror, then its route.

    Parameters
    ----------
    source, file
        A registry entry and one of its files.
    settings
        Where the cache and mirror are, and how the network may be used.
    force
        Skip the cache and the mirror and download again.
    accept_new_hash
        Accept (and pin) a sha256 that differs from the pinned one: from a fresh download where the source can be
        downloaded here, otherwise from the mirror's copy.

    Returns
    -------
    Path
        ``<raw_dir>/<source id>/<filename>``, verified, with its provenance record beside it.

    Raises
    ------
    SourceError
        One line naming the source or URL and what to do (see the subclasses in ``nao_analysis.errors``).
    """
    return _resolve_file(source, file, settings, force=force, accept_new_hash=accept_new_hash)[0]


def _resolve_file(source: Source, file: SourceFile, settings: Settings, *, force: bool, accept_new_hash: bool) -> tuple[Path, str]:
    """As :func:`fetch_file`, and say where the file came from this time: cache, mirror or download."""
    with disk_errors(source.id, settings.raw_dir / source.id):
        if not force and not accept_new_hash:
            if found := _from_cache(source, file, settings):
                return found, "cache"
            if found := _from_mirror(source, file, settings):
                return found, "mirror"
        reason = _unavailable_reason(source, file, settings)
        # The one instruction a changed mirror copy gets ("fetch --accept-new-hash") must work offline too.
        if reason and accept_new_hash and not force and (found := _from_mirror(source, file, settings, accept_new_hash=True)):
            return found, "mirror"
        if reason and force:
            why = "it has no download route" if route_kind(source) is None else "downloads are off (NAO_OFFLINE=1)"
            raise SourceUnavailableError(
                f"source {source.id!r} ({file.filename}): --force asks for a fresh download, but {why} - "
                f"run `nao-analysis fetch {source.id}` without --force to use the cache or the mirror"
            )
        if reason:
            raise SourceUnavailableError(reason)
        if source.archive == "zip":
            return _from_download_archive(source, settings, accept_new_hash=accept_new_hash)[file.filename], "download"
        return _from_download(source, file, settings, accept_new_hash=accept_new_hash), "download"


def fetch(source_id: str, settings: Settings, *, force: bool = False, accept_new_hash: bool = False) -> Resolved:
    """Resolve every file of a source; return its primary file and provenance.

    The files of a multi-file source (a shapefile) sit side by side in one folder.

    Parameters
    ----------
    source_id
        An id in ``settings.sources_file``.
    settings
        The run's settings (resolved once at the command-line edge).
    force, accept_new_hash
        As :func:`fetch_file`.

    Returns
    -------
    Resolved
        ``.path`` is the verified local copy of the source's first file; ``.provenance`` says where it came from.
    """
    source = load_registry(settings).get(source_id)
    produced = getattr(getattr(source, "route", None), "filename", None)
    held = all(cache_path(source, f, settings).exists() or _mirror_candidate(source, f, settings) for f in source.files)
    if produced and (force or accept_new_hash or not held):
        # The route writes one file of its own (an ArcGIS layer as GeoJSON) in place of the files a mirror holds.
        local = [_resolve_file(source, SourceFile(filename=produced), settings, force=force, accept_new_hash=accept_new_hash)]
    elif source.archive == "zip" and (force or accept_new_hash) and _unavailable_reason(source, source.primary, settings) is None:
        # One download serves every member: do not fetch the archive once per file.
        with disk_errors(source.id, settings.raw_dir / source.id):
            installed = _from_download_archive(source, settings, accept_new_hash=accept_new_hash)
        local = [(installed[f.filename], "download") for f in source.files]
    else:
        local = [_resolve_file(source, f, settings, force=force, accept_new_hash=accept_new_hash) for f in source.files]
    primary, resolved_from = local[0]
    record = read_provenance(primary) or {}
    record.update(
        title=source.title,
        publisher=source.publisher,
        licence=source.licence,
        official_url=source.url or source.landing_page,
        resolved_from=resolved_from,
        files={path.name: (read_provenance(path) or {}).get("sha256") for path, _ in local},
    )
    return Resolved(primary, record)


def status(source: Source, settings: Settings) -> str:
    """One word for ``nao-analysis sources``: cached, mirror, download or missing offline."""
    if all(cache_path(source, f, settings).exists() and provenance_path(cache_path(source, f, settings)).exists() for f in source.files):
        return "cached"
    mirror = mirror_folder(settings)
    if mirror and all(f.mirror and (mirror / f.mirror).is_file() for f in source.files):
        return "mirror"
    if route_kind(source) is not None and not settings.offline:
        return "download"
    return "missing offline"
