"""Render a small table (a report figure that is a table) as accessible HTML and as an SVG picture.

Two entry points, shared by every table-shaped figure (Figures 7-10, Appendix Two):

- :func:`table_html` - an HTML ``<table>`` with a ``<caption>``, ``scope`` on every header
  cell, the first column as row headers, and optional notes and source in a ``<tfoot>``.
- :func:`table_image` - the table laid out like an NAO table (title, subtitle, a shaded header row,
  wrapped cell text, a bold total row, then notes and source underneath) and written as SVG by this
  module, not by matplotlib: the picture is only a picture of a table, so its text stays ``<text>``
  (searchable, selectable, small) and no pixels are rasterised. Line breaks are decided here from
  DejaVu Sans' own glyph advances, with a margin for a browser's fallback font.
  The accessible version of the same table is the HTML from :func:`table_html`.

Both take the table as a ``DataFrame`` whose columns are the printed column headings, in order.
Numbers are printed as the report prints them (no trailing zeros) and missing values as ``-``.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Number
from pathlib import Path

import pandas as pd

#: How a missing cell is printed, as in the report's tables.
MISSING = "-"

# NAO-like palette: dark header band, light band on the total row.
HEADER_FILL = "#1f3864"
HEADER_TEXT = "white"
TOTAL_FILL = "#d9e2f3"
RULE_COLOUR = "#8c8c8c"


def format_cell(value: object) -> str:
    """Print one cell as the report does.

    Parameters
    ----------
    value
        A number, string or missing value.

    Returns
    -------
    str
        ``"-"`` for a missing value, numbers without trailing zeros (``10``, ``0.05``, ``1.5``),
        thousands separated for large numbers, anything else as ``str``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Number):
        number = float(value)  # type: ignore[arg-type]
        if number.is_integer():
            return f"{int(number):,}"
        return f"{number:,.10f}".rstrip("0").rstrip(".")
    return str(value)


def _is_total_row(row: pd.Series, total_labels: Sequence[str]) -> bool:
    first = str(row.iloc[0]).strip().lower()
    return any(first == label.lower() for label in total_labels)


def table_html(
    df: pd.DataFrame,
    caption: str,
    *,
    notes: Sequence[str] = (),
    source: str = "",
    row_header_column: int | None = 0,
    formatter: Callable[[object], str] = format_cell,
    total_labels: Sequence[str] = ("Total",),
) -> str:
    """Return the table as accessible HTML.

    Parameters
    ----------
    df
        The table; its column labels are the printed headings, its rows are printed in order.
    caption
        Text of the ``<caption>`` (the figure's title), read first by screen readers.
    notes, source
        Printed in a ``<tfoot>`` under the table, as in the report.
    row_header_column
        Position of the column whose cells identify each row (marked ``<th scope="row">``);
        ``None`` for none.
    formatter
        Turns each cell value into text.
    total_labels
        Rows whose first cell equals one of these (case-insensitive) are marked as totals.

    Returns
    -------
    str
        A self-contained ``<table>`` element.
    """
    columns = [str(c) for c in df.columns]
    lines = ['<table class="nao-table">', f"  <caption>{html.escape(caption)}</caption>", "  <thead>", "    <tr>"]
    lines += [f'      <th scope="col">{html.escape(c)}</th>' for c in columns]
    lines += ["    </tr>", "  </thead>", "  <tbody>"]
    for _, row in df.iterrows():
        css = ' class="total"' if _is_total_row(row, total_labels) else ""
        lines.append(f"    <tr{css}>")
        for position, value in enumerate(row.tolist()):
            text = html.escape(formatter(value))
            if position == row_header_column:
                lines.append(f'      <th scope="row">{text}</th>')
            else:
                align = ' style="text-align:right"' if isinstance(value, Number) or text == MISSING else ""
                lines.append(f"      <td{align}>{text}</td>")
        lines.append("    </tr>")
    lines.append("  </tbody>")
    footer = [f"Note {i}: {n}" for i, n in enumerate(notes, start=1)]
    if source:
        footer.append(f"Source: {source}")
    if footer:
        lines += ["  <tfoot>"]
        lines += [f'    <tr><td colspan="{len(columns)}">{html.escape(text)}</td></tr>' for text in footer]
        lines += ["  </tfoot>"]
    lines.append("</table>")
    return "\n".join(lines)


