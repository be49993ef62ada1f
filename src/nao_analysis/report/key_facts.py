"""The Key facts page: each of the report's key facts, either recomputed by a figure of the suite or quoted.

``data/manual/key_facts.yaml`` lists the facts. A recomputed fact names the figure and reconciliation check that
rebuilds it; :func:`key_facts_table` joins it to that check's row of ``reports/<edition>/reconciliation.csv``
(rebuilt value and status). A quoted fact carries the citation of the publication it comes from. The page
shows which is which in words, not only by colour.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nao_analysis.errors import AnalysisError, ReaderError
from nao_analysis.report.formatting import format_change

BASIS_RECOMPUTED = "recomputed"
BASIS_QUOTED = "quoted"
#: Status of a recomputed fact whose check has no row in the reconciliation (its figure was not built).
STATUS_NOT_BUILT = "not built"
#: Columns the reconciliation must have (as written by the build to ``reports/<edition>/reconciliation.csv``).
RECONCILIATION_COLUMNS = ["check", "figure", "published", "rebuilt", "tolerance", "unit", "status", "note"]


class CheckReference(BaseModel):
    """The reconciliation check that rebuilds a fact: ``data/manual/published/<figure>.yaml`` -> ``check``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    figure: str = Field(pattern=r"^[a-z]+[0-9]*$")
    check: str = Field(min_length=1)


