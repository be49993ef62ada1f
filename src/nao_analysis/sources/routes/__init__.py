"""Download routes: how each registry source is found on its publisher's site.

A route turns a registry entry into the URL of its file, asking the publisher where needed (the GOV.UK content
API, an ONS dataset page's ``/data`` JSON, an ArcGIS feature service, the Fingertips API). Every function here
is a pure function of ``(source, file, settings, session)``: no environment, no module state, no cache writes.

The fetch layer calls :func:`resolve` (or, for routes that assemble a file rather than point at one, such as
an ArcGIS query paged into one GeoJSON, :func:`download`) and records :attr:`RouteChoice.detail` in provenance.

``RESOLVERS`` maps a route kind to the module that handles it; each module has
``resolve(source, file, settings, session) -> RouteChoice`` and may have
``download(source, file, settings, session, dest) -> RouteChoice``. For the fetch layer's route table each
module also has ``route(source, file, settings, session)``: it returns the URL to download (a ``str``), or the
``Path`` of a file it assembled under ``session.new_file(name)``, and records its choice with ``session.note``.
``session`` may be the fetch layer's ``DownloadSession`` or a ``requests.Session`` from :func:`session_for`.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from nao_analysis.errors import DownloadError, SourceError, SourceUnavailableError

if TYPE_CHECKING:
    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import Source, SourceFile

#: Route kind -> module under ``nao_analysis.sources.routes`` (imported on first use).
RESOLVERS = {
    "govuk_content_api": "govuk",
    "ons_dataset_page": "ons",
    "arcgis_query": "arcgis",
    "fingertips_api": "fingertips",
}
MAX_REDIRECTS = 5
MAX_BYTES = 500 * 1024**2
USER_AGENT = "nao-analysis (reproducible audit analysis; +https://www.nao.org.uk)"


@dataclass(frozen=True)
class RouteChoice:
    """The URL a route chose, and how it chose it (for the file's provenance record)."""

    url: str
    detail: dict[str, Any] = field(default_factory=dict)


def official_hosts() -> frozenset[str]:
    """The publishers' hosts the fetch layer allows (one allowlist for the whole package)."""
    from nao_analysis.sources.policy import OFFICIAL_HOSTS

    return frozenset(OFFICIAL_HOSTS)


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _is_loopback(origin: str) -> bool:
    host = urlparse(origin).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, settings: Settings, where: str) -> None:
    """Refuse anything but HTTPS to an official publisher (or a loopback origin the settings allow).

    The fetch layer's own check comes first: it judges the host as urllib3 connects, and refuses backslashes,
    userinfo and '@' tricks; the lines below only add the route's own wording."""
    from nao_analysis.sources.policy import check_url_allowed

    check_url_allowed(url, where, settings)
    parsed = urlparse(url)
    if _origin(url) in settings.extra_allowed_origins and _is_loopback(_origin(url)):
        return
    if parsed.scheme != "https":
        raise SourceError(f"{where}: URL {url!r} is not https - use the publisher's https address")
    if parsed.hostname not in official_hosts():
        raise SourceError(
            f"{where}: host {parsed.hostname!r} is not an official publisher on the allowlist - use the official URL, "
            "or add a file obtained by hand with `nao-analysis sources add ID --file PATH`"
        )


def session_for(settings: Settings) -> requests.Session:
    """A session with the settings' retries, and (tests only) the official hosts mapped to loopback servers.

    A mapped request keeps its official URL everywhere (allowlist, provenance, error messages); only the
    transport sends it to the loopback origin, so a local server can stand in for the publishers.
    """
    retry = Retry(
        total=settings.download_retries,
        backoff_factor=settings.download_backoff,
        backoff_max=max(settings.download_backoff * 8, 1.0),
        retry_after_max=int(settings.retry_after_max),
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        redirect=False,
    )
    session = requests.Session()
    session.trust_env = False  # proxies and netrc from the environment would bypass the allowlist's view
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    for official, local in settings.host_overrides:
        session.mount(official + "/", RedirectedAdapter(official, local, max_retries=retry))
    return session


