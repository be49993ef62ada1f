"""The Fingertips API route against a scripted server on 127.0.0.1 serving the REAL sample bytes.

Each failure case also proves that nothing (not even a temporary file, nor a pin) was left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers, sha256

from nao_analysis.errors import DownloadError, SourceError, SourceUnavailableError
from nao_analysis.settings import Settings
from nao_analysis.sources import fetch, fingertips
from nao_analysis.sources.provenance import provenance_path
from nao_analysis.sources.registry import load_pins as load_pins_of

pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

SAMPLE_ID = "fingertips_93517_sample"
API_SOURCE = "ft_93517_402"
PROTOCOL_PATH = "/api/all_data/csv/by_indicator_id?indicator_ids=93517&child_area_type_id=402&parent_area_type_id=15"
OFFICIAL_URL = "https://fingertips.phe.org.uk" + PROTOCOL_PATH


def resolve(source_id: str) -> Path:
    """The source through the fetch layer, under the settings the test's environment describes now."""
    return fetch(source_id, Settings.from_environment()).path


def load_pins() -> dict:
    return load_pins_of(Settings.from_environment())


@pytest.fixture(scope="session")
def sample_bytes(raw_file) -> bytes:
    """The real 13-row Fingertips 93517 CSV, read through the project's fetch layer."""
    return raw_file(SAMPLE_ID).read_bytes()


def api_entry(**overrides) -> dict:
    entry = {
        "id": API_SOURCE,
        "title": "Fingertips 93517, counties and UAs (402)",
        "publisher": "OHID",
        "kind": "official",
        "format": "fingertips_csv",
        "url": OFFICIAL_URL,
        "licence": "OGL-3.0",
        "serves": {"indicator_id": 93517, "area_type_id": 402},
        "files": [{"filename": "fingertips_93517_402.csv", "sha256": None, "bytes": None}],
    }
    entry.update(overrides)
    return entry


@pytest.fixture
def online(isolated_data, http_server, monkeypatch, tmp_path):
    """A private cache and registry; the client talks to the local server only, with fast retries."""
    raw_dir, _ = isolated_data
    registry = tmp_path / "registry" / "sources.yaml"
    registry.parent.mkdir()
    registry.write_text(yaml.safe_dump({"schema": 1, "sources": [api_entry()]}), encoding="utf-8")
    monkeypatch.setenv("NAO_SOURCES_FILE", str(registry))
    allow_local_downloads(monkeypatch, http_server.origin)
    monkeypatch.setenv("NAO_FINGERTIPS_BASE_URL", http_server.origin + "/api")
    return raw_dir


def serve_csv(http_server, body: bytes, *before: Reply) -> None:
    http_server.script(PROTOCOL_PATH, *before, Reply(body=body, headers={"Content-Type": "text/csv; charset=utf-8"}))


class TestAreaTypeForYear:
    @pytest.mark.parametrize(
        ("year", "expected"),
        [("2018-19", 102), ("2019-20", 202), ("2020-21", 302), ("2021-22", 402), ("2022-23", 402), ("2023-24", 502), ("2024-25", 502)],
    )
    def test_maps_the_financial_year_to_the_area_type_in_force_on_1_april(self, year, expected, settings):
        assert fingertips.area_type_for_year(year, fingertips.load_area_types(settings)).area_type_id == expected

    def test_malformed_year_is_a_one_line_error(self, settings):
        with pytest.raises(SourceError) as caught:
            fingertips.area_type_for_year("2021/22", fingertips.load_area_types(settings))
        assert_one_line(caught.value, "2021/22", "2021-22")

    def test_the_table_is_required(self):
        # The package never finds the table itself: the caller loads it from the run's settings.
        with pytest.raises(TypeError, match="load_area_types"):
            fingertips.area_type_for_year("2021-22", None)


class TestLoadAreaTypes:
    def test_every_row_cites_its_source(self):
        import csv

        with open(Settings().manual_dir / fingertips.AREA_TYPES_FILE, newline="", encoding="utf-8") as handle:
            assert all(row["citation"].strip() for row in csv.DictReader(handle))

    def test_table_is_found_through_the_settings(self):
        assert fingertips.area_type_for_year("2023-24", fingertips.load_area_types(Settings())).area_type_id == 502

    def test_overlapping_periods_are_refused(self, tmp_path):
        table = tmp_path / "area_types.csv"
        table.write_text(
            "area_type_id,description,valid_from,valid_to,citation\n402,a,2021-04-01,2023-03-31,x\n502,b,2023-03-01,,x\n",
            encoding="utf-8",
        )
        with pytest.raises(SourceError) as caught:
            fingertips.load_area_types(table)
        assert_one_line(caught.value, "402", "502", "overlap")


