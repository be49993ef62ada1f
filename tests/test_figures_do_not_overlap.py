"""Nothing overlaps: in every chart of every figure, no two drawn texts share their rendered boxes; in every
table image, no two texts share their measured boxes and no text runs out of its cell, banner or not."""

from __future__ import annotations

import pytest
from conftest import requires_mirror

FIGURES_WITH_CHARTS = ["fig01", "fig02", "fig03", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09", "fig10", "app2"]
TABLE_FIGURES = ["fig07", "fig08", "fig09", "fig10", "app2"]
#: As long as an edition's banner gets: a deviation, an override and a third-party extract, each a line.
LONG_BANNER = "\n".join(
    [
        "Edition 'offline' - substitute data: built from the mirror's copies of the official files; " * 3,
        "Parameters overridden for this run (fig07.sum_tolerance_m=1.0); the edition's description above is of its defaults.",
        "Built from a third party's extract of the official file: Department/Body allocations.",
    ]
)


def _result(figure_id, settings):
    from nao_analysis.figures.runtime import execute, prepare

    return execute(prepare(figure_id, settings=settings, edition="offline"))


@requires_mirror
@pytest.mark.parametrize("figure_id", FIGURES_WITH_CHARTS)
def test_no_text_overlaps_in_any_chart(figure_id, settings):
    from nao_analysis.charts import find_text_overlaps

    result = _result(figure_id, settings)
    assert result.charts
    overlaps = {chart.name or "main": find_text_overlaps(chart.figure) for chart in result.charts if not chart.is_table}
    assert {name: pairs for name, pairs in overlaps.items() if pairs} == {}


@requires_mirror
@pytest.mark.parametrize("figure_id", TABLE_FIGURES)
@pytest.mark.parametrize("banner", ["", LONG_BANNER], ids=["no-banner", "long-banner"])
def test_table_image_texts_stay_in_their_cells_and_apart(figure_id, banner, settings):
    from nao_analysis.tables import find_layout_problems

    tables = [chart.table for chart in _result(figure_id, settings).charts if chart.is_table]
    assert len(tables) == 1
    assert find_layout_problems(tables[0].layout(banner)) == []
