"""Record a new raw source: ``nao-analysis sources add <id> --url <official URL> | --file <path>``.

The file is fetched (or copied), checked by content, hashed and installed in ``data/raw/<id>/`` with a
provenance record exactly like a download; only then is its entry appended to ``data/sources.yaml`` as a
block of text at the end of the file, so the hand-written comments and layout of the registry stay as they are.

Content checks: a revenue account file (RO3 outturn or RA budget) is recognised by its ``E-code`` header row,
its title (*Revenue Outturn* / *Revenue Account Budget*) and the financial year in its title or sheet name,
and is then read with the project's reader and the line mapping of that year, so a file whose labels differ
is refused with the reader's one-line error naming the missing line or sheet.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml
from pydantic import ValidationError

from nao_analysis import paths
from nao_analysis.errors import ReaderError, SourceError
from nao_analysis.sources.fetch import (
    Provenance,
    _discard,
    _drop_cached,
    _install,
    _new_temp,
    _now,
    cache_path,
    check_url_allowed,
    sha256_of,
)
from nao_analysis.sources.registry import Source, load_registry

SOURCE_ID = re.compile(r"^[a-z0-9_]+$")
FINANCIAL_YEAR_TEXT = re.compile(r"\b(\d{4})\s*[-/\u2013]\s*(\d{2})\b")
TITLE_ROWS = 30
#: Header labels of file families recognised by content (first line of a CSV).
FINGERTIPS_LABELS = ("Indicator ID", "Area Code", "Time period", "Value")


@dataclass(frozen=True)
class DetectedFormat:
    """What a file was recognised as, from its content."""

    format: str
    serves: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


def _cell_text(value: object) -> str:
    from nao_analysis.readers.revenue_account import normalise_label

    return normalise_label(value)


def _sheet_tops(path: Path) -> dict[str | None, list[list[object]]]:
    """The first rows of every sheet (or of the CSV), as raw cells."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix in {".xls", ".xlsx", ".xlsm", ".ods"}:
            sheets = pd.read_excel(path, sheet_name=None, header=None, nrows=TITLE_ROWS, engine="calamine")
            return {name: frame.astype(object).to_numpy().tolist() for name, frame in sheets.items()}
        if suffix == ".csv":
            with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
                rows = []
                for row in csv.reader(handle):
                    rows.append(row)
                    if len(rows) >= TITLE_ROWS:
                        break
            return {None: rows}
    except Exception as exc:  # calamine and csv raise many types for a corrupt file
        raise ReaderError(
            path, f"cannot be opened ({type(exc).__name__})", "check the file is complete and of the type its name says"
        ) from None
    return {}


def _financial_year_in(texts: list[str]) -> str | None:
    for text in texts:
        for match in FINANCIAL_YEAR_TEXT.finditer(text):
            start, end = int(match.group(1)), int(match.group(2))
            if (start + 1) % 100 == end:
                return f"{start}-{end:02d}"
    return None


def detect_revenue_account(path: Path) -> DetectedFormat | None:
    """Recognise an RO3 outturn or RA budget individual-LA file by its content.

    Parameters
    ----------
    path
        A spreadsheet (xls, xlsx, ods) or the CSV export of one.

    Returns
    -------
    DetectedFormat or None
        ``format`` like ``ro3_ods`` or ``ra_csv``, ``serves`` with ``basis`` (outturn/budget) and ``year`` when the
        title or sheet name gives them; None when no sheet has an ``E-code`` header cell.
    """
    tops = _sheet_tops(path)
    for sheet, rows in tops.items():
        header = next((i for i, row in enumerate(rows) if any(_cell_text(c) == "e-code" for c in row[:6])), None)
        if header is None:
            continue
        titles = [str(sheet or "")] + [str(c) for row in rows[:header] for c in row[:3] if _cell_text(c)]
        joined = " ".join(_cell_text(t) for t in titles)
        if "revenue outturn" in joined or re.search(r"\bro3\b", joined):
            basis, family = "outturn", "ro3"
        elif "revenue account" in joined or "budget" in joined:
            basis, family = "budget", "ra"
        else:
            continue
        serves: dict[str, Any] = {"basis": basis}
        year = _financial_year_in(titles)
        if year:
            serves["year"] = year
        kind = "Revenue Outturn (RO3)" if basis == "outturn" else "Revenue Account (RA) budget"
        title = f"{kind} {year or ''}, individual local authority data".replace("  ", " ")
        return DetectedFormat(f"{family}_{path.suffix.lower().lstrip('.')}", serves, title)
    return None


