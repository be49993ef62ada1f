"""Figure 3 analysis: both offline runs on the mirror (budget 2014-15 -> 2021-22, outturn 2013-14 -> 2022-23),
line definitions, no-data handling, flags and the report's wording."""

from __future__ import annotations

import math

import pandas as pd
import project_paths as paths
import pytest

from nao_analysis.analysis.geography import build_e_code_crosswalk, upper_tier_areas_from_districts
from nao_analysis.analysis.spending_change import (
    compare_years,
    line_patterns,
    lines_for_year,
    number_words,
    spending_change_table,
    summary_statistics,
)
from nao_analysis.errors import AnalysisError, CrosswalkError
from nao_analysis.readers.boundaries import read_code_changes, read_ctyua_boundaries, read_district_upper_tier_lookup
from nao_analysis.readers.deflators import read_deflator
from nao_analysis.readers.revenue_account import read_revenue_account


@pytest.fixture(scope="module")
def mapping():
    return pd.read_csv(paths.manual_dir() / "ro_line_mapping.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def run(raw_file, mapping):
    """A function running the whole comparison on mirror files, as the notebook does."""

    def read(source_id, year):
        return read_revenue_account(raw_file(source_id), line_patterns(lines_for_year(mapping, year)))

    crosswalk = build_e_code_crosswalk([read("ra_budget_2021_22_csv", "2021-22"), read("ro3_outturn_2022_23", "2022-23")])
    districts = read_district_upper_tier_lookup(raw_file("lookup_ltla14"))
    boundaries = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))
    common = dict(
        mapping=mapping,
        crosswalk=crosswalk,
        base_areas=upper_tier_areas_from_districts(districts),
        target_areas=boundaries[["code", "name"]],
        changes=read_code_changes(raw_file("lookup_la_code_changes_2018_2025")),
        districts=districts,
        deflators=read_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06")),
        price_year="2022-23",
    )

    def compare(base_source, base_year, target_source, target_year, policy="aggregate", target_raw=None):
        return compare_years(
            base_raw=read(base_source, base_year),
            target_raw=target_raw if target_raw is not None else read(target_source, target_year),
            base_year=base_year,
            target_year=target_year,
            boundary_year=int(target_year[:4]),
            policy=policy,
            **common,
        )

    compare.read = read
    return compare


@pytest.fixture(scope="module")
def budget_run(run):
    return run("ra_budget_2014_15", "2014-15", "ra_budget_2021_22_csv", "2021-22", policy="nao")


@pytest.fixture(scope="module")
def outturn_run(run):
    return run("ro3_outturn_2013_14", "2013-14", "ro3_outturn_2022_23", "2022-23", policy="nao")


def row(result, name):
    return result.table.set_index("target_name").loc[name]


class TestBudgetRun2014To2022:
    def test_england_falls_about_42_percent_in_real_terms(self, budget_run):
        # An independent computation from the same budget files gives about -42%; like for like (areas with
        # data in both years) gives -41.3%.
        assert budget_run.england["change_pct"] == pytest.approx(-41.3, abs=0.1)

    def test_150_authorities_are_compared(self, budget_run):
        assert budget_run.stats["authorities"] == 150

    def test_imputed_returns_are_no_data(self, budget_run):
        assert budget_run.stats["no_data_names"] == ["Medway", "Shropshire"]

    def test_greenwich_is_flagged_implausible(self, budget_run):
        greenwich = row(budget_run, "Greenwich")
        assert greenwich["change_real_pct"] > 1000 and greenwich["implausible"]

    def test_bournemouth_is_compared_alone_with_bcp_under_the_nao_policy(self, budget_run):
        assert row(budget_run, "Bournemouth, Christchurch and Poole")["base_names"] == "Bournemouth"
        assert budget_run.not_compared == ["Poole"]


class TestOutturnRun2013To2023:
    def test_slough_has_no_data_in_2022_23(self, outturn_run):
        slough = row(outturn_run, "Slough")
        assert slough["no_data"] and slough["no_data_reason"] == "no data in the target year"
        assert math.isnan(slough["change_real_pct"])

    def test_slough_is_listed_among_the_areas_without_data(self, outturn_run):
        assert "Slough" in outturn_run.stats["no_data_names"]

    def test_england_base_year_is_the_sum_of_the_2013_14_adult_lines(self, outturn_run):
        # 532,376 + 190,353 in the file's ENGLAND row (the totals), less the £10k shire districts spent.
        base = outturn_run.base_spend.set_index("authority")["spend_gbp_thousands"]
        assert base.sum() == 532_376 + 190_353 - 10

    def test_west_sussex_falls_by_more_than_three_quarters_on_treatment_lines(self, outturn_run):
        assert row(outturn_run, "West Sussex")["change_real_pct"] < -75

    def test_west_sussex_fall_needs_treatment_only_lines(self, run, mapping, outturn_run):
        # With the prevention lines added the fall shrinks to about a fifth: the report's -91% is only
        # possible with the treatment lines, which is what the mapping counts.
        with_prevention = mapping.copy()
        with_prevention.loc[with_prevention["component"].str.endswith("_prevention"), "counts_as_adult_treatment"] = "true"
        target = lines_for_year(with_prevention, "2022-23")
        spend = run.read("ro3_outturn_2022_23", "2022-23")
        west_sussex = spend[
            (spend["authority"] == "West Sussex") & spend["line_id"].isin(target.loc[target["counts_as_adult_treatment"], "component"])
        ]
        base = row(outturn_run, "West Sussex")["base_real_gbp_k"]
        assert (west_sussex["value_gbp_thousands"].sum() * outturn_run.target_factor / base - 1) * 100 > -25

    def test_england_falls_in_real_terms(self, outturn_run):
        assert -45 < outturn_run.england["change_pct"] < -30


