"""Notebook hygiene: committed without outputs, a tagged parameters cell, the project kernel, thin code, and each
`.ipynb` in step with its jupytext percent script (the reviewable twin)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXPECTED_PARAMETERS = {"edition", "overrides", "output_dir", "settings"}
#: A thin notebook: parameters, one call to the recipe, then display. Logic lives in nao_analysis.figures.
MAX_CODE_LINES = 40


def problems(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    if notebook.get("metadata", {}).get("kernelspec", {}).get("name") != "nao-analysis":
        found.append("kernelspec name is not 'nao-analysis'")
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(code_cells):
        if cell.get("outputs") or cell.get("execution_count"):
            found.append(f"code cell {index} has outputs or an execution count: clear outputs before committing")
    tagged = [c for c in code_cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        found.append(f"needs exactly one cell tagged 'parameters' (found {len(tagged)})")
    else:
        names = {line.split("=")[0].strip() for line in "".join(tagged[0]["source"]).splitlines() if "=" in line}
        if names != EXPECTED_PARAMETERS:
            found.append(f"parameters cell defines {sorted(names)}, expected {sorted(EXPECTED_PARAMETERS)}")
    source = "".join("".join(c["source"]) for c in code_cells)
    if source.count("nb.run(") != 1:
        found.append("must call its recipe exactly once: result = nb.run(...)")
    found += _pairing_problems(path, notebook)
    lines = sum(len("".join(c["source"]).splitlines()) for c in code_cells)
    if lines > MAX_CODE_LINES:
        found.append(f"{lines} lines of code: move logic into nao_analysis (limit {MAX_CODE_LINES})")
    return found


def _pairing_problems(path: Path, notebook: dict) -> list[str]:
    """The percent script and the notebook must hold the same cells (papermill runs the .ipynb; people review the .py)."""
    import jupytext

    script = path.with_suffix(".py")
    if not script.exists():
        return [f"no paired percent script {script.name}: run `jupytext --set-formats ipynb,py:percent {path.name}`"]
    paired = jupytext.read(script)

    def cells(nb) -> list[tuple[str, str]]:
        return [(c["cell_type"], "".join(c["source"]).strip()) for c in nb["cells"]]

    if cells(paired) != cells(notebook):
        return [f"out of step with {script.name}: run `jupytext --sync {script.name}` (or --to ipynb) and commit both"]
    return []


def main(folder: str) -> int:
    failures = 0
    for path in sorted(Path(folder).glob("*.ipynb")):
        for problem in problems(path):
            failures += 1
            print(f"{path}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "notebooks"))
