"""Area profiles rendered from an ``areas`` record: one page per area, a searchable index, links from the maps.

The whole-site tests use the shared real offline build, whose ``areas`` record is made from its Figure 3 and
Figure 5 outputs (tests/map_records.py) until the record's recipe writes one. Small literal records only for the
chart's joining rule and bad input.
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from nao_analysis.report.area_profiles import area_csv, area_page_body, load_areas, spending_chart_svg, summary_sentence
from nao_analysis.report.records import RecordError

MIXED_BASES = [
    {"year": "2013-14", "basis": "outturn", "cash_gbp_k": 100.0, "real_gbp_k": 130.0, "source": "ro3_outturn_2013_14"},
    {"year": "2014-15", "basis": "budget", "cash_gbp_k": 110.0, "real_gbp_k": 140.0, "source": "ra_budget_2014_15"},
    {"year": "2021-22", "basis": "budget", "cash_gbp_k": 90.0, "real_gbp_k": 95.0, "source": "ra_budget_2021_22_csv"},
    {"year": "2022-23", "basis": "outturn", "cash_gbp_k": 80.0, "real_gbp_k": 80.0, "source": "ro3_outturn_2022_23"},
]


class TestLoadAreas:
    def test_record_without_areas_raises(self):
        with pytest.raises(RecordError, match="holds no list of areas"):
            load_areas({"figure": "areas", "stem": "areas"})

    def test_area_without_code_raises(self):
        with pytest.raises(RecordError, match="area 1 has no code or name"):
            load_areas({"figure": "areas", "stem": "areas", "areas": [{"name": "Bradford"}]})

    def test_areas_file_named_by_the_record_is_read(self, tmp_path):
        (tmp_path / "areas_profiles.json").write_text('[{"code": "E08000032", "name": "Bradford"}]')
        assert load_areas({"figure": "areas", "areas": "areas_profiles.json"}, tmp_path)[0]["name"] == "Bradford"


class TestSpendingChart:
    def test_a_line_only_joins_points_of_the_same_basis(self):
        svg = spending_chart_svg(MIXED_BASES, "2022-23")
        lines = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="(#[0-9A-Fa-f]+)"', svg)
        assert sorted(colour for _, colour in lines) == ["#12436D", "#801650"] and all(len(p.split()) == 2 for p, _ in lines)

    def test_every_point_says_its_basis(self):
        svg = spending_chart_svg(MIXED_BASES, "2022-23")
        assert svg.count(">outturn</text>") == 2 and svg.count(">budget</text>") == 2

    def test_a_gap_breaks_the_line(self):
        gappy = [s | {"basis": "budget"} for s in MIXED_BASES]
        gappy[1] = gappy[1] | {"real_gbp_k": None}
        assert spending_chart_svg(gappy, "2022-23").count("<polyline") == 1


class TestGaps:
    AREA = {"code": "E06000017", "name": "Rutland", "spending": [MIXED_BASES[0] | {"cash_gbp_k": None, "real_gbp_k": None}]}

    def test_missing_spending_reads_no_data_on_the_page(self):
        assert '<td class="num">no data</td><td class="num">no data</td>' in area_page_body(self.AREA, {"price_year": "2022-23"})

    def test_missing_spending_is_empty_in_the_csv_never_zero(self):
        rows = list(csv.DictReader(io.StringIO(area_csv(self.AREA, "2022-23"))))
        assert [(r["value"], r["status"]) for r in rows] == [("", "missing"), ("", "missing")]

    def test_unavailable_treatment_gap_says_how_to_get_it(self):
        area = self.AREA | {"treatment_gap": {"available": False, "how": "build nao-2023 online"}}
        assert "Unavailable in this edition. To get it: build nao-2023 online." in area_page_body(area, {})


class TestDeaths:
    AREA = {
        "code": "E10000023",
        "name": "North Yorkshire",
        "deaths": {
            "source": "la_deaths_extract",
            "third_party": True,
            "summed_from_districts": True,
            "rolling": [{"period": "2016-2018", "deaths": 61}, {"period": "2017-2019", "deaths": None, "status": "suppressed"}],
        },
    }

    def test_source_is_marked_as_a_third_partys_extract_summed_from_districts(self):
        page = area_page_body(self.AREA, {})
        assert "third party&#x27;s extract" in page and "Summed from the area&#x27;s districts" in page

    def test_suppressed_period_is_a_gap_not_zero(self):
        assert '<td class="num">no data (suppressed)</td>' in area_page_body(self.AREA, {})


class TestSummarySentence:
    def test_made_from_the_numbers(self):
        area = {
            "change": {
                "from": "2014-15",
                "to": "2021-22",
                "basis": "budget",
                "real_pct": -62.04,
                "england_real_pct": -41.3,
                "rank": 12,
                "of": 150,
            }
        }
        assert summary_sentence(area, "2022-23") == (
            "Real-terms spending on adult substance misuse treatment fell 62.0% between 2014-15 and 2021-22 "
            "(budget basis, 2022-23 prices), against -41.3% for England: the 12th largest fall of 150."
        )

    def test_the_recipes_own_summary_wins(self):
        assert summary_sentence({"summary": "Given."}) == "Given."


class TestBuiltProfiles:
    def test_one_page_per_area_of_figure3(self, offline_site):
        pages = sorted(p.stem for p in (offline_site / "areas").glob("E*.html"))
        assert len(pages) == 150

    def test_index_links_every_area_and_has_a_labelled_search(self, offline_site):
        page = (offline_site / "areas" / "index.html").read_text()
        assert len(re.findall(r'<li><a href="E\d{8}\.html">', page)) == 150 and '<label for="area-search">' in page

    def test_interactive_map_areas_open_their_profile(self, offline_site):
        page = (offline_site / "fig03_spending_change_map_interactive.html").read_text()
        assert 'data-code="E08000032" data-href="areas/E08000032.html"' in page

    def test_bradford_summary_as_rendered(self, offline_site):
        page = (offline_site / "areas" / "E08000032.html").read_text()
        assert "fell 80.9% between 2014-15 and 2021-22 (budget basis, 2022-23 prices), against -41.3% for England: the largest fall" in page
