"""Which reader a raw file belongs to, and what it serves, from its content alone (never its name).

Every reader module exposes ``detect(path) -> dict | None``: None when the file is not its format, else
``{"format": ..., "serves": {...}, "title": ...}``. :func:`identify` asks each in turn. A file none
recognises, an empty file, a file of blank lines, an HTML page saved under a data file's name and a UTF-16
export are refused with one line; so is a file a reader recognises but cannot vouch for (a revenue account
table without the title rows that say outturn or budget and which year).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, check_limits

#: (module, reader function) in the order they are asked. The RSX summary is asked before the RO/RA
#: reader because both see an E-code header; the RO/RA detector names RSX files itself as well.
DETECTORS: tuple[tuple[str, str], ...] = (
    ("nao_analysis.readers.rsx", "read_rsx"),
    ("nao_analysis.readers.revenue_account", "read_revenue_account"),
    ("nao_analysis.readers.ons_deaths", "read_drug_deaths"),
    ("nao_analysis.readers.la_deaths", "read_la_drug_deaths"),
    ("nao_analysis.readers.ndtms", "read_viewit_export"),
    ("nao_analysis.readers.deflators", "read_deflator"),
    ("nao_analysis.readers.csew", "read_csew"),
    ("nao_analysis.readers.fingertips", "read_fingertips_csv"),
    ("nao_analysis.readers.ro_timeseries", "read_ro_england_timeseries"),
    ("nao_analysis.readers.boundaries", "read_district_upper_tier_lookup"),
)
#: Formats identified by structure alone (geography files), with the reader that reads them.
_GEO_READER = "nao_analysis.readers.boundaries.read_ctyua_boundaries"


@dataclass(frozen=True)
class Detected:
    """What a file is, by content.

    Attributes
    ----------
    format
        The registry ``format`` (``ro3_ods``, ``ons_drug_deaths_table1``, ``hmt_deflator_csv``, ``fingertips_csv``...).
    reader
        Dotted name of the reader function that reads it (``nao_analysis.readers.revenue_account.read_revenue_account``).
    serves
        What the file serves, as the registry's ``serves`` keys: ``basis``/``year`` (revenue account),
        ``registration_edition`` (deaths), ``first_year``/``last_year`` (NDTMS, deaths), ``deflator_vintage``/
        ``deflator_last_year`` (deflators), ``survey_edition`` (CSEW), ``indicator_id``/``years`` (Fingertips).
    title
        A title from the file's own title rows or content, when it has one.
    """

    format: str
    reader: str
    serves: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


def _geography(path: Path) -> Detected | None:
    suffix = path.suffix.lower()
    if suffix == ".shp":
        return Detected("shapefile", _GEO_READER)
    if suffix in {".json", ".geojson", ".topojson"}:
        with open(path, "rb") as handle:
            head = handle.read(4096).decode("utf-8", errors="replace")
        if '"Topology"' in head:
            return Detected("topojson", _GEO_READER)
        if '"FeatureCollection"' in head:
            return Detected("geojson", _GEO_READER)
    return None


def identify(path: str | Path) -> Detected:
    """Recognise a raw file by its content and say what it serves.

    Parameters
    ----------
    path
        The file (a download, a mirror copy or a file handed to ``sources add --file``).

    Returns
    -------
    Detected
        The first reader that recognises the file.

    Raises
    ------
    ReaderError
        One line: the file is empty, blank, HTML, UTF-16, over a size or row limit, recognised but missing what
        its reader needs to vouch for it (the reader's own message), or recognised by no reader.
    """
    path = Path(path)
    check_data_file(path)
    check_limits(path)
    geography = _geography(path)
    if geography is not None:
        return geography
    for module_name, reader in DETECTORS:
        module = importlib.import_module(module_name)
        found = module.detect(path)
        if found:
            # A module with several readers names the one for this file.
            name = found.get("reader", reader)
            return Detected(found["format"], f"{module_name}.{name}", dict(found.get("serves") or {}), found.get("title"))
    raise ReaderError(
        path,
        "no reader recognises this file (not a revenue account, ONS deaths, NDTMS, deflator, CSEW, Fingertips, boundary or lookup file)",
        "check it is the publisher's file; a new format needs a reader in src/nao_analysis/readers/",
    )
