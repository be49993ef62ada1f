"""Rolling an edition forward: years, boundary vintages, area types and sources re-chosen from the registry."""

from __future__ import annotations

import shutil

import pytest
import yaml

from nao_analysis import paths
from nao_analysis.cli import main
from nao_analysis.editions import load_edition
from nao_analysis.errors import EditionError, SourceError
from nao_analysis.params import load_all
from nao_analysis.roll import boundary_vintage_for_year, load_boundary_vintages, new_edition, roll_year_value
from nao_analysis.sources.registry import load_registry


@pytest.fixture
def editions(tmp_path, monkeypatch):
    """A private copy of editions/, so a test can write new editions."""
    folder = tmp_path / "editions"
    shutil.copytree(paths.project_root() / "editions", folder)
    monkeypatch.setenv("NAO_EDITIONS_DIR", str(folder))
    return folder


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

    def test_every_vintage_is_served_by_a_registered_boundary_source(self):
        served = {str(s.serves.get("boundary_vintage")) for s in load_registry().sources}
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


class TestNewEdition:
    def test_fig03_years_and_price_year_move_on(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=1)
        fig03 = _figures(path)["fig03"]
        assert (fig03["base_year"], fig03["target_year"], fig03["price_year"]) == ("2015-16", "2022-23", "2023-24")

    def test_target_source_is_chosen_by_what_it_serves(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=1)
        assert _figures(path)["fig03"]["target_source"] == "ro3_outturn_2022_23"

    def test_override_re_chooses_the_source_that_follows_it(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=1, overrides=["fig03.base_year=2013-14"])
        assert _figures(path)["fig03"]["base_source"] == "ro3_outturn_2013_14"

    def test_deflator_needs_a_newer_vintage(self, editions):
        path, needs = new_edition("next", base="nao-2023", years=1)
        assert _figures(path)["fig03"]["deflator"] == "ons_ybgb_gdp_deflator_2025_06"
        assert any("fig03.deflator" in line and "deflator_vintage 2024-09 or later" in line for line in needs)

    def test_april_2023_reorganisation_moves_maps_to_the_may_2023_boundaries(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=2)
        figures = _figures(path)
        assert {(figures[f]["boundary_vintage"], figures[f]["boundary_source"]) for f in ("fig03", "fig05")} == {
            ("2023-05", "boundaries_ctyua_may2023_buc")
        }

    def test_fingertips_source_follows_the_area_type_of_the_new_year(self, editions):
        path, needs = new_edition("next", base="nao-2023", years=2)
        assert _figures(path)["fig05"]["source"] == "fingertips_93517_2023_24"
        assert any(
            line.startswith("fig05.source:") and "area_type_id=502" in line and "https://fingertips.phe.org.uk/" in line for line in needs
        )

    def test_fingertips_source_of_the_same_area_type_is_kept(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=1)
        assert _figures(path)["fig05"]["source"] == "fingertips_93517_2021_22"

    def test_missing_source_gets_a_placeholder_and_a_needs_line_with_the_official_page(self, editions):
        path, needs = new_edition("next", base="nao-2023", years=1)
        assert _figures(path)["fig03"]["base_source"] == "ro3_outturn_2015_16"
        line = next(line for line in needs if line.startswith("fig03.base_source:"))
        assert "https://www.gov.uk/government/collections/local-authority-revenue-expenditure-and-financing" in line
        assert "nao-analysis sources add ro3_outturn_2015_16" in line and "--serves year=2015-16" in line

    def test_incomplete_edition_is_written_and_marked(self, editions):
        path, _ = new_edition("next", base="nao-2023", years=1)
        document = yaml.safe_load(path.read_text())
        assert document["derived_from"] == "nao-2023"
        assert document["title"].startswith("INCOMPLETE (sources missing:")
        assert path.read_text().startswith("# Rolled forward from editions/nao-2023.yaml")

    def test_complete_edition_loads(self, editions):
        base = yaml.safe_load((editions / "nao-2023.yaml").read_text())
        base.update(name="mini", figures={"fig03": base["figures"]["fig03"], "fig05": base["figures"]["fig05"]})
        (editions / "mini.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
        path, needs = new_edition("mini-next", base="mini", years=1, overrides=["fig03.base_year=2013-14"])
        edition = load_edition("mini-next")
        assert edition.figures["fig03"].target_source == "ro3_outturn_2022_23"
        assert not yaml.safe_load(path.read_text())["title"].startswith("INCOMPLETE")

    def test_existing_edition_is_not_overwritten(self, editions):
        before = (editions / "offline.yaml").read_text()
        with pytest.raises(EditionError, match="already exists"):
            new_edition("offline", base="nao-2023")
        assert (editions / "offline.yaml").read_text() == before

    def test_invalid_name_is_refused(self, editions):
        with pytest.raises(EditionError, match="not valid"):
            new_edition("../escape", base="nao-2023")

    def test_zero_years_is_refused(self, editions):
        with pytest.raises(EditionError, match="at least 1 year"):
            new_edition("next", base="nao-2023", years=0)

    def test_override_of_an_unknown_parameter_is_refused(self, editions):
        with pytest.raises(EditionError, match=r"fig03\.colour: unknown parameter"):
            new_edition("next", base="nao-2023", overrides=["fig03.colour=red"])

    def test_invalid_value_writes_nothing(self, editions):
        with pytest.raises(EditionError, match="class_breaks"):
            new_edition(
                "mini-bad", base="nao-2023", overrides={"fig03": {"class_breaks": [1, 2]}, "fig02": {"source": "ons_drug_deaths_2021reg"}}
            )
        assert not (editions / "mini-bad.yaml").exists()

    def test_cli_prints_the_file_and_the_needs(self, editions, capsys):
        assert main(["new-edition", "next", "--from", "nao-2023", "--years", "1"]) == 0
        out = capsys.readouterr().out
        assert f"wrote {editions / 'next.yaml'}" in out
        assert "needs: fig03.base_source:" in out
