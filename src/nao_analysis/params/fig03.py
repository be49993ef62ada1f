"""Figure 3: real-terms change in adult substance misuse treatment spending, by county and unitary authority."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nao_analysis.params import FigureParams, FinancialYear, check_boundary_vintage, financial_year_start, register_figure


@register_figure("fig03", slug="spending_change_map", title="Change in real-terms spending on substance misuse treatment")
class Fig03Params(FigureParams):
    base_year: FinancialYear = Field(description="First financial year compared, e.g. 2014-15")
    target_year: FinancialYear = Field(description="Last financial year compared, e.g. 2021-22")
    price_year: FinancialYear = Field(default="2022-23", description="Financial year whose prices real terms are expressed in")
    basis: Literal["outturn", "budget"] = Field(description="Outturn (RO3, what was spent) or budget (RA, what was planned)")
    base_source: str = Field(description="Source id of the revenue account file of base_year")
    target_source: str = Field(description="Source id of the revenue account file of target_year")
    crosswalk_sources: list[str] = Field(
        default=[],
        description="Source ids of revenue account files carrying both E-codes and ONS codes; empty = target_source only",
    )
    line_mapping: str = Field(default="ro_line_mapping.csv", description="File in data/manual/ mapping revenue account lines to components")
    deflator: str = Field(description="Source id of the GDP deflator (HM Treasury xlsx or an ONS series CSV)")
    crosswalk_policy: Literal["aggregate", "nao"] = Field(
        default="aggregate",
        description="aggregate: sum predecessors so like is compared with like; nao: the report's pairing (Bournemouth alone with BCP)",
    )
    code_changes_source: str = Field(default="lookup_la_code_changes_2018_2025", description="Source id of the LA code-change table")
    district_lookup_source: str = Field(default="lookup_ltla14", description="Source id of the base-year district -> county lookup")
    boundary_source: str = Field(default="boundaries_ctyua_dec2021_buc", description="Source id of the counties-and-UAs boundaries")
    boundary_vintage: str = Field(default="2021-12", pattern=r"^\d{4}-\d{2}$", description="Vintage the boundary source must serve")
    implausible_change_pct: float = Field(default=300.0, gt=0, description="Increases above this (%) are flagged as implausible")
    class_breaks: list[float] = Field(
        default=[-50.0, -25.0, 0.0],
        description="Upper bounds (%) of the fall classes; values above the last bound are increases. Fixed, so years compare",
    )
    run_label: str = Field(default="", description="Shown on the figure to tell runs apart, e.g. 'Budget basis (RA)'")

    @model_validator(mode="after")
    def _consistent(self):
        if financial_year_start(self.target_year) <= financial_year_start(self.base_year):
            raise ValueError(f"target_year ({self.target_year}) must be after base_year ({self.base_year})")
        if sorted(set(self.class_breaks)) != list(self.class_breaks) or self.class_breaks[-1] > 0:
            raise ValueError(
                f"class_breaks {self.class_breaks} must be strictly increasing and end at or below 0 (the last class is increases)"
            )
        self._check_sources()
        return self

    def _check_sources(self) -> None:
        # A budget file in an outturn run (or the wrong year) would silently change the meaning of every number.
        from nao_analysis.errors import SourceError
        from nao_analysis.sources.registry import load_registry

        registry = load_registry()
        try:
            for source_id, year in ((self.base_source, self.base_year), (self.target_source, self.target_year)):
                serves = registry.get(source_id).serves or {}
                if serves.get("basis") and serves["basis"] != self.basis:
                    raise ValueError(
                        f"{source_id!r} is a {serves['basis']} file, but basis is {self.basis!r} - "
                        f"choose a {self.basis} source or change basis"
                    )
                if serves.get("year") and serves["year"] != year:
                    raise ValueError(f"{source_id!r} holds {serves['year']}, not {year} - choose the source of that year")
        except SourceError as exc:
            raise ValueError(str(exc)) from None
        check_boundary_vintage(self.boundary_source, self.boundary_vintage)
