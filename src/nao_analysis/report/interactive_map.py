"""Self-contained interactive versions of the report's maps (Figures 3 and 5) for the reviewer's site.

The static PNG/SVG stays the chart of record (and the one for print). This module draws the same
areas, classes and colours as inline SVG paths, with the per-area numbers embedded in the page
as JSON and a small inline script that shows a tooltip on hover or keyboard focus: the area's
name, its value, the base and target figures behind it, and any flag. No CDN, no external file:
the page works from a file system or an air-gapped share.

The per-area numbers come from the figure's own tidy CSV (``figures/<edition>/<stem>.csv``) and the
geometry from the boundary source named in the figure's parameters, fetched through
:func:`nao_analysis.sources.fetch`, so the notebooks need no change.
"""

from __future__ import annotations

import html
import json
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from nao_analysis.charts import NO_DATA_GREY
from nao_analysis.errors import AnalysisError
from nao_analysis.maps import BRITISH_NATIONAL_GRID, LONDON_CODE_PREFIX, classify

#: Width of the national map in SVG user units; the height follows England's shape.
MAP_WIDTH = 560.0
#: Width of the London inset column.
INSET_WIDTH = 230.0
GAP = 24.0
#: Douglas-Peucker tolerance in metres: about half an SVG unit at national scale, so nothing visible is lost.
SIMPLIFY_NATIONAL_M = 400.0
SIMPLIFY_INSET_M = 60.0
FRAME_STYLE = 'fill="none" stroke="#505a5f" stroke-width="0.8"'
HATCH_CSS = "repeating-linear-gradient(45deg,#505a5f 0 1px,transparent 1px 5px)"


@dataclass(frozen=True)
class Detail:
    """One line of the tooltip: a CSV column, its label and how to format it.

    ``label`` may use the figure's parameters, e.g. ``"Base year {base_year}"``.
    ``fmt`` is a :meth:`str.format` pattern for numbers; text values are shown as they are.
    """

    column: str
    label: str
    fmt: str = "{:,.0f}"


@dataclass(frozen=True)
class MapSpec:
    """How to read one figure's tidy CSV into the interactive map."""

    figure: str
    code_column: str
    name_column: str
    value_column: str
    value_label: str
    value_fmt: str
    legend_title: str
    #: Filled from the figure record's ``map`` entry (written by ``fig.declare_map`` in the notebook),
    #: so the interactive map uses exactly the static map's classes and colours.
    classes: Callable[[dict[str, Any]], tuple[list[float], list[str], list[str]]] | None = None
    details: tuple[Detail, ...] = ()
    flag_columns: tuple[str, ...] = ()
    counted_column: str | None = None
    no_data_label: str = "Data unavailable"
    extra: dict[str, Any] = field(default_factory=dict)


#: The report's two maps. Tooltip lines name the base and target figures behind each value.
MAP_SPECS: dict[str, MapSpec] = {
    "fig03": MapSpec(
        figure="fig03",
        code_column="target_code",
        name_column="target_name",
        value_column="change_real_pct",
        value_label="Real-terms change, {base_year} to {target_year}",
        value_fmt="{:+,.1f}%",
        legend_title="Real-terms change",
        details=(
            Detail("base_cash_gbp_k", "{base_year} spending, cash (£000)"),
            Detail("target_cash_gbp_k", "{target_year} spending, cash (£000)"),
            Detail("base_real_gbp_k", "{base_year} spending, {price_year} prices (£000)"),
            Detail("target_real_gbp_k", "{target_year} spending, {price_year} prices (£000)"),
            Detail("crosswalk", "Boundary change"),
            Detail("no_data_reason", "No data"),
        ),
        flag_columns=("flag",),
        counted_column="counted",
        no_data_label="Data unavailable or no base-year spending",
    ),
    "fig05": MapSpec(
        figure="fig05",
        code_column="area_code",
        name_column="area_name",
        value_column="value",
        value_label="Not in treatment, {year}",
        value_fmt="{:.1f}%",
        legend_title="Not in treatment",
        details=(
            Detail("denominator", "Estimated users aged 15-64 (mean of three years)"),
            Detail("in_treatment", "In treatment"),
            Detail("count", "Not in treatment (users minus in treatment)"),
        ),
        no_data_label="Data not available",
    ),
}


