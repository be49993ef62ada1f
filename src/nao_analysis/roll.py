"""Roll an edition forward to a new year: ``nao-analysis new-edition <name> --from <base> [--years N]``.

Every year parameter of the base edition is moved on, then every source it names is re-chosen by **coverage**:
what years the source's data holds, not which release it is.

- financial years (fields typed :data:`~nao_analysis.years.FinancialYear`), calendar years (int fields named
  ``*_year``) and survey years (``2010/11``) move by N; a survey year with no survey
  (``data/manual/known_gaps.csv``: the CSEW had no 2020/21 year) moves on to the next real one;
- ``boundary_vintage`` becomes the vintage in force in the figure's year (``data/manual/boundary_vintages.csv``);
- a source that already covers the new years is **kept**: a deflator series reaching the price and target
  years, an export whose years include the new ones, a deaths file whose registration years include the end year.
  An older edition kept for a revision check is never rolled. Coverage comes from the source's ``serves``
  (``covers_from``/``covers_to`` recorded by ``sources add``, or the edition it is: registration edition N holds
  years up to N, deflator release 2025-06 holds financial years to 2024-25) or from
  ``data/manual/source_coverage.csv``;
- only when no registered source covers a year is a newer file requested: a placeholder id and one ``needs``
  line saying where to get it and the exact ``nao-analysis sources add`` command;
- labels and descriptions are recomputed from the new parameters (Figure 3's basis label is computed by its recipe from ``basis``;
  Figure 5's ``partial_coverage`` follows its source).

No environment variable is read or written here: every place comes from the :class:`~nao_analysis.settings.Settings`
passed in. The edition is validated before it is written; one that names sources not registered yet is still
written, and its header says which figures build now and which wait for which source.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nao_analysis.editions import EDITION_NAME, EditionFile, parse_override
from nao_analysis.errors import EditionError, SourceError
from nao_analysis.figures import FigureSpec
from nao_analysis.figures import load_specs as load_all
from nao_analysis.safe_io import load_yaml
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import Registry, Source, load_registry
from nao_analysis.years import FINANCIAL_YEAR, _check_financial_year, shift_financial_year

VINTAGES_FILE = "boundary_vintages.csv"
KNOWN_GAPS_FILE = "known_gaps.csv"
COVERAGE_FILE = "source_coverage.csv"
#: The parameter that says which year a figure shows, in order of preference: it decides boundaries and area type.
SHOWN_YEAR_FIELDS = ("year", "target_year", "end_year")
SURVEY_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
VINTAGE = re.compile(r"^(\d{4})-(\d{2})$")


# -- lookup tables (data/manual) -------------------------------------------------------------------------------


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


def _read_table(path: Path, needed: set[str]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise SourceError(f"{path}: table not found - restore data/manual/{path.name} from git") from None
    missing = needed - set(rows[0] if rows else {})
    if missing:
        raise SourceError(f"{path}: missing column(s) {', '.join(sorted(missing))} - restore data/manual/{path.name} from git")
    return rows


def load_boundary_vintages(path: Path | None = None, settings: Settings | None = None) -> list[BoundaryVintage]:
    """Read ``data/manual/boundary_vintages.csv``: which boundary vintage serves which financial years.

    Raises
    ------
    SourceError
        The file is missing, lacks a column, has a malformed year, or two rows cover the same year.
    """
    path = Path(path or (settings or Settings()).manual_dir / VINTAGES_FILE)
    needed = {"boundary_vintage", "first_year", "last_year", "english_upper_tier_areas", "reorganisation", "citation"}
    vintages = []
    for number, row in enumerate(_read_table(path, needed), start=2):
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


@dataclass(frozen=True)
class KnownGap:
    series: str
    dimension: str
    value: str
    reason: str


def load_known_gaps(settings: Settings) -> list[KnownGap]:
    """Years a series has no data for at all (``data/manual/known_gaps.csv``, rows of kind ``no_data``)."""
    rows = _read_table(settings.manual_dir / KNOWN_GAPS_FILE, {"series", "dimension", "value", "kind", "reason", "citation"})
    return [KnownGap(r["series"], r["dimension"], r["value"].strip(), r["reason"]) for r in rows if r["kind"] == "no_data"]


@dataclass(frozen=True)
class Coverage:
    """The years a source's data holds, in one dimension; ``last`` None means open-ended (an API)."""

    first: Any
    last: Any
    partial: bool = False
    how_known: str = ""

    def covers(self, value: Any) -> bool:
        key = year_key(value)
        if key is None:
            return False
        first, last = year_key(self.first), year_key(self.last)
        return (first is None or first <= key) and (last is None or key <= last)

    def describe(self) -> str:
        if self.first is None:
            return f"up to {self.last}"
        return f"{self.first} to {self.last or 'the latest published'}"