# -- the table as a picture: laid out here, written as SVG text ------------------------------------------

#: Fonts named in the SVG: the one measured first, then fallbacks of similar or narrower width.
SVG_FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
TEXT_COLOUR = "#0b0c0c"
SUBTITLE_COLOUR = "#404040"
BANNER_COLOUR = "#801650"
BANNER_FILL = "#fff4f8"
#: Text is wrapped to this share of the room it has, so a browser drawing it in a fallback font
#: slightly wider than DejaVu Sans (or with different kerning) still keeps it inside its cell.
WRAP_MARGIN = 0.92
#: DejaVu Sans' ascent and descent (hhea, as a share of the em): where a line's ink can reach.
ASCENT_EM = 1901 / 2048
DESCENT_EM = 483 / 2048
BANNER_SIZE = 7.5


@functools.lru_cache(maxsize=2)
def _font(bold: bool):
    """DejaVu Sans as matplotlib ships it (the charts' font), opened once per weight."""
    import matplotlib
    from matplotlib.ft2font import FT2Font

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    font = FT2Font(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name))
    font.set_size(font.units_per_EM, 72)  # one point per font unit: advances come out in font units
    return font


@functools.lru_cache(maxsize=4096)
def _advance_em(char: str, bold: bool) -> float:
    from matplotlib.ft2font import LoadFlags

    font = _font(bold)
    glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
    return glyph.linearHoriAdvance / 65536 / font.units_per_EM


@functools.lru_cache(maxsize=16384)
def text_width_pt(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in points at ``size``, from DejaVu Sans' unhinted advances (no kerning, which
    only narrows DejaVu Sans text)."""
    return size * sum(_advance_em(c, bold) for c in text)


def wrap_measured(text: str, width_pt: float, size: float, bold: bool = False) -> list[str]:
    """``text`` wrapped greedily into lines no wider than ``width_pt`` (measured, not counted).

    A word too wide for a line breaks after its slashes first ("Department/Body", as the report's own
    cells do), and only then between characters, so nothing ever runs out of its room.
    """
    tokens: list[tuple[str, bool]] = []  # (piece, whether a space comes before it)
    for word in text.split():
        if text_width_pt(word, size, bold) <= width_pt:
            tokens.append((word, True))
            continue
        pieces = [p + "/" for p in word.split("/")[:-1]] + [word.split("/")[-1]]
        first = True
        for piece in (p for p in pieces if p):
            while len(piece) > 1 and text_width_pt(piece, size, bold) > width_pt:
                cut = 1
                while cut < len(piece) - 1 and text_width_pt(piece[: cut + 1], size, bold) <= width_pt:
                    cut += 1
                tokens.append((piece[:cut], first))
                piece, first = piece[cut:], False
            tokens.append((piece, first))
            first = False
    lines: list[str] = []
    line = ""
    for piece, spaced in tokens:
        candidate = f"{line} {piece}" if line and spaced else line + piece
        if line and text_width_pt(candidate, size, bold) > width_pt:
            lines.append(line)
            line = piece
        else:
            line = candidate
    return [*lines, line] if line or not lines else lines


@dataclass(frozen=True)
class TextBlock:
    """Lines of text drawn as one ``<text>``: anchored at ``x`` (its left edge, or its right edge when
    ``anchor`` is ``"end"``), the first line's box starting at ``top``."""

    kind: str  # title, subtitle, header, cell, total, notes-heading, notes, banner
    lines: tuple[str, ...]
    x: float
    top: float
    size: float
    pitch: float
    bold: bool = False
    colour: str = TEXT_COLOUR
    anchor: str = "start"
    #: The room the text must stay inside (left, top, right, bottom), for cells and the banner.
    room: tuple[float, float, float, float] | None = None
    row: int | None = None  # 0 for the header row, 1... for body rows
    column: int | None = None

    @property
    def baseline(self) -> float:
        return self.top + ASCENT_EM * self.size

    def box(self) -> tuple[float, float, float, float]:
        """Where the ink can reach: (left, top, right, bottom) in points, from measured line widths."""
        width = max((text_width_pt(line, self.size, self.bold) for line in self.lines), default=0.0)
        left = self.x - width if self.anchor == "end" else self.x
        bottom = self.top + (len(self.lines) - 1) * self.pitch + (ASCENT_EM + DESCENT_EM) * self.size
        return (left, self.top, left + width, bottom)


