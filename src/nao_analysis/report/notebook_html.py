"""A code-hidden HTML rendering of an executed figure notebook, for reviewers.

The page shows what a reader needs and nothing of the machinery: the notebook's prose, the chart (embedded from
the figure's outputs when the notebook does not display it), tables formatted for reading (no index, thousands
separators, "no data" for blanks) and no filesystem path anywhere (a returned ``PosixPath`` is dropped, other
paths are reduced to the file's name).
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from nao_analysis.report.formatting import format_cell, strip_paths
from nao_analysis.report.page import render_page

#: An output that only shows a path a function returned (``fig.save_chart(...)`` as the cell's last line).
PATH_ONLY = re.compile(r"^\s*(?:(?:Posix|Windows)?Path\(.*\)|'/[^']*'|\"/[^\"]*\")\s*$", re.DOTALL)
#: Where the site keeps a figure's charts, relative to the notebook page.
CHART_FOLDER = "figures/"


def figure_label(figure_id: str) -> str:
    """``"fig03"`` -> ``"Figure 3"``; ``"app2"`` -> ``"Appendix 2"``; anything else unchanged."""
    match = re.fullmatch(r"(fig|app)0*(\d+)([a-z]?)", figure_id)
    if not match:
        return figure_id
    kind = "Figure" if match.group(1) == "fig" else "Appendix"
    return f"{kind} {match.group(2)}{match.group(3)}"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


class _Cell:
    """A ``<th>`` or ``<td>`` and its text, one string per run of text between tags (as an HTML tree has them)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.strings: list[str] = []

    def text(self, separator: str = "") -> str:
        return separator.join(piece for piece in (string.strip() for string in self.strings) if piece)


