"""The one numeric grammar every reader uses (nao_analysis.readers.numbers), and its use on real files."""

from __future__ import annotations

import csv
import math

import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers.numbers import DECIMAL_NUMBERS, WHOLE_NUMBERS, cell_name, parse_number

WHERE = {"path": "file.csv", "sheet": "Data", "cell": "row 12, column 'Net current expenditure'"}


class TestAccepted:
    @pytest.mark.parametrize(("text", "expected"), [("1,085", 1085.0), ("1085", 1085.0), ("-76", -76.0), ("4,232,223", 4232223.0)])
    def test_whole_numbers_with_thousands_commas(self, text, expected):
        assert parse_number(text, WHOLE_NUMBERS, **WHERE) == expected

    @pytest.mark.parametrize(("text", "expected"), [("81.870", 81.87), ("-0.82", -0.82), ("1,342,153.5", 1342153.5)])
    def test_decimals_where_the_publisher_writes_them(self, text, expected):
        assert parse_number(text, DECIMAL_NUMBERS, **WHERE) == expected

    def test_numeric_cells_pass_through(self):
        assert parse_number(2846, WHOLE_NUMBERS, **WHERE) == 2846.0

    @pytest.mark.parametrize("marker", ["[x]", "..", "-", "c", "[c]", ":", "", "   ", None, float("nan")])
    def test_markers_and_blank_are_no_data(self, marker):
        assert math.isnan(parse_number(marker, WHOLE_NUMBERS, **WHERE))

    def test_zero_stays_zero(self):
        assert parse_number("0", WHOLE_NUMBERS, **WHERE) == 0.0


class TestRefused:
    @pytest.mark.parametrize(
        "text", ["inf", "Infinity", "-inf", "nan", "NaN", "1_000", "\u0661\u0662\u0663", "1e3", "1,08", "12 345", "£5", "(76)"]
    )
    def test_text_outside_the_grammar_is_an_error(self, text):
        with pytest.raises(ReaderError, match="is not a number"):
            parse_number(text, WHOLE_NUMBERS, **WHERE)

    def test_european_thousand_is_refused_where_commas_are_the_convention(self):
        with pytest.raises(ReaderError, match="decimal point where this publisher writes whole numbers"):
            parse_number("1.085", WHOLE_NUMBERS, **WHERE)

    @pytest.mark.parametrize("value", [float("inf"), float("-inf")])
    def test_infinite_numeric_cell_is_an_error(self, value):
        with pytest.raises(ReaderError, match="not a finite number"):
            parse_number(value, DECIMAL_NUMBERS, **WHERE)

    def test_error_names_file_sheet_cell_and_text(self):
        with pytest.raises(ReaderError) as caught:
            parse_number("Infinity", WHOLE_NUMBERS, **WHERE)
        message = str(caught.value)
        assert message.startswith("file.csv [sheet 'Data']: row 12, column 'Net current expenditure': 'Infinity'")
        assert "\n" not in message

    def test_boolean_cell_is_not_a_number(self):
        with pytest.raises(ReaderError, match="true/false"):
            parse_number(True, WHOLE_NUMBERS, **WHERE)


class TestCellName:
    def test_spreadsheet_cell_has_row_label_and_letter(self):
        assert cell_name(11, 27, "Net current expenditure") == "row 12, column 'Net current expenditure' (AB)"


def _rewrite_cell(source, target, row_label: str, column_index: int, text: str):
    rows = list(csv.reader(source.open(encoding="utf-8-sig", newline="")))
    for row in rows:
        if row and row[2] == row_label:
            row[column_index] = text
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return target


class TestOnRealFiles:
    """The grammar in place in each reader: one cell of a real file rewritten, the reader names it."""

    @pytest.mark.parametrize("text", ["inf", "1_000", "1.085", "\u0667\u0661"])
    def test_revenue_account_cell_is_refused_with_its_address(self, raw_file, tmp_path, text):
        from nao_analysis.readers.revenue_account import read_revenue_account

        source = raw_file("ra_budget_2021_22_csv")
        rows = list(csv.reader(source.open(encoding="utf-8-sig", newline="")))
        header = next(i for i, row in enumerate(rows) if row and row[0] == "E-code")
        column = rows[header].index("Substance misuse - Treatment for drug misuse in adults")
        bad = _rewrite_cell(source, tmp_path / "RA_2021-22.csv", "Bristol UA", column, text)
        line = next(i for i, row in enumerate(rows) if row and row[2] == "Bristol UA") + 1
        with pytest.raises(
            ReaderError, match=rf"row {line}, column 'Substance misuse - Treatment for drug misuse in adults' \(\w+\): '{text}'"
        ):
            read_revenue_account(bad, {"adult_drug_treatment": "Substance misuse - Treatment for drug misuse in adults"})

    def test_deflator_text_infinity_is_refused(self, tmp_path):
        from helpers_mirror import mirror_path

        from nao_analysis.readers.deflators import read_deflator

        source = mirror_path("deflators/GDP_Deflators_Qtrly_National_Accounts_December_2023_update.csv")
        bad = tmp_path / "deflators.csv"
        bad.write_text(source.read_text(encoding="utf-8-sig").replace(",2014-15,81.870,", ",2014-15,Infinity,"), encoding="utf-8")
        with pytest.raises(ReaderError, match=r"column 'GDP deflator at market prices 2022-23 = 100' \(C\): 'Infinity'"):
            read_deflator(bad)

    def test_deaths_count_with_european_separator_is_refused(self, raw_file, tmp_path):
        from nao_analysis.readers.ons_deaths import read_drug_deaths_extract

        source = raw_file("ons_drug_deaths_england_2023reg_extract")
        text = source.read_text(encoding="utf-8-sig")
        bad = tmp_path / "extract.csv"
        bad.write_text(text.replace("2846", "2.846"), encoding="utf-8")
        with pytest.raises(ReaderError, match=r"column 'drug_misuse' \(D\): '2.846' has a decimal point"):
            read_drug_deaths_extract(bad)
