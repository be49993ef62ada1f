"""Area profiles on the site: ``reports/<edition>/areas/<code>.html`` for each area and ``areas/index.html``.

Built only from finished records: the ``areas`` record (its ``extra["areas"]``, shape in
:mod:`nao_analysis.figures.areas`) and, for the treatment gap, Figure 5's record and the GeoJSON of its mapped
areas. No source is read and no notebook is run, so all pages of an edition take well under ten seconds.

Honesty rules kept here: a gap is written "no data", never 0; a chart line joins only points of the same basis
and the same areas covered, so a budget point is never joined to an outturn point; Figure 3's flag is shown
beside a flagged change; every number can be downloaded as CSV, and the inputs behind it are listed with sha256.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nao_analysis.report.page import render_page
from nao_analysis.safe_io import write_text_atomic

e = html.escape
FOLDER = "areas"
AREAS_FIGURE = "areas"
TREATMENT_GAP_FIGURE = "fig05"
BASIS_COLOUR = {"outturn": "#12436D", "budget": "#801650"}
BASIS_DASH = {"outturn": "", "budget": ' stroke-dasharray="6 4"'}
BASIS_LONG = {"outturn": "outturn (RO3: what was spent)", "budget": "budget (RA: what was planned)"}
HOW_TO_GET_GAP = (
    "build an edition whose Figure 5 input holds every area - for example `nao-analysis build --edition nao-2023` on a "
    "machine with internet access, which downloads Fingertips indicator 93517 for all counties and unitary authorities"
)
AREA_CSS = (
    ".area-list{columns:3 16em;padding-left:1.2em}.area-list li{margin:2px 0}"
    "svg.area-chart{width:100%;max-width:640px;height:auto}.flag{color:#801650}"
    "table.area td.num{text-align:right}"
)
SEARCH_JS = """
(function () {
  var box = document.getElementById('area-search');
  var items = Array.prototype.slice.call(document.querySelectorAll('#area-list li'));
  var count = document.getElementById('area-count');
  box.hidden = false;
  document.getElementById('area-search-label').hidden = false;
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase().trim();
    var shown = 0;
    items.forEach(function (item) {
      var match = item.textContent.toLowerCase().indexOf(words) !== -1;
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + ' of ' + items.length + ' areas shown';
  });
})();
"""


class AreaRecordError(ValueError):
    """The areas record is missing its list of areas or an area lacks a code or name."""


# -- reading records -------------------------------------------------------------------------------


def find_record(figure_id: str, *folders: Path) -> tuple[dict[str, Any], Path] | None:
    """The finished record of ``figure_id`` (``<figure>_*.json``) in the first folder that has one."""
    for folder in folders:
        for path in sorted(Path(folder).glob(f"{figure_id}_*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(record, dict) and record.get("figure") == figure_id:
                return record, path.parent
    return None


def areas_of(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The per-area entries of an ``areas`` record, each checked for a code and a name."""
    areas = (record.get("extra") or {}).get("areas")
    if not isinstance(areas, list) or not areas:
        raise AreaRecordError(f"{record.get('stem', 'areas')}.json: holds no list of areas in extra.areas - rebuild the areas figure")
    for number, area in enumerate(areas, 1):
        if not isinstance(area, dict) or not str(area.get("code") or "").strip() or not str(area.get("name") or "").strip():
            raise AreaRecordError(f"{record.get('stem', 'areas')}.json: area {number} has no code or name - every area needs both")
    return areas


def treatment_gap_by_code(record: Mapping[str, Any] | None, folder: Path | None) -> dict[str, dict[str, Any]]:
    """Figure 5's value and class per area code, from the GeoJSON its record names; empty when unavailable."""
    if not record or folder is None:
        return {}
    name = (record.get("map") or {}).get("geojson")
    path = Path(folder) / str(name) if name else None
    if path is None or not path.is_file():
        return {}
    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features", [])
    except (OSError, json.JSONDecodeError):
        return {}
    year = (record.get("params") or {}).get("year", "")
    out = {}
    for feature in features:
        props = feature.get("properties") or {}
        value = _number(props.get("value"))
        if props.get("code") and value is not None:
            out[str(props["code"])] = {
                "value_pct": value,
                "class_label": props.get("class_label") or "",
                "year": year,
                "title": record.get("title", ""),
            }
    return out


