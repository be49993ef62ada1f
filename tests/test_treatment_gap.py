"""The treatment-gap method (Figure 5), checked against the real Fingertips 93517 sample rows.

Synthetic frames appear only for edge cases (ties, missing inputs, too few estimates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nao_analysis.analysis import treatment_gap as tg
from nao_analysis.errors import AnalysisError
from nao_analysis.readers.fingertips import read_fingertips_csv

INDICATOR = 93517


@pytest.fixture(scope="session")
def ocu(raw_file) -> pd.DataFrame:
    return read_fingertips_csv(raw_file("fingertips_93517_sample"))


@pytest.fixture(scope="session")
def values_2020_21(ocu) -> pd.DataFrame:
    return tg.area_values(ocu, indicator_id=INDICATOR, year="2020-21")


@pytest.fixture(scope="session")
def england_areas(raw_file) -> pd.DataFrame:
    from nao_analysis.readers.boundaries import read_ctyua_boundaries

    return pd.DataFrame(read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))[["code", "name"]])


class TestUnmetNeedPercentage:
    def test_rebuilds_the_published_value_from_denominator_and_implied_treatment(self, ocu):
        row = ocu[(ocu["area_name"] == "Stockton-on-Tees") & (ocu["year"] == "2020-21")].iloc[0]
        in_treatment = row["denominator"] - row["count"]
        assert tg.unmet_need_percentage(row["denominator"], in_treatment) == pytest.approx(row["value"], abs=1e-6)

    def test_works_elementwise_on_series(self, ocu):
        rebuilt = tg.unmet_need_percentage(ocu["denominator"], ocu["denominator"] - ocu["count"])
        assert isinstance(rebuilt, pd.Series) and len(rebuilt) == len(ocu)

    def test_zero_estimate_is_refused(self):
        with pytest.raises(AnalysisError, match="positive"):
            tg.unmet_need_percentage(0.0, 10.0)

    def test_negative_treatment_number_is_refused(self):
        with pytest.raises(AnalysisError, match="negative"):
            tg.unmet_need_percentage(100.0, -1.0)


class TestRecomputePublishedRows:
    def test_rows_with_whole_treatment_numbers_match_exactly(self, ocu):
        rebuilt = tg.recompute_published_rows(ocu)
        exact = rebuilt[rebuilt["in_treatment_is_whole"]]
        assert exact["difference"].abs().max() < 1e-6

    def test_every_row_matches_within_a_hundredth_of_a_point(self, ocu):
        assert tg.recompute_published_rows(ocu)["difference"].abs().max() < 0.01

    def test_flags_rows_whose_printed_denominator_was_cut_to_a_whole_number(self, ocu):
        rebuilt = tg.recompute_published_rows(ocu)
        flagged = rebuilt.loc[~rebuilt["in_treatment_is_whole"], ["area_name", "year"]]
        assert sorted(map(tuple, flagged.to_numpy())) == [
            ("England", "2019-20"),
            ("Middlesbrough", "2019-20"),
            ("West Sussex", "2019-20"),
            ("Worcestershire", "2019-20"),
        ]


class TestAreaValues:
    def test_keeps_the_areas_of_the_year_without_england(self, values_2020_21):
        assert list(values_2020_21["area_name"]) == ["Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees"]

    def test_implies_the_number_in_treatment(self, values_2020_21):
        row = values_2020_21.set_index("area_name").loc["Hartlepool"]
        assert row["in_treatment"] == pytest.approx(644)

    def test_year_not_in_the_data_names_the_years_held(self, ocu):
        with pytest.raises(AnalysisError, match="2018-19, 2019-20, 2020-21"):
            tg.area_values(ocu, indicator_id=INDICATOR, year="2021-22")

    def test_other_indicator_is_refused(self, ocu):
        with pytest.raises(AnalysisError, match="indicator 93532 not in the data"):
            tg.area_values(ocu, indicator_id=93532, year="2020-21")


class TestEnglandValue:
    def test_returns_the_england_row(self, ocu):
        assert tg.england_value(ocu, indicator_id=INDICATOR, year="2020-21") == pytest.approx(52.10317309)

    def test_none_when_england_is_absent(self, ocu):
        assert tg.england_value(ocu[ocu["area_code"] != tg.ENGLAND_CODE], indicator_id=INDICATOR, year="2020-21") is None


class TestSummarise:
    def test_counts_areas_at_or_above_the_threshold(self, values_2020_21):
        # Hartlepool 45.4, Redcar and Cleveland 46.4 and Stockton-on-Tees 46.2 are at or above 45; Middlesbrough 41.7 is not.
        assert tg.summarise(values_2020_21, threshold=45).areas_at_or_above == 3

    def test_names_the_lowest_and_highest_areas(self, values_2020_21):
        summary = tg.summarise(values_2020_21, threshold=48)
        assert (summary.min_areas, summary.max_areas) == (["Middlesbrough"], ["Redcar and Cleveland"])

    def test_lists_boundary_areas_absent_from_the_data_as_missing(self, values_2020_21, england_areas):
        summary = tg.summarise(values_2020_21, threshold=48, all_areas=england_areas)
        assert len(summary.missing_areas) == len(england_areas) - 4 and "Northumberland" in summary.missing_areas

    def test_area_with_an_empty_value_is_missing(self, values_2020_21):
        values = values_2020_21.copy()
        values.loc[values["area_name"] == "Hartlepool", "value"] = np.nan
        summary = tg.summarise(values, threshold=48)
        assert (summary.areas_total, summary.missing_areas) == (3, ["Hartlepool"])

    def test_ties_name_every_tied_area(self, values_2020_21):
        values = values_2020_21.copy()
        values.loc[values["area_name"] == "Hartlepool", "value"] = values["value"].max()
        assert tg.summarise(values, threshold=48).max_areas == ["Hartlepool", "Redcar and Cleveland"]

    def test_no_values_is_refused(self, values_2020_21):
        with pytest.raises(AnalysisError, match="no area has a value"):
            tg.summarise(values_2020_21.assign(value=np.nan), threshold=48)


class TestSummaryToFrame:
    def test_one_row_per_statistic_with_a_unit(self, values_2020_21):
        frame = tg.summarise(values_2020_21, threshold=48).to_frame().set_index("statistic")
        assert (frame.loc["areas_total", "value"], frame.loc["max_areas", "value"]) == ("4", "Redcar and Cleveland")


class TestWholePercent:
    def test_rounds_half_up(self):
        assert (tg.whole_percent(47.5), tg.whole_percent(47.49)) == (48, 47)


class TestRankedTable:
    def test_ranks_the_highest_share_not_in_treatment_first(self, values_2020_21):
        table = tg.ranked_table(values_2020_21, threshold=48)
        assert list(table["area_name"]) == ["Redcar and Cleveland", "Stockton-on-Tees", "Hartlepool", "Middlesbrough"]

    def test_areas_without_data_come_last_without_a_rank(self, values_2020_21):
        values = values_2020_21.copy()
        values.loc[values["area_name"] == "Redcar and Cleveland", "value"] = np.nan
        last = tg.ranked_table(values, threshold=48).iloc[-1]
        assert last["area_name"] == "Redcar and Cleveland" and pd.isna(last["rank"]) and pd.isna(last["at_or_above_threshold"])

    def test_flags_areas_at_or_above_the_threshold(self, values_2020_21):
        table = tg.ranked_table(values_2020_21, threshold=46.2).set_index("area_name")
        assert table["at_or_above_threshold"].to_dict() == {
            "Redcar and Cleveland": True,
            "Stockton-on-Tees": False,
            "Hartlepool": False,
            "Middlesbrough": False,
        }

    def test_adds_boundary_areas_absent_from_the_data_without_a_rank(self, values_2020_21, england_areas):
        table = tg.ranked_table(values_2020_21, threshold=48, all_areas=england_areas)
        assert (len(table), int(table["rank"].notna().sum())) == (len(england_areas), 4)


class TestMapClasses:
    def test_labels_show_the_threshold_as_a_class_start(self):
        _, labels = tg.map_classes([38, 48, 58, 68])
        assert labels == ["Less than 38%", "38% to under 48%", "48% to under 58%", "58% to under 68%", "68% or more"]

    def test_a_value_equal_to_a_break_falls_in_the_class_it_starts(self):
        from nao_analysis.maps import classify

        bounds, labels = tg.map_classes([38, 48, 58, 68])
        classes = classify(pd.Series([47.999, 48.0, 68.0]), bounds, labels)
        assert list(classes) == ["38% to under 48%", "48% to under 58%", "68% or more"]

    def test_breaks_out_of_order_are_refused(self):
        with pytest.raises(AnalysisError, match="increasing"):
            tg.map_classes([48, 38])


@pytest.fixture(scope="session")
def boundaries_2021(raw_file):
    from nao_analysis.readers.boundaries import read_ctyua_boundaries

    return read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))


class TestMapFrame:
    def test_keeps_every_boundary_area(self, values_2020_21, boundaries_2021):
        assert len(tg.map_frame(values_2020_21, boundaries_2021)) == len(boundaries_2021)

    def test_carries_the_values_onto_the_boundaries(self, values_2020_21, boundaries_2021):
        joined = tg.map_frame(values_2020_21, boundaries_2021).set_index("code")
        assert joined.loc["E06000003", "value"] == pytest.approx(46.41192917)

    def test_area_without_a_boundary_is_a_crosswalk_error(self, values_2020_21, boundaries_2021):
        from nao_analysis.errors import CrosswalkError

        without_hartlepool = boundaries_2021[boundaries_2021["code"] != "E06000001"]
        with pytest.raises(CrosswalkError, match="E06000001 Hartlepool"):
            tg.map_frame(values_2020_21, without_hartlepool)


class TestCompareAreaNames:
    """Named areas in a reconciliation note: the report shortens some names."""

    def test_shortened_published_name_matches_the_full_name(self):
        rebuilt = ["Bournemouth, Christchurch and Poole", "City of London", "Dorset", "Rutland"]
        assert tg.compare_area_names(["Bournemouth", "City of London", "Dorset", "Rutland"], rebuilt).startswith("areas as published")

    def test_different_lowest_area_is_named_in_the_note(self, values_2020_21):
        summary = tg.summarise(values_2020_21, threshold=48)
        note = tg.compare_area_names(["Northumberland"], summary.min_areas)
        assert "published but not rebuilt: Northumberland" in note and "rebuilt but not published: Middlesbrough" in note
