"""Readers for GDP deflator series, returned as one value per UK financial year.

Two layouts, told apart by content:

- **ONS time-series CSV** (the "generator" download of a series such as YBGB or L8GG): metadata rows
  (``"Title"``, ``"CDID"``, ``"Release date"`` ...) then ``"1948","2.7"`` annual rows, ``"1955 Q1","3.5"``
  quarterly rows and possibly monthly rows. Financial years are built from the quarters, Q2 to Q1 of the
  next year (April to March), as HM Treasury builds its financial-year series. A financial year with fewer
  than four quarters is left out. A series that already holds financial-year rows (``"2014-15"``) is used as is.
- **HM Treasury "GDP deflators at market prices, and money GDP"** (xlsx, or a CSV save of its sheet such as
  the December 2023 update in the mirror): a column holds financial years written ``2014-15`` (possibly with
  footnote markers, ``2023-24 (1), (2)``) and the column headed "GDP deflator" holds the index; the first
  numeric column to the right is used when no header names it. Forecast years printed ``-`` are no data and
  left out. The vintage is read from the "last updated <day> <month> <year>" note.

Numbers follow :mod:`nao_analysis.readers.numbers` (decimals allowed, thousands commas, ``-`` and the other
markers are no data); any other text in a value cell is an error naming the cell.

Output: ``financial_year`` (``"2014-15"``), ``deflator`` (index, any base), with ``attrs`` naming the series,
vintage and layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, closest, load_cells, read_csv_cells, read_text_head
from nao_analysis.readers.numbers import DECIMAL_NUMBERS, cell_name, check_finite, is_blank, parse_number

FINANCIAL_YEAR = re.compile(r"^\s*(\d{4})\s*[-/\u2013]\s*(\d{2}|\d{4})\b")
QUARTER = re.compile(r"^(\d{4}) Q([1-4])$")
CALENDAR_YEAR = re.compile(r"^(\d{4})$")
NUMBERS = DECIMAL_NUMBERS
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], 1
    )
}
_UPDATED = re.compile(r"(?:last updated|updated|release date)\D{0,20}?(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]+|\d{1,2})[ -](\d{4})", re.I)

DEFLATOR_SCHEMA = pa.DataFrameSchema(
    {
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$"), unique=True),
        "deflator": pa.Column(float, pa.Check.gt(0)),
    },
    strict=True,
)


def _financial_year_label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _validate(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values("financial_year").reset_index(drop=True)
    frame["deflator"] = frame["deflator"].astype("float64")
    check_finite(frame, path)
    frame["financial_year"] = frame["financial_year"].astype(str)
    try:
        return DEFLATOR_SCHEMA.validate(frame)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise ReaderError(
            path, f"deflator series failed validation: {str(exc).splitlines()[0]}", "check the file is a GDP deflator series"
        ) from None


def read_ons_timeseries(path: Path) -> pd.DataFrame:
    """Read an ONS time-series CSV into tidy rows.

    Parameters
    ----------
    path : pathlib.Path
        The ONS generator CSV of one series (e.g. YBGB).

    Returns
    -------
    pandas.DataFrame
        Columns ``period`` (as printed), ``frequency`` (``year``, ``quarter``, ``month``, ``financial_year``),
        ``year`` (int, first calendar year of the period), ``quarter`` (int or NA) and ``value`` (float).
        ``attrs`` holds the metadata rows (``Title``, ``CDID``, ``Release date`` ...).

    Raises
    ------
    ReaderError
        If the file has no ``CDID`` metadata row or no numeric observations.
    """
    path = Path(path)
    cells = read_csv_cells(path)
    metadata: dict[str, str] = {}
    records = []
    for row_index, row in enumerate(cells):
        key = str(row[0]).strip()
        raw = row[1] if len(row) > 1 else ""
        if not key and all(is_blank(v) for v in row):
            continue
        if QUARTER.match(key):
            year, quarter = QUARTER.match(key).groups()
            records.append((key, "quarter", int(year), int(quarter), row_index, raw))
        elif CALENDAR_YEAR.match(key):
            records.append((key, "year", int(key), pd.NA, row_index, raw))
        elif FINANCIAL_YEAR.match(key):
            records.append((key, "financial_year", int(FINANCIAL_YEAR.match(key).group(1)), pd.NA, row_index, raw))
        elif re.match(r"^\d{4} [A-Z]{3}$", key):
            records.append((key, "month", int(key[:4]), pd.NA, row_index, raw))
        elif not records:
            metadata[key] = str(raw).strip()
    if "CDID" not in metadata:
        raise ReaderError(path, "no 'CDID' metadata row: not an ONS time-series CSV", "download the series as CSV from its ONS page")
    values = [parse_number(raw, NUMBERS, path=path, cell=cell_name(r, 1, key)) for key, _, _, _, r, raw in records]
    frame = pd.DataFrame([rec[:4] for rec in records], columns=["period", "frequency", "year", "quarter"])
    frame["value"] = pd.Series(values, dtype="float64")
    bad = frame[frame["value"].isna()]
    if len(bad):
        raise ReaderError(path, f"period {bad['period'].iloc[0]!r} has no numeric value", "check the download is complete")
    if frame.empty:
        raise ReaderError(path, "no observations", "check the download is complete")
    frame["quarter"] = frame["quarter"].astype("Int64")
    frame.attrs.update(metadata)
    return frame


def financial_years_from_quarters(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Average quarters Q2, Q3, Q4 of year Y and Q1 of Y+1 into financial year Y-(Y+1).

    Parameters
    ----------
    quarterly : pandas.DataFrame
        Rows of :func:`read_ons_timeseries` with ``frequency == "quarter"``.

    Returns
    -------
    pandas.DataFrame
        ``financial_year``, ``deflator``; only financial years with all four quarters.
    """
    q = quarterly[quarterly["frequency"] == "quarter"].copy()
    # April-June is Q2, so Q1 (January-March) belongs to the financial year that began the year before.
    q["fy_start"] = np.where(q["quarter"].astype(int) == 1, q["year"].astype(int) - 1, q["year"].astype(int))
    grouped = q.groupby("fy_start")["value"].agg(["mean", "count"])
    complete = grouped[grouped["count"] == 4]
    return pd.DataFrame(
        {"financial_year": [_financial_year_label(int(y)) for y in complete.index], "deflator": complete["mean"].to_numpy()}
    )


