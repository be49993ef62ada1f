"""The OHID Fingertips API: one indicator, all areas of one type, as CSV - the ``fingertips_api`` route.

The request is ``GET {base}/all_data/csv/by_indicator_id?indicator_ids=...&child_area_type_id=...
&parent_area_type_id=15``, where ``base`` is ``settings.fingertips_base_url`` (``https://fingertips.phe.org.uk/api``
unless ``NAO_FINGERTIPS_BASE_URL`` points at another server that speaks the same protocol; a local test
server must also be listed in ``NAO_EXTRA_ALLOWED_ORIGINS``).

This module only builds and checks the request and its answer; the resolver
(:mod:`nao_analysis.sources.resolve`) downloads, verifies, pins and caches it like any other raw file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from nao_analysis.errors import DownloadError, SourceError
from nao_analysis.settings import DEFAULT_FINGERTIPS_BASE_URL, Settings
from nao_analysis.sources.policy import check_url_allowed
from nao_analysis.sources.registry import Source, SourceFile

#: The public service (``settings.fingertips_base_url`` replaces it, e.g. with a local server speaking the same protocol).
DEFAULT_BASE_URL = DEFAULT_FINGERTIPS_BASE_URL
CSV_ENDPOINT = "/all_data/csv/by_indicator_id"
#: Fingertips area type 15 is England; asking for it as the parent returns every child area plus England itself.
ENGLAND_AREA_TYPE_ID = 15
AREA_TYPES_FILE = "fingertips_area_types.csv"
#: Labels every Fingertips all_data CSV header carries; a response without them is not the data file.
HEADER_LABELS = ("Indicator ID", "Area Code", "Time period", "Value")


@dataclass(frozen=True)
class AreaType:
    """A Fingertips child area type and the dates its boundaries were in force."""

    area_type_id: int
    description: str
    valid_from: date | None
    valid_to: date | None

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in the period this area type's boundaries were in force."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class FingertipsRequest:
    """The query parameters of one ``by_indicator_id`` CSV request."""

    indicator_id: int
    child_area_type_id: int
    parent_area_type_id: int = ENGLAND_AREA_TYPE_ID

    def url(self, base: str = DEFAULT_BASE_URL) -> str:
        """The request URL against ``base`` (the API root, ending ``/api`` on the public service)."""
        query = urlencode(
            {
                "indicator_ids": self.indicator_id,
                "child_area_type_id": self.child_area_type_id,
                "parent_area_type_id": self.parent_area_type_id,
            }
        )
        return f"{base.rstrip('/')}{CSV_ENDPOINT}?{query}"


def _parse_date(text: str, path: Path, column: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SourceError(f"{path} [column {column!r}]: {text!r} is not a date - write it as YYYY-MM-DD") from None


def load_area_types(path: Path | Settings | None = None) -> list[AreaType]:
    """Read the year -> area type table kept as data in ``data/manual/fingertips_area_types.csv``.

    Parameters
    ----------
    path
        The table to read, or the settings whose ``manual_dir`` holds it.

    Returns
    -------
    list of AreaType
        In file order.

    Raises
    ------
    SourceError
        If the file is missing, lacks a column, or its periods overlap.
    """
    if isinstance(path, Settings):
        path = path.manual_dir / AREA_TYPES_FILE
    if path is None:
        raise TypeError("load_area_types needs the run's settings (or the table's path)")
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise SourceError(f"{path}: area type table not found - restore data/manual/{AREA_TYPES_FILE} from git") from None
    needed = {"area_type_id", "description", "valid_from", "valid_to", "citation"}
    missing = needed - set(rows[0] if rows else {})
    if missing:
        raise SourceError(f"{path}: missing column(s) {', '.join(sorted(missing))} - restore data/manual/{AREA_TYPES_FILE} from git")
    area_types = [
        AreaType(
            int(row["area_type_id"]),
            row["description"],
            _parse_date(row["valid_from"], path, "valid_from"),
            _parse_date(row["valid_to"], path, "valid_to"),
        )
        for row in rows
    ]
    ordered = sorted(area_types, key=lambda a: a.valid_from or date.min)
    for earlier, later in zip(ordered, ordered[1:]):
        if earlier.valid_to is None or later.valid_from is None or earlier.valid_to >= later.valid_from:
            raise SourceError(
                f"{path}: area types {earlier.area_type_id} and {later.area_type_id} overlap - each date must map to one area type"
            )
    return area_types


def area_type_for_year(year: str, area_types: list[AreaType]) -> AreaType:
    """The counties-and-UAs area type whose boundaries were in force on 1 April of a financial year.

    Parameters
    ----------
    year
        A financial year written ``YYYY-YY``, e.g. ``"2021-22"``.
    area_types
        The table to search, from :func:`load_area_types` (required: the package does not find the
        table itself, the caller loads it from the run's settings).

    Returns
    -------
    AreaType
        For example 402 for 2021-22 and 2022-23, 502 from 2023-24.

    Raises
    ------
    SourceError
        If the year is malformed or no area type covers it.
    """
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(year))
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise SourceError(f"year {year!r}: not a financial year - write it like 2021-22")
    start = int(match.group(1))
    first_day = date(start, 4, 1)
    if area_types is None:
        raise TypeError("area_type_for_year needs the area-type table (load_area_types(settings))")
    for area_type in area_types:
        if area_type.covers(first_day):
            return area_type
    raise SourceError(f"year {year!r}: no Fingertips area type covers {first_day} - add a row to data/manual/{AREA_TYPES_FILE}")


def request_for_source(source: Source) -> FingertipsRequest:
    """The API request a registry entry stands for, from its ``serves`` block.

    Parameters
    ----------
    source
        A registry entry with ``serves: {indicator_id, area_type_id[, parent_area_type_id]}``
        (``area_type_id`` is the child area type of the request).

    Raises
    ------
    SourceError
        If the entry does not describe a Fingertips request, or its ``url`` disagrees with ``serves``.
    """
    serves = source.serves
    if "indicator_id" not in serves or "area_type_id" not in serves:
        raise SourceError(
            f"data/sources.yaml source {source.id!r}: not a Fingertips API source (serves lacks indicator_id/area_type_id) "
            "- add them to its serves block, or add the file by hand with `nao-analysis sources add`"
        )
    request = FingertipsRequest(
        int(serves["indicator_id"]),
        int(serves["area_type_id"]),
        int(serves.get("parent_area_type_id", ENGLAND_AREA_TYPE_ID)),
    )
    if source.url and source.url != request.url(DEFAULT_BASE_URL):
        raise SourceError(
            f"data/sources.yaml source {source.id!r}: url {source.url!r} disagrees with its serves block "
            f"({request.url(DEFAULT_BASE_URL)!r}) - make them match"
        )
    return request


def check_is_fingertips_csv(path: Path, url: str) -> None:
    """Refuse a 200 response that is not the data file (an error page, JSON, an empty body)."""
    with open(path, "rb") as handle:
        first_line = handle.readline(8192).decode("utf-8-sig", errors="replace")
    absent = [label for label in HEADER_LABELS if label not in first_line]
    if absent:
        shown = first_line.strip()[:60]
        raise DownloadError(
            f"{url}: response is not a Fingertips indicator CSV (first line {shown!r} lacks {', '.join(absent)}) "
            "- check the indicator and area type ids, or try again later"
        )


def route(source: Source, file: SourceFile, settings: Settings, session) -> str:
    """The ``fingertips_api`` route: the request URL for ``source`` against ``settings.fingertips_base_url``."""
    url = request_for_source(source).url(settings.fingertips_base_url)
    # Checked here too so that a refused base URL is blamed on NAO_FINGERTIPS_BASE_URL, not on the registry.
    check_url_allowed(
        url, f"Fingertips request for source {source.id!r} (NAO_FINGERTIPS_BASE_URL={settings.fingertips_base_url})", settings
    )
    return url
