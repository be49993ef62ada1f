"""Downloads are bounded: size caps per format, an overall deadline and a minimum rate (no slow-loris).

The server on 127.0.0.1 dribbles a REAL file's bytes; the settings use a small deadline and rate so each
case ends within a few seconds, and each proves nothing was left in the cache.
"""

from __future__ import annotations

import time

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers, sha256

from nao_analysis.errors import DownloadError
from nao_analysis.settings import Settings
from nao_analysis.sources import fetch, policy
from nao_analysis.sources.registry import load_registry

pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

SAMPLE_ID = "fingertips_93517_sample"  # a real 3,756-byte CSV


@pytest.fixture(scope="session")
def real_csv(raw_file) -> bytes:
    return raw_file(SAMPLE_ID).read_bytes()


@pytest.fixture
def online(isolated_data, http_server, monkeypatch, tmp_path):
    raw_dir, _ = isolated_data
    allow_local_downloads(monkeypatch, http_server.origin, retries=0, timeout=2)
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    return raw_dir


def register(http_server, body: bytes, fmt: str = "csv") -> None:
    settings = Settings.from_environment()
    entry = {
        "id": "demo",
        "title": "demo",
        "publisher": "test",
        "kind": "official",
        "format": fmt,
        "url": http_server.url("/data.csv"),
        "licence": "OGL-3.0",
        "files": [{"filename": "data.csv", "sha256": sha256(body)}],
    }
    settings.sources_file.parent.mkdir(parents=True, exist_ok=True)
    settings.sources_file.write_text(yaml.safe_dump({"schema": 1, "sources": [entry]}), encoding="utf-8")


class TestSlowServer:
    def test_dribbling_below_the_minimum_rate_is_cut_off(self, online, http_server, real_csv, monkeypatch):
        # 10 bytes every 0.1 s is 100 bytes/s: the whole file would take 37 s.
        monkeypatch.setenv("NAO_DOWNLOAD_MIN_RATE", "1000")
        monkeypatch.setenv("NAO_DOWNLOAD_DEADLINE", "8")
        http_server.script("/data.csv", Reply(body=real_csv, dribble=(10, 0.1)))
        register(http_server, real_csv)
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            fetch("demo", Settings.from_environment())
        assert time.monotonic() - started < 4
        assert_one_line(caught.value, http_server.url("/data.csv"), "too slow", "NAO_DOWNLOAD_MIN_RATE")
        assert leftovers(online) == []

    def test_download_past_the_deadline_is_cut_off(self, online, http_server, real_csv, monkeypatch):
        # 200 bytes every 0.1 s keeps above the minimum rate, but the file needs about 1.9 s.
        monkeypatch.setenv("NAO_DOWNLOAD_MIN_RATE", "100")
        monkeypatch.setenv("NAO_DOWNLOAD_DEADLINE", "1")
        http_server.script("/data.csv", Reply(body=real_csv, dribble=(200, 0.1)))
        register(http_server, real_csv)
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            fetch("demo", Settings.from_environment())
        assert time.monotonic() - started < 3
        assert_one_line(caught.value, "not finished within the 1s deadline", "NAO_DOWNLOAD_DEADLINE")
        assert leftovers(online) == []

    def test_server_silent_before_its_headers_is_cut_off_at_the_deadline(self, online, http_server, real_csv, monkeypatch):
        # The read timeout (10 s) alone would wait out the server's 5 s of silence; the deadline (1 s) does not.
        monkeypatch.setenv("NAO_DOWNLOAD_TIMEOUT", "10")
        monkeypatch.setenv("NAO_DOWNLOAD_DEADLINE", "1")
        http_server.script("/data.csv", Reply(body=real_csv, delay=5.0))
        register(http_server, real_csv)
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            fetch("demo", Settings.from_environment())
        assert time.monotonic() - started < 3
        assert_one_line(caught.value, http_server.url("/data.csv"), "1s deadline", "NAO_DOWNLOAD_DEADLINE")
        assert leftovers(online) == []

    def test_steady_download_within_the_limits_succeeds(self, online, http_server, real_csv, monkeypatch):
        monkeypatch.setenv("NAO_DOWNLOAD_MIN_RATE", "1000")
        monkeypatch.setenv("NAO_DOWNLOAD_DEADLINE", "5")
        http_server.script("/data.csv", Reply(body=real_csv, dribble=(1000, 0.05)))
        register(http_server, real_csv)
        assert fetch("demo", Settings.from_environment()).path.read_bytes() == real_csv


class TestSizeCaps:
    def test_declared_size_over_the_format_cap_is_refused(self, online, http_server, real_csv, monkeypatch):
        monkeypatch.setitem(policy.SIZE_LIMITS, "table", 1000)
        http_server.script("/data.csv", Reply(body=real_csv))
        register(http_server, real_csv)
        with pytest.raises(DownloadError) as caught:
            fetch("demo", Settings.from_environment())
        assert_one_line(caught.value, "declares 3,756 bytes", "over the 1,000-byte limit")
        assert leftovers(online) == []

    def test_the_cap_follows_the_format(self, online, http_server, real_csv, monkeypatch):
        # The same bytes registered as a spreadsheet format fall under the spreadsheet cap, not the table cap.
        monkeypatch.setitem(policy.SIZE_LIMITS, "spreadsheet", 1000)
        http_server.script("/data.csv", Reply(body=real_csv))
        register(http_server, real_csv, fmt="ra_csv_2021")
        assert fetch("demo", Settings.from_environment()).path.read_bytes() == real_csv

    @pytest.mark.parametrize(
        ("fmt", "filename", "kind"),
        [
            ("ro3_ods", None, "spreadsheet"),
            ("ons_drug_deaths_table1", None, "spreadsheet"),
            ("fingertips_csv", None, "table"),
            ("shapefile", None, "archive"),
            ("geojson", None, "geometry"),
            ("a_new_reader_format", "tables.xlsx", "spreadsheet"),
            ("a_new_reader_format", None, "other"),
        ],
    )
    def test_each_format_has_a_cap(self, fmt, filename, kind):
        assert policy.max_bytes_for(fmt, filename) == policy.SIZE_LIMITS[kind]

    def test_every_registered_file_is_far_below_its_cap(self, settings):
        # A cap that real files approach would refuse the next release: keep a tenfold margin.
        too_close = [
            (source.id, file.filename)
            for source in load_registry(settings).sources
            for file in source.files
            if file.bytes and file.bytes * 10 > policy.max_bytes_for(source.format, file.filename)
        ]
        assert too_close == []


class TestOneOffDownload:
    def test_writes_the_file(self, online, http_server, real_csv, tmp_path):
        from nao_analysis.sources.download import download_to

        http_server.script("/data.csv", Reply(body=real_csv))
        download_to(http_server.url("/data.csv"), tmp_path / "data.csv", Settings.from_environment())
        assert (tmp_path / "data.csv").read_bytes() == real_csv

    def test_is_capped_by_its_kind_of_file(self, online, http_server, real_csv, tmp_path, monkeypatch):
        from nao_analysis.sources.download import download_to

        monkeypatch.setitem(policy.SIZE_LIMITS, "table", 1000)
        http_server.script("/data.csv", Reply(body=real_csv))
        with pytest.raises(DownloadError, match="over the 1,000-byte limit"):
            download_to(http_server.url("/data.csv"), tmp_path / "data.csv", Settings.from_environment())