# -- geometry -> SVG -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewport:
    """Maps projected coordinates (metres, y up) into an SVG box (units, y down)."""

    min_x: float
    max_y: float
    scale: float
    offset_x: float = 0.0
    offset_y: float = 0.0

    @classmethod
    def fit(cls, bounds: Sequence[float], width: float, offset_x: float = 0.0, offset_y: float = 0.0) -> Viewport:
        """A viewport that fits ``bounds`` (minx, miny, maxx, maxy) into ``width`` units, keeping the aspect ratio."""
        min_x, _min_y, max_x, max_y = (float(b) for b in bounds)
        if max_x <= min_x:
            raise AnalysisError(f"interactive map: empty or degenerate bounds {tuple(bounds)} - check the boundary geometry")
        return cls(min_x, max_y, width / (max_x - min_x), offset_x, offset_y)

    def height(self, bounds: Sequence[float]) -> float:
        return (float(bounds[3]) - float(bounds[1])) * self.scale

    def point(self, x: float, y: float) -> tuple[float, float]:
        return self.offset_x + (x - self.min_x) * self.scale, self.offset_y + (self.max_y - y) * self.scale


def _rings(geometry: BaseGeometry):
    """Every polygon ring of a (multi)polygon or collection; lines and points are dropped."""
    if geometry is None or geometry.is_empty:
        return
    if geometry.geom_type == "Polygon":
        yield geometry.exterior
        yield from geometry.interiors
    elif geometry.geom_type in ("MultiPolygon", "GeometryCollection"):
        for part in geometry.geoms:
            yield from _rings(part)


def svg_path(geometry: BaseGeometry, viewport: Viewport) -> str:
    """The SVG path data (``d``) of a polygonal geometry, one closed subpath per ring, to 0.1 unit.

    Parameters
    ----------
    geometry : shapely geometry
        Polygon, MultiPolygon or a collection holding them, in the viewport's projected CRS.
    viewport : Viewport
        The transform into SVG units.

    Returns
    -------
    str
        Path data such as ``"M10.0 20.0L11.5 21.0Z"``; empty for an empty geometry. Draw with
        ``fill-rule="evenodd"`` so holes stay holes.
    """
    parts = []
    for ring in _rings(geometry):
        points = [viewport.point(x, y) for x, y in ring.coords]
        if len(points) < 4:  # a closed ring needs three distinct points
            continue
        parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points[:-1]) + "Z")
    return "".join(parts)


def project_and_simplify(shapes: gpd.GeoDataFrame, tolerance_m: float, crs: str = BRITISH_NATIONAL_GRID) -> gpd.GeoDataFrame:
    """Project to the figure's CRS (British National Grid by default) and simplify, keeping shared borders aligned.

    Parameters
    ----------
    shapes : geopandas.GeoDataFrame
        Areas with a geometry and a CRS.
    tolerance_m : float
        Douglas-Peucker tolerance in the target CRS's units (metres for British National Grid).
    crs : str
        Target CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in ``crs`` with simplified, valid geometries.
    """
    if shapes.crs is None:
        raise AnalysisError("interactive map: the boundary geometry has no CRS - read it with nao_analysis.readers.boundaries")
    projected = shapes.to_crs(crs).copy()
    # Topology-preserving simplification per area; at half an SVG unit the tiny slivers it may open are invisible.
    simplified = shapely.simplify(projected.geometry.to_numpy(), tolerance_m, preserve_topology=True)
    projected["geometry"] = shapely.make_valid(simplified)
    return projected


# -- data -> tooltip records -----------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _format(value: Any, fmt: str) -> str:
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Number):
        return fmt.format(value)
    return str(value)


