"""Figures 7, 8 and 9: transcribed allocation tables, their totals, tidy form, shares, and table rendering."""

from __future__ import annotations

import pandas as pd
import project_paths as paths
import pytest
import yaml

from nao_analysis.analysis.funding import (
    column_total_checks,
    column_totals,
    department_totals,
    display_table,
    infer_missing_cell,
    lead_department,
    require_within_tolerance,
    round_like_report,
    row_total_checks,
    shares_by_department,
    strategy_total_reconciliation,
    to_long,
    validate_allocation_table,
)
from nao_analysis.errors import AnalysisError
from nao_analysis.tables import format_cell, table_html, table_image

TABLES = {
    "fig07": "funding_fig07_disrupting_supply.csv",
    "fig08": "funding_fig08_treatment_recovery.csv",
    "fig09": "funding_fig09_demand_reduction.csv",
}


def load(figure: str) -> pd.DataFrame:
    return validate_allocation_table(pd.read_csv(paths.manual_dir() / TABLES[figure]), name=TABLES[figure])


def published(figure: str) -> dict[str, float]:
    data = yaml.safe_load((paths.manual_dir() / "published" / f"{figure}.yaml").read_text())
    return {row["check"]: row["published"] for row in data["checks"]}


class TestValidateAllocationTable:
    @pytest.mark.parametrize("figure", sorted(TABLES))
    def test_every_row_cites_its_figure(self, figure):
        table = load(figure)
        assert table["citation"].str.contains(f"Figure {int(figure[3:])}").all()

    def test_missing_amount_column_is_named(self):
        raw = pd.read_csv(paths.manual_dir() / TABLES["fig07"]).drop(columns="amount_2023_24")
        with pytest.raises(AnalysisError, match=r"fig07.csv: .*amount_2023_24"):
            validate_allocation_table(raw, name="fig07.csv")

    def test_negative_amount_rejected(self):
        raw = pd.read_csv(paths.manual_dir() / TABLES["fig07"])
        raw.loc[0, "amount_2022_23"] = -1
        with pytest.raises(AnalysisError, match="fig07.csv"):
            validate_allocation_table(raw, name="fig07.csv")


class TestRowTotalChecks:
    @pytest.mark.parametrize("figure", sorted(TABLES))
    def test_every_row_sums_to_its_printed_total(self, figure):
        checks = row_total_checks(load(figure))
        assert checks["within_tolerance"].all()

    @pytest.mark.parametrize("figure", ["fig07", "fig08"])
    def test_whole_pound_tables_sum_exactly(self, figure):
        assert (row_total_checks(load(figure))["difference"] == 0).all()

    def test_wrong_transcription_is_caught(self):
        table = load("fig07")
        table.loc[0, "amount_2022_23"] = 11
        with pytest.raises(AnalysisError, match=r"'Restrict upstream flow' sums to 34.0 but the report prints 33.0"):
            require_within_tolerance(row_total_checks(table), what="fig07")


class TestColumnTotalChecks:
    @pytest.mark.parametrize("figure", sorted(TABLES))
    def test_every_column_and_grand_total_reconciles(self, figure):
        checks = column_total_checks(load(figure), published(figure))
        assert checks["within_tolerance"].all(), checks

    def test_figure_7_totals_are_exact(self):
        assert column_totals(load("fig07")).to_dict() == {"2022-23": 102, "2023-24": 101, "2024-25": 95, "Total": 298}

    def test_figure_8_totals_are_exact(self):
        assert column_totals(load("fig08")).to_dict() == {"2022-23": 163, "2023-24": 240, "2024-25": 365, "Total": 768}

    def test_figure_9_does_not_sum_exactly_because_of_rounding(self):
        # Figure 9 note 1: numbers may not sum due to rounding (printed 9, 12, 10, 30).
        assert column_totals(load("fig09")).to_dict() == {"2022-23": 8.75, "2023-24": 11.6, "2024-25": 9.5, "Total": 29.85}

    def test_missing_published_total_is_named(self):
        with pytest.raises(AnalysisError, match=r"lack \['total_allocation'\]"):
            column_total_checks(load("fig07"), {"total_2022_23": 102, "total_2023_24": 101, "total_2024_25": 95})


class TestInferredFigure8Row:
    ACTIVITY = "Programme management and evaluation"

    def test_row_records_its_inference(self):
        table = load("fig08")
        inferred = table[table["inferred"].str.len() > 0]
        assert inferred["activity"].tolist() == [self.ACTIVITY]
        assert "240 - 235" in inferred["inferred"].item() and "365 - 360" in inferred["inferred"].item()

    @pytest.mark.parametrize(("year", "column_total"), [("2023-24", 240), ("2024-25", 365)])
    def test_recovered_value_follows_from_the_column_total(self, year, column_total):
        table = load("fig08")
        recovered = infer_missing_cell(table, activity=self.ACTIVITY, year=year, published_column_total=column_total)
        transcribed = table.loc[table["activity"] == self.ACTIVITY, f"amount_{year.replace('-', '_')}"].item()
        assert recovered == transcribed == 5

    def test_recovered_values_match_the_printed_row_total(self):
        table = load("fig08")
        row = table[table["activity"] == self.ACTIVITY]
        assert row[["amount_2022_23", "amount_2023_24", "amount_2024_25"]].sum(axis=1).item() == row["published_total"].item() == 15

    def test_impossible_recovery_is_an_error(self):
        with pytest.raises(AnalysisError, match="negative"):
            infer_missing_cell(load("fig08"), activity=self.ACTIVITY, year="2023-24", published_column_total=200)


