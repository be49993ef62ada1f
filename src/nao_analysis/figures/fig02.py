"""Figure 2: deaths in England attributed to drug misuse, by registration year.

Sources: an ONS drug-poisoning reference table (Table 1), read by ``readers.ons_deaths``; optionally an
older edition of the same table for the revision check. Analysis: ``analysis.trends.deaths_series``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nao_analysis.figures._shared import reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill


class Params(FigureParams):
    source: str = Field(description="Source id of the ONS drug-poisoning reference table (or an extract of its Table 1)")
    start_year: int = Field(ge=1993, description="First registration year shown")
    end_year: int = Field(ge=1993, description="Last registration year shown")
    country: Literal["England", "Wales", "England and Wales"] = "England"
    measure: Literal["drug_misuse", "all_drug_poisoning"] = "drug_misuse"
    revision_check_source: str | None = Field(
        default=None, description="An older edition of the same table, to show how the published series was revised"
    )

    @model_validator(mode="after")
    def _years_in_order(self):
        if self.end_year <= self.start_year:
            raise ValueError(f"end_year ({self.end_year}) must be after start_year ({self.start_year})")
        return self

    def registry_problems(self, registry) -> list[str]:
        problems = []
        for source_id in filter(None, (self.source, self.revision_check_source)):
            if source_id not in registry.ids():
                problems.append(f"source {source_id!r} is not in the registry")
        return problems


FIGURE = FigureSpec("fig02", "drug_misuse_deaths", "Deaths in England attributed to drug misuse", Params)

MEASURE_NAMES = {"drug_misuse": "drug misuse", "all_drug_poisoning": "drug poisoning"}

TEXT = {
    "title": "Deaths in {country} attributed to {measure_name}, {start_year} to {end_year}",
    "subtitle": (
        "Deaths from {measure_name} {direction} from {first_deaths:,} in {start_year} to {last_deaths:,} in {end_year} ({change_text})"
    ),
    "alt": (
        "Line chart: deaths from {measure_name} in {country} {direction} from {first_deaths:,} in {start_year} "
        "to {last_deaths:,} in {end_year} ({change_text})."
    ),
    "source": (
        "National Audit Office analysis of Office for National Statistics data "
        "(deaths related to drug poisoning, England and Wales, Table 1): {source_title}"
    ),
    "closing": (
        "Between {start_year} and {end_year}, registered deaths from {measure_name} in {country} {direction} "
        "from {first_deaths:,} to {last_deaths:,}, a change of {change_text}."
    ),
    "revision_same": "Revision check against {older_title}: no year in common differs.",
    "revision_differs": "Revision check against {older_title}: {count} of the years in common differ: {years}.",
}
NOTES = [
    "Deaths are by year of registration, not year of occurrence; inquests can delay registration by months or years.",
    "Drug misuse deaths follow the ONS definition: drug poisoning involving a drug controlled under the Misuse of Drugs Act 1971, "
    "or with an underlying cause of drug abuse or dependence.",
]
ASSUMPTIONS = ["{country} residents only; persons (males and females combined)."]
CAVEATS = ["Each annual ONS edition may revise earlier years; the revision check compares two editions."]


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.analysis.trends import deaths_series, percent_change
    from nao_analysis.charts import add_source_line, new_chart
    from nao_analysis.readers.ons_deaths import read_drug_deaths

    p: Params = ctx.params
    # load
    deaths = read_drug_deaths(ctx.fetch(p.source), ctx.source_format(p.source), settings=ctx.settings)
    # process
    series = deaths_series(deaths, measure=p.measure, country=p.country, start_year=p.start_year, end_year=p.end_year)
    first, last = series.iloc[0], series.iloc[-1]
    change = percent_change(first.deaths, last.deaths)
    values = ctx.values(
        measure_name=MEASURE_NAMES[p.measure],
        first_deaths=int(first.deaths),
        last_deaths=int(last.deaths),
        change_text=f"{change:+.0f}%",
        direction="rose" if change > 0 else "fell" if change < 0 else "were unchanged",
        source_title=ctx.source_title(p.source),
    )
    notes = list(NOTES)
    revisions_table = None
    if p.revision_check_source:
        older = read_drug_deaths(ctx.fetch(p.revision_check_source), ctx.source_format(p.revision_check_source), settings=ctx.settings)
        shared_end = min(p.end_year, int(older.year.max()))
        if shared_end > p.start_year:
            overlap = deaths_series(older, measure=p.measure, country=p.country, start_year=p.start_year, end_year=shared_end)
            revisions_table = overlap.merge(series, on="year", suffixes=("_older_edition", "_this_edition"))
            changed = revisions_table[revisions_table.deaths_older_edition != revisions_table.deaths_this_edition]
            older_title = ctx.source_title(p.revision_check_source)
            if changed.empty:
                notes.append(fill(TEXT["revision_same"], {"older_title": older_title}))
            else:
                years = ", ".join(f"{r.year} ({r.deaths_older_edition:,} -> {r.deaths_this_edition:,})" for r in changed.itertuples())
                notes.append(fill(TEXT["revision_differs"], {"older_title": older_title, "count": len(changed), "years": years}))

    # chart
    title, subtitle = fill(TEXT["title"], values), fill(TEXT["subtitle"], values)
    source = fill(TEXT["source"], values)
    chart, ax = new_chart(title, subtitle)
    ax.plot(series["year"], series["deaths"], marker="o", linewidth=2)
    for _, row in series.iterrows():
        ax.annotate(f"{row.deaths:,}", (row.year, row.deaths), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_ylabel("Number of deaths")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    ax.set_ylim(0, series["deaths"].max() * 1.15)
    ax.set_xticks(series["year"])
    add_source_line(chart, source)

    # reconcile
    recon = reconciliation(ctx)
    by_year = dict(zip(series.year, series.deaths, strict=True))
    recon.check(
        "deaths_2021",
        by_year.get(2021),
        not_applicable=None if 2021 in by_year else f"2021 is outside this run's years ({p.start_year} to {p.end_year})",
    )
    recon.check("deaths_change_2011_2021_pct", change)

    tables = {"Deaths by registration year": series[["year", "deaths"]].rename(columns={"year": "Registration year", "deaths": "Deaths"})}
    if revisions_table is not None:
        tables["Revision check"] = revisions_table[["year", "deaths_older_edition", "deaths_this_edition"]].rename(
            columns={"year": "Registration year", "deaths_older_edition": "Older edition", "deaths_this_edition": "This edition"}
        )
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, fill(TEXT["alt"], values))],
        data={None: series},
        tables=tables,
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=[fill(a, values) for a in ASSUMPTIONS],
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
