"""Serving the reviewer's site on 127.0.0.1 and driving Debian's Chromium with Playwright, for the browser tests."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The widths a reviewer reads the site at: a common laptop and a phone.
VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
#: The interactive maps and an area with data in the offline edition's real inputs (Bradford: RA budgets; Redcar: Fingertips sample).
MAP_PAGES = {"fig03_spending_change_map_interactive.html": "E08000032", "fig05_treatment_gap_map_interactive.html": "E06000003"}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by http.server
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` serving ``folder`` on a random free port, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def chromium():
    """Debian's Chromium under Playwright (Playwright's own browser download is not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


#: Area profiles with awkward histories or data, loaded in full (screenshots, phone audit) where all 150 would be slow:
#: Bradford (largest fall), Bournemouth, Christchurch and Poole (created 2019), Hackney (counted with the City of
#: London), Cornwall (with the Isles of Scilly), Greenwich (flagged increase), Redcar (treatment-gap value).
AREA_SAMPLE = ("E08000032", "E06000058", "E09000012", "E06000052", "E09000011", "E06000003")


def html_pages(site_dir: Path, *, every_area: bool = True) -> list[str]:
    """The HTML pages of the site as paths relative to the site folder: every page, or every page but with only the
    index and :data:`AREA_SAMPLE` of the area profiles."""
    names = sorted(str(p.relative_to(site_dir)) for p in site_dir.rglob("*.html") if "figures" not in p.relative_to(site_dir).parts)
    if every_area:
        return names
    keep = {"areas/index.html"} | {f"areas/{code}.html" for code in AREA_SAMPLE}
    return [n for n in names if not n.startswith("areas/") or n in keep]
