"""Reading what a figure's build left behind: its record and the files the record names.

``report/`` renders finished runs only. Everything a page needs (geometry, per-area values, tables, the
comparability of a run with the published one) is in the figure's record or in a file the record names,
written by the figure's recipe beside the record. Nothing here fetches a source or runs an analysis.

The map file a record names (``record["map"]["geojson"]``) is a GeoJSON ``FeatureCollection``:

- one ``Feature`` per area, in any order;
- ``properties``: ``code`` (str, required), ``name`` (str, required), ``value`` (number or null),
  ``class_label`` (str, one of ``record["map"]["labels"]``, or null for no data), ``colour`` (``#rrggbb``),
  ``flag`` (str, empty if none), ``no_data_reason`` (str, empty if the area has a value); optionally
  ``value_text`` (the value as the figure prints it, e.g. ``"-80.9%"``), ``counted`` (bool, default true:
  false for an area counted with another, such as the City of London with Hackney) and ``details``
  (a list of ``[label, text]`` pairs shown in the tooltip and the table, e.g. the base and target spending);
- ``geometry``: a ``Polygon`` or ``MultiPolygon`` already simplified for display, in projected metres with
  y increasing northwards (British National Grid, EPSG:27700) or, failing that, in longitude/latitude
  (RFC 7946), which the page projects with a local equirectangular transform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nao_analysis.errors import NaoError

#: Properties every map feature must carry (see the module docstring).
REQUIRED_PROPERTIES = ("code", "name")
#: Properties the recipe is asked to write; absent ones are read as empty.
MAP_PROPERTIES = ("code", "name", "value", "class_label", "colour", "flag", "no_data_reason")


class RecordError(NaoError):
    """A figure record, or a file it names, is missing or not in the agreed shape."""


def record_file(record: dict[str, Any], name: str, *folders: Path) -> Path:
    """The file ``name`` a record refers to, looked up in ``folders`` in order (figures folder, then reports).

    Raises
    ------
    RecordError
        If no folder holds it.
    """
    for folder in folders:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    where = " or ".join(str(f) for f in folders)
    raise RecordError(f"{name}: named by the record of {record.get('figure', '?')} but not found in {where} - rebuild that figure")


def load_map_features(record: dict[str, Any], *folders: Path) -> list[dict[str, Any]]:
    """The features of a figure's map file, validated against the shape in the module docstring.

    Parameters
    ----------
    record : dict
        The figure's record; ``record["map"]["geojson"]`` names the file.
    folders : pathlib.Path
        Where to look for it (``figures/<edition>/`` then ``reports/<edition>/``).

    Returns
    -------
    list of dict
        GeoJSON features, each with every property of :data:`MAP_PROPERTIES` present (missing ones as
        ``None`` or ``""``).

    Raises
    ------
    RecordError
        If the record names no file, or the file is not a FeatureCollection of areas with codes and names,
        or a code appears twice.
    """
    declared = record.get("map") or {}
    name = declared.get("geojson")
    if not name:
        raise RecordError(f"{record.get('stem', record.get('figure', '?'))}.json: its map names no geojson file - rebuild the figure")
    path = record_file(record, name, *folders)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: not valid JSON ({exc}) - rebuild {record.get('figure', 'the figure')}") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise RecordError(f"{path}: not a GeoJSON FeatureCollection - the figure's recipe must write one feature per area")
    seen: set[str] = set()
    features = []
    for number, feature in enumerate(data["features"], 1):
        properties = (feature or {}).get("properties") or {}
        missing = [p for p in REQUIRED_PROPERTIES if not str(properties.get(p) or "").strip()]
        if missing:
            raise RecordError(f"{path}: feature {number} has no {' or '.join(missing)} - every area needs a code and a name")
        code = str(properties["code"])
        if code in seen:
            raise RecordError(f"{path}: area code {code} appears twice - one feature per area expected")
        seen.add(code)
        clean = {p: properties.get(p) for p in MAP_PROPERTIES} | {k: v for k, v in properties.items() if k not in MAP_PROPERTIES}
        clean["code"], clean["name"] = code, str(properties["name"])
        for text in ("flag", "no_data_reason"):
            clean[text] = "" if clean[text] is None else str(clean[text])
        features.append({"type": "Feature", "properties": clean, "geometry": feature.get("geometry")})
    if not features:
        raise RecordError(f"{path}: holds no areas - the figure's recipe must write one feature per area")
    return features
