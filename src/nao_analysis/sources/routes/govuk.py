"""GOV.UK publications through the content API: pick the attachment by title and year.

``GET {settings.govuk_api}{page path}`` returns the page as JSON; its ``details.attachments`` list each file
with a ``title`` and a ``url`` on assets.publishing.service.gov.uk. Attachment URLs change with every
re-release, so the registry names the page and a title pattern rather than a file URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlparse

from nao_analysis.errors import DownloadError, SourceUnavailableError
from nao_analysis.sources.routes import RouteChoice, effective_route, fetch_json, for_fetch_layer

if TYPE_CHECKING:
    import requests

    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import GovukRoute, Source, SourceFile


def content_api_url(route: GovukRoute, settings: Settings) -> str:
    """The content-API address of the route's page."""
    return settings.govuk_api.rstrip("/") + "/" + route.page_path


def year_forms(year: str) -> list[str]:
    """The ways a financial year is written in GOV.UK titles and file names: 2021-22, 2021 to 2022, 2021/22, 2021_22."""
    match = re.fullmatch(r"(\d{4})\s*(?:-|/|_|to)\s*(\d{2}|\d{4})", year.strip())
    if not match:
        return [year]
    start, end = match.group(1), match.group(2)
    short, long = end[-2:], (start[:2] + end[-2:] if len(end) == 2 else end)
    return [f"{start}-{short}", f"{start} to {long}", f"{start}/{short}", f"{start}_{short}", f"{start}-{long}", f"{start}{short}"]


def _name(attachment: dict[str, Any]) -> str:
    return attachment.get("filename") or urlparse(str(attachment.get("url", ""))).path.rsplit("/", 1)[-1]


def pick_attachment(attachments: list[dict[str, Any]], route: GovukRoute, filename: str, where: str) -> dict[str, Any]:
    """The one attachment whose title matches the pattern (and mentions the year); the registered filename breaks ties.

    Raises
    ------
    DownloadError
        None matches, or several do and none has the registered filename.
    """
    usable = [a for a in attachments if isinstance(a, dict) and a.get("url")]
    pattern = re.compile(route.attachment_title, re.IGNORECASE)
    matches = [a for a in usable if pattern.search(str(a.get("title", "")))]
    if route.year:
        forms = year_forms(route.year)
        matches = [a for a in matches if any(f in f"{a.get('title', '')} {_name(a)}" for f in forms)]
    if len(matches) > 1:
        exact = [a for a in matches if _name(a).lower() == filename.lower()]
        matches = exact or matches
    if len(matches) == 1:
        return matches[0]
    titles = "; ".join(repr(a.get("title", "")) for a in usable[:12]) or "none"
    wanted = f"title matching {route.attachment_title!r}" + (f" for {route.year}" if route.year else "")
    if not matches:
        raise SourceUnavailableError(
            f"{where}: no attachment with a {wanted} among {len(usable)} ({titles}) - "
            "update attachment_title/year of the route in data/sources.yaml"
        )
    raise DownloadError(
        f"{where}: {len(matches)} attachments have a {wanted} ({'; '.join(repr(a.get('title')) for a in matches)}) - "
        "make attachment_title in data/sources.yaml more specific"
    )


def resolve(source: Source, file: SourceFile, settings: Settings, session: requests.Session) -> RouteChoice:
    """The URL of the page's attachment for ``file``, with the content-API URL, title and year it was chosen by."""
    route = effective_route(source)
    api_url = content_api_url(route, settings)
    page = fetch_json(session, api_url, settings)
    attachments = (page.get("details") or {}).get("attachments") or []
    chosen = pick_attachment(attachments, route, file.filename, api_url)
    url = urljoin(api_url, str(chosen["url"]))
    return RouteChoice(
        url,
        {
            "route": "govuk_content_api",
            "content_api_url": api_url,
            "attachment_title": chosen.get("title"),
            "attachment_filename": _name(chosen),
            "year": route.year,
            "page_updated": page.get("public_updated_at"),
        },
    )


def route(source: Source, file: SourceFile, settings: Settings, session) -> str:
    """The fetch layer's route-table entry: the chosen URL; the choice goes into provenance."""
    return for_fetch_layer(resolve(source, file, settings, session), session)