class KeyFact(BaseModel):
    """One key fact as the report prints it, and how the suite accounts for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    group: int = Field(ge=1, description="Facts printed together on the page share a group, numbered in page order")
    headline: str = Field(min_length=1)
    wording: str = Field(min_length=1)
    value: float
    unit: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    recomputed_by: CheckReference | None = None
    quoted: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_basis(self) -> KeyFact:
        if (self.recomputed_by is None) == (self.quoted is None):
            which = "both" if self.recomputed_by is not None else "neither"
            raise ValueError(f"fact {self.id!r} has {which} of 'recomputed_by' and 'quoted' - give exactly one")
        return self

    @property
    def basis(self) -> str:
        return BASIS_RECOMPUTED if self.recomputed_by is not None else BASIS_QUOTED


class KeyFactsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(alias="schema")
    document: str
    facts: list[KeyFact] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> KeyFactsFile:
        seen: set[str] = set()
        for fact in self.facts:
            if fact.id in seen:
                raise ValueError(f"fact id {fact.id!r} appears more than once")
            seen.add(fact.id)
        return self


def load_key_facts(path: str | Path) -> list[KeyFact]:
    """Read and validate ``data/manual/key_facts.yaml``.

    Parameters
    ----------
    path
        The key facts file.

    Returns
    -------
    list of KeyFact
        In the page's order.

    Raises
    ------
    ReaderError
        If the file is missing or not YAML, or a fact is malformed (e.g. both or neither of ``recomputed_by`` and ``quoted``).
    """
    import yaml

    # Read here rather than through the readers: the report layer depends on nothing below the figures.
    path = Path(path)
    invalid_fix = "each fact needs id, group, headline, wording, value, unit, citation and one basis"
    if not path.exists():
        raise ReaderError(path, "file not found", "restore data/manual/key_facts.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ReaderError(path, f"not valid YAML ({str(exc).splitlines()[0]})", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ReaderError(path, "expected a mapping at the top level", invalid_fix)
    try:
        return list(KeyFactsFile.model_validate(data).facts)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ReaderError(path, f"{where}: {first['msg']} ({exc.error_count()} problem(s) in all)", invalid_fix) from None


def _as_facts(facts: Iterable[KeyFact | Mapping[str, Any]]) -> list[KeyFact]:
    try:
        return [fact if isinstance(fact, KeyFact) else KeyFact.model_validate(fact) for fact in facts]
    except ValidationError as exc:
        raise AnalysisError(f"key facts: {exc.errors()[0]['msg']}") from exc


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


KEY_FACTS_SCHEMA = pa.DataFrameSchema(
    {
        "fact": pa.Column(str, unique=True),
        "group": pa.Column(int, pa.Check.ge(1)),
        "headline": pa.Column(str),
        "wording": pa.Column(str),
        "value": pa.Column(float),
        "unit": pa.Column(str),
        "basis": pa.Column(str, pa.Check.isin([BASIS_RECOMPUTED, BASIS_QUOTED])),
        "figure": pa.Column(str, nullable=True),
        "check": pa.Column(str, nullable=True),
        "published": pa.Column(float, nullable=True),
        "rebuilt": pa.Column(float, nullable=True),
        "status": pa.Column(str),
        "note": pa.Column(str),
        "citation": pa.Column(str),
        "quoted_from": pa.Column(str, nullable=True),
    },
    strict=True,
    coerce=True,
    ordered=True,
)


def key_facts_table(facts: Iterable[KeyFact | Mapping[str, Any]], reconciliation: pd.DataFrame) -> pd.DataFrame:
    """Join each recomputed fact to its reconciliation row; quoted facts keep their citation.

    Parameters
    ----------
    facts
        Facts from :func:`load_key_facts` (or mappings with the same fields).
    reconciliation
        The build's reconciliation table (``reports/<edition>/reconciliation.csv``) with at least
        :data:`RECONCILIATION_COLUMNS`. It may be empty when no figure has been built.

    Returns
    -------
    pandas.DataFrame
        One row per fact in page order: ``fact, group, headline, wording, value, unit, basis, figure, check,
        published, rebuilt, status, note, citation, quoted_from``. ``status`` is the reconciliation status for a
        recomputed fact (:data:`STATUS_NOT_BUILT` if its check has no row) and ``"quoted"`` for a quoted one.

    Raises
    ------
    AnalysisError
        If the reconciliation lacks a required column, or holds the same check twice for one figure.
    """
    facts = _as_facts(facts)
    missing = [c for c in RECONCILIATION_COLUMNS if c not in reconciliation.columns]
    if missing and len(reconciliation.columns):
        raise AnalysisError(
            f"key facts: the reconciliation table lacks column(s) {', '.join(missing)} - rebuild it with 'nao-analysis build'"
        )
    rows_by_check: dict[tuple[str, str], dict[str, Any]] = {}
    if not missing:
        for row in reconciliation.to_dict("records"):
            key = (str(row["figure"]), str(row["check"]))
            if key in rows_by_check:
                raise AnalysisError(f"key facts: reconciliation has check {key[1]!r} of {key[0]} twice - rebuild the reconciliation")
            rows_by_check[key] = row

    records = []
    for fact in facts:
        record: dict[str, Any] = {
            "fact": fact.id,
            "group": fact.group,
            "headline": fact.headline,
            "wording": fact.wording,
            "value": fact.value,
            "unit": fact.unit,
            "basis": fact.basis,
            "figure": None,
            "check": None,
            "published": None,
            "rebuilt": None,
            "status": BASIS_QUOTED,
            "note": "",
            "citation": fact.citation,
            "quoted_from": fact.quoted,
        }
        if fact.recomputed_by is not None:
            ref = fact.recomputed_by
            record["figure"], record["check"] = ref.figure, ref.check
            row = rows_by_check.get((ref.figure, ref.check))
            if row is None:
                record["status"] = STATUS_NOT_BUILT
                record["note"] = f"{ref.figure} has no reconciliation row for {ref.check!r}; build {ref.figure} to recompute this fact"
            else:
                record["published"] = _number(row.get("published"))
                record["rebuilt"] = _number(row.get("rebuilt"))
                record["status"] = str(row.get("status") or "")
                note = row.get("note")
                record["note"] = "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)
        records.append(record)
    return KEY_FACTS_SCHEMA.validate(pd.DataFrame.from_records(records, columns=list(KEY_FACTS_SCHEMA.columns)))


def _format_number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not available"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


#: A fact's unit that makes it a change, and the sign the change takes ("40% reduction" is a change of -40%).
CHANGE_UNIT_SIGNS = {"reduction": -1, "decrease": -1, "fall": -1, "increase": 1, "rise": 1}


def change_sign(unit: str) -> int | None:
    """-1 or +1 when a fact's unit (e.g. ``"% reduction"``) makes its value a change; None otherwise."""
    words = unit.lower().split()
    if not words or not words[0].startswith("%"):
        return None
    return next((sign for word, sign in CHANGE_UNIT_SIGNS.items() if word in words), None)


