"""Figure 2: deaths in England attributed to drug misuse, by registration year."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig02", slug="drug_misuse_deaths", title="Deaths in England attributed to drug misuse")
class Fig02Params(FigureParams):
    source: str = Field(description="Source id of the ONS drug-poisoning reference table (or an extract of its Table 1)")
    start_year: int = Field(ge=1993, description="First registration year shown")
    end_year: int = Field(ge=1993, description="Last registration year shown")
    country: Literal["England", "Wales", "England and Wales"] = "England"
    measure: Literal["drug_misuse", "all_drug_poisoning"] = "drug_misuse"
    revision_check_source: str | None = Field(
        default=None, description="An older edition of the same table, to show how the published series was revised"
    )

    @model_validator(mode="after")
    def _years_in_order(self):
        if self.end_year <= self.start_year:
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        return self
