"""Write a clean (output-free) figure notebook from a list of cells.

Usage from Python: ``write_notebook(path, [("md", "..."), ("params", "..."), ("code", "...")])``.
Kept as a tool so notebooks stay consistent: parameters cell tagged, project kernel, no outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

KERNEL = {"name": "nao-analysis", "display_name": "nao-analysis (Python 3.11)", "language": "python"}


def write_notebook(path: str | Path, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        source = source.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:02d}"
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
