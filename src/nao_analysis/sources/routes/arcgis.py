"""ArcGIS feature services (the ONS Open Geography Portal): boundaries as GeoJSON, lookups as CSV.

A layer is read with ``{service}/{layer}/query``, page by page: each request asks for ``resultRecordCount``
records from ``resultOffset``, ordered by the code field so pages never overlap, and the service says
``exceededTransferLimit`` while more remain (it may also cap a page at its own ``maxRecordCount``). The
pages are then checked - coordinates in WGS84 (GeoJSON is longitude/latitude), one feature per ONS code,
the expected count - and written as one file with features sorted by code, so the same layer gives the
same bytes and the file can be pinned by sha256.

Paging with ``resultOffset``/``resultRecordCount`` needs ArcGIS Server 10.3 or later (ArcGIS Online, which hosts the
ONS services, has it); ``exceededTransferLimit`` on paged results since 10.3.1 (see
thollingshead/arcgis-server-store issue 17). Service names embed the product and vintage and sometimes a release
suffix, so a route may name the organisation's services directory and a name pattern instead of one service.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from nao_analysis.errors import DownloadError, SourceUnavailableError
from nao_analysis.sources.routes import RouteChoice, download_filename, effective_route, fetch_json, for_fetch_layer

if TYPE_CHECKING:
    import requests

    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import ArcgisRoute, Source, SourceFile

ONS_CODE = re.compile(r"^[EWSNKL]\d{8}$")
MAX_PAGES = 500
#: Longitude and latitude bounds of the UK and its waters: a layer outside them is not in WGS84.
UK_LON = (-14.0, 4.0)
UK_LAT = (49.0, 62.0)
WGS84_NAMES = ("EPSG::4326", "EPSG:4326", "CRS84", "OGC:1.3:CRS84")


def service_url(route: ArcgisRoute, settings: Settings, session: requests.Session) -> tuple[str, dict[str, Any]]:
    """The FeatureServer URL: given, or the one service in the directory whose name matches the route's pattern."""
    if route.service:
        return route.service, {}
    listing_url = f"{route.directory}?f=json"
    listing = fetch_json(session, listing_url, settings)
    _raise_service_error(listing, listing_url)
    pattern = re.compile(route.service_pattern)
    matches = [
        s
        for s in listing.get("services") or []
        if isinstance(s, dict) and s.get("type") == "FeatureServer" and pattern.search(str(s.get("name")))
    ]
    if len(matches) != 1:
        names = ", ".join(str(s.get("name")) for s in matches[:8]) or "none"
        raise (SourceUnavailableError if not matches else DownloadError)(
            f"{listing_url}: {len(matches)} FeatureServer services match {route.service_pattern!r} ({names}) - "
            "make service_pattern of the route in data/sources.yaml match exactly one"
        )
    name = str(matches[0]["name"])
    url = str(matches[0].get("url") or f"{route.directory}/{name}/FeatureServer")
    return url.rstrip("/"), {"services_directory": listing_url, "service_name": name}


def query_url(route: ArcgisRoute, service: str, *, offset: int | None = None, count_only: bool = False) -> str:
    """The query address for one page (or for the record count)."""
    params: dict[str, Any] = {"where": route.where, "outFields": ",".join(route.out_fields)}
    if count_only:
        params.update(returnCountOnly="true", f="json")
    else:
        params.update(
            orderByFields=route.code_field,
            resultOffset=offset or 0,
            resultRecordCount=route.page_size,
            f="geojson" if route.output == "geojson" else "json",
        )
        if route.output == "geojson":
            params["outSR"] = 4326
        else:
            params["returnGeometry"] = "false"
    return f"{service}/{route.layer}/query?{urlencode(params)}"


def _raise_service_error(page: dict[str, Any], url: str) -> None:
    # ArcGIS reports errors with HTTP 200 and an "error" object.
    error = page.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        raise DownloadError(f"{url}: the feature service answered an error ({message}) - check the route's service/where/out_fields")


