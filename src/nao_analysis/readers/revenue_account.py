"""Readers for DLUHC/MHCLG revenue account files (RO3 outturn and RA budget), individual LA data.

Every generation in the mirror is read by the same label-driven parser; the layout is detected from
the content, never from the file name or fixed positions:

========================  ===============================================================================
layout                    how it is recognised
========================  ===============================================================================
``per_line_subcolumns``   RO3 outturn xls (2013-14) and ods (2022-23): line names on one row, column
                          names (``Employees (C1)`` ... ``Net Current Expenditure (C7 = C3 - C6)``) on the
                          header row below; the sheet whose line has a *Net Current Expenditure* column is used.
``one_column_per_line``   RA budget xls (2014-15) and its CSV export (2021-22): line names on the header
                          row itself; the sheet whose title says *Net current expenditure* is used
                          (the other sheets hold capital items or net total cost).
========================  ===============================================================================

The header row is the row with an ``E-code`` cell. Authority rows are those whose E-code looks like
``E1234``; England and class subtotals are read separately by :func:`read_revenue_account_totals`.

Values are £ thousand, cash. Blank, ``[x]`` (not submitted), ``..`` and ``-`` cells are *no data* (NaN),
never zero: Slough's 2022-23 return is blank/``[x]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers.cache import cached_reader

#: Old DCLG/DLUHC authority codes (E-codes), e.g. ``E0101``.
E_CODE = re.compile(r"^E\d{4}$")
#: Cells that mean "no data": blank, not submitted (``[x]``), suppressed or imputed (``...`` in the RA 2021-22
#: export, for returns not received), not applicable.
NO_DATA_MARKERS = {"", "[x]", "x", "..", "...", "\u2026", "-", ":", "[c]", "[z]", "n/a", "na", "nan", "none"}
HEADER_SEARCH_ROWS = 30
MEASURE = "net current expenditure"

REVENUE_ACCOUNT_SCHEMA = pa.DataFrameSchema(
    {
        "e_code": pa.Column(str, pa.Check.str_matches(E_CODE.pattern)),
        "ons_code": pa.Column(str, nullable=True),
        "authority": pa.Column(str),
        "class": pa.Column(str, nullable=True),
        "line_id": pa.Column(str),
        "line_label": pa.Column(str),
        "value_gbp_thousands": pa.Column(float, nullable=True),
    },
    strict=True,
    unique=["e_code", "line_id"],
)


def normalise_label(text: object) -> str:
    """Lower-case, single-spaced, plain-hyphen version of a cell, for label matching."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    cleaned = str(text).replace("\u2013", "-").replace("\u2014", "-").replace("\xa0", " ")
    return " ".join(cleaned.split()).lower()


def parse_gbp_thousands(cell: object) -> float:
    """A cell as a float of £ thousand; NaN for blank, ``[x]`` and the other no-data markers.

    Thousands separators (``1,085``) are removed. A non-numeric cell that is not a known marker is
    also NaN: the caller counts those and reports them.
    """
    if cell is None or cell is pd.NA:
        return float("nan")
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        return float(cell)
    text = str(cell).strip().replace(",", "")
    if text.lower() in NO_DATA_MARKERS:
        return float("nan")
    return float(text)


@dataclass(frozen=True)
class _Grid:
    """One sheet as a 2-D array of raw cells, with where its header and lines are."""

    sheet: str | None
    cells: np.ndarray
    header_row: int

    def text(self, row: int, col: int) -> str:
        return normalise_label(self.cells[row, col])

    def header_column(self, *names: str) -> int | None:
        wanted = {normalise_label(n) for n in names}
        for col in range(self.cells.shape[1]):
            if self.text(self.header_row, col) in wanted:
                return col
        return None


def _load_sheets(path: Path) -> dict[str | None, np.ndarray]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig", keep_default_na=False)
            return {None: frame.astype(object).to_numpy()}
        if suffix in {".xls", ".xlsx", ".xlsm", ".ods"}:
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
            return {name: frame.astype(object).to_numpy() for name, frame in sheets.items()}
    except Exception as exc:  # calamine and the csv parser raise many types for a corrupt file
        raise ReaderError(
            path, f"cannot be opened ({type(exc).__name__}: {exc})".splitlines()[0], "check the download is complete; re-fetch the source"
        ) from None
    raise ReaderError(path, f"unsupported file type {suffix!r}", "give the revenue account file as .xls, .xlsx, .ods or .csv")


def _find_header_row(cells: np.ndarray) -> int | None:
    for row in range(min(HEADER_SEARCH_ROWS, cells.shape[0])):
        for col in range(min(6, cells.shape[1])):
            if normalise_label(cells[row, col]) == "e-code":
                return row
    return None


