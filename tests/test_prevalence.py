"""Figure 1 series assembly: table values, quoted points, the survey gap and table-vs-quoted flags."""

from __future__ import annotations

import pandas as pd
import project_paths as paths
import pytest

from nao_analysis.analysis.prevalence import (
    chart_series,
    quoted_series,
    rebuilt_value,
    survey_gap,
    table_series,
    table_vs_quoted,
    validate_quoted_points,
)
from nao_analysis.errors import AnalysisError
from nao_analysis.readers.csew import combine_editions, read_csew_appendix_tables, read_csew_tidy_extract

HEADLINE = ["Any drug", "Any Class A drug", "Cannabis", "Any cocaine"]
GAP = {"gap_start": pd.Timestamp(2020, 3, 31), "gap_end": pd.Timestamp(2021, 10, 1)}


@pytest.fixture(scope="module")
def combined(raw_file):
    return combine_editions(
        [
            read_csew_appendix_tables(raw_file("csew_drug_misuse_2016_17")),
            read_csew_tidy_extract(raw_file("csew_drug_use_2017_18_extract")),
            read_csew_tidy_extract(raw_file("csew_drug_use_2018_19_extract")),
        ]
    )


@pytest.fixture(scope="module")
def quoted():
    return validate_quoted_points(pd.read_csv(paths.manual_dir() / "csew_quoted_points.csv"))


@pytest.fixture(scope="module")
def series(combined, quoted):
    table = table_series(combined, age_group="16-59", measure="last_year", drugs=HEADLINE, first_survey_year="2010/11")
    points = quoted_series(quoted, age_group="16-59", measure="last_year", drugs=HEADLINE)
    return chart_series(table, points)


class TestValidateQuotedPoints:
    def test_every_row_has_a_document_and_citation(self, quoted):
        assert quoted["document"].str.len().gt(0).all() and quoted["citation"].str.len().gt(0).all()

    def test_report_values_for_year_ending_june_2022(self, quoted):
        nao = quoted[quoted["document"].str.startswith("NAO") & (quoted["year_ending"] == pd.Timestamp(2022, 6, 30))]
        values = nao.set_index(["age_group", "drug_type"])["percent"].to_dict()
        assert values == {
            ("16-59", "Any drug"): 9.2,
            ("16-59", "Any Class A drug"): 2.7,
            ("16-24", "Any drug"): 18.6,
            ("16-24", "Any Class A drug"): 4.7,
        }

    def test_missing_column_is_named(self, quoted):
        with pytest.raises(AnalysisError, match=r"quoted.csv: .*citation"):
            validate_quoted_points(quoted.drop(columns="citation"), name="quoted.csv")


class TestTableSeries:
    def test_starts_at_2010_11_and_ends_at_the_newest_table_year(self, series):
        any_drug = series[(series["drug_type"] == "Any drug") & (series["origin"] == "table")]
        assert any_drug["period_label"].iloc[0] == "2010/11" and any_drug["period_label"].iloc[-1] == "2018/19"

    def test_cocaine_is_named_as_in_figure_1(self, series):
        assert set(series.loc[series["drug_type"] == "Any cocaine", "series"]) == {"Cocaine"}

    def test_values_carry_their_edition(self, series):
        row = series[(series["drug_type"] == "Any drug") & (series["period_label"] == "2018/19")]
        assert row["edition"].item() == "2018/19"

    def test_unknown_drug_fails_listing_the_choices(self, combined):
        with pytest.raises(AnalysisError, match=r"no 16-59 last_year values for \['Spice'\]"):
            table_series(combined, age_group="16-59", measure="last_year", drugs=["Spice"], first_survey_year="2010/11")

    def test_unknown_first_year_fails(self, combined):
        with pytest.raises(AnalysisError, match=r"no survey year '2010/12'"):
            table_series(combined, age_group="16-59", measure="last_year", drugs=HEADLINE, first_survey_year="2010/12")


class TestQuotedSeries:
    def test_quoted_points_are_marked_quoted(self, series):
        quoted_rows = series[series["origin"] == "quoted"]
        assert set(quoted_rows["period_label"]) == {"Year ending March 2020", "Year ending June 2022"}

    def test_same_value_from_two_documents_is_one_point_citing_both(self, series):
        point = series[(series["drug_type"] == "Any drug") & (series["period_label"] == "Year ending March 2020")]
        assert len(point) == 1 and "annual report" in point["citation"].item() and "ONS" in point["citation"].item()

    def test_documents_that_disagree_are_an_error(self, quoted):
        clash = pd.concat([quoted, quoted.iloc[[0]].assign(percent=9.3)], ignore_index=True)
        with pytest.raises(AnalysisError, match="quoted points disagree"):
            quoted_series(clash, age_group="16-59", measure="last_year", drugs=HEADLINE)


class TestSurveyGap:
    def test_gap_lies_between_march_2020_and_june_2022_points(self, series):
        gap = survey_gap(series, **GAP)
        assert (gap["last_before"], gap["first_after"]) == ("Year ending March 2020", "Year ending June 2022")

    def test_point_inside_the_gap_is_an_error(self, series):
        with pytest.raises(AnalysisError, match="inside the survey gap"):
            survey_gap(series, gap_start=pd.Timestamp(2019, 1, 1), gap_end=pd.Timestamp(2021, 10, 1))

    def test_gap_ending_before_it_starts_is_an_error(self, series):
        with pytest.raises(AnalysisError, match="ends .* before it starts"):
            survey_gap(series, gap_start=GAP["gap_end"], gap_end=GAP["gap_start"])


class TestTableVsQuoted:
    def test_no_table_in_the_mirror_for_quoted_years(self, combined, quoted):
        flags = table_vs_quoted(combined, quoted)
        assert set(flags["status"]) == {"no table available"}

    def test_quoted_value_rounding_a_table_value_agrees(self, combined, quoted):
        table_value = rebuilt_value(
            combined, age_group="16-59", measure="last_year", drug_type="Any drug", year_ending=pd.Timestamp(2019, 3, 31)
        )
        pseudo = quoted.iloc[[0]].assign(year_ending=pd.Timestamp(2019, 3, 31), percent=round(table_value, 1), decimals=1)
        assert table_vs_quoted(combined, pseudo)["status"].item() == "agrees with table"

    def test_quoted_value_off_by_more_than_rounding_differs(self, combined, quoted):
        table_value = rebuilt_value(
            combined, age_group="16-59", measure="last_year", drug_type="Any drug", year_ending=pd.Timestamp(2019, 3, 31)
        )
        pseudo = quoted.iloc[[0]].assign(year_ending=pd.Timestamp(2019, 3, 31), percent=round(table_value + 0.3, 1), decimals=1)
        assert table_vs_quoted(combined, pseudo)["status"].item() == "differs from table"


class TestRebuiltValue:
    def test_year_ending_june_2022_has_no_table_in_the_mirror(self, combined):
        assert (
            rebuilt_value(combined, age_group="16-59", measure="last_year", drug_type="Any drug", year_ending=pd.Timestamp(2022, 6, 30))
            is None
        )

    def test_2018_19_any_drug_from_the_newest_edition(self, combined):
        value = rebuilt_value(combined, age_group="16-59", measure="last_year", drug_type="Any drug", year_ending=pd.Timestamp(2019, 3, 31))
        assert value == pytest.approx(9.42, abs=0.005)
