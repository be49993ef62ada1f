"""Appendix Two: the NAO's assessment of the strategy's response to Dame Carol Black's recommendations.

Source: the appendix transcribed from the report (``data/manual/appendix2_recommendations.csv``). Analysis:
``analysis.recommendations`` (validation, counts by theme and assessment, the not-accepted count).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from pydantic import Field

from nao_analysis.errors import NaoError
from nao_analysis.figures._shared import join_words, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill

if TYPE_CHECKING:
    import pandas as pd


class Params(FigureParams):
    recommendations_file: str = Field(
        default="appendix2_recommendations.csv", pattern=r"^[\w.-]+\.csv$", description="Appendix Two transcribed in data/manual/"
    )


FIGURE = FigureSpec("app2", "carol_black_recommendations", "Dame Carol Black report: the NAO's assessment of the strategy response", Params)

#: Position in the house categorical palette (``charts.PALETTE``) of each assessment's colour.
ASSESSMENT_PALETTE_INDEX = {"Implemented": 1, "Partial implementation": 0, "Work in progress": 3, "Not yet implemented": 2}
#: Assessments whose bar is light enough to need dark figures on it.
DARK_TEXT_ON = {"Work in progress"}

TEXT = {
    "title": "Dame Carol Black report: the NAO's assessment of the strategy response to her recommendations",
    "subtitle": "Most recommendations are {most_common_lower}; {not_yet_phrase}",
    "not_yet_one": "one, on {not_yet_themes}, is not yet implemented",
    "not_yet_many": "{not_yet} are not yet implemented ({not_yet_themes})",
    "not_yet_none": "none is assessed as not yet implemented",
    "source": (
        "National Audit Office assessment of the government's response to Dame Carol Black, Review of drugs part two (July 2021); "
        "NAO HC 1864, Appendix Two"
    ),
    "assessments_note": "Assessments are the NAO's, as printed in Appendix Two; the categories are {categories}.",
    "not_accepted_note": "The government did not accept {not_accepted_text} ({not_accepted_where}).",
    "table_alt": (
        "Table of {rows} recommendations from Dame Carol Black's review in {theme_count} themes, "
        "each with the NAO's assessment and evidence: {by_assessment}."
    ),
    "chart_alt": "Stacked bar chart of the NAO's assessments by theme: {per_theme}.",
    "caption": "Appendix Two: {title}",
    "closing": (
        "Of the appendix's {rows} recommendations, the NAO judged {by_assessment}. The transcription records "
        "{not_accepted_text} not accepted by the government; the reconciliation checks that against the report's text."
    ),
}
ASSUMPTIONS = [
    "One row per recommendation heading in Appendix Two; the last row, Research into substance misuse, "
    "is taken as its own theme (see its transcription note)."
]
CAVEATS = ["Counts are of the appendix's rows, some of which group several of Dame Carol's individual recommendations."]


def _validate(name: str):
    from nao_analysis.analysis.recommendations import RECOMMENDATION_COLUMNS, validate_recommendations

    def schema(frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in RECOMMENDATION_COLUMNS if c not in frame.columns]
        if missing:
            raise NaoError(
                f"data/manual/{name}: missing column(s) {', '.join(missing)} - the header must be: {','.join(RECOMMENDATION_COLUMNS)}"
            )
        return validate_recommendations(frame)

    return schema


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.analysis.recommendations import (
        ASSESSMENTS,
        assessment_counts,
        assessment_totals,
        count_not_accepted,
        recommendations_display_table,
        themes_in_order,
    )
    from nao_analysis.charts import PALETTE, add_source_line, new_chart
    from nao_analysis.charts import TEXT as INK
    from nao_analysis.tables import table_html, table_image

    p: Params = ctx.params
    # load
    recommendations = ctx.read_manual(p.recommendations_file, _validate(p.recommendations_file))
    # process
    counts = assessment_counts(recommendations)
    totals = assessment_totals(recommendations)
    themes = themes_in_order(recommendations)
    grid = counts.pivot(index="theme", columns="assessment", values="recommendations").loc[themes, list(ASSESSMENTS)]
    shown = recommendations_display_table(recommendations)
    not_accepted = count_not_accepted(recommendations)
    not_yet_rows = recommendations[recommendations.assessment == "Not yet implemented"]
    not_accepted_rows = recommendations[recommendations.recommendations_not_accepted.astype(int) > 0]
    values = ctx.values(
        rows=len(shown),
        theme_count=shown.Theme.nunique(),
        categories=join_words(ASSESSMENTS),
        most_common_lower=str(totals.idxmax()).lower(),
        not_yet=len(not_yet_rows),
        not_yet_themes=join_words([t.lower() for t in dict.fromkeys(not_yet_rows.recommendation)]),
        not_accepted=not_accepted,
        not_accepted_text=_count(not_accepted, "recommendation", "recommendations"),
        not_accepted_where=join_words([f"{r.recommendation}, under {r.theme}" for r in not_accepted_rows.itertuples()]),
        by_assessment=join_words([f"{n} {a.lower()}" for a, n in totals.items()]),
        per_theme="; ".join(
            f"{t}: " + ", ".join(f"{int(grid.loc[t, a])} {a.lower()}" for a in ASSESSMENTS if grid.loc[t, a]) for t in themes
        ),
    )
    not_yet_key = "not_yet_none" if not values["not_yet"] else "not_yet_one" if values["not_yet"] == 1 else "not_yet_many"
    values["not_yet_phrase"] = fill(TEXT[not_yet_key], values)
    title, subtitle, source = fill(TEXT["title"], values), fill(TEXT["subtitle"], values), fill(TEXT["source"], values)
    notes = [fill(TEXT["assessments_note"], values)]
    if not_accepted:
        notes.append(fill(TEXT["not_accepted_note"], values))

    # chart: the table as printed, then the assessments by theme
    table_picture = table_image(
        shown,
        title,
        subtitle,
        notes,
        source,
        column_widths=[1.3, 1.6, 2.2, 1.0, 4.4],
        merge_repeats=["Theme"],
        width_inches=14,
        font_size=7.5,
    )
    chart, ax = new_chart(title, subtitle, figsize=(9.5, 4.8))
    rows = list(range(len(themes)))[::-1]  # first theme at the top, as in the appendix
    left = [0] * len(themes)
    for assessment in ASSESSMENTS:
        colour = PALETTE[ASSESSMENT_PALETTE_INDEX[assessment]]
        counts_here = grid[assessment].tolist()
        ax.barh(rows, counts_here, left=left, color=colour, label=assessment, edgecolor="white")
        ink = INK if assessment in DARK_TEXT_ON else "white"
        for y, x0, v in zip(rows, left, counts_here, strict=True):
            if v:
                ax.text(x0 + v / 2, y, str(v), ha="center", va="center", color=ink, fontsize=9, fontweight="bold")
        left = [a + b for a, b in zip(left, counts_here, strict=True)]
    ax.set_yticks(rows, ["\n".join(textwrap.wrap(t, 28)) for t in themes])
    ax.set_xlabel("Number of recommendations in Appendix Two")
    ax.grid(axis="x", color="#e0e0e0")
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.4, -0.15), fontsize=8.5)
    chart.subplots_adjust(left=0.27, bottom=0.27)
    add_source_line(chart, source)

    # reconcile
    recon = reconciliation(ctx)
    recon.check("recommendations_not_accepted", not_accepted)
    by_theme = grid.reset_index().rename(columns={"theme": "Theme"})
    by_theme["Total"] = by_theme[list(ASSESSMENTS)].sum(axis=1)
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[
            Chart.of_table(table_picture, fill(TEXT["table_alt"], values), name="table"),
            Chart(chart, fill(TEXT["chart_alt"], values)),
        ],
        data={None: counts, "recommendations": recommendations.assign(unit="recommendation")},
        tables={"Assessments by theme": by_theme, "Recommendations": shown},
        html_tables={
            None: table_html(shown, caption=fill(TEXT["caption"], {"title": title}), notes=notes, source=source, row_header_column=1)
        },
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
