"""The reviewer's site: page shell, reconciliation summary, flags, accessible spreadsheet, interactive map.

Real-data tests draw the interactive map from the mirror's boundaries and Fingertips sample, as the
Figure 5 notebook does. Synthetic fixtures (in tmp_path) only for escaping and bad-input cases.
"""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest
import shapely

from nao_analysis.errors import AnalysisError, NaoError
from nao_analysis.report.interactive_map import MAP_SPECS, Viewport, area_records, map_fragment, spec_with_classes, svg_path
from nao_analysis.report.notebook_html import figure_banner
from nao_analysis.report.page import render_page
from nao_analysis.report.site import (
    FigureFiles,
    collect_flags,
    figure_label,
    figure_section,
    format_number,
    reconciliation_table_html,
    status_class,
    status_counts,
    verdict,
)
from nao_analysis.report.spreadsheet import NOT_AVAILABLE, SheetTable, sheet_name, write_figure_workbook

FIG05_PARAMS = {"year": "2020-21", "class_breaks": [38.0, 48.0, 58.0, 68.0], "threshold": 48.0}
FIG05_SPEC = spec_with_classes(
    MAP_SPECS["fig05"],
    [38, 48, 58, 68, None],
    ["Less than 38%", "38% to under 48%", "48% to under 58%", "58% to under 68%", "68% or more"],
    ["#2d004b", "#b2abd2", "#fee0b6", "#e08214", "#7f3b08"],
)


def _row(status: str, figure: str = "fig02", check: str = "deaths_2021") -> dict[str, str]:
    return {
        "figure": figure,
        "check": check,
        "published": "2846",
        "rebuilt": "2846",
        "tolerance": "0",
        "unit": "deaths",
        "status": status,
        "note": "",
        "description": "Deaths",
        "citation": "HC 1864",
    }


# -- page shell ---------------------------------------------------------------------------------------


class TestRenderPage:
    def test_escapes_title_and_banner(self):
        page = render_page(title="<b>t</b>", edition="offline", body_html="", banner="<script>x</script>")
        assert "&lt;b&gt;t&lt;/b&gt;" in page and "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page

    def test_shows_edition_banner_and_build_time(self):
        page = render_page(title="T", edition="offline", body_html="<p>b</p>", banner="substitute", built_at="2026-01-01 10:00 UTC")
        assert "Edition <strong>offline</strong>" in page and "Substitute data." in page and "built 2026-01-01 10:00 UTC" in page

    def test_marks_current_page_in_navigation(self):
        page = render_page(title="T", edition="e", body_html="", current="reconciliation.html")
        assert '<a href="reconciliation.html" aria-current="page">' in page

    def test_lists_banner_items_escaped(self):
        page = render_page(title="T", edition="e", body_html="", banner="b", banner_items=["Figure 2: <i>extract</i>"])
        assert "<li>Figure 2: &lt;i&gt;extract&lt;/i&gt;</li>" in page

    def test_has_no_external_resource(self):
        page = render_page(title="T", edition="e", body_html="")
        assert not re.search(r'(src|href)="(https?:)?//', page)


class TestFigureBanner:
    def test_names_the_figures_own_substitution(self):
        text = figure_banner({"edition": "offline", "substitute_data": True, "banner": "Third party's\nextract."})
        assert text == "Edition 'offline': this figure uses substitute data. Third party's extract."

    def test_substitute_edition_without_own_substitution_says_so(self):
        assert "declares no substitution" in figure_banner({"edition": "offline", "substitute_data": True, "banner": ""})

    def test_published_inputs_have_no_banner(self):
        assert figure_banner({"edition": "nao-2023", "substitute_data": False, "banner": ""}) == ""


# -- reconciliation -----------------------------------------------------------------------------------


class TestFigureLabel:
    def test_figure(self):
        assert figure_label("fig03") == "Figure 3"

    def test_appendix(self):
        assert figure_label("app2") == "Appendix 2"

    def test_other_ids_unchanged(self):
        assert figure_label("keyfacts") == "keyfacts"