class TestFingertipsRequest:
    def test_url_speaks_the_documented_protocol(self):
        assert fingertips.FingertipsRequest(93517, 402).url() == OFFICIAL_URL

    def test_route_follows_the_settings_base_url(self, monkeypatch):
        from nao_analysis.sources.registry import Source

        settings = Settings(extra_allowed_origins=("http://127.0.0.1:8765",), fingertips_base_url="http://127.0.0.1:8765/api")
        source = Source.model_validate(api_entry())
        assert fingertips.route(source, source.primary, settings, None) == "http://127.0.0.1:8765" + PROTOCOL_PATH


class TestRequestForSource:
    def test_url_disagreeing_with_serves_is_refused(self):
        from nao_analysis.sources.registry import Source

        source = Source.model_validate(api_entry(url=OFFICIAL_URL.replace("402", "502")))
        with pytest.raises(SourceError) as caught:
            fingertips.request_for_source(source)
        assert_one_line(caught.value, API_SOURCE, "disagrees")


class TestFingertipsRouteSuccess:
    def test_returns_the_response_bytes(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        assert resolve(API_SOURCE).read_bytes() == sample_bytes

    def test_caches_under_the_source_id(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        resolve(API_SOURCE)
        name = f"{API_SOURCE}/fingertips_93517_402.csv"
        assert leftovers(online) == [API_SOURCE, name, f"{name}.provenance.json"]

    def test_writes_provenance_with_url_and_sha256(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        record = json.loads(provenance_path(resolve(API_SOURCE)).read_text())
        assert (record["origin"], record["location"], record["sha256"], record["bytes"]) == (
            "download",
            http_server.url(PROTOCOL_PATH),
            sha256(sample_bytes),
            len(sample_bytes),
        )

    def test_pins_the_sha256_on_first_download(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        resolve(API_SOURCE)
        assert load_pins()[API_SOURCE]["fingertips_93517_402.csv"]["sha256"] == sha256(sample_bytes)

    def test_second_call_uses_the_cache(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        resolve(API_SOURCE)
        resolve(API_SOURCE)
        assert http_server.hits[PROTOCOL_PATH] == 1

    def test_cached_response_is_used_offline_without_the_network(self, online, http_server, sample_bytes, monkeypatch):
        serve_csv(http_server, sample_bytes)
        resolve(API_SOURCE)
        monkeypatch.setenv("NAO_OFFLINE", "1")
        assert resolve(API_SOURCE).read_bytes() == sample_bytes
        assert http_server.requests == [PROTOCOL_PATH]

    def test_provenance_names_the_route(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes)
        assert fetch(API_SOURCE, Settings.from_environment()).provenance["route"] == "fingertips_api"

    def test_retries_after_429_then_succeeds(self, online, http_server, sample_bytes):
        serve_csv(http_server, sample_bytes, Reply(status=429, body=b"Too many requests", headers={"Retry-After": "0"}))
        assert resolve(API_SOURCE).read_bytes() == sample_bytes
        assert http_server.hits[PROTOCOL_PATH] == 2

    def test_mirror_sample_resolves_without_the_api(self, raw_file, sample_bytes):
        assert resolve(SAMPLE_ID).read_bytes() == sample_bytes


class TestFingertipsRouteFailure:
    def test_500_after_retries_is_a_one_line_error(self, online, http_server):
        http_server.script(PROTOCOL_PATH, Reply(status=500, body=b"Internal Server Error"))
        with pytest.raises(DownloadError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "HTTP 500", "try again later")
        assert http_server.hits[PROTOCOL_PATH] == 3  # the first attempt and NAO_DOWNLOAD_RETRIES=2

    def test_500_leaves_nothing_cached_or_pinned(self, online, http_server):
        http_server.script(PROTOCOL_PATH, Reply(status=500, body=b"Internal Server Error"))
        with pytest.raises(DownloadError):
            resolve(API_SOURCE)
        assert (leftovers(online), load_pins()) == ([], {})

    def test_html_page_with_status_200_is_refused(self, online, http_server):
        page = b"<!DOCTYPE html>\n<html><head><title>Fingertips - Error</title></head><body>Sorry</body></html>\n"
        http_server.script(PROTOCOL_PATH, Reply(body=page, headers={"Content-Type": "text/html"}))
        with pytest.raises(DownloadError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "HTML page")

    def test_html_page_leaves_nothing_cached_or_pinned(self, online, http_server):
        page = b"<!DOCTYPE html>\n<html><head><title>Fingertips - Error</title></head><body>Sorry</body></html>\n"
        http_server.script(PROTOCOL_PATH, Reply(body=page, headers={"Content-Type": "text/csv"}))
        with pytest.raises(DownloadError):
            resolve(API_SOURCE)
        assert (leftovers(online), load_pins()) == ([], {})

    def test_body_that_is_not_the_csv_is_refused(self, online, http_server):
        http_server.script(PROTOCOL_PATH, Reply(body=b'{"Message":"An error has occurred."}', headers={"Content-Type": "application/json"}))
        with pytest.raises(DownloadError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "not a Fingertips indicator CSV", "Indicator ID")
        assert leftovers(online) == []

    def test_truncated_body_is_refused(self, online, http_server, sample_bytes):
        http_server.script(PROTOCOL_PATH, Reply(body=sample_bytes, truncate_to=len(sample_bytes) // 2))
        with pytest.raises(DownloadError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "truncated")
        assert (leftovers(online), load_pins()) == ([], {})

    def test_timeout_is_a_one_line_error(self, online, http_server, sample_bytes, monkeypatch):
        monkeypatch.setenv("NAO_DOWNLOAD_TIMEOUT", "0.3")
        monkeypatch.setenv("NAO_DOWNLOAD_RETRIES", "0")
        http_server.script(PROTOCOL_PATH, Reply(body=sample_bytes, delay=2.0))
        with pytest.raises(DownloadError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "timed out", "NAO_DOWNLOAD_TIMEOUT")
        assert (leftovers(online), load_pins()) == ([], {})

    def test_offline_without_a_cached_copy_never_touches_the_network(self, online, http_server, monkeypatch):
        monkeypatch.setenv("NAO_OFFLINE", "1")
        with pytest.raises(SourceUnavailableError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, API_SOURCE, "NAO_OFFLINE=1")
        assert http_server.requests == []

    def test_base_url_off_the_allowlist_is_refused(self, online, http_server, monkeypatch):
        monkeypatch.setenv("NAO_FINGERTIPS_BASE_URL", "http://fingertips.example.org")
        with pytest.raises(SourceError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, "not https")
        assert (http_server.requests, leftovers(online)) == ([], [])

    def test_url_disagreeing_with_serves_is_refused_before_any_request(self, online, http_server, tmp_path):
        registry = tmp_path / "registry" / "sources.yaml"
        registry.write_text(yaml.safe_dump({"schema": 1, "sources": [api_entry(url=OFFICIAL_URL.replace("402", "502"))]}))
        with pytest.raises(SourceError) as caught:
            resolve(API_SOURCE)
        assert_one_line(caught.value, API_SOURCE, "disagrees")
        assert http_server.requests == []


class TestHandAddedFingertipsFile:
    def test_file_added_by_hand_without_an_area_type_resolves_from_the_cache(self, online, http_server, sample_bytes, tmp_path):
        from nao_analysis.sources.provenance import Provenance

        entry = api_entry(serves={"indicator_id": 93517})
        del entry["url"]
        entry["files"][0]["sha256"] = sha256(sample_bytes)
        (tmp_path / "registry" / "sources.yaml").write_text(yaml.safe_dump({"schema": 1, "sources": [entry]}))
        cached = online / API_SOURCE / "fingertips_93517_402.csv"
        cached.parent.mkdir()
        cached.write_bytes(sample_bytes)
        Provenance(
            API_SOURCE,
            cached.name,
            "added by hand",
            "/tmp/f.csv",
            "2026-11-30T00:00:00+00:00",
            sha256(sample_bytes),
            len(sample_bytes),
            "official",
        ).write(cached)
        assert (resolve(API_SOURCE).read_bytes(), http_server.requests) == (sample_bytes, [])
