"""Change the registry (above the sources and readers layers: a file is recognised by the readers before it is
registered): ``nao-analysis sources add <id> --url URL | --file PATH`` and ``sources remove <id>``.

``add`` fetches (or copies) the file into a temporary file beside its final place, recognises it **by content**
with the project's readers (``readers.detect.identify``, the one detection path; a file no reader recognises is
refused), checks every ``--serves`` value the content can confirm (year and basis of a revenue account,
registration years of a deaths table, survey edition, deflator release, Fingertips indicator and area type),
records the years it covers (``covers_from``/``covers_to``, which the roll reads), and only then installs it in
``data/raw/<id>/`` with a provenance record and appends its entry to ``data/sources.yaml`` as a block of text, so
the hand-written comments and layout of the registry stay as they are.

Safety: one lock (``fcntl.flock`` on the registry's folder) covers "is the id free? install the file, append the
entry", so concurrent adds of one id cannot delete each other's file; SIGTERM is turned into an exception while
a change is in progress so no ``.tmp-*`` is left behind; ``--file`` is capped in size per format; names and
titles with control characters (a newline would break the one-line-per-source listing) are refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml
from pydantic import ValidationError

from nao_analysis.errors import ReaderError, SourceError
from nao_analysis.safe_io import file_looks_like_html, load_yaml, move_into_place, write_text_atomic
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import Registry, Source, load_registry

if TYPE_CHECKING:
    from nao_analysis.readers.detect import Detected

SOURCE_ID = re.compile(r"^[a-z0-9_]+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
KINDS = ("official", "third_party_extract")
#: ``serves`` keys a file's content can confirm; one of these given with --serves must be confirmed.
CONTENT_KEYS = frozenset(
    {"basis", "year", "registration_edition", "survey_edition", "deflator_vintage", "indicator_id", "area_type_id", "covers_to"}
)
MB = 1024**2
#: Size caps for ``--file`` by format family, until ``nao_analysis.sources.policy.max_bytes_for`` exists. The largest
#: real file the suite knows is the 20 MB Revenue Outturn time series CSV.
FALLBACK_MAX_BYTES = {"spreadsheet": 50 * MB, "csv": 100 * MB, "geometry": 200 * MB, "json": 50 * MB}


@dataclass(frozen=True)
class DetectedFormat:
    """What a file was recognised as, from its content."""

    format: str
    serves: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


# -- size caps ----------------------------------------------------------------------------------------------------


def _family(fmt_or_suffix: str) -> str:
    text = fmt_or_suffix.lower().lstrip(".")
    if text in {"shapefile", "shp", "geojson", "topojson"}:
        return "geometry"
    if text.endswith(("xls", "xlsx", "xlsm", "ods", "table1")) or text in {"csew_appendix_xlsx", "ons_csew_drug_appendix_xlsx"}:
        return "spreadsheet"
    if text in {"json"}:
        return "json"
    return "csv"


def max_bytes_for(fmt: str) -> int:
    """The largest file accepted for a format: the fetch policy's cap when it has one, else the family cap here."""
    try:
        from nao_analysis.sources.policy import max_bytes_for as policy_cap  # the fetch layer's single source of caps
    except ImportError:
        return FALLBACK_MAX_BYTES[_family(fmt)]
    return policy_cap(fmt)


def _check_size(path: Path, fmt: str, shown: str) -> None:
    size = path.stat().st_size
    cap = max_bytes_for(fmt)
    if size > cap:
        raise SourceError(
            f"{shown}: {size:,} bytes is more than the {cap:,}-byte cap for {fmt} files - check it is the right file "
            "(an official table of this kind is far smaller)"
        )


# -- recognising a file by content ------------------------------------------------------------------------------------

#: What a reader's detection calls a key (left) and the registry ``serves`` key it is recorded under (right):
#: ``covers_from``/``covers_to`` are what the roll reads to know which years a source holds.
SERVES_FROM_DETECTION = {
    "basis": "basis",
    "year": "year",
    "registration_edition": "registration_edition",
    "survey_edition": "survey_edition",
    "deflator_vintage": "deflator_vintage",
    "first_year": "covers_from",
    "last_year": "covers_to",
    "deflator_last_year": "covers_to",
}


