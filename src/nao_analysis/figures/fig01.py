"""Figure 1: prevalence of drug use in England and Wales (Crime Survey for England and Wales).

Sources: CSEW table editions (official appendix workbooks or tidy extracts), read by ``readers.csew`` and
combined newest-first; values only quoted in the reference documents (``data/manual/csew_quoted_points.csv``).
Analysis: ``analysis.prevalence`` (table and quoted series, survey gap, rebuilt values).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from nao_analysis.figures._shared import join_words, reconciliation
from nao_analysis.figures.recipe import Chart, FigureContext, FigureParams, FigureResult, FigureSpec, fill

if TYPE_CHECKING:
    import pandas as pd

SURVEY_YEAR = re.compile(r"^\d{4}/\d{2}$")


class Params(FigureParams):
    sources: list[str] = Field(
        min_length=1,
        description="Source ids of CSEW table editions (workbooks or tidy extracts), any order; the newest wins where they overlap",
    )
    quoted_points: str = Field(
        default="csew_quoted_points.csv", description="File in data/manual/ with values quoted in the reference documents"
    )
    age_group: Literal["16-59", "16-24"] = Field(default="16-59", description="Figure 1 note 1: data represent 16-59-year-olds")
    measure: Literal["ever", "last_year", "last_month"] = "last_year"
    first_survey_year: str = Field(default="2010/11", description="First survey year shown (CSEW years run April to March)")
    headline_drugs: list[str] = Field(
        default=["Any drug", "Any Class A drug", "Cannabis", "Any cocaine"],
        min_length=1,
        description="Table drug types in the main panel, as the tables name them",
    )
    other_drugs: list[str] = Field(
        default=[
            "Ecstasy",
            "Powder cocaine",
            "Crack cocaine",
            "Hallucinogens",
            "Opiates",
            "Any amphetamine",
            "Ketamine",
            "Tranquillisers",
            "Anabolic steroids",
        ],
        description="Table drug types in the second panel (Figure 1 continued)",
    )
    gap_start: dt.date = Field(default=dt.date(2020, 3, 31), description="Last day before interviews stopped (Figure 1 note 2)")
    gap_end: dt.date = Field(default=dt.date(2021, 10, 1), description="First day interviews resumed (Figure 1 note 2)")

    @field_validator("first_survey_year")
    @classmethod
    def _survey_year(cls, value: str) -> str:
        if not SURVEY_YEAR.match(value):
            raise ValueError(f"first_survey_year {value!r} must be a CSEW survey year like 2010/11")
        return value

    @model_validator(mode="after")
    def _gap_in_order(self):
        if self.gap_end <= self.gap_start:
            raise ValueError(f"gap_end ({self.gap_end}) must be after gap_start ({self.gap_start})")
        overlap = set(self.headline_drugs) & set(self.other_drugs)
        if overlap:
            raise ValueError(f"drugs {sorted(overlap)} are in both headline_drugs and other_drugs; list each once")
        return self

    def registry_problems(self, registry) -> list[str]:
        return [f"source {s!r} is not in the registry" for s in self.sources if s not in registry.ids()]


FIGURE = FigureSpec("fig01", "drug_use_prevalence", "Prevalence of drug use in England and Wales", Params)

#: Series colours, kept here until the shared chart helpers offer a larger categorical palette. Each panel
#: uses each colour once (the second panel has nine series), and each series also has its own marker.
HEADLINE_COLOURS = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
OTHER_COLOURS = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1", "#117733", "#996600", "#2073BC"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h", "*"]
GREY_TEXT = "#505a5f"
#: A change in "any drug" use within this many percentage points is described as largely unchanged.
STABLE_BAND_PP = 1.0

MEASURE_WORDS = {
    "last_year": ("last-year", "within the past year"),
    "last_month": ("last-month", "within the past month"),
    "ever": ("lifetime", "at some point in their lives"),
}

TEXT = {
    "title": "Prevalence of drug use in England and Wales, {first_period} to {last_period}",
    "subtitle": ("The proportion of {age_group}-year-olds that report having taken any drug {measure_window} {trend} since {first_period}"),
    "trend_stable": "has remained largely unchanged",
    "trend_up": "has risen from {first_any:.1f}% to {last_any:.1f}%",
    "trend_down": "has fallen from {first_any:.1f}% to {last_any:.1f}%",
    "source": "National Audit Office analysis of Crime Survey for England and Wales (Office for National Statistics) data",
    "note_group": "Data represent {age_group}-year-olds; {measure_label} use.",
    "note_gap": "Data between {gap_from} and {gap_to} are not available due to the COVID-19 pandemic.",
    "note_part_year": "{label} data are from {start_month} to {end_month}, rather than April to March.",
    "note_quoted": (
        "Hollow diamonds are values quoted in the reference documents (data/manual/{quoted_points}), not read from a CSEW table: "
        "the edition has no table for those years."
    ),
    "note_editions": "Editions used, newest winning: {editions}.",
    "note_survey_gap": "Survey gap: the last period before it is {last_before}; the first after it is {first_after}.",
    "note_stops": "{series} stops at {period} because its source stops: {lacking} {lack_verb} no value for it.",
    "stops_on_chart": "{series} stops here\nbecause its source stops:\n{lacking} {lack_verb} no later value",
    "gap_label": "No survey data\n{gap_from} to\n{gap_to}",
    "chart_notes": "Lines: CSEW appendix tables. Hollow diamonds: values quoted in the reference documents ({quoted_points}).",
    "ylabel": "% of {age_group}-year-olds who used ({measure_label})",
    "alt": (
        "Two line charts of {measure_label} drug use among {age_group}-year-olds from {first_period}. {headline_points}. "
        "A shaded band marks the survey gap from {gap_from} to {gap_to}.{stops_alt}"
    ),
    "closing": (
        "Between {first_period} and {last_table_period} the tables show {measure_label} use of any drug among {age_group}-year-olds "
        "moving between {min_any:.1f}% and {max_any:.1f}%. {quoted_sentence}"
    ),
    "quoted_sentence": "The {quoted_periods} points are quoted values ({quoted_values}), not rebuilt from a table in this edition.",
    "no_quoted_sentence": "Every point is read from a CSEW table.",
    "unavailable": "no CSEW table for {period} in this edition; the value is quoted in {quoted_in}",
}
NOTES_DEFINITIONS = [
    "'Any drug' comprises powder cocaine, crack cocaine, ecstasy, LSD, magic mushrooms, heroin, methadone, amphetamines, cannabis, "
    "tranquillisers, anabolic steroids and any other pills/powders/drugs plus ketamine since March 2007, methamphetamine since "
    "March 2009 and mephedrone since March 2013.",
    "'Any Class A drug' comprises crack cocaine, powder cocaine, ecstasy, LSD, magic mushrooms, heroin, methadone and methamphetamine.",
    "'Cocaine' includes both crack and powder cocaine.",
    "An opiate is a natural or semi-synthetic substance that is derived from the opium poppy plant. "
    "Opium, heroin and morphine are examples of opiates.",
]
ASSUMPTIONS = [
    "Where editions overlap, the newest edition's value is used (each edition reweights its back series).",
    "A survey year is plotted at the end of its interview period (a survey year at the March it ends; a part year at its last month).",
]
CAVEATS = [
    "Part-year estimates after the pandemic gap come from fewer months of interviews with a lower response rate; "
    "ONS advises caution comparing them with earlier years."
]

#: The published numbers this figure reconciles: which age group, drug and period each one is. The value
#: is rebuilt from this run's tables for the run's measure; without a table for the period it is unavailable.
CHECKS = {
    "any_drug_16_59_ye_jun2022": ("16-59", "Any drug"),
    "class_a_16_59_ye_jun2022": ("16-59", "Any Class A drug"),
    "any_drug_16_24_ye_jun2022": ("16-24", "Any drug"),
    "class_a_16_24_ye_jun2022": ("16-24", "Any Class A drug"),
}
CHECK_PERIOD = re.compile(r"_ye_([a-z]{3})(\d{4})$")


def check_period(check: str) -> pd.Timestamp:
    """The survey period a check id names (``..._ye_jun2022`` -> year ending 30 June 2022)."""
    import pandas as pd

    month, year = CHECK_PERIOD.search(check).groups()
    return pd.Timestamp(dt.datetime.strptime(f"{month}{year}", "%b%Y")) + pd.offsets.MonthEnd(0)


def period_tick(year_ending: pd.Timestamp, *, with_months: bool = True) -> str:
    """NAO-style label: 2010-11 for a survey year, 2021-22 (Oct-Jun) for a part year."""
    if year_ending.month == 3:
        return f"{year_ending.year - 1}-{year_ending.year % 100:02d}"
    start = _part_year_start(year_ending)
    label = f"{start.year}-{year_ending.year % 100:02d}"
    return f"{label}\n({start:%b}-{year_ending:%b})" if with_months else label


def _part_year_start(year_ending: pd.Timestamp) -> pd.Timestamp:
    import pandas as pd

    # CSEW part years after the gap are nine interview months (e.g. October to June).
    return year_ending - pd.DateOffset(months=8)


def series_stops(series: pd.DataFrame, combined: pd.DataFrame, *, age_group: str, measure: str) -> pd.DataFrame:
    """Table series that end before the newest table period, and the editions that lack a later value.

    Returns
    -------
    pandas.DataFrame
        ``drug_type, series, last_year_ending, lacking`` (edition labels, newest last); empty when every series runs to the end.
    """
    import pandas as pd

    table = series[series.origin == "table"]
    if table.empty:
        return pd.DataFrame(columns=["drug_type", "series", "last_year_ending", "lacking"])
    newest = table.year_ending.max()
    chosen = combined[(combined.age_group == age_group) & (combined.measure == measure)]
    edition_ends = chosen.groupby("edition")["year_ending"].max().sort_values()
    rows = []
    for drug, rows_of in table.groupby("drug_type", sort=False):
        last = rows_of.year_ending.max()
        if last < newest:
            lacking = [edition for edition, end in edition_ends.items() if end > last]
            rows.append({"drug_type": drug, "series": rows_of.series.iloc[0], "last_year_ending": last, "lacking": lacking})
    return pd.DataFrame(rows, columns=["drug_type", "series", "last_year_ending", "lacking"])


def _spread(targets: list[float], min_gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``targets`` (sorted order kept), at least ``min_gap`` apart, within [low, high]."""
    order = sorted(range(len(targets)), key=lambda i: targets[i])
    placed = [max(low, targets[order[0]])] if order else []
    for i in order[1:]:
        placed.append(max(targets[i], placed[-1] + min_gap))
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [max(low + k * min_gap, y - overflow) for k, y in enumerate(placed)]
    out = [0.0] * len(targets)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


