"""An accessible spreadsheet per figure, following the Government Analysis Function guidance
"Releasing statistics in spreadsheets" (gptables is not installed, so it is done by hand with xlsxwriter):

- a **Cover** sheet (title, what the figure shows, source, edition and any substitute data),
- a **Contents** sheet listing every sheet, and a **Notes** sheet (numbered notes, assumptions, caveats),
- then **one table per sheet**: the title in cell A1, a line saying how many tables the sheet holds,
  the source, then the table as a real Excel table (named, with a header row),
- no merged cells, no blank rows or columns inside a table, no colour-only meaning;
  empty cells are written as ``[x]`` and the shorthand is explained above the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nao_analysis.errors import NaoError

#: Shorthand for a cell with no value, explained on every table sheet (Analysis Function guidance).
NOT_AVAILABLE = "[x]"
SHEET_NAME_LIMIT = 31


@dataclass(frozen=True)
class SheetTable:
    """One table for its own sheet: a short sheet name, a title for A1, the data and what it is."""

    sheet: str
    title: str
    frame: pd.DataFrame
    description: str = ""


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
    if hasattr(value, "item"):  # numpy scalars -> Python, which xlsxwriter writes natively
        return value.item()
    return value


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
    """Write one figure's data as an accessible .xlsx workbook.

    Parameters
    ----------
    target : pathlib.Path
        The .xlsx to write (written to a temporary name first, then moved into place).
    title : str
        The figure's title (cover sheet, cell A1).
    tables : sequence of SheetTable
        The tables, one per sheet, in order. At least one.
    subtitle, source : str
        As in the report.
    notes, assumptions, caveats : sequence of str
        Listed, numbered, on the Notes sheet.
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
        If no table is given.
    """
    import xlsxwriter

    if not tables:
        raise NaoError(f"{target}: a figure workbook needs at least one table - pass the figure's CSV data")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    workbook = xlsxwriter.Workbook(str(tmp), {"strings_to_urls": False, "nan_inf_to_errors": True})
    try:
        heading = workbook.add_format({"bold": True, "font_size": 14})
        bold = workbook.add_format({"bold": True})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        workbook.set_properties({"title": title, "subject": subtitle or title, "author": "nao-analysis", "comments": source})

        names: list[str] = []
        for name in ("Cover", "Contents", "Notes"):
            names.append(name)
        table_names = []
        for table in tables:
            table_names.append(sheet_name(table.sheet, names + table_names))

        cover = workbook.add_worksheet("Cover")
        cover.set_column(0, 0, 110)
        cover.write(0, 0, title, heading)
        lines = [("What this workbook shows", subtitle or title), ("Source", source), ("Edition", edition)]
        if substitute_data:
            lines.append(("Substitute data", substitute_data))
        if built_at:
            lines.append(("Built", built_at))
        lines.append(("Contents", "The Contents sheet lists every sheet. Notes, assumptions and caveats are on the Notes sheet."))
        lines.append(("Empty cells", f"A cell marked {NOT_AVAILABLE} has no value (not available or not applicable)."))
        row = 2
        for label, text in lines:
            cover.write(row, 0, label, bold)
            cover.write(row + 1, 0, text, wrap)
            row += 2

        contents = workbook.add_worksheet("Contents")
        contents.write(0, 0, "Contents", heading)
        contents.write(1, 0, "This worksheet contains one table.")
        content_rows = [["Cover", "Title, source and edition"], ["Notes", "Notes, assumptions and caveats"]]
        content_rows += [[name, f"{t.title}" + (f": {t.description}" if t.description else "")] for name, t in zip(table_names, tables)]
        contents.add_table(
            2,
            0,
            2 + len(content_rows),
            1,
            {
                "name": "Contents_table",
                "style": "Table Style Light 1",
                "columns": [{"header": "Sheet"}, {"header": "Description"}],
                "data": content_rows,
            },
        )
        for i, (name, _) in enumerate(content_rows):
            contents.write_url(3 + i, 0, f"internal:'{name}'!A1", string=name)
        contents.set_column(0, 0, 28)
        contents.set_column(1, 1, 100)

        notes_sheet = workbook.add_worksheet("Notes")
        notes_sheet.write(0, 0, "Notes, assumptions and caveats", heading)
        notes_sheet.write(1, 0, "This worksheet contains one table.")
        note_rows = [[f"Note {i}", "note", text] for i, text in enumerate(notes, 1)]
        note_rows += [[f"Assumption {i}", "assumption", text] for i, text in enumerate(assumptions, 1)]
        note_rows += [[f"Caveat {i}", "caveat", text] for i, text in enumerate(caveats, 1)]
        if not note_rows:
            note_rows = [["Note 1", "note", "No notes for this figure."]]
        notes_sheet.add_table(
            2,
            0,
            2 + len(note_rows),
            2,
            {
                "name": "Notes_table",
                "style": "Table Style Light 1",
                "columns": [{"header": "Note number"}, {"header": "Type"}, {"header": "Text"}],
                "data": note_rows,
            },
        )
        notes_sheet.set_column(0, 1, 14)
        notes_sheet.set_column(2, 2, 120, wrap)

        for index, (name, table) in enumerate(zip(table_names, tables), 1):
            sheet = workbook.add_worksheet(name)
            sheet.write(0, 0, table.title, heading)
            sheet.write(1, 0, "This worksheet contains one table." + (f" {table.description}" if table.description else ""))
            sheet.write(2, 0, f"Source: {source}" if source else "Source: see the Cover sheet.")
            sheet.write(3, 0, f"Cells marked {NOT_AVAILABLE} have no value.")
            frame = table.frame.reset_index(drop=True)
            columns = [str(c) for c in frame.columns]
            if len(set(columns)) != len(columns):
                raise NaoError(f"{target}: table {table.title!r} has duplicate column names - rename them before writing")
            data = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
            first_row = 4
            # An Excel table needs at least one data row; an empty frame gets one row of [x].
            rows = data or [[NOT_AVAILABLE] * len(columns)]
            sheet.add_table(
                first_row,
                0,
                first_row + len(rows),
                max(len(columns) - 1, 0),
                {"name": f"Table_{index}", "style": "Table Style Light 1", "data": rows, "columns": [{"header": c} for c in columns]},
            )
            for col, column in enumerate(columns):
                longest = max([len(column)] + [len(str(r[col])) for r in rows[:200]])
                sheet.set_column(col, col, min(max(10, longest + 2), 60))
        workbook.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)
    return target