def _label_positions(grid: _Grid) -> dict[tuple[int, int], str]:
    """Every non-empty cell on the header row and the rows above it, keyed by (row, col)."""
    found = {}
    for row in range(grid.header_row + 1):
        for col in range(grid.cells.shape[1]):
            text = grid.text(row, col)
            if text:
                found[(row, col)] = text
    return found


def _match_line(labels: dict[tuple[int, int], str], pattern: str) -> list[tuple[int, int]]:
    regex = re.compile(normalise_label(pattern), flags=re.IGNORECASE)
    return [pos for pos, text in labels.items() if regex.fullmatch(text)]


def _title_says_nce(grid: _Grid) -> bool:
    return any(MEASURE in grid.text(row, col) for row in range(grid.header_row) for col in range(min(3, grid.cells.shape[1])))


def _value_column(grid: _Grid, labels: dict[tuple[int, int], str], pos: tuple[int, int]) -> int | None:
    """The column holding net current expenditure for the line whose label sits at ``pos``."""
    row, col = pos
    if row == grid.header_row:
        # One column per line: the sheet as a whole must be the net current expenditure table.
        return col if _title_says_nce(grid) else None
    # Several columns per line: scan the line's span (up to the next label on the same row).
    next_labels = sorted(c for (r, c) in labels if r == row and c > col)
    end = next_labels[0] if next_labels else grid.cells.shape[1]
    for candidate in range(col, end):
        if grid.text(grid.header_row, candidate).startswith(MEASURE):
            return candidate
    return None


def _grids(path: Path) -> list[_Grid]:
    grids = []
    for sheet, cells in _load_sheets(path).items():
        header = _find_header_row(cells)
        if header is not None:
            grids.append(_Grid(sheet, cells, header))
    if not grids:
        raise ReaderError(path, "no sheet has an 'E-code' header cell", "give an individual local authority RO/RA data file")
    return grids


def _locate_lines(path: Path, grids: list[_Grid], lines: Mapping[str, str]) -> tuple[_Grid, dict[str, tuple[int, str, int]]]:
    """Pick the sheet that holds net current expenditure for every requested line."""
    problems = []
    for grid in grids:
        labels = _label_positions(grid)
        located: dict[str, tuple[int, str, int]] = {}
        for line_id, pattern in lines.items():
            matches = _match_line(labels, pattern)
            if len(matches) > 1:
                raise ReaderError(
                    path,
                    f"line {pattern!r} ({line_id}) matches {len(matches)} labels",
                    "make the line label pattern more specific",
                    sheet=grid.sheet,
                )
            if not matches:
                problems.append(f"line {pattern!r} ({line_id}) not found")
                break
            column = _value_column(grid, labels, matches[0])
            if column is None:
                problems.append(f"line {pattern!r} has no net current expenditure column")
                break
            label_row, label_col = matches[0]
            located[line_id] = (column, " ".join(str(grid.cells[label_row, label_col]).split()), label_row)
        else:
            return grid, located
    sheets = ", ".join(repr(g.sheet) for g in grids if g.sheet is not None) or "the CSV"
    # The first problem names the first line that failed in the best candidate sheet.
    raise ReaderError(
        path, f"{problems[0]} in {sheets}", "check data/manual/ro_line_mapping.csv against the line names of this year's file"
    )


