"""ONS "Deaths related to drug poisoning, England and Wales" reference tables, Table 1,
and the tidy extract of Table 1 that a third party published (same numbers, CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_not_html_or_empty, clean_label, find_sheet, read_workbook, validate
from nao_analysis.readers.cache import cached_reader

MEASURES = {"all drug poisoning": "all_drug_poisoning", "drug misuse": "drug_misuse"}
COUNTRIES = {"england and wales": "England and Wales", "england": "England", "wales": "Wales"}
SEXES = {"males": "Males", "females": "Females", "persons": "Persons"}

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


def _year_header_row(path: Path, table: pd.DataFrame, sheet: str) -> tuple[int, dict[int, int]]:
    """The row holding registration years, and a map column -> year."""
    for row_index, row in table.iterrows():
        years = {}
        for col, value in row.items():
            try:
                number = float(str(value).strip())
            except ValueError:
                continue
            if number.is_integer() and 1990 <= number <= 2100:
                years[col] = int(number)
        if len(years) >= 5:
            return row_index, years
    raise ReaderError(path, "no header row of registration years found", "the layout has changed: check Table 1", sheet=sheet)


@cached_reader("1")
def read_drug_deaths_table1(path: Path) -> pd.DataFrame:
    """Read Table 1 (deaths by sex and country, by year of registration) of the official workbook.

    Parameters
    ----------
    path : Path
        The official xls/xlsx reference-table workbook.

    Returns
    -------
    DataFrame
        Tidy: ``measure, country, sex, year, deaths``. Persons are the country rows.
    """
    path = Path(path)
    sheets = read_workbook(path)
    sheet = find_sheet(path, sheets, r"^\s*table\s*1\s*$|^\s*1\s*$", "Table 1 (deaths by sex and country)")
    table = sheets[sheet]
    header_row, year_columns = _year_header_row(path, table, sheet)
    label_column = table.columns[0]
    records = []
    measure = country = None
    for row_index in range(header_row + 1, len(table)):
        label = clean_label(table.at[row_index, label_column])
        if label in MEASURES:
            measure, country = MEASURES[label], None
            continue
        if label in COUNTRIES:
            country, sex = COUNTRIES[label], "Persons"
        elif label in SEXES and country:
            sex = SEXES[label]
        else:
            continue
        if measure is None:
            raise ReaderError(
                path, f"row {row_index + 1} ({label!r}) comes before any measure heading", "the layout has changed", sheet=sheet
            )
        for col, year in year_columns.items():
            value = table.at[row_index, col]
            if pd.isna(value) or str(value).strip() in {"", ":", "[x]", "z"}:
                continue
            try:
                deaths = int(float(str(value).replace(",", "")))
            except ValueError:
                raise ReaderError(path, f"non-numeric deaths {value!r} for {country} {sex} {year}", "check the cell", sheet=sheet) from None
            records.append({"measure": measure, "country": country, "sex": sex, "year": year, "deaths": deaths})
    found = {r["measure"] for r in records}
    for needed in MEASURES.values():
        if needed not in found:
            raise ReaderError(path, f"no rows for {needed.replace('_', ' ')!r}", "the layout has changed: check Table 1", sheet=sheet)
    frame = pd.DataFrame.from_records(records).astype({"year": int, "deaths": int})
    return validate(DEATHS_SCHEMA, frame, path, sheet)


@cached_reader("1")
def read_drug_deaths_extract(path: Path, country: str = "England") -> pd.DataFrame:
    """Read the third-party tidy extract of Table 1 (columns ``sex, year, all_drug_poisoning, drug_misuse``)."""
    path = Path(path)
    check_not_html_or_empty(path)
    raw = pd.read_csv(path)
    raw.columns = [clean_label(c).replace(" ", "_") for c in raw.columns]
    missing = {"sex", "year", "all_drug_poisoning", "drug_misuse"} - set(raw.columns)
    if missing:
        raise ReaderError(path, f"missing columns {sorted(missing)}", "expected the Table 1 extract with sex, year and both measures")
    tidy = raw.melt(id_vars=["sex", "year"], value_vars=["all_drug_poisoning", "drug_misuse"], var_name="measure", value_name="deaths")
    tidy["sex"] = tidy["sex"].map(lambda s: SEXES.get(clean_label(s), s)).astype(str)
    tidy["country"] = country
    tidy = tidy[["measure", "country", "sex", "year", "deaths"]].astype({"year": int, "deaths": int})
    return validate(DEATHS_SCHEMA, tidy, path)


READERS = {"ons_drug_deaths_table1": read_drug_deaths_table1, "ons_drug_deaths_extract_csv": read_drug_deaths_extract}


def read_drug_deaths(path: Path, fmt: str) -> pd.DataFrame:
    """Dispatch on the registry's ``format`` for the source."""
    try:
        reader = READERS[fmt]
    except KeyError:
        raise ReaderError(path, f"no drug-deaths reader for format {fmt!r}", f"use one of {sorted(READERS)}") from None
    return reader(path)