@dataclass(frozen=True)
class Band:
    """A filled rectangle: the header band, a total row's band, the banner's box."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str | None = None


@dataclass(frozen=True)
class TableLayout:
    """Everything drawn, in points from the top left: the SVG is written from this, and tests check it."""

    width: float
    height: float
    bands: tuple[Band, ...]
    rules: tuple[tuple[float, float, float], ...]  # (left, right, y) of each rule under a row
    blocks: tuple[TextBlock, ...]


@dataclass(frozen=True)
class TableImage:
    """A table figure as the report prints it; :meth:`layout` places it and :meth:`to_svg` writes it.

    The edition's banner is only known when the figure is written, so it is an argument of both.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # printed cell text, repeats already blanked
    right_aligned: tuple[bool, ...]
    totals: tuple[bool, ...]
    fractions: tuple[float, ...]
    title: str
    subtitle: str
    notes: tuple[str, ...]
    source: str
    width_pt: float
    font_size: float

    def layout(self, banner: str = "") -> TableLayout:
        fs = self.font_size
        line = fs * 1.3
        pad = line * 0.45
        left = self.width_pt * 0.02
        usable = self.width_pt * 0.96
        inset = usable * 0.005
        xs = [left + usable * sum(self.fractions[:i]) for i in range(len(self.fractions) + 1)]
        blocks: list[TextBlock] = []
        bands: list[Band] = []
        rules: list[tuple[float, float, float]] = []

        def room_width(i: int) -> float:
            return (xs[i + 1] - xs[i] - 2 * inset) * WRAP_MARGIN

        y = pad
        title = wrap_measured(self.title, usable * WRAP_MARGIN, fs * 1.5, bold=True)
        blocks.append(TextBlock("title", tuple(title), left, y, fs * 1.5, line * 1.6, bold=True))
        y += len(title) * line * 1.6
        if self.subtitle:
            subtitle = wrap_measured(self.subtitle, usable * WRAP_MARGIN, fs * 1.2)
            blocks.append(TextBlock("subtitle", tuple(subtitle), left, y, fs * 1.2, line * 1.3, colour=SUBTITLE_COLOUR))
            y += len(subtitle) * line * 1.3
        y += pad

        def row(number: int, cells: Sequence[str], *, header: bool, total: bool) -> None:
            nonlocal y
            bold = header or total
            wrapped = [wrap_measured(text, room_width(i), fs, bold) for i, text in enumerate(cells)]
            height = max(len(lines) for lines in wrapped) * line + 2 * pad
            if bold:
                bands.append(Band(left, y, usable, height, HEADER_FILL if header else TOTAL_FILL))
            for i, lines in enumerate(wrapped):
                if not any(lines):
                    continue
                end = self.right_aligned[i]
                blocks.append(
                    TextBlock(
                        "header" if header else "total" if total else "cell",
                        tuple(lines),
                        xs[i + 1] - inset if end else xs[i] + inset,
                        y + pad,
                        fs,
                        line,
                        bold=bold,
                        colour=HEADER_TEXT if header else TEXT_COLOUR,
                        anchor="end" if end else "start",
                        room=(xs[i], y, xs[i + 1], y + height),
                        row=number,
                        column=i,
                    )
                )
            y += height
            rules.append((left, left + usable, y))

        row(0, self.columns, header=True, total=False)
        for number, (cells, total) in enumerate(zip(self.rows, self.totals, strict=True), start=1):
            row(number, cells, header=False, total=total)
        y += pad
        small = fs * 0.9
        if self.notes:
            blocks.append(TextBlock("notes-heading", ("Notes",), left, y, fs, line, bold=True))
            y += line
        footer = [
            piece for i, note in enumerate(self.notes, start=1) for piece in wrap_measured(f"{i} {note}", usable * WRAP_MARGIN, small)
        ]
        if self.source:
            footer += wrap_measured(f"Source: {self.source}", usable * WRAP_MARGIN, small)
        if footer:
            blocks.append(TextBlock("notes", tuple(footer), left, y, small, line))
            y += len(footer) * line
        y += pad * 2
        if banner:
            # As on the charts: under the source line, in a box, so it never hides the table.
            inner = BANNER_SIZE * 0.4
            lines = [piece for part in banner.split("\n") for piece in wrap_measured(part, (usable - 2 * inner) * WRAP_MARGIN, BANNER_SIZE)]
            pitch = BANNER_SIZE * 1.2
            height = (len(lines) - 1) * pitch + (ASCENT_EM + DESCENT_EM) * BANNER_SIZE + 2 * inner
            bands.append(Band(left, y, usable, height, BANNER_FILL, stroke=BANNER_COLOUR))
            blocks.append(
                TextBlock(
                    "banner",
                    tuple(lines),
                    left + inner,
                    y + inner,
                    BANNER_SIZE,
                    pitch,
                    colour=BANNER_COLOUR,
                    room=(left, y, left + usable, y + height),
                )
            )
            y += height + pad
        return TableLayout(self.width_pt, y, tuple(bands), tuple(rules), tuple(blocks))

    def to_svg(self, alt: str, banner: str = "") -> str:
        """The table as a standalone SVG document: text as ``<text>``, named for assistive technology by ``alt``."""
        layout = self.layout(banner)
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(layout.width)}pt" height="{_n(layout.height)}pt" '
            f'viewBox="0 0 {_n(layout.width)} {_n(layout.height)}" role="img" aria-label="{_esc(alt)}" '
            f'font-family="{SVG_FONT_FAMILY}">',
            f"<title>{_esc(alt)}</title>",
            f'<rect width="{_n(layout.width)}" height="{_n(layout.height)}" fill="white"/>',
        ]
        for band in layout.bands:
            stroke = f' stroke="{band.stroke}" stroke-width="0.8" rx="{_n(BANNER_SIZE * 0.4)}"' if band.stroke else ""
            out.append(
                f'<rect x="{_n(band.x)}" y="{_n(band.y)}" width="{_n(band.width)}" height="{_n(band.height)}" fill="{band.fill}"{stroke}/>'
            )
        for x0, x1, y in layout.rules:
            out.append(f'<line x1="{_n(x0)}" y1="{_n(y)}" x2="{_n(x1)}" y2="{_n(y)}" stroke="{RULE_COLOUR}" stroke-width="0.5"/>')
        for block in layout.blocks:
            attrs = f'x="{_n(block.x)}" y="{_n(block.baseline)}" font-size="{_n(block.size)}" fill="{block.colour}"'
            if block.bold:
                attrs += ' font-weight="bold"'
            if block.anchor == "end":
                attrs += ' text-anchor="end"'
            if len(block.lines) == 1:
                out.append(f"<text {attrs}>{_esc(block.lines[0])}</text>")
                continue
            spans = "".join(
                f'<tspan x="{_n(block.x)}"{"" if i == 0 else f" dy={_q(_n(block.pitch))}"}>{_esc(text)}</tspan>'
                for i, text in enumerate(block.lines)
            )
            out.append(f"<text {attrs}>{spans}</text>")
        out.append("</svg>")
        return "\n".join(out) + "\n"


