"""ONS dataset pages: find a file through the page's ``/data`` JSON.

An ONS dataset landing page ``P`` answers ``P/data`` with JSON whose ``datasets`` list holds the current edition's
URI; ``{uri}/data`` lists its ``downloads`` (file names) and its earlier ``versions`` (each with a URI of its own).
A file is then served at ``https://www.ons.gov.uk/file?uri={uri}/{file}``. The route names the page and a pattern
for the file name, so a new edition or a corrected version is found without a hard-coded file URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from nao_analysis.errors import DownloadError, SourceUnavailableError
from nao_analysis.sources.routes import RouteChoice, effective_route, fetch_json, for_fetch_layer

if TYPE_CHECKING:
    import requests

    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import Source, SourceFile

MAX_VERSIONS = 40


def _site(page: str) -> str:
    parsed = urlparse(page)
    return f"{parsed.scheme}://{parsed.netloc}"


def _downloads(page: dict[str, Any]) -> list[str]:
    return [str(d["file"]) for d in page.get("downloads") or [] if isinstance(d, dict) and d.get("file")]


def resolve(source: Source, file: SourceFile, settings: Settings, session: requests.Session) -> RouteChoice:
    """The newest version's file whose name matches the route's pattern (the current edition first, then older versions)."""
    route = effective_route(source)
    site = _site(route.page)
    landing_url = route.page + "/data"
    landing = fetch_json(session, landing_url, settings)
    datasets = [d["uri"] for d in landing.get("datasets") or [] if isinstance(d, dict) and d.get("uri")]
    if not datasets:
        raise DownloadError(f"{landing_url}: the page lists no datasets - check the route's page in data/sources.yaml")
    pattern = re.compile(route.file_pattern, re.IGNORECASE)
    seen: list[str] = []
    for dataset_uri in datasets:
        current = fetch_json(session, site + dataset_uri + "/data", settings)
        versions = [(current.get("uri") or dataset_uri, current)]
        versions += [(v["uri"], None) for v in (current.get("versions") or [])[::-1][:MAX_VERSIONS] if isinstance(v, dict) and v.get("uri")]
        for uri, page in versions:
            page = page if page is not None else fetch_json(session, site + uri + "/data", settings)
            files = _downloads(page)
            seen += files
            for name in files:
                if pattern.search(name):
                    return RouteChoice(
                        f"{site}/file?uri={page.get('uri') or uri}/{name}",
                        {
                            "route": "ons_dataset_page",
                            "page": route.page,
                            "dataset_uri": page.get("uri") or uri,
                            "file": name,
                            "release_date": (page.get("description") or {}).get("releaseDate"),
                        },
                    )
    raise SourceUnavailableError(
        f"{landing_url}: no file matching {route.file_pattern!r} in any version (files: {', '.join(sorted(set(seen))[:12]) or 'none'}) - "
        "update file_pattern of the route in data/sources.yaml"
    )


def route(source: Source, file: SourceFile, settings: Settings, session) -> str:
    """The fetch layer's route-table entry: the chosen URL; the choice goes into provenance."""
    return for_fetch_layer(resolve(source, file, settings, session), session)
