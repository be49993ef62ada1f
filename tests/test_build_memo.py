"""A rebuild with nothing changed answers from the memo of the last build, and anything it depends on
changing makes the build plan in full again (issue 17: no-op rebuild)."""

from __future__ import annotations

import json
import os

import pytest
from tiny_project import make_project, tiny_notebook

from nao_analysis import build_memo
from nao_analysis.build import build
from nao_analysis.cli import main
from nao_analysis.settings import Settings

QUIET = {"log": lambda *_: None, "jobs": 2}
FIGURES = ["fig02", "fig06"]
EDITION = "tiny"
EDITION_FILE = """name: tiny
title: Two tiny figures
figures:
  fig02: {source: ons_drug_deaths_2022reg, start_year: 2011, end_year: 2021, revision_check_source: ons_drug_deaths_2016reg}
  fig06: {stakeholders_file: fig06_stakeholders.yaml}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, raw_file):
    """A project with a two-figure edition whose figures are tiny notebooks, built once."""
    tmp_path = tmp_path_factory.mktemp("memo")
    with pytest.MonkeyPatch.context() as monkeypatch:
        make_project(tmp_path, monkeypatch, {figure: tiny_notebook(figure) for figure in FIGURES})
        editions = tmp_path / "editions"
        editions.mkdir()
        (editions / f"{EDITION}.yaml").write_text(EDITION_FILE)
        monkeypatch.setenv("NAO_EDITIONS_DIR", str(editions))
        settings = Settings.from_environment()
        result = build(EDITION, settings, **QUIET)
        assert {r.status for r in result.results} == {"built"}
        yield settings, dict(os.environ)


@pytest.fixture
def settings(built, monkeypatch):
    settings, environment = built
    for name, value in environment.items():
        if name.startswith("NAO_"):
            monkeypatch.setenv(name, value)
    # Each test starts from a memo that matches: a full plan (rebuilding what an earlier test changed) writes one.
    assert {r.status for r in build(EDITION, settings, **QUIET).results} <= {"built", "up to date"}
    assert _recall(settings) is not None
    return settings


def _recall(settings: Settings, **changes):
    settings = settings.with_changes(**changes) if changes else settings
    return build_memo.recall(settings, EDITION, build_memo.request(settings, EDITION, None))


def test_the_cli_answers_a_no_op_rebuild_without_planning(settings, monkeypatch, capsys):
    def no_planning(*args, **kwargs):
        raise AssertionError("the build planned although nothing changed")

    monkeypatch.setattr("nao_analysis.build.build", no_planning)
    assert main(["build", "--edition", EDITION]) == 0
    assert f"edition {EDITION}: {len(FIGURES)} up to date in" in capsys.readouterr().out


def test_an_edited_notebook_makes_the_build_plan_again(settings):
    notebook = next(settings.notebooks_dir.glob("*.ipynb"))
    notebook.write_text(notebook.read_text() + " ")
    assert _recall(settings) is None


def test_a_new_file_in_the_package_makes_the_build_plan_again(settings):
    package_dir = build_memo.PACKAGE_DIR
    stray = package_dir / "figures" / "_memo_test_new_file.txt"
    try:
        stray.write_text("")
        assert _recall(settings) is None
    finally:
        stray.unlink()


def test_a_removed_output_makes_the_build_plan_again(settings):
    stamp = json.loads((settings.reports_dir(EDITION) / "_stamps" / "fig02.json").read_text())
    (settings.output_root / stamp["outputs"][0]).unlink()
    assert _recall(settings) is None


def test_other_settings_make_the_build_plan_again(settings):
    assert _recall(settings) is not None
    assert _recall(settings, offline=not settings.offline) is None


def test_an_input_edited_while_the_build_ran_leaves_no_matching_memo(settings):
    before = build_memo.input_stats(settings, EDITION)
    notebook = next(settings.notebooks_dir.glob("*.ipynb"))
    notebook.write_text(notebook.read_text() + " ")  # edited after the build read its inputs
    build_memo.write(
        settings,
        EDITION,
        started_inputs=before,
        asked=build_memo.request(settings, EDITION, None),
        rows=[[figure, "up to date", 0.0, ""] for figure in FIGURES],
        exit_codes={"default": 0, "strict": 0},
    )
    assert _recall(settings) is None


def test_a_failed_figure_leaves_no_memo(settings):
    notebook = settings.notebooks_dir / next(settings.notebooks_dir.glob("*fig02*.ipynb")).name
    original = notebook.read_text()
    try:
        notebook.write_text(original.replace("value = float(", "raise RuntimeError('broken on purpose')\nvalue = float(", 1))
        result = build(EDITION, settings, **QUIET)
        assert "failed" in {r.status for r in result.results}
        assert not build_memo.memo_path(settings, EDITION).exists()
    finally:
        notebook.write_text(original)
