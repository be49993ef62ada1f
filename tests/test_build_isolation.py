"""A figure's result never depends on what ran before it in the same build (issue 15, item 9)."""

from __future__ import annotations

import pytest
from tiny_project import make_project, record_of, statuses, tiny_notebook

from nao_analysis.build import build

DOUBLE_EVERY_SUM = """
import pandas
_original_sum = pandas.Series.sum
pandas.Series.sum = lambda self, *a, **k: 2 * _original_sum(self, *a, **k)
value = float(pandas.Series([1.0, 2.0, 3.0]).sum())
"""


@pytest.mark.parametrize("kernels", ["fork", "fresh"])
def test_a_monkeypatch_in_one_notebook_does_not_reach_the_next(tmp_path, monkeypatch, kernels):
    settings = make_project(tmp_path, monkeypatch, {"fig01": tiny_notebook("fig01", DOUBLE_EVERY_SUM), "fig02": tiny_notebook("fig02")})
    # One job: fig02 runs after fig01, where a reused kernel would still carry the patch.
    result = build("offline", settings, only=["fig01", "fig02"], jobs=1, kernels=kernels, log=lambda *_: None)
    assert statuses(result)["fig01"] == statuses(result)["fig02"] == "built"
    assert record_of(settings, "offline", "fig01")["value"] == 12.0
    assert record_of(settings, "offline", "fig02")["value"] == 6.0


def test_each_notebook_gets_its_own_kernel_process(tmp_path, monkeypatch):
    body = "import os\nvalue = float(os.getpid())"
    settings = make_project(tmp_path, monkeypatch, {"fig01": tiny_notebook("fig01", body), "fig02": tiny_notebook("fig02", body)})
    build("offline", settings, only=["fig01", "fig02"], jobs=1, log=lambda *_: None)
    assert record_of(settings, "offline", "fig01")["value"] != record_of(settings, "offline", "fig02")["value"]
