"""Helpers shared by the readers: refusing bad files before parsing, loading cells within limits,
finding labels, and validating output schemas.

Every spreadsheet and CSV passes :func:`check_data_file` and :func:`check_limits` before pandas or
calamine sees it, so an empty file, a file of blank lines, an HTML error page, a UTF-16 export, an
oversized file or a sheet of 100,000 repeated rows is refused in one line, quickly and with little
memory. Workbooks are also scanned for formula cells that carry no cached value (a workbook saved
by a tool that does not calculate): reading those as blank would publish "no data" silently.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import itertools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nao_analysis.errors import ReaderError
from nao_analysis.readers.numbers import cell_name, column_letter
from nao_analysis.safe_io import load_yaml, looks_like_html

if TYPE_CHECKING:
    from nao_analysis.settings import Settings

SPREADSHEET_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".ods"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}


@dataclass(frozen=True)
class Limits:
    """Caps for one file format: bytes on disk, bytes once unzipped, rows per sheet and cells per sheet."""

    max_bytes: int
    max_rows: int
    max_cells: int = 0
    max_unzipped_bytes: int = 0


#: The largest real inputs are a few MB (the RO3 2022-23 ods unzips to 37 MB of XML; the multi-year
#: revenue outturn CSV is about 20 MB). The caps leave an order of magnitude of headroom and keep the
#: peak memory of any refusal far below 1 GB.
LIMITS = {
    ".csv": Limits(max_bytes=256 * 2**20, max_rows=1_000_000),
    ".tsv": Limits(max_bytes=256 * 2**20, max_rows=1_000_000),
    ".txt": Limits(max_bytes=256 * 2**20, max_rows=1_000_000),
    ".gz": Limits(max_bytes=64 * 2**20, max_rows=1_000_000, max_unzipped_bytes=256 * 2**20),
    ".xls": Limits(max_bytes=100 * 2**20, max_rows=65_536, max_cells=5_000_000),
    ".xlsx": Limits(max_bytes=100 * 2**20, max_rows=50_000, max_cells=5_000_000, max_unzipped_bytes=400 * 2**20),
    ".xlsm": Limits(max_bytes=100 * 2**20, max_rows=50_000, max_cells=5_000_000, max_unzipped_bytes=400 * 2**20),
    ".ods": Limits(max_bytes=100 * 2**20, max_rows=50_000, max_cells=5_000_000, max_unzipped_bytes=400 * 2**20),
}


def _too_big(path: Path, what: str, found: int, cap: int, unit: str) -> ReaderError:
    return ReaderError(
        path,
        f"{what} {found:,} {unit} is over this format's limit of {cap:,} {unit}",
        "check it is the official file; split it or raise the limit in readers/_common.py if it really is",
    )


# -- refusing bad files before parsing -------------------------------------------------------------------


def check_data_file(path: Path, *, text: bool | None = None) -> None:
    """Refuse, in one line, a file no reader should try: missing, empty, blank, HTML, UTF-16, or too big.

    Parameters
    ----------
    path
        The raw file.
    text
        Whether it is a text format (CSV); by default from the suffix.
    """
    path = Path(path)
    if not path.is_file():
        raise ReaderError(path, "file not found", "run `nao-analysis fetch` for its source")
    size = path.stat().st_size
    if size == 0:
        raise ReaderError(path, "file is empty (0 bytes)", "delete it and fetch the source again")
    limits = LIMITS.get(path.suffix.lower())
    if limits and size > limits.max_bytes:
        raise _too_big(path, "file size", size, limits.max_bytes, "bytes")
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if looks_like_html(head):
        raise ReaderError(
            path,
            "is an HTML page, not a data file (probably an error page saved under this name)",
            "delete it and fetch the source again from the official URL",
        )
    is_text = path.suffix.lower() in TEXT_SUFFIXES if text is None else text
    if not is_text:
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise ReaderError(path, "is UTF-16 or binary text, not UTF-8", "save it again as CSV UTF-8 (or fetch the publisher's file again)")
    if not head.strip(b" \t\r\n\xef\xbb\xbf,;"):
        # Only whitespace and separators in the first 4 KB: look at the rest without loading it.
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                if block.strip(b" \t\r\n\xef\xbb\xbf,;"):
                    return
        raise ReaderError(path, "holds only blank lines", "delete it and fetch the source again")


def check_not_html_or_empty(path: Path) -> None:
    """Kept for callers of the first version: the same checks as :func:`check_data_file`."""
    check_data_file(path)


def count_lines(path: Path, cap: int) -> int:
    """Count lines by streaming 1 MB blocks, stopping as soon as ``cap`` is passed (memory stays ~1 MB)."""
    lines = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
            if lines > cap:
                return lines
    return lines


def check_limits(path: Path) -> None:
    """Refuse a file whose rows or cells exceed its format's :data:`LIMITS`, before anything is loaded.

    CSV: lines counted by streaming. xlsx: zip members' unzipped sizes, then each sheet's extent from its
    cell references. ods: ``content.xml``'s unzipped size, then each table's extent, repeated rows and
    columns counted as the spreadsheet engine would expand them (trailing empty repeats do not count).
    Also refuses formula cells without a cached value in xlsx and ods.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    limits = LIMITS.get(suffix)
    if limits is None:
        return
    if suffix in TEXT_SUFFIXES:
        lines = count_lines(path, limits.max_rows)
        if lines > limits.max_rows:
            raise _too_big(path, "line count (at least)", lines, limits.max_rows, "lines")
    elif suffix in {".xlsx", ".xlsm"}:
        _scan_xlsx(path, limits)
    elif suffix == ".ods":
        _scan_ods(path, limits)


