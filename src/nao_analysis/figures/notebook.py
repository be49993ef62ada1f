"""What a thin figure notebook calls: one run, then the chart, formatted tables and prose from the result.

A notebook run by hand behaves like the build: the same parameters, the same one-line message when a
source is unavailable or an input is wrong, and outputs in ``scratch/<edition>/`` rather than the built
``figures/<edition>/``.
"""

from __future__ import annotations

import math
from typing import Any

from nao_analysis.errors import NaoError, SourceUnavailableError
from nao_analysis.figures.recipe import FigureResult


def _one_line_errors() -> None:
    """Show a NaoError as the build does - one line - instead of a traceback, when inside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        status = "skipped" if issubclass(etype, SourceUnavailableError) else "failed"
        line = f"{status}: {value}"
        # The kernel's error message keeps the exception's name (papermill and the build read it to tell
        # skipped from failed); only the traceback shown is cut to the one line.
        if hasattr(shell, "_showtraceback"):
            shell._showtraceback(etype, value, [line])
        else:
            print(line)
        return [line]

    shell.set_custom_exc((NaoError,), handler)


def run(figure_id: str, **options: Any) -> FigureResult:
    """Run the figure's recipe (see :func:`nao_analysis.figures.runtime.run`)."""
    from nao_analysis.figures.runtime import run as run_figure

    _one_line_errors()
    return run_figure(figure_id, **options)


def heading(result: FigureResult):
    from IPython.display import Markdown

    lines = [f"## {result.title}"]
    if result.subtitle:
        lines.append(f"*{result.subtitle}*")
    return Markdown("\n\n".join(lines))


def charts(result: FigureResult) -> None:
    """Show every chart of the run inline: a chart's PNG, or a table image's SVG exactly as written.

    A table image is offered as HTML (the SVG element itself, so its text stays text and its aria-label
    names it; Jupyter and the site's notebook pages prefer this) and as ``image/svg+xml`` for other viewers.
    """
    from IPython.display import Image, display

    from nao_analysis.tables import svg_element

    for chart in result.charts:
        if chart.svg is not None:
            display({"text/html": svg_element(chart.svg), "image/svg+xml": chart.svg}, raw=True)
        elif chart.png is not None:
            display(Image(data=chart.png, format="png", alt=chart.alt))


def notes(result: FigureResult):
    from IPython.display import Markdown

    body = "\n".join(f"{i}. {note}" for i, note in enumerate(result.notes, 1))
    return Markdown(f"**Notes**\n\n{body}\n\n**Source:** {result.source}")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return "no data"
    except ImportError:
        pass
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


def formatted(frame):
    """A table for reading: thousands separators, "no data" for missing values, no index."""
    return frame.style.hide(axis="index").format(_cell)


def table(result: FigureResult, name: str | None = None):
    """One of the run's key tables, formatted; the first one when ``name`` is None."""
    if not result.tables:
        raise NaoError(f"{result.figure_id}: this figure has no tables to show")
    key = name if name is not None else next(iter(result.tables))
    if key not in result.tables:
        raise NaoError(f"{result.figure_id}: no table {key!r} - tables: {', '.join(result.tables)}")
    return formatted(result.tables[key])


def reconciliation(result: FigureResult):
    import pandas as pd

    rows = pd.DataFrame(result.reconciliation)
    if rows.empty:
        return None
    columns = ["description", "published", "rebuilt", "unit", "status", "note"]
    return formatted(rows[[c for c in columns if c in rows]])


def markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)
