"""Appendix Two: the NAO's assessment of the strategy's response to Dame Carol Black's recommendations."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("app2", slug="carol_black_recommendations", title="Dame Carol Black report: the NAO's assessment of the strategy response")
class App2Params(FigureParams):
    recommendations_file: str = Field(
        default="appendix2_recommendations.csv", pattern=r"^[\w.-]+\.csv$", description="Appendix Two transcribed in data/manual/"
    )
