"""How numbers and text read on every page of the site: one convention for changes, blanks and paths.

- A change (a per cent or money difference between two years) is always signed: ``+9%``, ``-40%``, ``-384``.
- A missing value reads "no data", never ``NaN`` or ``<NA>``.
- No page shows a filesystem path: build folders are reduced to the file's name.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

#: Words in a reconciliation check or fact that make its number a change between two points.
CHANGE_WORDS = re.compile(r"change|increase|decrease|reduction|fall|rise|growth", re.IGNORECASE)
#: Units in which a change is measured (a count of authorities that increased spending is not itself a change).
CHANGE_UNITS = re.compile(r"^\s*(%|per ?cent|percentage points?|gbp.*|£.*)\s*$", re.IGNORECASE)
#: Missing-value spellings pandas and Python print.
MISSING_TEXTS = {"", "nan", "<na>", "none", "nat", "null"}
#: ``PosixPath('/x/y.png')`` and friends, as a notebook prints a returned path.
PATH_REPR = re.compile(r"(?:Posix|Windows|Pure(?:Posix|Windows)?)?Path\(\s*(['\"])(.*?)\1\s*\)")
#: An absolute path of two or more parts, not part of a URL, a fraction or a closing tag.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~<-])/(?:[^\s'\"<>/()\[\]]+/)+([^\s'\"<>/()\[\]]+)")


def is_missing(value: Any) -> bool:
    """None, NaN or a missing-value spelling such as ``"<NA>"``."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in MISSING_TEXTS


def to_number(value: Any) -> float | None:
    """``value`` as a float, or None for blanks and text."""
    if is_missing(value) or isinstance(value, bool):
        return None
    try:
        number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def format_number(value: Any) -> str:
    """A published or rebuilt number as the report would print it (escaped); text is escaped as it is, blanks stay blank."""
    number = to_number(value)
    if number is None:
        return "" if is_missing(value) else html.escape(str(value))
    if number.is_integer() or abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".") if abs(number) < 10 else f"{number:,.1f}"


def is_change(*texts: str, unit: str = "") -> bool:
    """Whether a number described by ``texts`` (check id, description, fact wording) in ``unit`` is a change."""
    return bool(CHANGE_UNITS.match(unit or "")) and any(CHANGE_WORDS.search(t or "") for t in texts)


def format_change(value: Any, unit: str = "") -> str:
    """A change, always signed: ``+9%``, ``-40%``, ``-41.3%``, ``+1,761%``, ``-384``; blank for no value.

    Whole numbers keep no decimals; others one decimal below 100 and none above.
    """
    number = to_number(value)
    if number is None:
        return ""
    text = f"{abs(number):,.0f}" if number.is_integer() or abs(number) >= 100 else f"{abs(number):,.1f}"
    sign = "-" if number < 0 and text.strip("0.,") else "+" if number > 0 and text.strip("0.,") else ""
    return f"{sign}{text}{'%' if (unit or '').strip() == '%' else ''}"


def format_cell(text: str, column: str = "") -> str:
    """A table cell as a reader wants it: "no data" for blanks, yes/no, thousands separators, sensible decimals.

    Identifiers (a column named like a year, code, rank or id) are left as they are.
    """
    raw = (text or "").strip()
    if not raw:
        return ""  # an empty string is a deliberate blank (no flag, no note), not a missing number
    if raw.lower() in MISSING_TEXTS:
        return "no data"
    if raw in ("True", "False"):
        return "yes" if raw == "True" else "no"
    if re.search(r"year|code|rank|(^|_)id$|indicator", column, re.IGNORECASE):
        return raw
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", raw):
        return raw
    number = float(raw)
    if math.isinf(number):
        return raw
    if number.is_integer():
        return f"{number:,.0f}"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if abs(number) >= 10:
        return f"{number:,.1f}"
    return f"{number:,.2f}"


def strip_paths(text: str) -> str:
    """``text`` with every path printed as the file's name only: no ``PosixPath(...)``, no build or staging folders."""
    text = PATH_REPR.sub(lambda m: m.group(2).rstrip("/").rsplit("/", 1)[-1], text)
    return ABSOLUTE_PATH.sub(lambda m: m.group(1), text)
