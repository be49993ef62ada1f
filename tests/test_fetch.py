"""The fetch layer against a scripted local HTTP server, a private mirror and a private cache.

Every failure case also proves that nothing (not even a temporary file) was left in the raw cache.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers, sha256

from nao_analysis.errors import DownloadError, HashMismatchError, SourceError, SourceUnavailableError, UnsafeArchiveError
from nao_analysis.settings import Settings
from nao_analysis.sources import resolve as resolver
from nao_analysis.sources.archives import safe_extract_zip
from nao_analysis.sources.provenance import provenance_path
from nao_analysis.sources.registry import load_pins as load_pins_of
from nao_analysis.sources.registry import load_registry as load_registry_of

# tests/http_server.py is also loaded as a plugin (for its fixture), so let pytest rewrite it before importing it here.
pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

SAMPLE_ID = "fingertips_93517_sample"  # a small real CSV
WORKBOOK_ID = "csew_drug_misuse_2016_17"  # a real .xlsx
# Provides the `http_server` fixture (tests/http_server.py).
pytest_plugins = ["http_server"]


def current() -> Settings:
    """The settings a command would resolve from the environment the test has set up."""
    return Settings.from_environment()


def fetch(source_id: str, **options) -> Path:
    return resolver.fetch(source_id, current(), **options).path


def status(source) -> str:
    return resolver.status(source, current())


def load_registry():
    return load_registry_of(current())


def load_pins() -> dict:
    return load_pins_of(current())


@pytest.fixture(scope="session")
def real_csv(raw_file) -> tuple[str, bytes]:
    """(filename, bytes) of a real Fingertips CSV, read through the project's own fetch layer."""
    path = raw_file(SAMPLE_ID)
    return path.name, path.read_bytes()


@pytest.fixture(scope="session")
def real_xlsx(raw_file) -> tuple[str, bytes]:
    """(filename, bytes) of a real Home Office .xlsx workbook."""
    path = raw_file(WORKBOOK_ID)
    return path.name, path.read_bytes()


@pytest.fixture
def online(isolated_data, http_server, monkeypatch, tmp_path):
    """A private cache and registry, downloads allowed from the local server only, fast retries."""
    raw_dir, _ = isolated_data
    allow_local_downloads(monkeypatch, http_server.origin, retries=3)
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    return raw_dir


def write_registry(*sources: dict) -> Path:
    """Write a registry YAML at $NAO_SOURCES_FILE holding ``sources``."""
    path = current().sources_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"schema": 1, "sources": list(sources)}), encoding="utf-8")
    return path


def official(source_id: str, filename: str, *, url: str | None = None, sha: str | None = None, **extra) -> dict:
    entry = {
        "id": source_id,
        "title": f"test source {source_id}",
        "publisher": "test publisher",
        "kind": "official",
        "format": "csv",
        "licence": "OGL-3.0",
        "files": [{"filename": filename, "sha256": sha, "bytes": None}],
        **extra,
    }
    if url:
        entry["url"] = url
    return entry


