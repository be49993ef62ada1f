"""Roll an edition forward to a new year: ``nao-analysis new-edition <name> --from <base> [--years N]``.

Every year parameter of the base edition is moved on generically, then every source it names is re-chosen
from the registry by what the source *serves*:

- financial years (fields typed :data:`~nao_analysis.params.FinancialYear`, e.g. ``target_year``,
  ``price_year``), calendar years (int fields named ``*_year``) and survey years (``2010/11``) move by N;
- ``boundary_vintage`` becomes the vintage in force in the figure's year (``data/manual/boundary_vintages.csv``:
  the April 2023 reorganisation of Cumbria, North Yorkshire and Somerset starts the May 2023 boundaries);
- a source whose ``serves`` names a year, area type or boundary vintage is replaced by the registry entry
  that serves the rolled values (the Fingertips area type comes from ``data/manual/fingertips_area_types.csv``);
  a deflator needs a vintage at least N years newer. A value of ``serves`` equal to one of the figure's own
  parameters follows that parameter, so ``--set fig03.base_year=2013-14`` also re-chooses ``base_source``;
- a source the registry does not have yet keeps a placeholder id, and one "needs" line says where to get it
  (the base source's official landing page) and the exact ``nao-analysis sources add`` command.

The edition is validated with :func:`nao_analysis.editions.load_edition` before it is written. One that
cannot validate because sources are missing is still written, marked incomplete in its title and header.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nao_analysis import paths
from nao_analysis.editions import EDITION_NAME, edition_path, load_edition, parse_override
from nao_analysis.errors import EditionError, SourceError
from nao_analysis.params import FINANCIAL_YEAR, FigureSpec, _check_financial_year, load_all, shift_financial_year
from nao_analysis.sources.registry import Registry, Source, load_registry

VINTAGES_FILE = "boundary_vintages.csv"
#: The parameter that says which year a figure shows, in order of preference: it decides boundaries and area type.
SHOWN_YEAR_FIELDS = ("year", "target_year", "end_year")
SURVEY_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
VINTAGE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class BoundaryVintage:
    """One counties-and-UAs boundary vintage and the financial years whose areas it draws."""

    vintage: str
    first_year: str
    last_year: str | None
    english_areas: int
    reorganisation: str

    def covers(self, year: str) -> bool:
        start = int(year[:4])
        return int(self.first_year[:4]) <= start and (self.last_year is None or start <= int(self.last_year[:4]))


def load_boundary_vintages(path: Path | None = None) -> list[BoundaryVintage]:
    """Read ``data/manual/boundary_vintages.csv``: which boundary vintage serves which financial years.

    Parameters
    ----------
    path
        The table; defaults to the project's copy.

    Returns
    -------
    list of BoundaryVintage
        In file order.

    Raises
    ------
    SourceError
        The file is missing, lacks a column, has a malformed year, or two rows cover the same year.
    """
    path = Path(path or paths.manual_dir() / VINTAGES_FILE)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise SourceError(f"{path}: boundary vintage table not found - restore data/manual/{VINTAGES_FILE} from git") from None
    needed = {"boundary_vintage", "first_year", "last_year", "english_upper_tier_areas", "reorganisation", "citation"}
    missing = needed - set(rows[0] if rows else {})
    if missing:
        raise SourceError(f"{path}: missing column(s) {', '.join(sorted(missing))} - restore data/manual/{VINTAGES_FILE} from git")
    vintages = []
    for number, row in enumerate(rows, start=2):
        try:
            first = _check_financial_year(row["first_year"].strip())
            last = _check_financial_year(row["last_year"].strip()) if row["last_year"].strip() else None
            if not VINTAGE.match(row["boundary_vintage"].strip()):
                raise ValueError(f"boundary_vintage {row['boundary_vintage']!r} must look like 2023-05")
            areas = int(row["english_upper_tier_areas"])
        except ValueError as exc:
            raise SourceError(f"{path} line {number}: {exc} - fix the row") from None
        vintages.append(BoundaryVintage(row["boundary_vintage"].strip(), first, last, areas, row["reorganisation"].strip()))
    ordered = sorted(vintages, key=lambda v: v.first_year)
    for earlier, later in zip(ordered, ordered[1:]):
        if earlier.last_year is None or earlier.last_year >= later.first_year:
            raise SourceError(
                f"{path}: vintages {earlier.vintage} and {later.vintage} cover the same years - each year must map to one vintage"
            )
    return vintages


def boundary_vintage_for_year(year: str, vintages: list[BoundaryVintage] | None = None) -> BoundaryVintage:
    """The counties-and-UAs boundary vintage whose areas were in force in a financial year.

    Parameters
    ----------
    year
        ``YYYY-YY``, e.g. ``"2022-23"`` (Dec 2021 boundaries) or ``"2023-24"`` (May 2023, after the April 2023
        reorganisation).
    vintages
        The table; defaults to :func:`load_boundary_vintages`.

    Raises
    ------
    SourceError
        No row covers the year.
    """
    _check_financial_year(year)
    table = vintages if vintages is not None else load_boundary_vintages()
    for vintage in table:
        if vintage.covers(year):
            return vintage
    raise SourceError(
        f"year {year}: no counties-and-UAs boundary vintage covers it in data/manual/{VINTAGES_FILE} - add a row with the "
        "vintage in force that year (and register its boundary file with `nao-analysis sources add`)"
    )


def _is_financial_year(text: str) -> bool:
    match = FINANCIAL_YEAR.match(text)
    return bool(match) and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def roll_survey_year(value: str, years: int) -> str:
    """``"2010/11"`` moved on by ``years`` (a CSEW survey year)."""
    start = int(SURVEY_YEAR.match(value).group(1)) + years
    return f"{start}/{(start + 1) % 100:02d}"


def roll_vintage(value: str, years: int) -> str:
    """``"2023-09"`` (a release month) moved on by ``years``."""
    match = VINTAGE.match(value)
    return f"{int(match.group(1)) + years}-{match.group(2)}"


def _is_financial_year_field(spec: FigureSpec, name: str) -> bool:
    info = spec.params.model_fields.get(name)
    return bool(info) and any(getattr(m, "func", None) is _check_financial_year for m in info.metadata)


def roll_year_value(spec: FigureSpec, name: str, value: Any, years: int) -> Any:
    """A parameter value moved on by ``years`` if it is a year; any other value unchanged.

    Financial years are recognised by the field's type, calendar years (int) and survey years (``2010/11``)
    by a field name ending in ``year``. Dates (``gap_start``) are events, not years, and stay.
    """
    if isinstance(value, str) and _is_financial_year_field(spec, name):
        return shift_financial_year(value, years)
    if name == "year" or name.endswith("_year"):
        if isinstance(value, int) and not isinstance(value, bool):
            return value + years
        if isinstance(value, str) and _is_financial_year(value):
            return shift_financial_year(value, years)
        if isinstance(value, str) and SURVEY_YEAR.match(value):
            return roll_survey_year(value, years)
    return value


def _shift_any_year(value: Any, years: int) -> Any:
    """A ``serves`` value that is a year of any form, moved on; None if it is not a year."""
    if isinstance(value, int) and not isinstance(value, bool) and 1900 < value < 2200:
        return value + years
    text = str(value)
    if _is_financial_year(text):
        return shift_financial_year(text, years)
    if SURVEY_YEAR.match(text):
        return roll_survey_year(text, years)
    return None


def _same(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _token(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


@dataclass
class SourceChoice:
    """How one source parameter was re-chosen."""

    source_id: str
    wanted: dict[str, Any]
    found: bool
    note: str = ""


@dataclass
class FigureRoll:
    """One figure's rolled parameters and what the auditor must do about them."""

    values: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # placeholder id -> one needs line