class TestLinesForYear:
    def test_before_2016_17_uses_the_adult_misuse_lines(self, mapping):
        rows = lines_for_year(mapping, "2015-16")
        assert set(rows.loc[rows["counts_as_adult_treatment"], "component"]) == {"adult_drug_misuse", "adult_alcohol_misuse"}

    def test_from_2016_17_uses_the_treatment_lines_only(self, mapping):
        rows = lines_for_year(mapping, "2016-17")
        assert set(rows.loc[rows["counts_as_adult_treatment"], "component"]) == {"adult_drug_treatment", "adult_alcohol_treatment"}

    def test_every_row_cites_its_source(self, mapping):
        assert mapping["source_citation"].str.len().gt(20).all()

    def test_a_year_before_the_mapping_is_an_error(self, mapping):
        with pytest.raises(AnalysisError, match="no adult treatment line applies to 2009-10"):
            lines_for_year(mapping, "2009-10")


def synthetic_units(codes):
    units = pd.DataFrame(
        {
            "target_code": codes,
            "target_name": codes,
            "unit_id": codes,
            "unit_name": codes,
            "base_codes": codes,
            "base_names": codes,
            "crosswalk": "",
            "counted": True,
            "policy": "aggregate",
        }
    )
    units.attrs["not_compared"] = []
    return units


class TestSpendingChangeTable:
    def test_missing_target_value_is_no_data_never_zero(self):
        table = spending_change_table(
            synthetic_units(["A", "B"]),
            pd.Series({"A": 100.0, "B": 100.0}),
            pd.Series({"A": float("nan"), "B": 50.0}),
            base_factor=1.0,
            target_factor=1.0,
        )
        a = table.set_index("target_code").loc["A"]
        assert a["no_data"] and math.isnan(a["change_real_pct"])

    def test_zero_base_has_no_percentage_change(self):
        table = spending_change_table(
            synthetic_units(["A"]), pd.Series({"A": 0.0}), pd.Series({"A": 50.0}), base_factor=1.0, target_factor=1.0
        )
        assert table.loc[0, "no_base_spending"] and math.isnan(table.loc[0, "change_real_pct"])

    def test_real_terms_change_uses_both_factors(self):
        table = spending_change_table(
            synthetic_units(["A"]), pd.Series({"A": 100.0}), pd.Series({"A": 100.0}), base_factor=1.25, target_factor=1.0
        )
        assert table.loc[0, "change_real_pct"] == pytest.approx(-20.0)

    def test_a_fall_to_zero_is_flagged(self):
        table = spending_change_table(
            synthetic_units(["A"]), pd.Series({"A": 100.0}), pd.Series({"A": 0.0}), base_factor=1.0, target_factor=1.0
        )
        assert table.loc[0, "implausible"] and "fell to zero" in table.loc[0, "flag"]

    def test_an_unknown_target_code_is_an_error_listing_it(self):
        with pytest.raises(CrosswalkError, match="E06000999"):
            spending_change_table(
                synthetic_units(["A"]), pd.Series({"A": 1.0}), pd.Series({"A": 1.0, "E06000999": 2.0}), base_factor=1.0, target_factor=1.0
            )


class TestSummary:
    def test_counts_cuts_of_50_percent_or_more_inclusive(self):
        table = spending_change_table(
            synthetic_units(["A", "B", "C"]),
            pd.Series({"A": 100.0, "B": 100.0, "C": 100.0}),
            pd.Series({"A": 50.0, "B": 60.0, "C": 120.0}),
            base_factor=1.0,
            target_factor=1.0,
        )
        stats = summary_statistics(table)
        assert (stats["authorities_cut_50pct_or_more"], stats["authorities_reduced"], stats["authorities_increased"]) == (1, 2, 1)

    def test_number_words(self):
        assert [number_words(n) for n in (9, 40, 42)] == ["nine", "forty", "forty-two"]


class TestFig03Params:
    OFFLINE = dict(
        base_year="2014-15",
        target_year="2021-22",
        basis="budget",
        base_source="ra_budget_2014_15",
        target_source="ra_budget_2021_22_csv",
        deflator="ons_ybgb_gdp_deflator_2025_06",
    )

    @pytest.fixture(scope="class")
    def registry(self):
        from nao_analysis.settings import Settings
        from nao_analysis.sources.registry import load_registry

        return load_registry(Settings.from_environment())

    def test_the_offline_parameters_are_valid(self, registry):
        from nao_analysis.figures.fig03 import Params

        params = Params(**self.OFFLINE)
        assert (params.crosswalk_policy, params.registry_problems(registry)) == ("aggregate", [])

    def test_a_budget_file_in_an_outturn_run_is_refused(self, registry):
        from nao_analysis.figures.fig03 import Params

        problems = Params(**{**self.OFFLINE, "basis": "outturn"}).registry_problems(registry)
        assert any("'ra_budget_2014_15' is a budget file, but basis is 'outturn'" in p for p in problems)

    def test_a_source_of_another_year_is_refused(self, registry):
        from nao_analysis.figures.fig03 import Params

        problems = Params(**{**self.OFFLINE, "base_year": "2013-14"}).registry_problems(registry)
        assert any("'ra_budget_2014_15' holds 2014-15, not 2013-14" in p for p in problems)

    def test_parsing_reads_no_registry(self):
        # A source id the registry lacks parses; the separate registry check names it.
        from nao_analysis.figures.fig03 import Params

        assert Params(**{**self.OFFLINE, "base_source": "ra_budget_2099_00"}).base_source == "ra_budget_2099_00"
