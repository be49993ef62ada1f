"""The notebook runtime: reconciliation statuses, published checks, atomic outputs, banners."""

from __future__ import annotations

import json

import pytest

from nao_analysis.errors import NaoError
from nao_analysis.figure import (
    STATUS_DIFFERS,
    STATUS_FAIL,
    STATUS_PASS,
    STATUS_UNAVAILABLE,
    published_checks,
    reconciliation_status,
    start_figure,
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


class TestFigureHandle:
    @pytest.fixture
    def fig(self, tmp_path):
        return start_figure("fig04", edition="offline", output_dir=tmp_path)

    def test_parameters_come_from_the_edition(self, fig):
        assert fig.params.start_year == "2010-11"

    def test_run_file_overrides_are_applied(self, tmp_path):
        (tmp_path / "run.json").write_text(json.dumps({"overrides": {"fig04": {"start_year": "2011-12"}}}))
        assert start_figure("fig04", edition="offline", output_dir=tmp_path).params.start_year == "2011-12"

    def test_unknown_check_is_an_error(self, fig):
        with pytest.raises(NaoError, match="no published check 'nonsense'"):
            fig.reconcile("nonsense", 1)

    def test_finish_without_declare_is_an_error(self, fig):
        with pytest.raises(NaoError, match="fig.declare"):
            fig.finish()

    def test_finish_adds_rows_for_checks_not_rebuilt(self, fig, tmp_path):
        fig.declare(title="t", source="s")
        fig.reconcile("adults_change_pct", -7.4)
        record = json.loads(fig.finish().read_text())
        statuses = {r["check"]: r["status"] for r in record["reconciliation"]}
        assert statuses["adults_change_pct"] == STATUS_PASS
        assert statuses["opiate_share_2021_22"] == STATUS_UNAVAILABLE

    def test_save_data_leaves_no_temporary_files(self, fig, tmp_path):
        import pandas as pd

        fig.save_data(pd.DataFrame({"a": [1], "unit": ["x"]}))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["fig04_adults_in_drug_treatment.csv"]

    def test_figure_not_in_edition_is_an_error(self, tmp_path, monkeypatch):
        (tmp_path / "tiny.yaml").write_text("name: tiny\ntitle: t\nfigures:\n  fig02: {source: x, start_year: 2011, end_year: 2012}\n")
        monkeypatch.setenv("NAO_EDITIONS_DIR", str(tmp_path))
        with pytest.raises(NaoError, match="'fig04' has no parameters"):
            start_figure("fig04", edition="tiny", output_dir=tmp_path)
