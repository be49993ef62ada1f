"""NDTMS ViewIt adult exports (OHID). Three generations of column naming are in circulation; columns and
category labels are matched case-insensitively (the 2021-22 rows are upper case), in any order, with extra
columns ignored. Counts follow :mod:`nao_analysis.readers.numbers` (whole numbers, thousands commas;
``NULL`` and the government markers are no data); any other text is an error naming the cell."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, check_limits, clean_label, closest, read_text_head, validate
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import WHOLE_NUMBERS, parse_number

NUMBERS = WHOLE_NUMBERS.with_markers("null")

#: Accepted header labels for each field, after lower-casing and collapsing spaces.
COLUMN_ALIASES = {
    "period": ("reportingperiod_data", "reportingperiod", "reporting period"),
    "area": ("area_data", "area", "areaname"),
    "drug_group": ("druggroup_data", "drug_group", "substance category"),
    "sex": ("gender_data", "sex", "gender"),
    "age_group": ("agegroup_data", "age_group", "age group"),
    "in_treatment": ("num_intreatment_allintx", "intreatment_allintx", "all in treatment"),
}
TOTAL = "total"

NDTMS_SCHEMA = pa.DataFrameSchema(
    {
        "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "area": pa.Column(str),
        "drug_group": pa.Column(str),
        "sex": pa.Column(str),
        "age_group": pa.Column(str),
        "in_treatment": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    unique=["period", "area", "drug_group", "sex", "age_group"],
    strict=True,
)


def _match_columns(path: Path, columns) -> dict[str, str]:
    normalised = {clean_label(c).lstrip("\ufeff"): c for c in columns}
    chosen = {}
    for field, aliases in COLUMN_ALIASES.items():
        hit = next((normalised[a] for a in aliases if a in normalised), None)
        if hit is None and field == "drug_group":
            continue  # a single-group export (e.g. opiates only) may omit the column
        if hit is None:
            raise ReaderError(
                path,
                f"no column for {field!r} (expected one of {list(aliases)}; {closest(aliases[0], [str(c) for c in columns])})",
                "check this is an NDTMS ViewIt export",
                column=field,
            )
        chosen[field] = hit
    return chosen


def _financial_year(value: str) -> str | None:
    match = re.match(r"^\s*(\d{4})\s*[/-]\s*(\d{2})", str(value))
    return f"{match.group(1)}-{match.group(2)}" if match else None


@cached_reader("2")
def read_viewit_export(path: Path, *, drug_group: str | None = None) -> pd.DataFrame:
    """Read an NDTMS ViewIt adult export into tidy rows.

    Parameters
    ----------
    path : Path
        The CSV as exported from ViewIt (any of the known column-naming generations).
    drug_group : str, optional
        The group to assign when the export has no drug-group column (a single-group export).

    Returns
    -------
    DataFrame
        ``period`` (``YYYY-YY``), ``area``, ``drug_group``, ``sex``, ``age_group`` (labels lower-cased),
        ``in_treatment`` (float; NaN where the export says NULL).
    """
    path = Path(path)
    check_data_file(path, text=True)
    check_limits(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="skip", engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReaderError(path, f"cannot be parsed as CSV ({str(exc).splitlines()[0][:120]})", "fetch the export again") from None
    columns = _match_columns(path, raw.columns)
    frame = pd.DataFrame({field: raw[col] for field, col in columns.items()})
    if "drug_group" not in frame:
        if not drug_group:
            raise ReaderError(path, "no drug-group column", "pass drug_group= for a single-group export", column="drug_group")
        frame["drug_group"] = drug_group
    frame["period"] = frame["period"].map(_financial_year)
    # Exports from Power BI end with filter-description lines: keep only rows with a reporting period.
    frame = frame[frame["period"].notna()].copy()
    if frame.empty:
        raise ReaderError(
            path, "no rows with a reporting period like 2021/22", "check this is an NDTMS ViewIt export", column=columns["period"]
        )
    for field in ("area", "drug_group", "sex", "age_group"):
        frame[field] = frame[field].map(lambda v: clean_label(v) if clean_label(v) not in {"persons", "all"} else TOTAL)
    frame["area"] = frame["area"].str.title()
    label = str(columns["in_treatment"])
    counts = []
    for index, text in frame["in_treatment"].items():
        # +1 for the header line: rows are numbered as a spreadsheet program shows them.
        value = parse_number(text, NUMBERS, path=path, cell=f"row {int(index) + 2}", column=label)
        if value < 0:
            raise ReaderError(path, f"negative count {text!r} at row {int(index) + 2}", "check the export", column=label)
        counts.append(value)
    frame["in_treatment"] = pd.Series(counts, index=frame.index, dtype="float64")
    duplicated = frame.duplicated(["period", "area", "drug_group", "sex", "age_group"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise ReaderError(
            path,
            f"duplicated row for {row['period']} {row['area']} {row['drug_group']} {row['sex']} {row['age_group']}",
            "remove the duplicate or export again",
        )
    return validate(NDTMS_SCHEMA, frame.reset_index(drop=True), path)


def detect(path: Path) -> dict | None:
    """Recognise an NDTMS ViewIt export by its header; ``serves`` the reporting years it covers.

    Returns
    -------
    dict or None
        ``{"format": "ndtms_viewit_csv" | "ndtms_viewit_wide_csv", "serves": {"first_year": "2009-10",
        "last_year": "2023-24", "areas": [...], "drug_groups": [...]}, "title": ...}``; None otherwise.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    check_data_file(path, text=True)
    head = read_text_head(path, 1)
    if not head:
        return None
    labels = {clean_label(c).lstrip("\ufeff") for c in head[0]}
    if not (labels & set(COLUMN_ALIASES["period"]) and labels & set(COLUMN_ALIASES["in_treatment"])):
        return None
    grouped = bool(labels & set(COLUMN_ALIASES["drug_group"]))
    frame = read_viewit_export.uncached(path, drug_group=None if grouped else "unspecified")
    years = sorted(frame["period"].unique())
    serves = {"first_year": years[0], "last_year": years[-1], "areas": sorted(frame["area"].unique())}
    if grouped:
        serves["drug_groups"] = sorted(frame["drug_group"].unique())
    # The wide (Power BI) generation heads its period column "Reporting period"; the older ones do not.
    fmt = "ndtms_viewit_wide_csv" if "reporting period" in labels else "ndtms_viewit_csv"
    return {
        "format": fmt,
        "serves": serves,
        "title": f"NDTMS ViewIt adult export, {', '.join(serves['areas'][:3])}, {years[0]} to {years[-1]}",
    }
