"""Figure 9: departmental allocations of strategy funding to demand reduction, 2022-23 to 2024-25,
plus the summary chart of all three workstreams by year and department."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig09", slug="funding_demand_reduction", title="Departmental allocations of strategy funding to demand reduction")
class Fig09Params(FigureParams):
    table: str = Field(default="funding_fig09_demand_reduction.csv", description="Transcribed table in data/manual/")
    workstream: str = "Demand reduction"
    supply_table: str = Field(
        default="funding_fig07_disrupting_supply.csv", description="Figure 7 table, for the workstream chart and the GBP 903m check"
    )
    treatment_table: str = Field(
        default="funding_fig08_treatment_recovery.csv", description="Figure 8 table, for the workstream chart and the GBP 903m check"
    )
    home_office_additional_supply_m: float = Field(
        default=84.0,
        ge=0,
        description="Home Office strategy (additional) funding in its GBP 277m supply allocation (paragraph 2.8; no breakdown)",
    )
    sum_tolerance_m: float = Field(
        default=0.5,
        ge=0,
        description="GBP million a recomputed sum may differ from a printed total (Figure 9 note 1: numbers may not sum due to rounding)",
    )