# -- formatting ------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def money(value: Any) -> str:
    number = _number(value)
    return "no data" if number is None else f"{number:,.0f}"


def percent(value: Any, signed: bool = False) -> str:
    number = _number(value)
    if number is None:
        return "no data"
    text = f"{number:+.1f}%" if signed else f"{number:.1f}%"
    return text.replace("-", "\u2212")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _year_start(year: str) -> int:
    return int(str(year)[:4])


# -- charts ----------------------------------------------------------------------------------------


def spending_chart_svg(spending: Sequence[Mapping[str, Any]], price_year: str) -> str:
    """Real-terms spending by year as inline SVG.

    One series per basis and set of areas covered: a line joins only points of the same basis *and* the same
    coverage, so a budget point is never joined to an outturn point, nor a sum of predecessors to one successor.
    Every point is labelled with its basis; a gap (no data) is left out and breaks nothing.
    """
    points = [(s, _number(s.get("real_gbp_k"))) for s in spending]
    values = [v for _, v in points if v is not None]
    if not values:
        return ""
    starts = sorted({_year_start(s["year"]) for s, _ in points})
    width, height, left, right, top, bottom = 640.0, 260.0, 70.0, 20.0, 20.0, 44.0
    top_value = max(values) * 1.2 or 1.0
    span = max(starts[-1] - starts[0], 1)

    def x(year: str) -> float:
        return left + (_year_start(year) - starts[0]) / span * (width - left - right)

    def y(value: float) -> float:
        return top + (1 - value / top_value) * (height - top - bottom)

    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#505a5f"/>']
    for tick in (0.0, top_value / 2.4, top_value / 1.2):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#0b0c0c">{tick:,.0f}</text>')
    for year in sorted({s["year"] for s, _ in points}, key=_year_start):
        parts.append(
            f'<text x="{x(year):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" fill="#0b0c0c">{e(year)}</text>'
        )
    series: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for s, value in points:
        if value is not None:
            series.setdefault((str(s.get("basis")), str(s.get("covers"))), []).append((s["year"], value))
    for (basis, _covers), pts in series.items():
        colour = BASIS_COLOUR.get(basis, "#505a5f")
        pts = sorted(pts, key=lambda p: _year_start(p[0]))
        if len(pts) >= 2:
            d = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in pts)
            parts.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"{BASIS_DASH.get(basis, "")}/>')
        for year, value in pts:
            parts.append(f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="4" fill="{colour}"/>')
            parts.append(
                f'<text x="{x(year):.1f}" y="{y(value) - 8:.1f}" font-size="11" text-anchor="middle" fill="{colour}">{e(basis)}</text>'
            )
    label = f"Real-terms spending, £ thousand in {price_year} prices: " + "; ".join(
        f"{s['year']} {s.get('basis')} ({s.get('covers')}) {'no data' if v is None else f'£{v:,.0f} thousand'}" for s, v in points
    )
    return (
        f'<figure><svg class="area-chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{e(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{e(label)}</title>{"".join(parts)}</svg>'
        f"<figcaption>Real-terms spending, £ thousand in {e(price_year)} prices. Solid: outturn; dashed: budget. Each point is "
        "labelled with its basis, and a line joins only points of the same basis covering the same areas.</figcaption></figure>"
    )


def deaths_chart_svg(rolling: Sequence[Mapping[str, Any]], window: int) -> str:
    """Rolling totals of deaths as a line; a gap breaks the line."""
    points = [(r, _number(r.get("deaths"))) for r in rolling]
    values = [v for _, v in points if v is not None]
    if not values:
        return ""
    width, height, left, right, top, bottom = 640.0, 220.0, 50.0, 20.0, 16.0, 40.0
    first, last = points[0][0]["last_year"], points[-1][0]["last_year"]
    top_value = max(values) * 1.15 or 1.0

    def x(year: int) -> float:
        return left + (year - first) / max(last - first, 1) * (width - left - right)

    def y(value: float) -> float:
        return top + (1 - value / top_value) * (height - top - bottom)

    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#505a5f"/>']
    for tick in (0.0, top_value / 2.3, top_value / 1.15):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#0b0c0c">{tick:,.0f}</text>')
    step = max(1, (last - first) // 6)
    for r, _ in points[::step]:
        parts.append(
            f'<text x="{x(r["last_year"]):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
            f'fill="#0b0c0c">{e(r["period"])}</text>'
        )
    run: list[tuple[int, float]] = []
    for r, value in [*points, ({"last_year": None}, None)]:
        if value is None:
            if len(run) >= 2:
                d = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in run)
                parts.append(f'<polyline points="{d}" fill="none" stroke="#12436D" stroke-width="2"/>')
            run = []
        else:
            run.append((r["last_year"], value))
    label = f"Drug-poisoning deaths, {window}-year rolling totals: " + "; ".join(
        f"{r['period']} {'no data' if v is None else f'{v:,.0f}'}" for r, v in points
    )
    return (
        f'<figure><svg class="area-chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{e(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{e(label)}</title>{"".join(parts)}</svg>'
        f"<figcaption>Drug-poisoning deaths, {window}-year totals by year of registration (labelled by their years).</figcaption></figure>"
    )


# -- CSV -------------------------------------------------------------------------------------------


CSV_COLUMNS = ["code", "name", "measure", "period", "basis", "covers", "value", "unit", "status", "source"]


def area_csv(area: Mapping[str, Any], price_year: str, gap: Mapping[str, Any] | None = None, gap_source: str = "") -> str:
    """Every number on the area's page as tidy CSV; a gap is an empty value with its status, never 0."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(measure, period, basis, covers, raw, unit, status, source) -> None:
        value = _number(raw)
        writer.writerow(
            [area["code"], area["name"], measure, period, basis or "", covers or "", "" if value is None else value, unit]
            + [status or ("" if value is not None else "no data"), source or ""]
        )

    for s in area.get("spending") or []:
        row(
            "treatment_spending_cash",
            s["year"],
            s.get("basis"),
            s.get("covers"),
            s.get("cash_gbp_k"),
            "GBP thousand",
            s.get("status"),
            s.get("source"),
        )
        row(
            "treatment_spending_real",
            s["year"],
            s.get("basis"),
            s.get("covers"),
            s.get("real_gbp_k"),
            f"GBP thousand, {price_year} prices",
            s.get("status"),
            s.get("source"),
        )
    for c in area.get("changes") or []:
        period = f"{c['from']} to {c['to']}"
        row("real_terms_change", period, c["basis"], c.get("covers"), c.get("real_pct"), "%", c.get("no_data_reason"), "")
        row("england_real_terms_change", period, c["basis"], "England", c.get("england_real_pct"), "%", "", "")
        row("rank_largest_fall_first", period, c["basis"], f"of {c.get('of')}", c.get("rank"), "rank", c.get("flag"), "")
    for s in area.get("public_health_share") or []:
        row(
            "public_health_spending",
            s["year"],
            s.get("basis"),
            s.get("covers"),
            s.get("public_health_gbp_k"),
            "GBP thousand",
            "",
            s.get("source"),
        )
        row(
            "treatment_share_of_public_health",
            s["year"],
            s.get("basis"),
            s.get("covers"),
            s.get("share_pct"),
            "%",
            s.get("status"),
            s.get("source"),
        )
    deaths = area.get("deaths") or {}
    for r in deaths.get("annual") or []:
        row("drug_poisoning_deaths", r["year"], "", deaths.get("covers"), r.get("deaths"), "deaths", r.get("status"), deaths.get("source"))
    for r in deaths.get("rolling") or []:
        row(
            "drug_poisoning_deaths_rolling",
            r["period"],
            "",
            deaths.get("covers"),
            r.get("deaths"),
            "deaths",
            r.get("status"),
            deaths.get("source"),
        )
    if gap:
        row("opiate_crack_users_not_in_treatment", gap.get("year"), "", area["name"], gap.get("value_pct"), "%", "", gap_source)
    return out.getvalue()


# -- page ------------------------------------------------------------------------------------------


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] = frozenset()) -> str:
    """An accessible table: caption, column headers with scope, the first cell of each row a row header (cells escaped)."""
    header = "".join(f'<th scope="col">{e(h)}</th>' for h in head)
    body = []
    for row in rows:
        cells = [f'<th scope="row">{e(row[0])}</th>']
        cells += [f'<td class="num">{e(c)}</td>' if i in numeric else f"<td>{e(c)}</td>" for i, c in enumerate(row[1:], 1)]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="area"><caption>{e(caption)}</caption><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def area_page_body(
    area: Mapping[str, Any],
    record: Mapping[str, Any],
    gap: Mapping[str, Any] | None,
    gap_record: Mapping[str, Any] | None,
) -> str:
    """The body of one area's page (everything escaped)."""
    extra = record.get("extra") or {}
    price_year = str(extra.get("price_year", ""))
    window = int(extra.get("rolling_window", 3))
    code = str(area["code"])
    out = ['<p><a href="index.html">All areas</a></p>', f'<p class="verdict">{e(str(area.get("summary", "")))}</p>']
    history = list(area.get("history") or [])
    partner = area.get("partner")
    if history or partner:
        notes = []
        if partner:
            notes.append(
                f"{partner['name']} ({partner['code']}) is counted with {area['name']} in every year, as in public health finance data."
            )
        for text, base in zip(history, area.get("predecessors") or []):
            if "small authority" not in text:
                notes.append(f"Boundary change ({text}). Its history before the change comes from: {base.replace('; ', ', ')}.")
        if notes:
            out.append(f'<div class="explanation"><h2>Boundary history</h2><p>{e(" ".join(notes))}</p></div>')

    out.append("<h2>Spending on adult substance misuse treatment</h2>")
    spending = area.get("spending") or []
    if spending:
        out.append(spending_chart_svg(spending, price_year))
        rows = [
            [
                s["year"],
                BASIS_LONG.get(s.get("basis"), s.get("basis", "")),
                s.get("covers", ""),
                money(s.get("cash_gbp_k")),
                money(s.get("real_gbp_k")),
                s.get("source", ""),
            ]
            for s in sorted(spending, key=lambda s: (_year_start(s["year"]), s.get("basis", "")))
        ]
        out.append(
            _table(
                f"Spending by year and basis (£ thousand; real terms in {price_year} prices)",
                ["Year", "Basis", "Areas covered", "Cash", "Real terms", "Source"],
                rows,
                {3, 4},
            )
        )
    else:
        out.append("<p>This edition has no spending figures for this area.</p>")
    changes = area.get("changes") or []
    if changes:
        rows = []
        for c in changes:
            rank = f"{_ordinal(c['rank'])} of {c['of']} areas with a change" if c.get("rank") else "not ranked (no change)"
            rows.append(
                [
                    f"{c['from']} to {c['to']}",
                    c["basis"],
                    c.get("covers", ""),
                    percent(c.get("real_pct"), True),
                    percent(c.get("england_real_pct"), True),
                    rank,
                    c.get("flag") or c.get("no_data_reason") or "",
                ]
            )
        out.append(
            _table(
                "Real-terms change against England's, with the rank among areas (1 = largest fall)",
                ["Years", "Basis", "Areas compared", "This area", "England", "Rank", "Flag or gap"],
                rows,
                {3, 4},
            )
        )
        flagged = [c for c in changes if c.get("flag")]
        for c in flagged:
            out.append(f'<p class="flag"><strong>Flag ({e(c["from"])} to {e(c["to"])}):</strong> {e(c["flag"])}</p>')

    out.append("<h2>Share of public health spending</h2>")
    shares = area.get("public_health_share") or []
    if shares:
        rows = [
            [
                s["year"],
                s.get("basis", ""),
                s.get("covers", ""),
                money(s.get("treatment_gbp_k")),
                money(s.get("public_health_gbp_k")),
                percent(s.get("share_pct")) if _number(s.get("share_pct")) is not None else (s.get("status") or "no data"),
            ]
            for s in sorted(shares, key=lambda s: (_year_start(s["year"]), s.get("basis", "")))
        ]
        out.append(
            _table(
                "Treatment spending as a share of total public health spending (same year, basis and areas; £ thousand, cash)",
                ["Year", "Basis", "Areas covered", "Treatment", "Public health", "Share"],
                rows,
                {3, 4},
            )
        )
    else:
        out.append("<p>This edition has no public health totals for this area.</p>")

    deaths = area.get("deaths") or {}
    out.append("<h2>Drug-poisoning deaths</h2>")
    rolling = deaths.get("rolling") or []
    if rolling:
        said = [f"All drug-poisoning deaths by year of registration, as {window}-year rolling totals (counts in one year are small)."]
        if deaths.get("covers") and ";" in str(deaths.get("covers")):
            said.append(f"Areas counted: {str(deaths['covers']).replace('; ', ', ')}.")
        if deaths.get("summed_from_districts"):
            said.append("Summed from the area's districts, as the extract lists districts.")
        if deaths.get("third_party"):
            said.append("Source: a third party's extract of the ONS local-authority tables, not the official file.")
        out.append(f"<p>{e(' '.join(said))}</p>")
        out.append(deaths_chart_svg(rolling, window))
        annual = {r["year"]: r for r in deaths.get("annual") or []}
        rows = [[r["period"], money(r.get("deaths")), money((annual.get(r["last_year"]) or {}).get("deaths"))] for r in rolling]
        out.append(
            _table(
                f"Drug-poisoning deaths, {window}-year totals and the last year's count",
                ["Years", f"{window}-year total", "Last year alone"],
                rows,
                {1, 2},
            )
        )
    else:
        out.append("<p>This edition has no deaths figures for this area.</p>")

    out.append("<h2>Opiate and crack users not in treatment (Figure 5)</h2>")
    if gap:
        out.append(
            f"<p>{e(percent(gap['value_pct']))} in {e(str(gap.get('year', '')))} "
            f"(map class: {e(str(gap.get('class_label', '')))}), from Figure 5.</p>"
        )
    else:
        reason = "Figure 5 was not built" if gap_record is None else "Figure 5's input has no value for this area"
        out.append(f"<p>Unavailable in this edition ({e(reason)}). To get it, {e(HOW_TO_GET_GAP)}.</p>")

    notes = extra.get("notes") or []
    if notes:
        out.append("<h2>Notes</h2><ol>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ol>")
    out.append(
        f'<h2>Data and provenance</h2><p><a href="{e(code)}.csv">Every number on this page (CSV)</a>. The '
        '<a href="../provenance.html">provenance page</a> lists every input of the edition.</p>'
    )
    out.append(provenance_table(area, record, gap_record if gap else None))
    return "".join(out)


def provenance_table(area: Mapping[str, Any], record: Mapping[str, Any], gap_record: Mapping[str, Any] | None) -> str:
    """The inputs behind the numbers on the page, with their sha256."""
    inputs = dict(record.get("inputs") or {})
    used = [s.get("source") for s in area.get("spending") or []]
    used += [s.get("source") for s in area.get("public_health_share") or []]
    used += [(area.get("deaths") or {}).get("source")]
    # The comparison also rests on the deflator, lookups and boundaries: every other input of the record is listed too.
    ordered = [s for s in dict.fromkeys([*used, *inputs]) if s]
    rows = [
        [
            s,
            str((inputs.get(s) or {}).get("title", "")),
            str((inputs.get(s) or {}).get("kind", "")),
            str((inputs.get(s) or {}).get("sha256", "")),
        ]
        for s in ordered
    ]
    if gap_record:
        for s, p in (gap_record.get("inputs") or {}).items():
            rows.append([s, str(p.get("title", "")), str(p.get("kind", "")), str(p.get("sha256", ""))])
    return _table("Inputs of the numbers on this page", ["Source", "Title", "Kind", "sha256"], rows)


def pointer_body(small: Mapping[str, Any], partner: Mapping[str, Any]) -> str:
    return (
        f"<p>{e(small['name'])} is counted with {e(partner['name'])} in every year, as in public health finance data "
        f'(their services are commissioned jointly). See <a href="{e(partner["code"])}.html">{e(partner["name"])}</a>.</p>'
    )


def index_body(areas: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> str:
    items = "".join(
        f'<li><a href="{e(a["code"])}.html">{e(a["name"])}</a> <span class="meta">{e(a["code"])}</span></li>'
        for a in sorted(areas, key=lambda a: str(a["name"]).casefold())
    )
    return (
        f"<p>One page for each of the {len(areas)} areas: treatment spending in every revenue-account year of this edition, set "
        "against drug-poisoning deaths. Each area is also reached by clicking it on an interactive map.</p>"
        f"<p>{e(str(record.get('subtitle', '')))}</p>"
        '<p><label for="area-search" id="area-search-label" hidden>Find an area by name</label> '
        '<input type="search" id="area-search" autocomplete="off" hidden></p>'
        f'<p id="area-count" role="status">{len(areas)} areas</p><ul id="area-list" class="area-list">{items}</ul>'
        f"<script>{SEARCH_JS}</script>"
    )


def write_area_pages(figures_dir: Path, site_dir: Path, common: Mapping[str, Any]) -> Path | None:
    """Write every area's page and CSV, the pointer pages of City of London and the Isles of Scilly, and the index.

    Parameters
    ----------
    figures_dir, site_dir : pathlib.Path
        ``figures/<edition>/`` and ``reports/<edition>/``; records are looked for in both.
    common : mapping
        Keyword arguments for :func:`render_page` shared by every page of the site.

    Returns
    -------
    pathlib.Path or None
        ``areas/index.html``, or None when the edition has no areas record.
    """
    found = find_record(AREAS_FIGURE, figures_dir, site_dir)
    if found is None:
        return None
    record, _ = found
    areas = areas_of(record)
    gap_found = find_record(TREATMENT_GAP_FIGURE, figures_dir, site_dir)
    gap_record, gap_folder = gap_found if gap_found else (None, None)
    gaps = treatment_gap_by_code(gap_record, gap_folder)
    gap_source = ",".join((gap_record or {}).get("inputs", {}) or [])
    folder = Path(site_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    page = dict(common) | {
        "root": "../",
        "head_extra": f"<style>{AREA_CSS}</style>",
        "footer_html": '<a href="../manifest.json">manifest.json</a> &middot; <a href="index.html">all areas</a>',
    }
    price_year = str((record.get("extra") or {}).get("price_year", ""))
    for area in areas:
        code = str(area["code"])
        gap = gaps.get(code)
        write_text_atomic(folder / f"{code}.csv", area_csv(area, price_year, gap, gap_source))
        body = area_page_body(area, record, gap, gap_record)
        write_text_atomic(folder / f"{code}.html", render_page(title=f"{area['name']} ({code})", body_html=body, **page))
        if area.get("partner"):
            small = area["partner"]
            write_text_atomic(
                folder / f"{small['code']}.html",
                render_page(title=f"{small['name']} ({small['code']})", body_html=pointer_body(small, area), **page),
            )
    index = folder / "index.html"
    write_text_atomic(index, render_page(title="Area profiles", body_html=index_body(areas, record), **page))
    return index


def site_index_link(site_dir: Path) -> str:
    """A paragraph linking the site's index to the area profiles, empty when none were written."""
    if not (Path(site_dir) / FOLDER / "index.html").exists():
        return ""
    return '<p class="links"><a href="areas/index.html">Area profiles: one page per area, spending set against harm</a></p>'


def area_links(site_dir: Path) -> dict[str, str]:
    """Area code -> site-relative page, for the interactive maps (every page written, pointer pages included)."""
    folder = Path(site_dir) / FOLDER
    return {p.stem: f"{FOLDER}/{p.name}" for p in sorted(folder.glob("E*.html"))} if folder.is_dir() else {}
