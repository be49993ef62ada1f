"""Concurrent builds of one edition with different --set take turns, so the site describes one run
(issue 15, item 12)."""

from __future__ import annotations

import csv
import json
import threading

from tiny_project import make_project, record_of, tiny_notebook

from nao_analysis.build import build, edition_lock

SLOW = "import time\ntime.sleep(2)\nvalue = float(params['end_year'])"


def test_two_builds_with_different_overrides_leave_one_consistent_run(tmp_path, monkeypatch):
    settings = make_project(tmp_path, monkeypatch, {"fig02": tiny_notebook("fig02", SLOW)})
    messages: list[str] = []
    errors: list[BaseException] = []

    def run(end_year: int) -> None:
        try:
            build(
                "offline", settings, only=["fig02"], overrides=[f"fig02.end_year={end_year}"], jobs=1, kernels="fresh", log=messages.append
            )
        except BaseException as exc:  # noqa: BLE001 - reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(year,)) for year in (2019, 2020)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert any(m.startswith("waiting for another build of 'offline'") for m in messages)

    manifest = json.loads((settings.reports_dir("offline") / "manifest.json").read_text())
    record = record_of(settings, "offline", "fig02")
    with open(settings.figures_dir("offline") / "fig02_drug_misuse_deaths.csv", newline="") as handle:
        chart_data = next(csv.DictReader(handle))
    end_year = manifest["parameters"]["fig02"]["end_year"]
    assert manifest["overrides"] == [f"fig02.end_year={end_year}"]
    assert record["params"]["end_year"] == end_year and float(chart_data["value"]) == float(end_year)


def test_the_edition_lock_is_exclusive(tmp_path, monkeypatch):
    settings = make_project(tmp_path, monkeypatch, {})
    entered = threading.Event()

    def take_lock() -> None:
        with edition_lock(settings, "offline", log=lambda *_: None):
            entered.set()

    with edition_lock(settings, "offline", log=lambda *_: None):
        waiter = threading.Thread(target=take_lock)
        waiter.start()
        waiter.join(timeout=1)
        assert not entered.is_set()
    waiter.join(timeout=5)
    assert entered.is_set()
