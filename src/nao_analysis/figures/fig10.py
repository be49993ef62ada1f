"""Figure 10: challenges to successful local delivery of the 2021 drugs strategy (a table).

Source: the table transcribed from the report (``data/manual/fig10_challenges.yaml``). Analysis:
``analysis.recommendations`` (tidy form, display table, counts per challenge). The report prints no
numbers in this figure, so there is nothing to reconcile.
"""

from __future__ import annotations

from pydantic import Field

from nao_analysis.figures._shared import model_schema, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill


class Params(FigureParams):
    challenges_file: str = Field(
        default="fig10_challenges.yaml", pattern=r"^[\w.-]+\.ya?ml$", description="Figure 10 transcribed in data/manual/"
    )


FIGURE = FigureSpec("fig10", "local_delivery_challenges", "Challenges to successful local delivery of the 2021 drugs strategy", Params)

TEXT = {
    "alt": "Table of {challenge_count} challenges to local delivery with their key issues and potential impacts: {described}.",
    "caption": "Figure 10: {title}",
    "closing": (
        "The table sets out {challenge_count} challenges, {issue_count} key issues and {impact_count} potential impacts. "
        "{most_impacts} has the most potential impacts ({most_impacts_count})."
    ),
}
ASSUMPTIONS = ["Transcribed from the report text; a continuation line belongs to the challenge and key issue above it."]
CAVEATS = ["Qualitative evidence from local bodies: the report publishes no numbers for this figure, so there is nothing to reconcile."]


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.analysis.recommendations import ChallengesFile, challenge_summary, challenges_display_table, challenges_tidy
    from nao_analysis.tables import table_html, table_image

    p: Params = ctx.params
    # load
    challenges = ctx.read_manual(
        p.challenges_file,
        model_schema(ChallengesFile, p.challenges_file, "every challenge needs a name and key issues, each with at least one impact"),
    )
    # process
    tidy = challenges_tidy(challenges)
    shown = challenges_display_table(tidy)
    summary = challenge_summary(tidy)
    most = summary.sort_values("potential_impacts", ascending=False, kind="stable").iloc[0]
    values = ctx.values(
        title=challenges.title,
        challenge_count=len(summary),
        issue_count=int(summary.key_issues.sum()),
        impact_count=int(summary.potential_impacts.sum()),
        most_impacts=most.challenge,
        most_impacts_count=int(most.potential_impacts),
        described="; ".join(
            f"{r.challenge} (key issues: {r.key_issues}; potential impacts: {r.potential_impacts})" for r in summary.itertuples()
        ),
    )
    title, subtitle, source = challenges.title, challenges.subtitle, challenges.source
    notes: list[str] = []
    # chart
    image = table_image(
        shown,
        title,
        subtitle,
        notes,
        source,
        column_widths=[1.4, 2.8, 3.2],
        merge_repeats=["Challenge", "Key issues"],
        width_inches=11,
    )
    # reconcile: nothing published to compare; the run still records an (empty) reconciliation
    recon = reconciliation(ctx)
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart.of_table(image, fill(TEXT["alt"], values))],
        data={None: tidy.assign(unit="statement"), "summary": summary.assign(unit="count")},
        tables={
            "Challenges": shown,
            "Key issues and impacts per challenge": summary[["challenge", "key_issues", "potential_impacts"]].rename(
                columns={"challenge": "Challenge", "key_issues": "Key issues", "potential_impacts": "Potential impacts"}
            ),
        },
        html_tables={None: table_html(shown, caption=fill(TEXT["caption"], values), notes=notes, source=source)},
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
