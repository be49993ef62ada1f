"""A researcher's hand run of a notebook: it never touches the built edition, takes flat or nested overrides,
and ends offline in the build's one-line message."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import requires_mirror

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _papermill(notebook: str, tmp_path: Path, **parameters):
    import papermill

    return papermill.execute_notebook(
        str(NOTEBOOKS / notebook),
        str(tmp_path / "executed.ipynb"),
        parameters=parameters,
        kernel_name="nao-analysis",
        cwd=str(NOTEBOOKS),
        progress_bar=False,
    )


@requires_mirror
@pytest.mark.slow
def test_a_hand_run_leaves_the_built_figures_byte_identical(tmp_path, monkeypatch):
    built = tmp_path / "figures" / "offline"
    built.mkdir(parents=True)
    (built / "fig02_drug_misuse_deaths.png").write_bytes(b"the built chart")
    (built / "fig02_drug_misuse_deaths.csv").write_text("year,deaths\n")
    before = _tree_digest(built)
    monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))

    _papermill("fig02_drug_misuse_deaths.ipynb", tmp_path, edition="offline")

    assert _tree_digest(built) == before
    assert (tmp_path / "scratch" / "offline" / "fig02_drug_misuse_deaths.png").is_file()


@requires_mirror
@pytest.mark.slow
def test_an_offline_hand_run_ends_in_the_builds_one_line_message(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
    monkeypatch.setenv("NAO_OFFLINE", "1")
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        # The published edition's RO3 2014-15 outturn file is not in the mirror.
        _papermill("fig03_spending_change_map.ipynb", tmp_path, edition="nao-2023")
    assert raised.value.ename == "SourceUnavailableError"
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1
    assert len(errors[0]["traceback"]) == 1
    assert errors[0]["traceback"][0].startswith("skipped: ") and "ro3_outturn_2014_15" in errors[0]["traceback"][0]


@requires_mirror
@pytest.mark.slow
def test_a_hand_run_of_a_table_figure_shows_its_svg_with_the_override_banner(tmp_path, monkeypatch):
    monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))

    _papermill("fig07_funding_disrupting_supply.ipynb", tmp_path, edition="offline", overrides={"fig07.sum_tolerance_m": 1.0})

    scratch = tmp_path / "scratch" / "offline"
    assert (scratch / "fig07_funding_disrupting_supply.svg").is_file() and not list(scratch.glob("*.png"))
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    shown = [
        "".join(o["data"]["text/html"]) for c in executed["cells"] for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})
    ]
    assert len(shown) == 1 and 'role="img"' in shown[0] and "fig07.sum_tolerance_m=1.0" in shown[0]


@requires_mirror
class TestOverrides:
    def test_flat_and_nested_overrides_give_the_same_run(self, settings):
        from nao_analysis.figures.runtime import execute, prepare

        flat = execute(prepare("fig02", settings=settings, edition="offline", overrides={"fig02.start_year": 2013}))
        nested = execute(prepare("fig02", settings=settings, edition="offline", overrides={"fig02": {"start_year": 2013}}))
        assert flat.title == nested.title
        assert "2013 to 2021" in flat.title

    def test_a_malformed_override_key_is_one_line(self, settings):
        from nao_analysis.errors import EditionError
        from nao_analysis.figures.runtime import prepare

        with pytest.raises(EditionError, match="expected 'FIGURE.PARAMETER'") as raised:
            prepare("fig02", settings=settings, edition="offline", overrides={"start_year": 2013})
        assert "\n" not in str(raised.value)

    def test_an_unknown_parameter_is_named(self, settings):
        from nao_analysis.errors import EditionError
        from nao_analysis.figures.runtime import prepare

        with pytest.raises(EditionError, match="fig02.first_year: unknown parameter"):
            prepare("fig02", settings=settings, edition="offline", overrides={"fig02.first_year": 2013})
