"""Run a figure recipe and write what it produced: charts, data, tables and one JSON record.

The build calls this inside the figure's notebook (papermill), a researcher calls it by hand, and the
benchmark calls it directly; all three get the same outputs. Nothing here decides a number.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nao_analysis.errors import EditionError, NaoError
from nao_analysis.figures import recipe
from nao_analysis.figures.recipe import FigureContext, FigureResult
from nao_analysis.safe_io import load_yaml, write_atomic, write_text_atomic
from nao_analysis.settings import Settings

SCRATCH = "scratch"


def normalise_overrides(figure_id: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """This figure's overrides from nested (``{"fig03": {"base_year": ...}}``) or flat (``{"fig03.base_year": ...}``) form."""
    mine: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and "." not in key:
            if key == figure_id:
                mine.update(value)
            continue
        figure, dot, name = str(key).partition(".")
        if not dot or not figure or not name:
            raise EditionError(
                f"overrides key {key!r}: expected 'FIGURE.PARAMETER' (flat) or {{'FIGURE': {{'PARAMETER': value}}}} (nested), "
                f"e.g. {{'{figure_id}.start_year': ...}}"
            )
        if figure == figure_id:
            mine[name] = value
    return mine


def prepare(figure_id: str, *, settings: Settings, edition: str, overrides: dict[str, Any] | None = None) -> FigureContext:
    """Load the edition with this figure's overrides applied and validated, and check it against the registry."""
    from nao_analysis.editions import check_against_registry, load_edition

    spec = recipe(figure_id).FIGURE
    mine = normalise_overrides(figure_id, overrides)
    loaded = load_edition(edition, {figure_id: mine} if mine else None, settings=settings)
    if figure_id not in loaded.figures:
        raise NaoError(f"{loaded.path}: figure {figure_id!r} has no parameters in this edition - add a '{figure_id}:' section")
    from nao_analysis.figures.recipe import _load_registry

    check_against_registry(loaded, _load_registry(settings), only=[figure_id])
    return FigureContext(spec=spec, settings=settings, edition=loaded, params=loaded.figures[figure_id], overrides=mine)


def execute(ctx: FigureContext) -> FigureResult:
    import matplotlib

    matplotlib.use("Agg")
    from nao_analysis.charts import apply_house_style

    apply_house_style()
    result = recipe(ctx.figure_id).run(ctx)
    _check_finite(ctx, result)
    return result


def _check_finite(ctx: FigureContext, result: FigureResult) -> None:
    """A non-finite number must never reach a published figure."""
    import numpy as np

    for name, frame in {**{k or "data": v for k, v in result.data.items()}, **result.tables}.items():
        numeric = frame.select_dtypes(include="number")
        if numeric.size and np.isinf(numeric.to_numpy(dtype=float, na_value=np.nan)).any():
            column = next(c for c in numeric.columns if np.isinf(numeric[c].to_numpy(dtype=float, na_value=np.nan)).any())
            raise NaoError(
                f"{ctx.figure_id}: table {name!r} column {column!r} holds an infinite number - a reader or analysis step let it through"
            )


# -- writing ---------------------------------------------------------------------------------------


def banner(ctx: FigureContext, result: FigureResult) -> str:
    """Text stamped on a chart when the edition uses substitute data or this run overrides parameters."""
    lines = list(ctx.edition.deviations_for(ctx.figure_id))
    if ctx.overrides:
        changed = ", ".join(f"{ctx.figure_id}.{k}={v}" for k, v in sorted(ctx.overrides.items()))
        lines.append(f"Parameters overridden for this run ({changed}); the edition's description above is of its defaults.")
    third_party = [i["title"] for i in ctx.inputs.values() if i.get("kind") == "third_party_extract"]
    if third_party:
        lines.append("Built from a third party's extract of the official file: " + "; ".join(third_party) + ".")
    return "\n".join(lines)


@dataclass
class Written:
    record_path: Path
    record: dict[str, Any]


