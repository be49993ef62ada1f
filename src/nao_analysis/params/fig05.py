"""Figure 5: percentage of people using opiates and/or crack cocaine not in treatment, by county and UA."""

from __future__ import annotations

from pydantic import Field, model_validator

from nao_analysis.params import FigureParams, FinancialYear, check_boundary_vintage, register_figure


@register_figure("fig05", slug="treatment_gap_map", title="People using opiates and crack cocaine not in treatment")
class Fig05Params(FigureParams):
    source: str = Field(description="Source id of the Fingertips all_data CSV (an API source, or a sample)")
    year: FinancialYear = Field(description="Financial year mapped, e.g. 2021-22")
    indicator_id: int = Field(default=93517, gt=0, description="Fingertips indicator: 93517 = OCU (15-64) not in treatment (%)")
    area_type_id: int | None = Field(
        default=None,
        description="Fingertips child area type; derived from `year` via data/manual/fingertips_area_types.csv when not given",
    )
    threshold: float = Field(default=48.0, gt=0, lt=100, description="Areas at or above it are counted (para 1.6)")
    class_breaks: list[float] = Field(
        default=[38.0, 48.0, 58.0, 68.0],
        description="Map class breaks (%); fixed, and must include the threshold so the map shows it",
    )
    boundary_source: str = Field(default="boundaries_ctyua_dec2021_buc", description="Source id of the counties-and-UAs boundaries")
    boundary_vintage: str = Field(default="2021-12", pattern=r"^\d{4}-\d{2}$", description="Vintage the boundary source must serve")
    partial_coverage: bool = Field(default=False, description="True when the source is a known partial extract: the figure says so")

    @model_validator(mode="after")
    def _consistent(self):
        if self.threshold not in self.class_breaks:
            raise ValueError(f"threshold {self.threshold:g} must be one of class_breaks {self.class_breaks} so the map shows it")
        if sorted(set(self.class_breaks)) != list(self.class_breaks):
            raise ValueError(f"class_breaks {self.class_breaks} must be strictly increasing")
        if self.area_type_id is None:
            from nao_analysis.errors import SourceError
            from nao_analysis.sources.fingertips import area_type_for_year

            try:
                derived = area_type_for_year(self.year).area_type_id
            except SourceError as exc:
                raise ValueError(str(exc)) from None
            # Assigning through the model would re-run this validator; set the field value directly.
            object.__setattr__(self, "area_type_id", derived)
        check_boundary_vintage(self.boundary_source, self.boundary_vintage)
        return self
