"""The OHID Fingertips API: every area of one type for the route's indicators, as CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from nao_analysis.sources.routes import RouteChoice, effective_route, for_fetch_layer

if TYPE_CHECKING:
    import requests

    from nao_analysis.settings import Settings
    from nao_analysis.sources.registry import Source, SourceFile

CSV_ENDPOINT = "/all_data/csv/by_indicator_id"


def resolve(source: Source, file: SourceFile, settings: Settings, session: requests.Session) -> RouteChoice:
    """The request URL (no call is needed to choose it)."""
    route = effective_route(source)
    query = urlencode(
        {
            "indicator_ids": ",".join(str(i) for i in route.indicator_ids),
            "child_area_type_id": route.child_area_type_id,
            "parent_area_type_id": route.parent_area_type_id,
        },
        safe=",",
    )
    url = f"{settings.fingertips_base_url.rstrip('/')}{CSV_ENDPOINT}?{query}"
    return RouteChoice(url, {"route": "fingertips_api", "indicator_ids": route.indicator_ids, "area_type_id": route.child_area_type_id})


def route(source: Source, file: SourceFile, settings: Settings, session) -> str:
    """The fetch layer's route-table entry: the request URL."""
    return for_fetch_layer(resolve(source, file, settings, session), session)
