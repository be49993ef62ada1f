"""Figure 8: departmental allocations of strategy funding to treatment and recovery, 2022-23 to 2024-25."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig08", slug="funding_treatment_recovery", title="Departmental allocations of strategy funding to treatment and recovery")
class Fig08Params(FigureParams):
    table: str = Field(default="funding_fig08_treatment_recovery.csv", description="Transcribed table in data/manual/")
    workstream: str = "Treatment and recovery"
    sum_tolerance_m: float = Field(
        default=0.5, ge=0, description="GBP million a recomputed sum may differ from a printed total (totals printed to the nearest GBP 1m)"
    )
    inferred_activity: str = Field(
        default="Programme management and evaluation",
        description="The row whose 2023-24 and 2024-25 values the text extraction lost, recovered from the column totals",
    )
