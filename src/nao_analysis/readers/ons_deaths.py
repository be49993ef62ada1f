"""ONS "Deaths related to drug poisoning, England and Wales" reference tables, Table 1,
and the tidy extract of Table 1 that a third party published (same numbers, CSV).

Table 1 is found by its title ("Number of deaths from drug-related poisoning and drug misuse, by sex ...
country"), not by the sheet's name, in either of the two layouts ONS has used:

=====================  ==========================================================================================
layout                 how it is recognised
=====================  ==========================================================================================
``years_across``       2016 registrations (xls) and earlier: a header row of registration years; row labels
                       ``All drug poisoning`` / ``Drug misuse`` (measure headings), then ``England and Wales``,
                       ``England``, ``Wales`` (persons) each followed by ``Males`` and ``Females``.
``years_down``         2022 registrations (xlsx) and later: a header row with ``Sex``, ``Year of death
                       registration`` and the countries; above it, the underlying cause (``All causes`` ...)
                       and the measure (``All drug poisoning`` / ``of which: Drug misuse``) over each group of
                       country columns; the sex as a section label (``Persons``, ``Males``, ``Females``) and
                       one row per registration year. Only the *All causes* columns are read.
=====================  ==========================================================================================

Counts are whole numbers (:data:`NUMBERS`); ``:``, ``[x]``, ``z`` and blank are *no figure* and left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import (
    check_data_file,
    clean_label,
    closest,
    read_csv_cells,
    read_text_head,
    read_workbook,
    validate,
)
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import WHOLE_NUMBERS, cell_name, is_blank, parse_number

MEASURES = {"all drug poisoning": "all_drug_poisoning", "drug misuse": "drug_misuse"}
COUNTRIES = {"england and wales": "England and Wales", "england": "England", "wales": "Wales"}
SEXES = {"males": "Males", "females": "Females", "persons": "Persons"}
NUMBERS = WHOLE_NUMBERS
TITLE = re.compile(r"number of deaths (from|related to) drug[- ]related poisoning.*\bby sex\b.*\bcountry\b", re.IGNORECASE)

DEATHS_SCHEMA = pa.DataFrameSchema(
    {
        "measure": pa.Column(str, pa.Check.isin(list(MEASURES.values()))),
        "country": pa.Column(str, pa.Check.isin(list(COUNTRIES.values()))),
        "sex": pa.Column(str, pa.Check.isin(list(SEXES.values()))),
        "year": pa.Column(int, pa.Check.in_range(1990, 2100)),
        "deaths": pa.Column(int, pa.Check.ge(0)),
    },
    unique=["measure", "country", "sex", "year"],
    strict=True,
)


def _measure(label: str) -> str | None:
    """``"of which: Drug misuse"`` -> ``drug_misuse``."""
    return MEASURES.get(re.sub(r"^of which\s*:?\s*", "", label))


def _year(value: object) -> int | None:
    if is_blank(value) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if re.fullmatch(r"(19|20)\d{2}(\.0+)?", text):
        return int(float(text))
    return None


def _title_of(frame: pd.DataFrame) -> str:
    return " ".join(str(v) for v in frame.head(6).to_numpy().ravel().tolist() if not is_blank(v))


def find_table1(path: Path, sheets: dict[str, pd.DataFrame]) -> str:
    """The sheet holding Table 1, by its title (the sheet may be renamed); a sheet named "Table 1" wins a tie."""
    titled = [name for name, frame in sheets.items() if TITLE.search(_title_of(frame))]
    if not titled:
        named = [name for name in sheets if re.fullmatch(r"\s*table\s*0?1\s*", str(name), re.IGNORECASE)]
        if named:
            return named[0]
        titles = [_title_of(frame)[:90] for frame in sheets.values()]
        raise ReaderError(
            path,
            f"no sheet for Table 1 (no title like 'Number of deaths from drug-related poisoning ... by sex ... country'; "
            f"{closest('Number of deaths from drug-related poisoning and drug misuse, by sex and country', titles, 1)})",
            "the layout has changed or this is not the ONS 'Deaths related to drug poisoning' reference tables: check Table 1",
        )
    named = [name for name in titled if re.fullmatch(r"\s*table\s*0?1\s*", str(name), re.IGNORECASE)]
    return (named or titled)[0]


def _parse_years_across(path: Path, table: pd.DataFrame, sheet: str) -> list[dict] | None:
    """2016-style: a row of registration years; measure headings, countries and sexes as row labels."""
    cells = table.to_numpy(dtype=object)
    header = None
    for row in range(cells.shape[0]):
        years = {col: _year(v) for col, v in enumerate(cells[row]) if _year(v) is not None}
        if len(years) >= 5:
            header = row
            break
    if header is None:
        return None
    label_col = next((c for c in range(cells.shape[1]) if any(clean_label(v) in COUNTRIES for v in cells[header + 1 :, c])), 0)
    records = []
    measure = country = None
    for row in range(header + 1, cells.shape[0]):
        label = clean_label(cells[row, label_col])
        if _measure(label):
            measure, country = _measure(label), None
            continue
        if label in COUNTRIES:
            country, sex = COUNTRIES[label], "Persons"
        elif label in SEXES and country:
            sex = SEXES[label]
        else:
            continue
        if measure is None:
            raise ReaderError(path, f"row {row + 1} ({label!r}) comes before any measure heading", "the layout has changed", sheet=sheet)
        for col, year in years.items():
            value = parse_number(cells[row, col], NUMBERS, path=path, sheet=sheet, cell=cell_name(row, col, str(year)))
            if not np.isnan(value):
                records.append({"measure": measure, "country": country, "sex": sex, "year": year, "deaths": value})
    return records


def _parse_years_down(path: Path, table: pd.DataFrame, sheet: str) -> list[dict] | None:
    """2022-style: one row per registration year, sex as section labels, cause/measure/country over the columns."""
    cells = table.to_numpy(dtype=object)
    header = year_col = None
    for row in range(min(40, cells.shape[0])):
        for col in range(cells.shape[1]):
            if clean_label(cells[row, col]).startswith("year of death registration") or clean_label(cells[row, col]) in {
                "year of registration",
                "registration year",
                "year",
            }:
                header, year_col = row, col
                break
        if header is not None:
            break
    if header is None:
        return None
    sex_col = next((c for c in range(cells.shape[1]) if clean_label(cells[header, c]) == "sex"), None)
    # Cause and measure labels sit above the country labels, once per group of columns: carry them right.
    cause = measure = None
    columns: dict[int, tuple[str, str]] = {}
    band = {}
    for col in range(cells.shape[1]):
        for row in range(header):
            label = clean_label(cells[row, col])
            if not label:
                continue
            if _measure(label):
                measure = _measure(label)
            elif label in {"all causes", "all underlying causes"} or (row < header and col > 0 and len(label) > 12 and not _measure(label)):
                band[col] = label
        if col in band:
            cause = band[col]
            measure = _measure(clean_label(cells[header - 1, col])) or measure
        country = clean_label(cells[header, col])
        if country in COUNTRIES and measure and (cause is None or cause.startswith("all causes") or cause == "all underlying causes"):
            columns[col] = (measure, COUNTRIES[country])
    if not columns:
        return None
    records = []
    sex = None
    for row in range(header + 1, cells.shape[0]):
        if sex_col is not None and clean_label(cells[row, sex_col]) in SEXES:
            sex = SEXES[clean_label(cells[row, sex_col])]
        year = _year(cells[row, year_col])
        if year is None:
            continue
        if sex is None:
            raise ReaderError(path, f"row {row + 1} (year {year}) comes before any sex heading", "the layout has changed", sheet=sheet)
        for col, (measure_id, country) in columns.items():
            label = f"{country} {measure_id.replace('_', ' ')}"
            value = parse_number(cells[row, col], NUMBERS, path=path, sheet=sheet, cell=cell_name(row, col, label))
            if not np.isnan(value):
                records.append({"measure": measure_id, "country": country, "sex": sex, "year": year, "deaths": value})
    return records


@cached_reader("2")
def read_drug_deaths_table1(path: Path) -> pd.DataFrame:
    """Read Table 1 (deaths by sex and country, by year of registration) of the official workbook.

    Parameters
    ----------
    path : Path
        The official xls/xlsx reference-table workbook (either layout, see the module notes).

    Returns
    -------
    DataFrame
        Tidy: ``measure, country, sex, year, deaths``. ``attrs``: ``sheet``, ``layout``,
        ``registration_edition`` (the latest registration year in the table).
    """
    path = Path(path)
    sheets = read_workbook(path)
    sheet = find_table1(path, sheets)
    table = sheets[sheet].reset_index(drop=True)
    layout = "years_down"
    records = _parse_years_down(path, table, sheet)
    if records is None:
        layout = "years_across"
        records = _parse_years_across(path, table, sheet)
    if records is None:
        raise ReaderError(
            path,
            "no header row of registration years and no 'Year of death registration' column found",
            "the layout has changed: check Table 1",
            sheet=sheet,
        )
    found = {r["measure"] for r in records}
    for needed in MEASURES.values():
        if needed not in found:
            labels = [str(v) for v in table.to_numpy(dtype=object).ravel() if isinstance(v, str) and len(v) < 80]
            raise ReaderError(
                path,
                f"no rows for {needed.replace('_', ' ')!r}; {closest(needed.replace('_', ' '), labels)}",
                "the layout has changed: check Table 1",
                sheet=sheet,
            )
    frame = pd.DataFrame.from_records(records).astype({"year": int, "deaths": int})
    duplicated = frame.duplicated(["measure", "country", "sex", "year"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ReaderError(
            path, f"{first['country']} {first['sex']} {first['year']} {first['measure']} appears twice", "check Table 1", sheet=sheet
        )
    frame = validate(DEATHS_SCHEMA, frame, path, sheet)
    frame.attrs.update({"sheet": str(sheet), "layout": layout, "registration_edition": int(frame["year"].max())})
    return frame


EXTRACT_COLUMNS = ("sex", "year", "all_drug_poisoning", "drug_misuse")


@cached_reader("2")
def read_drug_deaths_extract(path: Path, country: str = "England") -> pd.DataFrame:
    """Read the third-party tidy extract of Table 1 (columns ``sex, year, all_drug_poisoning, drug_misuse``).

    Columns are found by label in any order (extra columns ignored); counts use the strict number grammar.
    """
    path = Path(path)
    cells = read_csv_cells(path)
    if cells.shape[0] < 2:
        raise ReaderError(path, "has a header but no data rows", "expected the Table 1 extract with sex, year and both measures")
    header = [clean_label(c).replace(" ", "_") for c in cells[0]]
    missing = [c for c in EXTRACT_COLUMNS if c not in header]
    if missing:
        raise ReaderError(
            path,
            f"missing columns {sorted(missing)}; {closest(missing[0], cells[0])}",
            "expected the Table 1 extract with sex, year and both measures",
        )
    at = {name: header.index(name) for name in EXTRACT_COLUMNS}
    records = []
    for row in range(1, cells.shape[0]):
        if all(is_blank(v) for v in cells[row]):
            continue
        year = _year(cells[row, at["year"]])
        if year is None:
            raise ReaderError(path, f"row {row + 1}: year {cells[row, at['year']]!r} is not a year", "check the extract", column="year")
        sex = SEXES.get(clean_label(cells[row, at["sex"]]), str(cells[row, at["sex"]]))
        for measure in ("all_drug_poisoning", "drug_misuse"):
            col = at[measure]
            value = parse_number(cells[row, col], NUMBERS, path=path, cell=cell_name(row, col, measure))
            if not np.isnan(value):
                records.append({"measure": measure, "country": country, "sex": sex, "year": year, "deaths": value})
    tidy = pd.DataFrame.from_records(records, columns=["measure", "country", "sex", "year", "deaths"]).astype({"year": int, "deaths": int})
    tidy = validate(DEATHS_SCHEMA, tidy, path)
    tidy.attrs["registration_edition"] = int(tidy["year"].max())
    return tidy


READERS = {"ons_drug_deaths_table1": read_drug_deaths_table1, "ons_drug_deaths_extract_csv": read_drug_deaths_extract}


def read_drug_deaths(path: Path, fmt: str, **options) -> pd.DataFrame:
    """Dispatch on the registry's ``format`` for the source (``options``: ``settings``, ``force``)."""
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ReaderError(path, f"no drug-deaths reader for format {fmt!r}", f"use one of {sorted(READERS)}") from None
    return reader(path, **options)