def published_text(value: float, unit: str) -> str:
    """A fact's printed value in the site's convention: a change signed (``-40%``), anything else with its unit."""
    sign = change_sign(unit)
    if sign is not None:
        rest = " ".join(w for w in unit.split()[1:] if w.lower() not in CHANGE_UNIT_SIGNS)
        return format_change(sign * value, "%") + (f" {rest}" if rest else "")
    if unit.startswith("%"):
        return f"{_format_number(value)}{unit}"
    return f"{_format_number(value)} {unit}"


def rebuilt_text(value: float | None, unit: str) -> str:
    """A recomputed fact's rebuilt value, in the same convention as :func:`published_text` (the reconciliation's sign)."""
    if value is None:
        return _format_number(value)
    if change_sign(unit) is not None:
        return format_change(value, "%")
    return _format_number(value)


def _status_class(status: str) -> str:
    status = status.lower()
    for key in ("not comparable", "not applicable", "pass", "fail", "differs", "unavailable", "not built", "quoted"):
        if key in status:
            return "status-" + key.replace(" ", "-")
    return "status-other"


def key_facts_html(table: pd.DataFrame) -> str:
    """The Key facts page body as an accessible HTML fragment.

    A table with a caption, column headers with ``scope``, each fact as a row header, and a "How we get it"
    column that says in words whether the fact is recomputed (figure, check, rebuilt value, status) or quoted
    (with its citation). Every piece of text is escaped with :func:`html.escape`.

    Parameters
    ----------
    table
        The output of :func:`key_facts_table`.

    Returns
    -------
    str
        A ``<section>`` element.
    """
    e = html.escape
    recomputed = int((table["basis"] == BASIS_RECOMPUTED).sum())
    quoted = int((table["basis"] == BASIS_QUOTED).sum())
    out = [
        '<section class="key-facts" aria-labelledby="key-facts-title">',
        '<h2 id="key-facts-title">Key facts</h2>',
        "<p>"
        + e(
            f"{recomputed} of the report’s key facts are recomputed by a figure of this suite (the status says whether this build "
            f"rebuilt them within tolerance); {quoted} are quoted from the publications the report cites, because their data are "
            "not part of this suite."
        )
        + "</p>",
        '<table class="key-facts-table">',
        f"<caption>{e('Key facts of the report: the value as printed, and whether the suite recomputes it or quotes it')}</caption>",
        "<thead><tr>"
        + "".join(
            f'<th scope="col">{e(h)}</th>'
            for h in ("Key fact", "Published", "How we get it", "Rebuilt", "Status", "Where the report says it")
        )
        + "</tr></thead>",
        "<tbody>",
    ]
    for row in table.itertuples(index=False):
        if row.basis == BASIS_RECOMPUTED:
            how = f"Recomputed by {row.figure} (check {row.check})"
            rebuilt = rebuilt_text(_number(row.rebuilt), row.unit)
            detail = f"<br><small>{e(row.note)}</small>" if row.note else ""
        else:
            how = f"Quoted: {row.quoted_from}"
            rebuilt = "not recomputed"
            detail = ""
        out.append(
            f'<tr class="basis-{e(row.basis)} {_status_class(str(row.status))}" data-group="{int(row.group)}">'
            f'<th scope="row">{e(row.headline)} <span class="wording">{e(row.wording)}</span></th>'
            f'<td class="num">{e(published_text(row.value, row.unit))}</td>'
            f"<td>{e(how)}</td>"
            f'<td class="num">{e(rebuilt)}</td>'
            f"<td>{e(str(row.status))}{detail}</td>"
            f"<td>{e(row.citation)}</td>"
            "</tr>"
        )
    out += ["</tbody>", "</table>", "</section>"]
    return "\n".join(out)
