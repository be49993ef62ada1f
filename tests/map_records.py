"""Test-only: the map file a figure recipe writes beside its record, made here from a real build's CSV and boundaries.

``report/`` reads maps from finished records only (see :mod:`nao_analysis.report.records` for the shape). Until
every figure recipe writes its own map file, the site and browser tests make one exactly as agreed, from the
figure's tidy CSV of a real build and the real boundary file, so the interactive pages are drawn from real data.
Once a record already names a map file, :func:`add_map_files` leaves it alone.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

#: How each map figure's tidy CSV maps onto the agreed feature properties, and its tooltip lines.
MAP_COLUMNS: dict[str, dict[str, Any]] = {
    "fig03": {
        "code": "target_code",
        "name": "target_name",
        "value": "change_real_pct",
        "value_format": "{:+,.1f}%",
        "value_label": "Real-terms change, {base_year} to {target_year}",
        "legend_title": "Real-terms change",
        "no_data_label": "Data unavailable or no base-year spending",
        "details": [
            ("base_cash_gbp_k", "{base_year} spending, cash (£000)"),
            ("target_cash_gbp_k", "{target_year} spending, cash (£000)"),
            ("base_real_gbp_k", "{base_year} spending, {price_year} prices (£000)"),
            ("target_real_gbp_k", "{target_year} spending, {price_year} prices (£000)"),
            ("crosswalk", "Boundary change"),
        ],
    },
    "fig05": {
        "code": "area_code",
        "name": "area_name",
        "value": "value",
        "value_format": "{:.1f}%",
        "value_label": "Not in treatment, {year}",
        "legend_title": "Not in treatment",
        "no_data_label": "Data not available",
        "details": [
            ("denominator", "Estimated users aged 15-64 (mean of three years)"),
            ("in_treatment", "In treatment"),
            ("count", "Not in treatment (users minus in treatment)"),
        ],
    },
}
NO_DATA_COLOUR = "#bfbfbf"
#: Douglas-Peucker tolerance in metres: about half an SVG unit at national scale.
SIMPLIFY_M = 400.0


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


def _class_of(value: float | None, bins: list[float | None], labels: list[str]) -> str | None:
    if value is None:
        return None
    for bound, label in zip(bins, labels):
        if bound is None or value <= bound:  # right-closed, as the static map classifies
            return label
    return None


def map_geojson(figure: str, areas: pd.DataFrame, boundaries, declared: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection in the agreed shape: one feature per boundary area, in British National Grid metres.

    ``areas`` is the figure's tidy CSV; ``boundaries`` a GeoDataFrame with ``code``, ``name``, ``geometry``
    (as read by ``nao_analysis.readers.boundaries``); ``declared`` the record's ``map`` (bins, labels, colours).
    """
    columns = MAP_COLUMNS[figure]
    colour_of = dict(zip(declared["labels"], declared["colours"]))
    by_code = {str(row[columns["code"]]): row for row in areas.to_dict("records")}
    projected = boundaries.to_crs("EPSG:27700")
    simplified = shapely.make_valid(shapely.simplify(projected.geometry.to_numpy(), SIMPLIFY_M, preserve_topology=True))
    features = []
    for code, name, geometry in zip(projected["code"].astype(str), projected["name"], simplified):
        row = by_code.get(code)
        value = None if row is None or _missing(row.get(columns["value"])) else float(row[columns["value"]])
        label = _class_of(value, declared["bins"], declared["labels"])
        details = []
        for column, template in columns["details"]:
            if row is not None and not _missing(row.get(column)):
                text = f"{row[column]:,.0f}" if isinstance(row[column], int | float) else str(row[column])
                details.append([template.format(**params), text])
        reason = ""
        if row is None:
            reason = "not in the figure's data"
        elif value is None:
            reason = str(row.get("no_data_reason") or "") if not _missing(row.get("no_data_reason")) else "no value"
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": str(row[columns["name"]]) if row is not None else str(name),
                    "value": value,
                    "value_text": columns["value_format"].format(value) if value is not None else "no data",
                    "class_label": label,
                    "colour": colour_of.get(label, NO_DATA_COLOUR),
                    "flag": "" if row is None or _missing(row.get("flag")) else str(row["flag"]),
                    "no_data_reason": reason,
                    "counted": True if row is None or "counted" not in row else bool(row["counted"]),
                    "details": details,
                },
                "geometry": shapely.geometry.mapping(geometry),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def declared_map(figure: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record's ``map`` entry with the labels a recipe is expected to add beside bins/labels/colours."""
    columns = MAP_COLUMNS[figure]
    params = record.get("params", {})
    return dict(record["map"]) | {
        "value_label": columns["value_label"].format(**params),
        "value_format": columns["value_format"],
        "legend_title": columns["legend_title"],
        "no_data_label": columns["no_data_label"],
    }


def add_map_files(figures_dir: Path, reports_dir: Path, fetch) -> list[str]:
    """Give each map figure's record in ``reports_dir`` a map file in ``figures_dir``, as its recipe will; return the stems done.

    ``fetch`` resolves a source id to a local file (the ``raw_file`` fixture).
    """
    from nao_analysis.readers.boundaries import read_ctyua_boundaries

    done = []
    for record_path in sorted(reports_dir.glob("*.json")):
        record = json.loads(record_path.read_text())
        if not isinstance(record, dict) or record.get("figure") not in MAP_COLUMNS or not record.get("map"):
            continue
        if record["map"].get("geojson"):
            continue
        figure, stem = record["figure"], record["stem"]
        resolved = fetch(record["params"]["boundary_source"])
        boundaries = read_ctyua_boundaries(getattr(resolved, "path", resolved))
        areas = pd.read_csv(figures_dir / f"{stem}.csv", dtype={MAP_COLUMNS[figure]["code"]: str})
        declared = declared_map(figure, record)
        name = f"{stem}_map.geojson"
        collection = map_geojson(figure, areas, boundaries, declared, record.get("params", {}))
        (figures_dir / name).write_text(json.dumps(collection))
        record["map"] = declared | {"geojson": name}
        record_path.write_text(json.dumps(record, indent=2))
        done.append(stem)
    return done


def rerender_site(output_root: Path, edition_name: str, fetch, *, with_areas: bool = False) -> Path:
    """Give a finished build's map figures their map files (if their records lack them), optionally an ``areas``
    record, and write its site again."""
    from nao_analysis.build import FigureResult
    from nao_analysis.editions import load_edition
    from nao_analysis.report.site import write_site
    from nao_analysis.settings import Settings

    settings = Settings(output_root=output_root)
    add_map_files(settings.figures_dir(edition_name), settings.reports_dir(edition_name), fetch)
    edition = load_edition(edition_name)
    records = {}
    for path in settings.reports_dir(edition_name).glob("*.json"):
        record = json.loads(path.read_text())
        if isinstance(record, dict) and record.get("figure") in edition.figures and record.get("stem") == path.stem:
            records[record["figure"]] = record
    results = [
        FigureResult(figure, "built", record=records[figure])
        if figure in records
        else FigureResult(figure, "not built", message="not built")
        for figure in edition.figures
    ]
    if with_areas and "areas" not in records:
        record = areas_record(settings.figures_dir(edition_name), settings.reports_dir(edition_name))
        (settings.reports_dir(edition_name) / "areas.json").write_text(json.dumps(record))
        results.append(FigureResult("areas", "built", record=record))
    return write_site(edition, results, settings)


def areas_record(figures_dir: Path, reports_dir: Path) -> dict[str, Any]:
    """An ``areas`` record in the shape ``report/area_profiles.py`` renders, made from a real build's Figure 3 and
    Figure 5 outputs (spending in both years, the change, its rank, the treatment gap), until its recipe writes one.

    The offline mirror's deaths extract is not read here, so the pages say they hold no deaths figures.
    """
    fig03 = json.loads((reports_dir / "fig03_spending_change_map.json").read_text())
    params = fig03["params"]
    spending = pd.read_csv(figures_dir / "fig03_spending_change_map.csv", dtype={"target_code": str})
    summary = pd.read_csv(figures_dir / "fig03_spending_change_map_summary.csv").set_index("statistic")["value"]
    gap = {}
    fig05_csv = figures_dir / "fig05_treatment_gap_map.csv"
    fig05 = json.loads((reports_dir / "fig05_treatment_gap_map.json").read_text()) if fig05_csv.exists() else None
    if fig05:
        declared = fig05["map"]
        for row in pd.read_csv(fig05_csv, dtype={"area_code": str}).to_dict("records"):
            if not _missing(row.get("value")):
                gap[row["area_code"]] = {
                    "available": True,
                    "year": fig05["params"]["year"],
                    "value_pct": float(row["value"]),
                    "class_label": _class_of(float(row["value"]), declared["bins"], declared["labels"]),
                    "source": fig05["params"].get("source", ""),
                }
    counted = spending[spending["counted"].astype(bool)]
    areas = []
    for row in counted.to_dict("records"):

        def number(column, row=row):
            return None if _missing(row.get(column)) else float(row[column])

        years = [(params["base_year"], "base", params["base_source"]), (params["target_year"], "target", params["target_source"])]
        areas.append(
            {
                "code": row["target_code"],
                "name": row["target_name"],
                "history": "" if _missing(row.get("crosswalk")) else str(row["crosswalk"]),
                "spending": [
                    {
                        "year": year,
                        "basis": params["basis"],
                        "cash_gbp_k": number(f"{which}_cash_gbp_k"),
                        "real_gbp_k": number(f"{which}_real_gbp_k"),
                        "status": "" if number(f"{which}_cash_gbp_k") is not None else "missing",
                        "source": source,
                    }
                    for year, which, source in years
                ],
                "change": {
                    "from": params["base_year"],
                    "to": params["target_year"],
                    "basis": params["basis"],
                    "real_pct": number("change_real_pct"),
                    "england_real_pct": float(summary["change_pct"]),
                    "rank": None if _missing(row.get("rank")) else int(row["rank"]),
                    "of": int(float(summary["authorities"])),
                    "flag": "" if _missing(row.get("flag")) else str(row["flag"]),
                },
                "treatment_gap": gap.get(row["target_code"])
                or {"available": False, "how": "build an edition with the full Fingertips indicator 93517 (nao-2023, online)"},
            }
        )
    return {
        "figure": "areas",
        "stem": "areas",
        "edition": fig03["edition"],
        "title": "Area profiles",
        "price_year": params["price_year"],
        "inputs": fig03["inputs"] | ((fig05 or {}).get("inputs") or {}),
        "areas": areas,
    }
