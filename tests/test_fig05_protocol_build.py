"""Issue 4 "done when": `nao-analysis build --only fig05` against a local server that speaks the Fingertips
protocol fetches, caches and builds; a second, offline build then runs from the cache alone.

The server serves the REAL mirror sample (read through fetch) at the API path the client requests. The sample
holds 2018-19 to 2020-21 only, so the build maps 2020-21 (``--set fig05.year=2020-21``) while keeping the
nao-2023 source, whose request is for area type 402 (``--set fig05.area_type_id=402``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("http_server")
from http_server import Reply  # noqa: E402

pytest_plugins = ["http_server"]

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "fingertips_93517_2021_22"
PROTOCOL_PATH = "/api/all_data/csv/by_indicator_id?indicator_ids=93517&child_area_type_id=402&parent_area_type_id=15"
BUILD = ["build", "--edition", "nao-2023", "--only", "fig05", "--set", "fig05.year=2020-21", "--set", "fig05.area_type_id=402"]


@pytest.fixture
def private_run(tmp_path, http_server, raw_file) -> dict[str, str]:
    """Environment for a build with a private cache, registry copy (so pins land in tmp) and output root."""
    registry = tmp_path / "registry" / "sources.yaml"
    registry.parent.mkdir()
    shutil.copyfile(ROOT / "data" / "sources.yaml", registry)
    env = {k: v for k, v in os.environ.items() if k != "NAO_OFFLINE"}
    env.update(
        NAO_RAW_DIR=str(tmp_path / "raw"),
        NAO_PROCESSED_DIR=str(tmp_path / "processed"),
        NAO_OUTPUT_ROOT=str(tmp_path / "out"),
        NAO_SOURCES_FILE=str(registry),
        NAO_FINGERTIPS_BASE_URL=http_server.origin + "/api",
        NAO_EXTRA_ALLOWED_ORIGINS=http_server.origin,
        NAO_DOWNLOAD_BACKOFF="0.01",
        NAO_DOWNLOAD_RETRIES="2",
    )
    http_server.script(PROTOCOL_PATH, Reply(body=raw_file("fingertips_93517_sample").read_bytes(), headers={"Content-Type": "text/csv"}))
    return env


def nao_analysis(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("nao-analysis")
    return subprocess.run([str(cli), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def figure_record(env: dict[str, str]) -> dict:
    return json.loads((Path(env["NAO_OUTPUT_ROOT"]) / "reports" / "nao-2023" / "fig05_treatment_gap_map.json").read_text())


@pytest.mark.slow
def test_build_fetches_caches_and_builds_from_a_fingertips_protocol_server(private_run, http_server):
    result = nao_analysis(BUILD, private_run)
    assert result.returncode == 0, result.stdout + result.stderr
    cached = Path(private_run["NAO_RAW_DIR"]) / SOURCE / "fingertips_93517_402.csv"
    provenance = json.loads(cached.with_name(cached.name + ".provenance.json").read_text())
    record = figure_record(private_run)
    assert (http_server.hits[PROTOCOL_PATH], provenance["location"], record["inputs"][SOURCE]["origin"]) == (
        1,
        http_server.url(PROTOCOL_PATH),
        "download",
    )
    assert (Path(private_run["NAO_OUTPUT_ROOT"]) / "figures" / "nao-2023" / "fig05_treatment_gap_map.png").stat().st_size > 0


@pytest.mark.slow
def test_second_build_runs_offline_from_the_cached_response(private_run, http_server):
    assert nao_analysis(BUILD, private_run).returncode == 0
    http_server.stop()
    offline = {**private_run, "NAO_OFFLINE": "1"}
    result = nao_analysis([*BUILD, "--force"], offline)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built" in result.stdout and http_server.hits[PROTOCOL_PATH] == 1