class TestStatusClass:
    @pytest.mark.parametrize(
        ("status", "css"),
        [
            ("pass", "status-pass"),
            ("differs (explained)", "status-differs"),
            ("source unavailable", "status-unavailable"),
            ("fail", "status-fail"),
        ],
    )
    def test_each_status_has_a_class(self, status, css):
        assert status_class(status) == css


class TestStatusCounts:
    def test_counts_in_reading_order(self):
        rows = [_row("fail"), _row("pass"), _row("pass"), _row("source unavailable")]
        assert list(status_counts(rows).items()) == [("pass", 2), ("source unavailable", 1), ("fail", 1)]


class TestVerdict:
    def test_all_pass_is_yes(self):
        assert verdict([_row("pass"), _row("pass")]).startswith("Yes. 2 of 2")

    def test_explained_differences_are_partly(self):
        text = verdict([_row("pass"), _row("differs (explained)")])
        assert text.startswith("Partly.") and "1 differ for a stated reason" in text

    def test_unexplained_failure_is_not_fully(self):
        assert verdict([_row("pass"), _row("fail")]).startswith("Not fully:")

    def test_no_rows_says_nothing_to_compare(self):
        assert verdict([]).startswith("Nothing to compare")


class TestFormatNumber:
    def test_thousands_separator(self):
        assert format_number("204518") == "204,518"

    def test_small_decimal_kept(self):
        assert format_number("-7.45") == "-7.45"

    def test_blank_stays_blank(self):
        assert format_number("") == ""


class TestReconciliationTable:
    def test_escapes_every_text(self):
        row = _row("pass") | {"note": "<img src=x onerror=alert(1)>", "citation": "a & b"}
        out = reconciliation_table_html([row])
        assert "&lt;img src=x" in out and "a &amp; b" in out and "<img" not in out

    def test_unrebuilt_number_says_so(self):
        out = reconciliation_table_html([_row("source unavailable") | {"rebuilt": ""}])
        assert "not rebuilt" in out

    def test_empty_says_nothing_to_reconcile(self):
        assert "No published numbers" in reconciliation_table_html([])


class TestFigureSection:
    RECORD = {
        "figure": "fig02",
        "stem": "fig02_deaths",
        "title": "Deaths <rising>",
        "subtitle": "",
        "banner": "",
        "notes": ["<script>alert(1)</script>"],
        "source": "ONS & NAO",
        "alt_text": {"fig02_deaths.png": "Line chart <of deaths>"},
    }
    FILES = FigureFiles(
        charts=["figures/fig02_deaths.png"],
        csvs=["figures/fig02_deaths.csv"],
        spreadsheet="figures/fig02_deaths.xlsx",
        interactive=None,
        problems=[],
    )

    def test_escapes_title_notes_source_and_alt(self):
        out = figure_section(self.RECORD, self.FILES, [])
        assert (
            "Deaths &lt;rising&gt;" in out
            and "&lt;script&gt;" in out
            and "ONS &amp; NAO" in out
            and 'alt="Line chart &lt;of deaths&gt;"' in out
        )
        assert "<script>" not in out

    def test_links_notebook_csv_and_spreadsheet(self):
        out = figure_section(self.RECORD, self.FILES, [])
        assert all(f'href="{href}"' in out for href in ("fig02_deaths.html", "figures/fig02_deaths.csv", "figures/fig02_deaths.xlsx"))

    def test_summarises_its_reconciliation(self):
        assert "2 pass" in figure_section(self.RECORD, self.FILES, [_row("pass"), _row("pass")])


