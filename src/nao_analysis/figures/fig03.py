"""Figure 3: real-terms change in adult substance misuse treatment spending, by county and unitary authority.

Sources: two revenue-account files (RO3 outturn or RA budget; ``readers.revenue_account``), a GDP deflator
(``readers.deflators``), the counties-and-UAs boundaries, the district lookup and the ONS code-change table
(``readers.boundaries``). Manual table: ``data/manual/ro_line_mapping.csv``. Analysis:
``analysis.spending_change.compare_years`` (with ``analysis.geography`` for the crosswalk).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from nao_analysis.figures._shared import reconciliation
from nao_analysis.figures.recipe import (
    Chart,
    FigureContext,
    FigureParams,
    FigureResult,
    FigureSpec,
    MapSpec,
    fill,
    map_areas,
)
from nao_analysis.years import FinancialYear, financial_year_start


class Params(FigureParams):
    base_year: FinancialYear = Field(description="First financial year compared, e.g. 2014-15")
    target_year: FinancialYear = Field(description="Last financial year compared, e.g. 2021-22")
    price_year: FinancialYear = Field(default="2022-23", description="Financial year whose prices real terms are expressed in")
    basis: Literal["outturn", "budget"] = Field(description="Outturn (RO3, what was spent) or budget (RA, what was planned)")
    base_source: str = Field(description="Source id of the revenue account file of base_year")
    target_source: str = Field(description="Source id of the revenue account file of target_year")
    crosswalk_sources: list[str] = Field(
        default=[],
        description="Source ids of revenue account files carrying both E-codes and ONS codes; empty = target_source only",
    )
    line_mapping: str = Field(default="ro_line_mapping.csv", description="File in data/manual/ mapping revenue account lines to components")
    deflator: str = Field(description="Source id of the GDP deflator (HM Treasury xlsx or an ONS series CSV)")
    crosswalk_policy: Literal["aggregate", "nao"] = Field(
        default="aggregate",
        description="aggregate: sum predecessors so like is compared with like; nao: the report's pairing (Bournemouth alone with BCP)",
    )
    code_changes_source: str = Field(default="lookup_la_code_changes_2018_2025", description="Source id of the LA code-change table")
    district_lookup_source: str = Field(default="lookup_ltla14", description="Source id of the base-year district -> county lookup")
    boundary_source: str = Field(default="boundaries_ctyua_dec2021_buc", description="Source id of the counties-and-UAs boundaries")
    boundary_vintage: str = Field(default="2021-12", pattern=r"^\d{4}-\d{2}$", description="Vintage the boundary source must serve")
    implausible_change_pct: float = Field(default=300.0, gt=0, description="Increases above this (%) are flagged as implausible")
    class_breaks: list[float] = Field(
        default=[-50.0, -25.0, 0.0],
        description="Upper bounds (%) of the fall classes; values above the last bound are increases. Fixed, so years compare",
    )

    @model_validator(mode="after")
    def _consistent(self):
        if financial_year_start(self.target_year) <= financial_year_start(self.base_year):
            raise ValueError(f"target_year ({self.target_year}) must be after base_year ({self.base_year})")
        if sorted(set(self.class_breaks)) != list(self.class_breaks) or self.class_breaks[-1] > 0:
            raise ValueError(
                f"class_breaks {self.class_breaks} must be strictly increasing and end at or below 0 (the last class is increases)"
            )
        return self

    def registry_problems(self, registry) -> list[str]:
        # A budget file in an outturn run (or the wrong year) would silently change the meaning of every number.
        problems = []
        known = set(registry.ids())
        named = [self.base_source, self.target_source, self.deflator, self.code_changes_source, self.district_lookup_source]
        for source_id in [*named, self.boundary_source, *self.crosswalk_sources]:
            if source_id not in known:
                problems.append(f"source {source_id!r} is not in the registry")
        if problems:
            return problems
        for source_id, year in ((self.base_source, self.base_year), (self.target_source, self.target_year)):
            serves = registry.get(source_id).serves or {}
            if serves.get("basis") and serves["basis"] != self.basis:
                problems.append(
                    f"{source_id!r} is a {serves['basis']} file, but basis is {self.basis!r} - choose a {self.basis} source or change basis"
                )
            if serves.get("year") and serves["year"] != year:
                problems.append(f"{source_id!r} holds {serves['year']}, not {year} - choose the source of that year")
        served = (registry.get(self.boundary_source).serves or {}).get("boundary_vintage")
        if served != self.boundary_vintage:
            problems.append(
                f"boundary_source {self.boundary_source!r} serves boundary vintage {served!r}, not {self.boundary_vintage!r} "
                "- choose a boundary source of that vintage, or change boundary_vintage"
            )
        return problems


FIGURE = FigureSpec("fig03", "spending_change_map", "Change in real-terms spending on substance misuse treatment", Params)

BASIS_LABEL = {"outturn": "Outturn basis (RO3)", "budget": "Budget basis (RA)"}
BASIS_TEXT = {"outturn": "outturn (RO3: what was spent)", "budget": "budget (RA: what was planned)"}

TEXT = {
    "title": (
        "Percentage change in real-terms spending on substance misuse treatment by English counties and unitary authorities, "
        "{base_year} to {target_year}"
    ),
    "subtitle": (
        "{cut_50_words_cap} of {authorities} counties and unitary authorities reduced their real-terms spending on substance "
        "misuse treatment by 50% or more between {base_year} and {target_year}"
    ),
    "run_label": "{basis_label}{as_published}",
    "note_prices": "Spending figures used to calculate percentage changes have been adjusted to account for inflation, to {price_year} prices, "
    "with {deflator_title}.",
    "note_range": "The percentage changes in substance misuse spending ranged from {min_words} ({min_name}) to {max_words} ({max_name}).",
    "note_flagged": "Left out of that range and flagged as implausible: {flagged}.",
    "note_no_data": "Data were unavailable for {no_data_count_words} ({no_data_names}).",
    "note_no_base": "{no_base_count_words_cap} reported no spending in {base_year}, so no percentage change is shown ({no_base_names}).",
    "note_lines": "Figures comprise net current expenditure on adult substance misuse treatment for drugs and alcohol, from the lines in "
    "data/manual/ro_line_mapping.csv for each year (prevention lines excluded).",
    "note_basis": "Basis: {basis_text}.",
    "note_not_compared": "Not compared under the '{crosswalk_policy}' policy: {not_compared}.",
    "source": "National Audit Office analysis of Department for Levelling Up, Housing and Communities revenue account data. "
    "Office for National Statistics licensed under the Open Government Licence v.3.0. Contains OS data © Crown copyright and database right",
    "england": "Annual spending on adult drug and alcohol treatment {direction} by {england_abs_pct:.0f}% (£{england_abs_gbp_m:,.0f} million) "
    "in real terms between {base_year} and {target_year}.",
    "reduced": "Of the {authorities} counties and unitary authorities in England, {reduced} reduced their real-terms spending on substance "
    "misuse treatment over this period.",
    "cut_50": "{cut_50_words_cap} of these areas saw a fall of 50% or more.",
    "increased": "{increased_words_cap} increased spending, ranging from a {smallest_increase:.0f}% increase to a {max_plausible_increase:.0f}% "
    "increase ({max_plausible_name}).",
    "increased_flagged": "{increased_words_cap} increased spending; leaving out the {flagged_increases} flagged as implausible, increases "
    "ranged from {smallest_increase:.0f}% to {max_plausible_increase:.0f}% ({max_plausible_name}).",
    "alt": "Map of English counties and unitary authorities shaded by the real-terms change in adult substance misuse treatment spending, "
    "{base_year} to {target_year}, on a {basis} basis. {summary}",
}
ASSUMPTIONS = [
    "City of London is counted with Hackney and the Isles of Scilly with Cornwall in both years, as in public health finance data.",
    "Reorganised areas follow the '{crosswalk_policy}' crosswalk policy: 'aggregate' compares the sum of predecessors with the sum of "
    "successors; 'nao' compares a merged area with the predecessor named first, as the report did. The Northamptonshire split is "
    "aggregated under both.",
    "England totals are like for like: the sum over areas with data in both years, with every predecessor included.",
    "Blank, [x], '...' (imputed, not published) and missing returns are no data, never zero; an area with no spending in the base year "
    "has no percentage change.",
]
CAVEATS = [
    "Increases above {implausible_change_pct:,.0f}% and falls to zero are flagged as implausible (spending probably moved between lines "
    "or bodies) and are left out of the headline range."
]

MAP = MapSpec(
    value_column="change_real_pct",
    value_label="Real-terms change, {base_year} to {target_year}",
    value_fmt="{:+,.1f}%",
    legend_title="Real-terms change",
    details=(
        ("base_cash_gbp_k", "{base_year} spending, cash (£000)"),
        ("target_cash_gbp_k", "{target_year} spending, cash (£000)"),
        ("base_real_gbp_k", "{base_year} spending, {price_year} prices (£000)"),
        ("target_real_gbp_k", "{target_year} spending, {price_year} prices (£000)"),
        ("crosswalk", "Boundary change"),
        ("no_data_reason", "No data"),
    ),
    flag_column="flag",
    counted_column="counted",
    no_data_column="no_data_reason",
)


def _words(n: int, noun: str = "area") -> str:
    from nao_analysis.analysis.spending_change import number_words

    return f"{number_words(n)} {noun}{'' if n == 1 else 's'}"


def _change_words(pct: float) -> str:
    return f"a decrease of {abs(pct):.0f}%" if pct < 0 else f"an increase of {pct:.0f}%"


def class_labels(breaks: list[float]) -> list[str]:
    labels = [f"Fall of {-breaks[0]:.0f}% or more"]
    labels += [
        f"Fall of {-hi:.0f}% to {-lo:.0f}%" if hi < 0 else f"Fall of up to {-lo:.0f}% or no change" for lo, hi in zip(breaks, breaks[1:])
    ]
    return labels + ["Increase"]


def run(ctx: FigureContext) -> FigureResult:
    import pandas as pd

    from nao_analysis.analysis.geography import build_e_code_crosswalk, upper_tier_areas_from_districts
    from nao_analysis.analysis.spending_change import compare_years, line_patterns, lines_for_year, number_words
    from nao_analysis.maps import FALLS_AND_INCREASE_PALETTE, choropleth, palette_colours
    from nao_analysis.readers.boundaries import read_code_changes, read_ctyua_boundaries, read_district_upper_tier_lookup
    from nao_analysis.readers.deflators import read_deflator
    from nao_analysis.readers.revenue_account import read_revenue_account

    p: Params = ctx.params
    # load
    mapping = ctx.read_manual(p.line_mapping)

    def read_year(source_id: str, year: str) -> pd.DataFrame:
        return read_revenue_account(ctx.fetch(source_id), line_patterns(lines_for_year(mapping, year)), settings=ctx.settings)

    base_raw, target_raw = read_year(p.base_source, p.base_year), read_year(p.target_source, p.target_year)
    crosswalk_years = {s: (ctx.registry.get(s).serves or {}).get("year", p.target_year) for s in (p.crosswalk_sources or [p.target_source])}
    crosswalk = build_e_code_crosswalk([target_raw if s == p.target_source else read_year(s, y) for s, y in crosswalk_years.items()])
    districts = read_district_upper_tier_lookup(ctx.fetch(p.district_lookup_source))
    boundaries = read_ctyua_boundaries(ctx.fetch(p.boundary_source))
    deflators = read_deflator(ctx.fetch(p.deflator))
    changes = read_code_changes(ctx.fetch(p.code_changes_source))

    # process
    result = compare_years(
        base_raw=base_raw,
        target_raw=target_raw,
        base_year=p.base_year,
        target_year=p.target_year,
        mapping=mapping,
        crosswalk=crosswalk,
        base_areas=upper_tier_areas_from_districts(districts),
        target_areas=boundaries[["code", "name"]],
        changes=changes,
        districts=districts,
        boundary_year=int(p.target_year[:4]),
        deflators=deflators,
        price_year=p.price_year,
        policy=p.crosswalk_policy,
        implausible_change_pct=p.implausible_change_pct,
    )
    table, stats, england = result.table, result.stats, result.england
    as_published = ctx.published.is_published(ctx.params.model_dump(mode="json"))
    flagged_rows = table[table["implausible"] & table["counted"]]
    flagged = "; ".join(f"{r.target_name} ({r.change_real_pct:+,.0f}%)" for r in flagged_rows.itertuples())
    values = ctx.values(
        basis_label=BASIS_LABEL[p.basis],
        basis_text=BASIS_TEXT[p.basis],
        as_published=", as published" if as_published else "",
        deflator_title=ctx.source_title(p.deflator),
        authorities=stats["authorities"],
        reduced=stats["authorities_reduced"],
        cut_50_words_cap=number_words(int(stats["authorities_cut_50pct_or_more"])).capitalize(),
        increased_words_cap=_words(int(stats["authorities_increased"])).capitalize(),
        smallest_increase=stats["smallest_increase_pct"],
        max_plausible_increase=stats["max_plausible_change_pct"],
        max_plausible_name=stats["max_plausible_change_name"],
        min_words=_change_words(stats["min_plausible_change_pct"]),
        min_name=stats["min_plausible_change_name"],
        max_words=_change_words(stats["max_plausible_change_pct"]),
        max_name=stats["max_plausible_change_name"],
        flagged=flagged,
        no_data_count_words=_words(len(stats["no_data_names"])),
        no_data_names=", ".join(stats["no_data_names"]),
        no_base_count_words_cap=_words(len(stats["no_base_spending_names"])).capitalize(),
        no_base_names=", ".join(stats["no_base_spending_names"]),
        not_compared=", ".join(result.not_compared),
        direction="decreased" if england["change_pct"] < 0 else "increased",
        england_abs_pct=abs(england["change_pct"]),
        england_abs_gbp_m=abs(england["change_gbp_m"]),
    )
    sentences = [fill(TEXT["england"], values), fill(TEXT["reduced"], values), fill(TEXT["cut_50"], values)]
    flagged_increases = int((flagged_rows["change_real_pct"] > 0).sum())
    if stats["authorities_increased"] and stats["max_plausible_change_pct"] > 0:
        template = TEXT["increased_flagged"] if flagged_increases else TEXT["increased"]
        sentences.append(fill(template, {**values, "flagged_increases": number_words(flagged_increases)}))
    notes = [fill(TEXT["note_prices"], values), fill(TEXT["note_range"], values)]
    if flagged:
        notes.append(fill(TEXT["note_flagged"], values))
    if stats["no_data_names"]:
        notes.append(fill(TEXT["note_no_data"], values))
    if stats["no_base_spending_names"]:
        notes.append(fill(TEXT["note_no_base"], values))
    notes += [fill(TEXT["note_lines"], values), fill(TEXT["note_basis"], values)]
    if result.not_compared:
        notes.append(fill(TEXT["note_not_compared"], values))

    # chart
    title, subtitle = fill(TEXT["title"], values), fill(TEXT["subtitle"], values)
    run_label = fill(TEXT["run_label"], values)
    source = fill(TEXT["source"], values)
    bins = [*p.class_breaks, float("inf")]
    labels = class_labels(p.class_breaks)
    palette = palette_colours(FALLS_AND_INCREASE_PALETTE if len(labels) == 4 else "PuOr", len(labels))
    mapped = boundaries.merge(
        table[
            ["target_code", "change_real_pct", "counted", "flag", "no_data_reason", "crosswalk", *[c for c, _ in MAP.details if c in table]]
        ].loc[:, lambda f: ~f.columns.duplicated()],
        left_on="code",
        right_on="target_code",
        how="left",
    )
    no_data_label = "Data unavailable" + (" or no base-year spending" if stats["no_base_spending_names"] else "")
    chart = choropleth(
        mapped,
        "change_real_pct",
        bins=bins,
        labels=labels,
        palette=palette,
        no_data_label=no_data_label,
        title=title,
        subtitle=f"{subtitle}\n{run_label}",
        legend_title=MAP.legend_title,
        count_column="counted",
        source="Source: " + source,
    )
    summary = " ".join(sentences + notes[1:3])

    # reconcile
    recon = reconciliation(ctx)
    recon.check("england_real_change_pct", england["change_pct"])
    recon.check("england_real_change_gbp_m", england["change_gbp_m"])
    recon.check("authorities_reduced", stats["authorities_reduced"])
    recon.check("authorities_cut_50pct_or_more", stats["authorities_cut_50pct_or_more"])
    recon.check("authorities_increased", stats["authorities_increased"])
    recon.check(
        "max_increase_pct",
        stats["max_plausible_change_pct"],
        note=f"largest unflagged increase: {stats['max_plausible_change_name']}"
        + (f"; flagged as implausible and left out: {flagged}" if flagged else ""),
    )
    recon.check(
        "max_decrease_pct", stats["min_plausible_change_pct"], note=f"largest unflagged decrease: {stats['min_plausible_change_name']}"
    )
    recon.check("authorities_no_data", stats["authorities_no_data"], note="no data: " + (", ".join(stats["no_data_names"]) or "none"))

    summary_table = pd.DataFrame(
        [{"statistic": k, "value": v if not isinstance(v, list) else "; ".join(v)} for k, v in {**england, **stats}.items()]
    ).assign(basis=p.basis, base_year=p.base_year, target_year=p.target_year, price_year=p.price_year)
    by_area = table[
        ["rank", "target_name", "base_real_gbp_k", "target_real_gbp_k", "change_real_pct", "crosswalk", "no_data_reason", "flag"]
    ].rename(
        columns={
            "rank": "Rank (1 = largest fall)",
            "target_name": "Area",
            "base_real_gbp_k": f"{p.base_year}, {p.price_year} prices (£000)",
            "target_real_gbp_k": f"{p.target_year}, {p.price_year} prices (£000)",
            "change_real_pct": "Real-terms change (%)",
            "crosswalk": "Boundary change",
            "no_data_reason": "No data",
            "flag": "Flag",
        }
    )
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, fill(TEXT["alt"], {**values, "summary": summary}))],
        data={
            None: table.assign(unit="GBP thousand (change_real_pct: %)", price_year=p.price_year, basis=p.basis),
            "summary": summary_table.astype({"value": str}),
        },
        tables={"Change by area": by_area, "England": _england_table(england, p)},
        text={"summary": " ".join(sentences), "run_label": run_label, **{f"sentence_{i}": s for i, s in enumerate(sentences, 1)}},
        assumptions=[fill(a, values) for a in ASSUMPTIONS],
        caveats=[fill(c, values) for c in CAVEATS],
        reconciliation=recon.finish(),
        map={
            "bins": [None if b == float("inf") else float(b) for b in bins],
            "labels": labels,
            "colours": palette,
            "legend_title": MAP.legend_title,
            "no_data_label": no_data_label,
            "value_label": fill(MAP.value_label, values),
            "value_format": MAP.value_fmt,
            "crs": "EPSG:27700",
        },
        map_areas=map_areas(mapped, MAP, bins=bins, labels=labels, colours=palette, values=values),
    )


def _england_table(england: dict, p: Params):
    import pandas as pd

    return pd.DataFrame(
        [
            {"Measure": f"{p.base_year} spending, {p.price_year} prices (£m)", "Value": england["base_real_gbp_m"]},
            {"Measure": f"{p.target_year} spending, {p.price_year} prices (£m)", "Value": england["target_real_gbp_m"]},
            {"Measure": "Change (£m)", "Value": england["change_gbp_m"]},
            {"Measure": "Change (%)", "Value": round(england["change_pct"], 1)},
        ]
    )