def _area_type_of(label: str) -> int | None:
    """The Fingertips area type id whose description starts with the CSV's ``Area Type`` label."""
    from nao_analysis.sources.fingertips import load_area_types

    wanted = " ".join(label.split()).lower()
    # The area-type table is the project's own data (data/manual), not the user's; the default settings find it.
    matches = [a.area_type_id for a in load_area_types(Settings()) if a.description.lower().startswith(wanted)] if wanted else []
    return matches[0] if len(matches) == 1 else None


def registry_serves(found: Detected, path: Path) -> dict[str, Any]:
    """What a recognised file serves, in the registry's ``serves`` vocabulary.

    The readers' detection says more than the registry records (series, areas, drug groups, age groups...); only
    the keys editions and the roll match on are kept: basis and year, registration or survey edition, deflator
    release, Fingertips indicator and area type, and ``covers_from``/``covers_to`` (the years the file holds).
    """
    detected = found.serves or {}
    serves: dict[str, Any] = {}
    for key, name in SERVES_FROM_DETECTION.items():
        if detected.get(key) is not None and name not in serves:
            serves[name] = detected[key]
    if found.format == "fingertips_csv":
        years = list(detected.get("years") or [])
        if years:
            serves.update(covers_from=years[0], covers_to=years[-1])
        area_types = {t for t in (_area_type_of(str(a)) for a in detected.get("area_types") or []) if t is not None}
        indicator = detected.get("indicator_id")
        # The fetch layer treats indicator + area type as an API request it can resolve from the cache; an indicator
        # without a known area type would be sent to the API (and refused), so it is recorded only with one.
        if isinstance(indicator, int) and len(area_types) == 1:
            serves = {"indicator_id": indicator, "area_type_id": area_types.pop(), **serves}
    elif "deflator_last_year" in detected:
        from nao_analysis.readers.deflators import read_deflator

        serves = {"covers_from": str(min(read_deflator(path)["financial_year"])), **serves}
    elif re.fullmatch(r"\d{4}/\d{2}", str(serves.get("survey_edition", ""))):
        serves.setdefault("covers_to", serves["survey_edition"])
    return serves


def detect_format(path: Path) -> DetectedFormat:
    """Recognise a raw file by its content with the project's readers (never by its name alone).

    One detection path: :func:`nao_analysis.readers.detect.identify` says what the file is; its ``serves`` are
    recorded in the registry's vocabulary (:func:`registry_serves`).

    Raises
    ------
    SourceError
        One line: the file is empty, a web page, UTF-16, recognised but missing what its reader needs to vouch for it
        (the reader's own message), or recognised by no reader.
    """
    from nao_analysis.readers.detect import identify

    path = Path(path)
    if path.stat().st_size == 0 or not path.read_bytes()[:65536].strip():
        raise SourceError(f"{path}: the file is empty - download it again")
    if file_looks_like_html(path):
        raise SourceError(f"{path}: this is a web page, not a data file - save the file itself, not the page that links to it")
    try:
        found = identify(path)
        serves = registry_serves(found, path)
    except ReaderError as exc:
        if "no reader recognises this file" in str(exc):
            raise SourceError(
                f"{path}: no reader of this project recognises the file - check it is the publisher's table in its original "
                "layout; a new kind of file needs a reader first"
            ) from None
        raise SourceError(str(exc)) from None
    return DetectedFormat(found.format, serves, found.title)


def check_revenue_account_lines(path: Path, year: str, settings: Settings | None = None) -> None:
    """Read ``path`` with the revenue account reader and the line mapping of ``year``.

    Raises
    ------
    ReaderError
        The reader's own one-line error: which expected line label or sheet is missing.
    SourceError
        The line mapping has no lines for ``year``.
    """
    import pandas as pd

    from nao_analysis.analysis.spending_change import line_patterns, lines_for_year
    from nao_analysis.errors import AnalysisError
    from nao_analysis.readers.revenue_account import read_revenue_account

    manual = (settings or Settings()).manual_dir
    mapping = pd.read_csv(manual / "ro_line_mapping.csv", dtype=str, keep_default_na=False)
    try:
        rows = lines_for_year(mapping, year)
    except AnalysisError as exc:
        raise SourceError(str(exc)) from None
    read_revenue_account(path, line_patterns(rows))