class TestFetchDownload:
    def test_success_returns_the_verified_file(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body, headers={"Content-Type": "text/csv"}))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        path = fetch("demo")
        assert path == online / "demo" / name
        assert path.read_bytes() == body

    def test_success_writes_a_provenance_record(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        record = json.loads(provenance_path(fetch("demo")).read_text())
        assert (record["origin"], record["location"], record["sha256"], record["bytes"]) == (
            "download",
            http_server.url("/data.csv"),
            sha256(body),
            len(body),
        )

    def test_success_returns_the_provenance(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        record = resolver.fetch("demo", current()).provenance
        assert (record["sha256"], record["resolved_from"], record["route"], record["title"]) == (
            sha256(body),
            "download",
            "url",
            "test source demo",
        )

    def test_cached_source_says_it_came_from_the_cache(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        fetch("demo")
        assert resolver.fetch("demo", current()).provenance["resolved_from"] == "cache"

    def test_success_leaves_no_temporary_file(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        fetch("demo")
        assert leftovers(online) == ["demo", f"demo/{name}", f"demo/{name}.provenance.json"]

    def test_second_fetch_uses_the_cache(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        fetch("demo")
        fetch("demo")
        assert http_server.hits["/data.csv"] == 1

    def test_retries_after_429_then_succeeds(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(status=429, body=b"slow down"), Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        assert fetch("demo").read_bytes() == body
        assert http_server.hits["/data.csv"] == 2

    def test_retries_after_500_then_succeeds(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(status=500, body=b"oops"), Reply(status=503), Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        assert fetch("demo").read_bytes() == body
        assert http_server.hits["/data.csv"] == 3

    def test_500_forever_gives_a_one_line_error(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(status=500, body=b"oops"))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/data.csv"), "500", "try again later")
        assert http_server.hits["/data.csv"] == 4  # the first attempt and NAO_DOWNLOAD_RETRIES=3
        assert leftovers(online) == []

    def test_404_is_not_retried(self, online, http_server, real_csv):
        # The publisher has no such file: the source is unavailable here (its figure is skipped, not failed).
        name, body = real_csv
        write_registry(official("demo", name, url=http_server.url("/moved.csv"), sha=sha256(body)))
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/moved.csv"), "HTTP 404", "sources check --online")
        assert http_server.hits["/moved.csv"] == 1
        assert leftovers(online) == []

    def test_truncated_body_is_refused(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body, truncate_to=len(body) // 2))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/data.csv"), "truncated", "try again")
        assert leftovers(online) == []

    def test_zero_byte_body_is_refused(self, online, http_server, real_csv):
        name, _ = real_csv
        http_server.script("/data.csv", Reply(body=b""))
        write_registry(official("demo", name, url=http_server.url("/data.csv")))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/data.csv"), "empty response (0 bytes)")
        assert leftovers(online) == []

    def test_html_page_under_an_xlsx_name_is_refused(self, online, http_server, real_xlsx):
        name, _ = real_xlsx
        page = b"<!DOCTYPE html>\n<html><head><title>Page not found - GOV.UK</title></head><body>Not found</body></html>\n"
        http_server.script("/tables.xlsx", Reply(body=page, headers={"Content-Type": "text/html; charset=utf-8"}))
        write_registry(official("demo", name, url=http_server.url("/tables.xlsx")))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/tables.xlsx"), "HTML page instead of a data file")
        assert leftovers(online) == []

    def test_html_page_with_a_binary_content_type_is_refused(self, online, http_server, real_xlsx):
        name, _ = real_xlsx
        page = b"\n  <html><body>Sign in to continue</body></html>"
        http_server.script("/tables.xlsx", Reply(body=page, headers={"Content-Type": "application/octet-stream"}))
        write_registry(official("demo", name, url=http_server.url("/tables.xlsx")))
        with pytest.raises(DownloadError, match="HTML page"):
            fetch("demo")
        assert leftovers(online) == []

    def test_non_workbook_bytes_under_an_xlsx_name_are_refused(self, online, http_server, real_csv, real_xlsx):
        name, _ = real_xlsx
        _, csv_bytes = real_csv
        http_server.script("/tables.xlsx", Reply(body=csv_bytes))
        write_registry(official("demo", name, url=http_server.url("/tables.xlsx")))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "is not a .xlsx file", "publisher's page")
        assert leftovers(online) == []

    def test_timeout_gives_a_one_line_error(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        monkeypatch.setenv("NAO_DOWNLOAD_TIMEOUT", "0.3")
        monkeypatch.setenv("NAO_DOWNLOAD_RETRIES", "1")
        http_server.script("/slow.csv", Reply(body=body, delay=2.0))
        write_registry(official("demo", name, url=http_server.url("/slow.csv"), sha=sha256(body)))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/slow.csv"), "timed out", "NAO_DOWNLOAD_TIMEOUT")
        assert leftovers(online) == []

    def test_stall_in_the_middle_of_the_body_gives_a_one_line_error(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        monkeypatch.setenv("NAO_DOWNLOAD_TIMEOUT", "0.3")
        http_server.script("/slow.csv", Reply(body=body, stall_after=100, delay=2.0))
        write_registry(official("demo", name, url=http_server.url("/slow.csv"), sha=sha256(body)))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/slow.csv"), "try again")
        assert leftovers(online) == []

    def test_redirect_to_an_allowed_origin_is_followed(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/old.csv", Reply(status=302, headers={"Location": "/new.csv"}))
        http_server.script("/new.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/old.csv"), sha=sha256(body)))
        assert fetch("demo").read_bytes() == body

    def test_redirect_off_the_allowlist_is_refused(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/old.csv", Reply(status=302, headers={"Location": "https://files.example.com/data.csv"}))
        write_registry(official("demo", name, url=http_server.url("/old.csv"), sha=sha256(body)))
        with pytest.raises(SourceError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "redirected to", "files.example.com", "not an official publisher")
        assert leftovers(online) == []


class TestRouteTable:
    def test_a_route_url_is_downloaded_and_recorded(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        http_server.script("/api/data.csv?indicator=93517", Reply(body=body))
        write_registry(official("demo", name, url="https://www.gov.uk/never-asked.csv", sha=sha256(body)))
        monkeypatch.setitem(
            resolver.ROUTES, "url", lambda source, file, settings, session: http_server.url("/api/data.csv?indicator=93517")
        )
        path = fetch("demo")
        assert json.loads(provenance_path(path).read_text())["location"] == http_server.url("/api/data.csv?indicator=93517")

    def test_a_file_assembled_by_a_route_is_verified_and_installed(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv

        def assemble(source, file, settings, session):
            built = session.new_file(file.filename)
            built.write_bytes(body)
            session.note("pages", 1)
            return built

        write_registry(official("demo", name, url="https://www.gov.uk/never-asked.csv", sha=sha256(body)))
        monkeypatch.setitem(resolver.ROUTES, "url", assemble)
        record = resolver.fetch("demo", current()).provenance
        assert (record["sha256"], record["route_notes"], leftovers(online)) == (
            sha256(body),
            {"pages": 1},
            ["demo", f"demo/{name}", f"demo/{name}.provenance.json"],
        )

    def test_route_whose_module_is_missing_is_unavailable_not_a_crash(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        write_registry(official("demo", name, url="https://www.gov.uk/data.csv", sha=sha256(body)))
        monkeypatch.setitem(resolver.ROUTES, "url", "nao_analysis.sources.routes.not_written_yet:route")
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "'demo'", "nao_analysis.sources.routes.not_written_yet is missing", "NAO_DATA_MIRROR")
        assert leftovers(online) == []

    def test_route_answering_an_off_allowlist_url_is_refused(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        write_registry(official("demo", name, url="https://www.gov.uk/data.csv", sha=sha256(body)))
        monkeypatch.setitem(resolver.ROUTES, "url", lambda source, file, settings, session: "https://example.org/data.csv")
        with pytest.raises(SourceError, match="not an official publisher"):
            fetch("demo")
        assert leftovers(online) == []

    def test_each_route_kind_is_chosen_from_the_entry(self):
        from nao_analysis.sources.registry import Source

        def kind(**extra) -> str | None:
            return resolver.route_kind(Source.model_validate(official("demo", "f.csv", **extra)))

        assert (
            kind(url="https://www.gov.uk/f.csv"),
            kind(govuk_slug="drug-misuse"),
            kind(format="fingertips_csv", serves={"indicator_id": 1, "area_type_id": 402}),
            kind(),
        ) == ("url", "govuk_content_api", "fingertips_api", None)


class TestFetchHashPins:
    def test_hash_mismatch_names_the_change_and_the_fix(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        pinned = sha256(b"the file as it was first published")
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=pinned))
        with pytest.raises(HashMismatchError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/data.csv"), sha256(body)[:12], pinned[:12], "'demo'", "--accept-new-hash")

    def test_hash_mismatch_caches_and_pins_nothing(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(b"old")))
        with pytest.raises(HashMismatchError):
            fetch("demo")
        assert leftovers(online) == []
        assert load_pins() == {}

    def test_accept_new_hash_records_a_pin(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        old = sha256(b"old")
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=old))
        fetch("demo", accept_new_hash=True)
        pin = load_pins()["demo"][name]
        assert (pin["sha256"], pin["bytes"], old in pin["reason"]) == (sha256(body), len(body), True)

    def test_accepted_pin_verifies_the_next_fetch_from_cache(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(b"old")))
        fetch("demo", accept_new_hash=True)
        assert fetch("demo").read_bytes() == body
        assert http_server.hits["/data.csv"] == 1

    def test_unknown_hash_is_pinned_on_first_download(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        registry = write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=None))
        fetch("demo")
        pins = yaml.safe_load((registry.parent / "source-pins.yaml").read_text())
        assert (pins["demo"][name]["sha256"], pins["demo"][name]["reason"]) == (sha256(body), "pinned on first download")

    def test_pins_file_is_written_without_temporary_files(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        registry = write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=None))
        fetch("demo")
        assert sorted(p.name for p in registry.parent.iterdir()) == ["source-pins.yaml", "sources.yaml"]

    def test_first_download_pin_catches_a_later_change(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body), Reply(body=body + b"E92000001,England,extra row\n"))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=None))
        fetch("demo")
        with pytest.raises(HashMismatchError, match="--accept-new-hash"):
            fetch("demo", force=True)
        assert (online / "demo" / name).read_bytes() == body


class TestFetchUrlPolicy:
    def test_off_allowlist_url_is_refused_before_any_request(self, online, http_server, real_csv):
        name, _ = real_csv
        write_registry(official("demo", name, url="https://data.example.com/drugs.csv"))
        with pytest.raises(SourceError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "data/sources.yaml source 'demo'", "data.example.com", "not an official publisher", "official URL")
        assert http_server.requests == []
        assert leftovers(online) == []

    def test_non_https_url_is_refused(self, online, real_csv):
        name, _ = real_csv
        write_registry(official("demo", name, url="http://www.gov.uk/government/uploads/data.csv"))
        with pytest.raises(SourceError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "'demo'", "is not https", "https address")
        assert leftovers(online) == []


@pytest.fixture
def private_mirror(isolated_data, tmp_path, monkeypatch, real_csv):
    """A mirror folder in tmp holding a copy of one real file, registered with its true hash."""
    name, body = real_csv
    mirror = tmp_path / "mirror"
    (mirror / "fingertips").mkdir(parents=True)
    (mirror / "fingertips" / name).write_bytes(body)
    monkeypatch.setenv("NAO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("NAO_OFFLINE", "1")
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    entry = official("demo", name, sha=sha256(body))
    entry["files"][0]["mirror"] = f"fingertips/{name}"
    write_registry(entry)
    return mirror, isolated_data[0]


class TestFetchMirror:
    def test_mirror_copy_is_verified_and_cached(self, private_mirror, real_csv):
        mirror, raw_dir = private_mirror
        path = fetch("demo")
        record = json.loads(provenance_path(path).read_text())
        assert (path.read_bytes(), record["origin"], record["location"]) == (
            real_csv[1],
            "mirror",
            str((mirror / "fingertips" / real_csv[0]).resolve()),
        )

    def test_tampered_mirror_copy_is_refused(self, private_mirror, real_csv):
        mirror, raw_dir = private_mirror
        tampered = mirror / "fingertips" / real_csv[0]
        tampered.write_bytes(real_csv[1].replace(b"England", b"Englund", 1))
        with pytest.raises(HashMismatchError) as caught:
            fetch("demo")
        assert_one_line(caught.value, str(tampered.resolve()), "'demo'", "--accept-new-hash")
        assert leftovers(raw_dir) == []

    def test_status_reports_mirror_before_caching(self, private_mirror):
        assert status(load_registry().get("demo")) == "mirror"

    def test_status_reports_cached_after_a_fetch(self, private_mirror):
        fetch("demo")
        assert status(load_registry().get("demo")) == "cached"

    def test_status_reports_missing_offline_without_mirror_or_cache(self, private_mirror, real_csv):
        mirror, _ = private_mirror
        (mirror / "fingertips" / real_csv[0]).unlink()
        assert status(load_registry().get("demo")) == "missing offline"

    def test_missing_offline_gives_a_one_line_error(self, private_mirror, real_csv):
        mirror, raw_dir = private_mirror
        (mirror / "fingertips" / real_csv[0]).unlink()
        write_registry(official("demo", real_csv[0], url="https://fingertips.phe.org.uk/api/x.csv"))
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "'demo'", "NAO_OFFLINE=1", "nao-analysis fetch demo")
        assert leftovers(raw_dir) == []

    def test_extract_missing_from_the_mirror_says_where_to_put_it(self, private_mirror, real_csv):
        mirror, raw_dir = private_mirror
        (mirror / "fingertips" / real_csv[0]).unlink()
        entry = official("demo", real_csv[0], sha=sha256(real_csv[1]))
        entry.update(kind="third_party_extract", copied_from="someone/repo@abc:data.csv")
        entry["files"][0]["mirror"] = f"fingertips/{real_csv[0]}"
        write_registry(entry)
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "'demo'", f"$NAO_DATA_MIRROR/fingertips/{real_csv[0]}", "sources add demo")


class TestFetchConcurrently:
    def test_parallel_fetches_of_one_source_agree(self, private_mirror, real_csv):
        from concurrent.futures import ThreadPoolExecutor

        _, raw_dir = private_mirror
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda _: fetch("demo"), range(12)))
        assert ({p.read_bytes() == real_csv[1] for p in results}, leftovers(raw_dir)) == (
            {True},
            ["demo", f"demo/{real_csv[0]}", f"demo/{real_csv[0]}.provenance.json"],
        )


class TestFetchCache:
    def test_corrupt_cached_file_is_dropped_and_resolved_again(self, private_mirror, real_csv):
        path = fetch("demo")
        path.write_bytes(b"half a file")
        assert fetch("demo").read_bytes() == real_csv[1]

    def test_corrupt_provenance_record_is_dropped_and_resolved_again(self, private_mirror, real_csv):
        path = fetch("demo")
        provenance_path(path).write_text("{not json")
        fetch("demo")
        assert json.loads(provenance_path(path).read_text())["sha256"] == sha256(real_csv[1])

    def test_cached_file_without_provenance_is_not_trusted(self, private_mirror, real_csv):
        mirror, raw_dir = private_mirror
        path = fetch("demo")
        provenance_path(path).unlink()
        path.write_bytes(b"planted")
        (mirror / "fingertips" / real_csv[0]).unlink()
        with pytest.raises(SourceUnavailableError):
            fetch("demo")
        assert leftovers(raw_dir) == []

    def test_unpinned_cached_file_is_checked_against_its_provenance_hash(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        registry = write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=None))
        path = fetch("demo")
        (registry.parent / "source-pins.yaml").unlink()  # as if the pin was never committed
        path.write_bytes(body[:-10])
        assert fetch("demo").read_bytes() == body
        assert http_server.hits["/data.csv"] == 2


