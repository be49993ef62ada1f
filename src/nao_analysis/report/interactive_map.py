"""Self-contained interactive versions of the report's maps (Figures 3 and 5) for the reviewer's site.

The static PNG/SVG stays the chart of record (and the one for print). This module draws the areas of the
figure's map file (see :mod:`nao_analysis.report.records` for its shape) as inline SVG paths, with each
area's numbers embedded in the page as JSON and a small inline script that shows a tooltip on hover or
keyboard focus. No CDN, no external file: the page works from a file system or an air-gapped share.

Everything comes from the finished record: classes, labels and colours from ``record["map"]``, geometry,
values and flags from the map file the recipe wrote. Nothing is fetched or recomputed here.

Keyboard and screen readers: the map is a group holding a list of areas in alphabetical order. Only one
area is a Tab stop at a time (roving tabindex); the arrow keys, Home and End move between areas, so
reaching the content after the map takes one Tab, and a "Skip the map" link before it jumps straight there.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nao_analysis.report.records import RecordError, load_map_features

#: Width of the national map in SVG user units; the height follows the areas' shape.
MAP_WIDTH = 560.0
#: Width of the inset column (London, enlarged).
INSET_WIDTH = 230.0
GAP = 24.0
FRAME_STYLE = 'fill="none" stroke="#505a5f" stroke-width="0.8"'
NO_DATA_COLOUR = "#bfbfbf"
HATCH_CSS = "repeating-linear-gradient(45deg,#505a5f 0 1px,transparent 1px 5px)"
#: The inset the report draws when the record does not say otherwise: London's boroughs, enlarged.
DEFAULT_INSET = {"code_prefix": "E09", "title": "London (enlarged)"}


# -- geometry -> SVG -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewport:
    """Maps projected coordinates (y up) into an SVG box (units, y down)."""

    min_x: float
    max_y: float
    scale: float
    offset_x: float = 0.0
    offset_y: float = 0.0

    @classmethod
    def fit(cls, bounds: Sequence[float], width: float, offset_x: float = 0.0, offset_y: float = 0.0) -> Viewport:
        """A viewport that fits ``bounds`` (minx, miny, maxx, maxy) into ``width`` units, keeping the aspect ratio."""
        min_x, _min_y, max_x, max_y = (float(b) for b in bounds)
        if not max_x > min_x:
            raise RecordError(f"interactive map: empty or degenerate bounds {tuple(bounds)} - check the map file's geometry")
        return cls(min_x, max_y, width / (max_x - min_x), offset_x, offset_y)

    def height(self, bounds: Sequence[float]) -> float:
        return (float(bounds[3]) - float(bounds[1])) * self.scale

    def point(self, x: float, y: float) -> tuple[float, float]:
        return self.offset_x + (x - self.min_x) * self.scale, self.offset_y + (self.max_y - y) * self.scale


def _as_geojson(geometry: Any) -> dict[str, Any] | None:
    """A GeoJSON geometry mapping; objects with ``__geo_interface__`` (e.g. shapely) are accepted too."""
    if geometry is None:
        return None
    if hasattr(geometry, "__geo_interface__"):
        return geometry.__geo_interface__
    return geometry


def rings(geometry: Any) -> Iterator[list[tuple[float, float]]]:
    """Every polygon ring of a (multi)polygon or collection as a list of points; lines and points are dropped."""
    geometry = _as_geojson(geometry)
    if not geometry:
        return
    kind = geometry.get("type")
    if kind == "Polygon":
        for ring in geometry.get("coordinates") or []:
            yield [(float(p[0]), float(p[1])) for p in ring]
    elif kind == "MultiPolygon":
        for polygon in geometry.get("coordinates") or []:
            for ring in polygon:
                yield [(float(p[0]), float(p[1])) for p in ring]
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from rings(part)


def bounds_of(geometries: Sequence[Any]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) over every ring of every geometry."""
    xs, ys = [], []
    for geometry in geometries:
        for ring in rings(geometry):
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    if not xs:
        raise RecordError("interactive map: the map file has no polygon geometry - the recipe must write the areas' shapes")
    return min(xs), min(ys), max(xs), max(ys)


