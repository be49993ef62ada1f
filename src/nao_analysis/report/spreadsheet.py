"""An accessible spreadsheet per figure, made with ``gptables`` (the Government Analysis Function's package for
"Releasing statistics in spreadsheets"):

- a **Cover** sheet (title, what the figure shows, source, edition, any substitute data, how empty cells are marked),
- a **Contents** sheet listing every table sheet, and a **Notes** sheet (numbered notes, assumptions, caveats),
  each note referenced from the tables it applies to,
- then **one table per sheet**: title in cell A1, source and shorthand above the table, the table as a real,
  named Excel table with units in its column headers;
- no merged cells, no blank rows or columns inside a table; an empty cell is written as ``[x]`` and the
  shorthand is explained above every table and on the cover.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nao_analysis.errors import NaoError
from nao_analysis.safe_io import write_atomic

#: Shorthand for a cell with no value, explained on every table sheet (Analysis Function guidance).
NOT_AVAILABLE = "[x]"
#: Cells that are only a symbol, which accessible tables spell out (the Analysis Function's guidance on symbols).
SYMBOL_WORDS = {"%": "per cent", "£": "pounds", "-": NOT_AVAILABLE, "–": NOT_AVAILABLE}
SHEET_NAME_LIMIT = 31
#: Units read from the project's column-name suffixes (tidy CSVs name money and percentages this way).
UNIT_SUFFIXES = {"_gbp_k": "£ thousand", "_gbp_m": "£ million", "_gbp": "£", "_pct": "%"}


@dataclass(frozen=True)
class SheetTable:
    """One table for its own sheet: a short sheet name, a title for A1, the data and what it is.

    ``units`` maps a column to its unit, shown in the column header; columns named with a unit suffix
    (``_gbp_k``, ``_gbp_m``, ``_pct``) get theirs without being listed.
    """

    sheet: str
    title: str
    frame: pd.DataFrame
    description: str = ""
    units: Mapping[str, str] = field(default_factory=dict)


def sheet_name(text: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique Excel sheet name: no ``[]:*?/\\``, at most 31 characters, no leading/trailing apostrophe.

    Parameters
    ----------
    text : str
        The wanted name, e.g. ``"Table_1"`` or ``"by_workstream"``.
    taken : sequence of str
        Names already used in the workbook (compared case-insensitively, as Excel does).

    Returns
    -------
    str
        The cleaned name, suffixed ``_2``, ``_3``... if needed to be unique.
    """
    clean = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'").strip() or "Sheet"
    clean = clean[:SHEET_NAME_LIMIT]
    used = {t.lower() for t in taken}
    candidate, n = clean, 1
    while candidate.lower() in used:
        n += 1
        suffix = f"_{n}"
        candidate = clean[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    return candidate


def column_units(frame: pd.DataFrame, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each column's unit: those given, then those its name's suffix implies (``spend_gbp_k`` -> ``£ thousand``)."""
    units = {}
    for column in frame.columns:
        name = str(column)
        for suffix, unit in UNIT_SUFFIXES.items():
            if name.endswith(suffix):
                units[name] = unit
                break
    units.update({str(k): v for k, v in (given or {}).items() if str(k) in map(str, frame.columns)})
    return units


def _cell(value: object) -> object:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, float) and math.isnan(value):
        return NOT_AVAILABLE
    try:
        if pd.isna(value):
            return NOT_AVAILABLE
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars -> Python, which the writer stores natively
        return value.item()
    if isinstance(value, str) and value.strip() in SYMBOL_WORDS:
        return SYMBOL_WORDS[value.strip()]
    return value


def _table_frame(table: SheetTable, target: Path) -> pd.DataFrame:
    frame = table.frame.reset_index(drop=True)
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise NaoError(f"{target}: table {table.title!r} has duplicate column names - rename them before writing")
    cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    # An Excel table needs at least one data row; an empty frame gets one row of [x].
    return pd.DataFrame(cells or [[NOT_AVAILABLE] * len(columns)], columns=columns, dtype=object)


def write_figure_workbook(
    target: Path,
    *,
    title: str,
    tables: Sequence[SheetTable],
    subtitle: str = "",
    notes: Sequence[str] = (),
    assumptions: Sequence[str] = (),
    caveats: Sequence[str] = (),
    source: str = "",
    edition: str = "",
    substitute_data: str = "",
    built_at: str = "",
) -> Path:
    """Write one figure's data as an accessible .xlsx workbook (written under a temporary name, then moved into place).

    Parameters
    ----------
    target : pathlib.Path
        The .xlsx to write.
    title : str
        The figure's title (cover sheet, cell A1).
    tables : sequence of SheetTable
        The tables, one per sheet, in order. At least one.
    subtitle, source : str
        As in the report.
    notes, assumptions, caveats : sequence of str
        Listed, numbered, on the Notes sheet, and referenced from every table.
    edition : str
        The edition name, shown on the cover.
    substitute_data : str
        The edition's substitute-data statement for this figure; empty if none.
    built_at : str
        Build time shown on the cover.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    NaoError
        If no table is given, or a table has duplicate column names.
    """
    import gptables as gpt

    if not tables:
        raise NaoError(f"{target}: a figure workbook needs at least one table - pass the figure's CSV data")
    target = Path(target)
    entries = [("note", t) for t in notes] + [("assumption", t) for t in assumptions] + [("caveat", t) for t in caveats]
    if not entries:
        entries = [("note", "No notes for this figure.")]
    notes_table = pd.DataFrame(
        {
            "Note number": [f"note {i}" for i in range(1, len(entries) + 1)],
            "Type": [kind for kind, _ in entries],
            "Note text": [text for _, text in entries],
        }
    )
    references = "".join(f"$$note {i}$$" for i in range(1, len(entries) + 1))
    shorthand = f"Cells marked {NOT_AVAILABLE} have no value (not available or not applicable)."

    tables_options: dict[str, dict] = {}
    taken = ["Cover", "Contents", "Notes"]
    for index, table in enumerate(tables, 1):
        name = sheet_name(table.sheet, taken)
        taken.append(name)
        frame = _table_frame(table, target)
        tables_options[name] = dict(
            table=frame,
            table_name=f"Table_{index}",
            title=table.title,
            subtitles=[s for s in (table.description, f"Notes for this figure: {references}") if s],
            instructions="This worksheet contains one table. Some cells refer to notes which can be found on the Notes worksheet.",
            legend=[shorthand],
            source=f"Source: {source}" if source else "Source: see the Cover worksheet.",
            units=column_units(frame, table.units) or None,
        )
    about = [f"Source: {source}" if source else "", f"Edition: {edition}" if edition else ""]
    if substitute_data:
        about.append(f"Substitute data: {' '.join(substitute_data.split())}")
    if built_at:
        about.append(f"Built: {built_at}")
    about += ["The Contents worksheet lists every table. Notes, assumptions and caveats are on the Notes worksheet.", shorthand]

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            # gptables (2.0.2) trips pandas 3 deprecation warnings, and warns about text cells ([x]) in number
            # columns, which are there on purpose and explained above every table.
            warnings.filterwarnings("ignore", module=r"gptables")
            warnings.simplefilter("ignore", UserWarning)
            sheets = {name: gpt.GPTable(**options) for name, options in tables_options.items()}
            cover = gpt.Cover(title=title, intro=[subtitle or title], about=[a for a in about if a])
            workbook = gpt.produce_workbook(
                filename=str(tmp),
                sheets=sheets,
                cover=cover,
                notes_table=notes_table,
                contentsheet_options={"title": "Contents"},
                notesheet_options={"title": "Notes, assumptions and caveats"},
            )
            workbook.set_properties({"title": title, "subject": subtitle or title, "author": "nao-analysis", "comments": source})
            workbook.close()

    return write_atomic(target, write)
