"""The build end to end: real notebooks on the mirror's real files (marked slow), and the build's own
rules (statuses, what triggers a rebuild) with tiny notebooks that do not depend on the figure code."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import yaml
from tiny_project import ROOT, make_project, record_of, statuses, tiny_notebook

from nao_analysis.build import build, summary_table
from nao_analysis.settings import Settings

QUIET = {"log": lambda *_: None, "kernels": "fresh"}

#: What a figure notebook does with the project's own errors: one printed line instead of a traceback.
ONE_LINE_ERRORS = """
from IPython import get_ipython
from nao_analysis.errors import NaoError, SourceUnavailableError

def one_line(shell, etype, value, tb, tb_offset=None):
    print(f"{'skipped' if issubclass(etype, SourceUnavailableError) else 'failed'}: {value}")
    return shell.InteractiveTB.get_exception_only(etype, value)

get_ipython().set_custom_exc((NaoError,), one_line)
"""


@pytest.fixture(scope="module")
def output_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("outputs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAO_OUTPUT_ROOT", str(root))
        yield root


@pytest.fixture(scope="module")
def settings_for(output_root):
    return Settings.from_environment()


@pytest.fixture(scope="module")
def offline_build(settings_for, raw_file):
    return build("offline", settings_for, only=["fig02", "fig04"], jobs=2, log=lambda *_: None)


def _reconciliation(root, edition):
    with open(root / "reports" / edition / "reconciliation.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
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

    def test_third_party_extracts_are_stamped_on_their_figures(self, offline_build, output_root):
        for stem in ("fig02_drug_misuse_deaths", "fig04_adults_in_drug_treatment"):
            record = json.loads((output_root / "reports" / "offline" / f"{stem}.json").read_text())
            third_party = any(i.get("kind") == "third_party_extract" for i in record["inputs"].values())
            assert ("third party" in record["banner"]) == third_party, stem

    def test_html_hides_code(self, offline_build, output_root):
        page = (output_root / "reports" / "offline" / "fig02_drug_misuse_deaths.html").read_text()
        assert "start_figure" not in page
        assert "Deaths in England attributed to drug misuse" in page

    def test_rebuild_with_nothing_changed_is_a_no_op(self, offline_build, settings_for):
        again = build("offline", settings_for, only=["fig02", "fig04"], log=lambda *_: None)
        assert {r.figure: r.status for r in again.results if r.figure in ("fig02", "fig04")} == {
            "fig02": "up to date",
            "fig04": "up to date",
        }


@pytest.mark.slow
class TestPartialFailure:
    def test_failed_figure_reports_one_line_and_others_build(self, output_root, settings_for, raw_file):
        result = build("offline", settings_for, only=["fig02", "fig04"], overrides=["fig04.end_year=2023-24"], log=lambda *_: None)
        status = {r.figure: r for r in result.results}
        assert status["fig04"].status == "failed"
        assert "no rows for ['2022-23', '2023-24']" in status["fig04"].message
        assert "\n" not in status["fig04"].message
        assert status["fig02"].status in ("built", "up to date")
        assert not (output_root / "figures" / "offline" / "fig04_adults_in_drug_treatment.png").exists()
        assert result.exit_code(strict=False) == 1

    def test_unavailable_source_is_skipped_and_its_rows_stay_visible(self, output_root, settings_for, raw_file):
        result = build("nao-2023", settings_for, only=["fig02", "fig04"], log=lambda *_: None)
        status = {r.figure: r.status for r in result.results}
        assert status["fig02"] == "skipped" and status["fig04"] == "built"
        rows = [r for r in _reconciliation(output_root, "nao-2023") if r["figure"] == "fig02"]
        assert rows and all(r["status"] == "source unavailable" for r in rows)
        assert result.exit_code(strict=False) == 0 and result.exit_code(strict=True) == 1


def _rows(settings, edition, figure):
    with open(settings.reports_dir(edition) / "reconciliation.csv", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["figure"] == figure]


class TestStatusesStayDistinct:
    """built / up to date / skipped / failed / not applicable never stand in for each other (issue 12, item 4)."""

    def test_a_missing_source_is_skipped_naming_it_and_how_to_get_it(self, tmp_path, monkeypatch, raw_file):
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
        result = build("nao-2023", settings, only=["fig02"], **QUIET)
        skipped = {r.figure: r for r in result.results}["fig02"]
        assert skipped.status == "skipped" and skipped.missing_sources == ["ons_drug_deaths_2021reg"]
        assert skipped.message.startswith("source unavailable: ons_drug_deaths_2021reg (")
        assert "`nao-analysis fetch ons_drug_deaths_2021reg`" in skipped.message

    def test_a_skipped_figure_keeps_its_published_numbers_as_source_unavailable(self, tmp_path, monkeypatch, raw_file):
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
        build("nao-2023", settings, only=["fig02"], **QUIET)
        rows = _rows(settings, "nao-2023", "fig02")
        assert rows and {r["status"] for r in rows} == {"source unavailable"}

    def test_a_failed_figure_is_never_called_source_unavailable(self, tmp_path, monkeypatch, raw_file):
        notebook = tiny_notebook("fig02", "raise ValueError('no rows for 2031')")
        settings = make_project(tmp_path, monkeypatch, {"fig02": notebook})
        result = build("offline", settings, only=["fig02"], **QUIET)
        failed = {r.figure: r for r in result.results}["fig02"]
        assert failed.status == "failed" and failed.message.startswith("ValueError: no rows for 2031")
        rows = _rows(settings, "offline", "fig02")
        assert rows and {r["status"] for r in rows} == {"figure failed"}
        manifest = json.loads((settings.reports_dir("offline") / "manifest.json").read_text())
        assert {f["figure"]: f["status"] for f in manifest["figures"]}["fig02"] == "failed"

    def test_a_source_found_missing_while_running_is_skipped_not_failed(self, tmp_path, monkeypatch, raw_file):
        body = "from nao_analysis.errors import SourceUnavailableError\nraise SourceUnavailableError('x.ods: not cached and offline')"
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02", body)})
        result = build("offline", settings, only=["fig02"], **QUIET)
        skipped = {r.figure: r for r in result.results}["fig02"]
        assert (skipped.status, skipped.message) == ("skipped", "source unavailable: x.ods: not cached and offline")

    @pytest.mark.parametrize(
        ("error", "status", "message"),
        [
            (
                "AnalysisError('x.csv: no rows for 2031 - choose years it covers')",
                "failed",
                "x.csv: no rows for 2031 - choose years it covers",
            ),
            ("SourceUnavailableError('x.ods: not cached, offline')", "skipped", "source unavailable: x.ods: not cached, offline"),
        ],
    )
    def test_an_error_a_notebook_shows_as_one_line_keeps_its_status_and_words(
        self, tmp_path, monkeypatch, raw_file, error, status, message
    ):
        body = f"from nao_analysis.errors import AnalysisError, SourceUnavailableError\nraise {error}"
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02", body, setup=ONE_LINE_ERRORS)})
        result = build("offline", settings, only=["fig02"], **QUIET)
        outcome = {r.figure: r for r in result.results}["fig02"]
        assert (outcome.status, outcome.message) == (status, message)

    def test_a_not_applicable_check_is_carried_through(self, tmp_path, monkeypatch, raw_file):
        row = {"check": "deaths_2021", "figure": "fig02", "published": 2846, "rebuilt": None, "status": "not applicable"}
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02", rows=[row])})
        build("offline", settings, only=["fig02"], **QUIET)
        assert [r["status"] for r in _rows(settings, "offline", "fig02")] == ["not applicable"]

    def test_the_summary_names_each_status(self, tmp_path, monkeypatch, raw_file):
        notebooks = {"fig02": tiny_notebook("fig02"), "fig04": tiny_notebook("fig04", "raise ValueError('bad')")}
        settings = make_project(tmp_path, monkeypatch, notebooks)
        build("nao-2023", settings, only=["fig04"], **QUIET)
        result = build("nao-2023", settings, only=["fig02", "fig04"], **QUIET)
        assert statuses(result)["fig02"] == "skipped" and statuses(result)["fig04"] == "failed"
        assert "1 skipped, 1 failed" in summary_table(result)


class TestWhatTriggersARebuild:
    """A figure depends on the registry entries of the sources it names, not on the whole registry (issue 12, item 3)."""

    @pytest.fixture
    def registry_copy(self, tmp_path):
        folder = tmp_path / "registry"
        folder.mkdir()
        shutil.copyfile(ROOT / "data" / "sources.yaml", folder / "sources.yaml")
        if (ROOT / "data" / "source-pins.yaml").exists():
            shutil.copyfile(ROOT / "data" / "source-pins.yaml", folder / "source-pins.yaml")
        return folder / "sources.yaml"

    @pytest.fixture
    def built(self, tmp_path, monkeypatch, registry_copy, raw_file):
        notebooks = {"fig02": tiny_notebook("fig02"), "fig06": tiny_notebook("fig06")}
        settings = make_project(tmp_path, monkeypatch, notebooks, sources_file=registry_copy)
        assert set(statuses(build("offline", settings, only=["fig02", "fig06"], **QUIET)).values()) >= {"built"}
        return settings

    @staticmethod
    def _edit_registry(path, change):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data["sources"])
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def test_adding_an_unrelated_source_rebuilds_nothing(self, built, registry_copy):
        def add(sources):
            extra = dict(next(s for s in sources if s["id"] == "ons_drug_deaths_2016reg"), id="ons_drug_deaths_2099reg")
            sources.append(extra)

        self._edit_registry(registry_copy, add)
        result = build("offline", built, only=["fig02", "fig06"], **QUIET)
        assert (statuses(result)["fig02"], statuses(result)["fig06"]) == ("up to date", "up to date")

    def test_changing_a_named_source_rebuilds_only_its_figure(self, built, registry_copy):
        named = record_of(built, "offline", "fig02")["params"]["source"]

        def retitle(sources):
            source = next(s for s in sources if s["id"] == named)
            source["title"] += " (corrected)"

        self._edit_registry(registry_copy, retitle)
        result = build("offline", built, only=["fig02", "fig06"], **QUIET)
        assert (statuses(result)["fig02"], statuses(result)["fig06"]) == ("built", "up to date")


class TestScheduling:
    """A cold build keeps both cores busy to the end by running the longest figures first (issue 17)."""

    def test_figures_run_longest_first_by_their_last_run_time(self, tmp_path, monkeypatch, raw_file):
        started_at = "import time\nvalue = time.time()"
        notebooks = {"fig01": tiny_notebook("fig01", started_at), "fig02": tiny_notebook("fig02", started_at)}
        settings = make_project(tmp_path, monkeypatch, notebooks)
        times = settings.processed_dir / "build-times" / "offline.json"
        times.parent.mkdir(parents=True)
        times.write_text(json.dumps({"fig01": 1.0, "fig02": 30.0}))
        build("offline", settings, only=["fig01", "fig02"], jobs=1, **QUIET)
        assert record_of(settings, "offline", "fig02")["value"] < record_of(settings, "offline", "fig01")["value"]

    def test_the_build_remembers_each_figures_run_time(self, tmp_path, monkeypatch, raw_file):
        settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
        build("offline", settings, only=["fig02"], jobs=1, **QUIET)
        remembered = json.loads((settings.processed_dir / "build-times" / "offline.json").read_text())
        assert set(remembered) == {"fig02"} and remembered["fig02"] > 0


class TestWaitingFigures:
    def test_a_figure_naming_an_unregistered_source_is_skipped_with_what_to_add(self, settings, tmp_path):
        import shutil

        from nao_analysis.build import build

        editions = tmp_path / "editions"
        shutil.copytree(settings.editions_dir, editions)
        text = (editions / "offline.yaml").read_text().replace("source: ons_drug_deaths_2022reg", "source: ons_drug_deaths_2024reg")
        (editions / "offline.yaml").write_text(text)
        local = settings.with_changes(editions_dir=editions, output_root=tmp_path / "out")
        result = build("offline", local, only=["fig02"], log=lambda *_: None)
        fig02 = next(r for r in result.results if r.figure == "fig02")
        assert fig02.status == "skipped"
        assert fig02.message.startswith("waiting for ons_drug_deaths_2024reg")
