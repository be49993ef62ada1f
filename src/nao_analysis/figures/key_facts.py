"""Key facts: each of the report's key facts, either recomputed by a figure of the suite or quoted.

``data/manual/key_facts.yaml`` lists the facts. A recomputed fact names the figure and reconciliation check that
rebuilds it; :func:`key_facts_table` joins it to that check's row of the edition's reconciliation (rebuilt value
and status). A quoted fact carries the citation of the publication it comes from. The build runs
:func:`write_key_facts` after the figures, and the site renders the finished record (``key_facts.json``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from nao_analysis.errors import AnalysisError
from nao_analysis.safe_io import write_text_atomic

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

FACTS_FILE = "key_facts.yaml"
RECORD_FILE = "key_facts.json"

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

    from nao_analysis.readers._common import read_manual_yaml

    model = read_manual_yaml(
        Path(path),
        KeyFactsFile,
        missing_fix="restore data/manual/key_facts.yaml",
        invalid_fix="each fact needs id, group, headline, wording, value, unit, citation and one basis",
    )
    return list(model.facts)


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


@functools.cache
def key_facts_schema() -> pa.DataFrameSchema:
    """The joined table's schema, built on first use: the report imports this module for its constants and
    the build only after the figures, so neither pays for pandera until a table is made."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
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
    import pandas as pd

    schema = key_facts_schema()
    return schema.validate(pd.DataFrame.from_records(records, columns=list(schema.columns)))


def write_key_facts(manual_dir: Path, reports_dir: Path, reconciliation_rows: Iterable[Mapping[str, Any]]) -> Path | None:
    """Join the key facts to this edition's reconciliation and write the record the site renders.

    The record names the facts file and its sha256, like any manual input of a figure.
    """
    import pandas as pd

    facts_file = Path(manual_dir) / FACTS_FILE
    if not facts_file.exists():
        return None
    rows = list(reconciliation_rows)
    columns = ["check", "figure", "published", "rebuilt", "tolerance", "unit", "status", "note"]
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)
    table = key_facts_table(load_key_facts(facts_file), frame)
    record = {
        "figure": "key_facts",
        "inputs": {f"manual:{FACTS_FILE}": {"kind": "manual", "sha256": hashlib.sha256(facts_file.read_bytes()).hexdigest()}},
        "facts": json.loads(table.to_json(orient="records")),
    }
    target = Path(reports_dir) / RECORD_FILE
    write_text_atomic(target, json.dumps(record, indent=2) + "\n")
    return target