def _draw(series, gap, stops, p: Params, values: dict, title: str, subtitle: str, source: str):
    import matplotlib.pyplot as plt
    import pandas as pd

    from nao_analysis.charts import TEXT as INK
    from nao_analysis.charts import add_source_line, apply_house_style

    apply_house_style()
    chart, axes = plt.subplots(1, 2, figsize=(14, 7.6), sharex=True)
    chart.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold", color=INK)
    chart.text(0.01, 0.935, subtitle, ha="left", va="top", fontsize=9.5, color=GREY_TEXT)
    ticks = series.drop_duplicates("year_ending").sort_values("year_ending").year_ending
    last_tick = ticks.max()
    table_end = series[series.origin == "table"].year_ending.max()
    stopped = {r.drug_type: r for r in stops.itertuples()}
    panels = [
        ("Any drug, Class A, cannabis and cocaine", p.headline_drugs, HEADLINE_COLOURS),
        ("Other drugs", p.other_drugs, OTHER_COLOURS),
    ]
    for index, (ax, (panel_title, drugs, palette)) in enumerate(zip(axes, panels, strict=True)):
        direct = index == 1  # the crowded panel is labelled at the line ends, not by a legend
        top = series[series.drug_type.isin(drugs)].percent.max() * (1.3 if direct else 1.15)
        ax.set_ylim(0, top)
        ax.axvspan(gap["start"], gap["end"], color="#e8e8e8", zorder=0)
        ax.text(
            gap["start"] + (gap["end"] - gap["start"]) / 2,
            0.98 if direct else 0.02,
            fill(TEXT["gap_label"], values),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top" if direct else "bottom",
            fontsize=7.5,
            color=GREY_TEXT,
        )
        ends = []
        for i, drug in enumerate(drugs):
            colour, marker = palette[i], MARKERS[i % len(MARKERS)]
            rows = series[series.drug_type == drug]
            from_table = rows[rows.origin == "table"]
            from_quotes = rows[rows.origin == "quoted"]
            name = rows.series.iloc[0]
            ax.plot(from_table.year_ending, from_table.percent, marker=marker, markersize=4, color=colour, label=name)
            ax.scatter(
                from_quotes.year_ending,
                from_quotes.percent,
                marker="D",
                s=42,
                facecolors="white",
                edgecolors=colour,
                linewidths=1.6,
                zorder=3,
            )
            for q in from_quotes.itertuples():
                left_of = q.year_ending >= last_tick  # the last point's label goes inwards, clear of the next panel
                ax.annotate(
                    f"{q.percent:g}% (quoted)",
                    (q.year_ending, q.percent),
                    textcoords="offset points",
                    xytext=(4, -14) if left_of else (6, 4),
                    ha="right" if left_of else "left",
                    fontsize=7.5,
                    color=colour,
                )
            if from_table.empty:
                continue
            last = from_table.iloc[-1]
            stop = stopped.get(drug)
            if direct:
                ends.append((name, last, colour, stop))
            else:
                ax.annotate(
                    f"{last.percent:.1f}",
                    (last.year_ending, last.percent),
                    textcoords="offset points",
                    xytext=(-4, 6),
                    ha="right",
                    fontsize=7.5,
                    color=colour,
                )
                if stop is not None:
                    # Above the line and to the left, in the space between this series and the next one up.
                    ax.annotate(
                        fill(TEXT["stops_on_chart"], _stop_values(stop)),
                        (last.year_ending, last.percent),
                        textcoords="offset points",
                        xytext=(-12, 36),
                        ha="right",
                        va="bottom",
                        fontsize=7,
                        color=colour,
                        fontstyle="italic",
                        arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6, "shrinkA": 2, "shrinkB": 4},
                    )
        if direct and ends:
            x_label = table_end + pd.DateOffset(months=2)
            spots = _spread([e[1].percent for e in ends], min_gap=top * 0.055, low=top * 0.02, high=top * 0.78)
            for (name, last, colour, stop), y in zip(ends, spots, strict=True):
                text = f"{name} {last.percent:.1f}" + (" (series stops: its source stops)" if stop else "")
                ax.annotate(
                    text,
                    xy=(last.year_ending, last.percent),
                    xytext=(x_label, y),
                    textcoords="data",
                    va="center",
                    ha="left",
                    fontsize=7.5,
                    color=colour,
                    arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6, "shrinkA": 0, "shrinkB": 3},
                )
        ax.set_title(panel_title, fontsize=10)
        ax.set_ylabel(fill(TEXT["ylabel"], values), labelpad=8)
        ax.set_xticks(ticks)
        ax.set_xticklabels([period_tick(t) for t in ticks], rotation=90, fontsize=7.5)
    axes[0].scatter([], [], marker="D", facecolors="white", edgecolors=INK, label="Quoted value (no table in this edition)")
    axes[0].legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    chart.subplots_adjust(top=0.86, bottom=0.3, wspace=0.3)
    add_source_line(chart, source, notes=fill(TEXT["chart_notes"], values))
    return chart


