"""The reviewer's site: page shell, reconciliation (one explanation per figure, signed changes), flags, code-hidden
pages and the interactive map drawn from a finished record.

Real-data tests draw the interactive map from the map file a figure record names, made from the mirror's boundaries
and Fingertips sample as the Figure 5 recipe does (tests/map_records.py), and check the pages of the shared real
offline build. Synthetic fixtures (in tmp_path) only for escaping and bad-input cases.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest
import shapely
from map_records import declared_map, map_geojson

from nao_analysis.report.formatting import format_cell, format_change, format_number, strip_paths
from nao_analysis.report.interactive_map import Viewport, map_fragment, svg_path
from nao_analysis.report.notebook_html import chart_outputs, clean_notebook, figure_banner, format_dataframe_html
from nao_analysis.report.page import render_page, wrap_tables
from nao_analysis.report.records import RecordError, load_map_features
from nao_analysis.report.site import (
    FigureFiles,
    collect_flags,
    comparability_statement,
    figure_label,
    figure_section,
    reconciliation_body,
    reconciliation_table_html,
    shared_explanation,
    status_class,
    status_counts,
    verdict,
)

REPORT_DIR = Path(__file__).resolve().parents[1] / "src" / "nao_analysis" / "report"
FIG05_RECORD = {
    "figure": "fig05",
    "stem": "fig05_treatment_gap_map",
    "title": "Estimated proportion of adults not in treatment",
    "params": {"year": "2020-21", "class_breaks": [38.0, 48.0, 58.0, 68.0], "threshold": 48.0},
    "map": {
        "bins": [38, 48, 58, 68, None],
        "labels": ["Less than 38%", "38% to under 48%", "48% to under 58%", "58% to under 68%", "68% or more"],
        "colours": ["#2d004b", "#b2abd2", "#fee0b6", "#e08214", "#7f3b08"],
    },
}


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

    def test_a_failed_figure_is_counted_and_not_fully_reproduced(self):
        text = verdict([_row("pass"), _row("figure failed")])
        assert text.startswith("Not fully:") and "1 were not rebuilt because their figure failed" in text

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


class TestTableImageSection:
    RECORD = {
        "figure": "fig07",
        "stem": "fig07_funding",
        "title": "Funding",
        "notes": [],
        "source": "NAO",
        "alt_text": {"fig07_funding.svg": "Table of <8> allocations"},
    }
    SVG = '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Table of 8 allocations"><text>Home Office</text></svg>'
    FILES = FigureFiles(
        charts=["figures/fig07_funding.svg"],
        csvs=[],
        spreadsheet=None,
        interactive=None,
        problems=[],
        table_images={"figures/fig07_funding.svg": SVG},
    )

    def test_the_table_picture_is_in_the_page_as_text_with_a_link_to_its_file(self):
        out = figure_section(self.RECORD, self.FILES, [])
        assert self.SVG in out and 'href="figures/fig07_funding.svg"' in out and "<img" not in out

    def test_its_text_description_is_escaped(self):
        assert "Table of &lt;8&gt; allocations" in figure_section(self.RECORD, self.FILES, [])


class TestChartOutputs:
    def test_an_svg_with_no_png_is_a_table_image(self):
        record = {"outputs": ["app2_table.svg", "app2.png", "app2.svg", "app2.csv", "app2.table.html"]}
        assert chart_outputs(record) == [("app2_table.svg", True), ("app2.png", False)]


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


# -- statuses, signs and one explanation per figure ---------------------------------------------------


class TestNewStatuses:
    @pytest.mark.parametrize(
        ("status", "css"),
        [("not applicable", "status-not-applicable"), ("not comparable (parameters differ)", "status-not-comparable")],
    )
    def test_each_has_its_own_class(self, status, css):
        assert status_class(status) == css

    def test_verdict_names_runs_not_comparable(self):
        assert "1 were rebuilt with parameters other than the published run's" in verdict(
            [_row("pass"), _row("not comparable (parameters differ)")]
        )


class TestSignedChanges:
    @pytest.mark.parametrize(("value", "text"), [(-40, "-40%"), (-41.345, "-41.3%"), (1761.35, "+1,761%"), (9, "+9%"), (0, "0%")])
    def test_percentage_change_is_always_signed(self, value, text):
        assert format_change(value, "%") == text

    def test_reconciliation_shows_published_and_rebuilt_change_with_the_same_sign_convention(self):
        row = _row("differs (explained)", check="england_real_change_pct") | {
            "published": "-40",
            "rebuilt": "-41.345235983449065",
            "unit": "%",
            "description": "Real-terms change in annual spending",
        }
        out = reconciliation_table_html([row])
        assert '<td class="num">-40%</td><td class="num">-41.3%</td>' in out

    def test_key_fact_printed_as_a_reduction_is_a_negative_change(self):
        from nao_analysis.report.key_facts import published_text, rebuilt_text

        assert (published_text(40, "% reduction"), rebuilt_text(-41.345, "% reduction")) == ("-40%", "-41.3%")

    def test_a_count_of_authorities_that_increased_is_not_signed(self):
        row = _row("pass", check="authorities_increased") | {"published": "9", "rebuilt": "8", "unit": "authorities"}
        assert '<td class="num">9</td><td class="num">8</td>' in reconciliation_table_html([row])


FIG03_NOTE = "rebuilt on a budget (RA) basis, 2014-15 to 2021-22, in 2022-23 prices (ONS series YBGB; June 2025), not the NAO's outturn"


class TestSharedExplanation:
    def test_the_common_leading_explanation_is_said_once(self):
        rows = [
            _row("differs (explained)", check="a") | {"note": f"{FIG03_NOTE}; an exact count"},
            _row("differs (explained)", check="b") | {"note": f"{FIG03_NOTE}; the report rounds to the nearest whole per cent"},
        ]
        shared, rest = shared_explanation(rows)
        assert shared == FIG03_NOTE and rest == ["an exact count", "the report rounds to the nearest whole per cent"]

    def test_rows_without_a_common_note_keep_their_own(self):
        rows = [_row("pass", check="a") | {"note": "exact"}, _row("pass", check="b") | {"note": "rounded"}]
        assert shared_explanation(rows) == ("", ["exact", "rounded"])

    def test_reconciliation_page_prints_the_shared_explanation_once(self):
        from nao_analysis.build import FigureResult

        rows = [_row("differs (explained)", figure="fig03", check=c) | {"note": f"{FIG03_NOTE}; detail {c}"} for c in "abcdefgh"]
        page = reconciliation_body([FigureResult("fig03", "built", record={"title": "Map"})], rows, [])
        assert page.count("not the NAO&#x27;s outturn") == 1


class TestComparabilityStatement:
    def test_differing_parameters_are_named_with_both_values(self):
        record = {"comparability": {"as_published": False, "differing": {"basis": ["outturn", "budget"]}}}
        assert "basis: published outturn, this run budget" in comparability_statement(record)

    def test_as_published_says_so(self):
        assert "compared with the published ones as they stand" in comparability_statement({"comparability": {"as_published": True}})

    def test_record_without_comparability_says_nothing(self):
        assert comparability_statement({"title": "x"}) == ""


# -- formatting and code-hidden pages ------------------------------------------------------------------


class TestFormatCell:
    @pytest.mark.parametrize(("text", "column", "shown"), [("15139.044184", "base_real", "15,139"), ("NaN", "x", "no data")])
    def test_numbers_get_separators_and_blanks_say_no_data(self, text, column, shown):
        assert format_cell(text, column) == shown

    def test_pandas_missing_marker_says_no_data(self):
        assert format_cell("<NA>", "value") == "no data"

    def test_year_column_keeps_its_digits(self):
        assert format_cell("2021", "year") == "2021"


class TestStripPaths:
    def test_path_repr_becomes_the_file_name(self):
        assert strip_paths("PosixPath('/x/reports/offline/.staging-fig03-ab12/fig03.png')") == "fig03.png"

    def test_absolute_path_in_prose_becomes_the_file_name(self):
        assert strip_paths("written to /tmp/out/figures/offline/fig02.csv today") == "written to fig02.csv today"

    def test_urls_and_fractions_are_left_alone(self):
        text = "see https://www.gov.uk/a/b and 2014/15, fig03/fig05"
        assert strip_paths(text) == text


class TestFormatDataframeHtml:
    PANDAS = (
        '<table border="1" class="dataframe"><thead><tr style="text-align: right;"><th></th><th>area</th><th>value</th></tr></thead>'
        "<tbody><tr><th>0</th><td>Bradford</td><td>15139.044184</td></tr><tr><th>1</th><td>Medway</td><td>NaN</td></tr></tbody></table>"
    )

    def test_default_index_is_dropped(self):
        out = format_dataframe_html(self.PANDAS)
        assert '<th scope="row">' not in out and "<th>0</th>" not in out

    def test_values_are_formatted(self):
        out = format_dataframe_html(self.PANDAS)
        assert '<td class="num">15,139</td>' in out and "<td>no data</td>" in out


class TestCleanNotebook:
    def _notebook(self):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell("# Figure 2"), nbformat.v4.new_code_cell("fig.save_chart(f)")]
        notebook.cells[1].outputs = [
            nbformat.v4.new_output("execute_result", data={"text/plain": "PosixPath('/r/.staging-fig02-x/fig02.png')"}, execution_count=1)
        ]
        return notebook

    def test_path_only_output_is_dropped(self):
        cleaned = clean_notebook(self._notebook(), {"outputs": []})
        assert cleaned.cells[1].outputs == []

    def test_chart_is_embedded_when_the_notebook_shows_none(self):
        record = {"outputs": ["figures/offline/fig02.png"], "alt_text": {"fig02.png": "Line chart"}, "title": "Deaths"}
        cleaned = clean_notebook(self._notebook(), record)
        assert '<img src="figures/fig02.png" alt="Line chart">' in cleaned.cells[1].outputs[0]["data"]["text/html"]

    def test_table_image_is_embedded_as_its_svg_when_the_notebook_shows_none(self):
        record = {"outputs": ["figures/offline/fig07.svg"], "alt_text": {"fig07.svg": "Table of allocations"}, "title": "Funding"}
        html = clean_notebook(self._notebook(), record).cells[1].outputs[0]["data"]["text/html"]
        assert '<img src="figures/fig07.svg" alt="Table of allocations">' in html and 'href="figures/fig07.svg"' in html


class TestWrapTables:
    def test_outermost_tables_scroll_in_their_own_box(self):
        assert wrap_tables("<table><tr><td><table></table></td></tr></table>") == (
            '<div class="table-wrap"><table><tr><td><table></table></td></tr></table></div>'
        )


# -- interactive map from the record's map file --------------------------------------------------------


class TestSvgPath:
    def test_flips_y_and_scales(self):
        view = Viewport.fit((0, 0, 10, 10), width=100)
        assert svg_path(shapely.box(0, 0, 10, 10), view) == "M100.0 100.0L100.0 0.0L0.0 0.0L0.0 100.0Z"

    def test_hole_becomes_second_subpath(self):
        square_with_hole = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]])
        assert svg_path(square_with_hole, Viewport.fit((0, 0, 10, 10), width=10)).count("M") == 2

    def test_reads_geojson_geometry(self):
        polygon = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}
        assert svg_path(polygon, Viewport.fit((0, 0, 10, 10), width=100)) == "M0.0 100.0L100.0 100.0L100.0 0.0L0.0 0.0Z"

    def test_empty_geometry_gives_empty_path(self):
        assert svg_path(shapely.Polygon(), Viewport.fit((0, 0, 1, 1), width=1)) == ""

    def test_degenerate_bounds_raise(self):
        with pytest.raises(RecordError, match="degenerate bounds"):
            Viewport.fit((5, 0, 5, 10), width=100)


def _write_map(tmp_path, collection) -> dict:
    (tmp_path / "m.geojson").write_text(json.dumps(collection))
    return {"figure": "fig05", "stem": "fig05_treatment_gap_map", "map": {"geojson": "m.geojson"}}


class TestLoadMapFeatures:
    def test_record_without_map_file_raises(self, tmp_path):
        with pytest.raises(RecordError, match="names no geojson"):
            load_map_features({"figure": "fig05", "stem": "s", "map": {}}, tmp_path)

    def test_missing_file_names_the_file_and_the_fix(self, tmp_path):
        with pytest.raises(RecordError, match="m.geojson.*rebuild that figure"):
            load_map_features({"figure": "fig05", "map": {"geojson": "m.geojson"}}, tmp_path)

    def test_not_a_feature_collection_raises(self, tmp_path):
        with pytest.raises(RecordError, match="not a GeoJSON FeatureCollection"):
            load_map_features(_write_map(tmp_path, {"type": "Feature"}), tmp_path)

    def test_feature_without_code_raises(self, tmp_path):
        collection = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "A"}, "geometry": None}]}
        with pytest.raises(RecordError, match="feature 1 has no code"):
            load_map_features(_write_map(tmp_path, collection), tmp_path)

    def test_duplicate_code_raises(self, tmp_path):
        feature = {"type": "Feature", "properties": {"code": "E1", "name": "A"}, "geometry": None}
        with pytest.raises(RecordError, match="E1 appears twice"):
            load_map_features(_write_map(tmp_path, {"type": "FeatureCollection", "features": [feature, feature]}), tmp_path)


@pytest.fixture(scope="module")
def fig05_map(raw_file):
    """Figure 5's map file as its recipe writes it, from the mirror's real boundaries and Fingertips sample."""
    from nao_analysis.analysis import treatment_gap as tg
    from nao_analysis.readers.boundaries import read_ctyua_boundaries
    from nao_analysis.readers.fingertips import read_fingertips_csv

    def path(source):
        resolved = raw_file(source)
        return getattr(resolved, "path", resolved)

    boundaries = read_ctyua_boundaries(path("boundaries_ctyua_dec2021_buc"))
    values = tg.area_values(read_fingertips_csv(path("fingertips_93517_sample")), indicator_id=93517, year="2020-21")
    ranked = tg.ranked_table(values, threshold=48.0, all_areas=boundaries[["code", "name"]])
    declared = declared_map("fig05", FIG05_RECORD)
    collection = map_geojson("fig05", ranked, boundaries, declared, FIG05_RECORD["params"])
    return collection["features"], declared


class TestMapFragment:
    def test_every_english_area_is_a_named_list_item(self, fig05_map):
        features, declared = fig05_map
        html = map_fragment(features, declared)
        assert html.count('role="listitem"') == len(features) == 152

    def test_one_tab_stop_for_the_whole_map(self, fig05_map):
        html = map_fragment(*fig05_map)
        assert html.count('tabindex="0"') == 1 and html.count('tabindex="-1"') == 151

    def test_svg_is_a_group_not_an_image(self, fig05_map):
        html = map_fragment(*fig05_map)
        assert "<svg viewBox" in html and 'role="group"' in html and 'role="img"' not in html

    def test_skip_link_comes_before_the_map(self, fig05_map):
        html = map_fragment(*fig05_map)
        assert html.index('href="#imap-after"') < html.index("<svg")

    def test_london_inset_redraws_the_boroughs_hidden_from_screen_readers(self, fig05_map):
        features, declared = fig05_map
        html = map_fragment(features, declared)
        boroughs = sum(f["properties"]["code"].startswith("E09") for f in features)
        inset = html[html.index('<g class="inset" aria-hidden="true">') :]
        assert inset.count('class="area"') == boroughs == 33

    def test_tooltip_data_hold_value_and_base_figures(self, fig05_map):
        html = map_fragment(*fig05_map)
        data = json.loads(re.search(r'<script type="application/json" id="imap-data">(.*?)</script>', html).group(1))
        redcar = dict(data["E06000003"]["lines"])
        assert data["E06000003"]["name"] == "Redcar and Cleveland"
        assert redcar["Not in treatment, 2020-21"] == "46.4%" and redcar["In treatment"] == "575"

    def test_areas_without_data_are_hatched(self, fig05_map):
        html = map_fragment(*fig05_map)
        assert "Data not available (148)" in html

    def test_names_are_escaped(self, fig05_map):
        features, declared = fig05_map
        hostile = json.loads(json.dumps(features))
        redcar = next(f for f in hostile if f["properties"]["code"] == "E06000003")
        redcar["properties"]["name"] = "</script><script>alert(1)</script>"
        assert "<script>alert(1)" not in map_fragment(hostile, declared)

    def test_area_links_open_profiles(self, fig05_map):
        html = map_fragment(*fig05_map, area_links={"E06000003": "areas/E06000003.html"})
        assert 'data-code="E06000003" data-href="areas/E06000003.html"' in html


# -- layering -----------------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in REPORT_DIR.glob("*.py") if p.name != "diff.py"))
def test_report_module_imports_nothing_below_the_figures(module):
    below = ("nao_analysis.sources", "nao_analysis.readers", "nao_analysis.analysis", "nao_analysis.paths")
    assert sorted(m for m in _imports(REPORT_DIR / module) if m.startswith(below)) == []


# -- the pages of a real build --------------------------------------------------------------------------


#: A table figure's picture placed in a page (a page's HTML may come back with the attributes reordered).
TABLE_IMAGE = re.compile(r'<svg [^>]*class="table-image"[^>]*>')


class TestBuiltSite:
    def test_code_hidden_pages_show_no_path(self, offline_site):
        leaks = [p.name for p in offline_site.glob("fig*.html") if re.search(r"PosixPath|\.staging-|/tmp/", p.read_text())]
        assert leaks == []

    def test_code_hidden_pages_show_the_chart(self, offline_site):
        # The area profiles' notebook draws no chart: its pages are the charts.
        pages = [offline_site / f"{p.stem}.html" for p in offline_site.glob("*.ipynb") if not p.stem.startswith("areas_")]
        # A chart is an <img>; a table figure's picture is its SVG in the page, named by its aria-label.
        assert pages and [p.name for p in pages if "<img " not in p.read_text() and not TABLE_IMAGE.search(p.read_text())] == []

    @pytest.mark.parametrize(
        "stem",
        [
            "fig07_funding_disrupting_supply",
            "fig08_funding_treatment_recovery",
            "fig09_funding_demand_reduction",
            "fig10_local_delivery_challenges",
            "app2_carol_black_recommendations_table",
        ],
    )
    def test_table_figures_show_their_svg_as_text_with_its_name_and_link(self, offline_site, stem):
        page = (offline_site / "index.html").read_text()
        start = page.index(f'<section class="figure" id="{stem.split("_")[0]}"')
        section = page[start : page.index("</section>", start)]
        element = section[section.index('<svg class="table-image"') : section.index("</svg>")]
        assert 'role="img" aria-label="Table of ' in element and "<text " in element
        assert f'href="figures/{stem}.svg"' in section and (offline_site / "figures" / f"{stem}.svg").is_file()
        assert not (offline_site / "figures" / f"{stem}.png").exists()

    def test_table_figures_notebook_pages_show_the_table_picture(self, offline_site):
        page = (offline_site / "fig10_local_delivery_challenges.html").read_text()
        element = TABLE_IMAGE.search(page)
        assert element and 'role="img"' in element.group(0) and "Fragmented funding sources" in page[element.start() :]

    def test_code_hidden_pages_show_no_raw_missing_markers(self, offline_site):
        raw = [p.name for p in offline_site.glob("*.html") if re.search(r">\s*(NaN|&lt;NA&gt;)\s*<", p.read_text())]
        assert raw == []

    def test_index_puts_figures_before_the_collapsed_key_facts(self, offline_site):
        page = (offline_site / "index.html").read_text()
        assert page.index('id="fig01"') < page.index('<details class="key-facts" id="key-facts">')

    def test_interactive_maps_are_written_from_the_records(self, offline_site):
        assert {p.name for p in offline_site.glob("*_interactive.html")} == {
            "fig03_spending_change_map_interactive.html",
            "fig05_treatment_gap_map_interactive.html",
        }

    def test_figure3_explanation_appears_once_on_the_reconciliation_page(self, offline_site):
        page = (offline_site / "reconciliation.html").read_text()
        section = page[page.index('<section id="fig03">') : page.index('<section id="fig04">')]
        # The offline run differs from the published one in its basis and inputs: said once, not on every row.
        assert section.count("differ from the published run") == 1
        assert section.count("basis: published outturn, this run budget") == 1

    def test_figure3_changes_are_signed(self, offline_site):
        page = (offline_site / "reconciliation.html").read_text()
        assert '<td class="num">-40%</td><td class="num">-41.3%</td>' in page
