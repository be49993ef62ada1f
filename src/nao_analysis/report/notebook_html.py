"""A code-hidden HTML rendering of an executed figure notebook, for reviewers."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from nao_analysis.report.page import render_page


def notebook_to_html(executed: Path, record: dict[str, Any]) -> str:
    """The executed notebook as a house page with its code hidden (outputs, markdown and charts only).

    Parameters
    ----------
    executed : pathlib.Path
        The notebook papermill executed.
    record : dict
        The figure's record, for the title, edition, banner and run footer.

    Returns
    -------
    str
        A complete HTML page.
    """
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(notebook)
    footer = run_footer(record)
    label = record["figure"].replace("fig", "Figure ").replace("app", "Appendix ")
    back = f'<p><a href="index.html#{html.escape(record["figure"])}">Back to {html.escape(label)} on the index</a></p>'
    return render_page(
        title=record["title"],
        edition=record["edition"],
        body_html=f'{back}<div class="notebook">{body}</div>',
        banner=figure_banner(record),
        footer_html=footer,
    )


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
    """Parameters and input hashes of this figure's run (the full manifest is in manifest.json)."""
    params = html.escape(json.dumps(record.get("params", {}), sort_keys=True))
    inputs = "; ".join(f"{html.escape(k)} sha256 {html.escape(v.get('sha256', '')[:16])}..." for k, v in record.get("inputs", {}).items())
    return (
        f"<p><strong>Run</strong>: figure {html.escape(record['figure'])}, edition {html.escape(record['edition'])}, "
        f"{record.get('seconds', '?')} s. Parameters: <code>{params}</code></p><p>Inputs: {inputs}. "
        f'See <a href="manifest.json">manifest.json</a> for the git commit and package versions.</p>'
    )
