"""The one numeric parser every reader uses.

Official spreadsheets hold numbers either as numeric cells or as text (CSV exports, "numbers stored as
text"). Text is accepted only in the publishers' own convention:

- ASCII digits, with optional thousands commas in groups of three (``1,085`` or ``1085``);
- an optional leading minus sign;
- an optional decimal point, only where the publisher writes decimals (deflator indices, percentages);
  where values are whole numbers (£ thousand, counts of deaths or people) a point is refused, because
  ``1.085`` there is a European-style thousand, not one and a bit;
- the publisher's suppression markers (``[x]``, ``..``, ``-``, ``c`` ...), and blank, which mean *no data*
  and become NaN - never zero.

Anything else (``inf``, ``Infinity``, ``1_000``, Arabic-Indic digits, ``1.234,5``, ``12e3``, stray words) is a
:class:`~nao_analysis.errors.ReaderError` naming the file, sheet, cell and the text found. A numeric cell
that is not finite is an error too, so no NaN-by-accident or infinity ever leaves a reader.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nao_analysis.errors import ReaderError

# [0-9], not \d: Python's \d also matches Arabic-Indic and other Unicode digits.
_WHOLE = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)")
_DECIMAL = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|-?\.[0-9]+")
_SCIENTIFIC = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)[eE][-+]?[0-9]{1,3}")

#: Markers the UK statistical producers use for "no figure": not submitted / not applicable ([x], x),
#: confidential or suppressed ([c], c), not available (.., ...), nil or not applicable (-, :), [z].
GOVERNMENT_MARKERS = frozenset({"[x]", "x", "..", "...", "\u2026", "-", "\u2013", ":", "[c]", "c", "[z]", "z", "[u]", "[low]"})


@dataclass(frozen=True)
class NumberConvention:
    """How one publisher writes numbers as text.

    Attributes
    ----------
    decimals
        Whether a decimal point is part of the convention (deflator indices, percentages). False for
        whole-number tables (£ thousand, counts), where ``1.085`` is refused as a European-style thousand.
    markers
        Texts (compared lower-case, stripped) meaning *no data*; blank always means no data.
    exponent
        Whether ``8.1e-4`` is part of the convention (only for extracts written by statistical software).
    """

    decimals: bool
    markers: frozenset[str] = field(default=GOVERNMENT_MARKERS)
    exponent: bool = False

    def with_markers(self, *extra: str) -> NumberConvention:
        return NumberConvention(self.decimals, self.markers | {m.lower() for m in extra}, self.exponent)


#: Whole numbers (£ thousand, deaths, people in treatment) with the government markers.
WHOLE_NUMBERS = NumberConvention(decimals=False)
#: Numbers with decimals (indices, percentages) with the government markers.
DECIMAL_NUMBERS = NumberConvention(decimals=True)


def column_letter(index: int) -> str:
    """0 -> ``A``, 27 -> ``AB`` (spreadsheet column names)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_name(row: int, column: int | None = None, label: str | None = None, *, spreadsheet: bool = True) -> str:
    """``row 12, column 'Net current expenditure' (F)`` from 0-based positions; rows counted as the file shows them."""
    where = f"row {row + 1}"
    if label:
        where += f", column {label!r}"
    if column is not None and spreadsheet:
        where += f" ({column_letter(column)})" if label else f", column {column_letter(column)}"
    elif column is not None and not label:
        where += f", field {column + 1}"
    return where


def is_blank(value: object) -> bool:
    """A cell with nothing in it (None, NaN from a spreadsheet engine, or whitespace)."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_number(
    value: object, convention: NumberConvention, *, path: str | Path, sheet: str | None = None, cell: str = "", column: str | None = None
) -> float:
    """One cell as a float under the publisher's ``convention``; NaN for blank and suppression markers.

    Parameters
    ----------
    value
        The cell as the engine returned it (str, int, float, None...).
    convention
        :data:`WHOLE_NUMBERS`, :data:`DECIMAL_NUMBERS` or a reader's own :class:`NumberConvention`.
    path, sheet, cell, column
        Where the cell is, for the error message (``cell`` from :func:`cell_name`; ``column`` for a CSV whose
        cells are named by row only).

    Raises
    ------
    ReaderError
        For any text outside the grammar and for non-finite or non-numeric cells.
    """
    if is_blank(value):
        return math.nan
    if isinstance(value, bool | np.bool_ | dt.date | dt.datetime | dt.time | dt.timedelta):
        _refuse(path, sheet, cell, column, value, "is a date or a true/false value, not a number")
    if isinstance(value, int | np.integer):
        return float(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            _refuse(path, sheet, cell, column, value, "is not a finite number")
        return float(value)
    text = str(value).strip()
    if text.lower() in convention.markers:
        return math.nan
    grammar = _DECIMAL if convention.decimals else _WHOLE
    if grammar.fullmatch(text):
        return float(text.replace(",", ""))
    if convention.exponent and _SCIENTIFIC.fullmatch(text):
        return float(text)
    if not convention.decimals and _DECIMAL.fullmatch(text):
        _refuse(
            path,
            sheet,
            cell,
            column,
            text,
            "has a decimal point where this publisher writes whole numbers with thousands commas (a European-style thousand?)",
        )
    _refuse(
        path,
        sheet,
        cell,
        column,
        text,
        "is not a number in the publisher's format (digits, thousands commas, minus sign) nor a known marker",
    )
    raise AssertionError("unreachable")  # pragma: no cover


_FIX = (
    "fix the cell, or delete the file and fetch the source again "
    "(if the text is the publisher's marker for no data, add the marker to NO_DATA_MARKERS of the reader)"
)


def _refuse(path, sheet, cell, column, value, why: str) -> None:
    where = f"{cell}: " if cell else ""
    raise ReaderError(path, f"{where}{str(value)[:60]!r} {why}", _FIX, sheet=sheet, column=column)


def parse_numbers(values, convention: NumberConvention, *, path, sheet=None, cells) -> list[float]:
    """:func:`parse_number` over a sequence; ``cells`` gives each value's :func:`cell_name` (a callable of the index)."""
    return [parse_number(v, convention, path=path, sheet=sheet, cell=cells(i)) for i, v in enumerate(values)]


def check_finite(frame, path: str | Path, columns=None) -> None:
    """Refuse a frame with an infinite value in any float column: no infinity ever leaves a reader."""
    for column in columns if columns is not None else frame.columns:
        series = frame[column]
        if pd.api.types.is_float_dtype(series) and np.isinf(series.to_numpy(dtype=float, na_value=np.nan)).any():
            raise ReaderError(path, f"column {column!r} holds an infinite value", "check the file's numbers", column=str(column))
