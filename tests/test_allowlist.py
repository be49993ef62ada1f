"""The download allowlist judges the host the HTTP client really connects to.

``https://evil.example\\@assets.publishing.service.gov.uk/x.ods`` looks like a GOV.UK address to ``urllib.parse``,
but urllib3 (and so requests) connects to ``evil.example``. The hostile cases run against a server on 127.0.0.1
standing in for the other host: the proof is that it never even receives a connection.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml
from helpers import allow_local_downloads, assert_one_line, leftovers

from nao_analysis.errors import SourceError
from nao_analysis.settings import Settings
from nao_analysis.sources import fetch
from nao_analysis.sources.download import DownloadSession
from nao_analysis.sources.policy import check_prepared_request, check_url_allowed

pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

OFFICIAL = Settings()


def disguised(origin: str, official_host: str = "assets.publishing.service.gov.uk") -> str:
    """An https URL that ``urllib.parse`` reads as ``official_host`` while urllib3 connects to ``origin``'s host."""
    host_and_port = urlsplit(origin).netloc
    return f"https://{host_and_port}\\@{official_host}/media/x.csv"


class TestCheckUrlAllowed:
    def test_official_https_host_is_allowed(self):
        check_url_allowed("https://assets.publishing.service.gov.uk/media/abc/file.xlsx", "test", OFFICIAL)

    def test_lookalike_host_is_refused(self):
        with pytest.raises(SourceError, match="not an official publisher"):
            check_url_allowed("https://www.gov.uk.evil.example/file.xlsx", "test", OFFICIAL)

    def test_backslash_trick_is_refused(self):
        url = "https://evil.example\\@assets.publishing.service.gov.uk/x.ods"
        assert urlsplit(url).hostname == "assets.publishing.service.gov.uk"  # what a naive check saw
        with pytest.raises(SourceError) as caught:
            check_url_allowed(url, "test", OFFICIAL)
        assert_one_line(caught.value, "backslash", "plain https address")

    def test_userinfo_is_refused(self):
        with pytest.raises(SourceError) as caught:
            check_url_allowed("https://www.gov.uk@evil.example/file.xlsx", "test", OFFICIAL)
        assert_one_line(caught.value, "'@'", "disguise the host")

    def test_at_sign_anywhere_is_refused(self):
        with pytest.raises(SourceError, match="'@'"):
            check_url_allowed("https://www.gov.uk/media/a@b.csv", "test", OFFICIAL)

    def test_control_character_is_refused(self):
        with pytest.raises(SourceError, match="control characters"):
            check_url_allowed("https://www.gov.uk/\tx.csv", "test", OFFICIAL)

    def test_official_host_on_another_port_is_refused(self):
        with pytest.raises(SourceError, match="not an official publisher"):
            check_url_allowed("https://www.gov.uk:8443/x.csv", "test", OFFICIAL)

    def test_plain_http_to_an_official_host_is_refused(self):
        with pytest.raises(SourceError, match="is not https"):
            check_url_allowed("http://www.gov.uk/x.csv", "test", OFFICIAL)

    def test_non_loopback_extra_origin_is_refused(self):
        settings = Settings(extra_allowed_origins=("http://10.0.0.5:8000",))
        with pytest.raises(SourceError) as caught:
            check_url_allowed("http://10.0.0.5:8000/file.csv", "test", settings)
        assert_one_line(caught.value, "NAO_EXTRA_ALLOWED_ORIGINS", "loopback")

    def test_loopback_extra_origin_is_allowed(self):
        check_url_allowed("http://127.0.0.1:8765/file.csv", "test", Settings(extra_allowed_origins=("http://127.0.0.1:8765",)))

    def test_prepared_request_is_judged_on_the_host_urllib3_will_use(self):
        import requests

        prepared = requests.Request("GET", "https://EVIL.example./../x.ods").prepare()
        with pytest.raises(SourceError, match="'evil.example.' is not an official publisher"):
            check_prepared_request(prepared, "test", OFFICIAL)


@pytest.fixture
def online(isolated_data, http_server, monkeypatch, tmp_path):
    """A private cache and registry; downloads allowed from the local server's plain origin only."""
    raw_dir, _ = isolated_data
    allow_local_downloads(monkeypatch, http_server.origin)
    monkeypatch.setenv("NAO_SOURCES_FILE", str(tmp_path / "registry" / "sources.yaml"))
    return raw_dir


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


class TestBypassAgainstALocalServer:
    def test_disguised_url_never_reaches_the_other_host(self, online, http_server):
        with DownloadSession(Settings.from_environment()) as session, pytest.raises(SourceError, match="backslash"):
            session.get(disguised(http_server.origin))
        assert http_server.connections == 0

    def test_disguised_registry_url_never_reaches_the_other_host(self, online, http_server):
        settings = Settings.from_environment()
        register(settings, url=disguised(http_server.origin))
        with pytest.raises(SourceError) as caught:
            fetch("demo", settings)
        assert_one_line(caught.value, "data/sources.yaml source 'demo'", "backslash")
        assert (http_server.connections, leftovers(online)) == (0, [])

    def test_disguised_redirect_is_not_followed(self, online, http_server):
        settings = Settings.from_environment()
        http_server.script("/old.csv", Reply(status=302, headers={"Location": disguised(http_server.origin)}))
        register(settings, url=http_server.url("/old.csv"))
        with pytest.raises(SourceError) as caught:
            fetch("demo", settings)
        assert_one_line(caught.value, "redirected to", "backslash")
        assert (http_server.connections, http_server.requests, leftovers(online)) == (1, ["/old.csv"], [])

    def test_redirect_with_userinfo_is_not_followed(self, online, http_server):
        settings = Settings.from_environment()
        location = f"http://www.gov.uk@{urlsplit(http_server.origin).netloc}/new.csv"
        http_server.script("/old.csv", Reply(status=302, headers={"Location": location}))
        register(settings, url=http_server.url("/old.csv"))
        with pytest.raises(SourceError, match="redirected to.*'@'"):
            fetch("demo", settings)
        assert http_server.requests == ["/old.csv"]

    def test_disguised_fingertips_base_url_never_reaches_the_other_host(self, online, http_server, monkeypatch):
        monkeypatch.setenv("NAO_FINGERTIPS_BASE_URL", f"https://{urlsplit(http_server.origin).netloc}\\@fingertips.phe.org.uk/api")
        settings = Settings.from_environment()
        register(settings, format="fingertips_csv", serves={"indicator_id": 93517, "area_type_id": 402})
        with pytest.raises(SourceError) as caught:
            fetch("demo", settings)
        assert_one_line(caught.value, "NAO_FINGERTIPS_BASE_URL", "backslash")
        assert http_server.connections == 0