def svg_path(geometry: Any, viewport: Viewport) -> str:
    """The SVG path data (``d``) of a polygonal geometry, one closed subpath per ring, to 0.1 unit.

    Parameters
    ----------
    geometry : dict or geometry object
        A GeoJSON Polygon, MultiPolygon or GeometryCollection (or an object with ``__geo_interface__``),
        in the viewport's projected coordinates.
    viewport : Viewport
        The transform into SVG units.

    Returns
    -------
    str
        Path data such as ``"M10.0 20.0L11.5 21.0Z"``; empty for an empty geometry. Draw with
        ``fill-rule="evenodd"`` so holes stay holes.
    """
    parts = []
    for ring in rings(geometry):
        points = [viewport.point(x, y) for x, y in ring]
        if len(points) < 4:  # a closed ring needs three distinct points
            continue
        parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points[:-1]) + "Z")
    return "".join(parts)


def _is_geographic(bounds: Sequence[float]) -> bool:
    return bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90


def _project_lon_lat(geometry: Any, mid_latitude: float) -> dict[str, Any] | None:
    """Longitude/latitude to a local equirectangular plane (x shrunk by cos(latitude)), so shapes keep their look."""
    geometry = _as_geojson(geometry)
    if not geometry:
        return None
    factor = math.cos(math.radians(mid_latitude))
    polygons = [[[(x * factor, y) for x, y in ring]] for ring in rings(geometry)]
    return {"type": "MultiPolygon", "coordinates": polygons}


# -- features -> tooltip and table rows ------------------------------------------------------------