def area_records(areas: pd.DataFrame, spec: MapSpec, params: dict[str, Any]) -> pd.DataFrame:
    """One row per area code: name, value, formatted tooltip lines, flag text, class label.

    Parameters
    ----------
    areas : pandas.DataFrame
        The figure's tidy CSV as read by pandas (one row per area).
    spec : MapSpec
        Which columns hold the code, name, value, details and flags.
    params : dict
        The figure's parameters from its record (class breaks, years for the labels).

    Returns
    -------
    pandas.DataFrame
        Indexed by code, with columns ``name``, ``value``, ``value_text``, ``lines`` (list of
        ``[label, text]``), ``flag``, ``class_label`` (NaN = no data) and ``counted``.

    Raises
    ------
    AnalysisError
        If a column the spec names is missing, or an area code appears twice.
    """
    needed = [spec.code_column, spec.name_column, spec.value_column]
    missing = [c for c in needed if c not in areas.columns]
    if missing:
        raise AnalysisError(
            f"interactive map for {spec.figure}: the figure's CSV has no column(s) {', '.join(missing)} "
            f"(columns: {', '.join(map(str, areas.columns))}) - update MAP_SPECS in report/interactive_map.py"
        )
    duplicated = areas[spec.code_column][areas[spec.code_column].duplicated()]
    if not duplicated.empty:
        raise AnalysisError(
            f"interactive map for {spec.figure}: area code {duplicated.iloc[0]} appears twice in the figure's CSV "
            "- one row per area expected"
        )
    values = pd.to_numeric(areas[spec.value_column], errors="coerce")
    bins, labels, _colours = spec.classes(params)
    classes = classify(values.reset_index(drop=True), bins, labels)
    value_label = spec.value_label.format(**params)
    rows = []
    for position, (_, area) in enumerate(areas.iterrows()):
        lines = [[value_label, _format(values.iloc[position], spec.value_fmt) or "no data"]]
        for detail in spec.details:
            if detail.column in areas.columns:
                text = _format(area[detail.column], detail.fmt)
                if text:
                    lines.append([detail.label.format(**params), text])
        flags = [_format(area[c], "{}") for c in spec.flag_columns if c in areas.columns]
        counted = bool(area[spec.counted_column]) if spec.counted_column and spec.counted_column in areas.columns else True
        rows.append(
            {
                "code": str(area[spec.code_column]),
                "name": str(area[spec.name_column]),
                "value": None if _is_missing(values.iloc[position]) else float(values.iloc[position]),
                "value_text": lines[0][1],
                "lines": lines,
                "flag": "; ".join(f for f in flags if f),
                "class_label": classes.iloc[position],
                "counted": counted,
            }
        )
    return pd.DataFrame(rows).set_index("code")


# -- page fragment ---------------------------------------------------------------------------------

MAP_CSS = """
.imap{position:relative;margin:16px 0}
.imap svg{width:100%;height:auto;max-width:840px;display:block;background:#fff}
.imap path.area{stroke:#fff;stroke-width:0.4;cursor:pointer}
.imap path.area:hover,.imap path.area:focus,.imap path.area.active{stroke:#0b0c0c;stroke-width:1.6;outline:none}
.imap .tooltip{position:absolute;pointer-events:none;background:#fff;border:2px solid #0b0c0c;padding:6px 10px;font-size:0.85em;
 max-width:340px;box-shadow:2px 2px 6px rgba(0,0,0,.25);z-index:5}
.imap .tooltip[hidden]{display:none}
.imap .tooltip .tt-name{font-weight:bold;margin-bottom:4px}
.imap .tooltip .tt-flag{color:#801650;font-weight:bold;margin-top:4px}
.imap .tooltip table{margin:0;font-size:1em}.imap .tooltip td,.imap .tooltip th{border:0;padding:1px 8px 1px 0;background:none}
.imap .tooltip th{font-weight:normal;color:#505a5f}.imap .tooltip td{font-weight:bold;text-align:right;white-space:nowrap}
.imap-legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:6px 18px;font-size:0.9em}
.imap-legend .swatch{display:inline-block;width:14px;height:14px;border:1px solid #505a5f;margin-right:6px;vertical-align:-2px}
"""