class TestCollectFlags:
    def test_reads_flag_column_of_figure_csv(self, tmp_path):
        (tmp_path / "fig03_map.csv").write_text("target_code,target_name,flag\nE1,Alpha,\nE2,Beta,increase of 1761%\n")
        record = {"figure": "fig03", "outputs": ["fig03_map.csv"]}
        assert collect_flags([record], tmp_path, tmp_path) == [
            {"figure": "fig03", "area": "Beta", "code": "E2", "flag": "increase of 1761%"}
        ]

    def test_reads_every_row_of_a_flags_file(self, tmp_path):
        (tmp_path / "fig03_map_flags.csv").write_text("area_code,area_name,reason\nE3,Gamma,implausible\n")
        flags = collect_flags([{"figure": "fig03", "outputs": ["fig03_map_flags.csv"]}], tmp_path, tmp_path)
        assert flags == [{"figure": "fig03", "area": "Gamma", "code": "E3", "flag": "reason: implausible"}]


# -- spreadsheet --------------------------------------------------------------------------------------


@pytest.fixture
def workbook_path(tmp_path):
    frame = pd.DataFrame({"year": [2011, 2012], "deaths": [1582.0, float("nan")], "unit": ["deaths", "deaths"]})
    summary = pd.DataFrame({"statistic": ["total"], "value": [3]})
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


class TestWriteFigureWorkbook:
    def test_sheets_in_order(self, workbook_path):
        assert openpyxl.load_workbook(workbook_path).sheetnames == ["Cover", "Contents", "Notes", "Data", "summary"]

    def test_title_in_a1_of_every_sheet(self, workbook_path):
        book = openpyxl.load_workbook(workbook_path)
        assert [book[name]["A1"].value for name in book.sheetnames] == [
            "Figure 2: Deaths",
            "Contents",
            "Notes, assumptions and caveats",
            "Figure 2: Deaths",
            "Figure 2: summary",
        ]

    def test_no_merged_cells(self, workbook_path):
        book = openpyxl.load_workbook(workbook_path)
        assert all(not book[name].merged_cells.ranges for name in book.sheetnames)

    def test_each_table_sheet_holds_one_excel_table_without_blank_rows(self, workbook_path):
        sheet = openpyxl.load_workbook(workbook_path)["Data"]
        (table,) = sheet.tables.values()
        rows = list(sheet[table.ref])
        assert [c.value for c in rows[0]] == ["year", "deaths", "unit"]
        assert all(any(c.value not in (None, "") for c in row) for row in rows)

    def test_missing_value_is_marked_not_blank(self, workbook_path):
        sheet = openpyxl.load_workbook(workbook_path)["Data"]
        (table,) = sheet.tables.values()
        assert [c.value for c in list(sheet[table.ref])[2]] == [2012, NOT_AVAILABLE, "deaths"]

    def test_notes_sheet_lists_notes_assumptions_and_caveats(self, workbook_path):
        sheet = openpyxl.load_workbook(workbook_path)["Notes"]
        assert [sheet.cell(row=r, column=3).value for r in range(4, 7)] == ["Note one", "Assume", "Caveat"]

    def test_no_table_raises(self, tmp_path):
        with pytest.raises(NaoError, match="at least one table"):
            write_figure_workbook(tmp_path / "x.xlsx", title="T", tables=[])


class TestSheetName:
    def test_strips_forbidden_characters(self):
        assert sheet_name("a/b:c?") == "a_b_c_"

    def test_truncates_to_31(self):
        assert len(sheet_name("x" * 40)) == 31

    def test_unique_ignoring_case(self):
        assert sheet_name("Data", taken=["data"]) == "Data_2"


# -- interactive map ----------------------------------------------------------------------------------


class TestSvgPath:
    def test_flips_y_and_scales(self):
        view = Viewport.fit((0, 0, 10, 10), width=100)
        assert svg_path(shapely.box(0, 0, 10, 10), view) == "M100.0 100.0L100.0 0.0L0.0 0.0L0.0 100.0Z"

    def test_hole_becomes_second_subpath(self):
        square_with_hole = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]])
        assert svg_path(square_with_hole, Viewport.fit((0, 0, 10, 10), width=10)).count("M") == 2

    def test_empty_geometry_gives_empty_path(self):
        assert svg_path(shapely.Polygon(), Viewport.fit((0, 0, 1, 1), width=1)) == ""

    def test_degenerate_bounds_raise(self):
        with pytest.raises(AnalysisError, match="degenerate bounds"):
            Viewport.fit((5, 0, 5, 10), width=100)


