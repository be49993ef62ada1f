"""Area pages (issue 16): every page built offline from the finished records in under ten seconds, with no broken
internal link, accessible structure (headings, captions, scopes, named charts), gaps shown as gaps, and a chart
that never joins a budget point to an outturn point. The axe audit is not on this branch's main: the structure is
checked here instead, and a browser test loads the index and searches it where Chromium is installed."""

from __future__ import annotations

import csv
import io
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import requires_mirror

from nao_analysis.report.areas import AreaRecordError, areas_of, spending_chart_svg, write_area_pages

BCP, HACKNEY, SLOUGH, CITY = "E06000058", "E09000012", "E06000039", "E09000001"
#: Pages the site itself writes beside the areas folder: the only way out of it a page may link.
SITE_PAGES = {"index.html", "reconciliation.html", "provenance.html", "assumptions.html", "manifest.json"}
COMMON = {"edition": "offline", "edition_title": "Offline", "banner": "", "banner_items": [], "built_at": "2026-01-01 00:00 UTC"}


class Page(HTMLParser):
    """What the checks need from a page: links, headings, tables and charts."""

    def __init__(self):
        super().__init__()
        self.links, self.headings, self.tables, self.svgs, self.scopes = [], [], 0, [], []
        self.captions = 0
        self._stack = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "table":
            self.tables += 1
        if tag == "caption":
            self.captions += 1
        if tag == "th":
            self.scopes.append(attrs.get("scope"))
        if tag == "svg":
            self.svgs.append(attrs)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def built(tmp_path_factory, raw_file):
    from nao_analysis.figures.runtime import run
    from nao_analysis.settings import Settings

    root = tmp_path_factory.mktemp("area-pages")
    settings = Settings.from_environment()
    for figure in ("areas", "fig05"):
        run(figure, edition="offline", output_dir=root / "figures", settings=settings)
    started = time.perf_counter()
    index = write_area_pages(root / "figures", root / "site", COMMON)
    return {"index": index, "folder": index.parent, "seconds": time.perf_counter() - started, "figures": root / "figures"}


@requires_mirror
class TestBuild:
    def test_every_area_has_a_page_and_a_csv(self, built):
        codes = {p.stem for p in built["folder"].glob("E*.csv")}
        assert len(codes) == 150 and all((built["folder"] / f"{c}.html").exists() for c in codes)

    def test_all_pages_take_under_ten_seconds(self, built):
        assert built["seconds"] < 10

    def test_no_internal_link_is_broken(self, built):
        broken = []
        for path in built["folder"].glob("*.html"):
            for href in parse(path).links:
                target = href.split("#")[0]
                if not target or re.match(r"^[a-z]+:", target):
                    continue
                if target.startswith("../"):
                    if target[3:] not in SITE_PAGES:
                        broken.append(f"{path.name} -> {href}")
                elif not (built["folder"] / target).exists():
                    broken.append(f"{path.name} -> {href}")
        assert not broken, broken[:10]

    def test_city_of_london_page_points_to_hackney(self, built):
        assert f"{HACKNEY}.html" in parse(built["folder"] / f"{CITY}.html").links


@requires_mirror
class TestStructure:
    def test_every_page_has_one_h1_and_no_skipped_heading_level(self, built):
        problems = []
        for path in built["folder"].glob("*.html"):
            levels = parse(path).headings
            if levels.count(1) != 1 or any(b - a > 1 for a, b in zip(levels, levels[1:])):
                problems.append(f"{path.name}: {levels}")
        assert not problems, problems[:5]

    def test_every_table_has_a_caption_and_every_header_a_scope(self, built):
        page = parse(built["folder"] / f"{BCP}.html")
        assert page.tables == page.captions and page.tables >= 4 and set(page.scopes) <= {"col", "row"}

    def test_every_chart_is_a_named_image(self, built):
        svgs = parse(built["folder"] / f"{BCP}.html").svgs
        assert len(svgs) == 2 and all(s.get("role") == "img" and s.get("aria-label") for s in svgs)

    def test_index_lists_every_area_as_a_plain_link_for_use_without_script(self, built):
        links = [h for h in parse(built["index"]).links if re.fullmatch(r"E\d{8}\.html", h)]
        assert len(links) == 150

    def test_index_search_has_a_label(self, built):
        text = built["index"].read_text(encoding="utf-8")
        assert '<label for="area-search"' in text and 'id="area-search"' in text


