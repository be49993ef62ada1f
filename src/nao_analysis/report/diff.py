"""Compare two built editions: ``nao-analysis diff <edition-a> <edition-b>``.

Reads what the builds wrote - ``reports/<edition>/figNN_*.json`` (figure records), ``reconciliation.csv`` and
each figure's CSVs in ``figures/<edition>/`` - and writes ``reports/diff-<a>-vs-<b>/diff.csv`` and ``diff.html``:

``headline``
    per figure, each reconciled number (rebuilt in a, rebuilt in b, the published value) and each statistic of
    a ``*_summary.csv``, side by side;
``parameter`` / ``input``
    figure parameters that differ, and raw inputs whose sha256 differs or that only one edition read;
``authority``
    for figure CSVs with an authority code column, each authority's value in a and b and the change;
``authority_change``
    authorities that appear, disappear or were merged or split between the editions, explained with the
    ONS code-change table (``lookup_la_code_changes_2018_2025``) through :func:`nao_analysis.analysis.geography.successor_codes`;
``reconciliation_status``
    reconciliation rows whose status changed (e.g. ``pass`` -> ``fail``).

Change is always *b minus a*. This is what an auditor reviews before publishing an update.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nao_analysis import paths
from nao_analysis.editions import EDITION_NAME
from nao_analysis.errors import CrosswalkError, EditionError, NaoError
from nao_analysis.report.page import render_page

DIFF_COLUMNS = [
    "section",
    "figure",
    "key",
    "name",
    "measure",
    "unit",
    "published",
    "value_a",
    "value_b",
    "change",
    "change_pct",
    "status_a",
    "status_b",
    "note",
]
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
#: Columns naming an authority, in order of preference.
CODE_COLUMNS = ("target_code", "area_code", "ons_code", "code")
NAME_COLUMNS = ("target_name", "area_name", "authority", "name")
#: Per-authority measures worth reviewing, in order of preference; other numeric columns are compared if none is present.
AUTHORITY_MEASURES = ("change_real_pct", "target_real_gbp_k", "base_real_gbp_k", "value", "count", "denominator")
NOT_MEASURES = {"rank", "counted"}
CODE_CHANGES_SOURCE = "lookup_la_code_changes_2018_2025"
DISTRICT_LOOKUP_SOURCE = "lookup_ltla21_utla21_apr2021"

e = html.escape


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _change(a: Any, b: Any) -> tuple[float | None, float | None]:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return None, None
    return y - x, ((y - x) / abs(x) * 100 if x else None)


def _row(section: str, figure: str, key: str, **fields: Any) -> dict[str, Any]:
    row = {column: "" for column in DIFF_COLUMNS}
    row.update(section=section, figure=figure, key=key)
    for name, value in fields.items():
        row[name] = "" if value is None else value
    if "change" not in fields and section in {"headline", "authority"}:
        change, pct = _change(row["value_a"], row["value_b"])
        row["change"] = "" if change is None else change
        row["change_pct"] = "" if pct is None else pct
    return row


# --- reading what a build wrote -------------------------------------------------------------------------------


def load_records(edition: str) -> dict[str, dict[str, Any]]:
    """Figure records of a built edition: ``reports/<edition>/<stem>.json`` by figure id."""
    records = {}
    for path in sorted(paths.reports_dir(edition).glob("*.json")):
        if path.name == "manifest.json":
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("figure") and record.get("stem") == path.stem:
            records[record["figure"]] = record
    return records


def load_reconciliation(edition: str) -> list[dict[str, str]]:
    path = paths.reports_dir(edition) / "reconciliation.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def figure_tables(edition: str, record: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The CSVs a figure wrote (``figures/<edition>/<name>.csv``), by file name."""
    tables = {}
    for name in record.get("outputs", []):
        path = paths.figures_dir(edition) / name
        if path.suffix == ".csv" and path.exists():
            tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tables


# --- comparisons (pure) ---------------------------------------------------------------------------------------


