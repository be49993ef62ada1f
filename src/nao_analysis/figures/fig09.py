"""Figure 9: departmental allocations of strategy funding to demand reduction, the strategy funding total,
and an additional chart (not in the report) of strategy funding by workstream and lead department.

Sources: the three allocation tables transcribed from the report (``data/manual/funding_fig0{7,8,9}_*.csv``)
and their printed notes (``data/manual/funding_notes.yaml``). Analysis: ``analysis.funding`` (totals,
department totals, ``strategy_total_reconciliation``, ``shares_by_department``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from nao_analysis.figures._shared import join_words, money, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill

if TYPE_CHECKING:
    import pandas as pd


class Params(FigureParams):
    table: str = Field(default="funding_fig09_demand_reduction.csv", description="Transcribed table in data/manual/")
    workstream: str = "Demand reduction"
    supply_table: str = Field(
        default="funding_fig07_disrupting_supply.csv", description="Figure 7 table, for the workstream chart and the GBP 903m check"
    )
    treatment_table: str = Field(
        default="funding_fig08_treatment_recovery.csv", description="Figure 8 table, for the workstream chart and the GBP 903m check"
    )
    home_office_additional_supply_m: float = Field(
        default=84.0,
        ge=0,
        description="Home Office strategy (additional) funding in its GBP 277m supply allocation (paragraph 2.8; no breakdown)",
    )
    sum_tolerance_m: float = Field(
        default=0.5,
        ge=0,
        description="GBP million a recomputed sum may differ from a printed total (Figure 9 note 1: numbers may not sum due to rounding)",
    )


FIGURE = FigureSpec("fig09", "funding_demand_reduction", "Departmental allocations of strategy funding to demand reduction", Params)

#: Colours of the additional chart, kept here until the shared chart helpers offer a categorical palette:
#: one colour for the workstream bars, and a different colour per lead department that never reuses it.
WORKSTREAM_COLOUR = "#12436D"
DEPARTMENT_COLOURS = ["#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1", "#117733", "#88CCEE", "#DDCC77"]
DARK_TEXT_ON = {"#F46A25", "#A285D1", "#88CCEE", "#DDCC77"}

TREATMENT = "Treatment and recovery"
SUPPLY = "Disrupting supply (strategy funding)"

TEXT = {
    "title": "Departmental allocations of strategy funding to demand reduction activities, {first_year} to {last_year}",
    "subtitle_majority": (
        "More than half of funding for {workstream_lower} has been allocated to one activity: {top_activity} ({top_share:.0%})"
    ),
    "subtitle_largest": "The largest share of funding for {workstream_lower} has been allocated to {top_activity} ({top_share:.0%})",
    "source": "National Audit Office analysis of departmental data",
    "supply_note": (
        "Home Office additional funding {home_office_additional} (quoted, paragraph 2.8) + "
        "{supply_department} {supply_department_amount} (Figure 7)"
    ),
    "strategy_note": (
        "Figure 7's {supply_all} is total allocations; only {supply_strategy} of it is strategy funding; "
        "the demand rows sum to {demand_total}"
    ),
    "extra_title": "Not in the report: strategy funding by workstream, {first_year} to {last_year}",
    "extra_subtitle": (
        "An additional chart drawn from Figures 7, 8 and 9: {largest_workstream} receives most of the {strategy_total} "
        "of strategy funding, and each workstream is led by one department"
    ),
    "extra_caption": (
        "Additional chart, not in the report: strategy funding by workstream and lead department, {first_year} to {last_year}, "
        "drawn from Figures 7, 8 and 9."
    ),
    "extra_notes": (
        "Disrupting supply is shown at its strategy funding ({supply_strategy}: the Home Office's additional {home_office_additional}, "
        "which it could not break down by activity or year, and the {supply_department}'s {supply_department_amount}). "
        "Figure 7's other {supply_existing} of allocations are existing budgets and are not shown. "
        "Demand reduction rows sum to {demand_total} (printed {demand_printed})."
    ),
    "extra_alt": (
        "Additional chart, not in the report. Horizontal bars of strategy funding over {first_year} to {last_year} by workstream: "
        "{workstream_amounts}; {strategy_total} in all. Beside them, each workstream's split by lead department: {department_shares}."
    ),
    "closing": (
        "The rows of Figure 9 sum to {year_totals_exact} ({demand_total} in all), which the report prints as {year_totals} and "
        "{demand_printed}: within its own warning that numbers may not sum due to rounding. The strategy funding total is "
        "{treatment_total} (Figure 8) + {supply_strategy} + {demand_total} = {strategy_total}."
    ),
    "supply_explained": (
        "The {supply_strategy} for disrupting supply is not Figure 7's {supply_all}: Figure 7 shows total allocations, most of them "
        "existing Home Office budgets; the strategy money in it is the Home Office's additional {home_office_additional}, which it "
        "could not break down by activity, plus the {supply_department}'s {supply_department_amount} (paragraph 2.8)."
    ),
}
ASSUMPTIONS = ["Amounts are transcribed from the report's table (GBP million, cash); a printed '-' is read as nil."]
CAVEATS = ["Allocations, not spending: departments may vary them through budgeting decisions (note 1 or 2)."]


def strategy_funding_by_department(
    treatment: pd.DataFrame,
    demand_long: pd.DataFrame,
    supply_table: pd.DataFrame,
    *,
    home_office_additional_m: float,
    supply_department: str,
) -> pd.DataFrame:
    """Strategy funding of each workstream by lead department: Figures 8 and 9 in full; for supply, the Home
    Office's additional funding and the supply department's own rows (the rest of Figure 7 is existing budgets)."""
    import pandas as pd

    from nao_analysis.analysis.funding import shares_by_department, to_long

    supply_rows = to_long(supply_table, workstream=SUPPLY)
    supply_rows = supply_rows[supply_rows.department == supply_department]
    supply = pd.concat(
        [
            pd.DataFrame({"workstream": [SUPPLY], "department": ["Home Office"], "amount": [float(home_office_additional_m)]}),
            supply_rows[["workstream", "department", "amount"]],
        ],
        ignore_index=True,
    )
    parts = [
        to_long(treatment, workstream=TREATMENT)[["workstream", "department", "amount"]],
        supply,
        demand_long[["workstream", "department", "amount"]],
    ]
    return shares_by_department(pd.concat(parts, ignore_index=True))


def _workstream_chart(shares: pd.DataFrame, order: list[str], values: dict, title: str, subtitle: str, source: str):
    import matplotlib.pyplot as plt

    from nao_analysis.charts import TEXT as INK
    from nao_analysis.charts import add_source_line

    totals = shares.groupby("workstream")["amount"].sum().reindex(order)
    chart, (left, right) = plt.subplots(1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [1, 1.3]})
    chart.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold", color=INK)
    chart.text(0.01, 0.93, subtitle, ha="left", va="top", fontsize=9.5, color="#505a5f", wrap=True)
    rows = range(len(order))
    left.barh(list(rows), totals.to_numpy(), color=WORKSTREAM_COLOUR, height=0.55)
    for y, amount in zip(rows, totals, strict=True):
        left.text(amount + totals.max() * 0.02, y, money(round(amount, 2)), va="center", fontsize=8.5, color=INK)
    left.set_yticks(list(rows), [w.replace(" (", "\n(") for w in order], fontsize=8.5)
    left.invert_yaxis()
    left.set_xlim(0, totals.max() * 1.25)
    left.set_xlabel("£ million (cash), all three years")
    left.set_title("Strategy funding by workstream", fontsize=10)
    left.grid(axis="y", visible=False)
    left.grid(axis="x", color="#e0e0e0")
    left.set_axisbelow(True)

    departments = list(dict.fromkeys(shares.sort_values("amount", ascending=False).department))
    if len(departments) > len(DEPARTMENT_COLOURS):
        raise ValueError(f"{len(departments)} departments but only {len(DEPARTMENT_COLOURS)} distinct colours - extend DEPARTMENT_COLOURS")
    colours = dict(zip(departments, DEPARTMENT_COLOURS, strict=False))
    for y, workstream in enumerate(order):
        start = 0.0
        for row in shares[shares.workstream == workstream].itertuples():
            colour = colours[row.department]
            right.barh(y, row.share, left=start, color=colour, height=0.55, label=row.department)
            if row.share >= 0.08:
                ink = INK if colour in DARK_TEXT_ON else "white"
                right.text(start + row.share / 2, y, f"{row.share:.0%}", ha="center", va="center", fontsize=8, color=ink)
            start += row.share
    handles, labels = right.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    right.legend(unique.values(), unique.keys(), fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    right.set_yticks(list(rows), [""] * len(order))
    right.invert_yaxis()
    right.set_xlim(0, 1)
    right.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_title("Share of each workstream's strategy funding by lead department", fontsize=10)
    right.grid(False)
    chart.subplots_adjust(top=0.8, bottom=0.3, wspace=0.12)
    add_source_line(chart, source, notes=fill(TEXT["extra_notes"], values))
    return chart


def run(ctx: FigureContext) -> FigureResult:
    import pandas as pd

    from nao_analysis.analysis.funding import lead_department, strategy_total_reconciliation, to_long
    from nao_analysis.figures import _allocations as alloc

    p: Params = ctx.params
    # load
    table = alloc.read_table(ctx, p.table)
    supply = alloc.read_table(ctx, p.supply_table)
    treatment = alloc.read_table(ctx, p.treatment_table)
    notes = alloc.transcribed_notes(ctx, p.table)
    # process
    allocations = alloc.analyse(ctx, table, name=p.table, workstream=p.workstream, tolerance=p.sum_tolerance_m)
    strategy = strategy_total_reconciliation(treatment, table, supply, home_office_additional_supply_m=p.home_office_additional_supply_m)
    amount = strategy.set_index("component")["amount"]
    supply_department = next(
        d for d in dict.fromkeys(supply.department_body.map(lead_department)) if f"supply_{d.lower().replace(' ', '_')}" in amount
    )
    supply_department_amount = float(amount[f"supply_{supply_department.lower().replace(' ', '_')}"])
    shares = strategy_funding_by_department(
        treatment, allocations.long, supply, home_office_additional_m=p.home_office_additional_supply_m, supply_department=supply_department
    )
    order = [TREATMENT, SUPPLY, p.workstream]
    totals = shares.groupby("workstream")["amount"].sum().reindex(order)
    top = allocations.row_checks.sort_values("recomputed", ascending=False).iloc[0]
    supply_all = float(alloc.column_totals(supply)["Total"])
    values = ctx.values(
        **allocations.values(),
        workstream_lower=p.workstream.lower(),
        top_activity=top.activity,
        top_share=float(top.recomputed / allocations.totals["Total"]),
        year_totals_exact=join_words([money(allocations.totals[y]) for y in alloc.YEARS]),
        demand_total=money(amount["demand_reduction"]),
        demand_printed=allocations.values()["grand_total"],
        treatment_total=money(amount["treatment_and_recovery"]),
        supply_strategy=money(amount["disrupting_supply_strategy"]),
        supply_all=money(supply_all),
        supply_existing=money(supply_all - supply_department_amount - p.home_office_additional_supply_m),
        home_office_additional=money(p.home_office_additional_supply_m),
        supply_department=supply_department,
        supply_department_amount=money(supply_department_amount),
        strategy_total=money(amount["strategy_total"]),
        largest_workstream=totals.idxmax().lower(),
        workstream_amounts="; ".join(f"{w} {money(round(v, 2))}" for w, v in totals.items()),
        department_shares="; ".join(f"{r.workstream} - {r.department} {r.share:.0%}" for r in shares.itertuples()),
    )
    subtitle_key = "subtitle_majority" if values["top_share"] > 0.5 else "subtitle_largest"
    title, subtitle, source = fill(TEXT["title"], values), fill(TEXT[subtitle_key], values), fill(TEXT["source"], values)
    notes.append(alloc.tolerance_note(p.sum_tolerance_m))
    # chart
    table_chart = alloc.table_chart(allocations, title=title, subtitle=subtitle, notes=notes, source=source, workstream=p.workstream)
    extra = _workstream_chart(
        shares,
        order,
        values,
        fill(TEXT["extra_title"], values),
        fill(TEXT["extra_subtitle"], values),
        "National Audit Office analysis of departmental data (Figures 7, 8 and 9)",
    )
    # reconcile
    recon = reconciliation(ctx)
    alloc.reconcile_columns(recon, allocations)
    recon.check("home_office_total", allocations.departments.get("Home Office"))
    recon.check("supply_strategy_105m", amount["disrupting_supply_strategy"], note=fill(TEXT["supply_note"], values))
    recon.check("strategy_total_903m", amount["strategy_total"], note=fill(TEXT["strategy_note"], values))

    workstreams = pd.concat(
        [to_long(treatment, workstream=TREATMENT), to_long(supply, workstream="Disrupting supply (all allocations)"), allocations.long],
        ignore_index=True,
    )
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[table_chart, Chart(extra, fill(TEXT["extra_alt"], values), name="by_workstream")],
        data={
            None: allocations.long,
            "by_workstream": workstreams,
            "department_shares": shares.assign(unit="share of the workstream's strategy funding (0-1); amount in GBP million"),
        },
        tables={
            "Allocations": alloc.printed_table(allocations),
            "Totals checked": alloc.check_table(allocations),
            "Strategy funding": alloc.printed_numbers(
                strategy.rename(columns={"component": "Component", "amount": "£ million", "how": "How"}), ["£ million"]
            ),
            "Strategy funding by lead department": alloc.printed_numbers(
                shares.rename(
                    columns={"workstream": "Workstream", "department": "Lead department", "amount": "£ million", "share": "Share"}
                ),
                ["£ million"],
            ).assign(Share=lambda frame: frame["Share"].map(lambda share: f"{share:.0%}")),
        },
        html_tables={None: alloc.table_html(allocations, number=9, title=title, notes=notes, source=source)},
        text={
            "closing": fill(TEXT["closing"], values),
            "supply_explained": fill(TEXT["supply_explained"], values),
            "extra_caption": fill(TEXT["extra_caption"], values),
        },
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
        extra={"not_in_report": {"by_workstream": fill(TEXT["extra_caption"], values)}},
    )
