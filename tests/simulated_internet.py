"""A simulated internet: local servers on 127.0.0.1 that answer at the publishers' official paths.

Files are the real mirror files, read from ``NAO_DATA_MIRROR`` when asked for (never copied). Only the protocol
around them is faked, as each publisher speaks it:

- GOV.UK: the content API (``/api/content/<page>``) lists a page's attachments by title, pointing at
  ``https://assets.publishing.service.gov.uk/media/<id>/<file>``; an old ``/government/uploads/...`` address
  redirects there, as GOV.UK does.
- ONS: a dataset page's ``/data`` JSON, the current edition's ``/data`` with its downloads and previous versions,
  files at ``/file?uri=...``, and the time-series CSV generator.
- ArcGIS (ONS Open Geography Portal): the services directory and ``FeatureServer/0/query`` built from the real
  boundary shapefiles (reprojected to WGS84) and the real lookup CSV, paged at a ``maxRecordCount`` of 50 with
  ``exceededTransferLimit``.
- Fingertips: ``/api/all_data/csv/by_indicator_id`` answers indicator 93517 with the real 13-row sample.

Anything else is a 404, as from a publisher that does not have the file. Each official origin gets its own
server; ``host_overrides`` gives the (official, loopback) pairs for ``Settings.host_overrides``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ASSETS = "https://assets.publishing.service.gov.uk"
ONS = "https://www.ons.gov.uk"
ARCGIS_ORG = "/ESMARspQHYMw9BZ9/arcgis/rest/services"
MAX_RECORD_COUNT = 50
DRUG_POISONING = (
    "/peoplepopulationandcommunity/birthsdeathsandmarriages/deaths/datasets/deathsrelatedtodrugpoisoningenglandandwalesreferencetable"
)

#: GOV.UK pages the mirror can back: page path -> [(attachment title, mirror path or None for a file it lacks)].
RO_PAGE = "government/statistics/local-authority-revenue-expenditure-and-financing-england-{}-individual-local-authority-data-outturn"
GOVUK_PAGES: dict[str, list[tuple[str, str | None]]] = {
    RO_PAGE.format("2013-to-2014"): [
        (
            "Revenue outturn social care and public health (RO3) 2013 to 2014",
            "revenue-account/Revenue_Outturn__RO3__data_2013-14_by_LA.xls",
        ),
        ("Revenue outturn housing services (RO4) 2013 to 2014", None),
        ("Revenue outturn service expenditure summary (RSX) 2013 to 2014", None),
    ],
    RO_PAGE.format("2022-to-2023"): [
        ("RO1: Revenue outturn education services 2022 to 2023", None),
        ("RO3: Revenue outturn social care and public health services 2022 to 2023", "revenue-account/RO3_2022-23_data_by_LA.ods"),
        ("RSX: Revenue outturn service expenditure summary 2022 to 2023", None),
    ],
    "government/statistics/drug-misuse-findings-from-the-2016-to-2017-csew": [
        ("Drug misuse: findings from the 2016/17 CSEW", None),
        ("Drug misuse: findings from the 2016/17 CSEW - data tables", "csew/drug-misuse-1617-tables.xlsx"),
    ],
}
#: Old GOV.UK upload addresses that redirect to the assets host: path -> mirror path.
GOVUK_UPLOADS = {
    "/government/uploads/system/uploads/attachment_data/file/365591/RA_2014-15_data_by_LA_-_Nat_Stats_Release_-_Revised_22-Oct-2014.xls": (
        "revenue-account/RA_2014-15_data_by_LA_-_Nat_Stats_Release_-_Revised_22-Oct-2014.xls"
    ),
}
#: ONS drug-poisoning reference tables: the current edition, then earlier versions (file name, mirror path or None).
DRUG_POISONING_VERSIONS = [
    ("2022registrations.xlsx", "ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2022reg.xlsx"),
    ("2021registrations.xlsx", None),
    ("2016maindataset.xls", "ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2016reg.xls"),
]
ONS_GENERATOR = {"/economy/grossdomesticproductgdp/timeseries/ybgb/ukea": "deflators/ons_ybgb_gdp_deflator_2025-06-30.csv"}
#: ArcGIS services: name -> (mirror path, kind).
ARCGIS_SERVICES = {
    "Counties_and_Unitary_Authorities_December_2021_UK_BUC": ("boundaries/CTYUA_DEC_2021_UK_BUC.shp", "boundaries"),
    "Counties_and_Unitary_Authorities_May_2023_UK_BUC": ("boundaries/CTYUA_MAY_2023_UK_BUC.shp", "boundaries"),
    "LTLA21_UTLA21_EW_LU": ("lookups/LTLA21_UTLA21_EW_LU_Apr2021.csv", "table"),
}
#: Names in the services directory that must not be mistaken for the above (other generalisations).
ARCGIS_DECOYS = ["Counties_and_Unitary_Authorities_May_2023_UK_BGC", "Counties_and_Unitary_Authorities_May_2023_UK_BFC"]
FINGERTIPS_INDICATORS = {"93517": "fingertips/fingertips_93517_sample.csv"}

Reply = tuple[int, dict[str, str], bytes]


def media_id(mirror_path: str) -> str:
    """A stable 24-hex-digit id like GOV.UK's asset ids."""
    return hashlib.sha1(mirror_path.encode(), usedforsecurity=False).hexdigest()[:24]


