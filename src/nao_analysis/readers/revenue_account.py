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
``merged_header``         one header row whose cells join line and column: ``Public Health - Net Current
                          Expenditure (C7 = C3 - C6)`` (the RSX summary; what a flattened RO3 looks like).
========================  ===============================================================================

Sheets are chosen by content, so a renamed sheet is read the same. The header row is the row with an
``E-code`` cell; the identifying columns (``E-code``, ``ONS Code``, ``Local authority``, ``Class``) are found
by label anywhere on it, under a few spellings, so moved, renamed or extra code columns do not matter.
Authority rows are those whose E-code looks like ``E1234``; England and class subtotals are read
separately by :func:`read_revenue_account_totals`. A line or column that is really missing is an error
naming the closest labels the file does contain.

Values are £ thousand, cash, parsed by :mod:`nao_analysis.readers.numbers` (whole numbers, thousands commas).
Blank, ``[x]`` (not submitted), ``..``, ``-``, ``c`` and ``...`` cells are *no data* (NaN), never zero:
Slough's 2022-23 return is blank/``[x]``. Any other text is an error naming the cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import closest, load_cells, read_text_head
from nao_analysis.readers.cache import cached_reader
from nao_analysis.readers.numbers import WHOLE_NUMBERS, cell_name, check_finite, parse_number

if TYPE_CHECKING:
    from nao_analysis.settings import Settings

#: Old DCLG/DLUHC authority codes (E-codes), e.g. ``E0101``.
E_CODE = re.compile(r"^E\d{4}$")
#: Cells that mean "no data": blank, not submitted (``[x]``), suppressed (``[c]``, ``c``), imputed (``...`` in the
#: RA 2021-22 export, for returns not received), not applicable (``-``, ``..``). Anything else that is not a number
#: in the publisher's format (digits with thousands commas) is an error naming the cell.
NUMBERS = WHOLE_NUMBERS.with_markers("n/a")
NO_DATA_MARKERS = set(NUMBERS.markers) | {""}
HEADER_SEARCH_ROWS = 40
MEASURE = "net current expenditure"
#: Header labels of the identifying columns, found anywhere on the header row (compared without case,
#: spaces or punctuation), so moved, added or renamed code columns are still found.
ID_COLUMNS = {
    "e_code": ("ecode", "ecodes", "dclgecode", "dluhcecode"),
    "ons_code": ("onscode", "onslacode", "gsscode", "onscodes", "onsauthoritycode"),
    "authority": ("localauthority", "localauthorityname", "authority", "authorityname", "laname"),
    "class": ("class", "laclass", "authorityclass"),
}
#: A merged header cell "<line> - Net current expenditure ...": the line label, a hyphen or colon, the measure.
_MERGED = re.compile(r"^(?P<line>.+?)\s*[-:]\s*(?P<measure>" + MEASURE + r"\b.*)$")

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


