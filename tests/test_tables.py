"""The table figures' picture: laid out from measured text, written as SVG text by our own code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from nao_analysis.tables import (
    HEADER_FILL,
    SVG_FONT_FAMILY,
    TOTAL_FILL,
    TableLayout,
    TextBlock,
    find_layout_problems,
    table_image,
    text_width_pt,
    wrap_measured,
)

SVG = "{http://www.w3.org/2000/svg}"
ALT = "Table of two departments' allocations"


def allocations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Responsible Department/Body": ["Home Office/National Crime Agency", "Home Office/National Crime Agency", "Total"],
            "Activity": ["Restrict upstream flow of drugs from overseas into the country", "County lines", ""],
            "2022-23 (£mn)": [10, None, 10],
            "Total (£mn)": [33, 0.05, 33.05],
        }
    )


def image(**options):
    return table_image(
        allocations(), "Funding to disrupt supply", "The Home Office leads", ["Allocations, not spending."], "NAO", **options
    )


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text.split("?>", 1)[1])


def texts(root: ET.Element) -> list[str]:
    """Each ``<text>`` element's words in document order, its lines joined by spaces."""
    return [" ".join(t.strip() for t in element.itertext() if t.strip()) for element in root.iter(f"{SVG}text")]


class TestWrapping:
    @pytest.mark.parametrize("width", [30, 60, 120])
    def test_no_line_is_wider_than_its_room(self, width):
        text = "Department of Health and Social Care/Office for Health Improvement and Disparities funds recovery"
        assert all(text_width_pt(line, 8) <= width for line in wrap_measured(text, width, 8))

    def test_a_long_word_breaks_after_its_slash_first(self):
        assert wrap_measured("Department/Body", text_width_pt("Department/", 8) + 1, 8) == ["Department/", "Body"]

    def test_wrapping_keeps_every_word_in_order(self):
        text = "Preventing drugs reaching the UK from overseas. Includes funding for international liaison staff."
        assert " ".join(wrap_measured(text, 80, 8)) == text

    def test_bold_text_measures_wider(self):
        assert text_width_pt("Total funding", 8, bold=True) > text_width_pt("Total funding", 8)


class TestSvg:
    def test_is_well_formed_and_named_for_screen_readers(self):
        root = svg_root(image().to_svg(ALT))
        assert (root.get("role"), root.get("aria-label"), root.find(f"{SVG}title").text) == ("img", ALT, ALT)

    def test_names_the_measured_font_first_with_fallbacks(self):
        assert svg_root(image().to_svg(ALT)).get("font-family") == SVG_FONT_FAMILY == "DejaVu Sans, Verdana, Arial, sans-serif"

    def test_every_cell_is_text_in_reading_order(self):
        shown = texts(svg_root(image(merge_repeats=["Responsible Department/Body"]).to_svg(ALT)))
        assert shown == [
            "Funding to disrupt supply",
            "The Home Office leads",
            "Responsible Department/Body",
            "Activity",
            "2022-23 (£mn)",
            "Total (£mn)",
            "Home Office/National Crime Agency",
            "Restrict upstream flow of drugs from overseas into the country",
            "10",
            "33",
            "County lines",
            "-",
            "0.05",
            "Total",
            "10",
            "33.05",
            "Notes",
            "1 Allocations, not spending. Source: NAO",
        ]

    def test_numeric_columns_are_right_aligned(self):
        root = svg_root(image().to_svg(ALT))
        anchors = {" ".join(e.itertext()): e.get("text-anchor") for e in root.iter(f"{SVG}text")}
        assert (anchors["33.05"], anchors["0.05"], anchors["County lines"]) == ("end", "end", None)

    def test_total_row_is_bold_on_a_light_band_under_a_dark_header(self):
        root = svg_root(image().to_svg(ALT))
        fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
        bold = {" ".join(e.itertext()) for e in root.iter(f"{SVG}text") if e.get("font-weight") == "bold"}
        assert fills[1:] == [HEADER_FILL, TOTAL_FILL] and {"Total", "33.05", "Activity", "Notes"} <= bold and "33" not in bold

    def test_a_rule_under_every_row(self):
        assert len(list(svg_root(image().to_svg(ALT)).iter(f"{SVG}line"))) == 1 + len(allocations())

    def test_banner_is_drawn_under_the_source_when_given(self):
        banner = "Edition 'offline' - substitute data: Figure 7 is rebuilt from the report's own table."
        with_banner, without = image().to_svg(ALT, banner=banner), image().to_svg(ALT)
        assert texts(svg_root(with_banner))[-1] == banner and banner not in without
        assert image().layout(banner).height > image().layout().height

    def test_escapes_markup_in_cells(self):
        frame = pd.DataFrame({"Body": ["Health & <Care>"], "£m": [1]})
        assert "Health &amp; &lt;Care&gt;" in table_image(frame, "T").to_svg("A & B")

    def test_same_table_gives_the_same_bytes(self):
        assert image().to_svg(ALT) == image().to_svg(ALT)


class TestLayoutProblems:
    def test_a_clean_table_has_none_even_with_a_long_banner(self):
        assert find_layout_problems(image(width_inches=6).layout("A substitute-data banner that wraps. " * 12)) == []

    def test_text_running_out_of_its_cell_is_found(self):
        wide = TextBlock("cell", ("A cell far too wide for its room",), 10, 10, 8, 10.4, room=(5, 5, 40, 30))
        assert find_layout_problems(TableLayout(200, 100, (), (), (wide,))) == [
            "cell 'A cell far too wide for its room' runs out of its room"
        ]

    def test_overlapping_texts_are_found(self):
        first = TextBlock("notes", ("Note one",), 10, 10, 8, 10.4)
        second = TextBlock("notes", ("Note two",), 12, 14, 8, 10.4)
        assert find_layout_problems(TableLayout(200, 100, (), (), (first, second))) == ["notes 'Note one' overlaps notes 'Note two'"]
