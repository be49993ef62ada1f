"""``nao-analysis sources check [--online]``: does every source have a way onto a machine with internet?

Offline it lists each source's route (official URL, resolvable route, manual export or the official file an
extract stands in for) with its evidence, and names the sources that have no route or no evidence. Online it
asks each publisher for its file - a HEAD request, or a ranged GET of a few bytes where HEAD is refused - and
reports files that moved or went missing, with the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nao_analysis.errors import NaoError
from nao_analysis.sources import routes
from nao_analysis.sources.registry import Registry, Source, load_registry

if TYPE_CHECKING:
    import requests

    from nao_analysis.settings import Settings

PROBE_BYTES = 1023


@dataclass(frozen=True)
class RouteLine:
    """One source in the offline report."""

    source_id: str
    kind: str
    route: str
    evidence: tuple[str, ...]
    verified: str
    problem: str | None


@dataclass(frozen=True)
class OnlineResult:
    """What the publisher said about one source's file."""

    source_id: str
    status: str  # ok | moved | missing | skipped
    url: str
    detail: str
    fix: str = ""


def describe_route(source: Source) -> str:
    """One phrase saying how a machine with internet gets the source."""
    route = routes.effective_route(source)
    kind = source.route_kind
    if kind == "url":
        return source.url or ""
    if kind == "manual":
        steps = source.manual_steps
        return f"manual export from {steps.page} -> {steps.expected_filename}, then `{steps.command}`"
    if kind == "extract":
        standing = source.stands_in_for
        return f"stands in for {standing.source or standing.title}" + (f" ({standing.url})" if standing.url else "")
    if kind == "govuk_content_api":
        return f"GOV.UK content API {route.page_path}: attachment ~ /{route.attachment_title}/" + (
            f" for {route.year}" if route.year else ""
        )
    if kind == "ons_dataset_page":
        return f"ONS dataset page {route.page}: file ~ /{route.file_pattern}/"
    if kind == "arcgis_query":
        service = route.service or f"{route.directory} service ~ /{route.service_pattern}/"
        return f"ArcGIS {service} layer {route.layer} where {route.where} -> {route.output}"
    if kind == "fingertips_api":
        return f"Fingertips API indicators {route.indicator_ids}, area type {route.child_area_type_id}"
    return "none"


def _evidence(source: Source) -> tuple[str, ...]:
    return tuple(
        f"{e.url or (f'{e.repo}:{e.path}' if e.repo else f'public code containing {e.search!r}')} ({e.what})" for e in source.url_evidence
    )


def _problem(source: Source, registry: Registry) -> str | None:
    kind = source.route_kind
    if kind == "none":
        return "no route: add url, route, acquire: manual with manual_steps, or stands_in_for (extracts)"
    if kind == "extract":
        standing = source.stands_in_for
        if standing.source:
            if standing.source not in registry.ids():
                return f"stands_in_for names {standing.source!r}, which is not in the registry"
            official = registry.get(standing.source)
            if official.route_kind in ("none", "extract"):
                return f"stands_in_for {standing.source!r}, which has no route of its own"
            return None
        return None if source.url_evidence else "stands_in_for has a url but no url_evidence"
    if not source.url_evidence:
        return "route has no url_evidence: record where the URL or page was seen (publisher page or public code)"
    return None


def offline_report(registry: Registry) -> list[RouteLine]:
    """Every source with its route, evidence and problem (None when it has both a route and evidence)."""
    return [
        RouteLine(source.id, source.route_kind, describe_route(source), _evidence(source), source.verified, _problem(source, registry))
        for source in registry.sources
    ]


def _fix(source: Source, url: str, what: str) -> str:
    page = source.landing_page or (source.route.page if source.route is not None and hasattr(source.route, "page") else None)
    where = f"find the current file on {page}" if page else "find the current file on the publisher's site"
    if source.url:
        return f"{where} and update url of {source.id} in data/sources.yaml (or `nao-analysis sources add {source.id}_new --url URL`)"
    return f"{where} and update the route of {source.id} in data/sources.yaml ({what})"


