"""Faults around fetch: a full disk or read-only cache, a mirror setting that points nowhere, a changed mirror
copy, and no network. Each ends in one line with the fix, and nothing half-written is left in the cache.

The suite runs as root, which ignores file permissions, so a read-only folder and a full disk are simulated by
making the write itself fail with the error the operating system would give.
"""

from __future__ import annotations

import errno
import socket
import time

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers, sha256

from nao_analysis.errors import HashMismatchError, SourceError, SourceUnavailableError
from nao_analysis.settings import Settings
from nao_analysis.sources import fetch
from nao_analysis.sources import resolve as resolver
from nao_analysis.sources.download import DownloadSession
from nao_analysis.sources.registry import load_pins

pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

SAMPLE_ID = "fingertips_93517_sample"  # a real 3,756-byte CSV
MIRROR_PATH = "fingertips/sample.csv"


@pytest.fixture(scope="session")
def real_csv(raw_file) -> bytes:
    return raw_file(SAMPLE_ID).read_bytes()


def register(settings: Settings, **extra) -> None:
    entry = {
        "id": "demo",
        "title": "demo",
        "publisher": "test",
        "kind": "official",
        "format": "csv",
        "licence": "OGL-3.0",
        "files": [{"filename": "data.csv"}],
        **extra,
    }
    settings.sources_file.parent.mkdir(parents=True, exist_ok=True)
    settings.sources_file.write_text(yaml.safe_dump({"schema": 1, "sources": [entry]}), encoding="utf-8")


@pytest.fixture
def mirrored(isolated_data, tmp_path, monkeypatch, real_csv) -> Settings:
    """Offline, a private cache, and a private mirror holding the real CSV registered with its true hash."""
    mirror = tmp_path / "mirror"
    (mirror / "fingertips").mkdir(parents=True)
    (mirror / MIRROR_PATH).write_bytes(real_csv)
    monkeypatch.setenv("NAO_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("NAO_OFFLINE", "1")
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    settings = Settings.from_environment()
    register(settings, files=[{"filename": "data.csv", "sha256": sha256(real_csv), "mirror": MIRROR_PATH}])
    return settings


@pytest.fixture
def online(isolated_data, http_server, monkeypatch, tmp_path) -> Settings:
    allow_local_downloads(monkeypatch, http_server.origin, retries=0)
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    return Settings.from_environment()


class TestCacheNotWritable:
    def test_read_only_cache_is_one_line_naming_the_folder(self, mirrored, monkeypatch):
        def refuse(target):
            raise PermissionError(errno.EROFS, "Read-only file system", str(target.parent / ".tmp-x"))

        monkeypatch.setattr(resolver, "new_temp", refuse)
        with pytest.raises(SourceError) as caught:
            fetch("demo", mirrored)
        assert_one_line(caught.value, str(mirrored.raw_dir / "demo"), "Read-only file system", "make", "writable", "NAO_RAW_DIR")
        assert leftovers(mirrored.raw_dir) == []

    def test_full_disk_while_copying_from_the_mirror_leaves_nothing_half_written(self, mirrored, monkeypatch):
        def half_then_full(src, dst, **_):
            with open(src, "rb") as source, open(dst, "wb") as out:
                out.write(source.read(1000))
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))

        monkeypatch.setattr(resolver.shutil, "copyfile", half_then_full)
        with pytest.raises(SourceError) as caught:
            fetch("demo", mirrored)
        assert_one_line(caught.value, str(mirrored.raw_dir / "demo"), "No space left on device", "free some space")
        assert leftovers(mirrored.raw_dir) == []

    def test_full_disk_during_a_download_leaves_nothing_half_written(self, online, http_server, real_csv, monkeypatch):
        def half_then_full(self, response, url, out, bar, max_bytes, started):
            out.write(response.raw.read(1000))
            raise OSError(errno.ENOSPC, "No space left on device", out.name)

        monkeypatch.setattr(DownloadSession, "_stream_body", half_then_full)
        http_server.script("/data.csv", Reply(body=real_csv))
        register(online, url=http_server.url("/data.csv"))
        with pytest.raises(SourceError) as caught:
            fetch("demo", online)
        assert_one_line(caught.value, "No space left on device", "free some space")
        assert (leftovers(online.raw_dir), load_pins(online)) == ([], {})

    def test_pins_file_not_writable_leaves_no_unpinned_file_cached(self, online, http_server, real_csv, monkeypatch):
        def refuse(*_, settings, **__):
            raise PermissionError(errno.EACCES, "Permission denied", str(settings.pins_file.with_name(".tmp-pins.yaml")))

        monkeypatch.setattr(resolver, "record_pin", refuse)
        http_server.script("/data.csv", Reply(body=real_csv))
        register(online, url=http_server.url("/data.csv"))
        with pytest.raises(SourceError) as caught:
            fetch("demo", online)
        assert_one_line(caught.value, str(online.sources_file.parent), "Permission denied", "writable")
        assert leftovers(online.raw_dir) == []