class _Roller:
    """Rolls the parameters of one figure; keeps the lookups (registry, area types, vintages) it needs."""

    def __init__(self, figure_id: str, spec: FigureSpec, registry: Registry, years: int, vintages: list[BoundaryVintage] | None):
        self.figure_id = figure_id
        self.spec = spec
        self.registry = registry
        self.years = years
        self.vintages = vintages

    def roll(self, base_values: Mapping[str, Any], overrides: Mapping[str, Any]) -> FigureRoll:
        self.base = dict(base_values)
        values = {name: roll_year_value(self.spec, name, value, self.years) for name, value in self.base.items()}
        values.update(overrides)
        result = FigureRoll(values)
        shown = next((values[n] for n in SHOWN_YEAR_FIELDS if isinstance(values.get(n), str) and _is_financial_year(values[n])), None)
        self.shown_year = shown
        self._roll_geography(result, overrides)
        self.values = values
        known = set(self.registry.ids())
        for name, value in list(values.items()):
            if name in overrides:
                continue
            if isinstance(value, str) and value in known:
                values[name] = self._choose(result, name, value)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value) and any(v in known for v in value):
                chosen = [self._choose(result, name, v) if v in known else v for v in value]
                values[name] = list(dict.fromkeys(chosen))  # two editions rolling onto one file are listed once
        return result

    def _roll_geography(self, result: FigureRoll, overrides: Mapping[str, Any]) -> None:
        self.area_type: int | None = None
        self.area_type_problem = ""
        self.vintage: BoundaryVintage | None = None
        if self.shown_year is None:
            return
        try:
            self.vintage = boundary_vintage_for_year(self.shown_year, self.vintages)
        except SourceError as exc:
            if "boundary_vintage" in result.values:
                result.needs.append(f"{self.figure_id}.boundary_vintage: {exc}")
        if "boundary_vintage" in result.values and "boundary_vintage" not in overrides and self.vintage:
            if result.values["boundary_vintage"] != self.vintage.vintage:
                result.notes.append(
                    f"{self.figure_id}: boundaries {result.values['boundary_vintage']} -> {self.vintage.vintage} for "
                    f"{self.shown_year} ({self.vintage.reorganisation})"
                )
            result.values["boundary_vintage"] = self.vintage.vintage
        from nao_analysis.sources.fingertips import area_type_for_year

        try:
            self.area_type = area_type_for_year(self.shown_year).area_type_id
        except SourceError as exc:
            self.area_type_problem = str(exc)
        if "area_type_id" in result.values and "area_type_id" not in overrides and result.values["area_type_id"] is not None:
            if self.area_type is None:
                result.needs.append(f"{self.figure_id}.area_type_id: kept {result.values['area_type_id']}: {self.area_type_problem}")
            else:
                result.values["area_type_id"] = self.area_type

    def _wanted(self, source: Source) -> tuple[dict[str, Any], dict[str, str]]:
        """What the rolled figure needs from a source like ``source``: exact values, and minimum vintages."""
        wanted: dict[str, Any] = {}
        at_least: dict[str, str] = {}
        for key, old in source.serves.items():
            if key == "boundary_vintage" and self.vintage is not None:
                wanted[key] = self.values.get("boundary_vintage", self.vintage.vintage)
                continue
            if key.endswith("_vintage") and VINTAGE.match(str(old)):
                # A price index for a later year only exists in a later release: at least as many years newer.
                at_least[key] = roll_vintage(str(old), self.years)
                continue
            if key == "area_type_id" and self.area_type is not None:
                wanted[key] = self.values.get("area_type_id") or self.area_type
                continue
            linked = {name for name, value in self.base.items() if _same(value, old) and not isinstance(value, list)}
            new_values = {str(self.values[name]) for name in linked if name in self.values}
            if len(new_values) == 1:
                wanted[key] = next(iter(new_values)) if not isinstance(old, int) else _as_int(next(iter(new_values)), old)
                continue
            shifted = _shift_any_year(old, self.years)
            wanted[key] = shifted if shifted is not None else old
        return wanted, at_least

    def _matches(self, candidate: Source, wanted: Mapping[str, Any], at_least: Mapping[str, str]) -> bool:
        serves = candidate.serves or {}
        if any(key not in serves or not _same(serves[key], value) for key, value in wanted.items()):
            return False
        return all(key in serves and str(serves[key]) >= minimum for key, minimum in at_least.items())

    def _choose(self, result: FigureRoll, name: str, source_id: str) -> str:
        source = self.registry.get(source_id)
        where = f"{self.figure_id}.{name}"
        if not source.serves:
            result.needs.append(
                f"check {where}: {source_id!r} does not say in data/sources.yaml which years it serves - confirm it covers "
                f"{self.shown_year or 'the new years'}, or add the newer file with "
                "`nao-analysis sources add ID --file PATH --serves KEY=VALUE`"
            )
            return source_id
        wanted, at_least = self._wanted(source)
        if self._matches(source, wanted, at_least):
            return source_id
        candidates = [s for s in self.registry.sources if self._matches(s, wanted, at_least)]
        if candidates:
            # Same file format first (the reader is known to work), then the publisher's own file, then the newest release.
            candidates.sort(
                key=lambda s: (s.format != source.format, s.kind != "official", tuple(-_vintage_number(s.serves.get(k)) for k in at_least))
            )
            chosen = candidates[0]
            if at_least:
                shown = ", ".join(f"{k} {chosen.serves[k]}" for k in at_least)
                other_format = (
                    f"; its format {chosen.format} differs from {source.format}: check the reader handles it"
                    if chosen.format != source.format
                    else ""
                )
                minimum = ", ".join(f"{k} {v} or later" for k, v in at_least.items())
                result.needs.append(
                    f"check {where}: rolled by {self.years} year(s), so it needs {minimum} "
                    f"(base used {source_id!r}); chose {chosen.id!r} ({shown}){other_format} - or add the publisher's newer release "
                    f"({source.landing_page or source.url or source.publisher}) with `nao-analysis sources add`"
                )
            return chosen.id
        placeholder = self._placeholder(source, wanted, at_least)
        serves_args = " ".join(f"--serves {k}={v}" for k, v in {**wanted, **at_least}.items())
        where_from = source.landing_page or source.url or f"the publisher ({source.publisher})"
        result.missing.setdefault(
            placeholder,
            f"{where}: no source in data/sources.yaml serves {_describe(wanted, at_least)} - get the successor of {source.title!r} "
            f"from {where_from}, then `nao-analysis sources add {placeholder} --url URL` (or `--file PATH`) {serves_args}",
        )
        return placeholder

    def _placeholder(self, source: Source, wanted: Mapping[str, Any], at_least: Mapping[str, str]) -> str:
        """The id the missing source should be added under: the base id with its year tokens moved on."""
        served: dict[str, str] = {}
        for key, new in {**wanted, **at_least}.items():
            old = source.serves.get(key)
            if old is not None and not _same(old, new):
                served[_token(old)] = _token(new)
        # Ids often carry the figure's year rather than the served value (fingertips_93517_2021_22).
        replacements = dict(served)
        for name, old in self.base.items():
            new = self.values.get(name)
            if isinstance(old, (str, int)) and not isinstance(old, bool) and new != old and _shift_any_year(old, 0) is not None:
                replacements.setdefault(_token(old), _token(new))
        placeholder = source.id
        if replacements:
            pattern = re.compile("|".join(re.escape(t) for t in sorted(replacements, key=len, reverse=True)))
            placeholder = pattern.sub(lambda m: replacements[m.group(0)], source.id)
        if placeholder == source.id:
            placeholder = f"{source.id}_{'_'.join(served.values()) or 'new'}"
        while placeholder in self.registry.ids():
            placeholder += "_new"
        return placeholder


