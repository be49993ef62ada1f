"""Figures 2 and 4 analysis functions, on the real mirror files."""

from __future__ import annotations

import pytest

from nao_analysis.analysis.trends import deaths_series, drug_treatment_series, percent_change, treatment_summary, year_range
from nao_analysis.errors import AnalysisError
from nao_analysis.readers.ndtms import read_viewit_export
from nao_analysis.readers.ons_deaths import read_drug_deaths_extract

DRUG_GROUPS = ["opiates", "non-opiates only", "alcohol & non-opiates"]


@pytest.fixture(scope="module")
def ndtms(raw_file):
    return read_viewit_export(raw_file("ndtms_viewit_adults_england_2009_2022"))


class TestDrugTreatmentSeries:
    def test_drug_total_excludes_alcohol_only(self, ndtms):
        series = drug_treatment_series(ndtms, start_year="2010-11", end_year="2021-22", drug_groups=DRUG_GROUPS, opiate_groups=["opiates"])
        totals = series.groupby("period")["in_treatment"].sum()
        assert totals["2010-11"] == 169144 + 23613 + 28223
        assert totals["2021-22"] == 140558 + 29582 + 34378

    def test_summary_matches_the_report(self, ndtms):
        series = drug_treatment_series(ndtms, start_year="2010-11", end_year="2021-22", drug_groups=DRUG_GROUPS, opiate_groups=["opiates"])
        summary = treatment_summary(series, "2010-11", "2021-22")
        assert round(summary["total_start"], -3) == 221000
        assert round(summary["total_end"], -3) == 205000
        assert round(summary["change_pct"]) == -7
        assert round(summary["opiate_share_end_pct"]) == 69

    def test_year_outside_the_export_is_an_error(self, ndtms):
        with pytest.raises(AnalysisError, match=r"no rows for \['2022-23'\]"):
            drug_treatment_series(ndtms, start_year="2010-11", end_year="2022-23", drug_groups=DRUG_GROUPS, opiate_groups=["opiates"])

    def test_unknown_drug_group_is_an_error(self, ndtms):
        with pytest.raises(AnalysisError, match="not in the export"):
            drug_treatment_series(ndtms, start_year="2010-11", end_year="2021-22", drug_groups=["heroin"], opiate_groups=[])


class TestDeathsSeries:
    def test_2011_to_2021_change_is_80_percent(self, raw_file):
        deaths = read_drug_deaths_extract(raw_file("ons_drug_deaths_england_2023reg_extract"))
        series = deaths_series(deaths, measure="drug_misuse", country="England", start_year=2011, end_year=2021)
        assert len(series) == 11
        assert round(percent_change(series.deaths.iloc[0], series.deaths.iloc[-1])) == 80

    def test_missing_years_are_an_error(self, raw_file):
        deaths = read_drug_deaths_extract(raw_file("ons_drug_deaths_england_2023reg_extract"))
        with pytest.raises(AnalysisError, match=r"\[2024, 2025\]"):
            deaths_series(deaths, measure="drug_misuse", country="England", start_year=2020, end_year=2025)


def test_percent_change_from_zero_is_an_error():
    with pytest.raises(AnalysisError):
        percent_change(0, 5)


def test_year_range_is_inclusive():
    assert year_range("2019-20", "2021-22") == ["2019-20", "2020-21", "2021-22"]
