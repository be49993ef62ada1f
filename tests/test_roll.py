"""Rolling an edition forward: years, boundary vintages, area types and sources re-chosen from the registry."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from nao_analysis.cli import main
from nao_analysis.editions import load_edition
from nao_analysis.errors import EditionError, SourceError
from nao_analysis.figures import load_specs as load_all
from nao_analysis.roll import (
    boundary_vintage_for_year,
    load_boundary_vintages,
    load_declared_coverage,
    new_edition,
    roll_survey_year,
    roll_year_value,
)
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import load_registry


@pytest.fixture
def editions(tmp_path, monkeypatch):
    """A private copy of editions/, so a test can write new editions (also named in the environment for the CLI)."""
    folder = tmp_path / "editions"
    shutil.copytree(Settings().editions_dir, folder)
    monkeypatch.setenv("NAO_EDITIONS_DIR", str(folder))
    return folder


@pytest.fixture
def roll_settings(editions):
    return Settings.from_environment().with_changes(editions_dir=editions)


def _roll(settings, name, base, years, overrides=None):
    return new_edition(name, base=base, years=years, overrides=overrides, settings=settings)


def _placeholders(needs):
    return sorted(line.split("nao-analysis sources add ")[1].split()[0] for line in needs if "nao-analysis sources add" in line)


def _figures(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))["figures"]


class TestBoundaryVintageForYear:
    def test_2022_23_uses_the_december_2021_boundaries(self):
        assert boundary_vintage_for_year("2022-23").vintage == "2021-12"

    def test_2023_24_uses_the_may_2023_boundaries(self):
        assert boundary_vintage_for_year("2023-24").vintage == "2023-05"

    def test_may_2023_vintage_names_the_april_2023_reorganisation(self):
        text = boundary_vintage_for_year("2023-24").reorganisation
        assert all(area in text for area in ("Cumbria", "North Yorkshire", "Somerset"))

    def test_year_without_a_registered_vintage_is_refused_with_the_fix(self):
        with pytest.raises(SourceError, match=r"2020-21: no counties-and-UAs boundary vintage covers it .* add a row"):
            boundary_vintage_for_year("2020-21")

    def test_every_vintage_is_served_by_a_registered_boundary_source(self, settings):
        served = {str(s.serves.get("boundary_vintage")) for s in load_registry(settings).sources}
        assert {v.vintage for v in load_boundary_vintages()} <= served

    @pytest.mark.parametrize(
        ("source_id", "vintage"), [("boundaries_ctyua_dec2021_buc", "2021-12"), ("boundaries_ctyua_may2023_buc", "2023-05")]
    )
    def test_english_area_count_matches_the_boundary_file(self, raw_file, source_id, vintage):
        from nao_analysis.readers.boundaries import read_ctyua_boundaries

        areas = read_ctyua_boundaries(raw_file(source_id))
        expected = next(v.english_areas for v in load_boundary_vintages() if v.vintage == vintage)
        assert len(areas) == expected

    def test_overlapping_rows_are_refused(self, tmp_path):
        table = tmp_path / "vintages.csv"
        table.write_text(
            "boundary_vintage,first_year,last_year,english_upper_tier_areas,reorganisation,citation\n"
            "2021-12,2021-22,2023-24,152,x,y\n2023-05,2023-24,,153,x,y\n"
        )
        with pytest.raises(SourceError, match="cover the same years"):
            load_boundary_vintages(table)


class TestRollYearValue:
    def test_financial_year_field_moves_on(self):
        assert roll_year_value(load_all()["fig03"], "target_year", "2021-22", 1) == "2022-23"

    def test_calendar_year_field_moves_on(self):
        assert roll_year_value(load_all()["fig02"], "end_year", 2021, 2) == 2023

    def test_survey_year_field_moves_on(self):
        assert roll_year_value(load_all()["fig01"], "first_survey_year", "2010/11", 1) == "2011/12"

    def test_dates_of_events_stay(self):
        import datetime as dt

        assert roll_year_value(load_all()["fig01"], "gap_start", dt.date(2020, 3, 31), 1) == dt.date(2020, 3, 31)

    def test_other_values_stay(self):
        assert roll_year_value(load_all()["fig03"], "basis", "outturn", 1) == "outturn"


class TestRollSurveyYear:
    def test_year_with_no_survey_is_skipped(self):
        assert roll_survey_year("2019/20", 1, {"2020/21"}) == "2021/22"

    def test_other_years_move_by_the_number_given(self):
        assert roll_survey_year("2018/19", 1, {"2020/21"}) == "2019/20"


class TestDeclaredCoverage:
    """Each row of data/manual/source_coverage.csv for a file in the mirror agrees with the file's own years."""

    def test_deflator_series_reaches_2024_25(self, raw_file, settings):
        from nao_analysis.readers.deflators import read_deflator

        years = read_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06"))["financial_year"]
        assert load_declared_coverage(settings)["ons_ybgb_gdp_deflator_2025_06"].last == years.max() == "2024-25"

    def test_ndtms_export_ends_in_2021_22(self, raw_file, settings):
        from nao_analysis.readers.ndtms import read_viewit_export

        periods = read_viewit_export(raw_file("ndtms_viewit_adults_england_2009_2022"))["period"]
        coverage = load_declared_coverage(settings)["ndtms_viewit_adults_england_2009_2022"]
        assert (coverage.first, coverage.last) == (periods.min(), periods.max())

    def test_fingertips_sample_is_partial_and_ends_in_2020_21(self, raw_file, settings):
        from nao_analysis.readers.fingertips import read_fingertips_csv

        years = read_fingertips_csv(raw_file("fingertips_93517_sample"))["year"]
        coverage = load_declared_coverage(settings)["fingertips_93517_sample"]
        assert (coverage.first, coverage.last, coverage.partial) == (years.min(), years.max(), True)