def load_declared_coverage(settings: Settings) -> dict[str, Coverage]:
    """Coverage known for sources whose ``serves`` cannot say it (``data/manual/source_coverage.csv``)."""
    rows = _read_table(settings.manual_dir / COVERAGE_FILE, {"source_id", "dimension", "covers_from", "covers_to", "partial", "how_known"})
    return {
        r["source_id"]: Coverage(r["covers_from"].strip() or None, r["covers_to"].strip() or None, r["partial"] == "yes", r["how_known"])
        for r in rows
    }


# -- years ------------------------------------------------------------------------------------------------------


def _is_financial_year(text: str) -> bool:
    match = FINANCIAL_YEAR.match(text)
    return bool(match) and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def year_key(value: Any) -> int | None:
    """The first calendar year of a financial year (``2021-22``), survey year (``2021/22``) or a calendar year."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    if _is_financial_year(text) or SURVEY_YEAR.match(text):
        return int(text[:4])
    return None


def roll_survey_year(value: str, years: int, gaps: set[str] = frozenset()) -> str:
    """``"2010/11"`` moved on by ``years`` (a CSEW survey year); a year with no survey moves on to the next one."""
    start = int(SURVEY_YEAR.match(value).group(1)) + years
    rolled = f"{start}/{(start + 1) % 100:02d}"
    while rolled in gaps:
        start += 1
        rolled = f"{start}/{(start + 1) % 100:02d}"
    return rolled


def roll_vintage(value: str, years: int) -> str:
    """``"2023-09"`` (a release month) moved on by ``years``."""
    match = VINTAGE.match(value)
    return f"{int(match.group(1)) + years}-{match.group(2)}"


def _is_financial_year_field(spec: FigureSpec, name: str) -> bool:
    info = spec.params.model_fields.get(name)
    return bool(info) and any(getattr(m, "func", None) is _check_financial_year for m in info.metadata)


def roll_year_value(spec: FigureSpec, name: str, value: Any, years: int, gaps: set[str] = frozenset()) -> Any:
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
            return roll_survey_year(value, years, gaps)
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


def _financial_year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _survey_year(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def coverage_of(source: Source, declared: Mapping[str, Coverage]) -> Coverage | None:
    """The years ``source`` holds: recorded in its ``serves``, declared in data/manual, or implied by its edition.

    - ``covers_from``/``covers_to`` in ``serves`` (written by ``sources add`` after reading the file);
    - a row of ``data/manual/source_coverage.csv``;
    - ``registration_edition: N`` holds registration years up to N (one ONS edition a year);
    - ``survey_edition: S`` holds survey years up to S;
    - ``deflator_vintage: YYYY-MM`` holds the financial years complete before the release (a June 2025
      release holds 2024-25: the first estimate of a quarter follows it by about six weeks);
    - ``year: YYYY-YY`` (a revenue account file) holds that year only.
    """
    serves = source.serves or {}
    if "covers_from" in serves or "covers_to" in serves:
        return Coverage(serves.get("covers_from"), serves.get("covers_to"), bool(serves.get("partial")), "recorded by sources add")
    if source.id in declared:
        return declared[source.id]
    if "registration_edition" in serves:
        return Coverage(None, int(serves["registration_edition"]), how_known="registration edition")
    if "survey_edition" in serves:
        return Coverage(None, str(serves["survey_edition"]), how_known="survey edition")
    if "deflator_vintage" in serves and VINTAGE.match(str(serves["deflator_vintage"])):
        year, month = (int(p) for p in str(serves["deflator_vintage"]).split("-"))
        last = year - 1 if month >= 5 else year - 2
        return Coverage(None, _financial_year(last), how_known="deflator release")
    if "year" in serves and _is_financial_year(str(serves["year"])):
        return Coverage(str(serves["year"]), str(serves["year"]), how_known="one year")
    return None


# -- what each figure needs from a source ----------------------------------------------------------------------

CSEW_FORMATS = frozenset({"csew_appendix_xlsx", "csew_tidy_csv", "ons_csew_drug_appendix_xlsx"})
DEATHS_FORMATS = frozenset({"ons_drug_deaths_table1", "ons_drug_deaths_extract_csv"})
DEFLATOR_FORMATS = frozenset({"hmt_deflator_xlsx", "ons_timeseries_csv"})


@dataclass(frozen=True)
class Covers:
    """A source parameter that must cover the figure's years (``years``: parameters, or ``"survey_end"``)."""

    years: tuple[str, ...]
    formats: frozenset[str] | None = None  # None: the base source's own format only
    exact: tuple[str, ...] = ()  # serves keys that must equal the rolled figure's parameter of that name
    placeholder: str = ""  # id template for a missing file, with {year} (the last year needed)
    series: str = ""  # for known gaps and messages


