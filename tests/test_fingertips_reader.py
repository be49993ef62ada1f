"""The Fingertips all_data CSV reader, on the mirror's real samples (93517 and 93532) and on broken copies of them."""

from __future__ import annotations

import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers.fingertips import read_fingertips_csv


@pytest.fixture(scope="session")
def ocu(raw_file):
    return read_fingertips_csv(raw_file("fingertips_93517_sample"))


@pytest.fixture(scope="session")
def sample_text(raw_file) -> str:
    return raw_file("fingertips_93517_sample").read_text(encoding="utf-8-sig")


def write(tmp_path, text: str, name: str = "indicator.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestReadFingertipsCsvOnRealFiles:
    def test_reads_every_row_of_the_sample(self, ocu):
        assert len(ocu) == 13

    def test_keeps_one_indicator(self, ocu):
        assert set(ocu["indicator_id"]) == {93517}

    def test_financial_periods_become_years(self, ocu):
        assert sorted(ocu["year"].unique()) == ["2018-19", "2019-20", "2020-21"]

    def test_values_are_numbers(self, ocu):
        row = ocu[(ocu["area_name"] == "Hartlepool") & (ocu["year"] == "2020-21")].iloc[0]
        assert (row["value"], row["count"], row["denominator"]) == pytest.approx((45.37743851, 535, 1179))

    def test_england_row_has_no_parent(self, ocu):
        assert ocu.loc[ocu["area_code"] == "E92000001", "parent_code"].isna().all()

    def test_empty_breakdown_columns_are_missing_not_empty_strings(self, ocu):
        assert ocu["category_type"].isna().all()

    def test_keeps_the_95_percent_confidence_limits(self, ocu):
        assert (ocu["lower_ci_95"] < ocu["value"]).all() and (ocu["value"] < ocu["upper_ci_95"]).all()

    def test_reads_another_indicator_in_the_same_layout(self, raw_file):
        drinkers = read_fingertips_csv(raw_file("fingertips_93532_sample"))
        assert set(drinkers["indicator_id"]) == {93532}

    def test_accepts_the_newer_name_of_the_parent_comparison_column(self, tmp_path, sample_text):
        header, rest = sample_text.split("\n", 1)
        renamed = header.replace("Column not used", "Compared to Counties & UAs (from Apr 2021) value or percentiles")
        assert len(read_fingertips_csv(write(tmp_path, renamed + "\n" + rest))) == 13


class TestReadFingertipsCsvOnBadInput:
    def test_html_page_is_a_reader_error(self, tmp_path):
        path = write(tmp_path, "<!DOCTYPE html>\n<html><body>Service unavailable</body></html>\n")
        with pytest.raises(ReaderError, match="HTML page"):
            read_fingertips_csv(path)

    def test_missing_column_names_the_column(self, tmp_path, sample_text):
        header, rest = sample_text.split("\n", 1)
        path = write(tmp_path, header.replace(",Denominator,", ",Denominators,") + "\n" + rest)
        with pytest.raises(ReaderError, match=r"\[column 'Denominator'\]"):
            read_fingertips_csv(path)

    def test_non_numeric_value_names_the_column(self, tmp_path, sample_text):
        path = write(tmp_path, sample_text.replace(",45.37743851,", ",n/a,"))
        with pytest.raises(ReaderError, match=r"\[column 'Value'\]: row 11: 'n/a' is not a number"):
            read_fingertips_csv(path)

    def test_header_without_rows_is_a_reader_error(self, tmp_path, sample_text):
        path = write(tmp_path, sample_text.split("\n", 1)[0] + "\n")
        with pytest.raises(ReaderError, match="no data rows"):
            read_fingertips_csv(path)

    def test_error_is_one_line_naming_the_file(self, tmp_path):
        path = write(tmp_path, "a,b\n1,2\n", name="not_fingertips.csv")
        with pytest.raises(ReaderError) as caught:
            read_fingertips_csv(path)
        assert "\n" not in str(caught.value) and "not_fingertips.csv" in str(caught.value)
