"""The build's papermill engine writes the executed notebook when a run starts and ends, not around every cell."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from nao_analysis.notebook_engine import ENGINE_NAME


def _notebook(path, *sources: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def _execute(source, executed):
    papermill.execute_notebook(str(source), str(executed), kernel_name="nao-analysis", engine_name=ENGINE_NAME, progress_bar=False)


def test_the_notebook_is_written_once_before_and_once_after_the_run(tmp_path, monkeypatch):
    writes = []
    real_write = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: (writes.append(path), real_write(nb, path)))
    _execute(_notebook(tmp_path / "in.ipynb", "print(1)", "print(2)", "print(3)"), tmp_path / "out.ipynb")
    assert len(writes) == 2


def test_the_written_notebook_holds_every_cells_output(tmp_path):
    _execute(_notebook(tmp_path / "in.ipynb", "print('first')", "print('second')"), tmp_path / "out.ipynb")
    cells = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
    assert [c["outputs"][0]["text"] for c in cells] == ["first\n", "second\n"]


def test_a_failed_run_still_leaves_the_outputs_before_the_failure_and_the_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError):
        source = _notebook(tmp_path / "in.ipynb", "print('before')", "raise ValueError('broken input')", "print('never')")
        _execute(source, tmp_path / "out.ipynb")
    cells = [c for c in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells if c.cell_type == "code"]
    assert cells[0]["outputs"][0]["text"] == "before\n"
    assert cells[1]["outputs"][0]["evalue"] == "broken input"
    assert cells[2]["outputs"] == []
