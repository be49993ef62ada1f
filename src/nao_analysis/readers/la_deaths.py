"""Deaths related to drug poisoning by local authority (ONS), as the wide extract a third party published:
one row per area (``code``, ``name``), one column per registration year (``2020``, ``2019`` ... ``1993``).

The extract mixes countries (``K04000001`` England and Wales, ``E92000001`` England), regions, counties,
metropolitan counties, unitary authorities and districts, with names in upper or mixed case. Every row is
kept with its code; :func:`area_level` names the level from the code's prefix so callers can pick one tier.
The measure is *all drug poisoning* (not the misuse subset). Columns are found by label: ``code``/``area code``,
``name``/``area name`` and any header that is a year.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, clean_label, closest, read_csv_cells, read_text_head, validate
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import WHOLE_NUMBERS, cell_name, is_blank, parse_number

NUMBERS = WHOLE_NUMBERS
ONS_CODE = re.compile(r"^[EWKSN]\d{8}$")
CODE_LABELS = ("code", "area code", "areacode", "la code", "ons code", "geography code")
NAME_LABELS = ("name", "area name", "areaname", "la name", "local authority", "geography name")
#: Code prefix -> level of geography.
LEVELS = {
    "K04": "country",
    "E92": "country",
    "W92": "country",
    "E12": "region",
    "E13": "inner/outer London",
    "E11": "metropolitan county",
    "E10": "county",
    "E06": "unitary authority",
    "E07": "district",
    "E08": "metropolitan district",
    "E09": "London borough",
    "W06": "unitary authority",
}

LA_DEATHS_SCHEMA = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(ONS_CODE.pattern)),
        "name": pa.Column(str),
        "level": pa.Column(str),
        "measure": pa.Column(str, pa.Check.isin(["all_drug_poisoning"])),
        "year": pa.Column(int, pa.Check.in_range(1990, 2100)),
        "deaths": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["code", "year"],
    strict=True,
)


def area_level(code: str) -> str:
    """The level of geography an ONS code names (``E06...`` -> ``unitary authority``)."""
    return LEVELS.get(code[:3], "other")


def _header(path: Path, header: list[str]) -> tuple[int, int, dict[int, int]]:
    labels = [clean_label(h) for h in header]
    code = next((i for i, h in enumerate(labels) if h in CODE_LABELS), None)
    name = next((i for i, h in enumerate(labels) if h in NAME_LABELS), None)
    years = {i: int(h) for i, h in enumerate(labels) if re.fullmatch(r"(19|20)\d{2}", h)}
    for found, wanted in ((code, "code"), (name, "name")):
        if found is None:
            raise ReaderError(path, f"no {wanted!r} column; {closest(wanted, header)}", "give the deaths-by-local-authority extract")
    if len(years) < 2:
        raise ReaderError(path, "no columns headed by registration years (1993, 2020 ...)", "give the deaths-by-local-authority extract")
    return code, name, years


@cached_reader("1")
def read_la_drug_deaths(path: Path) -> pd.DataFrame:
    """Read the wide deaths-by-local-authority extract into tidy rows.

    Parameters
    ----------
    path : Path
        The CSV (``code, name, 2020, 2019, ...``).

    Returns
    -------
    DataFrame
        ``code``, ``name`` (spaces trimmed, case as printed), ``level`` (:func:`area_level`), ``measure``
        (``all_drug_poisoning``), ``year`` (registration year), ``deaths`` (NaN where suppressed or blank).
        ``attrs["registration_edition"]``: the latest year.
    """
    path = Path(path)
    cells = read_csv_cells(path)
    if cells.shape[0] < 2:
        raise ReaderError(path, "has a header but no data rows", "give the deaths-by-local-authority extract")
    header = [str(h) for h in cells[0]]
    code_col, name_col, years = _header(path, header)
    records = []
    for row in range(1, cells.shape[0]):
        if all(is_blank(v) for v in cells[row]):
            continue
        code = str(cells[row, code_col]).strip()
        if not ONS_CODE.match(code):
            raise ReaderError(path, f"row {row + 1}: {code!r} is not an ONS area code", "check the extract", column=header[code_col])
        name = " ".join(str(cells[row, name_col]).split())
        for col, year in years.items():
            value = parse_number(cells[row, col], NUMBERS, path=path, cell=cell_name(row, col, header[col]))
            records.append(
                {"code": code, "name": name, "level": area_level(code), "measure": "all_drug_poisoning", "year": year, "deaths": value}
            )
    frame = pd.DataFrame.from_records(records)
    frame["deaths"] = frame["deaths"].astype(float)
    duplicated = frame.duplicated(["code", "year"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ReaderError(path, f"area {first['code']} ({first['name']}) appears more than once", "de-duplicate the extract")
    frame = validate(LA_DEATHS_SCHEMA, frame, path)
    frame.attrs["registration_edition"] = int(frame["year"].max())
    return frame


def detect(path: Path) -> dict | None:
    """``{"format": "ons_drug_deaths_by_la_csv", "serves": {"registration_edition", "first_year", "last_year"}}`` or None."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    check_data_file(path)
    head = read_text_head(path, 2)
    if not head:
        return None
    labels = [clean_label(h) for h in head[0]]
    if not (set(labels) & set(CODE_LABELS) and set(labels) & set(NAME_LABELS)):
        return None
    if sum(bool(re.fullmatch(r"(19|20)\d{2}", h)) for h in labels) < 2:
        return None
    frame = read_la_drug_deaths.uncached(path)
    years = frame["year"]
    return {
        "format": "ons_drug_deaths_by_la_csv",
        "serves": {
            "registration_edition": int(years.max()),
            "first_year": int(years.min()),
            "last_year": int(years.max()),
            "measure": "all_drug_poisoning",
        },
        "title": f"Deaths related to drug poisoning by local authority, registrations {int(years.min())} to {int(years.max())}",
    }


__all__ = ["area_level", "detect", "read_la_drug_deaths", "np"]
