"""An accessibility audit of every page of the reviewer's site with axe-core (through axe-playwright-python).

Every page of the shared real ``offline`` site is loaded in Debian's Chromium on a laptop viewport, and every page
but the bulk of the area profiles (their index and a sample of awkward areas stay in) on a phone viewport, and
audited with axe-core's default rules (WCAG 2.x A and AA and best practice). No page may have a serious or critical
violation; the report of any that is found is saved in ``test-artifacts/axe/`` and named in the failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from site_browser import CHROMIUM, MAP_PAGES, VIEWPORTS, chromium, html_pages, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPORTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "axe"
BLOCKING = {"serious", "critical"}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed - run `make browser-deps` (installs Debian's chromium as root)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="Python playwright is not installed in the venv")
axe_api = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed in the venv")


@pytest.fixture(scope="module")
def origin(offline_site):
    with serve(offline_site) as url:
        yield url


@pytest.fixture(scope="module")
def audits(offline_site, origin) -> dict[tuple[str, str], list[dict]]:
    """axe-core's violations for every page at every viewport: (viewport, page) -> violations."""
    axe = axe_api.Axe()
    found = {}
    REPORTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        for viewport, size in VIEWPORTS.items():
            context = browser.new_context(viewport=size)
            page = context.new_page()
            for name in html_pages(offline_site, every_area=viewport == "laptop"):
                page.goto(f"{origin}/{name}", wait_until="load")
                results = axe.run(page)
                found[(viewport, name)] = results.response["violations"]
                if results.response["violations"]:
                    report = REPORTS / f"{viewport}_{name.replace('/', '_')[:-5]}.txt"
                    report.write_text(results.generate_report())
            context.close()
    return found


def _blocking(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])} element(s))" for v in violations if v.get("impact") in BLOCKING]


def test_every_page_was_audited(audits, offline_site):
    assert {name for viewport, name in audits if viewport == "laptop"} == set(html_pages(offline_site))


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_no_serious_or_critical_violation_on_any_page(audits, viewport):
    blocking = {name: _blocking(v) for (vp, name), v in audits.items() if vp == viewport}
    assert {name: found for name, found in blocking.items() if found} == {}


@pytest.mark.parametrize("name", sorted(MAP_PAGES))
def test_interactive_map_page_has_no_violation_at_all(audits, name):
    assert [v["id"] for v in audits[("laptop", name)]] == []


@pytest.mark.parametrize("name", sorted(MAP_PAGES))
def test_map_areas_are_exposed_to_assistive_technology(offline_site, origin, name):
    """The areas are a list of named items inside a group, not focusable children hidden inside an image."""
    with chromium() as browser:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/{name}")
            snapshot = page.locator("#imap svg").aria_snapshot()
        finally:
            page.close()
    assert snapshot.startswith("- group") and "- list " in snapshot and snapshot.count('listitem "') > 140