@cached_reader("1")
def read_revenue_account(path: Path, lines: Mapping[str, str]) -> pd.DataFrame:
    """Read net current expenditure (£ thousand, cash) on the given lines for every authority.

    Parameters
    ----------
    path : pathlib.Path
        An RO3 outturn or RA budget individual-LA file (xls, xlsx, ods, or the CSV export of the RA workbook).
    lines : mapping of str to str
        ``line_id -> label pattern``: a regular expression matched (full match, case-insensitive, spaces
        collapsed, en dashes as hyphens) against the line labels of the file, e.g.
        ``{"adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults"}``.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (authority, line): ``e_code``, ``ons_code`` (``<NA>`` where the file has none),
        ``authority``, ``class`` (the file's class: UA, SC, MD, L/LB, SD, O...), ``line_id``, ``line_label``
        (as printed), ``value_gbp_thousands`` (NaN = no data). All classes are kept. ``attrs`` records the
        sheet and the layout detected.

    Raises
    ------
    ReaderError
        If the file has no E-code header, a line is missing (the message names it), or no sheet holds
        net current expenditure.
    """
    path = Path(path)
    if not lines:
        raise ReaderError(path, "no lines requested", "pass at least one line label pattern")
    grid, located = _locate_lines(path, _grids(path), lines)
    e_col = grid.header_column("E-code")
    name_col = grid.header_column("Local authority")
    if name_col is None:
        raise ReaderError(path, "no 'Local authority' column on the header row", "check the file layout", sheet=grid.sheet)
    ons_col = grid.header_column("ONS Code", "ONS code")
    class_col = grid.header_column("Class")

    body = _authority_table(grid, name_col)
    is_authority = np.array([bool(E_CODE.match(normalise_label(c).upper())) for c in body[:, e_col]])
    rows = body[is_authority]
    if len(rows) == 0:
        raise ReaderError(path, "no authority rows (E-codes like E0101) below the header", "check the file layout", sheet=grid.sheet)

    def column_text(col: int | None) -> list[str | None]:
        if col is None:
            return [None] * len(rows)
        return [
            (" ".join(str(c).split()) or None) if c is not None and not (isinstance(c, float) and np.isnan(c)) else None
            for c in rows[:, col]
        ]

    base = pd.DataFrame(
        {
            "e_code": [str(c).strip().upper() for c in rows[:, e_col]],
            "ons_code": column_text(ons_col),
            "authority": column_text(name_col),
            "class": column_text(class_col),
        }
    )
    parts = []
    for line_id, (col, label, _) in located.items():
        part = base.copy()
        part["line_id"] = line_id
        part["line_label"] = label
        part["value_gbp_thousands"] = _parse_column(path, grid, rows, col, label)
        parts.append(part)
    tidy = pd.concat(parts, ignore_index=True)
    tidy["value_gbp_thousands"] = tidy["value_gbp_thousands"].astype("float64")
    for column in ("e_code", "ons_code", "authority", "class", "line_id", "line_label"):
        tidy[column] = tidy[column].astype("str" if column in {"e_code", "authority", "line_id", "line_label"} else object)
    tidy["ons_code"] = tidy["ons_code"].where(tidy["ons_code"].notna(), None)
    repeated = tidy[tidy.duplicated(["e_code", "line_id"])]
    if not repeated.empty:
        first = repeated.iloc[0]
        raise ReaderError(
            path,
            f"authority {first['e_code']} ({first['authority']}) appears more than once",
            "remove the duplicated row or fetch the official file again",
            sheet=grid.sheet,
        )
    try:
        tidy = REVENUE_ACCOUNT_SCHEMA.validate(tidy)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise ReaderError(
            path, f"output failed validation: {str(exc).splitlines()[0]}", "check the file layout", sheet=grid.sheet
        ) from None
    tidy.attrs.update(
        {"sheet": grid.sheet, "layout": _layout_name(grid, located), "measure": "net current expenditure", "unit": "GBP thousand, cash"}
    )
    return tidy


def _authority_table(grid: _Grid, name_col: int) -> np.ndarray:
    """Rows below the header, up to the ENGLAND total (later tables on the sheet repeat some authorities)."""
    body = grid.cells[grid.header_row + 1 :]
    for i, cell in enumerate(body[:, name_col]):
        if normalise_label(cell) == "england":
            return body[:i]
    return body


def _parse_column(path: Path, grid: _Grid, rows: np.ndarray, col: int, label: str) -> list[float]:
    values = []
    for cell in rows[:, col]:
        try:
            values.append(parse_gbp_thousands(cell))
        except ValueError:
            raise ReaderError(
                path,
                f"line {label!r} has a non-numeric value {cell!r}",
                "add the marker to NO_DATA_MARKERS if it means no data, or fix the file",
                sheet=grid.sheet,
            ) from None
    return values


def _layout_name(grid: _Grid, located: dict[str, tuple[int, str, int]]) -> str:
    _, _, label_row = next(iter(located.values()))
    return "one_column_per_line" if label_row == grid.header_row else "per_line_subcolumns"


def read_revenue_account_totals(path: Path, lines: Mapping[str, str]) -> pd.Series:
    """The file's own ENGLAND row for the given lines (£ thousand), to check sums against.

    Parameters
    ----------
    path : pathlib.Path
        As :func:`read_revenue_account`.
    lines : mapping of str to str
        As :func:`read_revenue_account`.

    Returns
    -------
    pandas.Series
        Indexed by ``line_id``; NaN when the file has no ENGLAND row.
    """
    path = Path(path)
    grid, located = _locate_lines(path, _grids(path), lines)
    name_col = grid.header_column("Local authority")
    body = grid.cells[grid.header_row + 1 :]
    england = [i for i, c in enumerate(body[:, name_col]) if normalise_label(c) == "england"]
    if not england:
        return pd.Series({line_id: float("nan") for line_id in located}, name="england_gbp_thousands")
    row = body[england[0]]
    return pd.Series({line_id: parse_gbp_thousands(row[col]) for line_id, (col, _, _) in located.items()}, name="england_gbp_thousands")
