"""What every figure recipe shares: the run context, the result, text templates and comparability.

A recipe (``nao_analysis.figures.<figure_id>``) declares its parameter model, its text as templates,
its reconciliation checks and ``run(ctx) -> FigureResult``. This module gives it:

- :class:`FigureContext`: the settings, edition and parameters of one run, and the only way a recipe
  reads a raw source (:meth:`FigureContext.fetch`) or a manual table (:meth:`FigureContext.read_manual`),
  so every input lands in the figure's provenance;
- :class:`FigureResult`: the finished text, charts, data, tables and reconciliation rows;
- :func:`fill`: text templates filled from parameters and results, never hard-coded;
- :class:`PublishedRun`: the published run's parameters and numbers, and the generic rule that a rebuilt
  number is compared *as published* only when the parameters it depends on equal the published run's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict

from nao_analysis.errors import EditionError, NaoError
from nao_analysis.safe_io import load_yaml

if TYPE_CHECKING:
    import pandas as pd

    from nao_analysis.editions import Edition
    from nao_analysis.settings import Settings

STATUS_PASS = "pass"  # noqa: S105 - a status word, not a secret
STATUS_DIFFERS = "differs (explained)"
STATUS_FAIL = "fail"
STATUS_UNAVAILABLE = "source unavailable"
STATUS_NOT_APPLICABLE = "not applicable"
STATUS_NOT_COMPARABLE = "not comparable (parameters differ)"


class FigureParams(BaseModel):
    """Base for every figure's parameters: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    def registry_problems(self, registry) -> list[str]:
        """Problems with the sources these parameters name, checked against the registry (a separate step
        from parsing, so loading an edition reads no other file). Empty when consistent."""
        return []


@dataclass(frozen=True)
class FigureSpec:
    """A figure's identity: id, file-name slug, short title and parameter model."""

    figure_id: str
    slug: str
    title: str
    params: type[FigureParams]

    @property
    def notebook(self) -> str:
        return f"{self.figure_id}_{self.slug}.ipynb"

    @property
    def stem(self) -> str:
        return f"{self.figure_id}_{self.slug}"


# -- text ----------------------------------------------------------------------------------------


class _Strict(string.Formatter):
    def get_value(self, key, args, kwargs):
        if isinstance(key, str) and key not in kwargs:
            raise NaoError(f"text template names {{{key}}}, which is neither a parameter nor a result of this run")
        return super().get_value(key, args, kwargs)


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Fill a text template from parameters and results; an unknown placeholder is an error, never blank."""
    return _Strict().vformat(template, (), dict(values))


def signed_pct(value: float, digits: int = 0) -> str:
    """A change in per cent, always signed, with the same convention everywhere ("-40%", "+9%")."""
    return f"{value:+,.{digits}f}%".replace("-", "\u2212") if value < 0 else f"{value:+,.{digits}f}%"


def plain_number(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def year_span(first: Any, last: Any) -> str:
    return f"{first} to {last}"


# -- published run and comparability ----------------------------------------------------------------


@dataclass(frozen=True)
class PublishedCheck:
    check: str
    published: float
    tolerance: float
    unit: str
    description: str
    citation: str
    tolerance_reason: str
    depends_on: tuple[str, ...]
    if_inputs_differ: str
    extra: Mapping[str, Any] = field(default_factory=dict)


_CHECK_KEYS = {"check", "published", "tolerance", "unit", "description", "citation", "tolerance_reason", "depends_on", "if_inputs_differ"}


@dataclass(frozen=True)
class PublishedRun:
    """``data/manual/published/<figure>.yaml``: the published run's parameters and its numbers."""

    figure_id: str
    parameters: Mapping[str, Any]
    inputs: tuple[str, ...]
    checks: Mapping[str, PublishedCheck]

    @classmethod
    def load(cls, figure_id: str, manual_dir: Path) -> PublishedRun:
        path = manual_dir / "published" / f"{figure_id}.yaml"
        if not path.exists():
            return cls(figure_id, {}, (), {})
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        run = data.get("published_run") or {}
        default_depends = tuple(data.get("depends_on") or (n for n in run.get("parameters", {}) if n not in (run.get("inputs") or ())))
        checks = {}
        for row in data.get("checks", []):
            checks[row["check"]] = PublishedCheck(
                check=row["check"],
                published=float(row["published"]),
                tolerance=float(row.get("tolerance", 0)),
                unit=str(row.get("unit", "")),
                description=str(row.get("description", "")),
                citation=str(row.get("citation", "")),
                tolerance_reason=str(row.get("tolerance_reason", "")),
                depends_on=tuple(row.get("depends_on", default_depends)),
                if_inputs_differ=str(row.get("if_inputs_differ", "")),
                extra={k: v for k, v in row.items() if k not in _CHECK_KEYS},
            )
        return cls(figure_id, dict(run.get("parameters") or {}), tuple(run.get("inputs") or ()), checks)

    def differing(self, params: Mapping[str, Any], names: Iterable[str] | None = None) -> dict[str, list[Any]]:
        """Parameters (of ``names``, default all recorded) whose value differs from the published run's."""
        wanted = self.parameters if names is None else {n: self.parameters[n] for n in names if n in self.parameters}
        return {name: [published, params.get(name)] for name, published in wanted.items() if _norm(params.get(name)) != _norm(published)}

    def differing_inputs(self, params: Mapping[str, Any]) -> dict[str, list[Any]]:
        return {
            name: [self.parameters.get(name), params.get(name)]
            for name in self.inputs
            if name in self.parameters and _norm(params.get(name)) != _norm(self.parameters.get(name))
        }

    def is_published(self, params: Mapping[str, Any]) -> bool:
        """True only when every recorded parameter and input of the published run is the same here."""
        return bool(self.parameters) and not self.differing(params) and not self.differing_inputs(params)


