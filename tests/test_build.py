"""End to end: the build runs real notebooks on the mirror's real files (marked slow)."""

from __future__ import annotations

import csv
import json

import pytest

from nao_analysis.build import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def output_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAO_OUTPUT_ROOT", str(root))
        yield root


@pytest.fixture(scope="module")
def offline_build(output_root, raw_file):
    return build("offline", only=["fig02", "fig04"], jobs=2, log=lambda *_: None)


def _reconciliation(root, edition):
    with open(root / "reports" / edition / "reconciliation.csv", newline="") as handle:
        return list(csv.DictReader(handle))


class TestOfflineBuild:
    def test_both_figures_build(self, offline_build):
        assert {r.figure: r.status for r in offline_build.results if r.figure in ("fig02", "fig04")} == {"fig02": "built", "fig04": "built"}

    def test_reconciliation_rows_pass(self, offline_build, output_root):
        rows = [r for r in _reconciliation(output_root, "offline") if r["figure"] in ("fig02", "fig04")]
        assert {r["check"] for r in rows} >= {
            "deaths_2021",
            "deaths_change_2011_2021_pct",
            "adults_in_treatment_2021_22",
            "opiate_share_2021_22",
        }
        assert all(r["status"] == "pass" for r in rows), rows

    def test_outputs_are_written(self, offline_build, output_root):
        figures = output_root / "figures" / "offline"
        for suffix in (".png", ".svg", ".csv"):
            assert (figures / f"fig04_adults_in_drug_treatment{suffix}").stat().st_size > 0
        reports = output_root / "reports" / "offline"
        assert (reports / "fig04_adults_in_drug_treatment.html").exists()
        assert (reports / "index.html").exists()

    def test_tidy_csv_has_units(self, offline_build, output_root):
        with open(output_root / "figures" / "offline" / "fig02_drug_misuse_deaths.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows[-1]["year"] == "2021" and rows[-1]["deaths"] == "2846" and rows[-1]["unit"] == "deaths registered"

    def test_manifest_records_inputs_and_versions(self, offline_build, output_root):
        manifest = json.loads((output_root / "reports" / "offline" / "manifest.json").read_text())
        assert manifest["inputs"]["ndtms_viewit_adults_england_2009_2022"]["sha256"].startswith("2fdaa850")
        assert manifest["package_versions"]["pandas"]
        assert manifest["git_commit"]

    def test_third_party_extract_is_stamped_on_the_figure(self, offline_build, output_root):
        record = json.loads((output_root / "reports" / "offline" / "fig02_drug_misuse_deaths.json").read_text())
        assert "third party" in record["banner"]

    def test_html_hides_code(self, offline_build, output_root):
        page = (output_root / "reports" / "offline" / "fig02_drug_misuse_deaths.html").read_text()
        assert "start_figure" not in page
        assert "Deaths in England attributed to drug misuse" in page

    def test_rebuild_with_nothing_changed_is_a_no_op(self, offline_build):
        again = build("offline", only=["fig02", "fig04"], log=lambda *_: None)
        assert {r.figure: r.status for r in again.results if r.figure in ("fig02", "fig04")} == {
            "fig02": "up to date",
            "fig04": "up to date",
        }


class TestPartialFailure:
    def test_failed_figure_reports_one_line_and_others_build(self, output_root, raw_file):
        result = build("offline", only=["fig02", "fig04"], overrides=["fig04.end_year=2023-24"], log=lambda *_: None)
        status = {r.figure: r for r in result.results}
        assert status["fig04"].status == "failed"
        assert "no rows for ['2022-23', '2023-24']" in status["fig04"].message
        assert "\n" not in status["fig04"].message
        assert status["fig02"].status in ("built", "up to date")
        assert not (output_root / "figures" / "offline" / "fig04_adults_in_drug_treatment.png").exists()
        assert result.exit_code(strict=False) == 1

    def test_unavailable_source_is_skipped_and_its_rows_stay_visible(self, output_root, raw_file):
        result = build("nao-2023", only=["fig02", "fig04"], log=lambda *_: None)
        status = {r.figure: r.status for r in result.results}
        assert status["fig02"] == "skipped" and status["fig04"] == "built"
        rows = [r for r in _reconciliation(output_root, "nao-2023") if r["figure"] == "fig02"]
        assert rows and all(r["status"] == "source unavailable" for r in rows)
        assert result.exit_code(strict=False) == 0 and result.exit_code(strict=True) == 1
