"""The notebook runtime: reconciliation statuses, published checks, atomic outputs, banners."""

from __future__ import annotations

from pathlib import Path

import pytest

from nao_analysis.errors import NaoError
from nao_analysis.figures import RECIPE_MODULES, recipe
from nao_analysis.figures.recipe import (
    STATUS_DIFFERS,
    STATUS_FAIL,
    STATUS_NOT_APPLICABLE,
    STATUS_NOT_COMPARABLE,
    STATUS_PASS,
    STATUS_UNAVAILABLE,
    PublishedCheck,
    PublishedRun,
    Reconciliation,
)

MANUAL = Path(__file__).resolve().parents[1] / "data" / "manual"

PUBLISHED = PublishedRun(
    "figX",
    {"start_year": "2010-11", "end_year": "2021-22", "source": "export_2022"},
    ("source",),
    {
        "adults": PublishedCheck("adults", 205000, 500, "adults", "Adults in treatment", "para 1.6", "rounded", ("end_year",), "revisions"),
    },
)
PUBLISHED_PARAMS = {"start_year": "2010-11", "end_year": "2021-22", "source": "export_2022"}


def _status(rebuilt, params=PUBLISHED_PARAMS, **options) -> dict:
    return Reconciliation(PUBLISHED, params, {"export_2022": "the 2022 export", "export_2024": "the 2024 export"}).check(
        "adults", rebuilt, **options
    )


class TestReconciliationStatus:
    def test_within_tolerance_passes(self):
        assert _status(204518)["status"] == STATUS_PASS

    def test_outside_tolerance_with_an_explanation_differs(self):
        assert _status(190000, explanation="a partial export")["status"] == STATUS_DIFFERS

    def test_outside_tolerance_without_an_explanation_fails(self):
        assert _status(190000)["status"] == STATUS_FAIL

    def test_missing_rebuilt_value_is_unavailable(self):
        assert _status(None)["status"] == STATUS_UNAVAILABLE

    def test_nan_rebuilt_value_is_unavailable(self):
        assert _status(float("nan"))["status"] == STATUS_UNAVAILABLE

    def test_a_parameter_the_check_depends_on_makes_it_not_comparable(self):
        assert _status(204518, params={**PUBLISHED_PARAMS, "end_year": "2022-23"})["status"] == STATUS_NOT_COMPARABLE

    def test_a_parameter_the_check_does_not_depend_on_leaves_it_comparable(self):
        assert _status(204518, params={**PUBLISHED_PARAMS, "start_year": "2014-15"})["status"] == STATUS_PASS

    def test_another_input_is_named_in_the_explanation(self):
        row = _status(190000, params={**PUBLISHED_PARAMS, "source": "export_2024"})
        assert row["status"] == STATUS_DIFFERS
        assert "inputs differ (the 2024 export in place of the 2022 export): revisions" in row["note"]

    def test_years_outside_the_run_are_not_applicable(self):
        assert _status(None, not_applicable="2021-22 is outside this run")["status"] == STATUS_NOT_APPLICABLE

    def test_an_infinite_number_is_refused(self):
        with pytest.raises(NaoError, match="non-finite"):
            _status(float("inf"))

    def test_every_published_number_gets_a_row(self):
        recon = Reconciliation(PUBLISHED, PUBLISHED_PARAMS)
        assert [r["check"] for r in recon.finish()] == ["adults"]


class TestPublishedChecks:
    def test_every_published_file_has_cited_checks_with_tolerances(self):
        files = sorted((MANUAL / "published").glob("*.yaml"))
        assert files
        for path in files:
            published = PublishedRun.load(path.stem, MANUAL)
            assert published.checks, path
            for check, spec in published.checks.items():
                assert spec.citation, f"{path.name}:{check} has no citation"

    @pytest.mark.parametrize("figure_id", RECIPE_MODULES)
    def test_published_run_names_only_real_parameters(self, figure_id):
        published = PublishedRun.load(figure_id, MANUAL)
        fields = set(recipe(figure_id).Params.model_fields)
        assert set(published.parameters) <= fields
        assert {name for c in published.checks.values() for name in c.depends_on} <= fields


class TestFigure4Recipe:
    """The recipe runtime, on Figure 4 (the old notebook handle, ``start_figure``, served this figure before)."""

    @pytest.fixture
    def ctx(self, settings):
        from nao_analysis.figures.runtime import prepare

        return prepare("fig04", settings=settings, edition="offline")

    def test_parameters_come_from_the_edition(self, ctx):
        assert ctx.params.start_year == "2010-11"

    def test_overrides_are_applied(self, settings):
        from nao_analysis.figures.runtime import prepare

        assert (
            prepare("fig04", settings=settings, edition="offline", overrides={"fig04.start_year": "2011-12"}).params.start_year == "2011-12"
        )

    def test_unknown_check_is_an_error(self, ctx):
        from nao_analysis.figures._shared import reconciliation

        with pytest.raises(NaoError, match="no published check 'nonsense'"):
            reconciliation(ctx).check("nonsense", 1)

    def test_finish_adds_rows_for_checks_not_rebuilt(self, ctx):
        from nao_analysis.figures._shared import reconciliation

        recon = reconciliation(ctx)
        recon.check("adults_change_pct", -7.4)
        statuses = {r["check"]: r["status"] for r in recon.finish()}
        assert statuses["adults_change_pct"] == STATUS_PASS
        assert statuses["opiate_share_2021_22"] == STATUS_UNAVAILABLE

    def test_figure_not_in_edition_is_an_error(self, tmp_path, monkeypatch):
        from nao_analysis.figures.runtime import prepare
        from nao_analysis.settings import Settings

        (tmp_path / "tiny.yaml").write_text("name: tiny\ntitle: t\nfigures:\n  fig02: {source: x, start_year: 2011, end_year: 2012}\n")
        monkeypatch.setenv("NAO_EDITIONS_DIR", str(tmp_path))
        with pytest.raises(NaoError, match="'fig04' has no parameters"):
            prepare("fig04", settings=Settings.from_environment(), edition="tiny")
