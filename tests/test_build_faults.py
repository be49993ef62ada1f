"""Faults during a build: a dying kernel, a cell that never ends, a cross-device move, a killed build.

Each ends the figure concerned as *failed* with one line (or is absorbed), the other figures still
build, and nothing half-written is left looking current (issue 15, items 3, 13 and 15)."""

from __future__ import annotations

import errno
import os
import time

import pytest
from tiny_project import make_project, record_of, statuses, tiny_notebook

from nao_analysis import build as build_module
from nao_analysis.build import build

QUIET = {"log": lambda *_: None}
# Where the kernel kind is not what a test is about, fresh kernels skip the fork server's start-up.
FRESH = {"log": lambda *_: None, "kernels": "fresh"}


@pytest.mark.parametrize("kernels", ["fork", "fresh"])
def test_a_kernel_that_dies_fails_its_figure_and_the_others_build(tmp_path, monkeypatch, kernels):
    settings = make_project(
        tmp_path, monkeypatch, {"fig01": tiny_notebook("fig01", "import os\nos._exit(1)"), "fig02": tiny_notebook("fig02")}
    )
    started = time.monotonic()
    result = build("offline", settings, only=["fig01", "fig02"], jobs=2, kernels=kernels, **QUIET)
    assert time.monotonic() - started < 120
    failed = {r.figure: r for r in result.results}["fig01"]
    assert (failed.status, statuses(result)["fig02"]) == ("failed", "built")
    assert "kernel died" in failed.message and "\n" not in failed.message


def test_a_cell_running_past_the_timeout_fails_its_figure_and_the_others_build(tmp_path, monkeypatch):
    notebooks = {"fig01": tiny_notebook("fig01", "import time\ntime.sleep(600)"), "fig02": tiny_notebook("fig02")}
    settings = make_project(tmp_path, monkeypatch, notebooks, notebook_timeout=3)
    result = build("offline", settings, only=["fig01", "fig02"], jobs=2, **QUIET)
    failed = {r.figure: r for r in result.results}["fig01"]
    assert (failed.status, statuses(result)["fig02"]) == ("failed", "built")
    assert failed.seconds < 60
    assert "3 s notebook timeout" in failed.message and "\n" not in failed.message


@pytest.fixture
def cross_device_moves(monkeypatch):
    """os.replace behaves as if figures/ and reports/ were on another filesystem than the staging folder."""
    real_replace = os.replace

    def replace(source, target, *args, **kwargs):
        if os.path.dirname(os.path.abspath(source)) != os.path.dirname(os.path.abspath(target)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_outputs_are_published_across_filesystems(tmp_path, monkeypatch, cross_device_moves):
    settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
    first = build("offline", settings, only=["fig02"], jobs=1, **FRESH)
    again = build("offline", settings, only=["fig02"], jobs=1, force=True, **FRESH)
    assert statuses(first)["fig02"] == statuses(again)["fig02"] == "built"
    assert (settings.figures_dir("offline") / "fig02_drug_misuse_deaths.csv").read_text().startswith("value,unit")
    assert record_of(settings, "offline", "fig02")["value"] == 6.0


def test_old_outputs_stay_when_their_replacement_cannot_be_moved_in(tmp_path, monkeypatch):
    settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
    build("offline", settings, only=["fig02"], jobs=1, **FRESH)
    old_csv = settings.figures_dir("offline") / "fig02_drug_misuse_deaths.csv"
    old_record = settings.reports_dir("offline") / "fig02_drug_misuse_deaths.json"
    real_move = build_module.move_into_place

    def disk_full_on_the_record(source, target):
        if target.name.endswith(".json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_move(source, target)

    monkeypatch.setattr(build_module, "move_into_place", disk_full_on_the_record)
    result = build("offline", settings, only=["fig02"], jobs=1, force=True, **FRESH)
    failed = {r.figure: r for r in result.results}["fig02"]
    assert failed.status == "failed" and "No space left on device" in failed.message
    assert old_csv.exists() and old_record.exists()
    # Without its stamp the half-replaced figure is rebuilt next time, never taken as up to date.
    monkeypatch.setattr(build_module, "move_into_place", real_move)
    assert statuses(build("offline", settings, only=["fig02"], jobs=1, **FRESH))["fig02"] == "built"


def test_staging_left_by_a_killed_build_is_removed_by_the_next(tmp_path, monkeypatch):
    settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02")})
    reports, figures = settings.reports_dir("offline"), settings.figures_dir("offline")
    (reports / ".staging-fig02-killed").mkdir(parents=True)
    (reports / ".staging-fig02-killed" / "fig02_drug_misuse_deaths.png").write_bytes(b"half")
    figures.mkdir(parents=True)
    (figures / ".tmp-abc.png").write_bytes(b"half")
    messages = []
    build("offline", settings, only=["fig02"], jobs=1, log=messages.append)
    assert not list(reports.glob(".staging-*")) and not list(figures.glob(".tmp-*"))
    assert any(".staging-fig02-killed" in m for m in messages)
