"""CSEW drug-use tables: the Home Office appendix workbook, the tidy extracts, and combining editions."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers.csew import (
    combine_editions,
    read_csew,
    read_csew_appendix_tables,
    read_csew_tidy_extract,
    strip_footnote_marker,
    survey_year_label,
)


@pytest.fixture(scope="module")
def tables_1617(raw_file):
    return read_csew_appendix_tables(raw_file("csew_drug_misuse_2016_17"))


@pytest.fixture(scope="module")
def extract_1718(raw_file):
    return read_csew_tidy_extract(raw_file("csew_drug_use_2017_18_extract"))


@pytest.fixture(scope="module")
def extract_1819(raw_file):
    return read_csew_tidy_extract(raw_file("csew_drug_use_2018_19_extract"))


def value(frame: pd.DataFrame, age_group: str, measure: str, drug: str, year: str) -> float:
    return frame.query("age_group == @age_group and measure == @measure and drug_type == @drug and survey_year == @year")["percent"].item()


class TestStripFootnoteMarker:
    def test_trailing_digit(self):
        assert strip_footnote_marker("Any Class A drug6") == "Any Class A drug"

    def test_trailing_space_and_digit(self):
        assert strip_footnote_marker(" Ketamine1 ") == "Ketamine"

    def test_bracketed_note(self):
        assert strip_footnote_marker("Cannabis [note 3]") == "Cannabis"

    def test_name_without_marker_unchanged(self):
        assert strip_footnote_marker("Powder cocaine") == "Powder cocaine"


class TestSurveyYearLabel:
    def test_calendar_year_read_as_float(self):
        assert survey_year_label(1996.0) == "1996"

    def test_financial_year(self):
        assert survey_year_label("2016/17") == "2016/17"

    def test_change_column_is_not_a_year(self):
        assert survey_year_label("2015/16 to 2016/17") is None

    def test_non_consecutive_years_rejected(self):
        assert survey_year_label("2016/18") is None


class TestReadCsewAppendixTables:
    def test_finds_the_six_prevalence_tables_by_title(self, tables_1617):
        found = tables_1617.groupby(["table", "age_group", "measure"]).size().index.tolist()
        assert found == [
            ("1.01", "16-59", "ever"),
            ("1.02", "16-59", "last_year"),
            ("1.03", "16-59", "last_month"),
            ("1.05", "16-24", "ever"),
            ("1.06", "16-24", "last_year"),
            ("1.07", "16-24", "last_month"),
        ]

    def test_any_drug_last_year_16_59_2016_17(self, tables_1617):
        assert value(tables_1617, "16-59", "last_year", "Any drug", "2016/17") == pytest.approx(8.476737, abs=1e-6)

    def test_any_class_a_last_year_16_24_2016_17(self, tables_1617):
        # Table 1.06, row "Any Class A drug6": the footnote marker is gone from the name.
        assert "Any Class A drug" in set(tables_1617["drug_type"])
        assert value(tables_1617, "16-24", "last_year", "Any Class A drug", "2016/17") > 0

    def test_no_drug_name_keeps_a_footnote_digit(self, tables_1617):
        assert not tables_1617["drug_type"].str.contains(r"\d$").any()

    def test_class_headings_and_bases_are_not_drugs(self, tables_1617):
        assert not {"Class A", "Class A/B", "Unweighted base"} & set(tables_1617["drug_type"])

    def test_series_runs_1996_to_2016_17(self, tables_1617):
        years = set(tables_1617["survey_year"])
        assert {"1996", "2010/11", "2016/17"} <= years and "2017/18" not in years

    def test_edition_is_taken_from_the_titles(self, tables_1617):
        assert set(tables_1617["edition"]) == {"2016/17"}

    def test_glues_not_asked_after_2009_10_leaves_no_value(self, tables_1617):
        glues = tables_1617.query("drug_type == 'Glues' and measure == 'last_year' and age_group == '16-59'")
        assert glues["survey_year"].max() == "2009/10"

    def test_filter_by_measure_and_age_group(self, raw_file):
        frame = read_csew_appendix_tables(raw_file("csew_drug_misuse_2016_17"), measures=["last_year"], age_groups=["16-24"])
        assert set(frame["measure"]) == {"last_year"} and set(frame["age_group"]) == {"16-24"}

    def test_workbook_without_prevalence_tables_fails_naming_the_file(self, tmp_path):
        bad = tmp_path / "ons_layout.xlsx"
        pd.DataFrame({"A": ["Table 1: Drug use by age [note 1]", "Any drug", "9.2"]}).to_excel(bad, header=False, index=False)
        with pytest.raises(ReaderError, match=r"ons_layout.xlsx: no sheet titled 'Proportion of 16 to 59 year olds"):
            read_csew_appendix_tables(bad)

    def test_table_without_year_header_fails_naming_the_sheet(self, tmp_path):
        bad = tmp_path / "no_years.xlsx"
        rows = [
            ["Table 1.02  Proportion of 16 to 59 year olds reporting use of drugs in the last year", None],
            [None, None],
            ["Any drug7", 9.4],
        ]
        pd.DataFrame(rows).to_excel(bad, sheet_name="1.02", header=False, index=False)
        with pytest.raises(ReaderError, match=r"no_years.xlsx \[sheet '1.02'\]: .*no header row of survey years"):
            read_csew_appendix_tables(bad)

    def test_unexpected_cell_text_fails_naming_row_and_year(self, tmp_path):
        bad = tmp_path / "text_cell.xlsx"
        rows = [
            ["Table 1.02  Proportion of 16 to 59 year olds reporting use of drugs in the last year, 1996 to 2016/17", None, None, None],
            [None, "2014/15", "2015/16", "2016/17"],
            ["Any drug7", 8.6, "about 8", 8.5],
        ]
        pd.DataFrame(rows).to_excel(bad, sheet_name="1.02", header=False, index=False)
        with pytest.raises(ReaderError, match=r"row 3, column '2015/16' \(C\) \(row label 'Any drug'\): 'about 8' is not a number"):
            read_csew_appendix_tables(bad)

    def test_html_error_page_is_reported_as_such(self, tmp_path):
        bad = tmp_path / "drug-misuse-1718-tables.xlsx"
        bad.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
        with pytest.raises(ReaderError, match=r"is an HTML page"):
            read_csew_appendix_tables(bad)


class TestReadCsewTidyExtract:
    def test_estimate_is_converted_to_percent(self, extract_1819):
        assert value(extract_1819, "16-59", "last_year", "Any drug", "2018/19") == pytest.approx(9.417852, abs=1e-5)

    def test_edition_is_the_latest_survey_year(self, extract_1718, extract_1819):
        assert set(extract_1718["edition"]) == {"2017/18"} and set(extract_1819["edition"]) == {"2018/19"}

    def test_en_dash_age_groups_are_normalised(self, extract_1819):
        assert set(extract_1819["age_group"]) == {"16-59", "16-24"}

    def test_gaps_listed_in_the_manifest(self, extract_1718, extract_1819):
        # The 2017/18 extract lacks "Any drug"; the 2018/19 extract lacks "Any Class A drug".
        assert "Any drug" not in set(extract_1718["drug_type"])
        assert "Any Class A drug" not in set(extract_1819["drug_type"])

    def test_not_asked_rows_are_left_out(self, extract_1718):
        assert not extract_1718.query("drug_type == 'Mephedrone' and survey_year == '1996'").shape[0]

    def test_missing_column_is_named(self, tmp_path):
        bad = tmp_path / "extract.csv.gz"
        with gzip.open(bad, "wt") as handle:
            handle.write("age_group,drug_type,year,estimate\n16–59 years,Any drug,2018/19,0.094\n")
        with pytest.raises(ReaderError, match=r"extract.csv.gz \[column 'period'\]: missing column"):
            read_csew_tidy_extract(bad)

    def test_percentages_instead_of_proportions_rejected(self, tmp_path):
        bad = tmp_path / "extract.csv"
        bad.write_text("age_group,drug_type,period,estimate\n16–59 years,Any drug,2018/19,9.4\n")
        with pytest.raises(ReaderError, match=r"\[column 'estimate'\]: estimate must be a proportion"):
            read_csew_tidy_extract(bad)


class TestReadCsew:
    def test_dispatches_on_registry_format(self, raw_file):
        frame = read_csew(raw_file("csew_drug_use_2018_19_extract"), "csew_tidy_csv")
        assert set(frame["source_format"]) == {"third_party_extract"}

    def test_unknown_format_is_named(self, tmp_path):
        with pytest.raises(ReaderError, match=r"no CSEW reader for format 'csew_pdf'"):
            read_csew(tmp_path / "x.pdf", "csew_pdf")


class TestCombineEditions:
    def test_newest_edition_wins_for_overlapping_years(self, tables_1617, extract_1718, extract_1819):
        combined = combine_editions([tables_1617, extract_1718, extract_1819])
        row = combined.query("age_group == '16-59' and measure == 'last_year' and drug_type == 'Cannabis' and survey_year == '2016/17'")
        assert row["edition"].item() == "2018/19"
        assert row["percent"].item() == pytest.approx(value(extract_1819, "16-59", "last_year", "Cannabis", "2016/17"))

    def test_reweighting_changes_the_overlapping_value(self, tables_1617, extract_1819):
        # The 2016/17 value differs between editions: the reason the newest must win.
        assert value(tables_1617, "16-59", "last_year", "Cannabis", "2016/17") != pytest.approx(
            value(extract_1819, "16-59", "last_year", "Cannabis", "2016/17"), abs=1e-6
        )

    def test_value_missing_from_newest_comes_from_the_next_newest(self, tables_1617, extract_1718, extract_1819):
        combined = combine_editions([extract_1819, tables_1617, extract_1718])
        class_a = combined.query("age_group == '16-59' and measure == 'last_year' and drug_type == 'Any Class A drug'")
        assert class_a.set_index("survey_year").loc["2017/18", "edition"] == "2017/18"
        assert "2018/19" not in set(class_a["survey_year"])

    def test_superseded_editions_are_listed(self, tables_1617, extract_1718, extract_1819):
        combined = combine_editions([tables_1617, extract_1718, extract_1819])
        row = combined.query("age_group == '16-24' and measure == 'last_year' and drug_type == 'Cannabis' and survey_year == '2010/11'")
        assert row["superseded"].item() == "2017/18, 2016/17"

    def test_one_row_per_value(self, tables_1617, extract_1718, extract_1819):
        combined = combine_editions([tables_1617, extract_1718, extract_1819])
        assert not combined.duplicated(["age_group", "measure", "drug_type", "survey_year"]).any()

    def test_same_edition_twice_rejected(self, extract_1819):
        with pytest.raises(ValueError, match="same edition"):
            combine_editions([extract_1819, extract_1819])
