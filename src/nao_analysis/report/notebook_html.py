"""A code-hidden HTML rendering of an executed figure notebook, for reviewers."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from nao_analysis.report.page import render_page


def notebook_to_html(executed: Path, record: dict[str, Any]) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(str(executed), as_version=4)
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(notebook)
    footer = run_footer(record)
    return render_page(
        title=record["title"],
        edition=record["edition"],
        body_html=f'<div class="notebook">{body}</div>',
        banner=record.get("banner", "").replace("\n", " "),
        footer_html=footer,
    )


def run_footer(record: dict[str, Any]) -> str:
    """Parameters and input hashes of this figure's run (the full manifest is in manifest.json)."""
    params = html.escape(json.dumps(record.get("params", {}), sort_keys=True))
    inputs = "; ".join(f"{html.escape(k)} sha256 {html.escape(v.get('sha256', '')[:16])}..." for k, v in record.get("inputs", {}).items())
    return (
        f"<p><strong>Run</strong>: figure {html.escape(record['figure'])}, edition {html.escape(record['edition'])}, "
        f"{record.get('seconds', '?')} s. Parameters: <code>{params}</code></p><p>Inputs: {inputs}. "
        f'See <a href="manifest.json">manifest.json</a> for the git commit and package versions.</p>'
    )