def _exceeded(page: dict[str, Any]) -> bool:
    # Older services put the flag at the top level; GeoJSON responses put it under "properties".
    return bool(page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit"))


def fetch_features(route: ArcgisRoute, service: str, settings: Settings, session: requests.Session) -> tuple[list[dict[str, Any]], int]:
    """Every feature of the layer (GeoJSON features, or ``{"attributes": ...}`` records), and the pages it took."""
    features: list[dict[str, Any]] = []
    for page_number in range(MAX_PAGES):
        url = query_url(route, service, offset=len(features))
        page = fetch_json(session, url, settings)
        _raise_service_error(page, url)
        if route.output == "geojson" and page.get("type") != "FeatureCollection":
            raise DownloadError(f"{url}: not a GeoJSON FeatureCollection - the service may not support f=geojson; check the route")
        batch = page.get("features")
        if not isinstance(batch, list):
            raise DownloadError(f"{url}: the response has no features list - check the route's service and layer")
        features += batch
        if not batch or not _exceeded(page):
            return features, page_number + 1
    raise DownloadError(f"{service}: still more features after {MAX_PAGES} pages - raise page_size in the route")


def _properties(feature: dict[str, Any], output: str) -> dict[str, Any]:
    return (feature.get("properties") if output == "geojson" else feature.get("attributes")) or {}


def _walk_coordinates(coordinates: Any):
    if isinstance(coordinates, (list, tuple)) and coordinates and isinstance(coordinates[0], (int, float)):
        yield coordinates
    elif isinstance(coordinates, (list, tuple)):
        for item in coordinates:
            yield from _walk_coordinates(item)


def check_features(features: list[dict[str, Any]], route: ArcgisRoute, where: str, crs: Any = None) -> dict[str, int]:
    """Check CRS (WGS84 coordinates inside the UK), codes (ONS format, unique) and count; return counts for provenance."""
    if crs is not None:
        name = json.dumps(crs)
        if not any(n in name for n in WGS84_NAMES):
            raise DownloadError(f"{where}: GeoJSON CRS is {name}, not WGS84 - ask the service for outSR=4326")
    codes = []
    for index, feature in enumerate(features):
        code = _properties(feature, route.output).get(route.code_field)
        if not isinstance(code, str) or not ONS_CODE.match(code):
            raise DownloadError(f"{where}: feature {index} has {route.code_field}={code!r}, not an ONS area code - check code_field")
        codes.append(code)
        if route.output == "geojson":
            geometry = feature.get("geometry") or {}
            if geometry.get("type") not in ("Polygon", "MultiPolygon"):
                raise DownloadError(f"{where}: feature {code} has geometry {geometry.get('type')!r}, not a polygon - check the layer")
            for lon, lat, *_ in _walk_coordinates(geometry.get("coordinates")):
                if not (UK_LON[0] <= lon <= UK_LON[1] and UK_LAT[0] <= lat <= UK_LAT[1]):
                    raise DownloadError(
                        f"{where}: feature {code} has a point ({lon}, {lat}) outside UK longitude/latitude - "
                        "the coordinates are not WGS84; ask the service for outSR=4326"
                    )
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates and route.output == "geojson":
        raise DownloadError(f"{where}: codes {duplicates[:5]} appear more than once - paging overlapped; check orderByFields support")
    if route.expected_count is not None and len(features) != route.expected_count:
        raise DownloadError(
            f"{where}: {len(features)} features, expected {route.expected_count} - the layer changed or paging lost records; "
            "check the service, then update expected_count"
        )
    if not features:
        raise DownloadError(f"{where}: no features - check the route's where clause")
    return {"features": len(features), "england_codes": len({c for c in codes if c.startswith("E")})}


def render(features: list[dict[str, Any]], route: ArcgisRoute) -> bytes:
    """The checked features as one file: GeoJSON (WGS84) or CSV, sorted by code so the bytes are reproducible."""
    ordered = sorted(features, key=lambda f: str(_properties(f, route.output).get(route.code_field)))
    if route.output == "geojson":
        collection = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": f.get("properties") or {}, "geometry": f.get("geometry")} for f in ordered],
        }
        return (json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    rows = [_properties(f, route.output) for f in ordered]
    columns = route.out_fields if route.out_fields != ["*"] else sorted({k for row in rows for k in row})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def resolve(source: Source, file: SourceFile, settings: Settings, session: requests.Session) -> RouteChoice:
    """The first page's query URL (what ``sources check --online`` asks for); the file itself needs :func:`download`."""
    route = effective_route(source)
    service, found = service_url(route, settings, session)
    return RouteChoice(query_url(route, service, offset=0), {"route": "arcgis_query", "service": service, "layer": route.layer, **found})


def count(source: Source, settings: Settings, session: requests.Session) -> int:
    """How many records the layer holds for the route's where clause (one small request)."""
    route = effective_route(source)
    service, _ = service_url(route, settings, session)
    url = query_url(route, service, count_only=True)
    answer = fetch_json(session, url, settings)
    _raise_service_error(answer, url)
    if not isinstance(answer.get("count"), int):
        raise DownloadError(f"{url}: no record count in the answer - check the route's service and layer")
    return answer["count"]


def download(source: Source, file: SourceFile, settings: Settings, session: requests.Session, dest: Path) -> RouteChoice:
    """Page through the layer, check it, and write it to ``dest`` as one GeoJSON or CSV file."""
    route = effective_route(source)
    service, found = service_url(route, settings, session)
    first = query_url(route, service, offset=0)
    features, pages = fetch_features(route, service, settings, session)
    counts = check_features(features, route, first)
    Path(dest).write_bytes(render(features, route))
    return RouteChoice(
        first,
        {"route": "arcgis_query", "service": service, "layer": route.layer, "where": route.where, "pages": pages, **found, **counts},
    )


def route(source: Source, file: SourceFile, settings: Settings, session) -> Path:
    """The fetch layer's route-table entry: the layer assembled into ``session.new_file``; the choice goes into provenance."""
    dest = session.new_file(download_filename(source, file))
    for_fetch_layer(download(source, file, settings, session, dest), session)
    return dest
