"""Figure regression: each figure's pictures against small committed baselines in ``tests/baselines/``.

A module fixture builds the ``offline`` edition from the mirror into a temporary output root. Every
chart a figure writes as PNG is downscaled to :data:`BASELINE_WIDTH` pixels wide (so baselines stay small)
and compared with ``tests/baselines/<chart>.png`` by RMS difference
(:func:`matplotlib.testing.compare.compare_images`). A table image (Figures 7-10 and Appendix Two: an
SVG of text written by ``nao_analysis.tables``, no PNG) is compared with ``tests/baselines/<table>.svg``
exactly: it is written by our own code with rounded coordinates, so any changed cell, wrap, colour or
position is a difference. An unintended change fails; a figure whose baseline is absent is skipped with a
message. ``make baselines`` (``NAO_UPDATE_BASELINES=1``) rewrites the baselines on purpose. A failing
comparison leaves the actual image (and a diff) in ``test-artifacts/figure-diffs/``.
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
PALETTE_COLOURS = 32
#: RMS tolerance (0-255 levels) over the downscaled image. Rebuilding with the pinned matplotlib gives 0;
#: a recoloured bar gives about 10, a changed label is above it (see TestTolerance).
RMS_TOLERANCE = 1.0
UPDATE = os.environ.get("NAO_UPDATE_BASELINES") == "1"


def _edition_figures() -> list[str]:
    from nao_analysis.editions import load_edition
    from nao_analysis.settings import Settings

    return list(load_edition("offline", settings=Settings.from_environment()).figures)


def downscale(source: Path, target: Path, width: int = BASELINE_WIDTH) -> Path:
    """Write ``source`` ``width`` pixels wide (aspect kept) with a :data:`PALETTE_COLOURS`-colour palette to ``target``.

    The same reduction is applied to the baseline and to each new chart, so they compare like for like;
    the palette (no dithering) keeps every baseline around 20 kB while class colours stay distinct.
    """
    from PIL import Image

    with Image.open(source) as image:
        rgb = image.convert("RGB")
        height = max(1, round(rgb.height * width / rgb.width))
        small = rgb.resize((width, height), Image.Resampling.LANCZOS)
        small.quantize(PALETTE_COLOURS, dither=Image.Dither.NONE).save(target, format="PNG", optimize=True)
    return target


@pytest.fixture(scope="module")
def built(offline_build_root) -> Path:
    """The shared real offline build (see ``offline_build_root`` in conftest); returns its root."""
    return offline_build_root


def _charts(root: Path, figure: str) -> list[Path]:
    reports = root / "reports" / "offline"
    records = [json.loads(p.read_text()) for p in reports.glob(f"{figure}_*.json") if not p.name.endswith("manifest.json")]
    records = [r for r in records if r.get("figure") == figure]
    if not records:
        pytest.skip(f"{figure} was not built in the offline edition here (see reports/offline/manifest.json for why)")
    from nao_analysis.report.notebook_html import chart_outputs

    figures = root / "figures" / "offline"
    return [figures / name for name, _is_table in chart_outputs(records[0])]


def svg_differences(baseline: str, actual: str) -> list[str]:
    """The lines of a unified diff between two SVG documents; empty when they are the same."""
    import difflib

    return list(difflib.unified_diff(baseline.splitlines(), actual.splitlines(), "baseline", "actual", lineterm="", n=1))


def _compare_svg(chart: Path, baseline: Path) -> str | None:
    differences = svg_differences(baseline.read_text(encoding="utf-8"), chart.read_text(encoding="utf-8"))
    if not differences:
        return None
    DIFFS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chart, DIFFS / chart.name)
    (DIFFS / f"{chart.stem}.svg.diff").write_text("\n".join(differences) + "\n", encoding="utf-8")
    changed = next(line for line in differences if line[:1] in "+-" and not line.startswith(("---", "+++")))
    return f"{len([d for d in differences if d[:1] in '+-']) - 2} lines differ, first: {changed[:120]}"


@pytest.mark.parametrize("figure", _edition_figures())
def test_chart_matches_baseline(built, figure, tmp_path):
    from matplotlib.testing.compare import compare_images

    charts = _charts(built, figure)
    if not charts:
        pytest.skip(f"{figure} writes no chart")
    missing, failures = [], []
    for chart in charts:
        baseline = BASELINES / chart.name
        actual = chart if chart.suffix == ".svg" else downscale(chart, tmp_path / chart.name)
        if UPDATE:
            BASELINES.mkdir(exist_ok=True)
            shutil.copyfile(actual, baseline)
            continue
        if not baseline.exists():
            missing.append(chart.name)
            continue
        if chart.suffix == ".svg":
            result = _compare_svg(chart, baseline)
            if result is not None:
                failures.append(f"{chart.name}: {result}")
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


def _house_chart(path: Path, last_label: str) -> Path:
    from nao_analysis.charts import add_source_line, new_chart

    figure, axes = new_chart("Deaths from drug misuse have been rising", "Deaths registered, England")
    axes.plot([2011, 2016, 2021], [1582, 2383, 2846], marker="o")
    axes.annotate(last_label, (2021, 2846), textcoords="offset points", xytext=(4, 0))
    add_source_line(figure, "Office for National Statistics")
    figure.savefig(path)
    return path


class TestTolerance:
    def test_identical_chart_passes(self, tmp_path):
        from matplotlib.testing.compare import compare_images

        first = downscale(_house_chart(tmp_path / "a_full.png", "2,846"), tmp_path / "a.png")
        second = downscale(_house_chart(tmp_path / "b_full.png", "2,846"), tmp_path / "b.png")
        assert compare_images(str(first), str(second), tol=RMS_TOLERANCE) is None

    def test_one_changed_digit_fails(self, tmp_path):
        from matplotlib.testing.compare import compare_images

        first = downscale(_house_chart(tmp_path / "a_full.png", "2,846"), tmp_path / "a.png")
        second = downscale(_house_chart(tmp_path / "b_full.png", "2,847"), tmp_path / "b.png")
        assert compare_images(str(first), str(second), tol=RMS_TOLERANCE) is not None


class TestTableImageComparison:
    def _svg(self) -> str:
        import pandas as pd

        from nao_analysis.tables import table_image

        frame = pd.DataFrame({"Body": ["Home Office", "Total"], "2022-23 (£mn)": [102, 102]})
        return table_image(frame, "Funding", "Subtitle", ["A note"], "NAO").to_svg("Table of funding")

    def test_identical_table_passes(self):
        assert svg_differences(self._svg(), self._svg()) == []

    def test_one_changed_digit_fails(self):
        assert svg_differences(self._svg(), self._svg().replace(">102<", ">103<", 1)) != []