def make_zip(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name) if name.endswith("/") else name, data)
    return path


class TestSafeExtractZip:
    def test_extracts_real_shapefile_parts(self, tmp_path, raw_file):
        shp = raw_file("boundaries_ctyua_dec2021_buc")
        parts = {p.name: p.read_bytes() for p in shp.parent.iterdir() if not p.name.endswith(".json")}
        archive = make_zip(tmp_path / "boundaries.zip", parts)
        written = safe_extract_zip(archive, tmp_path / "out")
        assert {p.name: p.read_bytes() for p in written} == parts

    def test_member_escaping_with_dotdot_is_refused(self, tmp_path):
        archive = make_zip(tmp_path / "a.zip", {"ok.csv": b"a,b\n", "../evil.csv": b"owned\n"})
        with pytest.raises(UnsafeArchiveError) as caught:
            safe_extract_zip(archive, tmp_path / "out")
        assert_one_line(caught.value, str(archive), "'../evil.csv'", "outside")

    def test_dotdot_member_writes_nothing_anywhere(self, tmp_path):
        archive = make_zip(tmp_path / "a.zip", {"ok.csv": b"a,b\n", "../evil.csv": b"owned\n"})
        with pytest.raises(UnsafeArchiveError):
            safe_extract_zip(archive, tmp_path / "out")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]

    def test_backslash_dotdot_member_is_refused(self, tmp_path):
        archive = make_zip(tmp_path / "a.zip", {"..\\evil.csv": b"owned\n"})
        with pytest.raises(UnsafeArchiveError, match="outside"):
            safe_extract_zip(archive, tmp_path / "out")

    def test_absolute_member_is_refused(self, tmp_path):
        archive = tmp_path / "a.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            # ZipFile.writestr strips a leading slash from names, so write the raw header name.
            info = zipfile.ZipInfo("placeholder")
            info.filename = str(tmp_path / "evil.csv")
            zf.writestr(info, b"owned\n")
        with pytest.raises(UnsafeArchiveError, match="outside"):
            safe_extract_zip(archive, tmp_path / "out")
        assert not (tmp_path / "evil.csv").exists()

    def test_symlink_member_is_refused(self, tmp_path):
        archive = tmp_path / "a.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            info = zipfile.ZipInfo("link")
            info.external_attr = (0o120777 << 16) | 0
            zf.writestr(info, "/etc/passwd")
        with pytest.raises(UnsafeArchiveError, match="outside"):
            safe_extract_zip(archive, tmp_path / "out")

    def test_zip_bomb_is_refused_by_ratio(self, tmp_path):
        archive = make_zip(tmp_path / "bomb.zip", {"zeros.csv": b"0" * 20_000_000})
        with pytest.raises(UnsafeArchiveError) as caught:
            safe_extract_zip(archive, tmp_path / "out")
        assert_one_line(caught.value, str(archive), "zip bomb")
        assert not (tmp_path / "out").exists()

    def test_oversized_archive_is_refused(self, tmp_path, raw_file):
        body = raw_file(SAMPLE_ID).read_bytes()
        archive = make_zip(tmp_path / "big.zip", {"a.csv": body, "b.csv": body}, compression=zipfile.ZIP_STORED)
        with pytest.raises(UnsafeArchiveError, match="zip bomb"):
            safe_extract_zip(archive, tmp_path / "out", max_bytes=len(body))
        assert not (tmp_path / "out").exists()

    def test_header_understating_the_size_is_caught_while_extracting(self, tmp_path):
        archive = make_zip(tmp_path / "liar.zip", {"zeros.csv": b"0" * 5_000_000})
        data = bytearray(archive.read_bytes())
        # Rewrite the declared uncompressed size (local header offset 22, central directory offset 24) to 10 bytes.
        local = data.find(b"PK\x03\x04")
        central = data.find(b"PK\x01\x02")
        data[local + 22 : local + 26] = (10).to_bytes(4, "little")
        data[central + 24 : central + 28] = (10).to_bytes(4, "little")
        archive.write_bytes(bytes(data))
        with pytest.raises(UnsafeArchiveError):
            safe_extract_zip(archive, tmp_path / "out", max_ratio=50)
        assert not (tmp_path / "out").exists()

    def test_not_a_zip_is_refused(self, tmp_path):
        archive = tmp_path / "page.zip"
        archive.write_bytes(b"<html>not found</html>")
        with pytest.raises(UnsafeArchiveError) as caught:
            safe_extract_zip(archive, tmp_path / "out")
        assert_one_line(caught.value, str(archive), "not a valid zip", "download again")