@requires_mirror
class TestContent:
    def test_page_shows_the_generated_sentence(self, built):
        import json

        record = json.loads((built["figures"] / "areas_area_profiles.json").read_text(encoding="utf-8"))
        hackney = next(a for a in areas_of(record) if a["code"] == HACKNEY)
        assert hackney["summary"].replace("'", "&#x27;") in (built["folder"] / f"{HACKNEY}.html").read_text(encoding="utf-8")

    def test_a_gap_reads_no_data_in_the_csv_never_zero(self, built):
        rows = list(csv.DictReader(io.StringIO((built["folder"] / f"{SLOUGH}.csv").read_text(encoding="utf-8"))))
        gap = next(r for r in rows if r["measure"] == "treatment_spending_cash" and r["period"] == "2022-23")
        assert (gap["value"], gap["status"]) == ("", "no data")

    def test_the_deaths_source_is_marked_as_a_third_partys_extract(self, built):
        assert "a third party&#x27;s extract" in (built["folder"] / f"{BCP}.html").read_text(encoding="utf-8")

    def test_treatment_gap_is_shown_where_figure_5_has_it(self, built):
        # Redcar and Cleveland is one of the four areas the offline Fingertips sample holds for 2020-21.
        assert "map class:" in (built["folder"] / "E06000003.html").read_text(encoding="utf-8")

    def test_treatment_gap_says_how_to_get_it_where_figure_5_lacks_it(self, built):
        text = (built["folder"] / f"{BCP}.html").read_text(encoding="utf-8")
        assert "Unavailable in this edition" in text and "nao-analysis build --edition nao-2023" in text

    def test_provenance_lists_the_deaths_extract_with_its_sha256(self, built):
        text = (built["folder"] / f"{BCP}.html").read_text(encoding="utf-8")
        assert "39bb3e2f09e8e942585f6825a861342f14a73410d6b76bb3cdce915ff71e559b" in text


class TestSpendingChart:
    MIXED = [
        {"year": "2013-14", "basis": "outturn", "covers": "A", "real_gbp_k": 100.0},
        {"year": "2014-15", "basis": "budget", "covers": "A", "real_gbp_k": 110.0},
        {"year": "2021-22", "basis": "budget", "covers": "A", "real_gbp_k": 90.0},
        {"year": "2022-23", "basis": "outturn", "covers": "A", "real_gbp_k": 80.0},
    ]

    def test_a_line_only_joins_points_of_one_basis(self):
        lines = re.findall(r'<polyline points="([^"]+)" fill="none" stroke="(#[0-9A-Fa-f]+)"', spending_chart_svg(self.MIXED, "2022-23"))
        assert sorted(c for _, c in lines) == ["#12436D", "#801650"] and all(len(p.split()) == 2 for p, _ in lines)

    def test_points_covering_other_areas_are_not_joined(self):
        other = [dict(s, covers="A; B") if s["year"] == "2022-23" else s for s in self.MIXED]
        assert spending_chart_svg(other, "2022-23").count("<polyline") == 1

    def test_every_point_is_labelled_with_its_basis(self):
        svg = spending_chart_svg(self.MIXED, "2022-23")
        assert svg.count(">outturn</text>") == 2 and svg.count(">budget</text>") == 2


class TestRecord:
    def test_a_record_without_areas_is_refused(self):
        with pytest.raises(AreaRecordError, match="holds no list of areas"):
            areas_of({"stem": "areas_area_profiles", "extra": {}})

    def test_an_area_without_a_name_is_refused(self):
        with pytest.raises(AreaRecordError, match="area 1 has no code or name"):
            areas_of({"stem": "areas_area_profiles", "extra": {"areas": [{"code": "E06000001"}]}})


@requires_mirror
class TestMapLinks:
    def test_each_area_on_the_treatment_gap_map_links_to_its_page(self, built):
        from nao_analysis.report.areas import area_links
        from nao_analysis.report.interactive_map import interactive_map_for_record

        record = __import__("json").loads((built["figures"] / "fig05_treatment_gap_map.json").read_text(encoding="utf-8"))
        body, _css = interactive_map_for_record(record, built["figures"], area_links=area_links(built["folder"].parent))
        linked = set(re.findall(r'data-code="(E\d{8})"[^>]*data-href="areas/(E\d{8})\.html"', body))
        assert len(linked) == 152 and all(code == page for code, page in linked)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.errors = errors
        yield page
        browser.close()


@requires_mirror
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium missing: run make browser-deps")
class TestInBrowser:
    def test_searching_by_name_leaves_the_matching_area(self, built, page):
        page.goto(built["index"].as_uri())
        page.fill("#area-search", "christchurch")
        assert page.locator("#area-list li:visible").all_inner_texts() == ["Bournemouth, Christchurch and Poole E06000058"]

    def test_an_area_page_logs_no_error(self, built, page):
        page.goto((built["folder"] / f"{BCP}.html").as_uri())
        assert page.errors == []

    def test_clicking_an_area_on_the_map_opens_its_page(self, built, page):
        from nao_analysis.report.areas import area_links
        from nao_analysis.report.interactive_map import interactive_map_for_record

        site = built["folder"].parent
        record = __import__("json").loads((built["figures"] / "fig05_treatment_gap_map.json").read_text(encoding="utf-8"))
        body, css = interactive_map_for_record(record, built["figures"], area_links=area_links(site))
        (site / "map.html").write_text(f"<!DOCTYPE html><html lang='en'><head><style>{css}</style></head><body>{body}</body></html>")
        page.goto((site / "map.html").as_uri())
        page.locator(f'g.areas path[data-code="{BCP}"]').click()
        page.wait_for_url(f"**/areas/{BCP}.html")
        assert page.url.endswith(f"areas/{BCP}.html")


@requires_mirror
def test_a_flagged_change_shows_its_flag_on_the_page(built):
    assert "Flag (2013-14 to 2022-23):</strong> increase of 1,410%" in (built["folder"] / "E09000011.html").read_text(encoding="utf-8")