def _json(data: object, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


NOT_FOUND: Reply = (404, {"Content-Type": "text/plain"}, b"not found")


class SimulatedInternet:
    """The servers, one per official origin, answering from ``mirror``."""

    def __init__(self, mirror: Path) -> None:
        self.mirror = Path(mirror)
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[str, dict[str, list[str]]], Reply]] = {
            "https://www.gov.uk": self._govuk,
            ASSETS: self._assets,
            ONS: self._ons,
            "https://services1.arcgis.com": self._arcgis,
            "https://fingertips.phe.org.uk": self._fingertips,
        }
        self._servers = {origin: self._serve(handler) for origin, handler in self._handlers.items()}

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def _serve(self, answer: Callable[[str, dict[str, list[str]]], Reply]) -> ThreadingHTTPServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, with_body: bool) -> None:
                parsed = urlparse(self.path)
                with owner._lock:
                    owner.requests[parsed.path] += 1
                status, headers, body = answer(parsed.path, parse_qs(parsed.query))
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), "Connection": "close", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)
                self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                self._reply(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._reply(False)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    @property
    def host_overrides(self) -> tuple[tuple[str, str], ...]:
        return tuple((origin, f"http://127.0.0.1:{server.server_address[1]}") for origin, server in self._servers.items())

    # -- files ----------------------------------------------------------------------------------------------------
    def _file(self, mirror_path: str | None, content_type: str = "application/octet-stream") -> Reply:
        if mirror_path is None or not (self.mirror / mirror_path).is_file():
            return NOT_FOUND
        return 200, {"Content-Type": content_type}, (self.mirror / mirror_path).read_bytes()

    # -- GOV.UK -----------------------------------------------------------------------------------------------------
    def _govuk(self, path: str, query: dict[str, list[str]]) -> Reply:
        if path in GOVUK_UPLOADS:
            target = GOVUK_UPLOADS[path]
            return 301, {"Location": f"{ASSETS}/media/{media_id(target)}/{Path(path).name}"}, b""
        page = path.removeprefix("/api/content/")
        if page == path or page not in GOVUK_PAGES:
            return NOT_FOUND
        attachments = [
            {
                "title": title,
                "url": f"{ASSETS}/media/{media_id(mirror_path or title)}/{Path(mirror_path or title.replace(' ', '_')).name}",
                "filename": Path(mirror_path or title.replace(" ", "_")).name,
                "attachment_type": "file",
            }
            for title, mirror_path in GOVUK_PAGES[page]
        ]
        return _json({"base_path": f"/{page}", "public_updated_at": "2024-02-14T09:30:00Z", "details": {"attachments": attachments}})

    def _assets(self, path: str, query: dict[str, list[str]]) -> Reply:
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "media":
            return NOT_FOUND
        mirror_path = {media_id(p): p for p in self._asset_paths}.get(parts[1])
        return self._file(mirror_path if mirror_path and Path(mirror_path).name == parts[2] else None)

    @cached_property
    def _asset_paths(self) -> list[str]:
        return [p for pages in GOVUK_PAGES.values() for _, p in pages if p] + list(GOVUK_UPLOADS.values())

    # -- ONS --------------------------------------------------------------------------------------------------------------
    def _ons(self, path: str, query: dict[str, list[str]]) -> Reply:
        current = f"{DRUG_POISONING}/current"
        versions = [current] + [f"{current}/previous/v{n}" for n in range(len(DRUG_POISONING_VERSIONS) - 1, 0, -1)]
        files = dict(zip(versions, DRUG_POISONING_VERSIONS, strict=True))
        if path == f"{DRUG_POISONING}/data":
            return _json(
                {
                    "type": "dataset_landing_page",
                    "description": {"title": "Deaths related to drug poisoning"},
                    "datasets": [{"uri": current}],
                }
            )
        if path.endswith("/data") and path.removesuffix("/data") in files:
            uri = path.removesuffix("/data")
            name, _ = files[uri]
            page = {
                "type": "dataset",
                "uri": uri,
                "downloads": [{"file": name}],
                "description": {"releaseDate": "2023-12-19T07:00:00.000Z"},
            }
            if uri == current:
                page["versions"] = [{"uri": v, "updateDate": "2023-12-19T07:00:00.000Z"} for v in versions[1:][::-1]]
            return _json(page)
        if path == "/file":
            uri = (query.get("uri") or [""])[0]
            folder, _, name = uri.rpartition("/")
            entry = files.get(folder)
            return self._file(entry[1] if entry and entry[0] == name else None)
        if path == "/generator" and (query.get("format") or [""])[0] == "csv":
            return self._file(ONS_GENERATOR.get((query.get("uri") or [""])[0]), "text/csv")
        return NOT_FOUND

    # -- ArcGIS -----------------------------------------------------------------------------------------------------------
    def _arcgis(self, path: str, query: dict[str, list[str]]) -> Reply:
        arg = {k: v[0] for k, v in query.items()}
        if path == ARCGIS_ORG:
            names = list(ARCGIS_SERVICES) + ARCGIS_DECOYS
            services = [
                {"name": n, "type": "FeatureServer", "url": f"https://services1.arcgis.com{ARCGIS_ORG}/{n}/FeatureServer"} for n in names
            ]
            return _json({"currentVersion": 11.3, "services": services})
        parts = path.removeprefix(ARCGIS_ORG + "/").split("/")
        if len(parts) != 4 or parts[1] != "FeatureServer" or parts[2] != "0" or parts[3] != "query" or parts[0] not in ARCGIS_SERVICES:
            return _json({"error": {"code": 400, "message": "Invalid URL", "details": []}})
        if arg.get("where", "1=1") != "1=1":
            return _json({"error": {"code": 400, "message": "Unable to complete operation.", "details": ["only where=1=1 is simulated"]}})
        records = self._records(parts[0])
        if arg.get("returnCountOnly") == "true":
            return _json({"count": len(records)})
        fields = arg.get("outFields", "*").split(",")
        order = arg.get("orderByFields")
        if order:
            records = sorted(records, key=lambda r: str(r["properties"].get(order)))
        offset = int(arg.get("resultOffset", 0))
        count = min(int(arg.get("resultRecordCount", MAX_RECORD_COUNT)), MAX_RECORD_COUNT)
        page = records[offset : offset + count]
        more = offset + count < len(records)

        def keep(properties: dict) -> dict:
            return properties if fields == ["*"] else {k: properties.get(k) for k in fields}

        if arg.get("f") == "geojson":
            features = [
                {"type": "Feature", "id": i + offset, "geometry": r["geometry"], "properties": keep(r["properties"])}
                for i, r in enumerate(page)
            ]
            body: dict = {"type": "FeatureCollection", "features": features}
            if more:
                body["properties"] = {"exceededTransferLimit": True}
            return _json(body)
        if arg.get("f") == "json":
            return _json({"features": [{"attributes": keep(r["properties"])} for r in page], "exceededTransferLimit": more})
        return _json({"error": {"code": 400, "message": "Invalid or missing input parameters.", "details": ["f"]}})

    def _records(self, service: str) -> list[dict]:
        cache = self.__dict__.setdefault("_record_cache", {})
        if service not in cache:
            mirror_path, kind = ARCGIS_SERVICES[service]
            if kind == "boundaries":
                import geopandas as gpd

                frame = gpd.read_file(self.mirror / mirror_path).to_crs(4326)
                collection = json.loads(frame.to_json(drop_id=True))
                cache[service] = [{"properties": f["properties"], "geometry": f["geometry"]} for f in collection["features"]]
            else:
                with open(self.mirror / mirror_path, encoding="utf-8-sig", newline="") as handle:
                    cache[service] = [{"properties": row, "geometry": None} for row in csv.DictReader(handle)]
        return cache[service]

    # -- Fingertips ---------------------------------------------------------------------------------------------------------
    def _fingertips(self, path: str, query: dict[str, list[str]]) -> Reply:
        if path != "/api/all_data/csv/by_indicator_id":
            return NOT_FOUND
        return self._file(FINGERTIPS_INDICATORS.get((query.get("indicator_ids") or [""])[0]), "text/csv")


def mirror_from_environment() -> Path | None:
    """The mirror the test reads (``NAO_DATA_MIRROR``), if set and present."""
    value = os.environ.get("NAO_DATA_MIRROR")
    return Path(value) if value and Path(value).is_dir() else None