# -- the registry: lock, append, remove ----------------------------------------------------------------------------


@contextlib.contextmanager
def registry_lock(settings: Settings) -> Iterator[None]:
    """Hold an exclusive lock on registry changes (the registry's folder, so no lock file is left behind)."""
    folder = settings.sources_file.parent
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(ImportError):
            import fcntl

            fcntl.flock(folder_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder_fd)  # releases the lock


@contextlib.contextmanager
def _sigterm_as_exception() -> Iterator[None]:
    """While a change is in progress, SIGTERM unwinds like Ctrl-C, so every ``finally`` removes its temporary file."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):  # noqa: ARG001 - the signal handler signature
        raise KeyboardInterrupt(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parse_serves(serves: Mapping[str, Any] | None) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in (serves or {}).items():
        key = str(key).strip()
        if not re.match(r"^[a-z][a-z0-9_]*$", key):
            raise SourceError(f"--serves {key}=...: the key must be lower case, e.g. year=2022-23 or basis=outturn")
        if isinstance(value, str) and CONTROL.search(value):
            raise SourceError(f"--serves {key}=...: the value contains a control character (a newline?) - give it on one line")
        # "93517" is the indicator number, "2022-23" stays a year: YAML decides as it would in the registry.
        parsed[key] = load_yaml(value) if isinstance(value, str) and value.strip() else value
    return parsed


def _filename_from_url(url: str, source_id: str) -> str:
    parsed = urlparse(url)
    candidates = [PurePosixPath(unquote(parsed.path)).name]
    # Some publishers serve files as /file?uri=/.../name.xlsx (ONS).
    for values in parse_qs(parsed.query).values():
        candidates += [PurePosixPath(unquote(v)).name for v in values]
    for name in candidates:
        if re.search(r"\.[A-Za-z0-9]{2,7}$", name or "") and not name.startswith("."):
            return name
    if "fingertips" in (parsed.hostname or "") and "indicator_ids" in parsed.query:
        return f"{source_id}.csv"
    raise SourceError(
        f"sources add {source_id}: cannot tell the file name from {url!r} - give the direct link to the file "
        "(ending in .xlsx, .ods, .csv...), or download it by hand and use --file"
    )


def _check_plain_name(source_id: str, filename: str) -> None:
    if CONTROL.search(filename):
        raise SourceError(
            f"sources add {source_id}: file name {filename.encode('unicode_escape').decode()!r} contains a control character "
            "(a newline?) - rename the file"
        )
    if filename.startswith(".") or "/" in filename or "\\" in filename:
        raise SourceError(f"sources add {source_id}: file name {filename!r} is hidden or not plain - rename the file")


def _registry_block(entry: Mapping[str, Any]) -> str:
    body = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=120)
    return f"# added with `nao-analysis sources add` on {entry.get('added')}\n{body}"


def _replace_registry(settings: Settings, text: str, check: Callable[[Registry], None]) -> None:
    """Validate ``text`` as the whole registry, then put it in place in one step."""
    path = settings.sources_file
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        check(load_registry(Path(tmp)))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _append_to_registry(settings: Settings, entry: Mapping[str, Any]) -> None:
    """Append one source as a YAML block at the end of the registry, keeping every existing line; all or nothing."""
    path = settings.sources_file
    original = path.read_text(encoding="utf-8")
    top_level_keys = re.findall(r"^([A-Za-z_][\w-]*):", original, flags=re.MULTILINE)
    if not top_level_keys or top_level_keys[-1] != "sources":
        raise SourceError(f"{path}: `sources:` is not the last top-level key - move it to the end so new sources can be appended")
    text = original + ("" if original.endswith("\n") else "\n") + _registry_block(entry)

    def check(registry: Registry) -> None:
        if entry["id"] not in registry.ids():
            raise SourceError(f"{path}: the appended entry {entry['id']!r} did not parse as part of `sources:` - check the end of the file")

    _replace_registry(settings, text, check)


def _registry(settings: Settings) -> Registry:
    return load_registry(settings.sources_file)


def _provenance(source_id: str, filename: str, origin: str, location: str, sha: str, size: int, source: Source) -> dict[str, Any]:
    # The same record the fetch layer writes beside every cached file.
    return {
        "source_id": source_id,
        "filename": filename,
        "origin": origin,
        "location": location,
        "retrieved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sha256": sha,
        "bytes": size,
        "kind": source.kind,
        "copied_from": source.copied_from,
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_if_empty(folder: Path, raw_root: Path) -> None:
    if folder != raw_root and folder.is_dir() and not any(folder.iterdir()):
        with contextlib.suppress(OSError):
            folder.rmdir()


def add_source(
    source_id: str,
    url: str | None = None,
    file: str | Path | None = None,
    serves: Mapping[str, Any] | None = None,
    title: str | None = None,
    fmt: str | None = None,
    publisher: str | None = None,
    *,
    kind: str | None = None,
    copied_from: str | None = None,
    settings: Settings | None = None,
) -> Source:
    """Install a new source's file in ``data/raw/<id>/`` and record it in ``data/sources.yaml``.

    Parameters
    ----------
    source_id
        New id (lower case, digits, ``_``); refused if the registry has it already.
    url
        The official HTTPS address of the file (allowlisted publisher hosts only), downloaded with the fetch checks.
    file
        A file obtained by hand; copied (never moved), with provenance origin ``added by hand``.
    serves
        Parameters the file serves, e.g. ``{"basis": "outturn", "year": "2022-23"}``. Values the content gives fill
        in the rest; a value the content contradicts, or a content key (year, basis, edition...) the file does not
        confirm, is refused.
    title, fmt, publisher
        Registry fields. ``title`` is required when the content does not give one; ``fmt`` must agree with the
        format recognised from the content.
    kind, copied_from
        ``official`` (the publisher's own file; the default for ``--url``) or ``third_party_extract`` (someone's copy
        or extract, which needs ``copied_from``: where it was copied from). Required with ``--file``.
    settings
        Where the registry and data/raw are; resolved from the environment when not given.

    Raises
    ------
    SourceError
        Bad id, duplicate id, both or neither of url/file, URL not allowed, file missing or too large, a file no
        reader recognises, a title or kind missing, or a contradiction between ``serves`` and the file.
    ReaderError
        A revenue account file whose labels differ from the line mapping (the message names the missing line).
    """
    settings = settings or Settings.from_environment()
    if not SOURCE_ID.match(source_id or ""):
        raise SourceError(f"sources add {source_id!r}: an id is lower-case letters, digits and '_' only, e.g. ro3_outturn_2022_23")
    if bool(url) == bool(file):
        raise SourceError(f"sources add {source_id}: give exactly one of --url (official address) or --file (a file obtained by hand)")
    _refuse_taken(source_id, _registry(settings), settings)
    kind = kind or ("official" if url else None)
    if kind not in KINDS:
        raise SourceError(
            f"sources add {source_id}: say what the file is with --kind official (the publisher's own file) or "
            "--kind third_party_extract --copied-from WHERE (someone's copy or extract of it)"
        )
    if kind == "third_party_extract" and not copied_from:
        raise SourceError(f"sources add {source_id}: --kind third_party_extract needs --copied-from (the address it was copied from)")
    for name, value in (("title", title), ("publisher", publisher), ("copied-from", copied_from)):
        if value and CONTROL.search(value):
            raise SourceError(f"sources add {source_id}: --{name} contains a control character (a newline?) - give it on one line")
    wanted = _parse_serves(serves)

    if url:
        from nao_analysis.sources.policy import check_url_allowed

        check_url_allowed(url, f"sources add {source_id}", settings)
        filename = _filename_from_url(url, source_id)
        shown = url
    else:
        local = Path(file).expanduser()
        if not local.is_file():
            raise SourceError(f"sources add {source_id}: --file {str(file)!r} is not a file - give the path of the downloaded file")
        filename = local.name
        shown = str(local)
        _check_size(local, Path(filename).suffix or "csv", shown)
    _check_plain_name(source_id, filename)

    folder = settings.raw_dir / source_id
    target = folder / filename
    with _sigterm_as_exception():
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=target.suffix)
        os.close(fd)
        tmp = Path(name)
        try:
            if url:
                from nao_analysis.sources.download import download_to

                download_to(url, tmp, settings, expect_binary=not filename.lower().endswith((".csv", ".json", ".geojson", ".txt")))
            else:
                shutil.copyfile(local, tmp)
            detected = _recognise(source_id, tmp, shown)
            _check_size(tmp, detected.format, shown)
            _check_serves_against_content(source_id, detected, wanted)
            serves_final = {**detected.serves, **wanted}
            if fmt and fmt != detected.format:
                raise SourceError(
                    f"sources add {source_id}: --format {fmt} but the content is {detected.format} - leave --format out "
                    "(it is recognised from the content)"
                )
            if detected.format.startswith(("ro3_", "ra_")):
                try:
                    check_revenue_account_lines(tmp, str(serves_final["year"]), settings)
                except ReaderError as exc:
                    # Name the file the user gave, not the temporary copy being checked.
                    exc.args = (str(exc).replace(str(tmp), shown),)
                    raise
            if not (title or detected.title):
                raise SourceError(
                    f"sources add {source_id}: the file does not say what it is - give --title, e.g. the publisher's table title"
                )
            sha, size = _sha256(tmp), tmp.stat().st_size
            entry = _entry(
                source_id,
                filename,
                sha,
                size,
                url=url,
                origin=None if url else local,
                serves=serves_final,
                title=title or detected.title,
                fmt=detected.format,
                publisher=publisher,
                kind=kind,
                copied_from=copied_from,
            )
            try:
                source = Source.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise SourceError(
                    f"sources add {source_id}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']} - fix the option"
                ) from None
            record = _provenance(
                source_id, filename, "download" if url else "added by hand", url or str(local.resolve()), sha, size, source
            )
            with registry_lock(settings):
                # Checked again under the lock: another add of this id may have finished meanwhile.
                _refuse_taken(source_id, _registry(settings), settings)
                if target.exists():
                    raise SourceError(f"sources add {source_id}: {target} already exists without a registry entry - delete it first")
                # Record first, file second: a reader that sees the file also sees its record.
                write_text_atomic(target.with_name(target.name + ".provenance.json"), json.dumps(record, indent=2) + "\n")
                try:
                    move_into_place(tmp, target)
                    _append_to_registry(settings, entry)
                except BaseException:
                    # Ours alone: the lock is held and the target did not exist before.
                    target.unlink(missing_ok=True)
                    target.with_name(target.name + ".provenance.json").unlink(missing_ok=True)
                    raise
        finally:
            tmp.unlink(missing_ok=True)
            _remove_if_empty(folder, settings.raw_dir)
    return source


def _refuse_taken(source_id: str, registry: Registry, settings: Settings) -> None:
    if source_id in registry.ids():
        raise SourceError(
            f"sources add {source_id}: {settings.sources_file} already has a source {source_id!r} - choose a new id "
            f"(or `nao-analysis sources remove {source_id}` first); to accept the publisher's re-release of that file use "
            f"`nao-analysis fetch {source_id} --accept-new-hash`"
        )


def _recognise(source_id: str, tmp: Path, shown: str) -> DetectedFormat:
    try:
        return detect_format(tmp)
    except SourceError as exc:
        raise SourceError(f"sources add {source_id}: {str(exc).replace(str(tmp), shown)}") from None


def _check_revenue_title(source_id: str, detected: DetectedFormat) -> None:
    revenue = detected.format.startswith(("ro3_", "ra_", "revenue_account_"))
    missing = [k for k in ("basis", "year") if revenue and k not in detected.serves]
    if missing:
        raise SourceError(
            f"sources add {source_id}: the file does not say its {' and '.join(missing)} (no title row or sheet name naming it) "
            "- add the publisher's file with its title rows, not an export without them"
        )


def _check_serves_against_content(source_id: str, detected: DetectedFormat, wanted: Mapping[str, Any]) -> None:
    _check_revenue_title(source_id, detected)
    for key, found in detected.serves.items():
        if key in wanted and str(wanted[key]) != str(found):
            raise SourceError(
                f"sources add {source_id}: --serves {key}={wanted[key]} but the file says {key} {found} (from its content) "
                "- check you have the right file, or correct --serves"
            )
    unconfirmed = sorted(k for k in wanted if k in CONTENT_KEYS and k not in detected.serves)
    if unconfirmed:
        raise SourceError(
            f"sources add {source_id}: --serves {unconfirmed[0]}={wanted[unconfirmed[0]]} cannot be checked: a {detected.format} "
            f"file does not show its {unconfirmed[0]} - leave it out, or add the file that shows it"
        )


def _entry(
    source_id: str,
    filename: str,
    sha: str,
    size: int,
    *,
    url: str | None,
    origin: Path | None,
    serves: dict[str, Any],
    title: str,
    fmt: str,
    publisher: str | None,
    kind: str,
    copied_from: str | None,
) -> dict[str, Any]:
    today = dt.date.today().isoformat()
    entry: dict[str, Any] = {
        "id": source_id,
        "title": title,
        "publisher": publisher or (urlparse(url).hostname if url else "not recorded (file added by hand; give --publisher)"),
        "kind": kind,
        "format": fmt,
    }
    if url:
        entry["url"] = url
    entry["licence"] = "not recorded - check the publisher's terms (UK official statistics are usually OGL-3.0)"
    if serves:
        entry["serves"] = serves
    if copied_from:
        entry["copied_from"] = copied_from
    entry["added"] = today
    if origin is not None:
        entry["notes"] = f"Added by hand from {origin.name} on {today}; the file is not downloadable from this entry (no url)."
    entry["files"] = [{"filename": filename, "sha256": sha, "bytes": size}]
    return entry


def _editions_using(source_id: str, settings: Settings) -> list[str]:
    users = []
    for path in sorted(settings.editions_dir.glob("*.yaml")):
        with contextlib.suppress(OSError, yaml.YAMLError):
            figures = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("figures") or {}
            for figure_id, values in figures.items():
                for name, value in (values or {}).items():
                    if value == source_id or (isinstance(value, list) and source_id in value):
                        users.append(f"editions/{path.name} {figure_id}.{name}")
    return users


def remove_source(source_id: str, *, settings: Settings | None = None) -> Source:
    """Remove a source from ``data/sources.yaml`` and its cached files from ``data/raw/<id>/``.

    Refused while an edition names the source (the edition would stop loading). The entry's block (and the comment
    line ``sources add`` wrote above it) is cut from the registry text; every other line stays as it was.

    Raises
    ------
    SourceError
        Unknown id, an edition still uses it, or the registry would not parse without it.
    """
    settings = settings or Settings.from_environment()
    with _sigterm_as_exception(), registry_lock(settings):
        registry = _registry(settings)
        if source_id not in registry.ids():
            raise SourceError(
                f"sources remove {source_id}: {settings.sources_file} has no source {source_id!r} - see `nao-analysis sources`"
            )
        users = _editions_using(source_id, settings)
        if users:
            raise SourceError(f"sources remove {source_id}: still used by {', '.join(users)} - point those at another source first")
        source = registry.get(source_id)
        text = settings.sources_file.read_text(encoding="utf-8")
        block = re.search(
            rf"^(?:# added with `nao-analysis sources add`[^\n]*\n)?- id: {re.escape(source_id)}\n(?:(?!- id:|# added with)[^\n]*\n?)*",
            text,
            flags=re.MULTILINE,
        )
        if not block:
            raise SourceError(
                f"sources remove {source_id}: its entry in {settings.sources_file} is not a plain `- id: {source_id}` block "
                "- remove it by hand"
            )

        def check(new: Registry) -> None:
            if source_id in new.ids() or len(new.ids()) != len(registry.ids()) - 1:
                raise SourceError(f"sources remove {source_id}: cutting its block would change other entries - remove it by hand")

        _replace_registry(settings, text[: block.start()] + text[block.end() :], check)
        folder = settings.raw_dir / source_id
        for file in source.files:
            for path in (folder / file.filename, folder / (file.filename + ".provenance.json")):
                path.unlink(missing_ok=True)
        _remove_if_empty(folder, settings.raw_dir)
    return source
