"""Figure 10: challenges to successful local delivery of the 2021 drugs strategy (a table)."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig10", slug="local_delivery_challenges", title="Challenges to successful local delivery of the 2021 drugs strategy")
class Fig10Params(FigureParams):
    challenges_file: str = Field(
        default="fig10_challenges.yaml", pattern=r"^[\w.-]+\.ya?ml$", description="Figure 10 transcribed in data/manual/"
    )