def _compact(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", normalise_label(text))


def parse_gbp_thousands(cell: object, *, path: str | Path = "<cell>", sheet: str | None = None, where: str = "") -> float:
    """A cell as a float of £ thousand; NaN for blank, ``[x]`` and the other no-data markers.

    Text must be a whole number with optional thousands commas (``1,085``) and minus sign
    (:mod:`nao_analysis.readers.numbers`); anything else raises :class:`ReaderError` naming the cell.
    """
    return parse_number(cell, NUMBERS, path=path, sheet=sheet, cell=where)


@dataclass(frozen=True)
class _Grid:
    """One sheet as a 2-D array of raw cells, with where its header and lines are."""

    sheet: str | None
    cells: np.ndarray
    header_row: int

    def text(self, row: int, col: int) -> str:
        return normalise_label(self.cells[row, col])

    def header_label(self, col: int) -> str:
        return " ".join(str(self.cells[self.header_row, col]).split())

    def id_column(self, field: str) -> int | None:
        wanted = set(ID_COLUMNS[field])
        for col in range(self.cells.shape[1]):
            if _compact(self.cells[self.header_row, col]) in wanted:
                return col
        return None

    def header_column(self, *names: str) -> int | None:
        wanted = {normalise_label(n) for n in names}
        for col in range(self.cells.shape[1]):
            if self.text(self.header_row, col) in wanted:
                return col
        return None


def _load_sheets(path: Path, settings: Settings | None = None, force: bool = False) -> dict[str | None, np.ndarray]:
    return load_cells(path, settings=settings, force=force)


#: Cells that can never be an ``E-code`` label (a number's or a blank's text has no letters): not compared.
_NOT_LABELS = (int, float, bool)


def _find_header_row(cells: np.ndarray) -> int | None:
    wanted = set(ID_COLUMNS["e_code"])
    for row in range(min(HEADER_SEARCH_ROWS, cells.shape[0])):
        if any(_compact(cell) in wanted for cell in cells[row] if cell.__class__ not in _NOT_LABELS):
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


def _title_says_nce(grid: _Grid) -> bool:
    return any(MEASURE in grid.text(row, col) for row in range(grid.header_row) for col in range(min(3, grid.cells.shape[1])))


@dataclass(frozen=True)
class _Located:
    column: int
    label: str
    layout: str


def _locate_line(grid: _Grid, labels: dict[tuple[int, int], str], pattern: str) -> list[_Located]:
    """Every place the line whose label fully matches ``pattern`` has a net current expenditure column.

    Three layouts, each found by label: a merged header cell ``<line> - Net current expenditure (C7)``;
    the line's label on a row above the header with its columns (``Net Current Expenditure (C7 = C3 - C6)``)
    below it; or the line's label on the header row of a sheet whose title says *net current expenditure*.
    """
    regex = re.compile(normalise_label(pattern), flags=re.IGNORECASE)
    found = []
    title_nce = None
    for (row, col), text in labels.items():
        if row == grid.header_row:
            merged = _MERGED.match(text)
            if merged and regex.fullmatch(merged.group("line")):
                found.append(_Located(col, " ".join(str(grid.cells[row, col]).split())[: len(merged.group("line"))], "merged_header"))
            elif regex.fullmatch(text):
                if title_nce is None:
                    title_nce = _title_says_nce(grid)
                if title_nce:
                    found.append(_Located(col, " ".join(str(grid.cells[row, col]).split()), "one_column_per_line"))
        elif regex.fullmatch(text):
            # Several columns per line: scan the line's span (up to the next label on the same row).
            next_labels = sorted(c for (r, c) in labels if r == row and c > col)
            end = next_labels[0] if next_labels else grid.cells.shape[1]
            for candidate in range(col, end):
                if grid.text(grid.header_row, candidate).startswith(MEASURE):
                    found.append(_Located(candidate, " ".join(str(grid.cells[row, col]).split()), "per_line_subcolumns"))
                    break
    return found


def _line_labels(grid: _Grid, labels: dict[tuple[int, int], str]) -> list[str]:
    """The line labels a sheet offers, for naming the closest ones in an error."""
    out = []
    for (row, col), text in labels.items():
        merged = _MERGED.match(text) if row == grid.header_row else None
        out.append(" ".join(str(grid.cells[row, col]).split())[: len(merged.group("line"))] if merged else str(grid.cells[row, col]))
    return [" ".join(label.split()) for label in out]


def _grids(path: Path, settings: Settings | None = None, force: bool = False) -> list[_Grid]:
    grids = []
    for sheet, cells in _load_sheets(path, settings, force).items():
        header = _find_header_row(cells)
        if header is not None:
            grids.append(_Grid(sheet, cells, header))
    if not grids:
        raise ReaderError(path, "no sheet has an 'E-code' header cell", "give an individual local authority RO/RA data file")
    return grids


def _locate_lines(path: Path, grids: list[_Grid], lines: Mapping[str, str]) -> tuple[_Grid, dict[str, tuple[int, str, str]]]:
    """Pick the sheet that holds net current expenditure for every requested line."""
    best: tuple[int, str, list[str]] | None = None
    for grid in grids:
        labels = _label_positions(grid)
        located: dict[str, tuple[int, str, str]] = {}
        for line_id, pattern in lines.items():
            matches = _locate_line(grid, labels, pattern)
            columns = {m.column for m in matches}
            if len(columns) > 1:
                raise ReaderError(
                    path,
                    f"line {pattern!r} ({line_id}) matches {len(columns)} net current expenditure columns",
                    "make the line label pattern more specific",
                    sheet=grid.sheet,
                )
            if not matches:
                named = any(re.fullmatch(normalise_label(pattern), t, flags=re.IGNORECASE) for t in labels.values())
                problem = (
                    f"line {pattern!r} ({line_id}) has no net current expenditure column"
                    if named
                    else f"line {pattern!r} ({line_id}) not found; {closest(pattern, _line_labels(grid, labels))}"
                )
                if best is None or len(located) > best[0]:
                    best = (len(located), problem, [])
                break
            located[line_id] = (matches[0].column, matches[0].label, matches[0].layout)
        else:
            return grid, located
    sheets = ", ".join(repr(g.sheet) for g in grids if g.sheet is not None) or "the CSV"
    assert best is not None
    raise ReaderError(
        path, f"{best[1]} (sheets searched: {sheets})", "check data/manual/ro_line_mapping.csv against the line names of this year's file"
    )


@cached_reader("2")
def read_revenue_account(path: Path, lines: Mapping[str, str], *, settings: Settings | None = None, force: bool = False) -> pd.DataFrame:
    """Read net current expenditure (£ thousand, cash) on the given lines for every authority.

    Parameters
    ----------
    path : pathlib.Path
        An RO3 outturn or RA budget individual-LA file (xls, xlsx, ods, or the CSV export of the RA workbook),
        or the RSX service expenditure summary (its "lines" are services such as ``Public Health``).
    lines : mapping of str to str
        ``line_id -> label pattern``: a regular expression matched (full match, case-insensitive, spaces
        collapsed, en dashes as hyphens) against the line labels of the file, e.g.
        ``{"adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults"}``.

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per (authority, line): ``e_code``, ``ons_code`` (``None`` where the file has none),
        ``authority``, ``class`` (the file's class: UA, SC, MD, L/LB, SD, O...), ``line_id``, ``line_label``
        (as printed), ``value_gbp_thousands`` (NaN = no data). All classes are kept. ``attrs`` records the
        sheet and the layout detected.
    settings, force
        Given by the parsed-file cache (:func:`~nao_analysis.readers.cache.cached_reader`), never part of its key:
        the file's cells are parsed once per file (:func:`~nao_analysis.readers._common.load_cells`), so callers
        asking for different lines of the same file share one parse.

    Raises
    ------
    ReaderError
        If the file has no E-code header, a line is missing (the message names it and the closest labels the
        file does have), no sheet holds net current expenditure, or a value is not a number in the publisher's
        format (the message names the cell and the text).
    """
    path = Path(path)
    if not lines:
        raise ReaderError(path, "no lines requested", "pass at least one line label pattern")
    grid, located = _locate_lines(path, _grids(path, settings, force), lines)
    columns = _id_columns(path, grid)
    e_col, name_col = columns["e_code"], columns["authority"]
    ons_col, class_col = columns["ons_code"], columns["class"]

    body_rows = _authority_rows(grid, e_col, name_col)
    if not body_rows:
        raise ReaderError(path, "no authority rows (E-codes like E0101) below the header", "check the file layout", sheet=grid.sheet)
    rows = grid.cells[body_rows]

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
        header = grid.header_label(col)
        part["value_gbp_thousands"] = [_gbp_thousands_at(grid, r, col, header, path) for r in body_rows]
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
    check_finite(tidy, path)
    try:
        tidy = REVENUE_ACCOUNT_SCHEMA.validate(tidy)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise ReaderError(
            path, f"output failed validation: {str(exc).splitlines()[0]}", "check the file layout", sheet=grid.sheet
        ) from None
    tidy.attrs.update(
        {"sheet": grid.sheet, "layout": _layout_name(located), "measure": "net current expenditure", "unit": "GBP thousand, cash"}
    )
    return tidy


def _gbp_thousands_at(grid: _Grid, row: int, col: int, header: str, path: Path) -> float:
    """:func:`parse_gbp_thousands` of one cell. A finite int or float (nearly every cell of a workbook) is its
    own value; only other cells need the cell's name, for the error they may raise."""
    value = grid.cells[row, col]
    kind = value.__class__
    if kind is int or (kind is float and math.isfinite(value)):
        return float(value)
    return parse_gbp_thousands(value, path=path, sheet=grid.sheet, where=cell_name(row, col, header))


def _id_columns(path: Path, grid: _Grid) -> dict[str, int | None]:
    columns = {field: grid.id_column(field) for field in ID_COLUMNS}
    for field, label in (("e_code", "E-code"), ("authority", "Local authority")):
        if columns[field] is None:
            header = [grid.header_label(c) for c in range(grid.cells.shape[1])]
            raise ReaderError(
                path, f"no {label!r} column on the header row; {closest(label, header)}", "check the file layout", sheet=grid.sheet
            )
    return columns


def _authority_rows(grid: _Grid, e_col: int, name_col: int) -> list[int]:
    """Rows below the header with an E-code, up to the ENGLAND total (later tables on the sheet repeat some authorities)."""
    out = []
    for row in range(grid.header_row + 1, grid.cells.shape[0]):
        if normalise_label(grid.cells[row, name_col]) == "england":
            break
        if E_CODE.match(normalise_label(grid.cells[row, e_col]).upper()):
            out.append(row)
    return out


def _england_row(grid: _Grid, name_col: int) -> int | None:
    for row in range(grid.header_row + 1, grid.cells.shape[0]):
        if normalise_label(grid.cells[row, name_col]) == "england":
            return row
    return None


def _layout_name(located: dict[str, tuple[int, str, str]]) -> str:
    return next(iter(located.values()))[2]


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
    name_col = _id_columns(path, grid)["authority"]
    row = _england_row(grid, name_col)
    if row is None:
        return pd.Series({line_id: float("nan") for line_id in located}, name="england_gbp_thousands")
    return pd.Series(
        {
            line_id: parse_gbp_thousands(
                grid.cells[row, col], path=path, sheet=grid.sheet, where=cell_name(row, col, grid.header_label(col))
            )
            for line_id, (col, _, _) in located.items()
        },
        name="england_gbp_thousands",
    )


# -- recognising the file by content ----------------------------------------------------------------------

_FINANCIAL_YEAR_TEXT = re.compile(r"\b(\d{4})\s*[-/\u2013]\s*(\d{2})\b")
TITLE_ROWS = 30


def _financial_year_in(texts: list[str]) -> str | None:
    for text in texts:
        for match in _FINANCIAL_YEAR_TEXT.finditer(text):
            start, end = int(match.group(1)), int(match.group(2))
            if (start + 1) % 100 == end:
                return f"{start}-{end:02d}"
    return None


def _sheet_tops(path: Path) -> dict[str | None, list[list[object]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return {None: read_text_head(path, TITLE_ROWS)}
    return {name: cells[:TITLE_ROWS].tolist() for name, cells in load_cells(path).items()}


def detect(path: Path) -> dict | None:
    """Recognise an individual-LA revenue account file (RO3 outturn, RA budget, RSX summary) by its content.

    Returns
    -------
    dict or None
        ``{"format": "ro3_ods" | "ra_csv" | "rsx_csv" | ..., "serves": {"basis": "outturn" | "budget",
        "year": "2022-23"}, "title": ...}``; None when no sheet has an ``E-code`` header row.

    Raises
    ------
    ReaderError
        A file with the E-code header but without the title rows that say whether it is outturn or budget
        and which year: the basis and year are refused rather than guessed.
    """
    path = Path(path)
    if path.suffix.lower() not in {".csv", ".xls", ".xlsx", ".xlsm", ".ods"}:
        return None
    tops = _sheet_tops(path)
    headed = False
    for sheet, rows in tops.items():
        header = next((i for i, row in enumerate(rows) if any(_compact(c) in ID_COLUMNS["e_code"] for c in row)), None)
        if header is None:
            continue
        headed = True
        titles = [str(sheet or "")] + [str(c) for row in rows[:header] for c in row[:3] if normalise_label(c)]
        joined = " ".join(normalise_label(t) for t in titles)
        if "service expenditure summary" in joined or re.search(r"\brsx\b", joined):
            basis, family, kind = "outturn", "rsx", "Revenue Outturn Service Expenditure Summary (RSX)"
        elif "revenue outturn" in joined or re.search(r"\bro3\b", joined):
            basis, family, kind = "outturn", "ro3", "Revenue Outturn (RO3)"
        elif "revenue account" in joined or "budget" in joined:
            basis, family, kind = "budget", "ra", "Revenue Account (RA) budget"
        else:
            continue
        year = _financial_year_in(titles)
        if year is None:
            continue
        return {
            "format": f"{family}_{path.suffix.lower().lstrip('.')}",
            "serves": {"basis": basis, "year": year},
            "title": f"{kind} {year}, individual local authority data",
        }
    if headed:
        raise ReaderError(
            path,
            "is a local authority revenue account table but has no title row saying outturn or budget and which year",
            "add the publisher's original file (with its title rows); the basis and year are not guessed",
        )
    return None
