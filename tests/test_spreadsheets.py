"""The accessible spreadsheet of each figure, written with gptables: cover, contents, notes, one table per sheet, units.

Small frames for the layout rules; the real figure CSV of the shared offline build for the whole-workbook checks.
"""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from nao_analysis.errors import NaoError
from nao_analysis.report.spreadsheet import NOT_AVAILABLE, SheetTable, column_units, sheet_name, write_figure_workbook


@pytest.fixture
def workbook_path(tmp_path):
    frame = pd.DataFrame({"year": [2011, 2012], "deaths": [1582.0, float("nan")], "unit": ["deaths", "deaths"]})
    summary = pd.DataFrame({"statistic": ["total"], "change_pct": [3.5]})
    return write_figure_workbook(
        tmp_path / "fig.xlsx",
        title="Figure 2: Deaths",
        subtitle="Rising",
        source="ONS",
        edition="offline",
        notes=["Note one"],
        assumptions=["Assume"],
        caveats=["Caveat"],
        substitute_data="extract",
        tables=[SheetTable("Data", "Figure 2: Deaths", frame), SheetTable("summary", "Figure 2: summary", summary)],
    )


def _table_rows(sheet):
    (table,) = sheet.tables.values()
    return [[cell.value for cell in row] for row in sheet[table.ref]]


class TestWriteFigureWorkbook:
    def test_cover_contents_and_notes_come_before_the_tables(self, workbook_path):
        assert load_workbook(workbook_path).sheetnames == ["Cover", "Contents", "Notes", "Data", "summary"]

    def test_title_in_a1_of_every_sheet(self, workbook_path):
        book = load_workbook(workbook_path)
        assert [book[name]["A1"].value for name in book.sheetnames] == [
            "Figure 2: Deaths",
            "Contents",
            "Notes, assumptions and caveats",
            "Figure 2: Deaths",
            "Figure 2: summary",
        ]

    def test_cover_names_source_edition_and_substitute_data(self, workbook_path):
        cover = [row[0] for row in load_workbook(workbook_path)["Cover"].iter_rows(values_only=True)]
        assert {"Source: ONS", "Edition: offline", "Substitute data: extract"} <= set(cover)

    def test_no_merged_cells(self, workbook_path):
        book = load_workbook(workbook_path)
        assert all(not book[name].merged_cells.ranges for name in book.sheetnames)

    def test_each_table_sheet_holds_one_named_excel_table(self, workbook_path):
        book = load_workbook(workbook_path)
        assert [list(book[name].tables) for name in ("Data", "summary")] == [["Table_1"], ["Table_2"]]

    def test_missing_value_is_marked_not_blank(self, workbook_path):
        assert _table_rows(load_workbook(workbook_path)["Data"])[2] == [2012, NOT_AVAILABLE, "deaths"]

    def test_shorthand_is_explained_above_the_table(self, workbook_path):
        sheet = load_workbook(workbook_path)["Data"]
        assert any(NOT_AVAILABLE in str(row[0]) for row in sheet.iter_rows(max_row=5, values_only=True))

    def test_unit_suffix_goes_into_the_column_header(self, workbook_path):
        assert _table_rows(load_workbook(workbook_path)["summary"])[0] == ["statistic", "change_pct\n(%)"]

    def test_notes_sheet_lists_notes_assumptions_and_caveats_in_order(self, workbook_path):
        rows = _table_rows(load_workbook(workbook_path)["Notes"])
        assert [(row[1], row[2]) for row in rows[1:]] == [("note", "Note one"), ("assumption", "Assume"), ("caveat", "Caveat")]

    def test_tables_refer_to_the_notes(self, workbook_path):
        sheet = load_workbook(workbook_path)["Data"]
        assert any("[note 3]" in str(row[0]) for row in sheet.iter_rows(max_row=5, values_only=True))

    def test_no_table_raises(self, tmp_path):
        with pytest.raises(NaoError, match="at least one table"):
            write_figure_workbook(tmp_path / "x.xlsx", title="T", tables=[])

    def test_duplicate_columns_raise_and_leave_nothing(self, tmp_path):
        frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
        with pytest.raises(NaoError, match="duplicate column names"):
            write_figure_workbook(tmp_path / "x.xlsx", title="T", tables=[SheetTable("Data", "T", frame)])
        assert list(tmp_path.iterdir()) == []

    def test_a_cell_that_is_only_a_symbol_is_spelled_out(self, tmp_path):
        frame = pd.DataFrame({"value": [46.4], "unit": ["%"]})
        path = write_figure_workbook(tmp_path / "x.xlsx", title="T", tables=[SheetTable("Data", "T", frame)])
        assert _table_rows(load_workbook(path)["Data"])[1] == [46.4, "per cent"]


class TestColumnUnits:
    def test_money_suffix(self):
        assert column_units(pd.DataFrame(columns=["base_cash_gbp_k"])) == {"base_cash_gbp_k": "£ thousand"}

    def test_given_unit_wins(self):
        assert column_units(pd.DataFrame(columns=["value"]), {"value": "%"}) == {"value": "%"}


class TestSheetName:
    def test_strips_forbidden_characters(self):
        assert sheet_name("a/b:c?") == "a_b_c_"

    def test_truncates_to_31(self):
        assert len(sheet_name("x" * 40)) == 31

    def test_unique_ignoring_case(self):
        assert sheet_name("Data", taken=["data"]) == "Data_2"


@pytest.mark.slow
def test_real_figure3_workbook_carries_every_area_with_units(offline_build_root):
    """The site's Figure 3 spreadsheet from the real offline build: 150 areas plus the two counted with others."""
    book = load_workbook(offline_build_root / "reports" / "offline" / "figures" / "fig03_spending_change_map.xlsx")
    header, *rows = _table_rows(book["Data"])
    assert len(rows) == 152 and "base_cash_gbp_k\n(£ thousand)" in header


@pytest.mark.slow
def test_every_figure_of_the_real_offline_build_has_its_spreadsheet(offline_build_root):
    site = offline_build_root / "reports" / "offline"
    assert "spreadsheet not written" not in (site / "index.html").read_text(encoding="utf-8")
    stems = [p.stem for p in site.glob("fig*.json")] + [p.stem for p in site.glob("app2*.json")]
    missing = [stem for stem in stems if not (site / "figures" / f"{stem}.xlsx").exists()]
    assert len(stems) == 11 and not missing, missing
