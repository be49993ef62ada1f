"""Figure 7: total funding allocated to disrupting illegal drugs supply, 2022-23 to 2024-25."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig07", slug="funding_disrupting_supply", title="Total funding allocated to disrupting illegal drugs supply")
class Fig07Params(FigureParams):
    table: str = Field(default="funding_fig07_disrupting_supply.csv", description="Transcribed table in data/manual/")
    workstream: str = "Disrupting supply"
    sum_tolerance_m: float = Field(
        default=0.5, ge=0, description="GBP million a recomputed sum may differ from a printed total (totals printed to the nearest GBP 1m)"
    )