class TestToLong:
    def test_one_row_per_allocation_and_year(self):
        table = load("fig09")
        assert len(to_long(table, workstream="Demand reduction")) == 3 * len(table)

    def test_amounts_sum_to_the_table_total(self):
        assert to_long(load("fig08"), workstream="Treatment and recovery")["amount"].sum() == 768

    def test_inferred_cells_are_flagged(self):
        long = to_long(load("fig08"), workstream="Treatment and recovery")
        assert set(long.loc[long["inferred"], "activity"]) == {"Programme management and evaluation"}


class TestSharesByDepartment:
    def test_lead_department_of_a_joint_body(self):
        assert lead_department("Home Office/ Border Force/ National Crime Agency") == "Home Office"

    def test_home_office_and_moj_shares_of_supply(self):
        shares = shares_by_department(to_long(load("fig07"), workstream="Disrupting supply")).set_index("department")
        assert shares.loc["Home Office", "amount"] == 277 and shares.loc["Ministry of Justice", "amount"] == 21
        assert shares["share"].sum() == pytest.approx(1.0)

    def test_other_departments_fund_152m_of_treatment(self):
        shares = shares_by_department(to_long(load("fig08"), workstream="Treatment and recovery")).set_index("department")
        assert shares.drop("Department of Health & Social Care")["amount"].sum() == 152


class TestDepartmentTotals:
    def test_home_office_demand_rows_sum_to_24_55m(self):
        totals = department_totals(to_long(load("fig09"), workstream="Demand reduction"))
        assert totals["Home Office"] == pytest.approx(24.55)

    def test_largest_department_comes_first(self):
        totals = department_totals(to_long(load("fig08"), workstream="Treatment and recovery"))
        assert totals.index[0] == "Department of Health & Social Care"


class TestStrategyTotalReconciliation:
    def test_903m_is_768_plus_105_plus_30(self):
        result = strategy_total_reconciliation(load("fig08"), load("fig09"), load("fig07"), home_office_additional_supply_m=84)
        amounts = result.set_index("component")["amount"]
        assert amounts["treatment_and_recovery"] == 768
        assert amounts["disrupting_supply_strategy"] == 105
        assert amounts["strategy_total"] == pytest.approx(903, abs=0.5)

    def test_supply_strategy_is_not_figure_7_total(self):
        result = strategy_total_reconciliation(load("fig08"), load("fig09"), load("fig07"), home_office_additional_supply_m=84)
        assert result.set_index("component").loc["disrupting_supply_strategy", "amount"] != column_totals(load("fig07"))["Total"]


class TestDisplayTable:
    def test_total_row_rounds_half_up_as_printed(self):
        total = display_table(load("fig09")).iloc[-1]
        assert total.iloc[3:].tolist() == [9, 12, 10, 30]

    def test_round_like_report_rounds_half_up(self):
        assert round_like_report(9.5) == 10 and round_like_report(8.5) == 9

    def test_inferred_row_is_starred(self):
        assert "Programme management and evaluation *" in display_table(load("fig08"))["Activity"].tolist()


class TestTableRendering:
    def test_html_has_caption_and_scoped_headers(self):
        html = table_html(display_table(load("fig07")), "Figure 7: Total funding", notes=["Note text"], source="NAO")
        assert "<caption>Figure 7: Total funding</caption>" in html
        assert html.count('<th scope="col">') == 7 and '<th scope="row">Home Office</th>' in html
        assert '<tr class="total">' in html and "Source: NAO" in html

    def test_html_escapes_ampersands(self):
        html = table_html(display_table(load("fig08")), "Figure 8")
        assert "Department of Health &amp; Social Care" in html

    def test_missing_and_decimal_cells_print_as_in_the_report(self):
        assert (format_cell(None), format_cell(float("nan")), format_cell(0.05), format_cell(30.0)) == ("-", "-", "0.05", "30")

    def test_image_is_sized_to_its_rows(self):
        short = table_image(display_table(load("fig09")), "Figure 9", "", [], "NAO")
        long = table_image(display_table(load("fig08")), "Figure 8", "", [], "NAO")
        assert long.layout().height > short.layout().height

    def test_wrong_number_of_widths_rejected(self):
        with pytest.raises(ValueError, match="column_widths has 2 values for 7 columns"):
            table_image(display_table(load("fig09")), "Figure 9", column_widths=[1, 2])
