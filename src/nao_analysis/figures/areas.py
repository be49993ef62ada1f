"""Area profiles: for each of the counted upper-tier areas of one boundary vintage, its adult substance misuse
treatment spending in every revenue-account year the edition has (cash and real terms, each point labelled with
its basis), its change against England's and its rank, its share of public health spending, and drug-poisoning
deaths as three-year rolling totals, with one generated sentence per area.

Sources: the revenue-account files named in ``revenue_years`` (``readers.revenue_account``), a public health
outturn summary (RSX, ``readers.rsx``), a GDP deflator (``readers.deflators``), the counties-and-UAs boundaries,
the district lookups and the code-change table (``readers.boundaries``), and the deaths-by-local-authority
extract (``readers.la_deaths``). Manual table: ``data/manual/ro_line_mapping.csv``. Analysis:
``analysis.spending_change.compare_years`` (per pair of years, policy ``aggregate``, as Figure 3) and
``analysis.area_profiles``.

The record's ``extra["areas"]`` is a list with one entry per area, the shape the site's area pages read::

    {"code": "E06000058", "name": "Bournemouth, Christchurch and Poole",
     "partner": null | {"code": "E09000001", "name": "City of London"},   # small authority counted within
     "history": ["aggregated predecessors and successors: Bournemouth + Poole + Dorset -> ..."],
     "predecessors": ["Bournemouth; Poole; Dorset"],
     "spending": [{"year": "2013-14", "basis": "outturn" | "budget", "series": "comparison" | "area",
                   "covers": "Bournemouth; Dorset; Poole", "cash_gbp_k": float | null, "real_gbp_k": float | null,
                   "status": "" | "no data", "source": source_id}],
     "changes": [CHANGE, ...], "change": CHANGE (the headline: longest span, outturn first) | null,
     "public_health_share": [{"year", "basis", "covers", "treatment_gbp_k", "public_health_gbp_k", "share_pct",
                              "status", "source", "treatment_source"}],
     "deaths": {"source", "third_party": bool, "measure", "summed_from_districts": bool, "covers",
                "annual": [{"year": 2020, "deaths": float | null, "status"}],
                "rolling": [{"period": "2018-20", "first_year", "last_year", "deaths": float | null, "status"}]},
     "summary": "one generated sentence"}

    CHANGE = {"from", "to", "basis", "covers", "real_pct", "england_real_pct", "rank" (1 = largest fall) | null,
              "of" (areas ranked), "flag", "crosswalk", "no_data_reason"}

``extra`` also holds ``price_year``, ``rolling_window`` and ``notes`` (sentences every page shows).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nao_analysis.figures.recipe import FigureContext, FigureParams, FigureResult, FigureSpec, fill
from nao_analysis.years import FinancialYear, financial_year_start


class RevenueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: FinancialYear = Field(description="Financial year the file holds, e.g. 2013-14")
    basis: Literal["outturn", "budget"] = Field(description="Outturn (RO3) or budget (RA)")
    source: str = Field(description="Source id of the file")


class Params(FigureParams):
    revenue_years: list[RevenueFile] = Field(
        min_length=2, description="Every revenue-account file of the edition; each basis needs two years to show a change"
    )
    crosswalk_sources: list[str] = Field(description="Source ids of revenue-account files carrying both E-codes and ONS codes")
    public_health_outturn: list[RevenueFile] = Field(
        default=[], description="Public health outturn summaries (RSX) giving total public health spending for a year"
    )
    public_health_line: str = Field(
        default=r"TOTAL PUBLIC HEALTH(?: SERVICES)?",
        description="Label pattern of the total public health line in the RO3 and RA files",
    )
    line_mapping: str = Field(default="ro_line_mapping.csv", description="File in data/manual/ mapping revenue account lines to components")
    deflator: str = Field(description="Source id of the GDP deflator")
    price_year: FinancialYear = Field(default="2022-23", description="Financial year whose prices real terms are expressed in")
    crosswalk_policy: Literal["aggregate"] = Field(
        default="aggregate", description="Reorganised areas: predecessors and successors summed, as Figure 3's 'aggregate' policy"
    )
    code_changes_source: str = Field(default="lookup_la_code_changes_2018_2025", description="Source id of the LA code-change table")
    district_lookup_source: str = Field(default="lookup_ltla14", description="Source id of the base-year district -> county lookup")
    boundary_source: str = Field(default="boundaries_ctyua_dec2021_buc", description="Source id of the counties-and-UAs boundaries")
    boundary_vintage: str = Field(default="2021-12", pattern=r"^\d{4}-\d{2}$", description="Vintage the boundary source must serve")
    deaths_source: str = Field(description="Source id of the drug-poisoning deaths by local authority extract")
    deaths_district_lookup: str = Field(
        default="lookup_ltla21_utla21_apr2021", description="Source id of the district -> upper tier lookup of the deaths extract"
    )
    rolling_window: int = Field(default=3, ge=1, le=5, description="Years in each rolling total of deaths")
    deaths_from_year: int | None = Field(
        default=None, description="Last year of the first rolling total the summary compares; default: the first spending year's"
    )
    implausible_change_pct: float = Field(default=300.0, gt=0, description="Increases above this (%) are flagged as implausible")

    @model_validator(mode="after")
    def _consistent(self):
        bases = {f.basis for f in self.revenue_years}
        if not any(sum(f.basis == b for f in self.revenue_years) >= 2 for b in bases):
            raise ValueError("revenue_years needs two years of the same basis to compare")
        return self

    def registry_problems(self, registry) -> list[str]:
        known = set(registry.ids())
        named = [f.source for f in [*self.revenue_years, *self.public_health_outturn]]
        named += [*self.crosswalk_sources, self.deflator, self.code_changes_source, self.district_lookup_source]
        named += [self.boundary_source, self.deaths_source, self.deaths_district_lookup]
        problems = [f"source {s!r} is not in the registry" for s in dict.fromkeys(named) if s not in known]
        if problems:
            return problems
        for item in self.revenue_years:
            serves = registry.get(item.source).serves or {}
            if serves.get("basis") and serves["basis"] != item.basis:
                problems.append(f"{item.source!r} is a {serves['basis']} file, not {item.basis} - fix revenue_years")
            if serves.get("year") and serves["year"] != item.year:
                problems.append(f"{item.source!r} holds {serves['year']}, not {item.year} - fix revenue_years")
        served = (registry.get(self.boundary_source).serves or {}).get("boundary_vintage")
        if served != self.boundary_vintage:
            problems.append(f"boundary_source {self.boundary_source!r} serves boundary vintage {served!r}, not {self.boundary_vintage!r}")
        return problems


FIGURE = FigureSpec("areas", "area_profiles", "Area profiles: spending set against harm", Params)

BASIS_WORD = {"outturn": "outturn", "budget": "budget"}

TEXT = {
    "title": "Area profiles: adult substance misuse treatment spending and drug-poisoning deaths, {areas} areas, {first_year} to {last_year}",
    "subtitle": "Spending for {years_text}, in cash and {price_year} prices; deaths registered {deaths_first} to {deaths_last}",
    "source": "National Audit Office-style analysis of DLUHC revenue account data and ONS deaths related to drug poisoning by "
    "local authority (a third party's extract). Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "note_pairs": "Each change compares years of the same basis only: {pairs_text}. Budget (RA) and outturn (RO3) are never compared, "
    "never put in one ratio and never joined by a line.",
    "note_prices": "Real terms: {price_year} prices, with {deflator_title}.",
    "note_units": "Reorganised areas are handled as Figure 3's 'aggregate' policy: a year before the reorganisation is the sum of "
    "the predecessors, compared with the sum of their successors, and each point says which areas it covers. City of London is "
    "counted with Hackney and the Isles of Scilly with Cornwall.",
    "note_share": "Share of public health spending: treatment spending over total public health spending of the same year, basis "
    "and areas ({share_years}).",
    "note_share_missing": "{year} {basis} total public health spending is shown from {ph_title}, but {year} {basis} treatment "
    "spending is not among this edition's inputs, so no share is given for {year}.",
    "note_deaths": "Deaths: all drug-poisoning deaths by year of registration, as {window}-year rolling totals, from {deaths_title} "
    "- a third party's extract of the ONS local-authority tables, not the official file.",
    "note_gaps": "Blank, [x], suppressed and missing values are gaps, never zero.",
    "spend_fell": "Real-terms spending {verb} {abs_pct:,.0f}% between {from_year} and {to_year} ({basis}{together}), {rank_text}",
    "together": ", {covers} together",
    "former_area": "{name} (former area {code})",
    "spend_none": "No real-terms change can be given between {from_year} and {to_year} ({basis}): {reason}",
    "rank_fall": "the {rank_ordinal} largest fall of the {of} areas with a change",
    "rank_fall_first": "the largest fall of the {of} areas with a change",
    "rank_rise": "ranked {rank_ordinal} of the {of} areas with a change (1 = largest fall)",
    "flagged": " (flagged as implausible: {flag})",
    "deaths": "drug-poisoning deaths (three-year total) {verb} from {first} in {first_period} to {last} in {last_period}",
    "deaths_window": "drug-poisoning deaths ({window}-year total) {verb} from {first} in {first_period} to {last} in {last_period}",
    "deaths_none": "drug-poisoning deaths have no complete rolling totals to compare",
    "sentence": "{spending}; {deaths}.",
    "alt": "Table-only profile of {areas} areas: spending by year and basis, change against England, share of public health "
    "spending and drug-poisoning deaths.",
}


def _verb(change: float, up: str = "rose", down: str = "fell", same: str = "did not change") -> str:
    return down if change < 0 else up if change > 0 else same


def area_sentence(record: dict, window: int, deaths_from_year: int) -> str:
    """The one-sentence summary of an area, filled from :data:`TEXT` with its numbers."""
    from nao_analysis.analysis.area_profiles import ordinal

    change = record.get("change")
    if change and change["real_pct"] is not None:
        pct = change["real_pct"]
        if change["rank"] is None:
            rank_text = ""
        elif pct < 0:
            rank_text = fill(
                TEXT["rank_fall_first" if change["rank"] == 1 else "rank_fall"],
                {"rank_ordinal": ordinal(change["rank"]), "of": change["of"]},
            )
        else:
            rank_text = fill(TEXT["rank_rise"], {"rank_ordinal": ordinal(change["rank"]), "of": change["of"]})
        spending = fill(
            TEXT["spend_fell"],
            {
                "verb": _verb(pct),
                "abs_pct": abs(pct),
                "from_year": change["from"],
                "to_year": change["to"],
                "basis": change["basis"],
                "rank_text": rank_text,
                "together": fill(TEXT["together"], {"covers": change["covers"]}) if change["covers"] != record["name"] else "",
            },
        ).rstrip(", ")
        if change["flag"]:
            spending += fill(TEXT["flagged"], {"flag": change["flag"]})
    elif change:
        spending = fill(
            TEXT["spend_none"],
            {
                "from_year": change["from"],
                "to_year": change["to"],
                "basis": change["basis"],
                "reason": change["no_data_reason"] or "a year has no data",
            },
        )
    else:
        spending = "No spending comparison is available"
    rolling = [r for r in record["deaths"]["rolling"] if r["deaths"] is not None]
    first = next((r for r in rolling if r["last_year"] >= deaths_from_year), None)
    last = rolling[-1] if rolling else None
    if first is not None and last is not None and last["last_year"] > first["last_year"]:
        deaths = fill(
            TEXT["deaths" if window == 3 else "deaths_window"],
            {
                "verb": _verb(last["deaths"] - first["deaths"]),
                "first": f"{first['deaths']:,.0f}",
                "first_period": first["period"],
                "last": f"{last['deaths']:,.0f}",
                "last_period": last["period"],
                "window": window,
            },
        )
    else:
        deaths = TEXT["deaths_none"]
    return fill(TEXT["sentence"], {"spending": spending, "deaths": deaths})


def run(ctx: FigureContext) -> FigureResult:
    import pandas as pd

    from nao_analysis.analysis import area_profiles as ap
    from nao_analysis.analysis.geography import build_e_code_crosswalk, upper_tier_areas_from_districts
    from nao_analysis.analysis.real_terms import price_factor, rebase_deflator
    from nao_analysis.analysis.spending_change import compare_years, line_patterns, lines_for_year
    from nao_analysis.readers.boundaries import read_code_changes, read_ctyua_boundaries, read_district_upper_tier_lookup
    from nao_analysis.readers.deflators import read_deflator
    from nao_analysis.readers.la_deaths import read_la_drug_deaths
    from nao_analysis.readers.revenue_account import read_revenue_account
    from nao_analysis.readers.rsx import read_rsx

    p: Params = ctx.params
    # load
    mapping = ctx.read_manual(p.line_mapping)
    years = [ap.RevenueYear(f.year, f.basis, f.source) for f in p.revenue_years]
    raw: dict[tuple[str, str], pd.DataFrame] = {}
    for item in years:
        lines = line_patterns(lines_for_year(mapping, item.year)) | {"public_health_total": p.public_health_line}
        # settings: the parsed-file cache is used only when the run's settings are handed in.
        raw[(item.year, item.basis)] = read_revenue_account(ctx.fetch(item.source), lines, settings=ctx.settings)
    by_source = {item.source: raw[(item.year, item.basis)] for item in years}
    crosswalk_frames = []
    for source_id in p.crosswalk_sources:
        if source_id not in by_source:
            year = (ctx.registry.get(source_id).serves or {}).get("year")
            by_source[source_id] = read_revenue_account(
                ctx.fetch(source_id), line_patterns(lines_for_year(mapping, year)), settings=ctx.settings
            )
        crosswalk_frames.append(by_source[source_id])
    crosswalk = build_e_code_crosswalk(crosswalk_frames)
    districts = read_district_upper_tier_lookup(ctx.fetch(p.district_lookup_source))
    boundaries = read_ctyua_boundaries(ctx.fetch(p.boundary_source))
    deflators = read_deflator(ctx.fetch(p.deflator))
    changes_table = read_code_changes(ctx.fetch(p.code_changes_source))
    deaths_raw = read_la_drug_deaths(ctx.fetch(p.deaths_source), settings=ctx.settings)
    deaths_districts = read_district_upper_tier_lookup(ctx.fetch(p.deaths_district_lookup))
    ph_outturn = {(f.year, f.basis): read_rsx(ctx.fetch(f.source), settings=ctx.settings) for f in p.public_health_outturn}

    # process: one Figure 3 comparison per pair of years of one basis
    base_areas = upper_tier_areas_from_districts(districts)
    target_areas = boundaries[["code", "name"]]
    boundary_year = int(p.boundary_vintage[:4])
    pairs = {}
    for base, target in ap.year_pairs(years):
        pairs[(base.year, target.year, base.basis)] = compare_years(
            base_raw=raw[(base.year, base.basis)],
            target_raw=raw[(target.year, target.basis)],
            base_year=base.year,
            target_year=target.year,
            mapping=mapping,
            crosswalk=crosswalk,
            base_areas=base_areas,
            target_areas=target_areas,
            changes=changes_table,
            districts=districts,
            boundary_year=boundary_year,
            deflators=deflators,
            price_year=p.price_year,
            policy=p.crosswalk_policy,
            implausible_change_pct=p.implausible_change_pct,
        )
    first_table = next(iter(pairs.values())).table
    areas = ap.counted_areas(first_table)
    # An area abolished before the boundary vintage keeps its code in the name: "Dorset" alone would read as today's Dorset.
    names = {c: fill(TEXT["former_area"], {"name": n, "code": c}) for c, n in zip(base_areas["code"], base_areas["name"])}
    names |= dict(zip(target_areas["code"], target_areas["name"]))
    rebased = rebase_deflator(deflators, p.price_year)
    factors = {item.year: price_factor(rebased, item.year) for item in years}
    sources = {(item.year, item.basis): item.source for item in years}
    own_spend = {}
    for comparison_key, comparison in pairs.items():
        base_year, target_year, basis = comparison_key
        own_spend[(base_year, basis)] = comparison.base_spend.set_index("ons_code")["spend_gbp_thousands"]
        own_spend[(target_year, basis)] = comparison.target_spend.set_index("ons_code")["spend_gbp_thousands"]
    spending = ap.spending_points(areas, pairs, own_spend, factors, sources, names, p.price_year)
    changes = ap.area_changes(areas, pairs)

    public_health = {}
    ph_sources = {}
    for item in years:
        ph_names = base_areas if financial_year_start(item.year) < boundary_year else target_areas
        public_health[(item.year, item.basis)] = ap.line_by_code(raw[(item.year, item.basis)], "public_health_total", crosswalk, ph_names)
        ph_sources[(item.year, item.basis)] = item.source
    for f in p.public_health_outturn:
        if (f.year, f.basis) in public_health:
            continue  # the revenue-account file's own total line already gives that year
        rsx = ph_outturn[(f.year, f.basis)]
        public_health[(f.year, f.basis)] = ap.line_by_code(rsx, "public_health", crosswalk, target_areas)
        ph_sources[(f.year, f.basis)] = f.source
    shares = ap.public_health_shares(spending, public_health, ph_sources, areas, names)
    deaths = ap.area_deaths(deaths_raw, areas, deaths_districts, source=p.deaths_source, window=p.rolling_window)

    third_party = ctx.inputs.get(p.deaths_source, {}).get("kind") == "third_party_extract"
    records = ap.area_records(areas, spending, changes, shares, deaths, deaths_source=p.deaths_source, deaths_third_party=third_party)
    ordered_years = sorted({(financial_year_start(y.year), y.year, y.basis) for y in years})
    deaths_from = p.deaths_from_year or ordered_years[0][0]
    for record in records:
        record["summary"] = area_sentence(record, p.rolling_window, deaths_from)

    # text
    with_share = shares[shares["status"] == ""]
    share_years = sorted(set(zip(with_share["year"].tolist(), with_share["basis"].tolist())), key=lambda yb: financial_year_start(yb[0]))
    values = ctx.values(
        areas=len(areas),
        first_year=ordered_years[0][1],
        last_year=ordered_years[-1][1],
        years_text=", ".join(f"{y} ({b})" for _, y, b in ordered_years),
        deaths_first=int(deaths_raw["year"].min()),
        deaths_last=int(deaths_raw["year"].max()),
        pairs_text="; ".join(f"{b} {base} with {target}" for base, target, b in pairs),
        deflator_title=ctx.source_title(p.deflator),
        share_years=", ".join(f"{y} {b}" for y, b in share_years) or "no year has both",
        window=p.rolling_window,
        deaths_title=ctx.source_title(p.deaths_source),
    )
    notes = [fill(TEXT[k], values) for k in ("note_pairs", "note_prices", "note_units", "note_share")]
    have_treatment = {(y.year, y.basis) for y in years}
    for f in p.public_health_outturn:
        if (f.year, f.basis) not in have_treatment:
            notes.append(
                fill(TEXT["note_share_missing"], values | {"year": f.year, "basis": f.basis, "ph_title": ctx.source_title(f.source)})
            )
    notes += [fill(TEXT["note_deaths"], values), fill(TEXT["note_gaps"], values)]

    england = pd.DataFrame(
        [
            {
                "base_year": base,
                "target_year": target,
                "basis": basis,
                "england_change_real_pct": c.england["change_pct"],
                "england_base_real_gbp_m": c.england["base_real_gbp_m"],
                "england_target_real_gbp_m": c.england["target_real_gbp_m"],
                "areas_ranked": int((c.table["counted"] & c.table["change_real_pct"].notna()).sum()),
            }
            for (base, target, basis), c in pairs.items()
        ]
    )
    headline = changes.merge(
        pd.DataFrame([{"code": r["code"], **(r["change"] or {})} for r in records])[["code", "from", "to", "basis"]],
        left_on=["code", "base_year", "target_year", "basis"],
        right_on=["code", "from", "to", "basis"],
    )
    by_area = headline[["name", "base_year", "target_year", "basis", "change_real_pct", "england_change_real_pct", "rank", "flag"]].rename(
        columns={
            "name": "Area",
            "base_year": "From",
            "target_year": "To",
            "basis": "Basis",
            "change_real_pct": "Real-terms change (%)",
            "england_change_real_pct": "England (%)",
            "rank": "Rank (1 = largest fall)",
            "flag": "Flag",
        }
    )
    return FigureResult(
        figure_id=ctx.figure_id,
        title=fill(TEXT["title"], values),
        subtitle=fill(TEXT["subtitle"], values),
        notes=notes,
        source=fill(TEXT["source"], values),
        data={
            "spending": spending.assign(unit="GBP thousand"),
            "changes": changes,
            "share": shares.assign(unit="GBP thousand (share_pct: %)"),
            "deaths": deaths.assign(measure="all drug poisoning", unit="deaths"),
        },
        tables={
            "Headline change by area": by_area.sort_values(["Rank (1 = largest fall)", "Area"], na_position="last"),
            "England": england,
            "Summaries": pd.DataFrame({"Area": [r["name"] for r in records], "Summary": [r["summary"] for r in records]}),
        },
        text={"alt": fill(TEXT["alt"], values)},
        extra={"areas": records, "price_year": p.price_year, "rolling_window": p.rolling_window, "notes": notes},
    )
