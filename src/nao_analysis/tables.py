"""Render a small table (a report figure that is a table) as accessible HTML and as an image.

Two entry points, shared by every table-shaped figure (Figures 7-10, Appendix Two):

- :func:`table_html` - an HTML ``<table>`` with a ``<caption>``, ``scope`` on every header
  cell, the first column as row headers, and optional notes and source in a ``<tfoot>``.
- :func:`render_table_image` - a matplotlib figure laid out like an NAO table: title, subtitle,
  a shaded header row, wrapped cell text, a bold total row, then notes and source underneath.
  It stays a matplotlib figure (the site and the regression baselines need its PNG, and the runtime
  stamps edition banners on figures), but with as few text artists as the look allows: one per cell,
  since each cell is anchored to its own row, and one per block of title, subtitle and notes. Its canvas
  is sized exactly, so :func:`nao_analysis.charts.save_png_and_svg` saves it without a tight-box pass.
  The accessible version of the same table is the HTML from :func:`table_html`.

Both take the table as a ``DataFrame`` whose columns are the printed column headings, in order.
Numbers are printed as the report prints them (no trailing zeros) and missing values as ``-``.
"""

from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Callable, Sequence
from numbers import Number

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from nao_analysis.charts import mark_exact_size

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


def _default_widths(df: pd.DataFrame, formatter: Callable[[object], str]) -> list[float]:
    """Relative column widths from the longest word and typical text length of each column."""
    widths = []
    for column in df.columns:
        texts = [str(column)] + [formatter(v) for v in df[column].tolist()]
        longest_word = max((len(w) for t in texts for w in t.split()), default=1)
        typical = sorted(len(t) for t in texts)[len(texts) // 2]
        widths.append(max(longest_word, min(typical, 60), 4))
    return widths


def render_table_image(
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
) -> Figure:
    """Draw the table as a figure laid out like the report's tables.

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
        Size of the figure and its text.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; the caller saves it.
    """
    widths = list(column_widths) if column_widths is not None else _default_widths(df, formatter)
    if len(widths) != len(df.columns):
        raise ValueError(f"column_widths has {len(widths)} values for {len(df.columns)} columns")
    if numeric_columns is None:
        numeric_columns = [c for c in df.columns if df[c].dropna().map(lambda v: isinstance(v, Number)).all() and df[c].notna().any()]
    fractions = [w / sum(widths) for w in widths]
    # Characters that fit in a column: ~ 0.58 em per character leaves room for bold and wide glyphs.
    char_width_in = font_size * 0.58 / 72
    chars = [max(4, int(f * width_inches * 0.96 / char_width_in)) for f in fractions]

    def wrap(text: str, n: int) -> list[str]:
        # A long "Department/Body" word may break after its slash, as the report's own cells do.
        words = [w.replace("/", "/ ") if len(w) > n else w for w in text.split(" ")]
        return textwrap.wrap(" ".join(words), n, break_long_words=False) or [""]

    # Bold header text is wider than body text.
    header = [wrap(str(c), max(4, int(n * 0.85))) for c, n in zip(df.columns, chars, strict=True)]
    shown = df.copy()
    for column in merge_repeats:
        repeated = shown[column].eq(shown[column].shift())
        shown[column] = shown[column].astype(object).where(~repeated, "")
    body = [[wrap(formatter(v), n) for v, n in zip(row, chars, strict=True)] for row in shown.itertuples(index=False)]
    line_in = font_size * 1.3 / 72
    pad_in = line_in * 0.45
    header_h = max(len(c) for c in header) * line_in + 2 * pad_in
    row_hs = [max(len(c) for c in cells) * line_in + 2 * pad_in for cells in body]

    note_chars = int(width_inches * 0.96 / (char_width_in * 0.9))
    wrapped_notes = [wrap(f"{i} {n}", note_chars) for i, n in enumerate(notes, start=1)]
    wrapped_source = wrap(f"Source: {source}", note_chars) if source else []
    title_lines = wrap(title, int(width_inches * 0.96 / (char_width_in * 1.5)))
    subtitle_lines = wrap(subtitle, int(width_inches * 0.96 / (char_width_in * 1.2))) if subtitle else []
    top_in = len(title_lines) * line_in * 1.6 + len(subtitle_lines) * line_in * 1.3 + pad_in * 2
    notes_lines = sum(len(n) for n in wrapped_notes) + (1 if notes else 0) + len(wrapped_source)
    bottom_in = notes_lines * line_in + pad_in * 3
    height_in = top_in + header_h + sum(row_hs) + bottom_in

    fig = plt.figure(figsize=(width_inches, height_in))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_inches)
    ax.set_ylim(height_in, 0)  # y grows downwards, like reading the page
    ax.axis("off")

    left = width_inches * 0.02
    usable = width_inches * 0.96
    xs = [left + usable * sum(fractions[:i]) for i in range(len(fractions) + 1)]
    y = pad_in
    # One text artist per block of lines (title, subtitle, notes): nothing else is aligned to their lines.
    ax.text(left, y, "\n".join(title_lines), fontsize=font_size * 1.5, fontweight="bold", va="top", linespacing=1.6 * 1.3 / 1.5)
    y += len(title_lines) * line_in * 1.6
    if subtitle_lines:
        ax.text(left, y, "\n".join(subtitle_lines), fontsize=font_size * 1.2, color="#404040", va="top", linespacing=1.3 * 1.3 / 1.2)
        y += len(subtitle_lines) * line_in * 1.3
    y += pad_in

    def draw_row(cells: list[list[str]], top: float, height: float, *, is_header: bool, is_total: bool) -> None:
        if is_header or is_total:
            ax.add_patch(plt.Rectangle((left, top), usable, height, color=HEADER_FILL if is_header else TOTAL_FILL, lw=0))
        for i, lines in enumerate(cells):
            column = df.columns[i]
            right_align = column in numeric_columns
            x = xs[i + 1] - usable * 0.005 if right_align else xs[i] + usable * 0.005
            ax.text(
                x,
                top + pad_in,
                "\n".join(lines),
                fontsize=font_size,
                va="top",
                ha="right" if right_align else "left",
                fontweight="bold" if (is_header or is_total) else "normal",
                color=HEADER_TEXT if is_header else "black",
                linespacing=1.3,
            )
        ax.plot([left, left + usable], [top + height, top + height], color=RULE_COLOUR, lw=0.5)

    draw_row(header, y, header_h, is_header=True, is_total=False)
    y += header_h
    for cells, height, (_, row) in zip(body, row_hs, df.iterrows(), strict=True):
        draw_row(cells, y, height, is_header=False, is_total=_is_total_row(row, total_labels))
        y += height
    y += pad_in
    if notes:
        ax.text(left, y, "Notes", fontsize=font_size, fontweight="bold", va="top")
        y += line_in
        # Notes and source share one artist; the line pitch matches line_in (1.3 x the body size).
        block = [line for lines in wrapped_notes for line in lines] + wrapped_source
        ax.text(left, y, "\n".join(block), fontsize=font_size * 0.9, va="top", linespacing=1.3 / 0.9)
    elif wrapped_source:
        ax.text(left, y, "\n".join(wrapped_source), fontsize=font_size * 0.9, va="top", linespacing=1.3 / 0.9)
    # The canvas is sized to the table exactly: no tight-bounding-box pass is needed to save it.
    mark_exact_size(fig)
    return fig