class TestMirrorSetting:
    def test_mirror_pointing_nowhere_is_warned_about_once(self, mirrored, tmp_path, capsys):
        settings = mirrored.with_changes(mirror=tmp_path / "no-such-mirror", offline=True)
        for _ in range(3):
            with pytest.raises(SourceUnavailableError):
                fetch("demo", settings)
        warned = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
        assert warned == [
            f"nao-analysis: warning: NAO_DATA_MIRROR={tmp_path / 'no-such-mirror'} is not a folder - sources are looked up "
            "in the cache and downloaded instead; point it at the mirror folder or unset it"
        ]

    def test_source_only_the_mirror_could_provide_names_the_missing_mirror(self, mirrored, tmp_path):
        settings = mirrored.with_changes(mirror=tmp_path / "gone")
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo", settings)
        assert_one_line(caught.value, "'demo'", f"NAO_DATA_MIRROR={tmp_path / 'gone'} does not exist", MIRROR_PATH)


class TestForcedFetch:
    def test_forcing_a_source_without_a_download_route_says_to_drop_force(self, mirrored):
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo", mirrored, force=True)
        assert_one_line(caught.value, "'demo'", "--force asks for a fresh download, but it has no download route", "without --force")


class TestChangedMirrorCopy:
    def test_changed_copy_says_how_to_accept_it(self, mirrored):
        (mirrored.mirror / MIRROR_PATH).write_bytes(b"Indicator ID,Area Code,Time period,Value\n93517,E92000001,2021/22,1\n")
        with pytest.raises(HashMismatchError) as caught:
            fetch("demo", mirrored)
        assert_one_line(caught.value, "`nao-analysis fetch demo --accept-new-hash`")

    def test_following_that_advice_offline_accepts_and_pins_the_mirror_copy(self, mirrored):
        changed = b"Indicator ID,Area Code,Time period,Value\n93517,E92000001,2021/22,1\n"
        (mirrored.mirror / MIRROR_PATH).write_bytes(changed)
        with pytest.raises(HashMismatchError):
            fetch("demo", mirrored)
        accepted = fetch("demo", mirrored, accept_new_hash=True)
        pin = load_pins(mirrored)["demo"]["data.csv"]
        assert (accepted.path.read_bytes(), pin["sha256"], pin["reason"].startswith("mirror copy accepted on purpose")) == (
            changed,
            sha256(changed),
            True,
        )

    def test_accepted_copy_then_resolves_like_any_other(self, mirrored):
        changed = b"Indicator ID,Area Code,Time period,Value\n93517,E92000001,2021/22,1\n"
        (mirrored.mirror / MIRROR_PATH).write_bytes(changed)
        fetch("demo", mirrored, accept_new_hash=True)
        assert fetch("demo", mirrored).provenance["resolved_from"] == "cache"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestNoNetwork:
    def test_unresolvable_host_is_tried_once_and_skipped_quickly(self, isolated_data, tmp_path, monkeypatch):
        calls = []

        def no_dns(host, *args, **kwargs):
            calls.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        monkeypatch.delenv("NAO_OFFLINE", raising=False)
        monkeypatch.delenv("NAO_DATA_MIRROR", raising=False)
        monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
        settings = Settings.from_environment()  # default retries (5) and backoff: none of them may apply
        register(settings, url="https://www.gov.uk/government/uploads/data.csv")
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError) as caught:
            fetch("demo", settings)
        assert (type(caught.value), calls, time.monotonic() - started < 2) == (SourceUnavailableError, ["www.gov.uk"], True)
        assert_one_line(caught.value, "cannot reach the server (its host name could not be resolved)", "NAO_DATA_MIRROR")
        assert "NameResolutionError" not in str(caught.value)

    def test_refused_connection_is_tried_once_and_skipped_quickly(self, isolated_data, tmp_path, monkeypatch):
        origin = f"http://127.0.0.1:{closed_port()}"
        allow_local_downloads(monkeypatch, origin, retries=5)
        monkeypatch.setenv("NAO_DOWNLOAD_BACKOFF", "1")
        monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
        settings = Settings.from_environment()
        register(settings, url=f"{origin}/data.csv")
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError, match=r"cannot reach the server \(the connection was refused\)"):
            fetch("demo", settings)
        assert time.monotonic() - started < 2
        assert leftovers(settings.raw_dir) == []