def detect_format(path: Path) -> DetectedFormat:
    """Recognise a raw file by its content (never by its name alone).

    Parameters
    ----------
    path
        The file to look at.

    Returns
    -------
    DetectedFormat
        A revenue account file (see :func:`detect_revenue_account`), a Fingertips indicator CSV, an ONS time
        series CSV, a shapefile, GeoJSON or TopoJSON; otherwise the file's suffix (``csv``, ``xlsx``...).
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in {"xls", "xlsx", "xlsm", "ods", "csv"}:
        found = detect_revenue_account(path)
        if found:
            return found
    if suffix == "shp":
        return DetectedFormat("shapefile")
    with open(path, "rb") as handle:
        start = handle.read(4096)
    text = start.decode("utf-8-sig", errors="replace")
    first_line = text.splitlines()[0] if text else ""
    if suffix == "csv" and all(label in first_line for label in FINGERTIPS_LABELS):
        indicator = re.search(r"^\s*(\d+),", text.splitlines()[1]) if len(text.splitlines()) > 1 else None
        return DetectedFormat("fingertips_csv", {"indicator_id": int(indicator.group(1))} if indicator else {})
    if suffix == "csv" and first_line.startswith('"Title"') and '"CDID"' in text:
        return DetectedFormat("ons_timeseries_csv")
    if suffix in {"json", "geojson", "topojson"}:
        if '"Topology"' in text:
            return DetectedFormat("topojson")
        if '"FeatureCollection"' in text:
            return DetectedFormat("geojson")
    return DetectedFormat(suffix or "unknown")


def check_revenue_account_lines(path: Path, year: str) -> None:
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

    mapping = pd.read_csv(paths.manual_dir() / "ro_line_mapping.csv", dtype=str, keep_default_na=False)
    try:
        rows = lines_for_year(mapping, year)
    except AnalysisError as exc:
        raise SourceError(str(exc)) from None
    read_revenue_account(path, line_patterns(rows))


def _parse_serves(serves: Mapping[str, Any] | None) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in (serves or {}).items():
        key = str(key).strip()
        if not re.match(r"^[a-z][a-z0-9_]*$", key):
            raise SourceError(f"--serves {key}=...: the key must be lower case, e.g. year=2022-23 or basis=outturn")
        # "93517" is the indicator number, "2022-23" stays a year: YAML decides as it would in the registry.
        parsed[key] = yaml.safe_load(value) if isinstance(value, str) and value.strip() else value
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
    raise SourceError(
        f"sources add {source_id}: cannot tell the file name from {url!r} - give the direct link to the file "
        "(ending in .xlsx, .ods, .csv...), or download it by hand and use --file"
    )


def _registry_block(entry: Mapping[str, Any]) -> str:
    body = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=120)
    return f"# added with `nao-analysis sources add` on {entry.get('added')}\n{body}"


def _append_to_registry(entry: Mapping[str, Any]) -> None:
    """Append one source as a YAML block at the end of the registry, keeping every existing line; all or nothing."""
    path = paths.registry_path()
    folder_fd = os.open(path.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(ImportError):
            import fcntl

            fcntl.flock(folder_fd, fcntl.LOCK_EX)
        original = path.read_text(encoding="utf-8")
        top_level_keys = re.findall(r"^([A-Za-z_][\w-]*):", original, flags=re.MULTILINE)
        if not top_level_keys or top_level_keys[-1] != "sources":
            raise SourceError(f"{path}: `sources:` is not the last top-level key - move it to the end so new sources can be appended")
        text = original + ("" if original.endswith("\n") else "\n") + _registry_block(entry)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            # Validate the whole new registry before it replaces the old one.
            registry = load_registry(Path(tmp))
            if entry["id"] not in registry.ids():
                raise SourceError(
                    f"{path}: the appended entry {entry['id']!r} did not parse as part of `sources:` - check the end of the file"
                )
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    finally:
        os.close(folder_fd)


def add_source(
    source_id: str,
    url: str | None = None,
    file: str | Path | None = None,
    serves: Mapping[str, Any] | None = None,
    title: str | None = None,
    fmt: str | None = None,
    publisher: str | None = None,
) -> Source:
    """Install a new source's file in ``data/raw/<id>/`` and record it in ``data/sources.yaml``.

    Parameters
    ----------
    source_id
        New id (lower case, digits, ``_``); refused if the registry has it already.
    url
        The official HTTPS address of the file (allowlisted publisher hosts only); downloaded through the same
        checks as ``fetch`` (size cap, HTML error pages refused, magic bytes).
    file
        A file obtained by hand; copied (never moved), with provenance origin ``added by hand``.
    serves
        Parameters the file serves, e.g. ``{"basis": "outturn", "year": "2022-23"}``; string values are read as
        YAML scalars. Detected values fill in keys not given; a given value that contradicts the file is refused.
    title, fmt, publisher
        Registry fields; ``fmt`` defaults to the format detected from the content.

    Returns
    -------
    Source
        The validated registry entry, with the file's sha256 and size pinned.

    Raises
    ------
    SourceError
        Bad id, duplicate id, both or neither of url/file, URL not allowed, file missing, or a contradiction
        between ``serves`` and the file.
    ReaderError
        A revenue account file whose labels differ from the line mapping (the message names the missing line).
    DownloadError
        The download failed.
    """
    if not SOURCE_ID.match(source_id or ""):
        raise SourceError(f"sources add {source_id!r}: an id is lower-case letters, digits and '_' only, e.g. ro3_outturn_2022_23")
    registry = load_registry()
    if source_id in registry.ids():
        raise SourceError(
            f"sources add {source_id}: {paths.registry_path()} already has a source {source_id!r} - choose a new id; "
            f"to accept a re-release of that file use `nao-analysis fetch {source_id} --accept-new-hash`"
        )
    if bool(url) == bool(file):
        raise SourceError(f"sources add {source_id}: give exactly one of --url (official address) or --file (a file obtained by hand)")
    wanted = _parse_serves(serves)

    if url:
        check_url_allowed(url, f"sources add {source_id}")
        filename = _filename_from_url(url, source_id)
    else:
        local = Path(file).expanduser()
        if not local.is_file():
            raise SourceError(f"sources add {source_id}: --file {str(file)!r} is not a file - give the path of the downloaded file")
        filename = local.name
    if filename.startswith(".") or "/" in filename or "\\" in filename:
        raise SourceError(f"sources add {source_id}: file name {filename!r} is hidden or not plain - rename the file")

    staging_dir = paths.raw_dir() / source_id
    target = staging_dir / filename
    if target.exists():
        raise SourceError(f"sources add {source_id}: {target} already exists without a registry entry - delete it first")
    tmp = _new_temp(target)
    try:
        if url:
            from nao_analysis.sources.download import download_to

            download_to(url, tmp, expect_binary=not filename.lower().endswith((".csv", ".json", ".geojson", ".txt")))
        else:
            shutil.copyfile(local, tmp)
        detected = detect_format(tmp)
        _check_serves_against_content(source_id, tmp, detected, wanted)
        serves_final = {**detected.serves, **wanted}
        if detected.format.startswith(("ro3_", "ra_")) and serves_final.get("year"):
            try:
                check_revenue_account_lines(tmp, str(serves_final["year"]))
            except ReaderError as exc:
                # Name the file the user gave, not the temporary copy being checked.
                exc.args = (str(exc).replace(str(tmp), str(local if file else url)),)
                raise
        sha, size = sha256_of(tmp), tmp.stat().st_size
        entry = _entry(
            source_id,
            filename,
            sha,
            size,
            url=url,
            origin=None if url else local,
            serves=serves_final,
            detected=detected,
            title=title,
            fmt=fmt,
            publisher=publisher,
        )
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise SourceError(
                f"sources add {source_id}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']} - fix the option"
            ) from None
        provenance = Provenance(
            source_id,
            filename,
            "download" if url else "added by hand",
            url or str(local.resolve()),
            _now(),
            sha,
            size,
            source.kind,
            source.copied_from,
        )
        _install(tmp, target, provenance)
    finally:
        _discard(tmp, target)
    try:
        _append_to_registry(entry)
    except BaseException:
        # A file with no registry entry would be a stranger in data/raw.
        _drop_cached(cache_path(source, source.primary))
        raise
    return source


def _check_serves_against_content(source_id: str, path: Path, detected: DetectedFormat, wanted: Mapping[str, Any]) -> None:
    for key, found in detected.serves.items():
        if key in wanted and str(wanted[key]) != str(found):
            raise SourceError(
                f"sources add {source_id}: --serves {key}={wanted[key]} but the file says {key} {found} (from its title or sheet names) "
                "- check you have the right file, or correct --serves"
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
    detected: DetectedFormat,
    title: str | None,
    fmt: str | None,
    publisher: str | None,
) -> dict[str, Any]:
    today = dt.date.today().isoformat()
    entry: dict[str, Any] = {
        "id": source_id,
        "title": title or detected.title or filename,
        "publisher": publisher or (urlparse(url).hostname if url else "not recorded (file added by hand; give --publisher)"),
        "kind": "official",
        "format": fmt or detected.format,
    }
    if url:
        entry["url"] = url
    entry["licence"] = "not recorded - check the publisher's terms (UK official statistics are usually OGL-3.0)"
    if serves:
        entry["serves"] = serves
    entry["added"] = today
    if origin is not None:
        entry["notes"] = f"Added by hand from {origin.name} on {today}; the file is not downloadable from this entry (no url)."
    entry["files"] = [{"filename": filename, "sha256": sha, "bytes": size}]
    return entry
