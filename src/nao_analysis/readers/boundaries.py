"""Reader for ONS counties-and-unitary-authorities (CTYUA / UTLA) boundary files.

Layouts handled, told apart by content rather than by file name:

- ONS Open Geography shapefile / GeoJSON: a code field ``CTYUA21CD``, ``CTYUA23CD``, ``utla21_code``...
  (any field ending ``CD`` or ``_code`` whose values look like ONS codes) and its name field.
- ONS Visual multi-year TopoJSON: layer ``utla`` with ``areacd``, ``areanm`` and optional ``start``/``end``
  years; one year is selected with ``(start <= year or null) and (end >= year or null)``.

Output: a GeoDataFrame of English areas only (codes starting ``E``) with columns ``code``, ``name``,
``geometry`` (valid polygons, ``make_valid`` applied), in the file's CRS.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pandera.pandas as pa
import pyogrio
import shapely

from nao_analysis.errors import ReaderError

ONS_CODE = r"^E\d{8}$"

BOUNDARY_SCHEMA = pa.DataFrameSchema(
    {
        "code": pa.Column(str, pa.Check.str_matches(ONS_CODE), unique=True),
        "name": pa.Column(str, nullable=False),
    },
    strict=False,
)


def _code_and_name_fields(path: Path, fields: list[str]) -> tuple[str, str]:
    code_candidates = [f for f in fields if re.search(r"(CD|_code|areacd)$", f, flags=re.IGNORECASE)]
    if not code_candidates:
        raise ReaderError(
            path,
            f"no area-code field (one ending 'CD' or '_code') among fields {fields}",
            "give a counties-and-UAs boundary file from the ONS Open Geography Portal",
        )
    code_field = code_candidates[0]
    stem = re.sub(r"(CD|_code|cd)$", "", code_field)
    name_candidates = [f for f in fields if f in (f"{stem}NM", f"{stem}_name", f"{stem}nm")]
    if not name_candidates:
        raise ReaderError(
            path, f"no name field matching code field {code_field!r} among {fields}", "give a boundary file with both area codes and names"
        )
    return code_field, name_candidates[0]


def _finish(path: Path, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf = gdf[gdf["code"].astype(str).str.startswith("E")].copy()
    if gdf.empty:
        raise ReaderError(path, "no English areas (codes starting 'E')", "give an England or UK boundary file")
    # Some ONS generalised boundaries carry self-intersecting rings (Hampshire in CTYUA Dec 2021).
    gdf["geometry"] = shapely.make_valid(gdf.geometry.to_numpy())
    gdf["code"] = gdf["code"].astype(str)
    gdf["name"] = gdf["name"].astype(str)
    gdf = gdf[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)
    try:
        BOUNDARY_SCHEMA.validate(gdf)
    except pa.errors.SchemaError as exc:
        raise ReaderError(
            path, f"boundary table failed validation: {exc}".splitlines()[0], "check that the file holds one feature per upper-tier area"
        ) from None
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs)


def _read_topojson_year(path: Path, year: int, layer: str) -> gpd.GeoDataFrame:
    topo = json.loads(path.read_text())
    if layer not in topo.get("objects", {}):
        raise ReaderError(
            path, f"TopoJSON has no layer {layer!r} (layers: {', '.join(topo.get('objects', {}))})", "give the ONS Visual uk-topojson file"
        )
    frame = pyogrio.read_dataframe(path, layer=layer)
    for bound in ("start", "end"):
        if bound not in frame.columns:
            frame[bound] = pd.NA
    start = pd.to_numeric(frame["start"], errors="coerce")
    end = pd.to_numeric(frame["end"], errors="coerce")
    selected = frame[(start.isna() | (start <= year)) & (end.isna() | (end >= year))]
    selected = selected.rename(columns={"areacd": "code", "areanm": "name"})
    if selected.empty:
        raise ReaderError(path, f"no {layer} features valid in {year}", "choose a year the file covers (2014 onwards)")
    return gpd.GeoDataFrame(selected, geometry="geometry", crs=frame.crs or "EPSG:4326")


def read_ctyua_boundaries(path: Path, *, year: int | None = None, layer: str = "utla") -> gpd.GeoDataFrame:
    """Read English counties-and-UAs boundaries from an ONS shapefile, GeoJSON or the ONS Visual TopoJSON.

    Parameters
    ----------
    path : pathlib.Path
        The boundary file (for a shapefile, the ``.shp`` with its siblings beside it).
    year : int, optional
        Required for the multi-year TopoJSON: the calendar year whose areas to select. Ignored otherwise.
    layer : str
        TopoJSON layer (``utla`` = counties and unitary authorities).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``geometry``; English areas only; valid geometries.

    Raises
    ------
    ReaderError
        If the file cannot be read, has no code/name fields, or no English areas.
    """
    path = Path(path)
    if not path.is_file():
        raise ReaderError(path, "file not found", "fetch the boundary source first")
    with path.open("rb") as handle:
        is_topojson = b'"Topology"' in handle.read(200)
    if is_topojson:
        if year is None:
            raise ReaderError(
                path, "a multi-year TopoJSON needs a year to select the areas of", "pass year=..., e.g. the boundary vintage year"
            )
        return _finish(path, _read_topojson_year(path, year, layer))
    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # pyogrio raises several driver-specific errors
        raise ReaderError(path, f"cannot be read as a vector file ({exc})", "give a .shp, .geojson or .json boundary file") from None
    fields = [str(f) for f in info["fields"]]
    code_field, name_field = _code_and_name_fields(path, fields)
    frame = pyogrio.read_dataframe(path, columns=[code_field, name_field])
    frame = frame.rename(columns={code_field: "code", name_field: "name"})
    return _finish(path, frame)


CODE_CHANGES_SCHEMA = pa.DataFrameSchema(
    {
        "old_code": pa.Column(str),
        "old_name": pa.Column(str, nullable=True),
        "new_code": pa.Column(str, nullable=True),
        "new_name": pa.Column(str, nullable=True),
        "change_type": pa.Column(str),
        "start_year": pa.Column(int),
    },
    strict=True,
)


def _read_lookup_csv(path: Path, required: list[str]) -> pd.DataFrame:
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except Exception as exc:  # parser errors of several types
        raise ReaderError(path, f"cannot be read as CSV ({type(exc).__name__})", "re-fetch the lookup source") from None
    frame.columns = [c.strip() for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    missing = [c for c in required if c.lower() not in lower]
    if missing:
        raise ReaderError(
            path,
            f"missing column(s) {', '.join(missing)} (has {', '.join(frame.columns)})",
            "give the ONS lookup this reader expects",
            column=missing[0],
        )
    return frame.rename(columns={lower[c.lower()]: c for c in required})


def read_code_changes(path: Path) -> pd.DataFrame:
    """Read the ONS Visual table of local authority code changes (``oldcd, oldnm, newcd, newnm, type, start``).

    Parameters
    ----------
    path : pathlib.Path
        The CSV (source ``lookup_la_code_changes_2018_2025``).

    Returns
    -------
    pandas.DataFrame
        ``old_code``, ``old_name``, ``new_code`` (None for a termination), ``new_name``, ``change_type``
        (``merger``, ``termination``, ``new_code``, ``new_geo``...), ``start_year`` (int: first year of the new
        geography, changes take effect in April of that year).
    """
    frame = _read_lookup_csv(path, ["oldcd", "oldnm", "newcd", "newnm", "type", "start"])
    out = pd.DataFrame(
        {
            "old_code": frame["oldcd"].str.strip(),
            "old_name": frame["oldnm"].str.strip(),
            "new_code": frame["newcd"].str.strip().replace({"": None}),
            "new_name": frame["newnm"].str.strip().replace({"": None}),
            "change_type": frame["type"].str.strip(),
            "start_year": pd.to_numeric(frame["start"], errors="coerce"),
        }
    )
    if out["start_year"].isna().any():
        raise ReaderError(path, "a row has no numeric 'start' year", "fix the lookup file", column="start")
    out["start_year"] = out["start_year"].astype(int)
    for column in ("old_name", "new_code", "new_name"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    try:
        return CODE_CHANGES_SCHEMA.validate(out)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise ReaderError(path, f"failed validation: {str(exc).splitlines()[0]}", "fix the lookup file") from None


_LOOKUP_COLUMNS = {
    "district_code": re.compile(r"^ltla(\d{2})?_?(cd|code)$"),
    "district_name": re.compile(r"^ltla(\d{2})?_?(nm|name)$"),
    "upper_tier_code": re.compile(r"^(cty|utla)(\d{2})?_?(cd|code)$"),
    "upper_tier_name": re.compile(r"^(cty|utla)(\d{2})?_?(nm|name)$"),
}


def read_district_upper_tier_lookup(path: Path) -> pd.DataFrame:
    """Read a district-to-upper-tier lookup, columns found by label in any order.

    Layouts: ONS Visual ``ltla14-lookup.csv`` (``ltlacd, ltlanm, ctycd, ctynm``), ONS ``LTLA21CD, LTLA21NM,
    UTLA21CD, UTLA21NM`` and the geographr conversions (``ltla21_code, ltla21_name, utla21_code, utla21_name``).
    Districts outside a two-tier county (unitary, metropolitan, London) are their own upper tier.

    Parameters
    ----------
    path : pathlib.Path
        The CSV (sources ``lookup_ltla14``, ``lookup_ltla21_utla21_apr2021``, ``lookup_ltla*_utla*_geographr``).

    Returns
    -------
    pandas.DataFrame
        ``district_code``, ``district_name``, ``upper_tier_code``, ``upper_tier_name`` (England only).
    """
    from nao_analysis.readers._common import check_data_file, closest

    path = Path(path)
    check_data_file(path, text=True)
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except Exception as exc:  # parser errors of several types
        raise ReaderError(path, f"cannot be read as CSV ({type(exc).__name__})", "re-fetch the lookup source") from None
    columns = {}
    for field, pattern in _LOOKUP_COLUMNS.items():
        hit = next((c for c in frame.columns if pattern.match(str(c).strip().lower())), None)
        if hit is None:
            raise ReaderError(
                path,
                f"no {field.replace('_', ' ')} column; {closest(pattern.pattern.strip('^$'), [str(c) for c in frame.columns])}",
                "give an ONS district-to-upper-tier lookup",
                column=field,
            )
        columns[field] = hit
    out = pd.DataFrame({field: frame[column].str.strip() for field, column in columns.items()})
    single_tier = out["upper_tier_code"] == ""
    out.loc[single_tier, "upper_tier_code"] = out.loc[single_tier, "district_code"]
    out.loc[single_tier, "upper_tier_name"] = out.loc[single_tier, "district_name"]
    out = out[out["district_code"].str.startswith("E")].reset_index(drop=True)
    if out.empty:
        raise ReaderError(path, "no English districts", "give the England and Wales district lookup")
    return out


_DISTRICT_UPPER_TIER = re.compile(r"^ltla(\d{2})_?(cd|code)$")


def detect(path: Path) -> dict | None:
    """Recognise an ONS lookup CSV by its header (the code-change table, or a district-to-upper-tier lookup).

    Returns
    -------
    dict or None
        ``{"format": "csv", "serves": {"lookup": "la_code_changes"} | {"lookup": "district_upper_tier",
        "lookup_vintage": "2021"}, "title": ...}``; None otherwise. Boundary files themselves are recognised
        by :func:`nao_analysis.readers.detect.identify` from their structure.
    """
    from nao_analysis.readers._common import check_data_file, read_text_head

    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    check_data_file(path, text=True)
    head = read_text_head(path, 1)
    if not head:
        return None
    labels = [c.strip().lstrip("\ufeff").lower() for c in head[0]]
    if {"oldcd", "newcd", "type", "start"} <= set(labels):
        return {
            "format": "csv",
            "reader": "read_code_changes",
            "serves": {"lookup": "la_code_changes"},
            "title": "Local authority code changes",
        }
    if {"ltlacd", "ctycd"} <= set(labels):
        return {
            "format": "csv",
            "serves": {"lookup": "district_upper_tier", "lookup_vintage": "2014"},
            "title": "District to county lookup (2014)",
        }
    for label in labels:
        match = _DISTRICT_UPPER_TIER.match(label)
        if match and any(re.match(rf"^utla{match.group(1)}_?(cd|code)$", other) for other in labels):
            vintage = f"20{match.group(1)}"
            return {
                "format": "csv",
                "serves": {"lookup": "district_upper_tier", "lookup_vintage": vintage},
                "title": f"Lower-tier to upper-tier local authority lookup ({vintage})",
            }
    return None