class _FirstTable(HTMLParser):
    """The rows of the first ``<table>`` in some HTML: each row's section (thead, tbody or None) and cells.

    Python's own HTML parser is enough for tables pandas wrote, and several times cheaper than building a tree."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False
        self.rows: list[tuple[str | None, list[_Cell]]] = []
        self._depth = 0
        self._section: str | None = None
        self._cell: _Cell | None = None
        self._in_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_text = False
        if tag == "table":
            if self.found and self._depth == 0:
                return
            self.found = True
            self._depth += 1
        if self._depth != 1:
            return
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self.rows.append((self._section, []))
        elif tag in ("th", "td") and self.rows:
            self._cell = _Cell(tag)
            self.rows[-1][1].append(self._cell)

    def handle_endtag(self, tag: str) -> None:
        self._in_text = False
        if tag == "table" and self._depth:
            self._depth -= 1
        elif tag in ("thead", "tbody"):
            self._section = None
        elif tag in ("th", "td"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is None or self._depth != 1:
            return
        if self._in_text:
            self._cell.strings[-1] += data
        else:
            self._cell.strings.append(data)
            self._in_text = True


def format_dataframe_html(table_html: str) -> str:
    """A pandas ``DataFrame`` HTML table made readable: the default 0..n index dropped, numbers formatted, blanks as "no data".

    Parameters
    ----------
    table_html : str
        HTML as ``DataFrame._repr_html_`` writes it (possibly with a wrapping ``<div>`` and style).

    Returns
    -------
    str
        One ``<table>`` with ``scope`` on header cells; anything that is not a table is returned unchanged.
    """
    parser = _FirstTable()
    parser.feed(table_html)
    parser.close()
    if not parser.found:
        return table_html
    head_rows = [cells for section, cells in parser.rows if section == "thead"]
    body_rows = [cells for section, cells in parser.rows if section == "tbody"]
    if not any(section == "tbody" for section, _ in parser.rows):
        body_rows = [cells for _, cells in parser.rows]
    index_cells = [next((cell for cell in row if cell.name == "th"), None) for row in body_rows]
    labels = [cell.text() if cell is not None else None for cell in index_cells]
    numbers = [int(label) for label in labels if label is not None and label.isdigit()]
    # pandas' default index (0, 1, 2... with "..." where the display is cut) says nothing to a reader.
    trivial_index = (
        bool(body_rows)
        and all(label is not None and (label.isdigit() or label == "...") for label in labels)
        and numbers == sorted(set(numbers))
    )
    columns: list[str] = []
    header_html = []
    for cells in head_rows:
        if trivial_index and cells:
            cells = cells[1:]
            if all(not c.text() for c in cells):
                continue  # the row pandas adds for an index name
        columns = [c.text(" ") for c in cells]
        # An empty corner cell (under a column index's name) is not a header: a header must say something.
        header_html.append(
            "<tr>" + "".join(f'<th scope="col">{html.escape(strip_paths(t))}</th>' if t else "<td></td>" for t in columns) + "</tr>"
        )
    body_html = []
    for cells in body_rows:
        out = []
        data_cells = cells[1:] if trivial_index and cells and cells[0].name == "th" else cells
        for position, cell in enumerate(data_cells):
            column = columns[position] if position < len(columns) else ""
            text = strip_paths(format_cell(cell.text(" "), column))
            if cell.name == "th":
                out.append(f'<th scope="row">{html.escape(text)}</th>')
            else:
                numeric = bool(re.fullmatch(r"[-+]?[\d,]+(\.\d+)?%?", text))
                css = ' class="num"' if numeric else ""
                out.append(f"<td{css}>{html.escape(text)}</td>")
        body_html.append("<tr>" + "".join(out) + "</tr>")
    return f'<table class="data"><thead>{"".join(header_html)}</thead><tbody>{"".join(body_html)}</tbody></table>'


def _has_image(notebook) -> bool:
    return any(
        any(key.startswith("image/") for key in (output.get("data") or {}))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def chart_outputs(record: dict[str, Any]) -> list[tuple[str, bool]]:
    """The figure's pictures in the record's order, as (file name, is a table image).

    A chart is written as a PNG with an SVG beside it; a table image (a picture of a table) is written
    as an SVG alone, so an SVG output with no PNG of the same name is a table image.
    """
    names = [Path(n).name for n in record.get("outputs", [])]
    pngs = {n[:-4] for n in names if n.endswith(".png")}
    return [(n, n.endswith(".svg")) for n in names if n.endswith(".png") or (n.endswith(".svg") and n[:-4] not in pngs)]


def chart_html(record: dict[str, Any], folder: str = CHART_FOLDER) -> str:
    """The figure's charts (PNG, with its alt text and a link to the SVG) and table images (the SVG, with
    its alt text and a link to it) as HTML, from the record's outputs."""
    parts = []
    for name, is_table in chart_outputs(record):
        alt = (record.get("alt_text") or {}).get(name) or record.get("title", "")
        svg = name if is_table else name[:-4] + ".svg"
        parts.append(
            f'<figure class="chart"><img src="{html.escape(folder + name)}" alt="{html.escape(alt)}">'
            f'<figcaption><a href="{html.escape(folder + svg)}">Vector version (SVG)</a></figcaption></figure>'
        )
    return "".join(parts)


def clean_notebook(notebook, record: dict[str, Any]):
    """A copy of ``notebook`` fit for reviewers: path-only outputs dropped, tables formatted, paths stripped,
    and the chart added after the first markdown cell if the notebook displays none."""
    import nbformat

    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = strip_paths(_text(cell.source))
            continue
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = strip_paths(_text(output.get("text")))
                kept.append(output)
                continue
            data = output.get("data")
            if data is None:
                kept.append(output)
                continue
            plain = _text(data.get("text/plain"))
            if set(data) <= {"text/plain"} and PATH_ONLY.match(plain):
                continue
            if "text/html" in data and "<table" in _text(data["text/html"]):
                data["text/html"] = format_dataframe_html(_text(data["text/html"]))
            elif "text/html" in data:
                data["text/html"] = strip_paths(_text(data["text/html"]))
            if "text/plain" in data:
                data["text/plain"] = strip_paths(plain)
            kept.append(output)
        cell["outputs"] = kept
    charts = chart_html(record)
    if charts and not _has_image(notebook):
        display = nbformat.v4.new_code_cell(source="")
        display.outputs = [nbformat.v4.new_output("display_data", data={"text/html": charts})]
        first_markdown = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"), -1)
        notebook.cells.insert(first_markdown + 1, display)
    return notebook


