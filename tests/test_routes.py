"""Download routes: the registry's route schema, and each resolver against a scripted local server.

The official hosts are mapped to the scripted 127.0.0.1 server with ``Settings.host_overrides``, so the routes
are exercised with their real addresses. Real-data cases (the boundary checks) read the mirror.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
import yaml
from helpers import assert_one_line

from nao_analysis.errors import DownloadError, SourceError, SourceUnavailableError
from nao_analysis.settings import Settings
from nao_analysis.sources import routes
from nao_analysis.sources.registry import ArcgisRoute, GovukRoute, Source, load_registry
from nao_analysis.sources.routes import arcgis, fingertips, govuk, ons

# tests/http_server.py is also loaded as a plugin (for its fixture), so let pytest rewrite it before importing it here.
pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

ROOT = Path(__file__).resolve().parents[1]
ONS_ORG = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
DRUG_PAGE = "https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/deaths/datasets/deathsrelatedtodrugpoisoningenglandandwalesreferencetable"


def source(**changes) -> Source:
    entry = {
        "id": "demo",
        "title": "demo",
        "publisher": "demo publisher",
        "kind": "official",
        "format": "csv",
        "licence": "OGL-3.0",
        "files": [{"filename": "demo.xlsx"}],
    }
    entry.update(changes)
    return Source.model_validate(entry)


def govuk_route(**changes) -> dict:
    return {"kind": "govuk_content_api", "slug": "government/statistics/demo-page", "attachment_title": "RO3", **changes}


def arcgis_route(**changes) -> dict:
    route = {
        "kind": "arcgis_query",
        "service": f"{ONS_ORG}/Demo_Layer/FeatureServer",
        "out_fields": ["CTYUA21CD", "CTYUA21NM"],
        "code_field": "CTYUA21CD",
        "page_size": 2,
    }
    return {**route, **changes}


@pytest.fixture
def web(http_server, tmp_path) -> tuple[Settings, object]:
    """Settings whose official hosts are all answered by the scripted server."""
    origins = ("https://www.gov.uk", "https://assets.publishing.service.gov.uk", "https://www.ons.gov.uk", "https://services1.arcgis.com")
    settings = Settings(
        project_root=ROOT,
        raw_dir=tmp_path / "raw",
        host_overrides=tuple((o, http_server.origin) for o in origins),
        download_retries=0,
        download_timeout=5,
    )
    return settings, http_server


def as_json(data: object) -> Reply:
    return Reply(body=json.dumps(data).encode(), headers={"Content-Type": "application/json"})


class TestRouteSchema:
    def test_manual_acquisition_needs_its_steps(self):
        with pytest.raises(ValueError, match="no manual_steps"):
            source(acquire="manual")

    def test_manual_steps_end_in_the_sources_add_file_command(self):
        steps = {"page": "https://www.ndtms.net/ViewIt/Adult", "selections": ["All"], "export": "Download", "expected_filename": "x.csv"}
        with pytest.raises(ValueError, match="sources add ID --file"):
            source(acquire="manual", manual_steps={**steps, "command": "download it"})

    def test_a_third_party_extract_has_no_route(self):
        with pytest.raises(ValueError, match="must not have url/govuk_slug/route"):
            source(kind="third_party_extract", copied_from="someone/repo@abc:x.csv", route=govuk_route())

    def test_url_and_route_together_are_refused(self):
        with pytest.raises(ValueError, match="both url and route"):
            source(url="https://www.gov.uk/x.xlsx", route=govuk_route())

    def test_an_arcgis_route_names_its_service_one_way(self):
        with pytest.raises(ValueError, match="either service, or directory and service_pattern"):
            source(route=arcgis_route(directory=ONS_ORG, service_pattern="^Demo"))

    def test_an_arcgis_route_fetches_its_code_field(self):
        with pytest.raises(ValueError, match="code_field 'CTYUA21CD' must be one of out_fields"):
            source(route=arcgis_route(out_fields=["CTYUA21NM"]))

    def test_an_attachment_title_must_be_a_regular_expression(self):
        with pytest.raises(ValueError, match="not a valid regular expression"):
            source(route=govuk_route(attachment_title="RO3("))

    def test_evidence_names_a_place(self):
        with pytest.raises(ValueError, match="url_evidence needs"):
            source(url="https://www.gov.uk/x.xlsx", url_evidence=[{"what": "seen somewhere"}])

    def test_verified_is_never_or_a_date(self):
        with pytest.raises(ValueError, match="verified"):
            source(verified="yes")

    @pytest.mark.parametrize(
        ("changes", "kind"),
        [
            ({"url": "https://www.gov.uk/x.xlsx"}, "url"),
            ({"route": govuk_route()}, "govuk_content_api"),
            ({"govuk_slug": "demo-page"}, "govuk_content_api"),
            ({"kind": "third_party_extract", "copied_from": "a/b@c:d", "stands_in_for": {"title": "t", "source": "x"}}, "extract"),
            ({}, "none"),
        ],
    )
    def test_route_kind(self, changes, kind):
        assert source(**changes).route_kind == kind

    def test_every_real_source_has_a_route(self):
        assert [s.id for s in load_registry(ROOT / "data" / "sources.yaml").sources if s.route_kind == "none"] == []


class TestYearForms:
    def test_a_financial_year_is_matched_as_written_on_gov_uk(self):
        assert {"2021-22", "2021 to 2022", "2021/22", "2021_22"} <= set(govuk.year_forms("2021-22"))


class TestPickAttachment:
    ATTACHMENTS = [
        {"title": "RO1: Revenue outturn education services 2021 to 2022", "url": "/media/a/RO1_2021-22.ods"},
        {"title": "RO3: Revenue outturn social care and public health services 2021 to 2022", "url": "/media/b/RO3_2021-22_data_by_LA.ods"},
        {"title": "RO3: Revenue outturn social care and public health services 2020 to 2021", "url": "/media/c/RO3_2020-21_data_by_LA.ods"},
    ]

    def test_picks_the_title_and_year_asked_for(self):
        route = GovukRoute(**govuk_route(year="2021-22"))
        assert (
            govuk.pick_attachment(self.ATTACHMENTS, route, "RO3_2021-22_data_by_LA.ods", "api")["url"]
            == "/media/b/RO3_2021-22_data_by_LA.ods"
        )

    def test_no_matching_title_is_unavailable_and_lists_the_titles(self):
        route = GovukRoute(**govuk_route(attachment_title="RO6"))
        with pytest.raises(SourceUnavailableError) as caught:
            govuk.pick_attachment(self.ATTACHMENTS, route, "x.ods", "api")
        assert_one_line(caught.value, "RO6", "RO1: Revenue outturn education")

    def test_two_matches_are_refused_as_ambiguous(self):
        route = GovukRoute(**govuk_route())
        with pytest.raises(DownloadError, match="2 attachments"):
            govuk.pick_attachment(self.ATTACHMENTS, route, "unregistered.ods", "api")

    def test_the_registered_filename_breaks_a_tie(self):
        route = GovukRoute(**govuk_route())
        chosen = govuk.pick_attachment(self.ATTACHMENTS, route, "RO3_2020-21_data_by_LA.ods", "api")
        assert chosen["url"] == "/media/c/RO3_2020-21_data_by_LA.ods"


class TestGovukResolve:
    def test_the_attachment_url_is_absolute_and_the_choice_is_recorded(self, web):
        settings, server = web
        server.script(
            "/api/content/government/statistics/demo-page",
            as_json(
                {"public_updated_at": "2024-02-14", "details": {"attachments": [{"title": "RO3 2021 to 2022", "url": "/media/b/RO3.ods"}]}}
            ),
        )
        demo = source(route=govuk_route())
        with routes.session_for(settings) as session:
            choice = govuk.resolve(demo, demo.primary, settings, session)
        assert (choice.url, choice.detail["attachment_title"]) == ("https://www.gov.uk/media/b/RO3.ods", "RO3 2021 to 2022")

    def test_a_page_gov_uk_does_not_have_is_unavailable(self, web):
        settings, server = web
        server.script("/api/content/government/statistics/demo-page", Reply(status=404, body=b"{}"))
        demo = source(route=govuk_route())
        with routes.session_for(settings) as session, pytest.raises(SourceUnavailableError) as caught:
            govuk.resolve(demo, demo.primary, settings, session)
        assert_one_line(caught.value, "HTTP 404", "sources check --online")

    def test_an_answer_that_is_not_json_is_a_download_error(self, web):
        settings, server = web
        server.script("/api/content/government/statistics/demo-page", Reply(body=b"<html>maintenance</html>"))
        demo = source(route=govuk_route())
        with routes.session_for(settings) as session, pytest.raises(DownloadError, match="not JSON"):
            govuk.resolve(demo, demo.primary, settings, session)


class TestOnsResolve:
    PATH = DRUG_PAGE.removeprefix("https://www.ons.gov.uk")

    def script(self, server) -> None:
        current = f"{self.PATH}/current"
        server.script(f"{self.PATH}/data", as_json({"type": "dataset_landing_page", "datasets": [{"uri": current}]}))
        server.script(
            f"{current}/data",
            as_json({"uri": current, "downloads": [{"file": "2023registrations.xlsx"}], "versions": [{"uri": f"{current}/previous/v1"}]}),
        )
        server.script(
            f"{current}/previous/v1/data", as_json({"uri": f"{current}/previous/v1", "downloads": [{"file": "2022registrations.xlsx"}]})
        )

    def test_the_current_edition_file_is_chosen_first(self, web):
        settings, server = web
        self.script(server)
        demo = source(route={"kind": "ons_dataset_page", "page": DRUG_PAGE, "file_pattern": r"registrations\.xlsx$"})
        with routes.session_for(settings) as session:
            choice = ons.resolve(demo, demo.primary, settings, session)
        assert choice.url == f"https://www.ons.gov.uk/file?uri={self.PATH}/current/2023registrations.xlsx"

    def test_an_earlier_version_is_found_by_its_file_name(self, web):
        settings, server = web
        self.script(server)
        demo = source(route={"kind": "ons_dataset_page", "page": DRUG_PAGE, "file_pattern": r"2022registrations"})
        with routes.session_for(settings) as session:
            choice = ons.resolve(demo, demo.primary, settings, session)
        assert choice.detail["dataset_uri"] == f"{self.PATH}/current/previous/v1"

    def test_no_version_with_the_file_is_unavailable_naming_the_files_seen(self, web):
        settings, server = web
        self.script(server)
        demo = source(route={"kind": "ons_dataset_page", "page": DRUG_PAGE, "file_pattern": r"2016"})
        with routes.session_for(settings) as session, pytest.raises(SourceUnavailableError) as caught:
            ons.resolve(demo, demo.primary, settings, session)
        assert_one_line(caught.value, "2022registrations.xlsx", "file_pattern")


def mirror_boundaries() -> Path:
    shapefile = Path(os.environ.get("NAO_DATA_MIRROR") or "/nonexistent") / "boundaries" / "CTYUA_DEC_2021_UK_BUC.shp"
    if not shapefile.is_file():
        pytest.skip("NAO_DATA_MIRROR does not hold the December 2021 boundaries")
    return shapefile


@pytest.fixture(scope="module")
def real_features() -> list[dict]:
    """The real December 2021 boundaries as WGS84 GeoJSON features (from the mirror)."""
    import geopandas as gpd

    frame = gpd.read_file(mirror_boundaries())[["CTYUA21CD", "CTYUA21NM", "geometry"]]
    return json.loads(frame.to_crs(4326).to_json(drop_id=True))["features"]


class TestArcgisChecks:
    def test_the_real_layer_passes_with_its_counts(self, real_features):
        route = ArcgisRoute(**arcgis_route(expected_count=217))
        assert arcgis.check_features(real_features, route, "q") == {"features": 217, "england_codes": 152}

    def test_british_national_grid_coordinates_are_refused(self):
        import geopandas as gpd

        bng = json.loads(gpd.read_file(mirror_boundaries(), rows=2)[["CTYUA21CD", "CTYUA21NM", "geometry"]].to_json(drop_id=True))[
            "features"
        ]
        with pytest.raises(DownloadError, match="not WGS84"):
            arcgis.check_features(bng, ArcgisRoute(**arcgis_route()), "q")

    def test_a_declared_crs_other_than_wgs84_is_refused(self, real_features):
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
        with pytest.raises(DownloadError, match="not WGS84"):
            arcgis.check_features(real_features, ArcgisRoute(**arcgis_route()), "q", crs=crs)

    def test_overlapping_pages_are_refused(self, real_features):
        with pytest.raises(DownloadError, match="more than once"):
            arcgis.check_features(real_features + real_features[:1], ArcgisRoute(**arcgis_route()), "q")

    def test_a_count_other_than_expected_is_refused(self, real_features):
        with pytest.raises(DownloadError, match="216 features, expected 217"):
            arcgis.check_features(real_features[:-1], ArcgisRoute(**arcgis_route(expected_count=217)), "q")

    def test_a_code_field_that_holds_names_is_refused(self, real_features):
        route = ArcgisRoute(**arcgis_route(code_field="CTYUA21NM"))
        with pytest.raises(DownloadError, match="not an ONS area code"):
            arcgis.check_features(real_features, route, "q")

    def test_the_file_is_the_same_whatever_order_the_pages_came_in(self, real_features):
        route = ArcgisRoute(**arcgis_route())
        shuffled = real_features[:]
        random.Random(7).shuffle(shuffled)
        assert arcgis.render(shuffled, route) == arcgis.render(real_features, route)


class TestArcgisPaging:
    QUERY = "/ESMARspQHYMw9BZ9/arcgis/rest/services/Demo_Layer/FeatureServer/0/query"

    @staticmethod
    def feature(code: str) -> dict:
        return {
            "type": "Feature",
            "properties": {"CTYUA21CD": code},
            "geometry": {"type": "Polygon", "coordinates": [[[-1, 52], [-1, 53], [0, 52], [-1, 52]]]},
        }

    def page(self, offset: int, codes: list[str], more: bool) -> tuple[str, Reply]:
        route = ArcgisRoute(**arcgis_route())
        url = arcgis.query_url(route, route.service, offset=offset)
        body = {"type": "FeatureCollection", "features": [self.feature(c) for c in codes]}
        if more:
            body["properties"] = {"exceededTransferLimit": True}
        return url.removeprefix("https://services1.arcgis.com"), as_json(body)

    def test_pages_are_followed_until_the_service_says_there_are_no_more(self, web):
        settings, server = web
        for offset, codes, more in ((0, ["E06000001", "E06000002"], True), (2, ["E06000003"], False)):
            server.script(*self.page(offset, codes, more))
        with routes.session_for(settings) as session:
            features, pages = arcgis.fetch_features(ArcgisRoute(**arcgis_route()), f"{ONS_ORG}/Demo_Layer/FeatureServer", settings, session)
        assert (len(features), pages) == (3, 2)

    def test_an_error_answered_with_http_200_is_a_download_error(self, web):
        settings, server = web
        path, _ = self.page(0, [], False)
        server.script(path, as_json({"error": {"code": 400, "message": "Invalid URL"}}))
        with routes.session_for(settings) as session, pytest.raises(DownloadError, match="Invalid URL"):
            arcgis.fetch_features(ArcgisRoute(**arcgis_route()), f"{ONS_ORG}/Demo_Layer/FeatureServer", settings, session)

    def test_a_service_name_pattern_matching_two_services_is_refused(self, web):
        settings, server = web
        names = ["Demo_Layer_UK_BUC", "Demo_Layer_UK_BUC_V2"]
        server.script(
            "/ESMARspQHYMw9BZ9/arcgis/rest/services?f=json", as_json({"services": [{"name": n, "type": "FeatureServer"} for n in names]})
        )
        route = ArcgisRoute(**arcgis_route(service=None, directory=ONS_ORG, service_pattern="^Demo_Layer_UK_BUC"))
        with routes.session_for(settings) as session, pytest.raises(DownloadError, match="2 FeatureServer services match"):
            arcgis.service_url(route, settings, session)


class TestFingertips:
    def test_the_request_asks_for_every_area_of_the_type_under_england(self, settings):
        demo = source(route={"kind": "fingertips_api", "indicator_ids": [2012, 2013], "child_area_type_id": 402})
        choice = fingertips.resolve(demo, demo.primary, settings, None)
        assert choice.url.endswith("/all_data/csv/by_indicator_id?indicator_ids=2012,2013&child_area_type_id=402&parent_area_type_id=15")


class TestSession:
    def test_a_host_override_to_a_public_address_is_refused(self):
        settings = Settings(project_root=ROOT, host_overrides=(("https://www.gov.uk", "http://203.0.113.9:80"),))
        with pytest.raises(SourceError, match="not a loopback origin"):
            routes.session_for(settings)

    def test_plain_http_to_a_publisher_is_refused(self):
        with pytest.raises(SourceError, match="not https"):
            routes.check_url("http://www.gov.uk/x.xlsx", Settings(project_root=ROOT), "test")

    def test_a_host_off_the_allowlist_is_refused(self):
        with pytest.raises(SourceError, match="not an official publisher"):
            routes.check_url("https://raw.githubusercontent.com/x.csv", Settings(project_root=ROOT), "test")

    def test_host_overrides_come_from_the_environment_as_pairs(self):
        settings = Settings.from_environment(
            {"NAO_HOST_OVERRIDES": "https://www.gov.uk=http://127.0.0.1:8001, https://www.ons.gov.uk=http://127.0.0.1:8002"}
        )
        assert settings.host_overrides == (
            ("https://www.gov.uk", "http://127.0.0.1:8001"),
            ("https://www.ons.gov.uk", "http://127.0.0.1:8002"),
        )

    def test_a_malformed_host_override_is_refused_in_one_line(self):
        with pytest.raises(ValueError, match="NAO_HOST_OVERRIDES"):
            Settings.from_environment({"NAO_HOST_OVERRIDES": "https://www.gov.uk"})

    def test_host_overrides_survive_the_trip_to_a_notebook(self):
        settings = Settings(project_root=ROOT, host_overrides=(("https://www.gov.uk", "http://127.0.0.1:8001"),))
        assert Settings.from_json(settings.to_json()).host_overrides == settings.host_overrides


class TestUnavailable:
    def test_a_manual_source_says_how_to_export_and_add_it(self, settings):
        registry = yaml.safe_load((ROOT / "data" / "sources.yaml").read_text())
        entry = next(s for s in registry["sources"] if s["id"] == "ndtms_viewit_adults_england_2009_2022")
        manual = Source.model_validate(entry)
        with pytest.raises(SourceUnavailableError) as caught:
            routes.resolve(manual, manual.primary, settings, None)
        assert_one_line(caught.value, "https://www.ndtms.net/ViewIt/Adult", "ViewIt Export Data_England.csv", "nao-analysis sources add")
