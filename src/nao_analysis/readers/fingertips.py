"""OHID Fingertips ``all_data`` CSV (the API's ``/api/all_data/csv/by_indicator_id`` response).

The file has 27 columns, found here by their header labels. One of them is named after the parent area
type and differs between downloads ("Column not used" in older files, "Compared to Counties & UAs (from
Apr 2021) value or percentiles" in newer ones), so only the labels the analysis needs are required.
The same layout serves every indicator (93517 OCU not in treatment, 93532 dependent drinkers, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, check_limits, closest, read_text_head, validate
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import NumberConvention, parse_number

#: Fingertips leaves suppressed values blank (with a value note) and uses no text markers: blank is the
#: only "no data", and ``[x]`` or ``..`` in a numeric column is an error.
NUMBERS = NumberConvention(decimals=True, markers=frozenset())

#: Header label -> tidy column name. Every label here must be present.
REQUIRED_COLUMNS = {
    "Indicator ID": "indicator_id",
    "Indicator Name": "indicator_name",
    "Parent Code": "parent_code",
    "Parent Name": "parent_name",
    "Area Code": "area_code",
    "Area Name": "area_name",
    "Area Type": "area_type",
    "Sex": "sex",
    "Age": "age",
    "Category Type": "category_type",
    "Category": "category",
    "Time period": "time_period",
    "Value": "value",
    "Count": "count",
    "Denominator": "denominator",
    "Value note": "value_note",
    "Time period Sortable": "time_period_sortable",
}
#: Confidence limits: kept when present (older exports may lack the 99.8% pair).
OPTIONAL_COLUMNS = {
    "Lower CI 95.0 limit": "lower_ci_95",
    "Upper CI 95.0 limit": "upper_ci_95",
    "Lower CI 99.8 limit": "lower_ci_99_8",
    "Upper CI 99.8 limit": "upper_ci_99_8",
}
NUMERIC_COLUMNS = ("value", "count", "denominator", "lower_ci_95", "upper_ci_95", "lower_ci_99_8", "upper_ci_99_8")
FINANCIAL_PERIOD = re.compile(r"^(\d{4})/(\d{2})$")

FINGERTIPS_SCHEMA = pa.DataFrameSchema(
    {
        "indicator_id": pa.Column(int, pa.Check.gt(0)),
        "indicator_name": pa.Column(str),
        "parent_code": pa.Column(str, nullable=True),
        "parent_name": pa.Column(str, nullable=True),
        "area_code": pa.Column(str, pa.Check.str_matches(r"^[EWSNK]\d{8}$")),
        "area_name": pa.Column(str),
        "area_type": pa.Column(str),
        "sex": pa.Column(str),
        "age": pa.Column(str),
        "category_type": pa.Column(str, nullable=True),
        "category": pa.Column(str, nullable=True),
        "time_period": pa.Column(str),
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$"), nullable=True),
        "time_period_sortable": pa.Column(int),
        "value": pa.Column(float, nullable=True),
        "count": pa.Column(float, pa.Check.ge(0), nullable=True),
        "denominator": pa.Column(float, pa.Check.gt(0), nullable=True),
        "value_note": pa.Column(str, nullable=True),
        "lower_ci_95": pa.Column(float, nullable=True, required=False),
        "upper_ci_95": pa.Column(float, nullable=True, required=False),
        "lower_ci_99_8": pa.Column(float, nullable=True, required=False),
        "upper_ci_99_8": pa.Column(float, nullable=True, required=False),
    },
    unique=["indicator_id", "area_code", "sex", "age", "category_type", "category", "time_period"],
    strict=True,
)


def _financial_year(period: str) -> str | None:
    """``"2021/22"`` -> ``"2021-22"``; other period shapes (calendar years, ranges) -> None."""
    match = FINANCIAL_PERIOD.match(period.strip())
    return f"{match.group(1)}-{match.group(2)}" if match else None


@cached_reader("2")
def read_fingertips_csv(path: Path) -> pd.DataFrame:
    """Read a Fingertips ``all_data`` CSV into one tidy row per indicator, area, sex, age, category and period.

    Parameters
    ----------
    path : Path
        The CSV as returned by the Fingertips API (any indicator).

    Returns
    -------
    DataFrame
        ``indicator_id`` (int), ``indicator_name``, ``parent_code``/``parent_name`` (NA for the parent area
        itself), ``area_code``, ``area_name``, ``area_type``, ``sex``, ``age``, ``category_type``/``category``
        (NA when not broken down), ``time_period`` as published (``2021/22``), ``year`` (``2021-22``, NA for
        other period shapes), ``time_period_sortable`` (int), ``value``, ``count``, ``denominator`` (float, NA
        where suppressed), ``value_note``, and the confidence limits present in the file.

    Raises
    ------
    ReaderError
        If the file is empty, an HTML page, not CSV, lacks a required column, or holds non-numeric values.
    """
    path = Path(path)
    check_data_file(path, text=True)
    check_limits(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReaderError(path, f"cannot be parsed as CSV ({str(exc).splitlines()[0][:120]})", "fetch the source again") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [label for label in REQUIRED_COLUMNS if label not in raw.columns]
    if missing:
        raise ReaderError(
            path,
            f"no column {missing[0]!r} ({len(missing)} of the Fingertips all_data columns missing; {closest(missing[0], raw.columns)})",
            "check this is a Fingertips /api/all_data/csv response, and fetch it again",
            column=missing[0],
        )
    labels = {**REQUIRED_COLUMNS, **{k: v for k, v in OPTIONAL_COLUMNS.items() if k in raw.columns}}
    frame = pd.DataFrame({name: raw[label].str.strip() for label, name in labels.items()})
    if frame.empty:
        raise ReaderError(path, "has a header but no data rows", "check the indicator and area type ids of the request")
    for name in NUMERIC_COLUMNS:
        if name not in frame:
            continue
        label = next(k for k, v in labels.items() if v == name)
        frame[name] = pd.Series(
            [parse_number(text, NUMBERS, path=path, cell=f"row {int(i) + 2}", column=label) for i, text in frame[name].items()],
            index=frame.index,
            dtype="float64",
        )
    for name, label in (("indicator_id", "Indicator ID"), ("time_period_sortable", "Time period Sortable")):
        if not frame[name].str.fullmatch(r"[0-9]+").all():
            example = frame.loc[~frame[name].str.fullmatch(r"[0-9]+"), name].iloc[0]
            raise ReaderError(path, f"{example!r} is not a whole number", "fetch the source again", column=label)
        frame[name] = frame[name].astype(int)
    for name in ("parent_code", "parent_name", "category_type", "category", "value_note"):
        frame[name] = frame[name].where(frame[name] != "")
    frame["year"] = frame["time_period"].map(_financial_year)
    return validate(FINGERTIPS_SCHEMA, frame.reset_index(drop=True), path)


def detect(path: Path) -> dict | None:
    """Recognise a Fingertips ``all_data`` CSV by its header.

    Returns
    -------
    dict or None
        ``{"format": "fingertips_csv", "serves": {"indicator_id": 93517, "years": ["2018-19", ...],
        "area_types": [...]}, "title": <indicator name>}``; None otherwise.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    check_data_file(path, text=True)
    head = read_text_head(path, 1)
    if not head or not {"Indicator ID", "Area Code", "Time period", "Value"} <= {c.strip() for c in head[0]}:
        return None
    frame = read_fingertips_csv.uncached(path)
    ids = sorted(int(i) for i in frame["indicator_id"].unique())
    serves = {
        "indicator_id": ids[0] if len(ids) == 1 else ids,
        "years": sorted(y for y in frame["year"].dropna().unique()),
        "time_periods": sorted(frame["time_period"].unique()),
        "area_types": sorted(frame["area_type"].unique()),
    }
    return {"format": "fingertips_csv", "serves": serves, "title": str(frame["indicator_name"].iloc[0])}
