"""GDP deflator readers (ONS CSV, HM Treasury xlsx) and real-terms rebasing.

The HM Treasury workbook (source hmt_gdp_deflators_2023_09) is not in the offline mirror, so its layout is
tested on a small synthetic workbook of the same shape written in tmp_path.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nao_analysis.analysis.real_terms import price_factor, rebase_deflator, to_real_terms
from nao_analysis.errors import AnalysisError, ReaderError
from nao_analysis.readers.deflators import read_deflator, read_hmt_deflator, read_ons_deflator, read_ons_timeseries


def write_hmt_workbook(path, rows):
    """A workbook laid out like HM Treasury's: title rows, a two-row header, financial years in column B."""
    header = [
        ["GDP deflators at market prices, and money GDP: September 2023 (Quarterly National Accounts)", None, None, None],
        [None, None, None, None],
        [None, None, "GDP deflator at market prices", "Money GDP"],
        [None, "Financial year", "2022-23=100", "£ million"],
    ]
    body = [[None, year, deflator, 1000.0] for year, deflator in rows]
    pd.DataFrame(header + body).to_excel(path, sheet_name="Deflators", header=False, index=False)
    return path


class TestReadOnsDeflator:
    def test_financial_year_is_the_mean_of_q2_to_next_q1(self, raw_file):
        path = raw_file("ons_ybgb_gdp_deflator_2025_06")
        quarters = read_ons_timeseries(path).set_index("period")["value"]
        expected = quarters[["2022 Q2", "2022 Q3", "2022 Q4", "2023 Q1"]].mean()
        deflator = read_ons_deflator(path).set_index("financial_year")["deflator"]
        assert deflator["2022-23"] == pytest.approx(expected)

    def test_incomplete_financial_year_is_left_out(self, raw_file):
        deflator = read_ons_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06"))
        assert deflator["financial_year"].max() == "2024-25"

    def test_records_series_and_vintage(self, raw_file):
        deflator = read_ons_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06"))
        assert deflator.attrs["series"] == "YBGB"
        assert deflator.attrs["release_date"] == "30-06-2025"

    def test_a_csv_without_cdid_is_an_error(self, tmp_path):
        bad = tmp_path / "series.csv"
        bad.write_text('"Title","x"\n"2020 Q1","1.0"\n')
        with pytest.raises(ReaderError, match="no 'CDID' metadata row"):
            read_ons_deflator(bad)


class TestReadHmtDeflator:
    def test_reads_financial_years_from_the_deflator_column(self, tmp_path):
        path = write_hmt_workbook(tmp_path / "hmt.xlsx", [("2014-15", 81.2), ("2021-22", 95.5), ("2022-23", 100.0)])
        deflator = read_hmt_deflator(path).set_index("financial_year")["deflator"]
        assert deflator.to_dict() == {"2014-15": 81.2, "2021-22": 95.5, "2022-23": 100.0}

    def test_records_the_base_year_from_the_header(self, tmp_path):
        path = write_hmt_workbook(tmp_path / "hmt.xlsx", [("2014-15", 81.2), ("2021-22", 95.5), ("2022-23", 100.0)])
        assert read_hmt_deflator(path).attrs["base"] == "2022-23=100"

    def test_footnote_markers_after_the_year_are_ignored(self, tmp_path):
        path = write_hmt_workbook(tmp_path / "hmt.xlsx", [("2014-15", 81.2), ("2021-22", 95.5), ("2023-24 (3)", 104.9)])
        assert "2023-24" in set(read_hmt_deflator(path)["financial_year"])

    def test_dispatch_by_file_type(self, tmp_path):
        path = write_hmt_workbook(tmp_path / "hmt.xlsx", [("2014-15", 81.2), ("2021-22", 95.5), ("2022-23", 100.0)])
        assert read_deflator(path).attrs["layout"] == "hmt_deflator_xlsx"

    def test_a_workbook_without_financial_years_is_an_error(self, tmp_path):
        path = tmp_path / "other.xlsx"
        pd.DataFrame([["a", 1], ["b", 2]]).to_excel(path, header=False, index=False)
        with pytest.raises(ReaderError, match="no sheet has a column of financial years"):
            read_hmt_deflator(path)


class TestRebaseDeflator:
    def test_price_year_becomes_100(self, raw_file):
        rebased = rebase_deflator(read_ons_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06")), "2022-23")
        assert rebased.set_index("financial_year").loc["2022-23", "index_price_year_100"] == pytest.approx(100.0)

    def test_factor_is_price_year_over_year(self, raw_file):
        deflator = read_ons_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06"))
        rebased = rebase_deflator(deflator, "2022-23")
        values = deflator.set_index("financial_year")["deflator"]
        assert price_factor(rebased, "2014-15") == pytest.approx(values["2022-23"] / values["2014-15"])

    def test_unknown_price_year_is_an_error(self, raw_file):
        with pytest.raises(AnalysisError, match="price_year '2030-31' is not in the deflator series"):
            rebase_deflator(read_ons_deflator(raw_file("ons_ybgb_gdp_deflator_2025_06")), "2030-31")


class TestToRealTerms:
    def test_converts_cash_to_price_year(self):
        rebased = rebase_deflator(pd.DataFrame({"financial_year": ["2014-15", "2022-23"], "deflator": [80.0, 100.0]}), "2022-23")
        assert to_real_terms(800.0, "2014-15", rebased) == pytest.approx(1000.0)

    def test_no_data_stays_no_data(self):
        rebased = rebase_deflator(pd.DataFrame({"financial_year": ["2014-15", "2022-23"], "deflator": [80.0, 100.0]}), "2022-23")
        assert to_real_terms(pd.Series([float("nan")]), "2014-15", rebased).isna().all()

    def test_year_outside_the_series_is_an_error(self):
        rebased = rebase_deflator(pd.DataFrame({"financial_year": ["2014-15", "2022-23"], "deflator": [80.0, 100.0]}), "2022-23")
        with pytest.raises(AnalysisError, match="year '2010-11' is not in the deflator series"):
            to_real_terms(1.0, "2010-11", rebased)
