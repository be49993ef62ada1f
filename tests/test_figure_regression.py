"""Figure regression: each figure's PNG against a small committed baseline in ``tests/baselines/``.

A module fixture builds the ``offline`` edition from the mirror into a temporary output root. Every
chart a figure writes is downscaled to :data:`BASELINE_WIDTH` pixels wide (so baselines stay small)
and compared with ``tests/baselines/<chart>.png`` by RMS difference
(:func:`matplotlib.testing.compare.compare_images`). An unintended visual change fails; a figure
whose baseline is absent is skipped with a message. ``make baselines`` (``NAO_UPDATE_BASELINES=1``)
rewrites the baselines on purpose. A failing comparison leaves the actual image and a diff in
``test-artifacts/figure-diffs/``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BASELINES = Path(__file__).resolve().parent / "baselines"
DIFFS = Path(__file__).resolve().parents[1] / "test-artifacts" / "figure-diffs"
BASELINE_WIDTH = 400
#: RMS tolerance on 0-255 grey levels over the downscaled image: anti-aliasing noise is well below it,
#: a moved line, a changed label or a recoloured class is above it.
RMS_TOLERANCE = 2.0
UPDATE = os.environ.get("NAO_UPDATE_BASELINES") == "1"


def _edition_figures() -> list[str]:
    from nao_analysis.editions import load_edition

    return list(load_edition("offline").figures)


def downscale(source: Path, target: Path, width: int = BASELINE_WIDTH) -> Path:
    """Write ``source`` as an RGB PNG ``width`` pixels wide (aspect kept), optimised, to ``target``."""
    from PIL import Image

    with Image.open(source) as image:
        rgb = image.convert("RGB")
        height = max(1, round(rgb.height * width / rgb.width))
        rgb.resize((width, height), Image.Resampling.LANCZOS).save(target, format="PNG", optimize=True)
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory, raw_file) -> Path:
    """A real offline build into a private output root; returns the root."""
    from nao_analysis.build import build

    root = tmp_path_factory.mktemp("regression-build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAO_OUTPUT_ROOT", str(root))
        build("offline", jobs=2, log=lambda *_: None)
    return root


def _charts(root: Path, figure: str) -> list[Path]:
    reports = root / "reports" / "offline"
    records = [json.loads(p.read_text()) for p in reports.glob(f"{figure}_*.json") if not p.name.endswith("manifest.json")]
    records = [r for r in records if r.get("figure") == figure]
    if not records:
        pytest.skip(f"{figure} was not built in the offline edition here (see reports/offline/manifest.json for why)")
    figures = root / "figures" / "offline"
    return [figures / name for name in records[0].get("outputs", []) if name.endswith(".png")]


@pytest.mark.parametrize("figure", _edition_figures())
def test_chart_matches_baseline(built, figure, tmp_path):
    from matplotlib.testing.compare import compare_images

    charts = _charts(built, figure)
    if not charts:
        pytest.skip(f"{figure} writes no PNG chart")
    missing, failures = [], []
    for chart in charts:
        baseline = BASELINES / chart.name
        actual = downscale(chart, tmp_path / chart.name)
        if UPDATE:
            BASELINES.mkdir(exist_ok=True)
            shutil.copyfile(actual, baseline)
            continue
        if not baseline.exists():
            missing.append(chart.name)
            continue
        try:
            result = compare_images(str(baseline), str(actual), tol=RMS_TOLERANCE)
        except Exception as exc:  # e.g. a different image size: the layout changed
            result = str(exc).splitlines()[0]
        if result is not None:
            DIFFS.mkdir(parents=True, exist_ok=True)
            for produced in tmp_path.glob(f"{chart.stem}*"):
                shutil.copyfile(produced, DIFFS / produced.name)
            failures.append(f"{chart.name}: {result}")
    if UPDATE:
        pytest.skip(f"baselines of {figure} rewritten in {BASELINES} (NAO_UPDATE_BASELINES=1)")
    assert failures == [], "charts differ from tests/baselines/ - if intended, run `make baselines`: " + "; ".join(failures)
    if missing:
        pytest.skip(f"no baseline for {', '.join(missing)} in tests/baselines/ - run `make baselines` to create it")