def detect(path: Path) -> dict | None:
    """Recognise Table 1 of the ONS workbook, or the extract, by content.

    Returns
    -------
    dict or None
        ``{"format": ..., "serves": {"registration_edition": <latest registration year in Table 1>,
        "first_year": ..., "last_year": ...}, "title": ...}``; None when the file is neither.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        check_data_file(path)
        head = read_text_head(path, 1)
        if not head or not {"sex", "year", "all_drug_poisoning", "drug_misuse"} <= {clean_label(c).replace(" ", "_") for c in head[0]}:
            return None
        frame = read_drug_deaths_extract.uncached(path)
        fmt, title = "ons_drug_deaths_extract_csv", "Deaths related to drug poisoning, Table 1 extract"
    elif suffix in {".xls", ".xlsx", ".xlsm", ".ods"}:
        sheets = read_workbook(path)
        if not any(TITLE.search(_title_of(frame)) for frame in sheets.values()):
            return None
        frame = read_drug_deaths_table1.uncached(path)
        fmt, title = "ons_drug_deaths_table1", "Deaths related to drug poisoning in England and Wales, reference tables"
    else:
        return None
    edition = int(frame["year"].max())
    return {
        "format": fmt,
        "serves": {"registration_edition": edition, "first_year": int(frame["year"].min()), "last_year": edition},
        "title": f"{title}, {edition} registrations",
    }
