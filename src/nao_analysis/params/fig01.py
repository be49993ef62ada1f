"""Figure 1: prevalence of drug use in England and Wales (CSEW), 2010-11 to 2021-22."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from nao_analysis.params import FigureParams, register_figure

SURVEY_YEAR = re.compile(r"^\d{4}/\d{2}$")


@register_figure("fig01", slug="drug_use_prevalence", title="Prevalence of drug use in England and Wales")
class Fig01Params(FigureParams):
    sources: list[str] = Field(
        min_length=1,
        description="Source ids of CSEW table editions (workbooks or tidy extracts), any order; the newest wins where they overlap",
    )
    quoted_points: str = Field(
        default="csew_quoted_points.csv", description="File in data/manual/ with values quoted in the reference documents"
    )
    age_group: Literal["16-59", "16-24"] = Field(default="16-59", description="Figure 1 note 1: data represent 16-59-year-olds")
    measure: Literal["ever", "last_year", "last_month"] = "last_year"
    first_survey_year: str = Field(default="2010/11", description="First survey year shown (CSEW years run April to March)")
    headline_drugs: list[str] = Field(
        default=["Any drug", "Any Class A drug", "Cannabis", "Any cocaine"],
        min_length=1,
        description="Table drug types in the main panel, as the tables name them",
    )
    other_drugs: list[str] = Field(
        default=[
            "Ecstasy",
            "Powder cocaine",
            "Crack cocaine",
            "Hallucinogens",
            "Opiates",
            "Any amphetamine",
            "Ketamine",
            "Tranquillisers",
            "Anabolic steroids",
        ],
        description="Table drug types in the second panel (Figure 1 continued)",
    )
    gap_start: dt.date = Field(default=dt.date(2020, 3, 31), description="Last day before interviews stopped (Figure 1 note 2)")
    gap_end: dt.date = Field(default=dt.date(2021, 10, 1), description="First day interviews resumed (Figure 1 note 2)")

    @field_validator("first_survey_year")
    @classmethod
    def _survey_year(cls, value: str) -> str:
        if not SURVEY_YEAR.match(value):
            raise ValueError(f"first_survey_year {value!r} must be a CSEW survey year like 2010/11")
        return value

    @model_validator(mode="after")
    def _gap_in_order(self):
        if self.gap_end <= self.gap_start:
            raise ValueError(f"gap_end ({self.gap_end}) must be after gap_start ({self.gap_start})")
        overlap = set(self.headline_drugs) & set(self.other_drugs)
        if overlap:
            raise ValueError(f"drugs {sorted(overlap)} are in both headline_drugs and other_drugs; list each once")
        return self
