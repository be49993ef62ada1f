"""Figure 6: national and local stakeholders involved in implementing the drugs strategy (a layered diagram)."""

from __future__ import annotations

from pydantic import Field

from nao_analysis.params import FigureParams, register_figure


@register_figure("fig06", slug="stakeholders", title="National and local stakeholders involved in implementing the drugs strategy")
class Fig06Params(FigureParams):
    stakeholders_file: str = Field(
        default="fig06_stakeholders.yaml", pattern=r"^[\w.-]+\.ya?ml$", description="Bodies and relationships, transcribed in data/manual/"
    )
    show_inferred: bool = Field(
        default=True, description="Draw the relationships marked 'inferred' (our reading of the text) as well as the stated ones"
    )