def svg_element(document: str) -> str:
    """A table image's SVG document as an element to place in an HTML page: its text stays searchable,
    it keeps its own ``role="img"`` and ``aria-label``, and it scales down to the page's width."""
    start = document.find("<svg")
    if start < 0:
        raise ValueError("not an SVG document: no <svg> element")
    return '<svg class="table-image" style="max-width:100%;height:auto"' + document[start + 4 :].rstrip()


def _n(value: float) -> str:
    """A coordinate with two decimals and no trailing zeros: small files, identical on every machine."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _q(text: str) -> str:
    return f'"{text}"'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _default_widths(df: pd.DataFrame, formatter: Callable[[object], str]) -> list[float]:
    """Relative column widths from the longest word and typical text length of each column."""
    widths = []
    for column in df.columns:
        texts = [str(column)] + [formatter(v) for v in df[column].tolist()]
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        typical = sorted(len(t) for t in texts)[len(texts) // 2]
        widths.append(max(longest_word, min(typical, 60), 4))
    return widths


def table_image(
    df: pd.DataFrame,
    title: str,
    subtitle: str = "",
    notes: Sequence[str] = (),
    source: str = "",
    *,
    column_widths: Sequence[float] | None = None,
    numeric_columns: Sequence[str] | None = None,
    formatter: Callable[[object], str] = format_cell,
    total_labels: Sequence[str] = ("Total",),
    merge_repeats: Sequence[str] = (),
    width_inches: float = 11.0,
    font_size: float = 8.0,
) -> TableImage:
    """The table laid out like the report's tables: title, subtitle, a shaded header row, wrapped cell
    text, bold totals on a light band, rules under rows, then numbered notes and the source.

    Parameters
    ----------
    df
        The table; column labels are the printed headings.
    title, subtitle
        Printed above the table (the figure title and its one-line message).
    notes, source
        Printed below the table, numbered as in the report.
    column_widths
        Relative widths per column; by default from the length of each column's text.
    numeric_columns
        Columns right-aligned; by default every column whose non-missing values are all numbers.
    formatter
        Turns each cell value into text.
    total_labels
        Rows whose first cell equals one of these are drawn bold on a shaded band.
    merge_repeats
        Columns drawn like merged cells: a value equal to the one above is left blank
        (the HTML version keeps every value, so each row stays self-describing).
    width_inches, font_size
        Width of the picture and size of its body text.

    Returns
    -------
    TableImage
        Written as SVG by the figure runtime (with the edition's banner, if any).
    """
    widths = list(column_widths) if column_widths is not None else _default_widths(df, formatter)
    if len(widths) != len(df.columns):
        raise ValueError(f"column_widths has {len(widths)} values for {len(df.columns)} columns")
    if numeric_columns is None:
        numeric_columns = [c for c in df.columns if df[c].dropna().map(lambda v: isinstance(v, Number)).all() and df[c].notna().any()]
    shown = df.copy()
    for column in merge_repeats:
        repeated = shown[column].eq(shown[column].shift())
        shown[column] = shown[column].astype(object).where(~repeated, "")
    return TableImage(
        columns=tuple(str(c) for c in df.columns),
        rows=tuple(tuple(formatter(v) for v in row) for row in shown.itertuples(index=False)),
        right_aligned=tuple(c in numeric_columns for c in df.columns),
        totals=tuple(_is_total_row(row, total_labels) for _, row in df.iterrows()),
        fractions=tuple(w / sum(widths) for w in widths),
        title=title,
        subtitle=subtitle,
        notes=tuple(notes),
        source=source,
        width_pt=width_inches * 72,
        font_size=font_size,
    )


def find_layout_problems(layout: TableLayout) -> list[str]:
    """Texts whose measured boxes overlap, or that run out of their cell (or the picture); empty when clean."""
    problems = []
    boxes = [(block, block.box()) for block in layout.blocks]
    for block, (x0, y0, x1, y1) in boxes:
        left, top, right, bottom = block.room or (0.0, 0.0, layout.width, layout.height)
        if x0 < left - 0.01 or x1 > right + 0.01 or y0 < top - 0.01 or y1 > bottom + 0.01:
            problems.append(f"{block.kind} {block.lines[0]!r} runs out of its room")
    for i, (first, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        for second, (bx0, by0, bx1, by1) in boxes[i + 1 :]:
            if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
                problems.append(f"{first.kind} {first.lines[0]!r} overlaps {second.kind} {second.lines[0]!r}")
    return problems
