"""Notebook hygiene: committed without outputs, a tagged parameters cell, the project kernel, thin code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: A thin recipe notebook (``nb.run(...)``) also takes the build's settings; the older form does not.
RECIPE_PARAMETERS = {"edition", "overrides", "output_dir", "settings"}
LEGACY_PARAMETERS = {"edition", "overrides", "output_dir"}  # TRANSITION: until every figure is a recipe
MAX_CODE_LINES = 120


def problems(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    if notebook.get("metadata", {}).get("kernelspec", {}).get("name") != "nao-analysis":
        found.append("kernelspec name is not 'nao-analysis'")
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(code_cells):
        if cell.get("outputs") or cell.get("execution_count"):
            found.append(f"code cell {index} has outputs or an execution count: clear outputs before committing")
    source = "".join("".join(c["source"]) for c in code_cells)
    recipe = "nb.run(" in source
    expected = RECIPE_PARAMETERS if recipe else LEGACY_PARAMETERS
    tagged = [c for c in code_cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        found.append(f"needs exactly one cell tagged 'parameters' (found {len(tagged)})")
    else:
        names = {line.split("=")[0].strip() for line in "".join(tagged[0]["source"]).splitlines() if "=" in line}
        if names != expected:
            found.append(f"parameters cell defines {sorted(names)}, expected {sorted(expected)}")
    if recipe:
        if source.count("nb.run(") != 1:
            found.append("calls nb.run(...) more than once: one call to the recipe per notebook")
    else:
        if "start_figure(" not in source:
            found.append("does not call the recipe (nb.run(...)) or start_figure(...)")
        if "fig.finish()" not in source:
            found.append("does not call fig.finish()")
    lines = sum(len("".join(c["source"]).splitlines()) for c in code_cells)
    if lines > MAX_CODE_LINES:
        found.append(f"{lines} lines of code: move logic into nao_analysis (limit {MAX_CODE_LINES})")
    return found


def main(folder: str) -> int:
    failures = 0
    for path in sorted(Path(folder).glob("*.ipynb")):
        for problem in problems(path):
            failures += 1
            print(f"{path}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "notebooks"))