MAP_JS = """
(function () {
  var root = document.getElementById('imap');
  if (!root) { return; }
  var data = JSON.parse(document.getElementById('imap-data').textContent);
  var tip = root.querySelector('.tooltip');
  function show(path, x, y) {
    var area = data[path.getAttribute('data-code')];
    if (!area) { return; }
    while (tip.firstChild) { tip.removeChild(tip.firstChild); }
    var name = document.createElement('div');
    name.className = 'tt-name';
    name.textContent = area.name;
    tip.appendChild(name);
    var table = document.createElement('table');
    area.lines.forEach(function (line) {
      var row = table.insertRow();
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = line[0];
      row.appendChild(th);
      row.insertCell().textContent = line[1];
    });
    tip.appendChild(table);
    if (area.flag) {
      var flag = document.createElement('div');
      flag.className = 'tt-flag';
      flag.textContent = 'Flag: ' + area.flag;
      tip.appendChild(flag);
    }
    tip.hidden = false;
    var box = root.getBoundingClientRect();
    var left = x - box.left + 14, top = y - box.top + 14;
    if (left + tip.offsetWidth > box.width) { left = Math.max(0, x - box.left - tip.offsetWidth - 14); }
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
    root.querySelectorAll('path.area.active').forEach(function (p) { p.classList.remove('active'); });
    var same = 'path.area[data-code="' + path.getAttribute('data-code') + '"]';
    root.querySelectorAll(same).forEach(function (p) { p.classList.add('active'); });
  }
  function hide() {
    tip.hidden = true;
    root.querySelectorAll('path.area.active').forEach(function (p) { p.classList.remove('active'); });
  }
  function openPage(path) { if (path && path.getAttribute('data-href')) { window.location.href = path.getAttribute('data-href'); } }
  root.addEventListener('click', function (ev) { openPage(ev.target.closest('path.area')); });
  root.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { openPage(ev.target.closest('path.area')); } });
  root.querySelectorAll('path.area').forEach(function (path) {
    path.addEventListener('mousemove', function (event) { show(path, event.clientX, event.clientY); });
    path.addEventListener('mouseleave', hide);
    path.addEventListener('focus', function () {
      var r = path.getBoundingClientRect();
      show(path, r.left + r.width / 2, r.top + r.height / 2);
    });
    path.addEventListener('blur', hide);
  });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') { hide(); } });
})();
"""