def notebook_to_html(executed: Path, record: dict[str, Any]) -> str:
    """The executed notebook as a house page with its code hidden (outputs, markdown and charts only).

    Parameters
    ----------
    executed : pathlib.Path
        The notebook papermill executed.
    record : dict
        The figure's record, for the title, edition, banner, charts and run footer.

    Returns
    -------
    str
        A complete HTML page.
    """
    import nbformat

    notebook = clean_notebook(nbformat.read(str(executed), as_version=4), record)
    with _exporter() as exporter:
        body, _ = exporter.from_notebook_node(notebook)
    label = figure_label(record["figure"])
    if record["figure"] == "areas":
        # The area profiles have their own index, not a section of the site's index.
        back = '<p><a href="areas/index.html">Back to the area profiles</a></p>'
    else:
        back = f'<p><a href="index.html#{html.escape(record["figure"])}">Back to {html.escape(label)} on the index</a></p>'
    return render_page(
        title=f"{label}: {record['title']}",
        edition=record["edition"],
        body_html=f'{back}<div class="notebook">{body}</div>',
        banner=figure_banner(record),
        footer_html=run_footer(record),
    )


_IDLE_EXPORTERS: list[Any] = []
_EXPORTERS_LOCK = threading.Lock()


@contextlib.contextmanager
def _exporter() -> Iterator[Any]:
    """A code-hidden HTML exporter, lent for one conversion. Exporters are kept and lent again, since building
    one (its templates) costs about as much as a conversion; never two conversions on one exporter at once,
    since the build converts notebooks in several threads."""
    with _EXPORTERS_LOCK:
        exporter = _IDLE_EXPORTERS.pop() if _IDLE_EXPORTERS else None
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = HTMLExporter(template_name="basic")
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    try:
        yield exporter
    finally:
        with _EXPORTERS_LOCK:
            _IDLE_EXPORTERS.append(exporter)


def warm_up() -> None:
    """Import and load what the first conversion would (nbconvert, its templates, the HTML parser), so the build
    pays for it once, while its kernels start, rather than inside the first figures' runs."""
    import nbformat
    from bs4 import BeautifulSoup  # noqa: F401

    with _exporter() as exporter:
        exporter.from_notebook_node(nbformat.v4.new_notebook())


def figure_banner(record: dict[str, Any]) -> str:
    """The substitute-data banner of a figure's own pages: what this figure substitutes, or that the edition does.

    Parameters
    ----------
    record : dict
        The figure's record (``edition``, ``substitute_data``, ``banner``).

    Returns
    -------
    str
        Plain text (escaped by the page); empty for an edition on the published inputs.
    """
    own = " ".join((record.get("banner") or "").split())
    if own:
        return f"Edition '{record.get('edition', '')}': this figure uses substitute data. {own}"
    if record.get("substitute_data"):
        return f"Edition '{record.get('edition', '')}' is built on substitute data; this figure declares no substitution of its own."
    return ""


def run_footer(record: dict[str, Any]) -> str:
    """Parameters and input hashes of this figure's run (the full manifest is in manifest.json); no paths."""
    params = html.escape(strip_paths(json.dumps(record.get("params", {}), sort_keys=True)))
    inputs = "; ".join(f"{html.escape(k)} sha256 {html.escape(v.get('sha256', '')[:16])}..." for k, v in record.get("inputs", {}).items())
    return (
        f"<p><strong>Run</strong>: figure {html.escape(record['figure'])}, edition {html.escape(record['edition'])}, "
        f"{record.get('seconds', '?')} s. Parameters: <code>{params}</code></p><p>Inputs: {inputs}. "
        f'See <a href="manifest.json">manifest.json</a> for the git commit and package versions.</p>'
    )
