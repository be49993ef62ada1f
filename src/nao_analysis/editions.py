"""Editions: every parameter of one run, in ``editions/<name>.yaml``, validated before anything runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nao_analysis.errors import EditionError
from nao_analysis.figures import load_specs, order_key
from nao_analysis.figures.recipe import FigureParams
from nao_analysis.safe_io import load_yaml
from nao_analysis.settings import Settings

EDITION_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class Deviation(BaseModel):
    """How a substitute-data edition departs from the published inputs, shown on the figure."""

    model_config = ConfigDict(extra="forbid")

    figure: str
    description: str


class EditionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=EDITION_NAME.pattern)
    title: str
    description: str = ""
    derived_from: str | None = None
    substitute_data: bool = Field(default=False, description="True when inputs stand in for the ones the NAO used")
    deviations: list[Deviation] = Field(default_factory=list)
    figures: dict[str, dict[str, Any]]


class Edition(BaseModel):
    """A validated edition: its header plus one typed parameter object per figure."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    header: EditionFile
    figures: dict[str, FigureParams]
    path: Path

    @property
    def name(self) -> str:
        return self.header.name

    def deviations_for(self, figure_id: str) -> list[str]:
        return [d.description for d in self.header.deviations if d.figure in (figure_id, "all")]


def edition_path(name: str, settings: Settings) -> Path:
    if not EDITION_NAME.match(name or ""):
        raise EditionError(f"edition name {name!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    path = settings.editions_dir / f"{name}.yaml"
    if not path.exists():
        available = ", ".join(list_editions(settings))
        raise EditionError(f"{path}: no such edition {name!r} - available editions: {available}")
    return path


def parse_override(assignment: str) -> tuple[str, str, Any]:
    """``"fig02.end_year=2022"`` -> ``("fig02", "end_year", 2022)``; the value is parsed as YAML data, never code."""
    key, sep, raw = assignment.partition("=")
    figure_id, dot, field = key.strip().partition(".")
    if not sep or not dot or not figure_id or not field:
        raise EditionError(f"--set {assignment!r}: expected FIGURE.PARAMETER=VALUE, e.g. --set fig02.end_year=2022")
    try:
        value = load_yaml(raw) if raw.strip() else raw
    except yaml.YAMLError:
        value = raw
    return figure_id, field, value


def _format_validation(path: Path, figure_id: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(figure)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown parameter"
    return f"{path}: {figure_id}.{where}: {message}"


def load_edition(name: str, overrides: list[str] | dict[str, dict[str, Any]] | None = None, *, settings: Settings) -> Edition:
    """Load ``<editions_dir>/<name>.yaml``; see :func:`load_edition_file`."""
    return load_edition_file(edition_path(name, settings), overrides)


def load_edition_file(path: Path, overrides: list[str] | dict[str, dict[str, Any]] | None = None) -> Edition:
    """Load an edition file, apply ``--set`` overrides and validate every figure's parameters.

    Parsing reads this file only; checking the sources it names is :func:`check_against_registry`.

    Raises
    ------
    EditionError
        One line naming the file, the key and what is wrong.
    """
    path = Path(path)
    name = path.stem
    if not path.is_file():
        raise EditionError(f"{path}: no such edition file - give the path of an edition YAML")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EditionError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}) - fix the syntax") from None
    try:
        header = EditionFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        what = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise EditionError(f"{path}: {where}: {what} - see editions/nao-2023.yaml for the keys an edition takes") from None
    if header.name != path.stem:
        raise EditionError(f"{path}: name {header.name!r} differs from the file name - make them the same")

    specs = load_specs()
    figure_values = {fid: dict(values or {}) for fid, values in sorted(header.figures.items(), key=lambda kv: order_key(kv[0]))}
    for figure_id, field, value in _normalise_overrides(overrides):
        if figure_id not in figure_values:
            raise EditionError(
                f"--set {figure_id}.{field}: figure {figure_id!r} is not in edition {name!r} - figures: {', '.join(figure_values)}"
            )
        figure_values[figure_id][field] = value

    figures: dict[str, FigureParams] = {}
    for figure_id, values in figure_values.items():
        spec = specs.get(figure_id)
        if spec is None:
            raise EditionError(f"{path}: figures.{figure_id}: unknown figure - known figures: {', '.join(specs)}")
        try:
            figures[figure_id] = spec.params.model_validate(values)
        except ValidationError as exc:
            raise EditionError(_format_validation(path, figure_id, exc) + " - fix the edition file or the --set value") from None
    for deviation in header.deviations:
        if deviation.figure != "all" and deviation.figure not in figures:
            raise EditionError(f"{path}: deviations: figure {deviation.figure!r} is not in this edition")
    return Edition(header=header, figures=figures, path=path)


def _normalise_overrides(overrides) -> list[tuple[str, str, Any]]:
    if not overrides:
        return []
    if isinstance(overrides, dict):
        return [(fid, field, value) for fid, values in overrides.items() for field, value in (values or {}).items()]
    return [parse_override(item) for item in overrides]


def check_against_registry(edition: Edition, registry, only: list[str] | None = None) -> None:
    """Check that the sources each figure's parameters name exist and serve what the parameters say.

    A budget file in an outturn run, or a file of the wrong year, would silently change every number.
    """
    for figure_id, params in edition.figures.items():
        if only and figure_id not in only:
            continue
        problems = params.registry_problems(registry)
        if problems:
            raise EditionError(f"{edition.path}: {figure_id}: {problems[0]} - fix the edition file or the --set value")


def list_editions(settings: Settings) -> list[str]:
    return sorted(p.stem for p in settings.editions_dir.glob("*.yaml"))
