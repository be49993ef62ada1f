"""Formats and what a file serves are recognised from content (readers.detect.identify and each reader's detect)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_mirror import mirror_path

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import load_cells
from nao_analysis.readers.detect import Detected, identify


class TestIdentifyRealFiles:
    @pytest.mark.parametrize(
        ("source_id", "fmt", "serves"),
        [
            ("ro3_outturn_2013_14", "ro3_xls", {"basis": "outturn", "year": "2013-14"}),
            ("ra_budget_2014_15", "ra_xls", {"basis": "budget", "year": "2014-15"}),
            ("ra_budget_2021_22_csv", "ra_csv", {"basis": "budget", "year": "2021-22"}),
            ("ons_drug_deaths_2016reg", "ons_drug_deaths_table1", {"registration_edition": 2016}),
            ("ons_drug_deaths_england_2023reg_extract", "ons_drug_deaths_extract_csv", {"registration_edition": 2023}),
            ("ndtms_viewit_england_total_2009_2024", "ndtms_viewit_wide_csv", {"first_year": "2009-10", "last_year": "2023-24"}),
            ("ons_ybgb_gdp_deflator_2025_06", "ons_timeseries_csv", {"deflator_vintage": "2025-06", "deflator_last_year": "2024-25"}),
            ("csew_drug_use_2018_19_extract", "csew_tidy_csv", {"survey_edition": "2018/19"}),
            ("fingertips_93517_sample", "fingertips_csv", {"indicator_id": 93517, "years": ["2018-19", "2019-20", "2020-21"]}),
        ],
    )
    def test_registered_file_is_recognised_with_what_it_serves(self, raw_file, source_id, fmt, serves):
        found = identify(raw_file(source_id))
        assert found.format == fmt
        assert {k: found.serves[k] for k in serves} == serves

    def test_reader_is_named_by_dotted_path(self, raw_file):
        assert identify(raw_file("ra_budget_2021_22_csv")).reader == "nao_analysis.readers.revenue_account.read_revenue_account"

    @pytest.mark.parametrize(
        ("relative", "fmt", "serves"),
        [
            (
                "ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2022reg.xlsx",
                "ons_drug_deaths_table1",
                {"registration_edition": 2022},
            ),
            (
                "deflators/GDP_Deflators_Qtrly_National_Accounts_December_2023_update.csv",
                "hmt_deflator_csv",
                {"deflator_vintage": "2023-12", "deflator_last_year": "2022-23"},
            ),
            (
                "ons-deaths/drug_poisoning_deaths_by_la_1993_2020_registrations_extract.csv",
                "ons_drug_deaths_by_la_csv",
                {"registration_edition": 2020},
            ),
            ("revenue-account/RSX_2021-22_data_by_LA_Live.csv", "rsx_csv", {"basis": "outturn", "year": "2021-22"}),
        ],
    )
    def test_newly_mirrored_file_is_recognised(self, relative, fmt, serves):
        found = identify(mirror_path(relative))
        assert (found.format, {k: found.serves[k] for k in serves}) == (fmt, serves)

    @pytest.mark.parametrize(
        ("source_id", "reader", "serves"),
        [
            ("lookup_la_code_changes_2018_2025", "read_code_changes", {"lookup": "la_code_changes"}),
            (
                "lookup_ltla21_utla21_apr2021",
                "read_district_upper_tier_lookup",
                {"lookup": "district_upper_tier", "lookup_vintage": "2021"},
            ),
            (
                "lookup_ltla23_utla23_geographr",
                "read_district_upper_tier_lookup",
                {"lookup": "district_upper_tier", "lookup_vintage": "2023"},
            ),
        ],
    )
    def test_lookup_is_recognised_with_its_reader(self, raw_file, source_id, reader, serves):
        found = identify(raw_file(source_id))
        assert (found.reader.rsplit(".", 1)[1], found.serves) == (reader, serves)

    def test_boundary_file_is_recognised_by_structure(self, raw_file):
        assert identify(raw_file("boundaries_ctyua_dec2021_buc")).format == "shapefile"

    def test_result_is_a_detected_record(self, raw_file):
        assert isinstance(identify(raw_file("fingertips_93517_sample")), Detected)


class TestRefusals:
    def _refused(self, path, fragment):
        with pytest.raises(ReaderError) as caught:
            identify(path)
        assert "\n" not in str(caught.value) and str(path) in str(caught.value) and fragment in str(caught.value)

    def test_empty_file(self, tmp_path):
        path = tmp_path / "RA_2023-24.csv"
        path.write_bytes(b"")
        self._refused(path, "empty")

    def test_file_of_blank_lines(self, tmp_path):
        path = tmp_path / "RA_2023-24.csv"
        path.write_text("\n\n  \n,,,\n\n")
        self._refused(path, "only blank lines")

    def test_html_page_saved_as_csv(self, tmp_path):
        path = tmp_path / "RA_2023-24.csv"
        path.write_text("<!DOCTYPE html><html><head><title>Page not found</title></head><body></body></html>")
        self._refused(path, "HTML page")

    def test_utf16_export(self, raw_file, tmp_path):
        path = tmp_path / "RA_2021-22.csv"
        path.write_bytes(raw_file("ra_budget_2021_22_csv").read_text(encoding="utf-8-sig").encode("utf-16"))
        self._refused(path, "UTF-16")

    def test_unrecognised_file(self, raw_file):
        self._refused(raw_file("fingertips_93517_metadata"), "no reader recognises this file")

    def test_revenue_account_without_its_title_rows_is_refused_not_guessed(self, raw_file, tmp_path):
        import csv

        cells = load_cells(raw_file("ra_budget_2021_22_csv"))[None]
        header = next(r for r in range(20) if cells[r, 0] == "E-code")
        path = tmp_path / "RA_export.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(np.asarray(cells[header:]).tolist())
        self._refused(path, "no title row saying outturn or budget and which year")
