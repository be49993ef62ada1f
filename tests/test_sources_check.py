"""``nao-analysis sources check``: every source's route and evidence, and which sources lack them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nao_analysis.cli import main
from nao_analysis.settings import Settings
from nao_analysis.sources.check import check_online, offline_report, run_check
from nao_analysis.sources.registry import load_registry
from nao_analysis.sources.routes import session_for

# tests/http_server.py is also loaded as a plugin (for its fixture), so let pytest rewrite it before importing it here.
pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

ROOT = Path(__file__).resolve().parents[1]
EVIDENCE = [{"repo": "someone/project", "path": "get_data.R", "what": "downloads the same URL"}]


def entry(source_id: str, **changes) -> dict:
    base = {
        "id": source_id,
        "title": source_id,
        "publisher": "demo publisher",
        "kind": "official",
        "format": "csv",
        "licence": "OGL-3.0",
        "files": [{"filename": f"{source_id}.csv"}],
    }
    base.update(changes)
    return base


def settings_for(tmp_path: Path, *entries: dict, **changes) -> Settings:
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"schema": 1, "sources": list(entries)}), encoding="utf-8")
    return Settings(project_root=ROOT, sources_file=tmp_path / "sources.yaml", raw_dir=tmp_path / "raw", **changes)


class TestRealRegistry:
    def test_every_source_has_a_route_and_evidence(self):
        registry = load_registry(ROOT / "data" / "sources.yaml")
        assert [(line.source_id, line.problem) for line in offline_report(registry) if line.problem] == []

    def test_the_command_exits_zero_and_lists_every_source(self, capsys, monkeypatch):
        monkeypatch.setenv("NAO_SOURCES_FILE", str(ROOT / "data" / "sources.yaml"))
        code = main(["sources", "check"])
        out = capsys.readouterr().out
        count = len(load_registry(ROOT / "data" / "sources.yaml").sources)
        assert (code, out.splitlines()[-1]) == (0, f"{count} sources; {count} with a route and evidence; 0 without: none")


class TestOffline:
    def test_a_source_with_neither_route_nor_evidence_is_named_and_fails_the_check(self, tmp_path):
        settings = settings_for(tmp_path, entry("bare"), entry("good", url="https://www.gov.uk/good.csv", url_evidence=EVIDENCE))
        lines: list[str] = []
        assert run_check(settings, out=lines.append) == 1
        assert lines[-1] == "2 sources; 1 with a route and evidence; 1 without: bare"

    def test_a_url_without_evidence_is_a_problem(self, tmp_path):
        settings = settings_for(tmp_path, entry("unseen", url="https://www.gov.uk/unseen.csv"))
        (line,) = offline_report(load_registry(settings))
        assert line.problem.startswith("route has no url_evidence")

    def test_an_extract_standing_in_for_an_unknown_source_is_a_problem(self, tmp_path):
        extract = entry(
            "copy", kind="third_party_extract", copied_from="a/b@c:d.csv", stands_in_for={"title": "the official file", "source": "nowhere"}
        )
        settings = settings_for(tmp_path, extract)
        (line,) = offline_report(load_registry(settings))
        assert line.problem == "stands_in_for names 'nowhere', which is not in the registry"

    def test_an_extract_standing_in_for_an_official_source_with_a_route_is_complete(self, tmp_path):
        official = entry("official", url="https://www.gov.uk/official.csv", url_evidence=EVIDENCE)
        extract = entry("copy", kind="third_party_extract", copied_from="a/b@c:d.csv", stands_in_for={"title": "t", "source": "official"})
        settings = settings_for(tmp_path, official, extract)
        assert [line.problem for line in offline_report(load_registry(settings))] == [None, None]

    def test_each_line_shows_the_route_and_its_evidence(self, tmp_path):
        settings = settings_for(tmp_path, entry("good", url="https://www.gov.uk/good.csv", url_evidence=EVIDENCE))
        lines: list[str] = []
        run_check(settings, out=lines.append)
        assert lines[:2] == [
            "good  url                 https://www.gov.uk/good.csv",
            "        evidence: someone/project:get_data.R (downloads the same URL)",
        ]


class TestOnline:
    @pytest.fixture
    def web(self, http_server, tmp_path):
        def make(*entries: dict) -> Settings:
            return settings_for(tmp_path, *entries, host_overrides=(("https://www.gov.uk", http_server.origin),), download_retries=0)

        return make, http_server

    def test_a_file_that_answers_is_ok(self, web):
        make, server = web
        server.script("/good.csv", Reply(body=b"a,b\n"))
        settings = make(entry("good", url="https://www.gov.uk/good.csv", url_evidence=EVIDENCE))
        with session_for(settings) as session:
            assert check_online(load_registry(settings).get("good"), settings, session).status == "ok"

    def test_a_missing_file_is_reported_with_the_fix(self, web):
        make, server = web
        server.script("/gone.csv", Reply(status=404))
        settings = make(entry("gone", url="https://www.gov.uk/gone.csv", url_evidence=EVIDENCE, landing_page="https://www.gov.uk/page"))
        lines: list[str] = []
        assert run_check(settings, online=True, out=lines.append) == 1
        missing = next(line for line in lines if line.startswith("missing"))
        assert "HTTP 404" in missing and "FIX: find the current file on https://www.gov.uk/page and update url of gone" in missing

    def test_head_refused_is_retried_as_a_ranged_get(self, web):
        # The scripted server refuses HEAD (501), so the answer comes from the ranged GET.
        make, server = web
        server.script("/range.csv", Reply(status=206, body=b"a,b"))
        settings = make(entry("range", url="https://www.gov.uk/range.csv", url_evidence=EVIDENCE))
        lines: list[str] = []
        run_check(settings, online=True, out=lines.append)
        assert any(line.startswith("ok") and "HTTP 206" in line for line in lines)

    def test_a_manual_source_is_skipped_not_asked(self, web):
        make, server = web
        steps = {
            "page": "https://www.ndtms.net/ViewIt/Adult",
            "selections": ["All in treatment"],
            "export": "Download data",
            "expected_filename": "x.csv",
            "command": "nao-analysis sources add x --file x.csv",
        }
        settings = make(entry("hand", acquire="manual", manual_steps=steps, url_evidence=EVIDENCE))
        lines: list[str] = []
        run_check(settings, online=True, out=lines.append)
        assert (any(line.startswith("skipped") and "hand" in line for line in lines), server.requests) == (True, [])
