"""Figure 5: people using opiates and/or crack cocaine who were not in treatment, by county and unitary authority.

Sources: OHID Fingertips indicator 93517 (``readers.fingertips``), the counties-and-UAs boundaries
(``readers.boundaries``). Manual table: ``data/manual/fingertips_area_types.csv`` (which Fingertips area type
matches a year's boundaries). Analysis: ``analysis.treatment_gap``.

The map shows Fingertips' *published* percentage for each area, as the NAO did (Appendix One, paragraph 8).
``treatment_gap.recompute_published_rows`` rebuilds each percentage from its published denominator and count
as a check on the download; it never replaces the published value.
"""

from __future__ import annotations

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
from nao_analysis.years import FinancialYear


class Params(FigureParams):
    source: str = Field(description="Source id of the Fingertips all_data CSV (an API source, or a sample)")
    year: FinancialYear = Field(description="Financial year mapped, e.g. 2021-22")
    indicator_id: int = Field(default=93517, gt=0, description="Fingertips indicator: 93517 = OCU (15-64) not in treatment (%)")
    area_type_id: int | None = Field(
        default=None,
        description="Fingertips child area type; derived from `year` via data/manual/fingertips_area_types.csv when not given",
    )
    threshold: float = Field(default=48.0, gt=0, lt=100, description="Areas at or above it are counted (para 1.6)")
    class_breaks: list[float] = Field(
        default=[38.0, 48.0, 58.0, 68.0],
        description="Map class breaks (%); fixed, and must include the threshold so the map shows it",
    )
    boundary_source: str = Field(default="boundaries_ctyua_dec2021_buc", description="Source id of the counties-and-UAs boundaries")
    boundary_vintage: str = Field(default="2021-12", pattern=r"^\d{4}-\d{2}$", description="Vintage the boundary source must serve")
    partial_coverage: bool = Field(default=False, description="True when the source is a known partial extract: the figure says so")

    @model_validator(mode="after")
    def _consistent(self):
        if self.threshold not in self.class_breaks:
            raise ValueError(f"threshold {self.threshold:g} must be one of class_breaks {self.class_breaks} so the map shows it")
        if sorted(set(self.class_breaks)) != list(self.class_breaks):
            raise ValueError(f"class_breaks {self.class_breaks} must be strictly increasing")
        return self

    def registry_problems(self, registry) -> list[str]:
        known = set(registry.ids())
        problems = [f"source {s!r} is not in the registry" for s in (self.source, self.boundary_source) if s not in known]
        if problems:
            return problems
        served = (registry.get(self.boundary_source).serves or {}).get("boundary_vintage")
        if served != self.boundary_vintage:
            problems.append(
                f"boundary_source {self.boundary_source!r} serves boundary vintage {served!r}, not {self.boundary_vintage!r} "
                "- choose a boundary source of that vintage, or change boundary_vintage"
            )
        return problems


FIGURE = FigureSpec("fig05", "treatment_gap_map", "People using opiates and crack cocaine not in treatment", Params)