KEEP = "keep"
CROSSWALK = "crosswalk"

#: How each source parameter is re-chosen. Parameters not listed follow their ``serves`` (boundary vintage,
#: revenue-account year and basis) as linked parameters.
ROLES: dict[str, dict[str, Any]] = {
    "fig01": {"sources": Covers(("survey_end",), CSEW_FORMATS, placeholder="csew_drug_misuse_{year}", series="csew")},
    "fig02": {
        "source": Covers(("end_year",), DEATHS_FORMATS, placeholder="ons_drug_deaths_{year}reg", series="ons_drug_deaths"),
        "revision_check_source": KEEP,
    },
    "fig03": {
        "deflator": Covers(("base_year", "target_year", "price_year"), DEFLATOR_FORMATS, placeholder="gdp_deflator_to_{year}"),
        "crosswalk_sources": CROSSWALK,
    },
    "fig04": {"source": Covers(("start_year", "end_year"), placeholder="ndtms_viewit_adults_england_to_{year}")},
    "fig05": {"source": Covers(("year",), frozenset({"fingertips_csv"}), exact=("indicator_id", "area_type_id"))},
    # The area profiles' code-system files follow its revenue files (which keep their years), not its price year.
    "areas": {"crosswalk_sources": CROSSWALK},
}


def _same(a: Any, b: Any) -> bool:
    return str(a) == str(b)


