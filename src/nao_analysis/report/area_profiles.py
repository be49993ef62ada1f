"""Area profiles: one page per area, ``reports/<edition>/areas/<code>.html``, and a searchable index of them.

Built from the finished ``areas`` record only (no notebook run, no source read), so all the pages of an edition
take well under a second each. The record's shape (written by its recipe beside the other figure records):

.. code-block:: text

    {
      "figure": "areas", "stem": "areas", "edition": "...", "title": "...", "source": "...",
      "price_year": "2022-23",                     # prices of every real-terms number
      "inputs": {source_id: provenance, ...},      # as in every figure record
      "areas": [ AREA, ... ]  or  "areas_profiles.json" (a file beside the record holding that list)
    }

    AREA = {
      "code": "E06000058", "name": "Bournemouth, Christchurch and Poole",
      "history": "Created in April 2019 ...",      # optional: where a reorganised area's history comes from
      "predecessors": [{"code": ..., "name": ...}],# optional
      "spending": [                                # every revenue-account year the suite has
        {"year": "2013-14", "basis": "outturn" | "budget", "cash_gbp_k": number | null,
         "real_gbp_k": number | null, "status": "" | "suppressed" | "missing", "source": source_id}
      ],
      "change": {                                  # optional: the Figure 3 comparison for this area
        "from": "2014-15", "to": "2021-22", "basis": "budget", "real_pct": number | null,
        "england_real_pct": number, "rank": int | null, "of": int, "flag": ""
      },
      "public_health_share": [                     # optional, years where both totals exist
        {"year": "2021-22", "treatment_gbp_k": number, "public_health_gbp_k": number, "share_pct": number, "source": source_id}
      ],
      "deaths": {                                  # optional
        "source": source_id, "third_party": true, "summed_from_districts": bool,
        "rolling": [{"period": "2018-2020", "deaths": number | null, "status": "" | "suppressed"}]
      },
      "treatment_gap": {"available": true, "year": "2020-21", "value_pct": 46.4, "class_label": "38% to under 48%"}
                     | {"available": false, "how": "what to do to get it"},
      "summary": "..."                             # optional: the recipe's sentence; otherwise one is made here
    }

Missing, suppressed and ``[x]`` values are shown as gaps ("no data"), never as zero; a line of the spending chart
only joins points of the same basis.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nao_analysis.report.formatting import format_change, to_number
from nao_analysis.report.page import AREAS_NAV, NAV, render_page
from nao_analysis.report.records import RecordError, record_file
from nao_analysis.safe_io import write_text_atomic

e = html.escape
LABEL_STYLE = 'font-size="11" fill="#0b0c0c"'
AREAS_FOLDER = "areas"
SEARCH_JS = """
(function () {
  var box = document.getElementById('area-search');
  var items = Array.prototype.slice.call(document.querySelectorAll('#area-list li'));
  var count = document.getElementById('area-count');
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


def load_areas(record: dict[str, Any], *folders: Path) -> list[dict[str, Any]]:
    """The per-area entries of an ``areas`` record (inline, or in the file it names), checked for code and name.

    Raises
    ------
    RecordError
        If the record holds no areas, the file it names is missing or not a list, or an area lacks a code or name.
    """
    areas = record.get("areas")
    if isinstance(areas, str):
        path = record_file(record, areas, *folders)
        try:
            areas = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RecordError(f"{path}: not valid JSON ({exc}) - rebuild the area profiles") from None
    if not isinstance(areas, list) or not areas:
        raise RecordError(f"{record.get('stem', 'areas')}.json: holds no list of areas - rebuild the area profiles")
    for number, area in enumerate(areas, 1):
        if not isinstance(area, dict) or not str(area.get("code") or "").strip() or not str(area.get("name") or "").strip():
            raise RecordError(f"{record.get('stem', 'areas')}.json: area {number} has no code or name - every area needs both")
    return areas


def _money(value: Any) -> str:
    number = to_number(value)
    return "no data" if number is None else f"{number:,.0f}"


def _percent(value: Any) -> str:
    number = to_number(value)
    return "no data" if number is None else f"{number:.1f}%"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def summary_sentence(area: dict[str, Any], price_year: str = "") -> str:
    """One sentence made from the area's numbers (the recipe's own ``summary`` is used when it gives one)."""
    if area.get("summary"):
        return str(area["summary"])
    parts = []
    change = area.get("change") or {}
    pct = to_number(change.get("real_pct"))
    if pct is not None:
        direction = "fell" if pct < 0 else "rose" if pct > 0 else "did not change"
        text = f"Real-terms spending on adult substance misuse treatment {direction} {format_change(abs(pct), '%').lstrip('+')}"
        text = text if pct != 0 else text.rsplit(" ", 1)[0]
        text += f" between {change.get('from')} and {change.get('to')} ({change.get('basis')} basis"
        text += f", {price_year} prices)" if price_year else ")"
        england = to_number(change.get("england_real_pct"))
        if england is not None:
            text += f", against {format_change(england, '%')} for England"
        rank, of = change.get("rank"), change.get("of")
        if rank and of and pct < 0:
            text += f": the largest fall of {of}" if int(rank) == 1 else f": the {_ordinal(int(rank))} largest fall of {of}"
        elif rank and of:
            text += f": {_ordinal(int(rank))} of {of} areas, largest fall first"
        parts.append(text + ".")
    elif change:
        parts.append(f"No real-terms change can be given for {change.get('from')} to {change.get('to')}: a year has no data.")
    rolling = [r for r in (area.get("deaths") or {}).get("rolling", []) if to_number(r.get("deaths")) is not None]
    if len(rolling) >= 2:
        first, last = rolling[0], rolling[-1]
        parts.append(
            f"Drug-poisoning deaths (three-year totals) went from {_money(first['deaths'])} in {first['period']} "
            f"to {_money(last['deaths'])} in {last['period']}."
        )
    gap = area.get("treatment_gap") or {}
    if gap.get("available") and to_number(gap.get("value_pct")) is not None:
        parts.append(
            f"An estimated {to_number(gap['value_pct']):.1f}% of adults using opiates or crack were not in treatment in {gap.get('year')}."
        )
    return " ".join(parts) or "This edition holds no numbers for this area."


def spending_chart_svg(spending: Sequence[dict[str, Any]], price_year: str = "") -> str:
    """A small line chart of real-terms spending by year; each basis is its own series, so no line joins a budget point
    to an outturn point, and every point is labelled with its basis. Gaps are left as gaps."""
    points = [(s["year"], s.get("basis", ""), to_number(s.get("real_gbp_k"))) for s in spending]
    values = [v for _, _, v in points if v is not None]
    if not values:
        return ""
    years = sorted({y for y, _, _ in points})
    width, height, left, right, top, bottom = 520.0, 220.0, 64.0, 16.0, 16.0, 40.0
    top_value = max(values) * 1.15 or 1.0

    def x(year: str) -> float:
        return left + (years.index(year) + 0.5) * (width - left - right) / len(years)

    def y(value: float) -> float:
        return top + (1 - value / top_value) * (height - top - bottom)

    styles = {"outturn": ("#12436D", ""), "budget": ("#801650", ' stroke-dasharray="6 4"')}
    parts = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#505a5f"/>',
    ]
    for tick in (0, top_value / 2, top_value / 1.15):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" fill="#0b0c0c">{tick:,.0f}</text>')
    for year in years:
        parts.append(
            f'<text x="{x(year):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" fill="#0b0c0c">{e(year)}</text>'
        )
    for basis, (colour, dash) in styles.items():
        series = [(year, v) for year, b, v in points if b == basis]
        # A gap (no data) breaks the line: consecutive points with values are joined, never across a gap.
        run: list[tuple[str, float]] = []
        for year, value in [*series, ("", None)]:
            if value is None:
                if len(run) >= 2:
                    d = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in run)
                    parts.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
                run = []
            else:
                run.append((year, value))
        for year, value in series:
            if value is not None:
                parts.append(f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="4" fill="{colour}"/>')
                parts.append(
                    f'<text x="{x(year):.1f}" y="{y(value) - 8:.1f}" font-size="11" text-anchor="middle" fill="{colour}">{e(basis)}</text>'
                )
    label = "Real-terms spending by year: " + "; ".join(
        f"{year} {basis} {'no data' if v is None else f'£{v:,.0f} thousand'}" for year, basis, v in points
    )
    return (
        f'<figure class="area-chart"><svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{e(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" style="width:100%;max-width:560px;height:auto">{"".join(parts)}</svg>'
        f"<figcaption>Real-terms spending, £ thousand in {e(price_year)} prices; each point is labelled with its basis, "
        "and only points of the same basis are joined.</figcaption></figure>"
    )


def area_csv(area: dict[str, Any], price_year: str) -> str:
    """Every number on the area's page as tidy CSV: measure, period, basis, value, unit, status, source."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "measure", "period", "basis", "value", "unit", "status", "source"])

    def row(measure: str, period: Any, basis: Any, raw: Any, unit: str, status: Any, source: Any) -> None:
        value = to_number(raw)
        # A gap stays a gap: an empty value with its status, never a zero.
        status = status or ("" if value is not None else "missing")
        writer.writerow(
            [area["code"], area["name"], measure, period, basis or "", "" if value is None else value, unit, status, source or ""]
        )

    real_unit = f"GBP thousand, {price_year} prices"
    for s in area.get("spending") or []:
        row("spending_cash", s.get("year"), s.get("basis"), s.get("cash_gbp_k"), "GBP thousand", s.get("status"), s.get("source"))
        row("spending_real", s.get("year"), s.get("basis"), s.get("real_gbp_k"), real_unit, s.get("status"), s.get("source"))
    for s in area.get("public_health_share") or []:
        row("treatment_share_of_public_health", s.get("year"), "", s.get("share_pct"), "%", "", s.get("source"))
    deaths = area.get("deaths") or {}
    for r in deaths.get("rolling") or []:
        row("drug_poisoning_deaths_3yr", r.get("period"), "", r.get("deaths"), "deaths", r.get("status"), deaths.get("source"))
    gap = area.get("treatment_gap") or {}
    if gap.get("available"):
        row("not_in_treatment", gap.get("year"), "", gap.get("value_pct"), "%", "", gap.get("source"))
    return out.getvalue()


def _sources_of(area: dict[str, Any]) -> list[str]:
    ids = [s.get("source") for s in area.get("spending") or []]
    ids += [s.get("source") for s in area.get("public_health_share") or []]
    ids += [(area.get("deaths") or {}).get("source"), (area.get("treatment_gap") or {}).get("source")]
    return [i for i in dict.fromkeys(ids) if i]


def area_page_body(area: dict[str, Any], record: dict[str, Any]) -> str:
    """The body of one area's page."""
    price_year = record.get("price_year", "")
    out = [f'<p class="verdict">{e(summary_sentence(area, price_year))}</p>']
    if area.get("history") or area.get("predecessors"):
        names = ", ".join(f"{p.get('name')} ({p.get('code')})" for p in area.get("predecessors") or [])
        out.append(
            '<p class="explanation"><strong>Boundary history.</strong> '
            + e(area.get("history") or "")
            + (e(f" Its history comes from: {names}.") if names else "")
            + "</p>"
        )
    spending = area.get("spending") or []
    out.append("<h2>Spending on adult substance misuse treatment</h2>")
    if spending:
        out.append(spending_chart_svg(spending, price_year))
        out.append(
            f"<table><caption>Spending by year and basis (£ thousand; real terms in {e(price_year)} prices)</caption><thead><tr>"
            '<th scope="col">Year</th><th scope="col">Basis</th><th scope="col">Cash</th><th scope="col">Real terms</th>'
            '<th scope="col">Source</th></tr></thead><tbody>'
            + "".join(
                f'<tr><th scope="row">{e(str(s.get("year", "")))}</th><td>{e(str(s.get("basis", "")))}</td>'
                f'<td class="num">{_money(s.get("cash_gbp_k"))}</td><td class="num">{_money(s.get("real_gbp_k"))}</td>'
                f"<td>{e(str(s.get('source', '')))}{' (' + e(s['status']) + ')' if s.get('status') else ''}</td></tr>"
                for s in spending
            )
            + "</tbody></table>"
        )
    else:
        out.append("<p>This edition has no spending figures for this area.</p>")
    change = area.get("change") or {}
    if change:
        pct, england = to_number(change.get("real_pct")), to_number(change.get("england_real_pct"))
        rank = f"; {_ordinal(int(change['rank']))} of {change.get('of')} areas, largest fall first" if change.get("rank") else ""
        period = f"{change.get('from')} to {change.get('to')} ({change.get('basis')} basis)"
        said = (
            f"{format_change(pct, '%') or 'no data'} in real terms, against {format_change(england, '%') or 'no data'} for England{rank}."
        )
        flag = f' <strong class="flag">Flag: {e(change["flag"])}</strong>' if change.get("flag") else ""
        out.append(f"<p><strong>Change, {e(period)}:</strong> {e(said)}{flag}</p>")
    shares = area.get("public_health_share") or []
    if shares:
        out.append(
            "<h2>Share of public health spending</h2><table><caption>Treatment spending as a share of all public health spending"
            '</caption><thead><tr><th scope="col">Year</th><th scope="col">Treatment (£000)</th><th scope="col">Public health (£000)</th>'
            '<th scope="col">Share</th></tr></thead><tbody>'
            + "".join(
                f'<tr><th scope="row">{e(str(s.get("year")))}</th><td class="num">{_money(s.get("treatment_gbp_k"))}</td>'
                f'<td class="num">{_money(s.get("public_health_gbp_k"))}</td>'
                f'<td class="num">{_percent(s.get("share_pct"))}</td></tr>'
                for s in shares
            )
            + "</tbody></table>"
        )
    deaths = area.get("deaths") or {}
    out.append("<h2>Drug-poisoning deaths</h2>")
    if deaths.get("rolling"):
        notes = ["Three-year totals by year of registration, as small areas need."]
        if deaths.get("summed_from_districts"):
            notes.append("Summed from the area's districts, as the extract lists districts.")
        if deaths.get("third_party"):
            notes.append("Source: a third party's extract of the ONS local-authority data, not the official file.")
        out.append(f"<p>{e(' '.join(notes))}</p>")
        out.append(
            '<table><caption>Drug-poisoning deaths, three-year totals</caption><thead><tr><th scope="col">Years</th>'
            '<th scope="col">Deaths</th></tr></thead><tbody>'
            + "".join(
                f'<tr><th scope="row">{e(str(r.get("period")))}</th><td class="num">{_money(r.get("deaths"))}'
                f"{' (' + e(r['status']) + ')' if r.get('status') else ''}</td></tr>"
                for r in deaths["rolling"]
            )
            + "</tbody></table>"
        )
    else:
        out.append("<p>This edition's area record holds no deaths figures for this area.</p>")
    gap = area.get("treatment_gap") or {}
    out.append("<h2>Adults not in treatment (Figure 5)</h2>")
    if gap.get("available") and to_number(gap.get("value_pct")) is not None:
        out.append(
            f"<p>{to_number(gap['value_pct']):.1f}% in {e(str(gap.get('year')))} (map class: {e(str(gap.get('class_label', '')))}).</p>"
        )
    else:
        how = gap.get("how") or "build an edition with the full Fingertips indicator 93517 to get it"
        out.append(f"<p>Unavailable in this edition. To get it: {e(how)}.</p>")
    inputs = record.get("inputs") or {}
    used = _sources_of(area)
    out.append(
        f'<h2>Data and provenance</h2><p><a href="{e(area["code"])}.csv">Every number on this page (CSV)</a>. '
        'The <a href="../provenance.html">provenance page</a> lists every input of the edition.</p>'
    )
    if used:
        out.append(
            '<table><caption>Sources of the numbers on this page</caption><thead><tr><th scope="col">Source</th>'
            '<th scope="col">Title</th><th scope="col">sha256</th></tr></thead><tbody>'
            + "".join(
                f'<tr><th scope="row"><code>{e(s)}</code></th><td>{e(str((inputs.get(s) or {}).get("title", "")))}</td>'
                f'<td><code class="hash">{e(str((inputs.get(s) or {}).get("sha256", "")))}</code></td></tr>'
                for s in used
            )
            + "</tbody></table>"
        )
    return "".join(out)


def write_area_profiles(
    record: dict[str, Any], records: Sequence[dict[str, Any]], figures_dir: Path, site_dir: Path, common: dict[str, Any]
) -> dict[str, str]:
    """Write ``areas/<code>.html`` and ``.csv`` for every area of the ``areas`` record and ``areas/index.html``.

    Parameters
    ----------
    record : dict
        The finished ``areas`` record (shape in the module docstring).
    records : sequence of dict
        Every finished figure record of the edition (for the maps that link here).
    figures_dir, site_dir : pathlib.Path
        ``figures/<edition>/`` and ``reports/<edition>/``.
    common : dict
        Keyword arguments for :func:`render_page` shared by every page.

    Returns
    -------
    dict
        Area code -> site-relative page (``areas/<code>.html``), for the interactive maps' links.
    """
    areas = sorted(load_areas(record, figures_dir, site_dir), key=lambda a: str(a["name"]).casefold())
    folder = site_dir / AREAS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    nav = [NAV[0], AREAS_NAV, *NAV[1:]]
    page_common = common | {
        "root": "../",
        "nav": nav,
        "footer_html": '<a href="../manifest.json">manifest.json</a> &middot; <a href="../index.html">figures</a>',
    }
    links = {}
    for area in areas:
        code = str(area["code"])
        write_text_atomic(folder / f"{code}.csv", area_csv(area, record.get("price_year", "")))
        body = f'<p><a href="index.html">All areas</a></p>{area_page_body(area, record)}'
        write_text_atomic(folder / f"{code}.html", render_page(title=f"{area['name']} ({code})", body_html=body, **page_common))
        links[code] = f"{AREAS_FOLDER}/{code}.html"
    maps = [r for r in records if (r.get("map") or {}).get("geojson")]
    items = "".join(f'<li><a href="{e(a["code"])}.html">{e(a["name"])}</a> <span class="meta">{e(a["code"])}</span></li>' for a in areas)
    body = (
        f"<p>One page for each of the {len(areas)} areas: spending set against harm. "
        + (
            "Each area is also reached by clicking it on "
            + " or ".join(f'<a href="../{e(r["stem"])}_interactive.html">the interactive map of {e(r["figure"])}</a>' for r in maps)
            + ". "
            if maps
            else ""
        )
        + "</p>"
        '<p><label for="area-search">Find an area by name</label><br><input type="search" id="area-search" autocomplete="off"></p>'
        f'<p id="area-count" role="status">{len(areas)} areas</p><ul id="area-list" class="area-list">{items}</ul>'
        f"<script>{SEARCH_JS}</script>"
    )
    write_text_atomic(folder / "index.html", render_page(title="Area profiles", body_html=body, current="areas/index.html", **page_common))
    return links