class RedirectedAdapter(HTTPAdapter):
    """Sends requests for ``official`` to ``local`` (a loopback server speaking the publisher's protocol).

    Mount it on a session for each pair of ``settings.host_overrides``; it refuses any ``local`` that is not loopback.
    """

    def __init__(self, official: str, local: str, **kwargs: Any) -> None:
        if not _is_loopback(local):
            raise SourceError(f"host_overrides: {local!r} is not a loopback origin - only 127.0.0.1/localhost may stand in for {official}")
        super().__init__(**kwargs)
        self.official = official
        self.local = local

    def send(self, request, **kwargs):  # type: ignore[override]
        request.url = self.local + request.url[len(self.official) :]
        return super().send(request, **kwargs)


def _timeout(settings: Settings) -> tuple[float, float]:
    return (min(settings.download_timeout, 15.0), settings.download_timeout)


def request(
    session: requests.Session, url: str, settings: Settings, *, method: str = "GET", stream: bool = False, headers: dict | None = None
) -> requests.Response:
    """``method`` ``url``, following allowlisted redirects only; return the first non-redirect response.

    Raises
    ------
    DownloadError
        Connection failure, timeout, retries exhausted, or too many redirects (one line, naming the URL).
    """
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(current, settings, f"{url} redirected to" if current != url else "route")
        try:
            response = session.request(method, current, stream=stream, timeout=_timeout(settings), allow_redirects=False, headers=headers)
        except requests.exceptions.Timeout:
            raise DownloadError(f"{current}: timed out after {settings.download_timeout:g}s - try again later") from None
        except requests.exceptions.RequestException as exc:
            reason = " ".join(str(exc).split("(Caused by")[-1].strip(" )").split())[:160]
            raise DownloadError(f"{current}: could not connect ({reason}) - check the network, or try again later") from None
        if response.is_redirect:
            location = urljoin(current, response.headers.get("Location", ""))
            response.close()
            current = location
            continue
        # The official address the answer came from (``response.url`` may be a stand-in server's).
        response.final_url = current
        return response
    raise DownloadError(f"{url}: more than {MAX_REDIRECTS} redirects - check the route in data/sources.yaml")


def get_ok(session: requests.Session, url: str, settings: Settings, *, stream: bool = False) -> requests.Response:
    """GET ``url`` and insist on HTTP 200."""
    from nao_analysis.sources.policy import refuse_bad_status

    response = request(session, url, settings, stream=stream)
    refuse_bad_status(response, url)
    return response


def get_json(session: requests.Session, url: str, settings: Settings) -> dict[str, Any]:
    """GET ``url`` and parse a JSON object."""
    response = get_ok(session, url, settings)
    try:
        data = json.loads(response.content)
    except ValueError:
        raise DownloadError(f"{url}: response is not JSON - the API address has changed; check the route in data/sources.yaml") from None
    finally:
        response.close()
    if not isinstance(data, dict):
        raise DownloadError(f"{url}: JSON is a {type(data).__name__}, not an object - check the route in data/sources.yaml")
    return data


def fetch_json(session: Any, url: str, settings: Settings) -> dict[str, Any]:
    """GET a JSON object through the caller's session: the fetch layer's ``DownloadSession`` (which has
    ``get_json`` and its own allowlist) or a plain ``requests.Session`` (checked here)."""
    if hasattr(session, "get_json"):
        return session.get_json(url, where="route")
    return get_json(session, url, settings)


def for_fetch_layer(choice: RouteChoice, session: Any) -> str:
    """Hand a choice to the fetch layer's route table: its details become provenance notes, its URL the download."""
    if hasattr(session, "note"):
        for key, value in choice.detail.items():
            session.note(key, value)
    return choice.url


def route_module(kind: str):
    """The module that handles route ``kind`` (imported lazily: the fetch layer's resolver table)."""
    try:
        name = RESOLVERS[kind]
    except KeyError:
        raise SourceError(f"no resolver for route kind {kind!r} - known kinds: {', '.join(sorted(RESOLVERS))}") from None
    return importlib.import_module(f"{__name__}.{name}")


