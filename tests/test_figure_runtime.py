"""The notebook runtime: reconciliation statuses, published checks, atomic outputs, banners."""

from __future__ import annotations

import pytest

from nao_analysis.errors import NaoError
from nao_analysis.figure import (
    STATUS_DIFFERS,
    STATUS_FAIL,
    STATUS_PASS,
    STATUS_UNAVAILABLE,
    published_checks,
    reconciliation_status,
)


class TestReconciliationStatus:
    def test_within_tolerance_passes(self):
        assert reconciliation_status(205000, 204518, 500, None) == STATUS_PASS

    def test_outside_tolerance_with_explanation_differs(self):
        assert reconciliation_status(-40, -42.3, 0.5, "budget rather than outturn") == STATUS_DIFFERS

    def test_outside_tolerance_without_explanation_fails(self):
        assert reconciliation_status(-40, -42.3, 0.5, None) == STATUS_FAIL

    def test_missing_rebuilt_value_is_unavailable(self):
        assert reconciliation_status(98, None, 0, "offline") == STATUS_UNAVAILABLE

    def test_nan_rebuilt_value_is_unavailable(self):
        assert reconciliation_status(98, float("nan"), 0, None) == STATUS_UNAVAILABLE


class TestPublishedChecks:
    def test_every_published_file_has_cited_checks_with_tolerances(self):
        from nao_analysis import paths

        files = sorted((paths.manual_dir() / "published").glob("*.yaml"))
        assert files
        for path in files:
            checks = published_checks(path.stem)
            assert checks, path
            for check, spec in checks.items():
                assert spec.get("citation"), f"{path.name}:{check} has no citation"
                assert "tolerance" in spec, f"{path.name}:{check} has no tolerance"


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