def _stop_values(stop) -> dict:
    lacking = list(stop.lacking)
    return {
        "series": stop.series,
        "period": period_tick(stop.last_year_ending, with_months=False),
        "lacking": "the " + join_words(lacking) + (" edition" if len(lacking) == 1 else " editions"),
        "lack_verb": "has" if len(lacking) == 1 else "have",
    }


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _when(timestamp: pd.Timestamp) -> str:
    return f"{timestamp:%B %Y}"


def run(ctx: FigureContext) -> FigureResult:
    import pandas as pd

    from nao_analysis.analysis.prevalence import (
        chart_series,
        quoted_series,
        rebuilt_value,
        survey_gap,
        table_series,
        table_vs_quoted,
        validate_quoted_points,
    )
    from nao_analysis.readers.csew import combine_editions, read_csew

    p: Params = ctx.params
    # load
    editions = [read_csew(ctx.fetch(source_id), ctx.source_format(source_id), settings=ctx.settings) for source_id in p.sources]
    quoted = ctx.read_manual(
        p.quoted_points, lambda frame: validate_quoted_points(frame, name=p.quoted_points), dtype=None, keep_default_na=True
    )
    # process
    combined = combine_editions(editions)
    drugs = p.headline_drugs + p.other_drugs
    table = table_series(combined, age_group=p.age_group, measure=p.measure, drugs=drugs, first_survey_year=p.first_survey_year)
    points = quoted_series(quoted, age_group=p.age_group, measure=p.measure, drugs=drugs)
    series = chart_series(table, points)
    gap = survey_gap(series, gap_start=pd.Timestamp(p.gap_start), gap_end=pd.Timestamp(p.gap_end))
    stops = series_stops(series, combined, age_group=p.age_group, measure=p.measure)
    periods = series.drop_duplicates("year_ending").sort_values("year_ending").year_ending
    any_drug = series[series.drug_type == "Any drug"].sort_values("year_ending")
    any_table = any_drug[any_drug.origin == "table"]
    any_quoted = any_drug[any_drug.origin == "quoted"]
    first_any, last_any = float(any_drug.percent.iloc[0]), float(any_drug.percent.iloc[-1])
    measure_label, measure_window = MEASURE_WORDS[p.measure]
    values = ctx.values(
        first_period=period_tick(periods.iloc[0], with_months=False),
        last_period=period_tick(periods.iloc[-1], with_months=False),
        last_table_period=period_tick(any_table.year_ending.max(), with_months=False),
        measure_label=measure_label,
        measure_window=measure_window,
        first_any=first_any,
        last_any=last_any,
        min_any=float(any_table.percent.min()),
        max_any=float(any_table.percent.max()),
        gap_from=_when(gap["start"]),
        gap_to=_when(gap["end"]),
        last_before=gap["last_before"],
        first_after=gap["first_after"],
        editions=", ".join(f"{e['edition'].iloc[0]} ({e['source_format'].iloc[0].replace('_', ' ')})" for e in editions),
        quoted_periods=join_words([period_tick(t, with_months=False) for t in any_quoted.year_ending]),
        quoted_values=join_words([f"{v:g}%" for v in any_quoted.percent]),
        headline_points="; ".join(
            f"{r.series} {period_tick(r.year_ending, with_months=False)}: {r.percent:.1f}%{' (quoted)' if r.origin == 'quoted' else ''}"
            for r in any_drug.itertuples()
        ),
        stops_alt="".join(" " + fill(TEXT["note_stops"], _stop_values(s)) for s in stops.itertuples()),
    )
    change = last_any - first_any
    trend_key = "trend_stable" if abs(change) <= STABLE_BAND_PP else "trend_up" if change > 0 else "trend_down"
    values["trend"] = fill(TEXT[trend_key], values)
    values["quoted_sentence"] = fill(TEXT["quoted_sentence" if not any_quoted.empty else "no_quoted_sentence"], values)
    title, subtitle, source = (fill(TEXT[k], values) for k in ("title", "subtitle", "source"))
    gap_note = fill(TEXT["note_gap"], values)
    for end in periods[periods.dt.month != 3]:
        start = _part_year_start(end)
        gap_note += " " + fill(
            TEXT["note_part_year"], {"label": period_tick(end, with_months=False), "start_month": f"{start:%B}", "end_month": f"{end:%B}"}
        )
    notes = [fill(TEXT["note_group"], values), gap_note, *NOTES_DEFINITIONS, fill(TEXT["note_quoted"], values)]
    notes += [fill(TEXT["note_editions"], values), fill(TEXT["note_survey_gap"], values)]
    notes += [fill(TEXT["note_stops"], _stop_values(s)) for s in stops.itertuples()]

    # chart
    chart = _draw(series, gap, stops, p, values, title, subtitle, source)

    # reconcile: each published number is one age group, drug and period, rebuilt for this run's measure
    recon = reconciliation(ctx)
    for check, (age_group, drug) in CHECKS.items():
        period = check_period(check)
        value = rebuilt_value(combined, age_group=age_group, measure=p.measure, drug_type=drug, year_ending=period)
        quoted_in = quoted[(quoted.age_group == age_group) & (quoted.drug_type == drug) & (quoted.year_ending == period)]
        explanation = None
        if value is None:
            label = _lower_first(quoted_in.period_label.iloc[0]) if len(quoted_in) else f"the period ending {_when(period)}"
            where = "; ".join(f"{r.document}, {r.citation}" for r in quoted_in.itertuples()) or "no reference document either"
            explanation = fill(TEXT["unavailable"], {"period": "the " + label, "quoted_in": where})
        recon.check(check, value, explanation=explanation)

    comparison = table_vs_quoted(combined, quoted)
    wide = series[series.origin == "table"].pivot_table(index="period_label", columns="series", values="percent", sort=False).round(1)
    return FigureResult(
        figure_id=ctx.figure_id,
        title=title,
        subtitle=subtitle,
        notes=notes,
        source=source,
        charts=[Chart(chart, fill(TEXT["alt"], values))],
        data={None: series},
        tables={
            "Prevalence by survey year (tables)": wide.reset_index().rename(columns={"period_label": "Survey year"}),
            "Quoted values against the tables": comparison[
                ["age_group", "drug_type", "period_label", "percent", "table_percent", "table_edition", "status", "document"]
            ].rename(
                columns={
                    "age_group": "Age group",
                    "drug_type": "Drug",
                    "period_label": "Period",
                    "percent": "Quoted (%)",
                    "table_percent": "Table (%)",
                    "table_edition": "Table edition",
                    "status": "Status",
                    "document": "Quoted in",
                }
            ),
        },
        text={"closing": fill(TEXT["closing"], values)},
        assumptions=list(ASSUMPTIONS),
        caveats=list(CAVEATS),
        reconciliation=recon.finish(),
    )