def _open_zip(path: Path, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReaderError(
            path, f"cannot be opened as a workbook ({exc})", "check the download is complete; delete it and fetch the source again"
        ) from None
    total = sum(info.file_size for info in archive.infolist())
    if total > limits.max_unzipped_bytes:
        archive.close()
        raise _too_big(path, "unzipped size", total, limits.max_unzipped_bytes, "bytes")
    return archive


_XLSX_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_XLSX_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')
_XLSX_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_XLSX_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_XLSX_VALUE = re.compile(rb"<v>[^<]+</v>|<is>")
#: A cell's start tag up to its reference (the first ``r="A1"`` of the tag, as :data:`_XLSX_REF` finds it).
_XLSX_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)([0-9]+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def _xlsx_sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML."""
    import html

    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    targets = {}
    for match in _XLSX_REL.finditer(rels):
        rid, target = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        target = target.decode()
        targets[rid.decode()] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return {html.unescape(name.decode()): targets.get(rid.decode(), "") for name, rid in _XLSX_SHEET.findall(workbook)}


def _scan_xlsx(path: Path, limits: Limits) -> None:
    with _open_zip(path, limits) as archive:
        try:
            parts = _xlsx_sheet_parts(archive)
        except KeyError:
            raise ReaderError(path, "is not an xlsx workbook (no xl/workbook.xml)", "fetch the official file again") from None
        members = set(archive.namelist())
        for sheet, member in parts.items():
            if member not in members:
                continue
            data = archive.read(member)
            if b"<f" in data:
                _scan_xlsx_formulas(path, sheet, data)
            # The sheet's extent from its cells' references, found by one C-level search: the row numbers
            # and column letters are compared as distinct values (a sheet has tens of thousands of cells).
            refs = _XLSX_CELL_REF.findall(data)
            max_row = max(map(int, {row for _, row in refs}), default=0)
            max_col = _column_number(max({col for col, _ in refs}, key=lambda col: (len(col), col))) if refs else 0
            _check_extent(path, sheet, max_row, max_col, limits)


def _scan_xlsx_formulas(path: Path, sheet: str, data: bytes) -> None:
    """Refuse the first cell holding a formula without a saved value."""
    for match in _XLSX_CELL.finditer(data):
        inner = match.group(2) or b""
        if b"<f" in inner and not _XLSX_VALUE.search(inner):
            ref = _XLSX_REF.search(match.group(1))
            where = f"cell {ref.group(1).decode()}{ref.group(2).decode()}" if ref else "a cell"
            raise ReaderError(
                path,
                f"{where} holds a formula with no saved value",
                "open the workbook in a spreadsheet program, recalculate and save it, or fetch the publisher's file",
                sheet=sheet,
            )


def _check_extent(path: Path, sheet: str, rows: int, cols: int, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise ReaderError(
            path,
            f"sheet has {rows:,} rows, over this format's limit of {limits.max_rows:,}",
            "check it is the official file (a sheet of repeated or padded rows is refused)",
            sheet=sheet,
        )
    if limits.max_cells and rows * cols > limits.max_cells:
        raise ReaderError(
            path,
            f"sheet spans {rows:,} rows x {cols:,} columns, over this format's limit of {limits.max_cells:,} cells",
            "check it is the official file",
            sheet=sheet,
        )


_ODS_TAG = re.compile(rb"<table:table(?=[\s>])([^>]*)>|<table:table-row\b([^>]*?)(/?)>|</table:table>")
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")
_ODS_REPEAT_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_REPEAT_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')


def _scan_ods(path: Path, limits: Limits) -> None:
    import html

    with _open_zip(path, limits) as archive:
        try:
            data = archive.read("content.xml")
        except KeyError:
            raise ReaderError(path, "is not an OpenDocument spreadsheet (no content.xml)", "fetch the official file again") from None
    sheet = ""
    row = last_row = last_col = 0
    for match in _ods_tags(data):
        if match.group(1) is not None:
            name = _ODS_NAME.search(match.group(1))
            sheet = html.unescape(name.group(1).decode()) if name else "?"
            row = last_row = last_col = 0
        elif match.group(0) == b"</table:table>":
            _check_extent(path, sheet, last_row, last_col, limits)
        else:
            repeat = _ODS_REPEAT_ROWS.search(match.group(2))
            repeats = int(repeat.group(1)) if repeat else 1
            if match.group(3):  # <table:table-row .../>: an empty row
                row += repeats
                continue
            start, end = match.end(), data.find(b"</table:table-row>", match.end())
            end = len(data) - 1 if end < 0 else end  # as the slice data[start:-1] it replaces
            if (
                data.find(b"office:value-type", start, end) >= 0
                or data.find(b"<text:p", start, end) >= 0
                or data.find(b"table:formula", start, end) >= 0
            ):
                row += repeats
                last_row = row
                last_col = max(last_col, _ods_row_width(path, sheet, row - repeats, data, start, end))
                # Stop early: a row repeated past the cap is refused without walking the rest.
                _check_extent(path, sheet, last_row, last_col, limits)
            else:
                row += repeats


#: Where an :data:`_ODS_TAG` match can begin. This pattern starts with a literal, which the regular expression
#: engine searches for quickly; ``_ODS_TAG`` itself is then tried only there, not at each of the millions of
#: ``<`` in a large content.xml.
_ODS_TAG_START = re.compile(rb"<table:table(?:-row\b|[\s>])|</table:table>")


def _ods_tags(data: bytes):
    """The matches ``_ODS_TAG.finditer(data)`` gives, in order."""
    done = 0
    for start in _ODS_TAG_START.finditer(data):
        if start.start() < done:  # inside the previous match: finditer does not look there
            continue
        match = _ODS_TAG.match(data, start.start())
        if match:
            done = match.end()
            yield match


_ODS_REPEATED_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*number-columns-repeated=[^>]*)>")
_ODS_FORMULA_CELL = re.compile(rb"<table:table-cell\b([^>]*table:formula=[^>]*)>")


def _ods_row_width(path: Path, sheet: str, row: int, data: bytes, start: int, end: int) -> int:
    """Columns a spreadsheet engine would expand the row ``data[start:end]`` to (repeats of valued cells
    counted); refuses formula cells without a value. Counted with C-level searches: the real RO3 sheet has
    500 columns a row."""
    if data.find(b"table:formula", start, end) >= 0:
        span = data[start:end]
        for cell in _ODS_FORMULA_CELL.finditer(span):
            if b"office:value-type" not in cell.group(1):
                col = _ods_column_of(span, cell.start())
                raise ReaderError(
                    path,
                    f"cell {column_letter(col)}{row + 1} holds a formula with no saved value",
                    "open the spreadsheet, recalculate and save it, or fetch the publisher's file",
                    sheet=sheet,
                )
    # Only cells up to the last one with a value are expanded by the engine; blank cells after it are not.
    last = max(data.rfind(b"office:value-type", start, end), data.rfind(b"<text:p", start, end))
    if last < 0:
        return 0
    last = data.find(b">", last) + 1  # the whole tag of that cell, with its repeat count
    width = data.count(b"<table:table-cell", start, last) + data.count(b"<table:covered-table-cell", start, last)
    # The repeated cells, as _ODS_REPEATED_CELL.finditer would find them, tried only where a repeat count is
    # written (a few thousand places, against hundreds of thousands of cells).
    done = start
    position = data.find(b"number-columns-repeated=", start, last)
    while position >= 0:
        tag = data.rfind(b"<", done, position)
        cell = _ODS_REPEATED_CELL.match(data, tag, last) if tag >= 0 else None
        if cell:
            width += int(_ODS_REPEAT_COLS.search(cell.group(1)).group(1)) - 1
            done = cell.end()
        position = data.find(b"number-columns-repeated=", max(done, position + 1), last)
    return width


def _ods_column_of(span: bytes, offset: int) -> int:
    """0-based column of the cell starting at ``offset`` in a row (for the error message only)."""
    col = 0
    for cell in _ODS_CELL.finditer(span, 0, offset):
        repeat = _ODS_REPEAT_COLS.search(cell.group(1))
        col += int(repeat.group(1)) if repeat else 1
    return col


# -- loading cells -----------------------------------------------------------------------------------------


def read_csv_cells(path: Path, *, encoding: str = "utf-8-sig") -> np.ndarray:
    """Every cell of a CSV as text (rows padded to one width), after the file and limit checks."""
    path = Path(path)
    check_data_file(path, text=True)
    check_limits(path)
    rows = None
    # Spreadsheet programs on Windows save "CSV" in cp1252 (e.g. an O-umlaut in "Ynys Môn"): accepted as
    # a second choice; anything neither decodes is refused.
    for attempt in (encoding, "cp1252"):
        try:
            with open(path, newline="", encoding=attempt) as handle:
                rows = list(csv.reader(handle))
            break
        except UnicodeDecodeError as exc:
            problem = exc
        except csv.Error as exc:
            raise ReaderError(path, f"cannot be parsed as CSV ({exc})", "fetch the file again") from None
    if rows is None:
        raise ReaderError(path, f"is not UTF-8 or Windows-1252 text (byte {problem.start})", "save it again as CSV UTF-8") from None
    width = max((len(r) for r in rows), default=0)
    cells = np.full((len(rows), width), "", dtype=object)
    for i, row in enumerate(rows):
        cells[i, : len(row)] = row
    return cells


def read_workbook(path: Path, sheet_name=None, **kwargs) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """Read xls/xlsx/ods with calamine (fast, and no XML parsing in Python), after the checks.

    The frames are exactly those of ``pd.read_excel(path, sheet_name, header=None, engine="calamine")``:
    calamine's rows get pandas' cell conversion (integral floats as int, dates as datetimes) in one
    comprehension instead of a function call per cell, then pandas' own ``TextParser`` infers the column
    types as ``read_excel`` does. Other ``read_excel`` options (``kwargs``) go through ``read_excel`` itself.
    """
    path = Path(path)
    check_data_file(path, text=False)
    check_limits(path)
    try:
        if kwargs:
            result = pd.read_excel(path, sheet_name=sheet_name, header=None, engine="calamine", **kwargs)
        else:
            result = _read_sheets(path, sheet_name)
    except ValueError as exc:
        raise ReaderError(
            path,
            f"cannot be read as a spreadsheet ({str(exc).splitlines()[0][:120]})",
            "check the file is the official workbook, then fetch it again",
        ) from None
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise ReaderError(
            path,
            f"cannot be read as a spreadsheet ({exc.__class__.__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})",
            "delete it and fetch the source again",
        ) from None
    frames = result if isinstance(result, dict) else {sheet_name: result}
    limits = LIMITS.get(path.suffix.lower())
    for name, frame in frames.items():
        if limits:
            _check_extent(path, str(name), frame.shape[0], frame.shape[1], limits)
    return result


def _read_sheets(path: Path, sheet_name: str | int | None) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """``pd.read_excel(path, sheet_name, header=None, engine="calamine")`` without its per-cell function calls."""
    from pandas.errors import EmptyDataError
    from pandas.io.parsers import TextParser
    from python_calamine import SheetTypeEnum, load_workbook

    with open(path, "rb") as handle:
        book = load_workbook(handle)
        # read_excel's sheets: worksheets only (no chart sheets), in workbook order.
        names = [sheet.name for sheet in book.sheets_metadata if sheet.typ == SheetTypeEnum.WorkSheet]
        wanted = names if sheet_name is None else [names[sheet_name] if isinstance(sheet_name, int) else sheet_name]
        frames = {}
        for name in wanted:
            if name not in names:
                raise ValueError(f"Worksheet named '{name}' not found")
            rows = _pandas_cells(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            if not rows:
                frames[name] = pd.DataFrame()
                continue
            try:
                # The arguments read_excel gives TextParser for header=None (skip_blank_lines=False: GH 39808).
                frames[name] = TextParser(rows, header=None, skip_blank_lines=False).read()
            except EmptyDataError:
                frames[name] = pd.DataFrame()
            except Exception as err:
                err.args = (f"{err.args[0]} (sheet: {name})", *err.args[1:]) if err.args else err.args
                raise
    return frames if sheet_name is None else frames[wanted[0]]


def _pandas_cells(rows: list[list]) -> list[list]:
    """calamine's cells as pandas' calamine reader converts them (``_convert_cell``): an integral float
    becomes an int and a date a midnight datetime; everything else is kept. Floats and text are nearly
    every cell, so they are tested first, inline."""
    return [
        [
            value
            if (kind := value.__class__) is str
            else ((int(value) if value.is_integer() else value) if kind is float else _pandas_cell(value))
            for value in row
        ]
        for row in rows
    ]


def _pandas_cell(value):
    if isinstance(value, float):  # a float subclass: pandas tests with isinstance
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime | dt.timedelta):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return value


def load_cells(path: Path, *, settings: Settings | None = None, force: bool = False) -> dict[str | None, np.ndarray]:
    """Every sheet as a 2-D object array of raw cells (a CSV is one sheet named None).

    With the run's ``settings`` a workbook's cells are parsed once and kept in the parsed-file cache
    (:func:`nao_analysis.readers.cache.cached_value`), so every reader of the same file shares one parse;
    ``force`` parses afresh. CSVs are quick to read and are not cached here.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return {None: read_csv_cells(path)}
    if suffix in SPREADSHEET_SUFFIXES:
        from nao_analysis.readers.cache import cached_value

        return cached_value(
            _workbook_cells,
            path,
            reader_version=CELLS_VERSION,
            to_frame=_cells_to_frame,
            from_frame=_cells_from_frame,
            settings=settings,
            force=force,
        )
    raise ReaderError(path, f"unsupported file type {suffix!r}", "give the file as .xls, .xlsx, .ods or .csv")


#: Bump when the cells :func:`load_cells` returns for a workbook change.
CELLS_VERSION = "1"


def _workbook_cells(path: Path) -> dict[str | None, np.ndarray]:
    return {name: frame.astype(object).to_numpy() for name, frame in read_workbook(path).items()}


#: How each cell type is stored in the cache's table of a workbook's cells; a blank cell (NaN) is not stored.
_TEXT, _INTEGER, _NUMBER, _BOOLEAN = 1, 2, 3, 4
_CELL_KINDS = {str: _TEXT, int: _INTEGER, float: _NUMBER, bool: _BOOLEAN}


def _cells_to_frame(sheets: dict[str | None, np.ndarray]) -> pd.DataFrame | None:
    """A workbook's cells as one table parquet holds exactly: a row per non-blank cell (sheet, row, column,
    kind, and its value in the column for its kind); sheet names and shapes in ``attrs``. None when a cell
    has a type the table cannot hold exactly (a date, say): the cells are then not cached."""
    parts = []
    for index, cells in enumerate(sheets.values()):
        flat = cells.ravel()
        # map() over type(): the per-cell work stays in C (a workbook has a few hundred thousand cells).
        kinds = np.fromiter(map(_CELL_KINDS.get, map(type, flat), itertools.repeat(0)), dtype=np.int8, count=flat.size)
        if (kinds == 0).any():
            return None
        numbers = np.zeros(flat.size)
        is_number = kinds == _NUMBER
        numbers[is_number] = flat[is_number].astype(np.float64)
        stored = ~(is_number & np.isnan(numbers))  # blank cells are NaN
        is_integer = kinds == _INTEGER
        integers = np.zeros(flat.size, dtype=np.int64)
        try:
            integers[is_integer] = flat[is_integer].astype(np.int64)
        except OverflowError:  # an integer beyond 64 bits
            return None
        positions = np.flatnonzero(stored)
        rows, cols = np.divmod(positions, max(cells.shape[1], 1))
        numbers[kinds == _BOOLEAN] = flat[kinds == _BOOLEAN].astype(np.float64)
        texts = np.full(flat.size, None, dtype=object)
        texts[kinds == _TEXT] = flat[kinds == _TEXT]
        parts.append(
            pd.DataFrame(
                {
                    "sheet": np.full(positions.size, index, dtype=np.int32),
                    "row": rows.astype(np.int32),
                    "col": cols.astype(np.int32),
                    "kind": kinds[positions],
                    "text": pd.Series(texts[positions], dtype="str"),
                    "number": numbers[positions],
                    "integer": integers[positions],
                }
            )
        )
    if not parts:  # a workbook without sheets: nothing worth caching
        return None
    frame = pd.concat(parts, ignore_index=True)
    frame.attrs["sheets"] = [[name, int(cells.shape[0]), int(cells.shape[1])] for name, cells in sheets.items()]
    return frame


def _cells_from_frame(frame: pd.DataFrame) -> dict[str | None, np.ndarray]:
    """The exact inverse of :func:`_cells_to_frame`."""
    sheet, kind = frame["sheet"].to_numpy(), frame["kind"].to_numpy()
    row, col = frame["row"].to_numpy(), frame["col"].to_numpy()
    out = {}
    for index, (name, rows, cols) in enumerate(frame.attrs["sheets"]):
        cells = np.full((rows, cols), np.nan, dtype=object)
        here = sheet == index
        for code, values in (
            (_TEXT, frame["text"].to_numpy(dtype=object)),
            (_INTEGER, frame["integer"].to_numpy()),
            (_NUMBER, frame["number"].to_numpy()),
            (_BOOLEAN, frame["number"].to_numpy().astype(bool)),
        ):
            chosen = here & (kind == code)
            if chosen.any():
                cells[row[chosen], col[chosen]] = values[chosen].astype(object)
        out[name] = cells
    return out


def read_text_head(path: Path, lines: int = 40) -> list[list[str]]:
    """The first ``lines`` rows of a CSV (for format detection), without reading the rest."""
    out = []
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        for row in csv.reader(handle):
            out.append(row)
            if len(out) >= lines:
                break
    return out


# -- labels --------------------------------------------------------------------------------------------------


def find_sheet(path: Path, sheets: dict[str, pd.DataFrame], pattern: str, what: str) -> str:
    """The one sheet whose name matches ``pattern`` (a regex, case-insensitive)."""
    regex = re.compile(pattern, re.IGNORECASE)
    matches = [name for name in sheets if regex.search(str(name))]
    if not matches:
        raise ReaderError(
            path,
            f"no sheet for {what} (looked for a name matching /{pattern}/ among {list(sheets)[:12]})",
            "the layout has changed: update the reader or use the official file",
        )
    return matches[0]


def clean_label(value) -> str:
    """Lower-case, collapse spaces, drop trailing footnote digits ("Any Class A drug6" -> "any class a drug")."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = re.sub(r"\s+", " ", str(value)).strip()
    text = re.sub(r"(?<=[A-Za-z\)])\d+(,\d+)*$", "", text)
    return text.lower()


def closest(wanted: str, labels, n: int = 3) -> str:
    """``"closest labels in the file: 'a', 'b'"`` for an error message (difflib), or a note that none is close."""
    pool = sorted({str(label) for label in labels if str(label).strip()})
    lowered = {label.lower(): label for label in pool}
    matches = difflib.get_close_matches(str(wanted).lower(), list(lowered), n=n, cutoff=0.4)
    if not matches:
        return "no label in the file is close"
    return "closest labels in the file: " + ", ".join(repr(lowered[m]) for m in matches)


def validate(schema, frame: pd.DataFrame, path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Validate a reader's output; the error names file, sheet and column. Infinite values are refused."""
    import pandera.errors

    from nao_analysis.readers.numbers import check_finite

    check_finite(frame, path)
    try:
        return schema.validate(frame, lazy=False)
    except pandera.errors.SchemaError as exc:
        column = getattr(exc.schema, "name", None)
        failure = str(exc).splitlines()[0][:160]
        raise ReaderError(
            path, f"unexpected content: {failure}", "check the file is the official release", sheet=sheet, column=column
        ) from None


def read_manual_yaml(path: Path, model, *, missing_fix: str, invalid_fix: str):
    """Load a hand-transcribed YAML file from ``data/manual/`` and validate it with a pydantic ``model``.

    Every problem (missing file, YAML syntax, a failed rule) is a one-line :class:`ReaderError`
    naming the file and the first offending entry.
    """
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    if not path.exists():
        raise ReaderError(path, "file not found", missing_fix)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReaderError(path, f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ReaderError(path, "expected a mapping at the top level", invalid_fix)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ReaderError(path, f"{where}: {first['msg']} ({exc.error_count()} problem(s) in all)", invalid_fix) from None


__all__ = [
    "LIMITS",
    "Limits",
    "cell_name",
    "check_data_file",
    "check_limits",
    "check_not_html_or_empty",
    "clean_label",
    "closest",
    "find_sheet",
    "load_cells",
    "read_csv_cells",
    "read_manual_yaml",
    "read_text_head",
    "read_workbook",
    "validate",
]
