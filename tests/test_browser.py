"""The reviewer's site in a real browser: headless Debian Chromium driven by Playwright.

The site of the shared real ``offline`` build (``offline_site`` in conftest) is served from a local HTTP server
on 127.0.0.1. The tests check that no page logs a console error, every image, link and data download resolves,
no page scrolls sideways on a laptop (1366 px) or a phone (390 px), the interactive maps render, show a tooltip on
hover and focus and can be crossed or skipped with the keyboard, the skip links move focus, and the site asks for
nothing outside itself. A screenshot of every page is saved in ``test-artifacts/screenshots/``. The axe audit is
in ``test_accessibility.py``.

Chromium comes from ``make browser-deps`` (Debian's ``chromium`` package); without it these tests skip.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from site_browser import CHROMIUM, MAP_PAGES, VIEWPORTS, chromium, html_pages, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed - run `make browser-deps` (installs Debian's chromium as root)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed in the venv")


@pytest.fixture(scope="module")
def site_dir(offline_site) -> Path:
    """The site of the shared real offline build: ``reports/offline``."""
    return offline_site


@pytest.fixture(scope="module")
def origin(site_dir):
    """``http://127.0.0.1:PORT`` serving the site folder (a random free port)."""
    with serve(site_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def pages(site_dir) -> list[str]:
    """The HTML pages of the site (index, reconciliation, provenance, assumptions, maps, notebooks; the area
    profiles' index and a sample of awkward areas - every area page is audited in test_accessibility.py)."""
    names = html_pages(site_dir, every_area=False)
    assert {"index.html", "reconciliation.html", "provenance.html", "assumptions.html", *MAP_PAGES} <= set(names)
    return names


@pytest.fixture(scope="module")
def visits(browser, origin, pages) -> dict[str, dict]:
    """Load every page once: console errors, requests, images, links and a full-page screenshot of each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, dict] = {}
    for name in pages:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        seen: dict = {"errors": [], "requests": [], "failed": []}
        page.on("console", lambda msg, seen=seen: seen["errors"].append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc, seen=seen: seen["errors"].append(str(exc)))
        page.on("request", lambda request, seen=seen: seen["requests"].append(request.url))
        page.on("requestfailed", lambda request, seen=seen: seen["failed"].append(request.url))
        response = page.goto(f"{origin}/{name}", wait_until="load")
        seen["status"] = response.status if response else None
        seen["images"] = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth > 0, e.alt])"
        )
        seen["links"] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        seen["ids"] = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '_')[:-5]}.png"), full_page=True)
        found[name] = seen
        context.close()
    return found


class TestEveryPage:
    def test_loads_with_http_200(self, visits):
        assert {name: v["status"] for name, v in visits.items() if v["status"] != 200} == {}

    def test_no_console_errors(self, visits):
        assert {name: v["errors"] for name, v in visits.items() if v["errors"]} == {}

    def test_every_image_loads_and_has_alt_text(self, visits):
        broken = {name: [src for src, ok, alt in v["images"] if not ok or not (alt or "").strip()] for name, v in visits.items()}
        assert {name: srcs for name, srcs in broken.items() if srcs} == {}

    def test_requests_nothing_outside_the_site(self, visits, origin):
        outside = {name: [u for u in v["requests"] if not u.startswith(origin) and not u.startswith("data:")] for name, v in visits.items()}
        assert {name: urls for name, urls in outside.items() if urls} == {}

    def test_no_request_fails(self, visits):
        assert {name: v["failed"] for name, v in visits.items() if v["failed"]} == {}

    def test_screenshot_saved(self, visits):
        assert all((SCREENSHOTS / f"{name.replace('/', '_')[:-5]}.png").stat().st_size > 10_000 for name in visits)


class TestLinks:
    def test_every_local_link_resolves(self, visits, origin, browser):
        targets = {urldefrag(link).url for v in visits.values() for link in v["links"] if link.startswith(origin)}
        context = browser.new_context()
        try:
            statuses = {url: context.request.get(url).status for url in sorted(targets)}
        finally:
            context.close()
        assert {url: s for url, s in statuses.items() if s != 200} == {}

    def test_every_fragment_link_has_a_target(self, visits, origin):
        missing = []
        for name, v in visits.items():
            for link in v["links"]:
                url, fragment = urldefrag(link)
                target = urlparse(url).path.lstrip("/") or "index.html"
                if link.startswith(origin) and fragment and target in visits and fragment not in visits[target]["ids"]:
                    missing.append(f"{name} -> {target}#{fragment}")
        assert missing == []

    def test_each_figure_offers_csv_and_spreadsheet(self, visits, origin, browser):
        links = visits["index.html"]["links"]
        downloads = [link for link in links if re.search(r"\.(csv|xlsx)$", link)]
        assert any(d.endswith(".csv") for d in downloads) and any(d.endswith(".xlsx") for d in downloads)
        context = browser.new_context()
        try:
            bodies = {url: context.request.get(url).body() for url in downloads}
        finally:
            context.close()
        bad = [
            url
            for url, body in bodies.items()
            if (url.endswith(".xlsx") and not body.startswith(b"PK")) or (url.endswith(".csv") and b"," not in body[:200])
        ]
        assert bad == []

    def test_every_built_figure_links_its_notebook(self, visits, site_dir, origin):
        notebooks = {urljoin(origin + "/", f"{p.stem}.html") for p in site_dir.glob("fig*.ipynb")}
        assert notebooks and notebooks <= set(visits["index.html"]["links"])


class TestInteractiveMaps:
    @pytest.mark.parametrize("name", sorted(MAP_PAGES))
    def test_renders_svg_paths(self, browser, origin, name):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/{name}")
            paths = page.locator("#imap svg path.area")
            assert paths.count() > 140
            box = page.locator("#imap svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 300
        finally:
            page.close()

    @pytest.mark.parametrize(("name", "code"), sorted(MAP_PAGES.items()))
    def test_hover_shows_tooltip_with_name_value_and_base_figures(self, browser, origin, name, code):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{origin}/{name}")
            tooltip = page.locator("#imap .tooltip")
            assert tooltip.is_hidden()
            area = page.locator(f'#imap svg path.area[data-code="{code}"]').first
            area.scroll_into_view_if_needed()
            area.hover()
            tooltip.wait_for(state="visible", timeout=2000)
            text = tooltip.inner_text()
            page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}_hover.png"), full_page=True)
            assert len(text.splitlines()) >= 3 and re.search(r"\d", text), text
        finally:
            page.close()

    def test_keyboard_focus_shows_tooltip(self, browser, origin):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/fig03_spending_change_map_interactive.html")
            page.locator('#imap svg path.area[data-code="E08000032"]').first.focus()
            assert page.locator("#imap .tooltip .tt-name").inner_text() == "Bradford"
        finally:
            page.close()

    def test_flagged_area_tooltip_shows_its_flag(self, browser, origin):
        # Greenwich's +1,336% (offline edition, budget basis) is over the plausibility limit and flagged by Figure 3.
        page = browser.new_page()
        try:
            page.goto(f"{origin}/fig03_spending_change_map_interactive.html")
            page.locator('#imap svg path.area[data-code="E09000011"]').first.focus()
            assert "plausibility limit" in page.locator("#imap .tooltip .tt-flag").inner_text()
        finally:
            page.close()


class TestNoSidewaysScroll:
    @pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
    def test_no_page_is_wider_than_the_screen(self, browser, origin, site_dir, viewport):
        context = browser.new_context(viewport=VIEWPORTS[viewport])
        page = context.new_page()
        wide = {}
        try:
            for name in html_pages(site_dir):
                page.goto(f"{origin}/{name}", wait_until="load")
                width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                if width > 0:
                    wide[name] = width
        finally:
            context.close()
        assert wide == {}


class TestKeyboard:
    def test_enter_on_the_skip_link_moves_focus_to_the_content(self, browser, origin):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/index.html")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip"
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main"
        finally:
            page.close()

    @pytest.mark.parametrize("name", sorted(MAP_PAGES))
    def test_enter_on_skip_the_map_moves_focus_past_the_map(self, browser, origin, name):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/{name}")
            page.locator("a.skip-map").focus()
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "imap-after"
        finally:
            page.close()

    @pytest.mark.parametrize("name", sorted(MAP_PAGES))
    def test_the_whole_map_is_one_tab_stop(self, browser, origin, name):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/{name}")
            page.locator("a.skip-map").focus()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.getAttribute('role')") == "listitem"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.closest('#imap') === null")
        finally:
            page.close()

    def test_arrow_keys_move_between_areas_in_alphabetical_order(self, browser, origin):
        page = browser.new_page()
        try:
            page.goto(f"{origin}/fig03_spending_change_map_interactive.html")
            page.locator("a.skip-map").focus()
            page.keyboard.press("Tab")
            first = page.evaluate("document.activeElement.getAttribute('aria-label')")
            page.keyboard.press("ArrowRight")
            second = page.evaluate("document.activeElement.getAttribute('aria-label')")
            assert first.startswith("Barking and Dagenham:") and second.startswith("Barnet:")
        finally:
            page.close()
