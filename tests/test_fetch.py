"""The fetch layer against a scripted local HTTP server, a private mirror and a private cache.

Every failure case also proves that nothing (not even a temporary file) was left in the raw cache.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers, sha256

from nao_analysis.errors import DownloadError, HashMismatchError, SourceError, SourceUnavailableError, UnsafeArchiveError
from nao_analysis.sources.fetch import (
    USED_INPUTS,
    check_url_allowed,
    download_and_install,
    fetch,
    provenance_path,
    safe_extract_zip,
    status,
)
from nao_analysis.sources.registry import load_pins, load_registry

# tests/http_server.py is also loaded as a plugin (for its fixture), so let pytest rewrite it before importing it here.
pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

SAMPLE_ID = "fingertips_93517_sample"  # a small real CSV
WORKBOOK_ID = "csew_drug_misuse_2016_17"  # a real .xlsx
# Provides the `http_server` fixture (tests/http_server.py).
pytest_plugins = ["http_server"]

# The package re-exports the function `fetch` under the module's name, so take the module itself.
fetch_module = importlib.import_module("nao_analysis.sources.fetch")


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
    from nao_analysis import paths

    path = paths.registry_path()
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

    def test_success_is_listed_in_used_inputs(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv"), sha=sha256(body)))
        fetch("demo")
        assert USED_INPUTS["demo"]["sha256"] == sha256(body)

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
        name, body = real_csv
        write_registry(official("demo", name, url=http_server.url("/moved.csv"), sha=sha256(body)))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, http_server.url("/moved.csv"), "HTTP 404", "check the URL")
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

    def test_oversized_download_is_refused(self, online, http_server, real_csv, monkeypatch):
        name, body = real_csv
        monkeypatch.setattr(fetch_module, "MAX_DOWNLOAD_BYTES", 1000)
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, url=http_server.url("/data.csv")))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "over the 1,000-byte limit", "refusing")
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


class TestDownloadAndInstall:
    def test_content_check_can_refuse_the_download(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/data.csv", Reply(body=body))
        write_registry(official("demo", name, sha=sha256(body)))
        source = load_registry().get("demo")

        def refuse(path: Path, url: str) -> None:
            raise DownloadError(f"{url}: not the indicator asked for - check the request")

        with pytest.raises(DownloadError, match="not the indicator asked for"):
            download_and_install(source, source.primary, http_server.url("/data.csv"), check_content=refuse)
        assert leftovers(online) == []

    def test_installs_a_client_built_url(self, online, http_server, real_csv):
        name, body = real_csv
        http_server.script("/api/data.csv?indicator=93517", Reply(body=body))
        write_registry(official("demo", name, sha=sha256(body)))
        source = load_registry().get("demo")
        path = download_and_install(source, source.primary, http_server.url("/api/data.csv?indicator=93517"))
        assert json.loads(provenance_path(path).read_text())["location"] == http_server.url("/api/data.csv?indicator=93517")

    def test_refuses_an_off_allowlist_url(self, online, real_csv):
        name, body = real_csv
        write_registry(official("demo", name, sha=sha256(body)))
        source = load_registry().get("demo")
        with pytest.raises(SourceError, match="not an official publisher"):
            download_and_install(source, source.primary, "https://example.org/data.csv")
        assert leftovers(online) == []


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


class TestCheckUrlAllowed:
    def test_official_https_host_is_allowed(self):
        check_url_allowed("https://assets.publishing.service.gov.uk/media/abc/file.xlsx", "test")

    def test_lookalike_host_is_refused(self):
        with pytest.raises(SourceError, match="not an official publisher"):
            check_url_allowed("https://www.gov.uk.evil.example/file.xlsx", "test")

    def test_userinfo_trick_is_refused(self):
        with pytest.raises(SourceError, match="not an official publisher"):
            check_url_allowed("https://www.gov.uk@evil.example/file.xlsx", "test")

    def test_non_loopback_extra_origin_is_refused(self, monkeypatch):
        monkeypatch.setenv("NAO_EXTRA_ALLOWED_ORIGINS", "http://10.0.0.5:8000")
        with pytest.raises(SourceError) as caught:
            check_url_allowed("http://10.0.0.5:8000/file.csv", "test")
        assert_one_line(caught.value, "NAO_EXTRA_ALLOWED_ORIGINS", "loopback")


class TestFetchGovukSlug:
    def test_slug_resolves_to_the_matching_attachment(self, online, http_server, real_xlsx, monkeypatch):
        name, body = real_xlsx
        monkeypatch.setenv("NAO_GOVUK_API", http_server.url("/api/content/government/statistics/"))
        content = {
            "title": "Drug misuse: findings from the 2016/17 CSEW",
            "details": {
                "attachments": [
                    {"filename": "drug-misuse-1617-hosb1117.pdf", "url": http_server.url("/media/1/report.pdf")},
                    {"filename": name, "url": http_server.url(f"/media/2/{name}")},
                ]
            },
        }
        http_server.script("/api/content/government/statistics/drug-misuse-2016-17", Reply(body=json.dumps(content).encode()))
        http_server.script(f"/media/2/{name}", Reply(body=body))
        write_registry(official("demo", name, govuk_slug="drug-misuse-2016-17", attachment_pattern="1617-tables"))
        path = fetch("demo")
        assert (path.read_bytes() == body, json.loads(provenance_path(path).read_text())["location"]) == (
            True,
            http_server.url(f"/media/2/{name}"),
        )

    def test_slug_prefers_the_attachment_with_the_registered_filename(self, online, http_server, real_xlsx, monkeypatch):
        name, body = real_xlsx
        monkeypatch.setenv("NAO_GOVUK_API", http_server.url("/api/content/government/statistics/"))
        content = {
            "details": {
                "attachments": [
                    {"filename": "drug-misuse-1617-tables-revised-draft.xlsx", "url": "/media/1/draft.xlsx"},
                    {"filename": name, "url": f"/media/2/{name}"},
                ]
            }
        }
        http_server.script("/api/content/government/statistics/csew", Reply(body=json.dumps(content).encode()))
        http_server.script(f"/media/2/{name}", Reply(body=body))
        write_registry(official("demo", name, govuk_slug="csew", attachment_pattern="1617-tables"))
        assert fetch("demo").read_bytes() == body  # and the relative attachment URL was resolved against the API's origin

    def test_slug_without_a_matching_attachment_names_the_fix(self, online, http_server, real_xlsx, monkeypatch):
        name, _ = real_xlsx
        monkeypatch.setenv("NAO_GOVUK_API", http_server.url("/api/content/government/statistics/"))
        content = {"details": {"attachments": [{"filename": "report.pdf", "url": http_server.url("/media/1/report.pdf")}]}}
        http_server.script("/api/content/government/statistics/drug-misuse-2016-17", Reply(body=json.dumps(content).encode()))
        write_registry(official("demo", name, govuk_slug="drug-misuse-2016-17", attachment_pattern="1617-tables"))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "no attachment matching '1617-tables'", "set `url` for source 'demo'")
        assert leftovers(online) == []

    def test_slug_answering_a_json_list_is_refused(self, online, http_server, real_xlsx, monkeypatch):
        name, _ = real_xlsx
        monkeypatch.setenv("NAO_GOVUK_API", http_server.url("/api/content/government/statistics/"))
        http_server.script("/api/content/government/statistics/odd", Reply(body=b"[1, 2, 3]", headers={"Content-Type": "application/json"}))
        write_registry(official("demo", name, govuk_slug="odd"))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "JSON is a list", "slug")

    def test_slug_answering_html_is_refused(self, online, http_server, real_xlsx, monkeypatch):
        name, _ = real_xlsx
        monkeypatch.setenv("NAO_GOVUK_API", http_server.url("/api/content/government/statistics/"))
        http_server.script("/api/content/government/statistics/gone", Reply(body=b"<html>moved</html>"))
        write_registry(official("demo", name, govuk_slug="gone"))
        with pytest.raises(DownloadError) as caught:
            fetch("demo")
        assert_one_line(caught.value, "not JSON", "slug")


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