@pytest.fixture(scope="session")
def real_shapefile(raw_file) -> dict[str, bytes]:
    """The parts of a real ONS boundary shapefile, by filename."""
    shp = raw_file("boundaries_ctyua_dec2021_buc")
    source = load_registry().get("boundaries_ctyua_dec2021_buc")
    return {f.filename: (shp.parent / f.filename).read_bytes() for f in source.files}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def archive_source(url: str, parts: dict[str, bytes], *, pinned: bool = True) -> dict:
    entry = official("shapes", next(iter(parts)), url=url, archive="zip", format="shapefile")
    entry["files"] = [{"filename": name, "sha256": sha256(data) if pinned else None, "bytes": None} for name, data in parts.items()]
    return entry


class TestFetchArchive:
    def test_every_member_is_installed_from_one_download(self, online, http_server, real_shapefile):
        http_server.script("/boundaries.zip", Reply(body=zipped({f"CTYUA/{k}": v for k, v in real_shapefile.items()})))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        primary = fetch("shapes")
        installed = {p.name: p.read_bytes() for p in primary.parent.iterdir() if not p.name.endswith(".json")}
        assert (installed, http_server.hits["/boundaries.zip"]) == (real_shapefile, 1)

    def test_installed_members_read_as_boundaries(self, online, http_server, real_shapefile):
        import geopandas as gpd

        http_server.script("/boundaries.zip", Reply(body=zipped(real_shapefile)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        assert len(gpd.read_file(fetch("shapes"))) == 217

    def test_forced_refetch_downloads_the_archive_once(self, online, http_server, real_shapefile):
        http_server.script("/boundaries.zip", Reply(body=zipped(real_shapefile)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        fetch("shapes", force=True)
        assert http_server.hits["/boundaries.zip"] == 1

    def test_unpinned_members_are_pinned_on_first_download(self, online, http_server, real_shapefile):
        http_server.script("/boundaries.zip", Reply(body=zipped(real_shapefile)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile, pinned=False))
        fetch("shapes")
        assert {name: pin["sha256"] for name, pin in load_pins()["shapes"].items()} == {k: sha256(v) for k, v in real_shapefile.items()}

    def test_one_changed_member_installs_nothing(self, online, http_server, real_shapefile):
        changed = dict(real_shapefile)
        prj = next(k for k in changed if k.endswith(".prj"))
        changed[prj] = changed[prj].replace(b"British", b"Britisch")
        http_server.script("/boundaries.zip", Reply(body=zipped(changed)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        with pytest.raises(HashMismatchError) as caught:
            fetch("shapes")
        assert_one_line(caught.value, f"(member {prj})", "--accept-new-hash")
        assert leftovers(online) == []

    def test_full_disk_while_installing_members_installs_none(self, online, http_server, real_shapefile, monkeypatch):
        import errno

        real_install, installed = resolver.install, []

        def fill_up_on_the_third(tmp, target, record):
            if len(installed) == 2:
                raise OSError(errno.ENOSPC, "No space left on device", str(target))
            real_install(tmp, target, record)
            installed.append(target)

        monkeypatch.setattr(resolver, "install", fill_up_on_the_third)
        http_server.script("/boundaries.zip", Reply(body=zipped(real_shapefile)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile, pinned=False))
        with pytest.raises(SourceError) as caught:
            fetch("shapes")
        assert_one_line(caught.value, str(online / "shapes"), "No space left on device", "free some space")
        assert (leftovers(online), load_pins()) == ([], {})

    def test_missing_member_names_the_fix(self, online, http_server, real_shapefile):
        partial = {k: v for k, v in real_shapefile.items() if not k.endswith(".dbf")}
        http_server.script("/boundaries.zip", Reply(body=zipped(partial)))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        with pytest.raises(DownloadError) as caught:
            fetch("shapes")
        assert_one_line(caught.value, "no member 'CTYUA_DEC_2021_UK_BUC.dbf'", "update the files of source 'shapes'")
        assert leftovers(online) == []

    def test_escaping_member_refuses_the_archive(self, online, http_server, real_shapefile):
        http_server.script("/boundaries.zip", Reply(body=zipped({**real_shapefile, "../../../evil.sh": b"echo owned"})))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        with pytest.raises(UnsafeArchiveError, match="outside"):
            fetch("shapes")
        assert leftovers(online) == []
        assert not (online.parent / "evil.sh").exists()

    def test_html_instead_of_a_zip_is_refused(self, online, http_server, real_shapefile):
        http_server.script("/boundaries.zip", Reply(body=b"<html><body>Service unavailable</body></html>"))
        write_registry(archive_source(http_server.url("/boundaries.zip"), real_shapefile))
        with pytest.raises(DownloadError, match="HTML page"):
            fetch("shapes")
        assert leftovers(online) == []


class TestSourcesLayering:
    def test_sources_modules_import_each_other_without_cycles(self):
        import ast
        import graphlib

        import nao_analysis.sources as package

        folder = Path(package.__file__).parent
        graph = {}
        for module in folder.glob("*.py"):
            name = f"nao_analysis.sources.{module.stem}"
            imported = set()
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nao_analysis.sources."):
                    imported.add(node.module)
                elif isinstance(node, ast.Import):
                    imported |= {a.name for a in node.names if a.name.startswith("nao_analysis.sources.")}
            graph[name] = imported - {name}
        graph.pop("nao_analysis.sources.__init__")
        graphlib.TopologicalSorter(graph).static_order()  # raises CycleError on a cycle

    def test_the_fetch_layer_keeps_no_record_of_what_it_fetched(self):
        import nao_analysis.sources.fetch as facade

        assert [name for name in ("USED_INPUTS",) if hasattr(facade, name) or hasattr(resolver, name)] == []
