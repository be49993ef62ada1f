"""DLUHC revenue account readers: every RO3/RA layout in the mirror, lines found by label."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers_mirror import NEW_LINES, OLD_LINES

from nao_analysis.analysis.spending_change import line_patterns, lines_for_year
from nao_analysis.errors import ReaderError
from nao_analysis.readers.revenue_account import parse_gbp_thousands, read_revenue_account, read_revenue_account_totals

#: Every revenue account file in the mirror with the financial year it holds.
MIRROR_FILES = {
    "ro3_outturn_2013_14": "2013-14",
    "ra_budget_2014_15": "2014-15",
    "ra_budget_2021_22_csv": "2021-22",
    "ro3_outturn_2022_23": "2022-23",
}


def value(frame: pd.DataFrame, authority: str, line_id: str) -> float:
    row = frame[(frame["authority"] == authority) & (frame["line_id"] == line_id)]
    assert len(row) == 1, f"{authority} {line_id}: {len(row)} rows"
    return row["value_gbp_thousands"].item()


class TestReadRevenueAccountRo3Xls2013:
    def test_england_totals_match_the_issue(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2013_14"), OLD_LINES)
        totals = frame.groupby("line_id")["value_gbp_thousands"].sum()
        assert totals["adult_drug_misuse"] == 532_376
        assert totals["adult_alcohol_misuse"] == 190_353

    def test_sum_of_authorities_equals_the_files_england_row(self, raw_file):
        path = raw_file("ro3_outturn_2013_14")
        frame = read_revenue_account(path, OLD_LINES)
        assert frame.groupby("line_id")["value_gbp_thousands"].sum().to_dict() == read_revenue_account_totals(path, OLD_LINES).to_dict()

    def test_reads_the_net_current_expenditure_sheet(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2013_14"), OLD_LINES)
        assert frame.attrs["sheet"] == "RO3 LA Data 2013-14 (3)"
        assert frame.attrs["layout"] == "per_line_subcolumns"

    def test_has_e_codes_only(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2013_14"), OLD_LINES)
        assert frame["ons_code"].isna().all()
        assert value(frame, "Bournemouth UA", "adult_drug_misuse") == 3700

    def test_keeps_every_class(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2013_14"), OLD_LINES)
        assert {"UA", "SC", "MD", "L", "SD", "O"} <= set(frame["class"])


class TestReadRevenueAccountRaXls2014:
    def test_reads_the_net_current_expenditure_sheet_not_net_total_cost(self, raw_file):
        frame = read_revenue_account(raw_file("ra_budget_2014_15"), OLD_LINES)
        assert frame.attrs["sheet"] == "RA LA Data 2014-15 (1)"
        assert frame.attrs["layout"] == "one_column_per_line"

    def test_sum_of_authorities_equals_the_files_england_row(self, raw_file):
        path = raw_file("ra_budget_2014_15")
        frame = read_revenue_account(path, OLD_LINES)
        assert frame.groupby("line_id")["value_gbp_thousands"].sum().to_dict() == read_revenue_account_totals(path, OLD_LINES).to_dict()


class TestReadRevenueAccountRaCsv2021:
    def test_parses_thousands_separators(self, raw_file):
        frame = read_revenue_account(raw_file("ra_budget_2021_22_csv"), NEW_LINES)
        assert value(frame, "Bristol UA", "adult_drug_treatment") == 7_181

    def test_carries_ons_codes(self, raw_file):
        frame = read_revenue_account(raw_file("ra_budget_2021_22_csv"), NEW_LINES)
        assert frame.loc[frame["e_code"] == "E1204", "ons_code"].unique().tolist() == ["E06000058"]

    def test_imputed_returns_are_no_data_not_zero(self, raw_file):
        frame = read_revenue_account(raw_file("ra_budget_2021_22_csv"), NEW_LINES)
        assert math.isnan(value(frame, "The Medway Towns UA", "adult_drug_treatment"))


class TestReadRevenueAccountRo3Ods2022:
    def test_reads_line_names_row_and_column_names_row(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2022_23"), NEW_LINES)
        assert frame.attrs["sheet"] == "RO3_LA_Data_2022-23"
        assert frame.attrs["layout"] == "per_line_subcolumns"
        assert value(frame, "West Sussex", "adult_drug_treatment") == 694

    def test_slough_is_no_data_not_zero(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2022_23"), NEW_LINES)
        slough = frame[frame["authority"] == "Slough"]
        assert len(slough) == 2 and slough["value_gbp_thousands"].isna().all()

    def test_second_table_on_the_sheet_is_not_read(self, raw_file):
        frame = read_revenue_account(raw_file("ro3_outturn_2022_23"), NEW_LINES)
        assert not frame.duplicated(["e_code", "line_id"]).any()
        assert (frame["e_code"] == "E5100").sum() == len(NEW_LINES)


class TestLineLookup:
    @pytest.mark.parametrize("source_id", sorted(MIRROR_FILES))
    def test_every_mapped_line_of_the_year_is_found(self, raw_file, settings, source_id):
        mapping = pd.read_csv(settings.manual_dir / "ro_line_mapping.csv", dtype=str, keep_default_na=False)
        lines = line_patterns(lines_for_year(mapping, MIRROR_FILES[source_id]))
        frame = read_revenue_account(raw_file(source_id), lines)
        assert set(frame["line_id"]) == set(lines)

    def test_a_missing_line_is_an_error_naming_it_and_the_closest_labels(self, raw_file):
        with pytest.raises(
            ReaderError,
            match=r"line 'Substance misuse - Treatment for drug misuse in adults' \(adult_drug_treatment\) not found; "
            r"closest labels in the file: 'Substance misuse - Drug misuse - adults'",
        ):
            read_revenue_account(raw_file("ro3_outturn_2013_14"), {"adult_drug_treatment": NEW_LINES["adult_drug_treatment"]})

    def test_the_error_is_one_line(self, raw_file):
        with pytest.raises(ReaderError) as caught:
            read_revenue_account(raw_file("ra_budget_2021_22_csv"), OLD_LINES)
        assert "\n" not in str(caught.value) and "RA_2021-22_data_by_LA.csv" in str(caught.value)

    def test_columns_moved_in_a_future_file_still_work(self, tmp_path):
        moved = tmp_path / "RA_2030-31.csv"
        moved.write_text(
            "Revenue Account Budget (RA) 2030-31,,,,\n"
            "Net current expenditure (£ thousand),,,,\n"
            "Class,E-code,Substance misuse - Treatment for alcohol misuse in adults,Local authority,"
            "Substance misuse - Treatment for drug misuse in adults\n"
            'UA,E0101,"1,234",Bath UA,[x]\n'
            ",,999,ENGLAND,999\n"
        )
        frame = read_revenue_account(moved, NEW_LINES)
        assert value(frame, "Bath UA", "adult_alcohol_treatment") == 1234
        assert math.isnan(value(frame, "Bath UA", "adult_drug_treatment"))

    def test_a_sheet_without_net_current_expenditure_is_refused(self, tmp_path):
        capital = tmp_path / "RA_capital.csv"
        capital.write_text(
            "Capital items (£ thousand),,\nE-code,Local authority,Substance misuse - Treatment for drug misuse in adults\nE0101,Bath UA,5\n"
        )
        with pytest.raises(ReaderError, match="no net current expenditure column"):
            read_revenue_account(capital, {"adult_drug_treatment": NEW_LINES["adult_drug_treatment"]})

    def test_no_e_code_header_is_an_error(self, tmp_path):
        bad = tmp_path / "not_ra.csv"
        bad.write_text("a,b\n1,2\n")
        with pytest.raises(ReaderError, match="no sheet has an 'E-code' header cell"):
            read_revenue_account(bad, NEW_LINES)

    def test_unknown_text_in_a_value_cell_is_an_error(self, tmp_path):
        odd = tmp_path / "odd.csv"
        odd.write_text(
            "Net current expenditure (£ thousand),,\n"
            "E-code,Local authority,Substance misuse - Treatment for drug misuse in adults\n"
            "E0101,Bath UA,see note\n"
        )
        with pytest.raises(
            ReaderError,
            match=r"odd.csv: row 3, column 'Substance misuse - Treatment for drug misuse in adults' \(C\): 'see note' is not a number",
        ):
            read_revenue_account(odd, {"adult_drug_treatment": NEW_LINES["adult_drug_treatment"]})


class TestParseGbpThousands:
    def test_thousands_separator(self):
        assert parse_gbp_thousands("75,860") == 75_860

    @pytest.mark.parametrize("cell", ["", "[x]", "...", "..", None])
    def test_no_data_markers_are_nan(self, cell):
        assert math.isnan(parse_gbp_thousands(cell))

    def test_zero_stays_zero(self):
        assert parse_gbp_thousands("0") == 0.0