def read_ons_deflator(path: Path) -> pd.DataFrame:
    """Read an ONS deflator series (YBGB, L8GG) as financial-year values.

    Parameters
    ----------
    path : pathlib.Path
        ONS time-series CSV.

    Returns
    -------
    pandas.DataFrame
        ``financial_year``, ``deflator``; ``attrs``: ``series`` (CDID), ``release_date``, ``layout``, ``method``.

    Raises
    ------
    ReaderError
        If the file holds neither financial-year nor quarterly rows.
    """
    path = Path(path)
    series = read_ons_timeseries(path)
    fy_rows = series[series["frequency"] == "financial_year"]
    if len(fy_rows):
        result = pd.DataFrame(
            {"financial_year": [_financial_year_label(int(y)) for y in fy_rows["year"]], "deflator": fy_rows["value"].to_numpy()}
        )
        method = "financial-year rows as published"
    elif (series["frequency"] == "quarter").any():
        result = financial_years_from_quarters(series)
        method = "mean of quarters Q2-Q4 and the next Q1"
    else:
        raise ReaderError(
            path,
            "no quarterly or financial-year rows, so financial years cannot be formed",
            "download the series with quarterly observations",
        )
    result = _validate(path, result)
    result.attrs.update(
        {
            "series": series.attrs.get("CDID"),
            "title": series.attrs.get("Title"),
            "release_date": series.attrs.get("Release date"),
            "layout": "ons_timeseries_csv",
            "method": method,
        }
    )
    return result


def read_hmt_deflator(path: Path) -> pd.DataFrame:
    """Read HM Treasury's "GDP deflators at market prices, and money GDP" workbook, or a CSV save of its sheet.

    Parameters
    ----------
    path : pathlib.Path
        The xlsx (or xls/ods/csv) file.

    Returns
    -------
    pandas.DataFrame
        ``financial_year``, ``deflator``; ``attrs``: ``layout``, ``sheet``, ``base`` (e.g. ``"2022-23 = 100"`` when the
        header states it), ``vintage`` (``YYYY-MM`` of the "last updated" note, when present), ``last_year``.

    Raises
    ------
    ReaderError
        If no sheet has a column of financial years with a numeric column beside it, or a value cell holds text
        that is neither a number nor a marker.
    """
    path = Path(path)
    sheets = load_cells(path)
    for sheet, cells in sheets.items():
        for col in range(cells.shape[1]):
            fy_rows = [r for r in range(cells.shape[0]) if isinstance(cells[r, col], str) and FINANCIAL_YEAR.match(cells[r, col])]
            if len(fy_rows) < 3:
                continue
            value_col = _hmt_value_column(cells, col, fy_rows[0])
            if value_col is None:
                continue
            header_text = " ".join(str(cells[r, value_col]) for r in range(fy_rows[0]) if not is_blank(cells[r, value_col]))
            label = " ".join(header_text.split()) or "GDP deflator"
            records = []
            for r in fy_rows:
                start = int(FINANCIAL_YEAR.match(cells[r, col]).group(1))
                value = parse_number(cells[r, value_col], NUMBERS, path=path, sheet=sheet, cell=cell_name(r, value_col, label))
                if not np.isnan(value):
                    records.append((_financial_year_label(start), float(value)))
            result = pd.DataFrame(records, columns=["financial_year", "deflator"]).drop_duplicates("financial_year")
            result = _validate(path, result)
            base = re.search(r"(\d{4}-\d{2})\s*=\s*100", header_text)
            result.attrs.update(
                {
                    "layout": "hmt_deflator_csv" if sheet is None else "hmt_deflator_xlsx",
                    "sheet": sheet,
                    "base": base.group(0) if base else None,
                    "series": "HM Treasury GDP deflator at market prices",
                    "vintage": _vintage(cells),
                    "last_year": result["financial_year"].iloc[-1],
                }
            )
            return result
    texts = [str(v) for cells in sheets.values() for v in cells[:12].ravel() if isinstance(v, str) and v.strip()]
    raise ReaderError(
        path,
        "no sheet has a column of financial years (like '2014-15') with deflator values beside it; "
        + closest("GDP deflator at market prices", texts, 2),
        "give the HM Treasury 'GDP deflators at market prices, and money GDP' xlsx",
    )