def _legacy_route(source: Source):
    """``govuk_slug`` + ``attachment_pattern`` (the older registry fields) as a content-API route."""
    from nao_analysis.sources.registry import GovukRoute

    return GovukRoute(
        kind="govuk_content_api",
        slug=source.govuk_slug,
        attachment_title=source.attachment_pattern or ".",
        year=str(source.serves.get("year")) if source.serves.get("year") else None,
    )


def effective_route(source: Source):
    """The route object of a source, if it has one (including the older ``govuk_slug`` form)."""
    if source.route is not None:
        return source.route
    if source.govuk_slug:
        return _legacy_route(source)
    return None


def unavailable_reason(source: Source) -> str:
    """One line saying why ``source`` has no download, and what to do."""
    if source.acquire == "manual" and source.manual_steps is not None:
        steps = source.manual_steps
        return (
            f"source {source.id!r} is exported by hand: on {steps.page} choose {'; '.join(steps.selections)}, press {steps.export!r}, "
            f"and add the downloaded {steps.expected_filename} with `{steps.command}`"
        )
    if source.stands_in_for is not None:
        official = source.stands_in_for.source or source.stands_in_for.url
        return (
            f"source {source.id!r} is {'a third party' if source.kind == 'third_party_extract' else 'a sample'}'s copy with no download - "
            f"on a machine with internet use the official file ({official}); "
            "or point NAO_DATA_MIRROR at a folder holding the copy"
        )
    return f"source {source.id!r} has no url, route or manual steps - add one to data/sources.yaml"


def resolve(source: Source, file: SourceFile, settings: Settings, session: requests.Session) -> RouteChoice:
    """The URL of ``file`` on its publisher's site, and how it was chosen.

    Raises
    ------
    SourceUnavailableError
        The source has no download (a manual export, or a third party's copy).
    DownloadError
        The publisher could not be asked, or its answer names no matching file.
    """
    if source.url:
        return RouteChoice(source.url, {"route": "url"})
    route = effective_route(source)
    if route is None or not source.downloadable:
        raise SourceUnavailableError(unavailable_reason(source))
    return route_module(route.kind).resolve(source, file, settings, session)


def stream_to(session: requests.Session, url: str, settings: Settings, dest: Path, *, max_bytes: int = MAX_BYTES) -> int:
    """Stream ``url`` into ``dest``; refuse an HTML page, an empty or oversized body. Returns the byte count."""
    from nao_analysis.safe_io import looks_like_html

    response = get_ok(session, url, settings, stream=True)
    received = 0
    head = b""
    with response, open(dest, "wb") as out:
        for chunk in response.iter_content(1 << 16):
            if len(head) < 512:
                head += chunk[: 512 - len(head)]
            received += len(chunk)
            if received > max_bytes:
                raise DownloadError(f"{url}: more than {max_bytes:,} bytes - refusing the download")
            out.write(chunk)
        declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and received < int(declared):
        raise DownloadError(f"{url}: truncated, received {received:,} of {int(declared):,} bytes - try again")
    if received == 0:
        raise DownloadError(f"{url}: empty response (0 bytes) - check the route, or try again later")
    if looks_like_html(head):
        raise DownloadError(
            f"{url}: returned an HTML page instead of a data file - the link has probably moved; run `nao-analysis sources check --online`"
        )
    return received


def download(source: Source, file: SourceFile, settings: Settings, session: requests.Session, dest: Path) -> RouteChoice:
    """Write ``file`` of ``source`` to ``dest`` through its route; the caller verifies, pins and installs it.

    Routes that assemble their file (an ArcGIS query paged into one GeoJSON) write it themselves; the others
    resolve a URL and stream it.
    """
    route = effective_route(source)
    if route is not None and source.downloadable and not source.url:
        module = route_module(route.kind)
        if hasattr(module, "download"):
            return module.download(source, file, settings, session, dest)
    choice = resolve(source, file, settings, session)
    check_url(choice.url, settings, f"data/sources.yaml source {source.id!r}")
    stream_to(session, choice.url, settings, dest)
    return choice


def download_filename(source: Source, file: SourceFile) -> str:
    """The name the downloaded file gets: the route's own output name where it differs from the mirror's files."""
    route = effective_route(source)
    return getattr(route, "filename", None) or file.filename
