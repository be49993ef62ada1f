"""Figure 4: adults in treatment for drug misuse in England, opiate and non-opiate.

Source: the NDTMS ViewIt adult export for England, read by ``readers.ndtms``. Analysis:
``analysis.trends.drug_treatment_series`` and ``treatment_summary``.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from nao_analysis.figures._shared import join_words, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill
from nao_analysis.years import FinancialYear, financial_year_start


class Params(FigureParams):
    source: str = Field(description="Source id of the NDTMS ViewIt adult export for England")
    start_year: FinancialYear
    end_year: FinancialYear
    drug_groups: list[str] = Field(
        default=["opiates", "non-opiates only", "alcohol & non-opiates"],
        description="NDTMS drug groups that make up drug treatment (alcohol-only clients are excluded)",
    )
    opiate_groups: list[str] = Field(default=["opiates"], description="Groups shown as 'opiate'")

    @model_validator(mode="after")
    def _years_in_order(self):
        if financial_year_start(self.end_year) <= financial_year_start(self.start_year):
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        if not set(self.opiate_groups) <= set(self.drug_groups):
            raise ValueError("opiate_groups must be a subset of drug_groups")
        return self

    def registry_problems(self, registry) -> list[str]:
        return [] if self.source in registry.ids() else [f"source {self.source!r} is not in the registry"]


FIGURE = FigureSpec("fig04", "adults_in_drug_treatment", "Adults in treatment for drug misuse in England", Params)

#: Colours of the two stacked series, kept here until the shared chart helpers offer a categorical palette.
OPIATE_COLOUR = "#12436D"
NON_OPIATE_COLOUR = "#28A197"

TEXT = {
    "title": "The number of adults in England in treatment for drugs misuse, {start_year} to {end_year}",
    "subtitle": (
        "Since {start_year}, the number of adults in treatment for drugs misuse has {moved} by {change_abs:.0f}%. "
        "People who use opiates {opiate_phrase}"
    ),
    "source": "National Audit Office analysis of National Drug Treatment Monitoring System data",
    "groups_note": "Drug treatment comprises the NDTMS groups {groups}; alcohol-only clients are excluded.",
    "alt": (
        "Stacked bar chart: adults in drug treatment in England {moved_past} from {total_start:,.0f} in {start_year} "
        "to {total_end:,.0f} in {end_year} ({change_pct:+.0f}%); opiate clients were {opiate_share_end_pct:.0f}% in {end_year}."
    ),
    "closing": (
        "The series {moved_past} from {total_start:,.0f} adults in {start_year} to {total_end:,.0f} in {end_year} "
        "({change_pct:+.1f}%); opiate clients were {opiate_share_end_pct:.0f}% of adults in treatment in {end_year}, "
        "and {opiate_majority_years} of the {year_count} years had an opiate majority."
    ),
    "outside": "{year} is outside this run's years ({start_year} to {end_year})",
}
NOTES = ["The opiates category includes heroin and other derivatives.", "Data exclude adults in treatment in secure settings."]
ASSUMPTIONS = [
    "Totals are the all-sex, all-age England rows of the ViewIt export; each person is counted once per year in their main drug group."
]
CAVEATS = ["NDTMS figures for earlier years can be revised in later exports."]


def run(ctx: FigureContext) -> FigureResult:
    import numpy as np

    from nao_analysis.analysis.trends import drug_treatment_series, treatment_summary
    from nao_analysis.charts import add_source_line, new_chart
    from nao_analysis.readers.ndtms import read_viewit_export

    p: Params = ctx.params
    # load
    ndtms = read_viewit_export(ctx.fetch(p.source), settings=ctx.settings)
    # process
    series = drug_treatment_series(
        ndtms, start_year=p.start_year, end_year=p.end_year, drug_groups=p.drug_groups, opiate_groups=p.opiate_groups
    )
    summary = treatment_summary(series, p.start_year, p.end_year)
    wide = series.pivot(index="period", columns="category", values="in_treatment")[["opiate", "non-opiate"]]
    opiate_majority = int((wide["opiate"] > wide["non-opiate"]).sum())
    change = summary["change_pct"]
    values = ctx.values(
        **summary,
        change_abs=abs(change),
        moved="fallen" if change < 0 else "risen" if change > 0 else "not changed",
        moved_past="fell" if change < 0 else "rose" if change > 0 else "was unchanged",
        opiate_phrase=(
            "make up the majority of these cases"
            if opiate_majority == len(wide)
            else f"were the majority in {opiate_majority} of the {len(wide)} years"
        ),
        opiate_majority_years=opiate_majority,
        year_count=len(wide),
        groups=join_words(p.drug_groups),
    )
    title, subtitle, source = (fill(TEXT[k], values) for k in ("title", "subtitle", "source"))
    notes = [*NOTES, fill(TEXT["groups_note"], values)]

    # chart
    chart, ax = new_chart(title, subtitle, figsize=(8.5, 5))
    x = np.arange(len(wide))
    ax.bar(x, wide["opiate"], label="Opiate", color=OPIATE_COLOUR)
    ax.bar(x, wide["non-opiate"], bottom=wide["opiate"], label="Non-opiate", color=NON_OPIATE_COLOUR)
    for i, total in enumerate(wide.sum(axis=1)):
        ax.annotate(f"{total / 1000:,.0f}k", (i, total), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
    ax.set_xticks(x, wide.index, rotation=45, ha="right")
    ax.set_ylabel("Number of adults in treatment")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
    add_source_line(chart, source)

    # reconcile: a year-specific published number is rebuilt only when this run's years include it
    recon = reconciliation(ctx)
    totals = wide.sum(axis=1)
    shares = wide["opiate"] / totals * 100

    def at(check: str, year: str, frame):
        outside = None if year in frame.index else fill(TEXT["outside"], {**values, "year": year})
        recon.check(check, float(frame[year]) if year in frame.index else None, not_applicable=outside)

    published = ctx.published.parameters
    at("adults_in_treatment_2010_11", published.get("start_year", p.start_year), totals)
    at("adults_in_treatment_2021_22", published.get("end_year", p.end_year), totals)
    recon.check("adults_change_pct", change)
    at("opiate_share_2021_22", published.get("end_year", p.end_year), shares)

    table = wide.reset_index().rename(columns={"period": "Year", "opiate": "Opiate", "non-opiate": "Non-opiate"})
    table["Total"] = table["Opiate"] + table["Non-opiate"]
    table["Opiate share"] = (table["Opiate"] / table["Total"]).map(lambda v: f"{v:.0%}")
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, fill(TEXT["alt"], values))],
        data={None: series},
        tables={"Adults in treatment by year": table},
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