def _vintage(cells: np.ndarray) -> str | None:
    """``YYYY-MM`` from the first "last updated 22 December 2023" note in the sheet."""
    for value in cells[:15].ravel():
        if isinstance(value, str):
            match = _UPDATED.search(value)
            if match:
                month = match.group(2)
                number = int(month) if month.isdigit() else _MONTHS.get(month.lower())
                if number:
                    return f"{match.group(3)}-{number:02d}"
    return None


def _hmt_value_column(cells: np.ndarray, fy_col: int, first_row: int) -> int | None:
    """The column headed 'deflator' above the first financial year, else the first numeric column to the right."""
    for col in range(fy_col + 1, cells.shape[1]):
        header = " ".join(str(cells[r, col]) for r in range(first_row) if pd.notna(cells[r, col])).lower()
        if "deflator" in header:
            return col
    for col in range(fy_col + 1, cells.shape[1]):
        value = cells[first_row, col]
        if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
            return col
        if isinstance(value, str) and re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?", value.strip()):
            return col
    return None


def read_deflator(path: Path) -> pd.DataFrame:
    """Read a deflator file of either layout (ONS CSV or HM Treasury workbook), detected by content.

    Parameters
    ----------
    path : pathlib.Path
        The deflator file.

    Returns
    -------
    pandas.DataFrame
        ``financial_year``, ``deflator`` with ``attrs`` describing series and method.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv" and _is_ons_timeseries(path):
        return read_ons_deflator(path)
    return read_hmt_deflator(path)


def _is_ons_timeseries(path: Path) -> bool:
    check_data_file(path)
    head = read_text_head(path, 12)
    return any(row and row[0].strip() == "CDID" for row in head)


def detect(path: Path) -> dict | None:
    """Recognise a deflator series by content.

    Returns
    -------
    dict or None
        ``{"format": "ons_timeseries_csv" | "hmt_deflator_csv" | "hmt_deflator_xlsx", "serves": {"deflator_vintage":
        "YYYY-MM", "deflator_last_year": "2022-23", "series": ...}, "title": ...}``; None when the file is neither.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv" and _is_ons_timeseries(path):
        frame = read_ons_deflator(path)
        release = frame.attrs.get("release_date") or ""
        match = re.match(r"(\d{1,2})-(\d{1,2})-(\d{4})", release)
        vintage = f"{match.group(3)}-{int(match.group(2)):02d}" if match else None
        title = f"{frame.attrs.get('title') or 'ONS time series'} ({frame.attrs.get('series')}), release {release}"
        fmt = "ons_timeseries_csv"
    elif suffix in {".csv", ".xls", ".xlsx", ".xlsm", ".ods"}:
        cells = load_cells(path)
        text = " ".join(str(v) for c in cells.values() for v in c[:10].ravel() if isinstance(v, str)).lower()
        if "gdp deflator" not in text:
            return None
        frame = read_hmt_deflator(path)
        vintage = frame.attrs.get("vintage")
        fmt = frame.attrs["layout"]
        title = "HM Treasury GDP deflators at market prices, and money GDP" + (f", {vintage}" if vintage else "")
    else:
        return None
    serves = {"deflator_last_year": frame["financial_year"].iloc[-1], "series": frame.attrs.get("series")}
    if vintage:
        serves["deflator_vintage"] = vintage
    return {"format": fmt, "serves": serves, "title": title}