def _token(value: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


@dataclass
class FigureRoll:
    """One figure's rolled parameters and what the auditor must do about them."""

    values: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # placeholder id -> one needs line
    changed_sources: dict[str, tuple[Any, Any]] = field(default_factory=dict)


@dataclass
class RollContext:
    """The lookup tables a roll reads, loaded once from ``settings``."""

    settings: Settings
    registry: Registry
    vintages: list[BoundaryVintage]
    gaps: list[KnownGap]
    declared: dict[str, Coverage]

    @classmethod
    def load(cls, settings: Settings, registry: Registry | None = None) -> RollContext:
        return cls(
            settings,
            registry or registry_for(settings),
            load_boundary_vintages(settings=settings),
            load_known_gaps(settings),
            load_declared_coverage(settings),
        )

    def gap_years(self, series: str = "csew") -> set[str]:
        return {g.value for g in self.gaps if g.series == series and g.dimension == "survey_year"}


def registry_for(settings: Settings) -> Registry:
    """The registry named by ``settings`` (explicit path, so no environment variable decides which file)."""
    return load_registry(settings.sources_file)


class _Roller:
    """Rolls the parameters of one figure."""

    def __init__(self, figure_id: str, spec: FigureSpec, context: RollContext, years: int):
        self.figure_id = figure_id
        self.spec = spec
        self.context = context
        self.registry = context.registry
        self.years = years
        self.roles = ROLES.get(figure_id, {})

    def roll(self, base_values: Mapping[str, Any], overrides: Mapping[str, Any]) -> FigureRoll:
        self.base = dict(base_values)
        gaps = self.context.gap_years()
        values = {name: roll_year_value(self.spec, name, value, self.years, gaps) for name, value in self.base.items()}
        values.update(overrides)
        result = FigureRoll(values)
        self.shown_year = next(
            (values[n] for n in SHOWN_YEAR_FIELDS if isinstance(values.get(n), str) and _is_financial_year(values[n])), None
        )
        self._roll_geography(result, overrides)
        self.values = values
        known = set(self.registry.ids())
        for name, value in list(values.items()):
            if name in overrides:
                continue
            role = self.roles.get(name)
            if role == KEEP:
                continue
            if role == CROSSWALK:
                continue  # after the target source is chosen
            if isinstance(role, Covers):
                values[name] = self._choose_covering(result, name, value, role)
            elif isinstance(value, str) and value in known:
                values[name] = self._choose(result, name, value)
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value) and any(v in known for v in value):
                chosen = [self._choose(result, name, v) if v in known else v for v in value]
                values[name] = list(dict.fromkeys(chosen))  # two editions rolling onto one file are listed once
        for name, role in self.roles.items():
            if role == CROSSWALK and name in values and name not in overrides:
                values[name] = self._crosswalk(values[name])
        self._relabel(result, overrides)
        for name, old in self.base.items():
            if values.get(name) != old and self._names_sources(old):
                result.changed_sources[name] = (old, values.get(name))
        return result

    def _names_sources(self, value: Any) -> bool:
        known = set(self.registry.ids())
        items = value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and v in known for v in items)

    # -- geography --------------------------------------------------------------------------------------------
    def _roll_geography(self, result: FigureRoll, overrides: Mapping[str, Any]) -> None:
        self.area_type: int | None = None
        self.area_type_problem = ""
        self.vintage: BoundaryVintage | None = None
        if self.shown_year is None:
            return
        try:
            self.vintage = boundary_vintage_for_year(self.shown_year, self.context.vintages)
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
        from nao_analysis.sources.fingertips import area_type_for_year, load_area_types

        try:
            table = load_area_types(self.context.settings.manual_dir / "fingertips_area_types.csv")
            self.area_type = area_type_for_year(self.shown_year, table).area_type_id
        except SourceError as exc:
            self.area_type_problem = str(exc)
        if "area_type_id" in result.values and "area_type_id" not in overrides and result.values["area_type_id"] is not None:
            if self.area_type is None:
                result.needs.append(f"{self.figure_id}.area_type_id: kept {result.values['area_type_id']}: {self.area_type_problem}")
            else:
                result.values["area_type_id"] = self.area_type

    # -- sources chosen by coverage ---------------------------------------------------------------------------
    def _needed_years(self, role: Covers, current: list[Source]) -> list[Any]:
        if role.years == ("survey_end",):
            return [self._survey_end(current)]
        return [self.values[name] for name in role.years if self.values.get(name) is not None]

    def _survey_end(self, current: list[Source]) -> str:
        """The last survey year the rolled figure shows: the base's last year (sources or quoted points) moved on."""
        ends = [year_key(c.last) for s in current if (c := coverage_of(s, self.context.declared)) and c.last]
        quoted = self.base.get("quoted_points")
        if isinstance(quoted, str):
            ends += self._quoted_survey_years(quoted)
        base_end = _survey_year(max(ends)) if ends else str(self.values.get("first_survey_year"))
        return roll_survey_year(base_end, self.years, self.context.gap_years())

    def _quoted_survey_years(self, name: str) -> list[int]:
        path = self.context.settings.manual_dir / name
        if not path.is_file():
            return []
        with open(path, newline="", encoding="utf-8") as handle:
            # A survey year ends between March and June of its second calendar year.
            return [int(row["year_ending"][:4]) - 1 for row in csv.DictReader(handle) if row.get("year_ending", "")[:4].isdigit()]

    def _exact(self, role: Covers) -> dict[str, Any]:
        wanted = {}
        for key in role.exact:
            value = self.values.get(key)
            if key == "area_type_id" and value is None:
                value = self.area_type
            if value is not None:
                wanted[key] = value
        return wanted

    def _serves_exact(self, source: Source, exact: Mapping[str, Any]) -> bool:
        serves = source.serves or {}
        return all(key not in serves or _same(serves[key], value) for key, value in exact.items()) and all(
            key in serves for key in exact if key == "indicator_id"
        )

    def _covering(self, source: Source, needed: list[Any], role: Covers, formats: frozenset[str], exact: Mapping[str, Any]) -> bool:
        if source.format not in formats or not self._serves_exact(source, exact):
            return False
        if "area_type_id" in exact and "area_type_id" not in (source.serves or {}):
            return False
        coverage = coverage_of(source, self.context.declared)
        return coverage is not None and all(coverage.covers(year) for year in needed)

    def _choose_covering(self, result: FigureRoll, name: str, value: Any, role: Covers) -> Any:
        ids = value if isinstance(value, list) else [value]
        current = [self.registry.get(i) for i in ids if isinstance(i, str) and i in self.registry.ids()]
        if not current:
            return value
        formats = role.formats or frozenset({current[0].format})
        needed = self._needed_years(role, current)
        exact = self._exact(role)
        where = f"{self.figure_id}.{name}"
        if isinstance(value, list):
            # A list of editions (fig01): keep them all, and make sure one reaches the last year.
            if any(self._covering(s, needed, role, formats, exact) for s in current):
                return value
            found = self._best([s for s in self.registry.sources if self._covering(s, needed, role, formats, exact)], current[-1])
            if found:
                result.notes.append(f"{where}: added {found.id!r}, which covers {needed[-1]}")
                return [*value, found.id]
            return [*value, self._missing(result, where, self._model(current[-1], formats), role, needed, exact)]
        source = current[0]
        if self._covering(source, needed, role, formats, exact):
            return value
        found = self._best([s for s in self.registry.sources if self._covering(s, needed, role, formats, exact)], source)
        if found:
            coverage = coverage_of(found, self.context.declared)
            other_format = f"; its format {found.format} differs from {source.format}" if found.format != source.format else ""
            result.notes.append(
                f"{where}: {source.id!r} does not cover {', '.join(map(str, needed))}; chose {found.id!r} "
                f"({coverage.describe() if coverage else 'coverage unknown'}){other_format}"
            )
            return found.id
        return self._missing(result, where, source, role, needed, exact)

    def _model(self, like: Source, formats: frozenset[str]) -> Source:
        """The registered source a missing file should be modelled on: the newest official one with a landing page."""
        family = [s for s in self.registry.sources if s.format in formats and s.landing_page and s.kind == "official"]
        family.sort(key=lambda s: year_key((coverage_of(s, self.context.declared) or Coverage(None, None)).last) or 0)
        return family[-1] if family else like

    def _best(self, candidates: list[Source], like: Source) -> Source | None:
        if not candidates:
            return None
        # The same format first (its reader is known to work), then the publisher's own file, then full coverage.
        candidates.sort(
            key=lambda s: (
                s.format != like.format,
                s.kind != "official",
                bool((c := coverage_of(s, self.context.declared)) and c.partial),
                -(year_key(c.last) or 9999) if (c := coverage_of(s, self.context.declared)) else 0,
            )
        )
        return candidates[0]

    def _missing(self, result: FigureRoll, where: str, like: Source, role: Covers, needed: list[Any], exact: Mapping[str, Any]) -> str:
        last = needed[-1] if needed else "the new year"
        serves_args = {**{k: v for k, v in exact.items()}}
        coverage = coverage_of(like, self.context.declared)
        if coverage is None or coverage.last is not None and ("covers_to" in (like.serves or {}) or like.id in self.context.declared):
            serves_args["covers_to"] = last
        for key in ("registration_edition", "survey_edition", "year"):
            if key in (like.serves or {}):
                serves_args[key] = last
        placeholder = role.placeholder.format(year=_token(last)) if role.placeholder else self._placeholder(like, serves_args)
        while placeholder in self.registry.ids():
            placeholder += "_new"
        where_from = like.landing_page or like.url or f"the publisher ({like.publisher})"
        args = " ".join(f"--serves {k}={v}" for k, v in serves_args.items())
        result.missing.setdefault(
            placeholder,
            f"{where}: no registered source covers {', '.join(map(str, needed))} "
            f"({like.id!r} covers {coverage.describe() if coverage else 'unknown years'}) - get the newer file from {where_from}, "
            f"then `nao-analysis sources add {placeholder} --url URL` (or `--file PATH`) {args}".rstrip(),
        )
        return placeholder

    # -- sources chosen by what they serve (one year, one basis, one boundary vintage) -------------------------
    def _wanted(self, source: Source) -> dict[str, Any]:
        wanted: dict[str, Any] = {}
        for key, old in source.serves.items():
            if key in ("covers_from", "covers_to", "partial"):
                continue
            if key == "boundary_vintage" and self.vintage is not None:
                wanted[key] = self.values.get("boundary_vintage", self.vintage.vintage)
                continue
            if key == "area_type_id" and self.area_type is not None:
                wanted[key] = self.values.get("area_type_id") or self.area_type
                continue
            linked = {name for name, value in self.base.items() if _same(value, old) and not isinstance(value, list)}
            new_values = {str(self.values[name]) for name in linked if name in self.values}
            if len(new_values) == 1:
                wanted[key] = next(iter(new_values)) if not isinstance(old, int) else _as_int(next(iter(new_values)), old)
                continue
            wanted[key] = old
        return wanted

    def _matches(self, candidate: Source, wanted: Mapping[str, Any]) -> bool:
        serves = candidate.serves or {}
        return all(key in serves and _same(serves[key], value) for key, value in wanted.items())

    def _choose(self, result: FigureRoll, name: str, source_id: str) -> str:
        source = self.registry.get(source_id)
        if not source.serves:
            return source_id  # a lookup or table that serves no year (code changes, district lookups): still valid
        wanted = self._wanted(source)
        if self._matches(source, wanted):
            return source_id
        candidates = [s for s in self.registry.sources if self._matches(s, wanted)]
        if candidates:
            candidates.sort(key=lambda s: (s.format != source.format, s.kind != "official"))
            return candidates[0].id
        source = self._model_serving(source, wanted)
        placeholder = self._placeholder(source, wanted)
        while placeholder in self.registry.ids():
            placeholder += "_new"
        where_from = source.landing_page or source.url or f"the publisher ({source.publisher})"
        serves_args = " ".join(f"--serves {k}={v}" for k, v in wanted.items())
        result.missing.setdefault(
            placeholder,
            f"{self.figure_id}.{name}: no source in data/sources.yaml serves {_describe(wanted)} - get the successor of "
            f"{source.title!r} from {where_from}, then `nao-analysis sources add {placeholder} --url URL` (or `--file PATH`) {serves_args}",
        )
        return placeholder

    def _model_serving(self, source: Source, wanted: Mapping[str, Any]) -> Source:
        """A registered source like the one wanted except for its year (an RO3 outturn file when outturn is wanted)."""
        fixed = {k: v for k, v in wanted.items() if year_key(v) is None}
        family = [
            s
            for s in self.registry.sources
            if set(s.serves or {}) == set(source.serves) and all(_same(s.serves.get(k), v) for k, v in fixed.items())
        ]
        family.sort(key=lambda s: (s.kind != "official", -max([year_key(v) or 0 for v in s.serves.values()] or [0])))
        return family[0] if family else source

    def _placeholder(self, source: Source, wanted: Mapping[str, Any]) -> str:
        """The id the missing source should be added under: the base id with its year tokens moved on."""
        served: dict[str, str] = {}
        for key, new in wanted.items():
            old = (source.serves or {}).get(key)
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
        return placeholder

    def _crosswalk(self, value: Any) -> Any:
        """Revenue-account files carrying both code systems: the base's target file becomes the new target file."""
        if not isinstance(value, list):
            return value
        old_target, new_target = self.base.get("target_source"), self.values.get("target_source")
        rolled = [new_target if item == old_target else item for item in value]
        return list(dict.fromkeys(rolled))

    # -- labels -----------------------------------------------------------------------------------------------
    def _relabel(self, result: FigureRoll, overrides: Mapping[str, Any]) -> None:
        # Labels such as Figure 3's basis line are computed by the recipe from the parameters, never stored here.
        values = result.values
        source = values.get("source")
        if "partial_coverage" in values and "partial_coverage" not in overrides and source in self.registry.ids():
            coverage = coverage_of(self.registry.get(source), self.context.declared)
            values["partial_coverage"] = bool(coverage and coverage.partial)