class TestRollByCoverage:
    """`new-edition X --from offline`: a source is replaced only when no registered source covers the new years."""

    def test_one_year_asks_only_for_the_files_really_missing(self, roll_settings):
        _, needs = _roll(roll_settings, "next", "offline", 1)
        assert _placeholders(needs) == [
            "csew_drug_misuse_2022_23",
            "ndtms_viewit_adults_england_to_2022_23",
            "ra_budget_2015_16",
            "ra_budget_2022_23",
        ]

    def test_two_years_outturn_from_2013_14_asks_only_for_the_files_really_missing(self, roll_settings):
        _, needs = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        assert _placeholders(needs) == ["csew_drug_misuse_2023_24", "ndtms_viewit_adults_england_to_2023_24", "ro3_outturn_2023_24"]

    def test_deflator_covering_the_price_year_is_kept(self, roll_settings):
        path, needs = _roll(roll_settings, "next", "offline", 2)
        assert _figures(path)["fig03"]["deflator"] == "ons_ybgb_gdp_deflator_2025_06"
        assert not any("deflator" in line for line in needs)

    def test_deaths_file_covering_the_end_year_is_kept(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "offline", 2)
        assert _figures(path)["fig02"]["source"] == "ons_drug_deaths_england_2023reg_extract"

    def test_revision_check_edition_is_never_rolled(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "offline", 2)
        assert _figures(path)["fig02"]["revision_check_source"] == "ons_drug_deaths_2016reg"

    def test_crosswalk_follows_the_target_file_and_asks_for_no_later_year(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        assert _figures(path)["fig03"]["crosswalk_sources"] == ["ro3_outturn_2023_24", "ro3_outturn_2022_23"]

    def test_no_survey_year_without_a_survey_is_asked_for(self, roll_settings):
        _, needs = _roll(roll_settings, "next", "offline", 2)
        assert not any("2020/21" in line or "2020_21" in line for line in needs)

    def test_partial_sample_is_replaced_by_the_registered_full_source(self, roll_settings):
        fig05 = _figures(_roll(roll_settings, "next", "offline", 1)[0])["fig05"]
        assert (fig05["source"], fig05["partial_coverage"]) == ("fingertips_93517_2021_22", False)

    def test_no_stored_label_can_contradict_the_basis(self, roll_settings):
        # The recipe computes the basis label from the parameters (tests/test_parameter_truth.py checks it).
        path, _ = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        assert "run_label" not in _figures(path)["fig03"]

    def test_header_names_the_figures_ready_and_those_that_wait(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        header = path.read_text().split("\nname:")[0]
        assert "# Ready: fig02, fig07, fig08, fig09, fig05, fig06, fig10, app2, areas (" in header
        assert "fig03 (for ro3_outturn_2023_24)" in header

    def test_area_profiles_keep_their_crosswalk_files_when_the_price_year_moves(self, roll_settings):
        path, needs = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        areas = _figures(path)["areas"]
        assert (areas["price_year"], areas["crosswalk_sources"]) == ("2024-25", ["ra_budget_2021_22_csv", "ro3_outturn_2022_23"])
        assert not any(line.startswith("areas.") for line in needs)

    def test_a_waiting_figure_does_not_keep_the_edition_from_loading(self, roll_settings):
        # Sources are checked against the registry per figure at build time (editions.check_against_registry), so an
        # edition naming a source not registered yet loads, and the build leaves only the waiting figure unbuilt.
        path, _ = _roll(roll_settings, "next", "offline", 2, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        header = path.read_text().split("\nname:")[0]
        assert "refuses this whole edition" not in header
        assert "# `nao-analysis build` builds the ready figures now; a waiting figure does not keep the edition from loading" in header
        assert load_edition("next", settings=roll_settings).figures["fig03"].target_source == "ro3_outturn_2023_24"

    def test_header_says_the_ready_figures_build_when_nothing_blocks(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "offline", 1, ["fig03.base_year=2013-14", "fig03.basis=outturn"])
        assert "# `nao-analysis build` builds the ready figures now" in path.read_text()

    def test_environment_is_left_alone(self, roll_settings):
        before = dict(os.environ)
        _roll(roll_settings, "next", "offline", 1)
        assert dict(os.environ) == before

    def test_edition_is_written_where_the_settings_say(self, roll_settings, tmp_path):
        elsewhere = tmp_path / "elsewhere"
        shutil.copytree(roll_settings.editions_dir, elsewhere)
        path, _ = _roll(roll_settings.with_changes(editions_dir=elsewhere), "next", "offline", 1)
        assert path == elsewhere / "next.yaml"


class TestNewEdition:
    def test_fig03_years_and_price_year_move_on(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1)
        fig03 = _figures(path)["fig03"]
        assert (fig03["base_year"], fig03["target_year"], fig03["price_year"]) == ("2015-16", "2022-23", "2023-24")

    def test_target_source_is_chosen_by_what_it_serves(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1)
        assert _figures(path)["fig03"]["target_source"] == "ro3_outturn_2022_23"

    def test_override_re_chooses_the_source_that_follows_it(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1, ["fig03.base_year=2013-14"])
        assert _figures(path)["fig03"]["base_source"] == "ro3_outturn_2013_14"

    def test_deflator_not_reaching_the_price_year_is_replaced_by_one_that_does(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1)
        assert _figures(path)["fig03"]["deflator"] == "ons_ybgb_gdp_deflator_2025_06"

    def test_april_2023_reorganisation_moves_maps_to_the_may_2023_boundaries(self, roll_settings):
        figures = _figures(_roll(roll_settings, "next", "nao-2023", 2)[0])
        assert {(figures[f]["boundary_vintage"], figures[f]["boundary_source"]) for f in ("fig03", "fig05")} == {
            ("2023-05", "boundaries_ctyua_may2023_buc")
        }

    def test_fingertips_source_follows_the_area_type_of_the_new_year(self, roll_settings):
        path, needs = _roll(roll_settings, "next", "nao-2023", 2)
        assert _figures(path)["fig05"]["source"] == "fingertips_93517_2023_24"
        assert any(
            line.startswith("fig05.source:") and "area_type_id=502" in line and "https://fingertips.phe.org.uk/" in line for line in needs
        )

    def test_fingertips_source_of_the_same_area_type_is_kept(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1)
        assert _figures(path)["fig05"]["source"] == "fingertips_93517_2021_22"

    def test_missing_source_gets_a_placeholder_and_a_needs_line_with_the_official_page(self, roll_settings):
        path, needs = _roll(roll_settings, "next", "nao-2023", 1)
        assert _figures(path)["fig03"]["base_source"] == "ro3_outturn_2015_16"
        line = next(line for line in needs if line.startswith("fig03.base_source:"))
        assert "https://www.gov.uk/government/collections/local-authority-revenue-expenditure-and-financing" in line
        assert "nao-analysis sources add ro3_outturn_2015_16" in line and "--serves year=2015-16" in line

    def test_incomplete_edition_is_written_and_marked(self, roll_settings):
        path, _ = _roll(roll_settings, "next", "nao-2023", 1)
        document = yaml.safe_load(path.read_text())
        assert document["derived_from"] == "nao-2023"
        assert document["title"].startswith("INCOMPLETE (sources missing:")
        assert path.read_text().startswith("# Rolled forward from editions/nao-2023.yaml")

    def test_complete_edition_loads(self, editions, roll_settings):
        base = yaml.safe_load((editions / "nao-2023.yaml").read_text())
        base.update(name="mini", figures={"fig03": base["figures"]["fig03"], "fig05": base["figures"]["fig05"]})
        (editions / "mini.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
        path, _ = _roll(roll_settings, "mini-next", "mini", 1, ["fig03.base_year=2013-14"])
        edition = load_edition("mini-next", settings=roll_settings)
        assert edition.figures["fig03"].target_source == "ro3_outturn_2022_23"
        assert not yaml.safe_load(path.read_text())["title"].startswith("INCOMPLETE")

    def test_existing_edition_is_not_overwritten(self, editions, roll_settings):
        before = (editions / "offline.yaml").read_text()
        with pytest.raises(EditionError, match="already exists"):
            _roll(roll_settings, "offline", "nao-2023", 1)
        assert (editions / "offline.yaml").read_text() == before

    def test_invalid_name_is_refused(self, roll_settings):
        with pytest.raises(EditionError, match="not valid"):
            _roll(roll_settings, "../escape", "nao-2023", 1)

    def test_zero_years_is_refused(self, roll_settings):
        with pytest.raises(EditionError, match="at least 1 year"):
            _roll(roll_settings, "next", "nao-2023", 0)

    def test_override_of_an_unknown_parameter_is_refused(self, roll_settings):
        with pytest.raises(EditionError, match=r"fig03\.colour: unknown parameter"):
            _roll(roll_settings, "next", "nao-2023", 1, ["fig03.colour=red"])

    def test_invalid_value_writes_nothing(self, editions, roll_settings):
        with pytest.raises(EditionError, match="class_breaks"):
            _roll(
                roll_settings,
                "mini-bad",
                "nao-2023",
                1,
                {"fig03": {"class_breaks": [1, 2]}, "fig02": {"source": "ons_drug_deaths_2021reg"}},
            )
        assert not (editions / "mini-bad.yaml").exists()

    def test_cli_prints_the_file_and_the_needs(self, editions, capsys):
        assert main(["new-edition", "next", "--from", "nao-2023", "--years", "1"]) == 0
        out = capsys.readouterr().out
        assert f"wrote {editions / 'next.yaml'}" in out
        assert "needs: fig03.base_source:" in out


class TestLatestEdition:
    """editions/latest.yaml: the method on the newest data in the mirror, saying per figure what could not move."""

    def test_it_loads(self, settings):
        assert load_edition("latest", settings=settings).figures["fig03"].target_year == "2022-23"

    def test_every_figure_says_what_moved_forward_or_why_not(self, settings):
        edition = load_edition("latest", settings=settings)
        assert {d.figure for d in edition.header.deviations} == set(edition.figures)

    def test_spending_deaths_and_prices_reach_the_newest_the_mirror_has(self, settings):
        figures = load_edition("latest", settings=settings).figures
        assert (figures["fig03"].target_source, figures["fig02"].end_year, figures["fig03"].deflator) == (
            "ro3_outturn_2022_23",
            2023,
            "ons_ybgb_gdp_deflator_2025_06",
        )