TEXT = {
    "title": "Percentage of people using opiates and crack cocaine who were not in treatment – by English counties and unitary authorities, {year}",
    "subtitle": "In {at_or_above} {where}, {threshold:g}% or more of the people who used opiates and/or crack cocaine were not in treatment",
    "note_method": "The percentage of people who used opiates and/or crack cocaine and were not in treatment is calculated as the number of "
    "people aged 15–64 in contact with drug treatment citing problematic opiates and/or crack cocaine use in the given year subtracted "
    "from the estimated number of users aged 15–64 resident in the area (the mean average of prevalence numbers for the last three "
    "years), displayed as a proportion of the estimated number of users.",
    "note_range": "The lowest proportion of users not in treatment was in {min_names} ({min_pct}%) and the highest was in {max_names} "
    "({max_pct}%).",
    "note_no_data": "Data were not available for {missing_count} area{missing_plural}: {missing_names}.",
    "note_all_data": "Every mapped area has data.",
    "note_api_check": "Check of the download: rebuilding each percentage from its published denominator and count gives the published "
    "value {api_check_text}.",
    "note_partial": "Partial coverage: {areas_total} of {areas_mapped} mapped areas have data in source {source}.",
    "partial_banner": "PARTIAL COVERAGE: only {areas_total} of {areas_mapped} areas have data in this source ({source}).\n"
    "Hatched areas are missing from the extract; the count above is not comparable with the report.",
    "source": "National Audit Office analysis of departmental data (OHID Fingertips indicator {indicator_id}, from the National Drug "
    "Treatment Monitoring System and estimates of opiate and crack cocaine use). Office for National Statistics licensed under the Open "
    "Government Licence v.3.0. Contains OS data © Crown copyright and database right",
    "headline": "In {at_or_above} of {areas_total} areas, {threshold:g}% or more of the people who used opiates and/or crack cocaine were "
    "not in treatment in {year}.",
    "alt": "Map of English counties and unitary authorities shaded by the percentage of people using opiates and/or crack cocaine who "
    "were not in treatment, {year}. {summary}",
}
ASSUMPTIONS = [
    "Values are Fingertips' published percentages for {year}, Fingertips area type {area_type}, persons aged 15-64.",
    "Areas are counted at or above {threshold:g}% on unrounded values; the text prints whole per cents.",
    "Areas are joined by ONS code to the {boundary_vintage} counties-and-UAs boundaries ({boundary_source}).",
    "Areas without a published value, and mapped areas absent from the download, are listed as having no data.",
]
CAVEATS = [
    "Prevalence estimates are not refreshed every year, so the denominator changes little between years.",
    "The 95% confidence intervals published with each value are wide (often more than 20 percentage points).",
]
MAP = MapSpec(
    value_column="value",
    value_label="Not in treatment, {year}",
    value_fmt="{:.1f}%",
    legend_title="Not in treatment",
    details=(
        ("denominator", "Estimated users aged 15-64 (mean of three years)"),
        ("count", "Estimated users not in treatment"),
        ("in_treatment", "In treatment"),
    ),
    no_data_column="no_data_reason",
)


def palette(class_breaks: list[float], threshold: float, n_classes: int) -> list[str]:
    """ColorBrewer PuOr (colour-blind safe): purples under the threshold, oranges at or above it, darker = more
    not in treatment. The palest purple stays dark enough to read beside the grey no-data hatching."""
    import matplotlib
    import numpy as np

    below = 1 + sum(b < threshold for b in class_breaks)
    ramp = matplotlib.colormaps["PuOr"]
    colours = [matplotlib.colors.to_hex(ramp(x)) for x in np.linspace(0.95, 0.78, below)]
    return colours + [matplotlib.colors.to_hex(ramp(x)) for x in np.linspace(0.38, 0.05, n_classes - below)]


MAX_NAMES_LISTED = 12


def _listed(names: list[str]) -> str:
    """Names in full up to a dozen; a partial extract can miss most of England, so then the first few and a count."""
    if len(names) <= MAX_NAMES_LISTED:
        return _join(names) if names else ""
    return "; ".join(names[:MAX_NAMES_LISTED]) + f" and {len(names) - MAX_NAMES_LISTED} others"


def _join(names: list[str]) -> str:
    separator = "; " if any("," in n for n in names) else ", "
    return names[0] if len(names) == 1 else separator.join(names[:-1]) + " and " + names[-1]


