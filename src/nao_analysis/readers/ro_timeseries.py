"""England totals of revenue outturn lines by year, in the long layout of the multi-year Revenue Outturn data set
(``period, description, net_current_expenditure, data_item_name``; values in **£**, not £ thousand), as in a third
party's extract of the RO3 substance-misuse lines 2017-18 to 2023-24.

Columns are found by label in any order; lines by a label pattern matched against ``description`` (with or
without the ``Substance misuse -`` prefix the individual-LA files print). Values are returned in £ thousand so
they compare directly with :func:`nao_analysis.readers.revenue_account.read_revenue_account_totals`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import check_data_file, clean_label, closest, read_csv_cells, read_text_head, validate
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import WHOLE_NUMBERS, cell_name, is_blank, parse_number

NUMBERS = WHOLE_NUMBERS
COLUMNS = {
    "period": ("period", "year", "financial year"),
    "description": ("description", "line", "line description"),
    "value": ("net_current_expenditure", "net current expenditure", "value"),
    "data_item": ("data_item_name", "data item name", "data item"),
}
_PREFIX = re.compile(r"^substance misuse\s*-\s*", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2})$")

TIMESERIES_SCHEMA = pa.DataFrameSchema(
    {
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "line_id": pa.Column(str),
        "line_label": pa.Column(str),
        "data_item": pa.Column(str, nullable=True),
        "value_gbp_thousands": pa.Column(float, nullable=True),
    },
    unique=["financial_year", "line_id"],
    strict=True,
)


def _columns(path: Path, header: list[str]) -> dict[str, int | None]:
    labels = [clean_label(h) for h in header]
    found: dict[str, int | None] = {}
    for field, aliases in COLUMNS.items():
        found[field] = next((i for i, label in enumerate(labels) if label in aliases), None)
        if found[field] is None and field != "data_item":
            raise ReaderError(
                path, f"no {aliases[0]!r} column; {closest(aliases[0], header)}", "give the multi-year revenue outturn layout"
            )
    return found


@cached_reader("1")
def read_ro_england_timeseries(path: Path, lines: Mapping[str, str]) -> pd.DataFrame:
    """England net current expenditure (£ thousand) on the given lines, one row per financial year and line.

    Parameters
    ----------
    path : Path
        The long CSV (``period, description, net_current_expenditure, data_item_name``), values in £.
    lines : mapping
        ``line_id -> label pattern`` as for :func:`~nao_analysis.readers.revenue_account.read_revenue_account`.

    Raises
    ------
    ReaderError
        A missing column or line (naming the closest labels), or a value outside the number grammar.
    """
    path = Path(path)
    cells = read_csv_cells(path)
    if cells.shape[0] < 2:
        raise ReaderError(path, "has a header but no data rows", "give the multi-year revenue outturn layout")
    header = [str(h) for h in cells[0]]
    at = _columns(path, header)
    descriptions = [" ".join(str(v).split()) for v in cells[1:, at["description"]]]
    records = []
    for line_id, pattern in lines.items():
        regex = re.compile(_PREFIX.sub("", " ".join(pattern.split())), re.IGNORECASE)
        rows = [i + 1 for i, text in enumerate(descriptions) if regex.fullmatch(_PREFIX.sub("", text))]
        if not rows:
            raise ReaderError(
                path, f"line {pattern!r} ({line_id}) not found; {closest(_PREFIX.sub('', pattern), descriptions)}", "check the line mapping"
            )
        for row in rows:
            period = str(cells[row, at["period"]]).strip()
            match = _YEAR.match(period)
            if not match:
                raise ReaderError(path, f"row {row + 1}: period {period!r} is not a financial year like 2021-22", "check the file")
            pounds = parse_number(cells[row, at["value"]], NUMBERS, path=path, cell=cell_name(row, at["value"], header[at["value"]]))
            item = cells[row, at["data_item"]] if at["data_item"] is not None else None
            records.append(
                {
                    "financial_year": f"{match.group(1)}-{match.group(2)}",
                    "line_id": line_id,
                    "line_label": descriptions[row - 1],
                    "data_item": None if is_blank(item) else str(item).strip(),
                    "value_gbp_thousands": pounds / 1000 if not np.isnan(pounds) else np.nan,
                }
            )
    frame = pd.DataFrame.from_records(records)
    frame["data_item"] = frame["data_item"].astype(object)
    frame = validate(TIMESERIES_SCHEMA, frame, path)
    frame.attrs.update({"unit": "GBP thousand, cash", "area": "England", "basis": "outturn"})
    return frame


def detect(path: Path) -> dict | None:
    """``{"format": "ro_england_timeseries_csv", "serves": {"basis": "outturn", "first_year", "last_year", "years"}}`` or None."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    check_data_file(path, text=True)
    head = read_text_head(path, 1)
    if not head:
        return None
    labels = {clean_label(h) for h in head[0]}
    if not all(labels & set(aliases) for field, aliases in COLUMNS.items() if field != "data_item"):
        return None
    cells = read_csv_cells(path)
    at = _columns(path, [str(h) for h in cells[0]])
    years = sorted({f"{m.group(1)}-{m.group(2)}" for v in cells[1:, at["period"]] if (m := _YEAR.match(str(v).strip()))})
    if not years:
        return None
    return {
        "format": "ro_england_timeseries_csv",
        "serves": {"basis": "outturn", "area": "England", "first_year": years[0], "last_year": years[-1], "years": years},
        "title": f"Revenue outturn, England totals by line, {years[0]} to {years[-1]}",
    }
