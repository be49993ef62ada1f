"""Figure 8: departmental allocations of strategy funding to substance misuse treatment and recovery.

Sources: the table transcribed from the report (``data/manual/funding_fig08_treatment_recovery.csv``; one
row's lost values are recovered from the column totals and flagged ``inferred``) and its printed notes
(``data/manual/funding_notes.yaml``). Analysis: ``analysis.funding`` through ``figures._allocations``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field

from nao_analysis.figures._shared import join_words, money, reconciliation
from nao_analysis.figures.recipe import FigureContext, FigureParams, FigureResult, FigureSpec, fill

if TYPE_CHECKING:
    from nao_analysis.figures._allocations import Allocations


class Params(FigureParams):
    table: str = Field(default="funding_fig08_treatment_recovery.csv", description="Transcribed table in data/manual/")
    workstream: str = "Treatment and recovery"
    sum_tolerance_m: float = Field(
        default=0.5, ge=0, description="GBP million a recomputed sum may differ from a printed total (totals printed to the nearest GBP 1m)"
    )
    inferred_activity: str = Field(
        default="Programme management and evaluation",
        description="The row whose 2023-24 and 2024-25 values the text extraction lost, recovered from the column totals",
    )


FIGURE = FigureSpec("fig08", "funding_treatment_recovery", "Departmental allocations of strategy funding to treatment and recovery", Params)

TEXT = {
    "title": (
        "Departmental allocations of strategy funding to substance misuse treatment and recovery activities, {first_year} to {last_year}"
    ),
    "subtitle_majority": "The majority of {workstream_lower} funding is provided from the {lead_department}",
    "subtitle_largest": "The largest share of {workstream_lower} funding is provided from the {lead_department}",
    "source": "National Audit Office analysis of departmental data",
    "inferred": (
        "* {inferred_activity}: the {inferred_years} values ({inferred_amounts}) are not legible in the text of the report; "
        "they are recovered from the printed column totals and confirmed by the row's printed total of {inferred_printed}."
    ),
    "inferred_check": "the row's {inferred_years} values are recovered from the column totals; its printed total checks them independently",
    "closing": (
        "With the recovered values, every row sums to its printed total, including the recovered row's own {inferred_printed}, "
        "which checks the inference independently. The columns give {year_totals} ({grand_total} in all); "
        "departments other than the {lead_department} ({other_list}) allocate {others_total}."
    ),
}
ASSUMPTIONS = ["Amounts are transcribed from the report's table (GBP million, cash); a printed '-' is read as nil."]
CAVEATS = ["Allocations, not spending: departments may vary them through budgeting decisions (note 1 or 2)."]


def _inferred_cells(allocations: Allocations, activity: str):
    """The cells of ``activity`` recovered from column totals: the years its ``inferred`` note solves for ("2023-24 = ...")."""
    long = allocations.long[(allocations.long.activity == activity) & allocations.long.inferred]
    how = " ".join(allocations.table.loc[allocations.table.activity == activity, "inferred"].astype(str))
    return long[[re.search(rf"{re.escape(year)}\s*=", how) is not None for year in long.year]]


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.figures import _allocations as alloc

    p: Params = ctx.params
    # load
    table = alloc.read_table(ctx, p.table)
    notes = alloc.transcribed_notes(ctx, p.table)
    # process
    allocations = alloc.analyse(ctx, table, name=p.table, workstream=p.workstream, tolerance=p.sum_tolerance_m)
    departments = allocations.departments
    others = departments.drop(departments.index[0])
    inferred_rows = _inferred_cells(allocations, p.inferred_activity)
    row_checks = allocations.row_checks.set_index("activity")
    inferred_total = float(row_checks.loc[p.inferred_activity, "recomputed"]) if p.inferred_activity in row_checks.index else None
    values = ctx.values(
        **allocations.values(),
        workstream_lower=p.workstream.lower(),
        other_list=join_words(others.index),
        others_total=money(others.sum()),
        inferred_years=join_words(inferred_rows.year),
        inferred_amounts=join_words([money(a) for a in inferred_rows.amount]),
        inferred_printed=money(row_checks.loc[p.inferred_activity, "published"]) if inferred_total is not None else "",
    )
    subtitle_key = "subtitle_majority" if values["lead_share"] > 0.5 else "subtitle_largest"
    title, subtitle, source = fill(TEXT["title"], values), fill(TEXT[subtitle_key], values), fill(TEXT["source"], values)
    if not inferred_rows.empty:
        notes.append(fill(TEXT["inferred"], values))
    notes.append(alloc.tolerance_note(p.sum_tolerance_m))
    # chart
    chart = alloc.table_chart(allocations, title=title, subtitle=subtitle, notes=notes, source=source, workstream=p.workstream)
    # reconcile
    recon = reconciliation(ctx)
    alloc.reconcile_columns(recon, allocations)
    recon.check(
        "inferred_row_total",
        inferred_total,
        note=fill(TEXT["inferred_check"], values),
    )
    recon.check("other_departments_total", float(others.sum()))
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[chart],
        data={None: allocations.long},
        tables={"Allocations": alloc.printed_table(allocations), "Totals checked": alloc.check_table(allocations)},
        html_tables={None: alloc.table_html(allocations, number=8, title=title, notes=notes, source=source)},
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