def _norm(value: Any) -> Any:
    # A date parameter is a date in the model and in YAML, but a string once dumped as JSON.
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _load_registry(settings: Settings):
    from nao_analysis.sources.registry import load_registry

    return load_registry(settings)


# -- context ---------------------------------------------------------------------------------------


@dataclass
class FigureContext:
    """One figure's run: settings, edition, parameters and the inputs it has read so far."""

    spec: FigureSpec
    settings: Settings
    edition: Edition
    params: FigureParams
    overrides: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _registry: Any = None

    @property
    def figure_id(self) -> str:
        return self.spec.figure_id

    @property
    def registry(self):
        if self._registry is None:
            self._registry = _load_registry(self.settings)
        return self._registry

    @property
    def published(self) -> PublishedRun:
        return PublishedRun.load(self.figure_id, self.settings.manual_dir)

    def source_title(self, source_id: str) -> str:
        return self.registry.get(source_id).title

    def source_format(self, source_id: str) -> str:
        return self.registry.get(source_id).format

    def fetch(self, source_id: str) -> Path:
        """Resolve a raw source (cache -> mirror -> download) and record its provenance for this figure."""
        from nao_analysis.sources import fetch

        resolved = fetch(source_id, self.settings)
        self.inputs[source_id] = dict(resolved.provenance)
        return resolved.path

    def manual_path(self, name: str) -> Path:
        """A file under ``data/manual/``; anything else (absolute, ``..``, a symlink out) is refused in one line."""
        from nao_analysis.manual import resolve_manual

        try:
            return resolve_manual(name, self.settings)
        except EditionError as exc:
            raise EditionError(f"{self.figure_id}: {exc}") from None

    def read_manual(self, name: str, schema: Callable[[Any], Any] | None = None, **read_options: Any):
        """Read a manual table (CSV as strings, YAML as data), validate it with ``schema`` and record its sha256."""
        path = self.manual_path(name)
        data_bytes = path.read_bytes()
        if path.suffix == ".csv":
            import io

            import pandas as pd

            options = {"dtype": str, "keep_default_na": False} | read_options
            data: Any = pd.read_csv(io.BytesIO(data_bytes), **options)
        elif path.suffix in (".yaml", ".yml"):
            try:
                data = load_yaml(data_bytes.decode("utf-8"))
            except yaml.YAMLError as exc:
                raise NaoError(f"data/manual/{name}: not valid YAML ({str(exc).splitlines()[0]}) - fix the file") from None
        else:
            raise NaoError(f"data/manual/{name}: manual tables are .csv or .yaml - convert it")
        self.inputs[f"manual:{name}"] = {
            "kind": "manual",
            "title": f"data/manual/{name}",
            "path": f"data/manual/{name}",
            "sha256": hashlib.sha256(data_bytes).hexdigest(),
        }
        return schema(data) if schema else data

    # -- helpers for text -------------------------------------------------------------------------
    def values(self, **results: Any) -> dict[str, Any]:
        """Parameters and results together, for filling text templates."""
        return {**self.params.model_dump(), **results}