def _as_int(text: str, like: Any) -> Any:
    try:
        return int(text)
    except ValueError:
        return like


def _vintage_number(value: Any) -> int:
    match = VINTAGE.match(str(value or ""))
    return int(match.group(1)) * 100 + int(match.group(2)) if match else 0


def _describe(wanted: Mapping[str, Any], at_least: Mapping[str, str]) -> str:
    parts = [f"{k}={v}" for k, v in wanted.items()] + [f"{k}>={v}" for k, v in at_least.items()]
    return ", ".join(parts) or "these parameters"


@contextlib.contextmanager
def _editions_dir(folder: Path) -> Iterator[None]:
    # load_edition resolves names in NAO_EDITIONS_DIR only; validate the draft there before it is published.
    before = os.environ.get("NAO_EDITIONS_DIR")
    os.environ["NAO_EDITIONS_DIR"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NAO_EDITIONS_DIR", None)
        else:
            os.environ["NAO_EDITIONS_DIR"] = before


def _overrides_by_figure(overrides: list[str] | Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    by_figure: dict[str, dict[str, Any]] = {}
    if isinstance(overrides, Mapping):
        for figure_id, values in overrides.items():
            by_figure.setdefault(figure_id, {}).update(values or {})
    else:
        for item in overrides or []:
            figure_id, name, value = parse_override(item)
            by_figure.setdefault(figure_id, {})[name] = value
    return by_figure


def roll_edition_values(
    base: Mapping[str, Any],
    years: int,
    *,
    registry: Registry,
    overrides: list[str] | Mapping[str, Mapping[str, Any]] | None = None,
    vintages: list[BoundaryVintage] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[str], list[str], dict[str, str]]:
    """Roll the ``figures`` block of an edition forward (no file is read or written but the lookup tables).

    Parameters
    ----------
    base
        The base edition's ``figures`` mapping, as written in its YAML.
    years
        How many years to move on (at least 1).
    registry
        The source registry the new sources are chosen from.
    overrides
        ``["fig03.base_year=2013-14", ...]`` or ``{"fig03": {"base_year": "2013-14"}}``: applied after rolling and
        before sources are chosen, so sources follow them.
    vintages
        Boundary vintage table; defaults to ``data/manual/boundary_vintages.csv``.

    Returns
    -------
    tuple
        ``(figures, needs, notes, missing)``: the rolled figures; lines the auditor must act on (missing sources
        first); what was changed beyond the years; placeholder id -> needs line for each missing source.

    Raises
    ------
    EditionError
        ``years`` below 1, or an override names a figure or parameter the base edition does not have.
    """
    if years < 1:
        raise EditionError(f"--years {years}: an edition is rolled forward by at least 1 year")
    specs = load_all()
    by_figure = _overrides_by_figure(overrides)
    for figure_id, values in by_figure.items():
        if figure_id not in base:
            raise EditionError(f"--set {figure_id}.*: figure {figure_id!r} is not in the base edition - figures: {', '.join(base)}")
        unknown = sorted(set(values) - set(specs[figure_id].params.model_fields))
        if unknown:
            raise EditionError(
                f"--set {figure_id}.{unknown[0]}: unknown parameter of {figure_id} - see src/nao_analysis/params/{figure_id}.py"
            )
    figures: dict[str, dict[str, Any]] = {}
    needs: list[str] = []
    notes: list[str] = []
    missing: dict[str, str] = {}
    for figure_id, values in base.items():
        spec = specs.get(figure_id)
        if spec is None:
            raise EditionError(f"figures.{figure_id}: unknown figure - known figures: {', '.join(specs)}")
        rolled = _Roller(figure_id, spec, registry, years, vintages).roll(values or {}, by_figure.get(figure_id, {}))
        figures[figure_id] = rolled.values
        needs += rolled.needs
        notes += rolled.notes
        for placeholder, line in rolled.missing.items():
            missing.setdefault(placeholder, line)
    return figures, list(missing.values()) + needs, notes, missing


def _header_comment(base: str, years: int, notes: list[str], needs: list[str], missing: dict[str, str], problem: str | None) -> str:
    lines = [
        f"# Rolled forward from editions/{base}.yaml by {years} year(s) with `nao-analysis new-edition` on {dt.date.today().isoformat()}."
    ]
    if missing:
        lines.append(f"# INCOMPLETE: {len(missing)} source(s) are not in data/sources.yaml yet ({', '.join(missing)}).")
        lines.append("# This edition does not load until they are added with `nao-analysis sources add` (see below).")
        if problem:
            lines.append(f"# First validation error: {problem}")
    for note in notes:
        lines.append(f"# rolled: {note}")
    for need in needs:
        lines.append(f"# needs: {need}")
    return "\n".join(lines) + "\n"


class _EditionDumper(yaml.SafeDumper):
    """Block style like the hand-written editions, with short lists of scalars on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(item, (str, int, float)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_EditionDumper.add_representer(list, _represent_list)


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_EditionDumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def _mentions(value: Any, ids: Mapping[str, str]) -> bool:
    if isinstance(value, list):
        return any(_mentions(v, ids) for v in value)
    return isinstance(value, str) and value in ids


def _validate(name: str, document: dict[str, Any], missing: Mapping[str, str]) -> str | None:
    """Validate the rolled edition with :func:`load_edition`; return the problem a missing source explains, if any.

    Figures that name no missing source must load; a figure that names one may fail only because of it.

    Raises
    ------
    EditionError
        Any other problem: nothing is written then.
    """
    from pydantic import ValidationError

    waiting = {fid for fid, values in document["figures"].items() if any(_mentions(v, missing) for v in values.values())}
    complete = dict(
        document,
        figures={f: v for f, v in document["figures"].items() if f not in waiting},
        deviations=[d for d in document["deviations"] if d["figure"] == "all" or d["figure"] not in waiting],
    )
    with tempfile.TemporaryDirectory(prefix=".new-edition-") as folder:
        draft = Path(folder) / f"{name}.yaml"
        draft.write_text(_dump(complete), encoding="utf-8")
        with _editions_dir(Path(folder)):
            try:
                load_edition(name)
            except EditionError as exc:
                problem = str(exc).replace(str(draft), f"editions/{name}.yaml")
                raise EditionError(f"the rolled edition is not valid: {problem} - pass --set FIG.PARAM=VALUE to fix the value") from None
    specs = load_all()
    problems = []
    for figure_id in sorted(waiting):
        try:
            specs[figure_id].params.model_validate(document["figures"][figure_id])
        except ValidationError as exc:
            # The registry's list of known ids would drown the one line that matters.
            message = exc.errors()[0]["msg"].removeprefix("Value error, ").split(" - known ids:")[0]
            if not any(placeholder in message for placeholder in missing):
                raise EditionError(
                    f"editions/{name}.yaml: {figure_id}: {message} - pass --set {figure_id}.PARAM=VALUE to fix the value"
                ) from None
            problems.append(f"{figure_id}: {message}")
    return "; ".join(problems) or None


def new_edition(
    name: str,
    base: str = "nao-2023",
    years: int = 1,
    overrides: list[str] | Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[Path, list[str]]:
    """Write ``editions/<name>.yaml``: the base edition with every year parameter rolled forward.

    Parameters
    ----------
    name
        The new edition's name (lower case, digits, ``-``, ``_``, ``.``); must not exist yet.
    base
        The edition to start from.
    years
        How many years to move on.
    overrides
        Parameters to set after rolling, e.g. ``["fig03.base_year=2013-14"]``; sources are re-chosen to follow them.

    Returns
    -------
    tuple of (Path, list of str)
        The file written, and one line per thing the auditor must do: each missing source with the official
        page to get it from and the ``sources add`` command, then each choice to check.

    Raises
    ------
    EditionError
        The name is invalid or taken, the base edition is invalid, or the rolled edition is invalid for a reason
        other than a missing source (nothing is written then).
    """
    if not EDITION_NAME.match(name or ""):
        raise EditionError(f"edition name {name!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    target = paths.editions_dir() / f"{name}.yaml"
    if target.exists():
        raise EditionError(f"{target}: edition {name!r} already exists - choose another name, or delete the file to write it again")
    base_edition = load_edition(base)
    raw = yaml.safe_load(edition_path(base).read_text(encoding="utf-8"))
    figures, needs, notes, missing = roll_edition_values(raw["figures"], years, registry=load_registry(), overrides=overrides)

    header = base_edition.header
    title = f"{header.title}, rolled forward {years} year(s)"
    if missing:
        title = f"INCOMPLETE (sources missing: {', '.join(missing)}) - {title}"
    description = (
        f"Derived from edition {base!r}: every year parameter moved on by {years} year(s), and each source re-chosen from "
        "data/sources.yaml by the parameters it serves. Review the `needs` lines in the header comment before publishing."
    )
    document: dict[str, Any] = {
        "name": name,
        "title": title,
        "description": description,
        "derived_from": base,
        "substitute_data": header.substitute_data,
        "deviations": [
            {"figure": d.figure, "description": f"Carried over from edition {base!r}; check it still applies: {d.description}"}
            for d in header.deviations
        ],
        "figures": figures,
    }

    problem = _validate(name, document, missing)
    if problem:
        needs.append(f"editions/{name}.yaml loads once the sources above are added (now: {problem})")

    text = _header_comment(base, years, notes, needs, missing, problem) + _dump(document)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            # A hard link publishes the finished file in one step and fails if the name was taken meanwhile.
            os.link(tmp, target)
        except FileExistsError:
            raise EditionError(f"{target}: edition {name!r} already exists - choose another name") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target, needs
