"""A project with tiny notebooks of its own, for testing the build without the real figure code.

Each tiny notebook stands in for a figure of the real editions (same file name, same parameters cell
as the build fills in) and writes the smallest figure record the build and the site read: its
parameters, one CSV, and any reconciliation rows the test asks for. The editions, the registry and
the manual data are the project's real ones; outputs go to a private folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from nao_analysis.figures import load_specs as load_all
from nao_analysis.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = 'edition = "offline"\noverrides = {}\noutput_dir = ""\nsettings = ""\n'

RECORD = """
import inspect, json, pathlib
import pandas as pd
from nao_analysis.editions import load_edition
from nao_analysis.settings import Settings

FIGURE, STEM = {figure!r}, {stem!r}
given = {{"settings": Settings.from_json(settings)}} if "settings" in inspect.signature(load_edition).parameters else {{}}
params = load_edition(edition, overrides or None, **given).figures[FIGURE].model_dump(mode="json")
value = float(pd.Series([1.0, 2.0, 3.0]).sum())
{body}
out = pathlib.Path(output_dir)
pd.DataFrame({{"value": [value], "unit": ["count"]}}).to_csv(out / f"{{STEM}}.csv", index=False)
record = {{
    "figure": FIGURE, "stem": STEM, "slug": STEM.split("_", 1)[1], "edition": edition, "title": "Tiny " + FIGURE,
    "params": params, "overrides": overrides.get(FIGURE, {{}}), "inputs": {{}}, "outputs": [f"{{STEM}}.csv"],
    "alt_text": {{}}, "notes": [], "value": value, "reconciliation": {rows},
}}
(out / f"{{STEM}}.json").write_text(json.dumps(record))
"""


def tiny_notebook(figure_id: str, body: str = "", rows: list[dict] | None = None, setup: str = "") -> nbformat.NotebookNode:
    """A notebook for ``figure_id`` that runs ``body`` (which may change ``value``) and writes its record;
    ``setup`` is a cell of its own before that."""
    spec = load_all()[figure_id]
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "nao-analysis", "language": "python", "display_name": "nao-analysis"}
    parameters = nbformat.v4.new_code_cell(PARAMETERS)
    parameters.metadata["tags"] = ["parameters"]
    code = RECORD.format(figure=figure_id, stem=spec.stem, body=body, rows=repr(rows or []))
    notebook.cells = [parameters, *([nbformat.v4.new_code_cell(setup)] if setup else []), nbformat.v4.new_code_cell(code)]
    return notebook


def make_project(tmp_path: Path, monkeypatch, notebooks: dict[str, nbformat.NotebookNode], **changes) -> Settings:
    """Settings for a project whose ``notebooks/`` holds only ``notebooks`` (figure id -> notebook).

    The environment is pointed at the same places, so code that still reads it agrees with the settings."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "manual").symlink_to(ROOT / "data" / "manual")
    specs = load_all()
    for figure_id, notebook in notebooks.items():
        nbformat.write(notebook, root / "notebooks" / specs[figure_id].notebook)
    env = {
        "NAO_PROJECT_ROOT": root,
        "NAO_OUTPUT_ROOT": tmp_path / "out",
        "NAO_RAW_DIR": tmp_path / "raw",
        "NAO_PROCESSED_DIR": tmp_path / "processed",
        "NAO_SOURCES_FILE": changes.pop("sources_file", ROOT / "data" / "sources.yaml"),
        "NAO_EDITIONS_DIR": ROOT / "editions",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return Settings.from_environment().with_changes(**changes)


def record_of(settings: Settings, edition: str, figure_id: str) -> dict:
    return json.loads((settings.reports_dir(edition) / f"{load_all()[figure_id].stem}.json").read_text())


def statuses(result) -> dict[str, str]:
    return {r.figure: r.status for r in result.results}