def run(ctx: FigureContext) -> FigureResult:
    from nao_analysis.analysis import treatment_gap as tg
    from nao_analysis.maps import choropleth
    from nao_analysis.readers.boundaries import read_ctyua_boundaries
    from nao_analysis.readers.fingertips import read_fingertips_csv

    p: Params = ctx.params
    # load
    area_type = p.area_type_id or _area_type_for_year(ctx, p.year)
    indicator = read_fingertips_csv(ctx.fetch(p.source), settings=ctx.settings)
    boundaries = read_ctyua_boundaries(ctx.fetch(p.boundary_source))

    # process
    values = tg.area_values(indicator, indicator_id=p.indicator_id, year=p.year)
    areas = boundaries[["code", "name"]]
    shapes = tg.map_frame(values, boundaries)
    summary = tg.summarise(values, threshold=p.threshold, all_areas=areas)
    api_check = tg.recompute_published_rows(values)
    ranked = tg.ranked_table(values, threshold=p.threshold, all_areas=areas)
    # A source holding under 90% of the mapped areas is an extract, whatever the edition says.
    partial = p.partial_coverage or summary.areas_total < 0.9 * len(areas)
    worst = api_check["difference"].abs().max()
    values_text = ctx.values(
        area_type=area_type,
        at_or_above=summary.areas_at_or_above,
        areas_total=summary.areas_total,
        areas_mapped=len(areas),
        where=f"of the {summary.areas_total} areas in this partial extract" if partial else f"of {summary.areas_total} areas",
        min_names=_join(summary.min_areas),
        # Whole per cents rounded half up, as the report prints them (a format's .0f would print 46.5 as 46).
        min_pct=tg.whole_percent(summary.min_pct),
        max_names=_join(summary.max_areas),
        max_pct=tg.whole_percent(summary.max_pct),
        missing_count=len(summary.missing_areas),
        missing_plural="" if len(summary.missing_areas) == 1 else "s",
        missing_names=_listed(summary.missing_areas),
        # Differences are floating-point noise when under 0.05 points: say so rather than print 5.6e-09.
        api_check_text="to within 0.05 percentage points for every area" if worst < 0.05 else f"to within {worst:.1f} percentage points",
    )
    notes = [fill(TEXT["note_method"], values_text), fill(TEXT["note_range"], values_text)]
    notes.append(fill(TEXT["note_no_data"], values_text) if summary.missing_areas else TEXT["note_all_data"])
    notes.append(fill(TEXT["note_api_check"], values_text))
    if partial:
        notes.append(fill(TEXT["note_partial"], values_text))

    # chart
    title, subtitle, source = fill(TEXT["title"], values_text), fill(TEXT["subtitle"], values_text), fill(TEXT["source"], values_text)
    bins, labels = tg.map_classes(p.class_breaks)
    colours = palette(p.class_breaks, p.threshold, len(labels))
    chart = choropleth(
        shapes,
        "value",
        bins=bins,
        labels=labels,
        palette=colours,
        title=title,
        subtitle=subtitle,
        legend_title=MAP.legend_title,
        no_data_label="Data not available",
        source="Source: " + source,
    )
    if partial:
        chart.text(
            0.01,
            0.885,
            fill(TEXT["partial_banner"], values_text),
            ha="left",
            va="top",
            fontsize=9,
            fontweight="bold",
            color="#801650",
            bbox={"facecolor": "#fff4f8", "edgecolor": "#801650", "boxstyle": "round,pad=0.3"},
        )
    headline = fill(TEXT["headline"], values_text)
    alt = fill(TEXT["alt"], {**values_text, "summary": " ".join([headline, *notes[1:3]])})

    # reconcile
    recon = reconciliation(ctx)
    partial_reason = f"only a partial extract of indicator {p.indicator_id} is available here ({summary.areas_total} of {len(areas)} areas)"
    rebuilt = {
        "areas_at_or_above_threshold": (summary.areas_at_or_above, None),
        "areas_total": (summary.areas_total, None),
        "min_pct": (summary.min_pct, summary.min_areas),
        "max_pct": (summary.max_pct, summary.max_areas),
        "areas_no_data": (len(summary.missing_areas), summary.missing_areas),
    }
    for check, (value, names) in rebuilt.items():
        published_names = ctx.published.checks[check].extra.get("published_areas")
        note = tg.compare_area_names(published_names, names) if published_names is not None and names is not None else None
        recon.check(check, None if partial else value, explanation=partial_reason if partial else None, note=None if partial else note)

    shapes = shapes.assign(no_data_reason=shapes["value"].isna().map({True: "no value published for this area", False: ""}))
    shown = ranked.rename(columns={c: c.replace("_", " ").capitalize() for c in ranked.columns})
    map_spec = {"bins": [None if b == float("inf") else float(b) for b in bins], "labels": labels, "colours": colours}
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, alt)],
        data={
            None: ranked,
            "summary": summary.to_frame().assign(year=p.year, indicator_id=p.indicator_id),
            "api_check": api_check[
                ["area_code", "area_name", "year", "denominator", "count", "in_treatment", "value", "value_rebuilt", "difference"]
            ],
        },
        tables={"Areas ranked": shown},
        text={"headline": headline, "range": notes[1]},
        assumptions=[fill(a, values_text) for a in ASSUMPTIONS],
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
        map={
            **map_spec,
            "legend_title": MAP.legend_title,
            "no_data_label": "Data not available",
            "value_label": fill(MAP.value_label, values_text),
            "value_format": MAP.value_fmt,
            "crs": "EPSG:27700",
        },
        map_areas=map_areas(shapes, MAP, bins=bins, labels=labels, colours=colours, values=values_text),
    )


def _area_type_for_year(ctx: FigureContext, year: str) -> int:
    from nao_analysis.sources.fingertips import area_type_for_year, load_area_types

    ctx.read_manual("fingertips_area_types.csv")  # recorded in provenance
    return area_type_for_year(year, load_area_types(ctx.manual_path("fingertips_area_types.csv"))).area_type_id