def _json_for_script(payload: Any) -> str:
    # Inside <script>, "</" would end the element: escape "<", ">" and "&" as JSON unicode escapes.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_fragment(
    shapes: gpd.GeoDataFrame, areas: pd.DataFrame, spec: MapSpec, params: dict[str, Any], *, caption: str = "", area_links=None
) -> str:
    """The interactive map as an HTML fragment: inline SVG, legend, hidden tooltip, data and script.

    Parameters
    ----------
    shapes : geopandas.GeoDataFrame
        Boundaries with ``code``, ``name`` and ``geometry`` (any CRS; projected to British National Grid).
    areas : pandas.DataFrame
        The figure's tidy per-area CSV.
    spec : MapSpec
        The figure's column mapping (see :data:`MAP_SPECS`).
    params : dict
        The figure's parameters from its record.
    caption : str
        Text for the SVG's accessible name.

    Returns
    -------
    str
        HTML; every text is escaped, the data is embedded as JSON.

    Raises
    ------
    AnalysisError
        If columns are missing or no area of the CSV matches a boundary.
    """
    records = area_records(areas, spec, params)
    _bins, labels, colours = spec.classes(params)
    colour_of = dict(zip(labels, colours))
    matched = shapes["code"].astype(str).isin(records.index)
    if not matched.any():
        raise AnalysisError(
            f"interactive map for {spec.figure}: no area code of the figure's CSV matches the boundaries "
            f"(e.g. {records.index[0] if len(records) else 'none'}) - check the boundary vintage"
        )

    national = project_and_simplify(shapes, SIMPLIFY_NATIONAL_M)
    bounds = national.total_bounds
    main_view = Viewport.fit(bounds, MAP_WIDTH)
    height = main_view.height(bounds)

    inset_parts: list[str] = []
    london = shapes[shapes["code"].astype(str).str.startswith(LONDON_CODE_PREFIX)]
    width = MAP_WIDTH
    if not london.empty:
        london = project_and_simplify(london, SIMPLIFY_INSET_M)
        lb = london.total_bounds
        inset_x = MAP_WIDTH + GAP
        inset_view = Viewport.fit(lb, INSET_WIDTH, offset_x=inset_x, offset_y=28.0)
        width = inset_x + INSET_WIDTH + 6  # room for the frame drawn 4 units outside the inset
        inset_h = inset_view.height(lb)
        inset_parts.append(f'<text x="{inset_x:.1f}" y="18" font-size="13" fill="#0b0c0c">London (enlarged)</text>')
        inset_parts.append(f'<rect x="{inset_x - 4:.1f}" y="24" width="{INSET_WIDTH + 8:.1f}" height="{inset_h + 8:.1f}" {FRAME_STYLE}/>')
        inset_parts += _area_paths(london, records, colour_of, inset_view, focusable=False, area_links=area_links)
        # Mark the enlarged area on the national map, as the static map does.
        x0, y0 = main_view.point(lb[0], lb[3])
        x1, y1 = main_view.point(lb[2], lb[1])
        inset_parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" {FRAME_STYLE}/>')
        height = max(height, 28.0 + inset_h + 8)

    main_paths = _area_paths(national, records, colour_of, main_view, focusable=True, area_links=area_links)
    counted = records[records["counted"]]
    counts = counted["class_label"].value_counts()
    legend = [
        f'<li><span class="swatch" style="background:{colour_of[label]}"></span>{html.escape(label)} ({int(counts.get(label, 0))})</li>'
        for label in labels
    ]
    n_missing = int(counted["class_label"].isna().sum())
    unmatched = int((~shapes["code"].astype(str).isin(records.index)).sum())
    if n_missing or unmatched:
        legend.append(
            f'<li><span class="swatch" style="background:{NO_DATA_GREY};background-image:{HATCH_CSS}"></span>'
            f"{html.escape(spec.no_data_label)} ({n_missing + unmatched})</li>"
        )

    payload = {code: {"name": r["name"], "lines": r["lines"], "flag": r["flag"]} for code, r in records.iterrows()}
    label = html.escape(caption or f"Interactive map for {spec.figure}")
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        '<defs><pattern id="nodata" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{NO_DATA_GREY}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#505a5f" stroke-width="1.2"/></pattern></defs>'
        '<g class="national">' + "".join(main_paths) + "</g>" + "".join(inset_parts) + "</svg>"
    )
    return (
        f'<div class="imap" id="imap" data-figure="{html.escape(spec.figure)}">'
        f'<p><strong>{html.escape(spec.legend_title)}</strong></p><ul class="imap-legend">{"".join(legend)}</ul>'
        f'{svg}<div class="tooltip" role="status" aria-live="polite" hidden></div></div>'
        f'<script type="application/json" id="imap-data">{_json_for_script(payload)}</script>'
        f"<script>{MAP_JS}</script>"
    )


def _area_paths(
    shapes: gpd.GeoDataFrame, records: pd.DataFrame, colour_of: dict[str, str], viewport: Viewport, *, focusable: bool, area_links=None
) -> list[str]:
    paths = []
    for area in shapes.itertuples():
        code = str(area.code)
        record = records.loc[code] if code in records.index else None
        class_label = None if record is None else record["class_label"]
        fill = colour_of[class_label] if isinstance(class_label, str) else "url(#nodata)"
        name = str(record["name"]) if record is not None else str(area.name)
        value_text = record["value_text"] if record is not None else "not in the figure's data"
        d = svg_path(area.geometry, viewport)
        if not d:
            continue
        # Only the national map's paths take keyboard focus, so each area is one tab stop.
        focus = ' tabindex="0"' if focusable else ""
        label = html.escape(f"{name}: {value_text}")
        paths.append(
            # Clicking an area (or Enter on it) opens its profile page, where the site has one.
            f'<path class="area" d="{d}" fill="{fill}" fill-rule="evenodd" data-code="{html.escape(code)}"{focus} '
            + (f'data-href="{html.escape((area_links or {})[code])}" ' if code in (area_links or {}) else "")
            + f'aria-label="{label}"><title>{label}</title></path>'
        )
    return paths