# -- result ----------------------------------------------------------------------------------------


@dataclass
class Chart:
    """One picture of a figure: either a matplotlib ``figure`` (written as PNG and SVG) or a ``table``
    (a :class:`nao_analysis.tables.TableImage`, written as SVG only by our own code: a picture of a table
    needs no rasterising). Build the second kind with :meth:`of_table`."""

    figure: Any
    alt: str
    name: str | None = None
    png: bytes | None = None  # the PNG as written, so a notebook shows exactly the published image
    table: Any = None  # a TableImage; then ``figure`` is None
    svg: str | None = None  # a table's SVG as written (banner included), for the notebook

    def __post_init__(self) -> None:
        if (self.figure is None) == (self.table is None):
            raise ValueError("a Chart is either a matplotlib figure or a table image, exactly one of them")

    @classmethod
    def of_table(cls, table: Any, alt: str, name: str | None = None) -> Chart:
        return cls(None, alt, name=name, table=table)

    @property
    def is_table(self) -> bool:
        return self.table is not None


@dataclass
class Reconciliation:
    """Rows comparing rebuilt numbers with the published ones, built with :meth:`check`."""

    published: PublishedRun
    params: Mapping[str, Any]
    input_titles: Mapping[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differing(self) -> dict[str, list[Any]]:
        return self.published.differing(self.params)

    def check(
        self,
        check: str,
        rebuilt: float | None,
        *,
        explanation: str | None = None,
        note: str | None = None,
        not_applicable: str | None = None,
    ) -> dict[str, Any]:
        """Compare one rebuilt number with the published one.

        ``not_applicable`` says why this run cannot hold the number at all (its years lie outside the
        edition); ``explanation`` says what specifically makes this check's number differ.
        """
        spec = self.published.checks.get(check)
        if spec is None:
            raise NaoError(
                f"data/manual/published/{self.published.figure_id}.yaml: no published check {check!r} - add it with its citation"
            )
        value = None if rebuilt is None or (isinstance(rebuilt, float) and math.isnan(rebuilt)) else float(rebuilt)
        if value is not None and not math.isfinite(value):
            raise NaoError(
                f"{self.published.figure_id}: check {check} rebuilt a non-finite number ({value}) - "
                "a reader or analysis step let it through"
            )
        differing = self.published.differing(self.params, spec.depends_on)
        inputs = self.published.differing_inputs(self.params)
        notes = [x for x in (note,) if x]
        if not_applicable:
            status = STATUS_NOT_APPLICABLE
            notes.insert(0, not_applicable)
        elif value is None:
            status = STATUS_UNAVAILABLE
            notes.insert(0, explanation or "not rebuilt by this run")
        elif differing:
            # Which parameters differ is said once for the whole figure (its record's comparability), not per row.
            status = STATUS_NOT_COMPARABLE
        elif abs(value - spec.published) <= spec.tolerance + 1e-9:
            status = STATUS_PASS
            if spec.tolerance_reason:
                notes.append(f"tolerance: {spec.tolerance_reason}")
        else:
            reasons = [explanation] if explanation else []
            if inputs:
                swapped = "; ".join(
                    f"{self.input_titles.get(str(this), this)} in place of {self.input_titles.get(str(pub), pub)}"
                    for pub, this in inputs.values()
                )
                reasons.append(f"inputs differ ({swapped})" + (f": {spec.if_inputs_differ}" if spec.if_inputs_differ else ""))
            status = STATUS_DIFFERS if reasons else STATUS_FAIL
            notes = reasons + notes
        row = {
            "check": check,
            "figure": self.published.figure_id,
            "description": spec.description,
            "published": spec.published,
            "rebuilt": value,
            "tolerance": spec.tolerance,
            "unit": spec.unit,
            "status": status,
            "note": "; ".join(notes),
            "citation": spec.citation,
        }
        self.rows.append(row)
        return row

    def finish(self) -> list[dict[str, Any]]:
        """Every published number gets a row, even when the run could not rebuild it."""
        done = {r["check"] for r in self.rows}
        for check in self.published.checks:
            if check not in done:
                self.check(check, None)
        return self.rows


@dataclass
class FigureResult:
    """Everything one run of a recipe produced. The runtime writes it out; notebooks display it."""

    figure_id: str
    title: str
    subtitle: str
    notes: list[str]
    source: str
    charts: list[Chart] = field(default_factory=list)
    data: dict[str | None, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    html_tables: dict[str | None, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    reconciliation: list[dict[str, Any]] = field(default_factory=list)
    map: dict[str, Any] | None = None
    map_areas: Any = None  # a GeoDataFrame of the mapped areas, saved as GeoJSON for the site
    extra: dict[str, Any] = field(default_factory=dict)


# -- maps --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapSpec:
    """How a figure's choropleth reads on the interactive map: which column, how values and details read."""

    value_column: str
    value_label: str
    value_fmt: str
    legend_title: str
    details: tuple[tuple[str, str], ...] = ()
    flag_column: str | None = None
    counted_column: str | None = None
    no_data_column: str | None = None
    simplify_metres: float = 150.0


def _format_value(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def map_areas(gdf, spec: MapSpec, *, bins: list[float], labels: list[str], colours: list[str], values: Mapping[str, Any]):
    """The mapped areas as a GeoDataFrame (British National Grid, simplified) carrying everything the
    interactive map shows, so the site never re-reads a source: code, name, value, its text, class and
    colour, flag, no-data reason, whether the area is counted, and the hover details."""
    import geopandas as gpd
    import pandas as pd

    from nao_analysis.maps import BRITISH_NATIONAL_GRID, classify

    projected = gdf.to_crs(BRITISH_NATIONAL_GRID)
    numbers = pd.to_numeric(projected[spec.value_column], errors="coerce")
    classes = classify(numbers.reset_index(drop=True), bins, labels)
    colour_of = dict(zip(labels, colours, strict=True))
    value_label = fill(spec.value_label, values)
    rows = []
    for position, (_, area) in enumerate(projected.iterrows()):
        value = numbers.iloc[position]
        label = classes.iloc[position]
        details = [[value_label, _format_value(value, spec.value_fmt) or "no data"]]
        for column, text in spec.details:
            shown = _format_value(area.get(column), "{:,.0f}" if isinstance(area.get(column), float) else "{}")
            if shown:
                details.append([fill(text, values), shown])
        rows.append(
            {
                "code": str(area["code"]),
                "name": str(area["name"]),
                "value": None if pd.isna(value) else float(value),
                "value_text": _format_value(value, spec.value_fmt) or "no data",
                "class_label": None if pd.isna(label) else str(label),
                "colour": None if pd.isna(label) else colour_of[str(label)],
                "flag": str(area.get(spec.flag_column) or "") if spec.flag_column else "",
                "no_data_reason": str(area.get(spec.no_data_column) or "") if spec.no_data_column else "",
                "counted": bool(area.get(spec.counted_column))
                if spec.counted_column and not pd.isna(area.get(spec.counted_column))
                else True,
                "details": details,
            }
        )
    geometry = projected.geometry.simplify(spec.simplify_metres, preserve_topology=True)
    return gpd.GeoDataFrame(rows, geometry=list(geometry), crs=BRITISH_NATIONAL_GRID)
