"""Figure 4: adults in treatment for drug misuse in England, opiate vs non-opiate."""

from __future__ import annotations

from pydantic import Field, model_validator

from nao_analysis.params import FigureParams, FinancialYear, financial_year_start, register_figure


@register_figure("fig04", slug="adults_in_drug_treatment", title="Adults in treatment for drug misuse in England")
class Fig04Params(FigureParams):
    source: str = Field(description="Source id of the NDTMS ViewIt adult export for England")
    start_year: FinancialYear
    end_year: FinancialYear
    drug_groups: list[str] = Field(
        default=["opiates", "non-opiates only", "alcohol & non-opiates"],
        description="NDTMS drug groups that make up drug treatment (alcohol-only clients are excluded)",
    )
    opiate_groups: list[str] = Field(default=["opiates"], description="Groups shown as 'opiate'")

    @model_validator(mode="after")
    def _years_in_order(self):
        if financial_year_start(self.end_year) <= financial_year_start(self.start_year):
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        if not set(self.opiate_groups) <= set(self.drug_groups):
            raise ValueError("opiate_groups must be a subset of drug_groups")
        return self