def area_table_html(areas: pd.DataFrame, spec: MapSpec, params: dict[str, Any]) -> str:
    """Every area's numbers as an accessible table (the map's text alternative), sorted by name."""
    records = area_records(areas, spec, params).sort_values("name")
    headers = [line[0] for line in max(records["lines"], key=len)] if len(records) else []
    out = [
        f'<table><caption>{html.escape(spec.legend_title)} by area</caption><thead><tr><th scope="col">Area</th><th scope="col">Code</th>'
    ]
    out += [f'<th scope="col">{html.escape(h)}</th>' for h in headers]
    out.append('<th scope="col">Flag</th></tr></thead><tbody>')
    for code, r in records.iterrows():
        texts = dict((label, text) for label, text in r["lines"])
        cells = "".join(f'<td class="num">{html.escape(texts.get(h, ""))}</td>' for h in headers)
        out.append(
            f'<tr><th scope="row">{html.escape(r["name"])}</th><td>{html.escape(str(code))}</td>{cells}'
            f"<td>{html.escape(r['flag'])}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def spec_with_classes(spec: MapSpec, bins: Sequence[float | None], labels: Sequence[str], colours: Sequence[str]) -> MapSpec:
    """``spec`` with fixed classes (upper bounds; None = no upper bound), labels and colours."""
    classes = ([math.inf if b is None else float(b) for b in bins], list(labels), list(colours))
    return replace(spec, classes=lambda _params: classes)


def interactive_map_for_record(record: dict[str, Any], figures_dir: Path, area_links=None) -> tuple[str, str] | None:
    """The interactive map's HTML fragment and head CSS for a figure record, or None if the figure has no map.

    Parameters
    ----------
    record : dict
        The figure's record (``reports/<edition>/<stem>.json``): figure id, stem, params.
    figures_dir : pathlib.Path
        Where the figure's CSV was written (``figures/<edition>/``).

    Returns
    -------
    (str, str) or None
        ``(body_html, css)``; None when :data:`MAP_SPECS` has no entry for the figure.

    Raises
    ------
    AnalysisError
        If the CSV or the boundary source is missing or does not match.
    """
    spec = MAP_SPECS.get(record.get("figure", ""))
    declared = record.get("map")
    if spec is None or not declared:
        return None
    spec = spec_with_classes(spec, declared["bins"], declared["labels"], declared["colours"])
    params = record.get("params", {})
    csv_path = figures_dir / f"{record['stem']}.csv"
    if not csv_path.exists():
        raise AnalysisError(f"{csv_path}: the figure's data file is missing - rebuild {record['figure']} before the site")
    boundary_source = params.get("boundary_source")
    if not boundary_source:
        raise AnalysisError(f"{record['figure']}: its parameters name no boundary_source - the interactive map needs one")
    from nao_analysis.readers.boundaries import read_ctyua_boundaries
    from nao_analysis.settings import Settings
    from nao_analysis.sources import fetch

    boundaries = read_ctyua_boundaries(fetch(boundary_source, Settings.from_environment()).path)
    areas = pd.read_csv(csv_path, dtype={spec.code_column: str, spec.name_column: str})
    body = map_fragment(boundaries, areas, spec, params, caption=record.get("title", ""), area_links=area_links)
    body += "<details><summary>Every area's numbers (table)</summary>" + area_table_html(areas, spec, params) + "</details>"
    return body, MAP_CSS