def write_outputs(ctx: FigureContext, result: FigureResult, output_dir: Path) -> Written:
    """Write charts (PNG and SVG; a table image as SVG only), data (CSV), tables, the map's areas (GeoJSON)
    and the record. ``alt_text`` is keyed by the file a reader sees: the PNG of a chart, the SVG of a table image."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = ctx.spec.stem
    outputs: list[str] = []
    alt_text: dict[str, str] = {}
    stamp = banner(ctx, result)
    substitute = ctx.edition.header.substitute_data
    for chart in result.charts:
        name = f"{stem}{'_' + chart.name if chart.name else ''}"
        label = f"Edition '{ctx.edition.name}' - {'substitute data' if substitute else 'note'}: {stamp}" if stamp else ""
        if chart.is_table:
            # A picture of a table: one SVG of text, written by our own code; no PNG to rasterise.
            target = output_dir / f"{name}.svg"
            chart.svg = chart.table.to_svg(chart.alt, banner=label)
            write_text_atomic(target, chart.svg)
            outputs.append(target.name)
            alt_text[target.name] = chart.alt
            continue
        files = _save_chart(chart.figure, output_dir / name, title=result.title, banner=label)
        outputs += [f.name for f in files]
        chart.png = files[0].read_bytes()
        alt_text[f"{name}.png"] = chart.alt
    tables: dict[str, str] = {}
    for name, frame in result.data.items():
        target = output_dir / f"{stem}{'_' + name if name else ''}.csv"
        write_atomic(target, lambda p, frame=frame: frame.to_csv(p, index=False, lineterminator="\n"))
        outputs.append(target.name)
        tables[name or "data"] = target.name
    for name, fragment in result.html_tables.items():
        target = output_dir / f"{stem}{'_' + name if name else ''}.table.html"
        write_text_atomic(target, fragment)
        outputs.append(target.name)
    map_spec = dict(result.map) if result.map else None
    if map_spec is not None and result.map_areas is not None:
        target = output_dir / f"{stem}_map.geojson"
        write_text_atomic(target, result.map_areas.to_json(drop_id=True))
        outputs.append(target.name)
        map_spec["geojson"] = target.name
    published = ctx.published
    params = ctx.params.model_dump(mode="json")
    differing = published.differing(params)
    differing_inputs = published.differing_inputs(params)
    rows = _with_expectations(ctx, result.reconciliation)
    record = {
        "figure": ctx.figure_id,
        "slug": ctx.spec.slug,
        "stem": stem,
        "edition": ctx.edition.name,
        "substitute_data": substitute,
        "deviations": ctx.edition.deviations_for(ctx.figure_id),
        "overrides": ctx.overrides,
        "banner": stamp,
        "title": result.title,
        "subtitle": result.subtitle,
        "notes": result.notes,
        "source": result.source,
        "assumptions": result.assumptions,
        "caveats": result.caveats,
        "text": result.text,
        "params": params,
        "comparability": {
            "as_published": published.is_published(params),
            "differing": differing,
            "differing_inputs": differing_inputs,
            "published_parameters": dict(published.parameters),
        },
        "inputs": ctx.inputs,
        "outputs": outputs,
        "tables": tables,
        "alt_text": alt_text,
        "reconciliation": rows,
        "map": map_spec,
        "extra": result.extra,
    }
    target = output_dir / f"{stem}.json"
    write_text_atomic(target, json.dumps(record, indent=2, default=_json_default) + "\n")
    return Written(target, record)


def _save_chart(figure, stem_path: Path, *, title: str, banner: str) -> list[Path]:
    """PNG and SVG of one chart from one layout, with the edition's banner below the source line when there is one."""
    from nao_analysis.charts import save_png_and_svg, wrap_text

    if banner:
        # Below the source line, so it never hides the chart; the saved bounding box grows to fit it.
        figure.text(
            0.01,
            -0.01,
            wrap_text(banner, figure.get_figwidth() * 0.96, 7.5),
            ha="left",
            va="top",
            fontsize=7.5,
            color="#801650",
            bbox={"facecolor": "#fff4f8", "edgecolor": "#801650", "boxstyle": "round,pad=0.4"},
        )
    png = stem_path.with_suffix(".png")
    svg = stem_path.with_suffix(".svg")
    write_atomic(
        png,
        lambda p: write_atomic(
            svg,
            lambda s: save_png_and_svg(
                figure, p, s, png_metadata={"Title": title, "Software": "nao-analysis"}, svg_metadata={"Date": None}
            ),
        ),
    )
    return [png, svg]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return value.name
    return str(value)


def _with_expectations(ctx: FigureContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compare each rebuilt number with the value this edition's own run was reviewed at, where recorded.

    A substitute-data edition cannot be checked against the report alone: its expected values, stored
    beside the edition (``editions/expected/<name>.yaml``), catch a run that moves without anyone noticing.
    """
    path = ctx.edition.path.parent / "expected" / f"{ctx.edition.name}.yaml"
    expected: dict[str, Any] = {}
    if path.exists() and not ctx.overrides:
        expected = ((load_yaml(path.read_text(encoding="utf-8")) or {}).get("figures") or {}).get(ctx.figure_id) or {}
    out = []
    for row in rows:
        row = dict(row)
        want = expected.get(row["check"])
        if want is not None:
            value, tolerance = want.get("value"), float(want.get("tolerance", 0))
            row["expected"] = value
            rebuilt = row.get("rebuilt")
            if value is None:
                held = rebuilt is None
            else:
                held = rebuilt is not None and not math.isnan(rebuilt) and abs(float(rebuilt) - float(value)) <= tolerance + 1e-9
            row["expected_status"] = "holds" if held else "moved"
        out.append(row)
    return out


# -- the one call a notebook makes ---------------------------------------------------------------


def run(
    figure_id: str,
    *,
    edition: str = "nao-2023",
    overrides: dict[str, Any] | None = None,
    output_dir: str | Path = "",
    settings: str | dict | Settings | None = "",
) -> FigureResult:
    """Run one figure and write its outputs.

    The build passes ``settings`` (as JSON) and a staging ``output_dir``. By hand, settings come from the
    environment and outputs go to ``scratch/<edition>/`` so the built ``figures/<edition>/`` is never touched.
    """
    if isinstance(settings, Settings):
        resolved = settings
    elif settings:
        resolved = Settings.from_json(settings)
    else:
        resolved = Settings.from_environment()
    out = Path(output_dir) if output_dir else resolved.output_root / SCRATCH / edition
    ctx = prepare(figure_id, settings=resolved, edition=edition, overrides=overrides)
    result = execute(ctx)
    write_outputs(ctx, result, out)
    return result
