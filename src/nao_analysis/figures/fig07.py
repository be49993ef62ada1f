"""Figure 7: total funding allocated to disrupting illegal drugs supply.

Sources: the table transcribed from the report (``data/manual/funding_fig07_disrupting_supply.csv``) and
its printed notes (``data/manual/funding_notes.yaml``). Analysis: ``analysis.funding`` (row and column
totals, tidy form, department totals), shared with Figures 8 and 9 through ``figures._allocations``.
"""

from __future__ import annotations

from pydantic import Field

from nao_analysis.figures._shared import join_words, money, reconciliation
from nao_analysis.figures.recipe import FigureContext, FigureParams, FigureResult, FigureSpec, fill


class Params(FigureParams):
    table: str = Field(default="funding_fig07_disrupting_supply.csv", description="Transcribed table in data/manual/")
    workstream: str = "Disrupting supply"
    sum_tolerance_m: float = Field(
        default=0.5, ge=0, description="GBP million a recomputed sum may differ from a printed total (totals printed to the nearest GBP 1m)"
    )


FIGURE = FigureSpec("fig07", "funding_disrupting_supply", "Total funding allocated to disrupting illegal drugs supply", Params)

TEXT = {
    "title": "Total funding allocated to disrupting illegal drugs supply, {first_year} to {last_year}",
    "subtitle": "The {department_list} allocated {total_text} to disrupt the supply of illegal drugs",
    "source": "National Audit Office analysis of departmental data",
    "closing": (
        "Every row of the table sums to its printed total, and the columns give {year_totals} ({grand_total} in all). "
        "By lead department: {department_totals}."
    ),
    "strategy": (
        "Figure 7 shows total allocations, most of them existing departmental budgets; only part is new strategy funding "
        "(see Figure 9's reconciliation of the strategy total)."
    ),
}
ASSUMPTIONS = ["Amounts are transcribed from the report's table (GBP million, cash); a printed '-' is read as nil."]
CAVEATS = ["Allocations, not spending: departments may vary them through budgeting decisions (note 1 or 2)."]


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.figures import _allocations as alloc

    p: Params = ctx.params
    # load
    table = alloc.read_table(ctx, p.table)
    notes = alloc.transcribed_notes(ctx, p.table)
    # process
    allocations = alloc.analyse(ctx, table, name=p.table, workstream=p.workstream, tolerance=p.sum_tolerance_m)
    departments = allocations.departments
    values = ctx.values(
        **allocations.values(),
        department_list=join_words(departments.index),
        department_totals="; ".join(f"{d} {money(v)}" for d, v in departments.items()),
    )
    title, subtitle, source = (fill(TEXT[k], values) for k in ("title", "subtitle", "source"))
    notes.append(alloc.tolerance_note(p.sum_tolerance_m))
    # chart
    chart = alloc.table_chart(allocations, title=title, subtitle=subtitle, notes=notes, source=source, workstream=p.workstream)
    # reconcile
    recon = reconciliation(ctx)
    alloc.reconcile_columns(recon, allocations)
    recon.check("home_office_total", departments.get("Home Office"))
    recon.check("moj_total", departments.get("Ministry of Justice"))
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[chart],
        data={None: allocations.long},
        tables={"Allocations": alloc.printed_table(allocations), "Totals checked": alloc.check_table(allocations)},
        html_tables={None: alloc.table_html(allocations, number=7, title=title, notes=notes, source=source)},
        text={"closing": fill(TEXT["closing"], values), "strategy": fill(TEXT["strategy"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