def probe(session: requests.Session, url: str, settings: Settings) -> tuple[int, str]:
    """Ask for ``url`` without downloading it: HEAD, or a ranged GET where HEAD is refused. Returns (status, final URL)."""
    response = routes.request(session, url, settings, method="HEAD")
    response.close()
    if response.status_code in (403, 405, 501):
        response = routes.request(session, url, settings, stream=True, headers={"Range": f"bytes=0-{PROBE_BYTES}"})
        response.close()
    return response.status_code, getattr(response, "final_url", url)


def check_online(source: Source, settings: Settings, session: requests.Session) -> OnlineResult:
    """Ask the publisher whether the source's file is still where its route says."""
    kind = source.route_kind
    if kind in ("manual", "extract", "none"):
        return OnlineResult(source.id, "skipped", "", f"no download to check ({kind})")
    file = source.primary
    if kind == "arcgis_query":
        from nao_analysis.sources.routes import arcgis

        try:
            found = arcgis.count(source, settings, session)
        except NaoError as exc:
            return OnlineResult(source.id, "missing", source.route.service, str(exc), _fix(source, source.route.service, "service name"))
        expected = source.route.expected_count
        if expected is not None and found != expected:
            return OnlineResult(
                source.id,
                "moved",
                source.route.service,
                f"{found} records, expected {expected}",
                _fix(source, source.route.service, "expected_count"),
            )
        return OnlineResult(source.id, "ok", source.route.service, f"{found} records")
    try:
        choice = routes.resolve(source, file, settings, session)
    except NaoError as exc:
        return OnlineResult(source.id, "missing", "", str(exc), _fix(source, "", "the page no longer lists a matching file"))
    try:
        status, final = probe(session, choice.url, settings)
    except NaoError as exc:
        return OnlineResult(source.id, "missing", choice.url, str(exc), _fix(source, choice.url, "unreachable"))
    if status in (200, 206):
        if final != choice.url:
            return OnlineResult(
                source.id, "moved", choice.url, f"redirects to {final}", f"update url of {source.id} in data/sources.yaml to {final}"
            )
        return OnlineResult(source.id, "ok", choice.url, f"HTTP {status}")
    return OnlineResult(source.id, "missing", choice.url, f"HTTP {status}", _fix(source, choice.url, f"HTTP {status}"))


def run_check(
    settings: Settings, *, online: bool = False, out: Callable[[str], None] = print, session: requests.Session | None = None
) -> int:
    """Print the report; 0 when every source has a route and evidence (and, online, every file answered), else 1."""
    registry = load_registry(settings.sources_file)
    lines = offline_report(registry)
    width = max(len(line.source_id) for line in lines)
    for line in lines:
        out(f"{line.source_id:<{width}}  {line.kind:<18}  {line.route}")
        for item in line.evidence:
            out(f"{'':<{width}}    evidence: {item}")
        if line.problem:
            out(f"{'':<{width}}    PROBLEM: {line.problem}")
    lacking = [line.source_id for line in lines if line.problem]
    complete = len(lines) - len(lacking)
    out(f"{len(lines)} sources; {complete} with a route and evidence; {len(lacking)} without: {', '.join(lacking) or 'none'}")
    failed = bool(lacking)
    if online:
        session = session or routes.session_for(settings)
        results = [check_online(source, settings, session) for source in registry.sources]
        for result in results:
            out(
                f"{result.status:<8} {result.source_id:<{width}}  {result.url}  {result.detail}"
                + (f"  FIX: {result.fix}" if result.fix else "")
            )
        bad = [r for r in results if r.status in ("moved", "missing")]
        ok, skipped = sum(r.status == "ok" for r in results), sum(r.status == "skipped" for r in results)
        out(f"online: {ok} ok, {len(bad)} moved or missing, {skipped} skipped")
        failed = failed or bool(bad)
    return 1 if failed else 0