class TestAreaRecords:
    def test_missing_column_raises(self):
        with pytest.raises(AnalysisError, match="no column"):
            area_records(pd.DataFrame({"area_code": ["E1"]}), FIG05_SPEC, FIG05_PARAMS)

    def test_duplicate_code_raises(self):
        frame = pd.DataFrame({"area_code": ["E1", "E1"], "area_name": ["A", "A"], "value": [40.0, 41.0]})
        with pytest.raises(AnalysisError, match="appears twice"):
            area_records(frame, FIG05_SPEC, FIG05_PARAMS)


@pytest.fixture(scope="module")
def fig05_map_inputs(raw_file):
    """The Figure 5 notebook's per-area table and boundaries, rebuilt from the mirror's real files."""
    from nao_analysis.analysis import treatment_gap as tg
    from nao_analysis.readers.boundaries import read_ctyua_boundaries
    from nao_analysis.readers.fingertips import read_fingertips_csv

    boundaries = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))
    values = tg.area_values(read_fingertips_csv(raw_file("fingertips_93517_sample")), indicator_id=93517, year="2020-21")
    ranked = tg.ranked_table(values, threshold=48.0, all_areas=boundaries[["code", "name"]])
    return boundaries, ranked


class TestMapFragment:
    def test_one_focusable_path_per_english_area(self, fig05_map_inputs):
        boundaries, ranked = fig05_map_inputs
        html = map_fragment(boundaries, ranked, FIG05_SPEC, FIG05_PARAMS)
        assert html.count('tabindex="0"') == len(boundaries) == 152

    def test_london_inset_redraws_the_boroughs(self, fig05_map_inputs):
        boundaries, ranked = fig05_map_inputs
        html = map_fragment(boundaries, ranked, FIG05_SPEC, FIG05_PARAMS)
        assert html.count('class="area"') == 152 + int(boundaries["code"].str.startswith("E09").sum())

    def test_tooltip_data_hold_value_and_base_figures(self, fig05_map_inputs):
        boundaries, ranked = fig05_map_inputs
        html = map_fragment(boundaries, ranked, FIG05_SPEC, FIG05_PARAMS)
        data = json.loads(re.search(r'<script type="application/json" id="imap-data">(.*?)</script>', html).group(1))
        redcar = dict(data["E06000003"]["lines"])
        assert data["E06000003"]["name"] == "Redcar and Cleveland"
        assert redcar["Not in treatment, 2020-21"] == "46.4%" and redcar["In treatment"] == "575"

    def test_areas_without_data_are_hatched(self, fig05_map_inputs):
        boundaries, ranked = fig05_map_inputs
        html = map_fragment(boundaries, ranked, FIG05_SPEC, FIG05_PARAMS)
        assert "Data not available (148)" in html

    def test_no_matching_code_raises(self, fig05_map_inputs):
        boundaries, _ = fig05_map_inputs
        frame = pd.DataFrame({"area_code": ["W06000001"], "area_name": ["Anglesey"], "value": [40.0]})
        with pytest.raises(AnalysisError, match="no area code"):
            map_fragment(boundaries, frame, FIG05_SPEC, FIG05_PARAMS)

    def test_names_are_escaped(self, fig05_map_inputs):
        boundaries, ranked = fig05_map_inputs
        hostile = ranked.copy()
        hostile.loc[hostile["area_code"] == "E06000003", "area_name"] = "</script><script>alert(1)</script>"
        html = map_fragment(boundaries, hostile, FIG05_SPEC, FIG05_PARAMS)
        assert "<script>alert(1)" not in html