def compare_reconciliation(rows_a: list[dict[str, str]], rows_b: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Headline rows (rebuilt values side by side) and status-change rows from two reconciliation tables."""
    by_key_a = {(r["figure"], r["check"]): r for r in rows_a}
    by_key_b = {(r["figure"], r["check"]): r for r in rows_b}
    out = []
    for key in list(dict.fromkeys([*by_key_a, *by_key_b])):
        ra, rb = by_key_a.get(key, {}), by_key_b.get(key, {})
        either = rb or ra
        figure, check = key
        status_a, status_b = ra.get("status", "not in edition"), rb.get("status", "not in edition")
        out.append(
            _row(
                "headline",
                figure,
                check,
                name=either.get("description", ""),
                measure="reconciliation",
                unit=either.get("unit", ""),
                published=either.get("published", ""),
                value_a=ra.get("rebuilt", ""),
                value_b=rb.get("rebuilt", ""),
                status_a=status_a,
                status_b=status_b,
            )
        )
        if status_a != status_b:
            out.append(
                _row(
                    "reconciliation_status",
                    figure,
                    check,
                    name=either.get("description", ""),
                    unit=either.get("unit", ""),
                    published=either.get("published", ""),
                    value_a=ra.get("rebuilt", ""),
                    value_b=rb.get("rebuilt", ""),
                    status_a=status_a,
                    status_b=status_b,
                    note=f"{status_a} -> {status_b}",
                )
            )
    return out


def compare_summaries(figure: str, table_a: pd.DataFrame | None, table_b: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Headline rows from a figure's ``*_summary.csv`` (``statistic``, ``value``) in each edition."""

    def values(table: pd.DataFrame | None) -> dict[str, str]:
        if table is None or not {"statistic", "value"} <= set(table.columns):
            return {}
        return dict(zip(table["statistic"], table["value"]))

    va, vb = values(table_a), values(table_b)
    rows = []
    for statistic in dict.fromkeys([*va, *vb]):
        a, b = va.get(statistic, ""), vb.get(statistic, "")
        if _number(a) is None and _number(b) is None:
            rows.append(_row("headline", figure, statistic, measure="summary", value_a=a, value_b=b, note="" if a == b else "text differs"))
        else:
            rows.append(_row("headline", figure, statistic, measure="summary", value_a=a, value_b=b))
    return rows


def compare_parameters(figure: str, record_a: Mapping[str, Any], record_b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Parameter rows (values that differ) and input rows (sources whose sha256 differs or only one edition read)."""
    rows = []
    pa_, pb = record_a.get("params", {}), record_b.get("params", {})
    for name in dict.fromkeys([*pa_, *pb]):
        if pa_.get(name) != pb.get(name):
            rows.append(_row("parameter", figure, name, value_a=json.dumps(pa_.get(name)), value_b=json.dumps(pb.get(name))))
    ia, ib = record_a.get("inputs", {}), record_b.get("inputs", {})
    for source_id in dict.fromkeys([*ia, *ib]):
        sha_a, sha_b = (ia.get(source_id) or {}).get("sha256", ""), (ib.get(source_id) or {}).get("sha256", "")
        if sha_a != sha_b:
            note = "only in a" if not sha_b else "only in b" if not sha_a else "same id, different file (re-release?)"
            rows.append(
                _row(
                    "input",
                    figure,
                    source_id,
                    name=(ib.get(source_id) or ia.get(source_id) or {}).get("title", ""),
                    value_a=sha_a[:12],
                    value_b=sha_b[:12],
                    note=note,
                )
            )
    return rows


def authority_columns(table: pd.DataFrame) -> tuple[str, str | None, list[str]] | None:
    """``(code column, name column, measure columns)`` of a per-authority table, or None if it has no authority codes."""
    code = next((c for c in CODE_COLUMNS if c in table.columns), None)
    if code is None or table.empty or not table[code].astype(str).str.match(ONS_CODE.pattern).all():
        return None
    name = next((c for c in NAME_COLUMNS if c in table.columns), None)
    numeric = [
        c
        for c in table.columns
        if c not in NOT_MEASURES
        and not c.endswith(("_code", "_codes"))
        and pd.to_numeric(table[c].replace("", None), errors="coerce").notna().any()
        and table[c].replace("", None).dropna().map(lambda v: _number(v) is not None).all()
    ]
    preferred = [c for c in AUTHORITY_MEASURES if c in numeric]
    return code, name, preferred or numeric


def compare_authorities(figure: str, table_a: pd.DataFrame, table_b: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-authority rows: each measure in a and b, joined on the authority code (first row per code)."""
    cols_a, cols_b = authority_columns(table_a), authority_columns(table_b)
    if not cols_a or not cols_b:
        return []
    code_a, name_a, measures_a = cols_a
    code_b, name_b, measures_b = cols_b
    measures = [m for m in measures_a if m in measures_b]
    a = table_a.drop_duplicates(code_a).set_index(code_a)
    b = table_b.drop_duplicates(code_b).set_index(code_b)
    unit_a = a["unit"] if "unit" in a.columns else None
    rows = []
    for code in sorted(set(a.index) & set(b.index)):
        name = (b.at[code, name_b] if name_b else "") or (a.at[code, name_a] if name_a else "")
        for measure in measures:
            rows.append(
                _row(
                    "authority",
                    figure,
                    code,
                    name=name,
                    measure=measure,
                    unit=unit_a.at[code] if unit_a is not None else "",
                    value_a=a.at[code, measure],
                    value_b=b.at[code, measure],
                )
            )
    return rows


def authority_changes(
    figure: str,
    names_a: Mapping[str, str],
    names_b: Mapping[str, str],
    changes: pd.DataFrame | None,
    districts: pd.DataFrame | None,
) -> list[dict[str, Any]]:
    """Authorities present in only one edition, explained with the ONS code-change table where it can.

    Parameters
    ----------
    figure
        Figure id, for the rows.
    names_a, names_b
        Authority code -> name in each edition.
    changes
        :func:`nao_analysis.readers.boundaries.read_code_changes` output, or None when unavailable.
    districts
        ``district_code``, ``upper_tier_code`` of the older geography (a terminated county's successors are its
        districts' successors), or None.

    Returns
    -------
    list of dict
        One ``authority_change`` row per code in only one edition; ``note`` says ``merged into``, ``split into``,
        ``replaced by``, ``successor of`` or ``appears`` / ``disappears`` when the table does not explain it.
    """
    from nao_analysis.analysis.geography import successor_codes

    only_a = sorted(set(names_a) - set(names_b))
    only_b = sorted(set(names_b) - set(names_a))
    successors: dict[str, frozenset[str]] = {}
    if changes is not None:
        lookup = districts if districts is not None else pd.DataFrame({"district_code": [], "upper_tier_code": []})
        for code in only_a:
            try:
                successors[code] = successor_codes([code], changes, lookup, boundary_year=9999)[code]
            except CrosswalkError:
                successors[code] = frozenset()
    rows = []
    all_names = {**names_a, **names_b}
    for code in only_a:
        into = sorted(successors.get(code, frozenset()) & set(names_b))
        if not into:
            note = "disappears" + ("" if changes is not None else " (code-change table unavailable)")
        else:
            shared = [c for c in only_a if set(into) & successors.get(c, frozenset()) and c != code]
            kind = "split into" if len(into) > 1 else "merged into" if shared else "replaced by"
            note = f"{kind} {', '.join(f'{all_names[c]} ({c})' for c in into)}"
        rows.append(_row("authority_change", figure, code, name=names_a[code], value_a="present", value_b="absent", note=note))
    for code in only_b:
        parents = [c for c in only_a if code in successors.get(c, frozenset())]
        note = f"successor of {', '.join(f'{names_a[c]} ({c})' for c in parents)}" if parents else "appears"
        rows.append(_row("authority_change", figure, code, name=names_b[code], value_a="absent", value_b="present", note=note))
    return rows


# --- lookups (through fetch) ----------------------------------------------------------------------------------


def _code_change_lookups() -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """The code-change table and a district lookup, or None with a reason when they cannot be resolved here."""
    from nao_analysis.readers.boundaries import read_code_changes
    from nao_analysis.settings import Settings
    from nao_analysis.sources import fetch

    settings = Settings.from_environment()
    try:
        changes = read_code_changes(fetch(CODE_CHANGES_SOURCE, settings).path)
    except NaoError as exc:
        return None, None, f"code-change table unavailable ({exc})"
    try:
        table = pd.read_csv(fetch(DISTRICT_LOOKUP_SOURCE, settings).path, dtype=str, keep_default_na=False)
        district = next(c for c in table.columns if re.fullmatch(r"LTLA\d*CD", c, flags=re.IGNORECASE))
        upper = next(c for c in table.columns if re.fullmatch(r"UTLA\d*CD", c, flags=re.IGNORECASE))
        districts = pd.DataFrame({"district_code": table[district].str.strip(), "upper_tier_code": table[upper].str.strip()})
    except (NaoError, StopIteration):
        districts = None
    return changes, districts, ""


# --- the report -----------------------------------------------------------------------------------------------


def _check_built(edition: str) -> None:
    if not EDITION_NAME.match(edition or ""):
        raise EditionError(f"edition name {edition!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    folder = paths.reports_dir(edition)
    if not (folder / "reconciliation.csv").exists() and not any(folder.glob("fig*.json")):
        raise EditionError(f"{folder}: edition {edition!r} has not been built - run `nao-analysis build --edition {edition}` first")


def diff_rows(a: str, b: str) -> list[dict[str, Any]]:
    """Every comparison row between two built editions (see the module docstring for the sections)."""
    records_a, records_b = load_records(a), load_records(b)
    rows = compare_reconciliation(load_reconciliation(a), load_reconciliation(b))
    changes = districts = None
    lookups_loaded = False
    for figure in dict.fromkeys([*records_a, *records_b]):
        ra, rb = records_a.get(figure), records_b.get(figure)
        if ra is None or rb is None:
            rows.append(_row("figure", figure, figure, note=f"built only in {a if ra else b}"))
            continue
        rows += compare_parameters(figure, ra, rb)
        tables_a, tables_b = figure_tables(a, ra), figure_tables(b, rb)
        for name in dict.fromkeys([*tables_a, *tables_b]):
            ta, tb = tables_a.get(name), tables_b.get(name)
            if name.endswith("_summary.csv"):
                rows += compare_summaries(figure, ta, tb)
                continue
            if ta is None or tb is None:
                continue
            cols_a, cols_b = authority_columns(ta), authority_columns(tb)
            if not cols_a or not cols_b:
                continue
            rows += compare_authorities(figure, ta, tb)
            names_a = dict(zip(ta[cols_a[0]], ta[cols_a[1]] if cols_a[1] else ta[cols_a[0]]))
            names_b = dict(zip(tb[cols_b[0]], tb[cols_b[1]] if cols_b[1] else tb[cols_b[0]]))
            if set(names_a) != set(names_b) and not lookups_loaded:
                changes, districts, _ = _code_change_lookups()
                lookups_loaded = True
            rows += authority_changes(figure, names_a, names_b, changes, districts)
    return rows


def _fmt(value: Any) -> str:
    number = _number(value)
    if number is None:
        return e(str(value or ""))
    return f"{number:,.0f}" if abs(number) >= 1000 or number.is_integer() else f"{number:,.2f}"


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], caption: str) -> str:
    if not rows:
        return f"<p>{e(caption)}: none.</p>"
    head = "".join(f'<th scope="col">{e(label)}</th>' for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            numeric = key in {"published", "value_a", "value_b", "change", "change_pct"} and _number(row.get(key)) is not None
            cells.append(f'<td class="num">{_fmt(row.get(key))}</td>' if numeric else f"<td>{e(str(row.get(key, '')))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_diff_html(a: str, b: str, rows: list[dict[str, Any]]) -> str:
    """The diff page: every string escaped, wrapped in the house page shell."""

    def section(name: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["section"] == name]

    value_cols = [("value_a", a), ("value_b", b), ("change", "change (b - a)"), ("change_pct", "change %")]
    parts = [
        f"<p>Edition <strong>{e(a)}</strong> (a) against <strong>{e(b)}</strong> (b). Changes are b minus a. "
        "Review every section before publishing an update: new numbers, parameters and inputs, each authority's change, "
        "authorities that appear, disappear or were merged, and reconciliation rows whose status changed.</p>"
    ]
    parts.append("<h2>Reconciliation status changes</h2>")
    parts.append(
        _table(
            section("reconciliation_status"),
            [
                ("figure", "figure"),
                ("key", "check"),
                ("name", "description"),
                ("published", "published"),
                ("value_a", a),
                ("value_b", b),
                ("note", "status"),
            ],
            "Reconciliation rows whose status changed",
        )
    )
    parts.append("<h2>Headline numbers</h2>")
    parts.append(
        _table(
            section("headline"),
            [
                ("figure", "figure"),
                ("key", "check or statistic"),
                ("name", "description"),
                ("unit", "unit"),
                ("published", "published"),
                *value_cols,
                ("status_a", f"status {a}"),
                ("status_b", f"status {b}"),
            ],
            "Headline numbers side by side",
        )
    )
    parts.append("<h2>Parameters and inputs that differ</h2>")
    parts.append(
        _table(
            section("parameter") + section("input") + section("figure"),
            [("figure", "figure"), ("section", "what"), ("key", "name"), ("value_a", a), ("value_b", b), ("note", "note")],
            "Parameters, inputs and figures that differ",
        )
    )
    parts.append("<h2>Authorities that appear, disappear or were merged</h2>")
    parts.append(
        _table(
            section("authority_change"),
            [
                ("figure", "figure"),
                ("key", "code"),
                ("name", "authority"),
                ("value_a", a),
                ("value_b", b),
                ("note", "explanation (ONS code changes)"),
            ],
            "Authorities in only one edition",
        )
    )
    parts.append("<h2>Change per authority</h2>")
    authority = section("authority")
    for figure in dict.fromkeys(r["figure"] for r in authority):
        measures = list(dict.fromkeys(r["measure"] for r in authority if r["figure"] == figure))
        main = measures[0]
        shown = sorted(
            (r for r in authority if r["figure"] == figure and r["measure"] == main), key=lambda r: -abs(_number(r["change"]) or 0)
        )
        parts.append(
            _table(
                shown,
                [("key", "code"), ("name", "authority"), ("unit", "unit"), *value_cols],
                f"{figure}: {main} by authority, largest change first (all measures are in diff.csv: {', '.join(measures)})",
            )
        )
    return render_page(title=f"Differences between editions {a} and {b}", edition=f"{a} vs {b}", body_html="\n".join(parts))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_diff_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DIFF_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in DIFF_COLUMNS})
    _atomic_write(path, buffer.getvalue())


def diff_editions(a: str, b: str) -> tuple[Path, Path]:
    """Compare two built editions; write ``reports/diff-<a>-vs-<b>/diff.html`` and ``diff.csv``.

    Parameters
    ----------
    a, b
        Edition names; both must have been built (``reports/<name>/`` holds their records).

    Returns
    -------
    tuple of Path
        ``(html_path, csv_path)``.

    Raises
    ------
    EditionError
        A name is invalid, or an edition has not been built.
    """
    _check_built(a)
    _check_built(b)
    rows = diff_rows(a, b)
    folder = paths.reports_dir(f"diff-{a}-vs-{b}")
    csv_path = folder / "diff.csv"
    html_path = folder / "diff.html"
    write_diff_csv(csv_path, rows)
    _atomic_write(html_path, render_diff_html(a, b, rows))
    return html_path, csv_path
