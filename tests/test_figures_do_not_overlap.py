"""Nothing overlaps: in every chart of every figure, no two drawn texts share their rendered boxes."""

from __future__ import annotations

import pytest
from conftest import requires_mirror

FIGURES_WITH_CHARTS = ["fig01", "fig02", "fig03", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09", "fig10", "app2"]


@requires_mirror
@pytest.mark.parametrize("figure_id", FIGURES_WITH_CHARTS)
def test_no_text_overlaps_in_any_chart(figure_id, settings):
    from nao_analysis.charts import find_text_overlaps
    from nao_analysis.figures.runtime import execute, prepare

    result = execute(prepare(figure_id, settings=settings, edition="offline"))
    assert result.charts
    overlaps = {chart.name or "main": find_text_overlaps(chart.figure) for chart in result.charts}
    assert {name: pairs for name, pairs in overlaps.items() if pairs} == {}