def _format_value(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt.format(value)
    return str(value)


def area_rows(features: Sequence[dict[str, Any]], declared: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per area, sorted by name: code, name, value text, tooltip lines, flag, class and colour.

    Parameters
    ----------
    features : sequence of dict
        From :func:`nao_analysis.report.records.load_map_features`.
    declared : dict
        The record's ``map`` entry (``labels``, ``colours``; optionally ``value_label``, ``value_format``).

    Returns
    -------
    list of dict
        ``code, name, value, value_text, lines`` (list of ``[label, text]``), ``flag``, ``class_label``
        (None = no data), ``colour``, ``counted``, ``no_data_reason``, ``geometry``.
    """
    value_label = declared.get("value_label") or "Value"
    fmt = declared.get("value_format") or "{:,.1f}"
    colour_of = dict(zip(declared.get("labels") or [], declared.get("colours") or []))
    rows = []
    for feature in features:
        p = feature["properties"]
        class_label = p.get("class_label") or None
        value_text = p.get("value_text") or _format_value(p.get("value"), fmt) or "no data"
        lines = [[value_label, value_text]]
        lines += [[str(label), str(text)] for label, text in (p.get("details") or []) if str(text).strip()]
        if class_label:
            lines.append(["Map class", str(class_label)])
        if p.get("no_data_reason"):
            lines.append(["No data", p["no_data_reason"]])
        rows.append(
            {
                "code": p["code"],
                "name": p["name"],
                "value": p.get("value"),
                "value_text": value_text,
                "lines": lines,
                "flag": p.get("flag") or "",
                "class_label": class_label,
                "colour": (colour_of.get(class_label) or p.get("colour")) if class_label else None,
                "counted": p.get("counted", True) is not False,
                "no_data_reason": p.get("no_data_reason") or "",
                "geometry": feature.get("geometry"),
            }
        )
    return sorted(rows, key=lambda r: (r["name"].casefold(), r["code"]))


# -- page fragment ---------------------------------------------------------------------------------

MAP_CSS = """
.imap{position:relative;margin:16px 0}
.imap svg{width:100%;height:auto;max-width:840px;display:block;background:#fff}
.imap path.area{stroke:#fff;stroke-width:0.4;cursor:pointer}
.imap path.area:hover,.imap path.area:focus,.imap path.area.active{stroke:#0b0c0c;stroke-width:1.6}
.imap path.area:focus{outline:none;stroke:#0b0c0c;stroke-width:2.4}
.imap .tooltip{position:absolute;pointer-events:none;background:#fff;border:2px solid #0b0c0c;padding:6px 10px;font-size:0.85em;
 max-width:min(340px,90vw);box-shadow:2px 2px 6px rgba(0,0,0,.25);z-index:5}
.imap .tooltip[hidden]{display:none}
.imap .tooltip .tt-name{font-weight:bold;margin-bottom:4px}
.imap .tooltip .tt-flag{color:#801650;font-weight:bold;margin-top:4px}
.imap .tooltip table{margin:0;font-size:1em}.imap .tooltip td,.imap .tooltip th{border:0;padding:1px 8px 1px 0;background:none}
.imap .tooltip th{font-weight:normal;color:#505a5f}.imap .tooltip td{font-weight:bold;text-align:right}
.imap-legend{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:6px 18px;font-size:0.9em}
.imap-legend .swatch{display:inline-block;width:14px;height:14px;border:1px solid #505a5f;margin-right:6px;vertical-align:-2px}
.imap-help{font-size:0.9em;color:#505a5f}
a.skip-map{display:inline-block;margin:4px 0}
"""

MAP_JS = """
(function () {
  var root = document.getElementById('imap');
  if (!root) { return; }
  var data = JSON.parse(document.getElementById('imap-data').textContent);
  var tip = root.querySelector('.tooltip');
  var areas = Array.prototype.slice.call(root.querySelectorAll('g.areas path.area'));
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
  function moveTo(index) {
    var target = areas[(index + areas.length) % areas.length];
    areas.forEach(function (p) { p.tabIndex = -1; });
    target.tabIndex = 0;
    target.focus();
  }
  root.querySelectorAll('path.area').forEach(function (path) {
    path.addEventListener('mousemove', function (event) { show(path, event.clientX, event.clientY); });
    path.addEventListener('mouseleave', hide);
  });
  areas.forEach(function (path, index) {
    path.addEventListener('focus', function () {
      var r = path.getBoundingClientRect();
      show(path, r.left + r.width / 2, r.top + r.height / 2);
    });
    path.addEventListener('blur', hide);
    path.addEventListener('keydown', function (event) {
      var keys = {ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1,
                  Home: 0, End: areas.length - 1};
      if (event.key in keys) { event.preventDefault(); moveTo(keys[event.key]); }
      else if (event.key === 'Enter' && path.getAttribute('data-href')) { window.location.href = path.getAttribute('data-href'); }
    });
    path.addEventListener('click', function () {
      if (path.getAttribute('data-href')) { window.location.href = path.getAttribute('data-href'); }
    });
  });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') { hide(); } });
})();
"""


def _json_for_script(payload: Any) -> str:
    # Inside <script>, "</" would end the element: escape "<", ">" and "&" as JSON unicode escapes.
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _projected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with geometry in a plane: projected metres as given, longitude/latitude transformed."""
    bounds = bounds_of([r["geometry"] for r in rows])
    if not _is_geographic(bounds):
        return rows
    mid = (bounds[1] + bounds[3]) / 2
    return [r | {"geometry": _project_lon_lat(r["geometry"], mid)} for r in rows]


def map_fragment(
    features: Sequence[dict[str, Any]],
    declared: dict[str, Any],
    *,
    caption: str = "",
    area_links: dict[str, str] | None = None,
) -> str:
    """The interactive map as an HTML fragment: skip link, legend, inline SVG, hidden tooltip, data and script.

    Parameters
    ----------
    features : sequence of dict
        The map file's features (:func:`nao_analysis.report.records.load_map_features`).
    declared : dict
        The record's ``map`` entry: ``labels``, ``colours``; optionally ``legend_title``, ``value_label``,
        ``value_format``, ``no_data_label`` and ``inset`` (``{"code_prefix": ..., "title": ...}``, or null for none).
    caption : str
        The map's accessible name (the figure's title).
    area_links : dict, optional
        Area code -> page to open when the area is clicked or Enter is pressed on it.

    Returns
    -------
    str
        HTML; every text is escaped, the data is embedded as JSON.
    """
    rows = _projected(area_rows(features, declared))
    labels = list(declared.get("labels") or [])
    colours = list(declared.get("colours") or [])
    colour_of = dict(zip(labels, colours))
    legend_title = declared.get("legend_title") or declared.get("value_label") or "Map classes"
    no_data_label = declared.get("no_data_label") or "Data not available"
    inset = declared.get("inset", DEFAULT_INSET)
    links = area_links or {}

    bounds = bounds_of([r["geometry"] for r in rows])
    main_view = Viewport.fit(bounds, MAP_WIDTH)
    height = main_view.height(bounds)
    width = MAP_WIDTH
    inset_parts: list[str] = []
    inset_rows = [r for r in rows if inset and r["code"].startswith(inset["code_prefix"])]
    if inset_rows:
        inset_bounds = bounds_of([r["geometry"] for r in inset_rows])
        inset_x = MAP_WIDTH + GAP
        inset_view = Viewport.fit(inset_bounds, INSET_WIDTH, offset_x=inset_x, offset_y=28.0)
        width = inset_x + INSET_WIDTH + 6  # room for the frame drawn 4 units outside the inset
        inset_h = inset_view.height(inset_bounds)
        # The inset repeats areas already on the national map: hidden from screen readers and not focusable.
        inset_parts.append('<g class="inset" aria-hidden="true">')
        inset_parts.append(f'<text x="{inset_x:.1f}" y="18" font-size="13" fill="#0b0c0c">{html.escape(inset.get("title", ""))}</text>')
        inset_parts.append(f'<rect x="{inset_x - 4:.1f}" y="24" width="{INSET_WIDTH + 8:.1f}" height="{inset_h + 8:.1f}" {FRAME_STYLE}/>')
        inset_parts += [_area_path(r, colour_of, inset_view, focus=None) for r in inset_rows]
        x0, y0 = main_view.point(inset_bounds[0], inset_bounds[3])
        x1, y1 = main_view.point(inset_bounds[2], inset_bounds[1])
        inset_parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" {FRAME_STYLE}/>')
        inset_parts.append("</g>")
        height = max(height, 28.0 + inset_h + 8)

    drawable = [r for r in rows if svg_path(r["geometry"], main_view)]
    main_paths = [_area_path(r, colour_of, main_view, focus=0 if i == 0 else -1, href=links.get(r["code"])) for i, r in enumerate(drawable)]
    counted = [r for r in rows if r["counted"]]
    legend = [
        f'<li><span class="swatch" style="background:{html.escape(colour)}"></span>{html.escape(label)} '
        f"({sum(1 for r in counted if r['class_label'] == label)})</li>"
        for label, colour in zip(labels, colours)
    ]
    n_missing = sum(1 for r in counted if not r["class_label"])
    if n_missing:
        legend.append(
            f'<li><span class="swatch" style="background:{NO_DATA_COLOUR};background-image:{HATCH_CSS}"></span>'
            f"{html.escape(no_data_label)} ({n_missing})</li>"
        )

    payload = {r["code"]: {"name": r["name"], "lines": r["lines"], "flag": r["flag"]} for r in rows}
    name = html.escape(caption or legend_title)
    help_text = (
        "Point at an area, or press Tab to reach the map and then the arrow keys to move between areas in alphabetical "
        "order (Home and End for the first and last), to see its name, its value, the figures behind it and any flag."
        + (" Click an area, or press Enter on it, to open its profile." if links else "")
    )
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" role="group" aria-label="{name}" aria-describedby="imap-help" '
        'xmlns="http://www.w3.org/2000/svg" focusable="false">'
        '<defs><pattern id="nodata" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="{NO_DATA_COLOUR}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#505a5f" stroke-width="1.2"/></pattern></defs>'
        f'<g class="areas" role="list" aria-label="Areas, in alphabetical order ({len(drawable)})">'
        + "".join(main_paths)
        + "</g>"
        + "".join(inset_parts)
        + "</svg>"
    )
    return (
        '<a class="skip-map" href="#imap-after">Skip the map</a>'
        f'<div class="imap" id="imap" data-figure="{html.escape(str(declared.get("figure", "")))}">'
        f'<p><strong>{html.escape(legend_title)}</strong></p><ul class="imap-legend">{"".join(legend)}</ul>'
        f'<p class="imap-help" id="imap-help">{html.escape(help_text)}</p>'
        f'{svg}<div class="tooltip" role="status" aria-live="polite" hidden></div></div>'
        f'<script type="application/json" id="imap-data">{_json_for_script(payload)}</script>'
        f"<script>{MAP_JS}</script>"
    )


def _area_path(row: dict[str, Any], colour_of: dict[str, str], viewport: Viewport, *, focus: int | None, href: str | None = None) -> str:
    d = svg_path(row["geometry"], viewport)
    if not d:
        return ""
    fill = (colour_of.get(row["class_label"]) or row["colour"] or NO_DATA_COLOUR) if row["class_label"] else "url(#nodata)"
    attributes = f'class="area" d="{d}" fill="{html.escape(fill)}" fill-rule="evenodd" data-code="{html.escape(row["code"])}"'
    if href:
        attributes += f' data-href="{html.escape(href)}"'
    if focus is not None:
        label = html.escape(f"{row['name']}: {row['value_text']}" + (f" (flag: {row['flag']})" if row["flag"] else ""))
        attributes += f' role="listitem" tabindex="{focus}" aria-label="{label}"'
    return f"<path {attributes}/>"


def area_table_html(features: Sequence[dict[str, Any]], declared: dict[str, Any], *, area_links: dict[str, str] | None = None) -> str:
    """Every area's numbers as an accessible table (the map's text alternative), sorted by name."""
    rows = area_rows(features, declared)
    headers: list[str] = []
    for r in rows:
        for label, _text in r["lines"]:
            if label not in headers:
                headers.append(label)
    links = area_links or {}
    title = declared.get("legend_title") or declared.get("value_label") or "Value"
    out = [f'<table><caption>{html.escape(title)} by area</caption><thead><tr><th scope="col">Area</th><th scope="col">Code</th>']
    out += [f'<th scope="col">{html.escape(h)}</th>' for h in headers]
    out.append('<th scope="col">Flag</th></tr></thead><tbody>')
    for r in rows:
        texts = dict((label, text) for label, text in r["lines"])
        cells = "".join(f'<td class="num">{html.escape(texts.get(h, ""))}</td>' for h in headers)
        name = html.escape(r["name"])
        if r["code"] in links:
            name = f'<a href="{html.escape(links[r["code"]])}">{name}</a>'
        out.append(f'<tr><th scope="row">{name}</th><td>{html.escape(r["code"])}</td>{cells}<td>{html.escape(r["flag"])}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def interactive_map_for_record(record: dict[str, Any], *folders: Path, area_links: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The interactive map's HTML fragment and head CSS for a figure record, or None if the figure has no map file.

    Parameters
    ----------
    record : dict
        The figure's finished record: ``map`` with ``bins``, ``labels``, ``colours`` and ``geojson``.
    folders : pathlib.Path
        Where the map file may be (``figures/<edition>/``, then ``reports/<edition>/``).
    area_links : dict, optional
        Area code -> page of that area's profile.

    Returns
    -------
    (str, str) or None
        ``(body_html, css)``; None when the record declares no map file (a figure without a map, or one built
        before maps were saved with their records).

    Raises
    ------
    RecordError
        If the map file is missing or not in the agreed shape.
    """
    declared = dict(record.get("map") or {})
    if not declared.get("geojson"):
        return None
    declared.setdefault("figure", record.get("figure", ""))
    features = load_map_features(record, *folders)
    body = map_fragment(features, declared, caption=record.get("title", ""), area_links=area_links)
    body += (
        '<div id="imap-after" tabindex="-1"><details><summary>Every area\'s numbers (table)</summary>'
        + area_table_html(features, declared, area_links=area_links)
        + "</details></div>"
    )
    return body, MAP_CSS