def _as_int(text: str, like: Any) -> Any:
    try:
        return int(text)
    except ValueError:
        return like


def _describe(wanted: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in wanted.items()) or "these parameters"


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


@dataclass
class RolledEdition:
    """The rolled ``figures`` block and what the auditor must know about it."""

    figures: dict[str, dict[str, Any]]
    needs: list[str]
    notes: list[str]
    missing: dict[str, str]
    waiting: dict[str, list[str]]  # figure -> placeholder ids it names
    changed_sources: dict[str, dict[str, tuple[Any, Any]]]


def roll_edition_values(
    base: Mapping[str, Any],
    years: int,
    *,
    settings: Settings,
    registry: Registry | None = None,
    overrides: list[str] | Mapping[str, Mapping[str, Any]] | None = None,
) -> RolledEdition:
    """Roll the ``figures`` block of an edition forward (reads the lookup tables only, writes nothing).

    Parameters
    ----------
    base
        The base edition's ``figures`` mapping, as written in its YAML.
    years
        How many years to move on (at least 1).
    settings
        Where the registry and data/manual live.
    registry
        The registry to choose from; defaults to ``settings.sources_file``.
    overrides
        ``["fig03.base_year=2013-14", ...]`` or ``{"fig03": {"base_year": "2013-14"}}``: applied after rolling and
        before sources are chosen, so sources follow them.

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
                f"--set {figure_id}.{unknown[0]}: unknown parameter of {figure_id} - see src/nao_analysis/figures/{figure_id}.py"
            )
    context = RollContext.load(settings, registry)
    rolled = RolledEdition({}, [], [], {}, {}, {})
    for figure_id, values in base.items():
        spec = specs.get(figure_id)
        if spec is None:
            raise EditionError(f"figures.{figure_id}: unknown figure - known figures: {', '.join(specs)}")
        result = _Roller(figure_id, spec, context, years).roll(values or {}, by_figure.get(figure_id, {}))
        rolled.figures[figure_id] = result.values
        rolled.needs += result.needs
        rolled.notes += result.notes
        for placeholder, line in result.missing.items():
            rolled.missing.setdefault(placeholder, line)
        names = [p for p in result.missing if _mentions(result.values, {p: ""})]
        if names:
            rolled.waiting[figure_id] = names
        if result.changed_sources:
            rolled.changed_sources[figure_id] = result.changed_sources
    rolled.needs = list(rolled.missing.values()) + rolled.needs
    return rolled


def _header_comment(base: str, years: int, rolled: RolledEdition, figures: list[str]) -> str:
    lines = [
        f"# Rolled forward from editions/{base}.yaml by {years} year(s) with `nao-analysis new-edition` on {dt.date.today().isoformat()}."
    ]
    if rolled.missing:
        ready = [f for f in figures if f not in rolled.waiting]
        lines.append(f"# INCOMPLETE: {len(rolled.missing)} source(s) are not in data/sources.yaml yet ({', '.join(rolled.missing)}).")
        lines.append(
            f"# Ready: {', '.join(ready) or 'no figure'} (they name registered sources only; one whose file is neither cached, "
            "mirrored nor downloadable here is skipped as unavailable). Waiting, and not built until their source is added: "
            + "; ".join(f"{f} (for {', '.join(ids)})" for f, ids in rolled.waiting.items())
            + "."
        )
        # The edition loads whatever it names; each figure's sources are checked against the registry when that
        # figure is built (editions.check_against_registry), so a waiting figure never stops the others.
        lines.append(
            "# `nao-analysis build` builds the ready figures now; a waiting figure does not keep the edition from loading, "
            "it is just not built until its source is added - add each with the command in its `needs` line."
        )
    for note in rolled.notes:
        lines.append(f"# rolled: {note}")
    for need in rolled.needs:
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
    if isinstance(value, Mapping):
        return any(_mentions(v, ids) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, ids) for v in value)
    return isinstance(value, str) and value in ids


def _first_error(exc) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ").split(" - known ids:")[0]
    return f"{where}: {message}" if where else message


def validate_document(name: str, document: Mapping[str, Any]) -> None:
    """Validate a rolled edition in memory (no file, no environment): header, then every figure's parameters.

    Parameters are validated without the registry (checking the sources they name is a separate step,
    :func:`nao_analysis.editions.check_against_registry`, run per figure at build time), so a figure naming a
    source not registered yet validates like any other.

    Raises
    ------
    EditionError
        Any invalid value: nothing is written then.
    """
    from pydantic import ValidationError

    try:
        EditionFile.model_validate(document)
    except ValidationError as exc:
        raise EditionError(f"editions/{name}.yaml: {_first_error(exc)} - fix the base edition") from None
    specs = load_all()
    for figure_id, values in document["figures"].items():
        try:
            specs[figure_id].params.model_validate(values)
        except ValidationError as exc:
            raise EditionError(
                f"the rolled edition is not valid: editions/{name}.yaml: {figure_id}.{_first_error(exc)} - "
                f"pass --set {figure_id}.PARAM=VALUE to fix the value"
            ) from None


def _read_edition(settings: Settings, name: str) -> dict[str, Any]:
    if not EDITION_NAME.match(name or ""):
        raise EditionError(f"edition name {name!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    path = settings.editions_dir / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in settings.editions_dir.glob("*.yaml")))
        raise EditionError(f"{path}: no such edition {name!r} - available editions: {available}")
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EditionError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}) - fix the syntax") from None
    try:
        EditionFile.model_validate(document)
    except Exception as exc:  # pydantic's ValidationError: one line is enough here
        raise EditionError(f"{path}: {_first_error(exc) if hasattr(exc, 'errors') else exc} - fix the edition file") from None
    return document


def _year_summary(figures: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for figure_id, values in figures.items():
        shown = [f"{k} {v}" for k, v in values.items() if (k == "year" or k.endswith("_year")) and year_key(v) is not None]
        if "basis" in values:
            shown.append(f"basis {values['basis']}")
        if shown:
            parts.append(f"{figure_id}: {', '.join(shown)}")
    return "; ".join(parts)


def _deviations(base: str, header: Mapping[str, Any], rolled: RolledEdition) -> list[dict[str, str]]:
    deviations = []
    for deviation in header.get("deviations") or []:
        figure = deviation["figure"]
        changed = rolled.changed_sources.get(figure)
        if changed:
            what = "; ".join(f"{name}: {old} -> {new}" for name, (old, new) in changed.items())
            deviations.append(
                {
                    "figure": figure,
                    "description": f"Sources changed by the roll ({what}): the deviation written for edition {base!r} no longer "
                    "describes this run - rewrite it from the sources this figure now reads.",
                }
            )
        else:
            deviations.append(
                {"figure": figure, "description": f"Carried over from edition {base!r} (same sources): {deviation['description']}"}
            )
    return deviations


def new_edition(
    name: str,
    base: str = "nao-2023",
    years: int = 1,
    overrides: list[str] | Mapping[str, Mapping[str, Any]] | None = None,
    *,
    settings: Settings | None = None,
) -> tuple[Path, list[str]]:
    """Write ``editions/<name>.yaml``: the base edition with every year moved on and sources re-chosen by coverage.

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
    settings
        Where editions, the registry and data/manual live (resolved once by the CLI).

    Returns
    -------
    tuple of (Path, list of str)
        The file written, and one line per source really missing (where to get it and the ``sources add``
        command), then any geography problem.

    Raises
    ------
    EditionError
        The name is invalid or taken, the base edition is invalid, or the rolled edition is invalid for a reason
        other than a missing source (nothing is written then).
    """
    settings = settings or Settings.from_environment()
    if not EDITION_NAME.match(name or ""):
        raise EditionError(f"edition name {name!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    target = settings.editions_dir / f"{name}.yaml"
    if target.exists():
        raise EditionError(f"{target}: edition {name!r} already exists - choose another name, or delete the file to write it again")
    header = _read_edition(settings, base)
    rolled = roll_edition_values(header["figures"], years, settings=settings, overrides=overrides)

    title = f"{header['title']}, rolled forward {years} year(s)"
    if rolled.missing:
        title = f"INCOMPLETE (sources missing: {', '.join(rolled.missing)}) - {title}"
    description = (
        f"Derived from edition {base!r} by {years} year(s): {_year_summary(rolled.figures)}. Each source was kept when its "
        "data covers these years, and replaced only when no registered source does."
    )
    document: dict[str, Any] = {
        "name": name,
        "title": title,
        "description": description,
        "derived_from": base,
        "substitute_data": bool(header.get("substitute_data")),
        "deviations": _deviations(base, header, rolled),
        "figures": rolled.figures,
    }
    validate_document(name, document)

    text = _header_comment(base, years, rolled, list(rolled.figures)) + _dump(document)
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
    return target, rolled.needs
