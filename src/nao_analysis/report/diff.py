"""Compare two built editions: ``nao-analysis diff <edition-a> <edition-b>``.

Reads only what the builds finished writing - ``reports/<edition>/manifest.json`` (parameters and status of every
figure, built or not), the figure records ``reports/<edition>/figNN_*.json``, ``reconciliation.csv`` and the CSVs
the records list - and writes ``reports/diff-<a>-vs-<b>/diff.csv`` and ``diff.html``. It imports nothing from
``sources``, ``readers`` or ``analysis``: a diff never fetches or parses a raw file.

Sections (``section`` column):

``figure``
    a figure built in one edition and not the other (skipped, failed, not built), with the build's one-line reason;
``headline``
    each reconciled number (rebuilt in a, in b, and the published value) and each statistic of a ``*_summary.csv``;
``reconciliation_status``
    reconciliation rows whose status changed (e.g. ``pass`` -> ``fail``);
``parameter`` / ``input``
    parameters that differ - for every figure of the editions, built or not - and raw inputs whose sha256 differs;
    the same file (same sha256) under another id is recognised as such, not listed as gone and new;
``authority``
    for figure tables with an authority code column, each authority's value in a and b and the change, with
    ``flag`` set for a fall to zero and for a rise over the figure's implausible threshold;
``authority_change``
    authorities in only one edition, explained by the ``authority_successors`` table a figure saved in its record
    (``code``, ``successors``: the codes each old authority became) when there is one.

Change is always *b minus a*. A change between two percentages is in percentage points, never a percent of a percent.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nao_analysis.editions import EDITION_NAME
from nao_analysis.errors import EditionError
from nao_analysis.report.page import render_page
from nao_analysis.safe_io import write_text_atomic
from nao_analysis.settings import Settings

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
    "change_unit",
    "change_pct",
    "status_a",
    "status_b",
    "flag",
    "note",
]
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
#: Columns naming an authority, in order of preference.
CODE_COLUMNS = ("target_code", "area_code", "ons_code", "code")
NAME_COLUMNS = ("target_name", "area_name", "authority", "name")
#: Per-authority measures worth reviewing, in order of preference; other numeric columns are compared if none is present.
AUTHORITY_MEASURES = ("change_real_pct", "target_real_gbp_k", "base_real_gbp_k", "value", "count", "denominator")
NOT_MEASURES = {"rank", "counted"}
PERCENT_UNITS = {"%", "percent", "per cent", "percentage", "pp"}
#: The threshold of implausible rises when a figure's parameters give none (Figure 3's default).
DEFAULT_IMPLAUSIBLE_PCT = 300.0
SUCCESSORS_TABLE = "authority_successors"
SECTIONS = (
    ("figures", "Figures built in one edition only"),
    ("status", "Reconciliation status changes"),
    ("headline", "Headline numbers"),
    ("parameters", "Parameters and inputs that differ"),
    ("authority-changes", "Authorities that appear, disappear or were merged"),
    ("authorities", "Change per authority"),
)
EXTRA_CSS = """<style>
nav.toc ol{columns:2;padding-left:1.2em}
.wide{overflow-x:auto;max-width:100%}
.wide table{min-width:100%}
.wide td{overflow-wrap:anywhere;max-width:28em}
.wide td.num{white-space:nowrap;overflow-wrap:normal}
td.flag{background:#fde8e8;font-weight:bold}
p.back{font-size:0.85em}
</style>"""

e = html.escape


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _is_percent(unit: Any, *names: Any) -> bool:
    return str(unit or "").strip().lower() in PERCENT_UNITS or any(str(n or "").endswith(("_pct", "_percent")) for n in names)


def _is_year(*names: Any) -> bool:
    return any("year" in str(n or "").lower() for n in names)


def _row(section: str, figure: str, key: str, **fields: Any) -> dict[str, Any]:
    row = {column: "" for column in DIFF_COLUMNS}
    row.update(section=section, figure=figure, key=key)
    for name, value in fields.items():
        row[name] = "" if value is None else value
    if "change" not in fields and section in {"headline", "authority"}:
        x, y = _number(row["value_a"]), _number(row["value_b"])
        if x is not None and y is not None and not _is_year(key, row["measure"], row["name"]):
            row["change"] = y - x
            if _is_percent(row["unit"], row["measure"], key):
                row["change_unit"] = "percentage points"
            else:
                row["change_unit"] = row["unit"]
                row["change_pct"] = (y - x) / abs(x) * 100 if x else ""
    return row


# --- reading what a build wrote -------------------------------------------------------------------------------


def load_records(edition: str, settings: Settings) -> dict[str, dict[str, Any]]:
    """Figure records of a built edition: ``reports/<edition>/<stem>.json`` by figure id."""
    records = {}
    for path in sorted(settings.reports_dir(edition).glob("*.json")):
        if path.name == "manifest.json":
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("figure") and record.get("stem") == path.stem:
            records[record["figure"]] = record
    return records


def load_manifest(edition: str, settings: Settings) -> dict[str, Any]:
    """The build's manifest (parameters and status of every figure), or {} for a build that wrote none."""
    try:
        manifest = json.loads((settings.reports_dir(edition) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def load_reconciliation(edition: str, settings: Settings) -> list[dict[str, str]]:
    path = settings.reports_dir(edition) / "reconciliation.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def figure_tables(edition: str, record: Mapping[str, Any], settings: Settings) -> dict[str, pd.DataFrame]:
    """The CSVs a figure wrote, by file name: its ``outputs`` and the files its ``tables`` name."""
    names = [n for n in record.get("outputs", []) if str(n).endswith(".csv")]
    names += [n for n in (record.get("tables") or {}).values() if str(n).endswith(".csv")]
    tables = {}
    for name in dict.fromkeys(names):
        for folder in (settings.figures_dir(edition), settings.reports_dir(edition)):
            path = folder / Path(name).name
            if path.is_file():
                tables[Path(name).name] = pd.read_csv(path, dtype=str, keep_default_na=False)
                break
    return tables


def successors_from(tables: Mapping[str, pd.DataFrame]) -> dict[str, frozenset[str]] | None:
    """Old authority code -> the codes it became, from an ``authority_successors`` table a figure saved; None if none."""
    for name, table in tables.items():
        if SUCCESSORS_TABLE in name and {"code", "successors"} <= set(table.columns):
            return {
                str(row["code"]).strip(): frozenset(c for c in re.split(r"[;,\s]+", str(row["successors"])) if c)
                for _, row in table.iterrows()
            }
    return None


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
        common = {
            "name": either.get("description", ""),
            "unit": either.get("unit", ""),
            "published": either.get("published", ""),
            "value_a": ra.get("rebuilt", ""),
            "value_b": rb.get("rebuilt", ""),
            "status_a": status_a,
            "status_b": status_b,
        }
        headline = _row("headline", figure, check, measure="reconciliation", **common)
        if _number(common["value_a"]) is None and _number(common["published"]) is not None and _number(common["value_b"]) is not None:
            # Edition a was not rebuilt here (its inputs are unavailable): its published number is what b moved from.
            against = _row("headline", figure, check, measure="reconciliation", **dict(common, value_a=common["published"]))
            headline.update(
                change=against["change"],
                change_unit=against["change_unit"],
                change_pct=against["change_pct"],
                note=f"not rebuilt in a: change against the published value ({status_a})",
            )
        out.append(headline)
        if status_a != status_b:
            out.append(_row("reconciliation_status", figure, check, note=f"{status_a} -> {status_b}", **common))
    return out


def compare_summaries(figure: str, table_a: pd.DataFrame | None, table_b: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Headline rows from a figure's ``*_summary.csv`` (``statistic``, ``value`` and optionally ``unit``)."""

    def values(table: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
        if table is None or not {"statistic", "value"} <= set(table.columns):
            return {}
        units = table["unit"] if "unit" in table.columns else [""] * len(table)
        return {s: (v, u) for s, v, u in zip(table["statistic"], table["value"], units)}

    va, vb = values(table_a), values(table_b)
    rows = []
    for statistic in dict.fromkeys([*va, *vb]):
        (a, unit_a), (b, unit_b) = va.get(statistic, ("", "")), vb.get(statistic, ("", ""))
        unit = unit_b or unit_a
        note = "text differs" if _number(a) is None and _number(b) is None and a != b else ""
        rows.append(_row("headline", figure, statistic, measure="summary", unit=unit, value_a=a, value_b=b, note=note))
    return rows


def compare_parameters(figure: str, params_a: Mapping[str, Any] | None, params_b: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One row per parameter whose value differs (a figure missing from an edition has no parameters there)."""
    rows = []
    pa_, pb = params_a or {}, params_b or {}
    for name in dict.fromkeys([*pa_, *pb]):
        if pa_.get(name) != pb.get(name):
            shown_a = json.dumps(pa_.get(name)) if name in pa_ else "(not in edition)"
            shown_b = json.dumps(pb.get(name)) if name in pb else "(not in edition)"
            rows.append(_row("parameter", figure, name, value_a=shown_a, value_b=shown_b))
    return rows


def compare_inputs(figure: str, inputs_a: Mapping[str, Any], inputs_b: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Inputs whose file differs; the same file (same sha256) under another id is one row, not two."""

    def sha(inputs: Mapping[str, Any], source_id: str) -> str:
        return str((inputs.get(source_id) or {}).get("sha256") or "")

    rows = []
    only_a = [s for s in inputs_a if s not in inputs_b]
    only_b = [s for s in inputs_b if s not in inputs_a]
    renamed = {}
    for old in only_a:
        match = next((new for new in only_b if sha(inputs_b, new) and sha(inputs_b, new) == sha(inputs_a, old)), None)
        if match:
            renamed[old] = match
            only_b.remove(match)
    for source_id in dict.fromkeys([*inputs_a, *inputs_b]):
        title = (inputs_b.get(source_id) or inputs_a.get(source_id) or {}).get("title", "")
        if source_id in renamed:
            new = renamed[source_id]
            rows.append(
                _row(
                    "input",
                    figure,
                    f"{source_id} -> {new}",
                    name=title,
                    value_a=sha(inputs_a, source_id)[:12],
                    value_b=sha(inputs_b, new)[:12],
                    note="same file (same sha256) under another id",
                )
            )
            continue
        if source_id in renamed.values():
            continue
        sha_a, sha_b = sha(inputs_a, source_id), sha(inputs_b, source_id)
        if sha_a == sha_b:
            continue
        if source_id in only_a:
            note = "only in a"
        elif source_id in only_b:
            note = "only in b"
        else:
            note = "same id, different file (re-release?)"
        rows.append(_row("input", figure, source_id, name=title, value_a=sha_a[:12], value_b=sha_b[:12], note=note))
    return rows


def compare_figure_status(figure: str, a: str, b: str, status_a: Mapping[str, Any] | None, status_b: Mapping[str, Any] | None):
    """A ``figure`` row when a figure is built in one edition and not the other, with the build's reason."""
    built = {"built", "up to date"}
    sa = (status_a or {}).get("status", "not in edition")
    sb = (status_b or {}).get("status", "not in edition")
    if (sa in built) == (sb in built):
        return []
    reasons = "; ".join(
        f"{name}: {entry.get('message')}" for name, entry in ((a, status_a or {}), (b, status_b or {})) if entry.get("message")
    )
    return [_row("figure", figure, figure, status_a=sa, status_b=sb, note=reasons or f"built only in {a if sa in built else b}")]


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


def _measure_unit(measure: str, table_unit: str) -> str:
    """The unit of one measure column: a table's single ``unit`` column describes its main value, not its counts."""
    if measure.endswith(("_pct", "_percent")):
        return "%"
    if _is_percent(table_unit):
        return table_unit if measure == "value" else ""
    return table_unit


def _flag(measure: str, unit: str, a: Any, b: Any, threshold: float) -> str:
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return "no data in a" if x is None and y is not None else "no data in b" if y is None and x is not None else ""
    if x != 0 and y == 0:
        return "falls to zero"
    if _is_percent(unit, measure):
        if y > threshold:
            return f"over the implausible threshold ({threshold:g}%) in b" + ("" if y > x else ", but no rise from a")
    elif x > 0 and (y - x) / x * 100 > threshold:
        return f"rise of {(y - x) / x * 100:,.0f}%, over the implausible threshold ({threshold:g}%)"
    return ""


def compare_authorities(
    figure: str, table_a: pd.DataFrame, table_b: pd.DataFrame, *, implausible_pct: float = DEFAULT_IMPLAUSIBLE_PCT
) -> list[dict[str, Any]]:
    """Per-authority rows: each measure in a and b, joined on the authority code (first row per code), flagged."""
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
            unit = _measure_unit(measure, unit_a.at[code] if unit_a is not None else "")
            value_a, value_b = a.at[code, measure], b.at[code, measure]
            flag = _flag(measure, unit, value_a, value_b, implausible_pct)
            rows.append(_row("authority", figure, code, name=name, measure=measure, unit=unit, value_a=value_a, value_b=value_b, flag=flag))
    return rows


def authority_changes(
    figure: str, names_a: Mapping[str, str], names_b: Mapping[str, str], successors: Mapping[str, frozenset[str]] | None
) -> list[dict[str, Any]]:
    """Authorities present in only one edition, explained with the successors a figure recorded where it can.

    Parameters
    ----------
    figure
        Figure id, for the rows.
    names_a, names_b
        Authority code -> name in each edition.
    successors
        Old code -> the codes it became (from the ``authority_successors`` table in a figure record), or None.

    Returns
    -------
    list of dict
        One ``authority_change`` row per code in only one edition; ``note`` says ``merged into``, ``split into``,
        ``replaced by``, ``successor of`` or ``appears`` / ``disappears`` when nothing explains it.
    """
    only_a = sorted(set(names_a) - set(names_b))
    only_b = sorted(set(names_b) - set(names_a))
    table = successors or {}
    rows = []
    all_names = {**names_a, **names_b}
    for code in only_a:
        into = sorted(table.get(code, frozenset()) & set(names_b))
        if not into:
            note = "disappears" + ("" if successors is not None else " (no authority_successors table in the figure records)")
        else:
            shared = [c for c in only_a if set(into) & table.get(c, frozenset()) and c != code]
            kind = "split into" if len(into) > 1 else "merged into" if shared else "replaced by"
            note = f"{kind} {', '.join(f'{all_names[c]} ({c})' for c in into)}"
        rows.append(_row("authority_change", figure, code, name=names_a[code], value_a="present", value_b="absent", note=note))
    for code in only_b:
        parents = [c for c in only_a if code in table.get(c, frozenset())]
        note = f"successor of {', '.join(f'{names_a[c]} ({c})' for c in parents)}" if parents else "appears"
        rows.append(_row("authority_change", figure, code, name=names_b[code], value_a="absent", value_b="present", note=note))
    return rows


# --- the report -----------------------------------------------------------------------------------------------


def _check_built(edition: str, settings: Settings) -> None:
    if not EDITION_NAME.match(edition or ""):
        raise EditionError(f"edition name {edition!r} is not valid - use lower-case letters, digits, '-', '_' or '.'")
    folder = settings.reports_dir(edition)
    if not (folder / "manifest.json").exists() and not (folder / "reconciliation.csv").exists() and not any(folder.glob("*.json")):
        raise EditionError(
            f"{folder}: edition {edition!r} has not been built - diff compares two finished builds: run "
            f"`nao-analysis build --edition {edition}` first, then the diff again"
        )


def _parameters(manifest: Mapping[str, Any], records: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    params = {fid: dict(values or {}) for fid, values in (manifest.get("parameters") or {}).items()}
    for fid, record in records.items():
        params.setdefault(fid, dict(record.get("params") or {}))
    return params


def diff_rows(a: str, b: str, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every comparison row between two built editions (see the module docstring for the sections)."""
    settings = settings or Settings.from_environment()
    records_a, records_b = load_records(a, settings), load_records(b, settings)
    manifest_a, manifest_b = load_manifest(a, settings), load_manifest(b, settings)
    params_a, params_b = _parameters(manifest_a, records_a), _parameters(manifest_b, records_b)
    status_a = {f["figure"]: f for f in manifest_a.get("figures") or []}
    status_b = {f["figure"]: f for f in manifest_b.get("figures") or []}
    for fid in records_a:
        status_a.setdefault(fid, {"status": "built"})
    for fid in records_b:
        status_b.setdefault(fid, {"status": "built"})

    rows = compare_reconciliation(load_reconciliation(a, settings), load_reconciliation(b, settings))
    figures = list(dict.fromkeys([*params_a, *params_b, *records_a, *records_b]))
    for figure in figures:
        rows += compare_figure_status(figure, a, b, status_a.get(figure), status_b.get(figure))
        rows += compare_parameters(figure, params_a.get(figure), params_b.get(figure))
        ra, rb = records_a.get(figure), records_b.get(figure)
        if ra is None or rb is None:
            continue
        rows += compare_inputs(figure, ra.get("inputs") or {}, rb.get("inputs") or {})
        tables_a, tables_b = figure_tables(a, ra, settings), figure_tables(b, rb, settings)
        successors = successors_from(tables_b) or successors_from(tables_a)
        threshold = _number((rb.get("params") or {}).get("implausible_change_pct")) or DEFAULT_IMPLAUSIBLE_PCT
        for name in dict.fromkeys([*tables_a, *tables_b]):
            ta, tb = tables_a.get(name), tables_b.get(name)
            if name.endswith("_summary.csv"):
                rows += compare_summaries(figure, ta, tb)
                continue
            if ta is None or tb is None or SUCCESSORS_TABLE in name:
                continue
            cols_a, cols_b = authority_columns(ta), authority_columns(tb)
            if not cols_a or not cols_b:
                continue
            rows += compare_authorities(figure, ta, tb, implausible_pct=threshold)
            names_a = dict(zip(ta[cols_a[0]], ta[cols_a[1]] if cols_a[1] else ta[cols_a[0]]))
            names_b = dict(zip(tb[cols_b[0]], tb[cols_b[1]] if cols_b[1] else tb[cols_b[0]]))
            rows += authority_changes(figure, names_a, names_b, successors)
    return rows


def _fmt(value: Any, row: Mapping[str, Any], key: str) -> str:
    number = _number(value)
    if number is None:
        return e(str(value if value is not None else ""))
    if _is_year(row.get("key"), row.get("measure"), row.get("name")) and number.is_integer():
        return str(int(number))  # a year is never "2,011"
    if key == "change" and row.get("change_unit") == "percentage points":
        return f"{number:+,.1f} pp"
    if key == "change_pct":
        return f"{number:+,.1f}%"
    return f"{number:,.0f}" if abs(number) >= 1000 or number.is_integer() else f"{number:,.2f}"


NUMERIC = {"published", "value_a", "value_b", "change", "change_pct"}


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], caption: str, *, numbers: bool = True) -> str:
    if not rows:
        return f"<p>{e(caption)}: none.</p>"
    head = "".join(f'<th scope="col">{e(label)}</th>' for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key, "")
            if key == "flag" and value:
                cells.append(f'<td class="flag">{e(str(value))}</td>')
            elif numbers and key in NUMERIC and _number(value) is not None:
                cells.append(f'<td class="num">{_fmt(value, row, key)}</td>')
            else:
                cells.append(f"<td>{e(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="wide"><table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def render_diff_html(a: str, b: str, rows: list[dict[str, Any]]) -> str:
    """The diff page: a contents list, one section per kind of change, every string escaped, wide tables scroll."""

    def section(name: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["section"] == name]

    value_cols = [("value_a", a), ("value_b", b), ("change", "change (b - a)"), ("change_pct", "change %")]
    flagged = [r for r in section("authority") if r["flag"]]
    counts = {
        "figures": len(section("figure")),
        "status": len(section("reconciliation_status")),
        "headline": len(section("headline")),
        "parameters": len(section("parameter")) + len(section("input")),
        "authority-changes": len(section("authority_change")),
        "authorities": len(section("authority")),
    }
    toc = "".join(f'<li><a href="#{anchor}">{e(title)}</a> ({counts[anchor]})</li>' for anchor, title in SECTIONS)
    parts = [
        f"<p>Edition <strong>{e(a)}</strong> (a) against <strong>{e(b)}</strong> (b). Changes are b minus a; a change "
        "between two percentages is in percentage points. Review every section before publishing an update.</p>",
        f'<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>',
    ]
    if flagged:
        parts.append(
            f'<p class="problem">{len(flagged)} authority value(s) flagged (falls to zero, or rises over the implausible '
            'threshold): see <a href="#authorities">Change per authority</a>.</p>'
        )

    def open_section(anchor: str, title: str) -> None:
        parts.append(f'<section id="{anchor}"><h2>{e(title)}</h2>')

    def close_section() -> None:
        parts.append('<p class="back"><a href="#main">Back to top</a></p></section>')

    open_section(*SECTIONS[0])
    parts.append(
        _table(
            section("figure"),
            [("figure", "figure"), ("status_a", f"status {a}"), ("status_b", f"status {b}"), ("note", "why")],
            "Figures built in one edition and not the other",
        )
    )
    close_section()
    open_section(*SECTIONS[1])
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
    close_section()
    open_section(*SECTIONS[2])
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
    close_section()
    open_section(*SECTIONS[3])
    parts.append(
        _table(
            section("parameter") + section("input"),
            [("figure", "figure"), ("section", "what"), ("key", "name"), ("value_a", a), ("value_b", b), ("note", "note")],
            "Parameters (every figure of the editions, built or not) and inputs that differ",
            numbers=False,
        )
    )
    close_section()
    open_section(*SECTIONS[4])
    parts.append(
        _table(
            section("authority_change"),
            [("figure", "figure"), ("key", "code"), ("name", "authority"), ("value_a", a), ("value_b", b), ("note", "explanation")],
            "Authorities in only one edition",
            numbers=False,
        )
    )
    close_section()
    open_section(*SECTIONS[5])
    authority = section("authority")
    if not authority:
        parts.append("<p>Change per authority: none.</p>")
    for figure in dict.fromkeys(r["figure"] for r in authority):
        measures = list(dict.fromkeys(r["measure"] for r in authority if r["figure"] == figure))
        main = measures[0]
        # A flag on any measure of an authority (a fall to zero of its spending, say) shows on its one row here.
        flags: dict[str, list[str]] = {}
        for r in authority:
            if r["figure"] == figure and r["flag"]:
                flags.setdefault(r["key"], []).append(r["flag"] if r["measure"] == main else f"{r['measure']}: {r['flag']}")
        shown = sorted(
            (
                dict(r, flag="; ".join(dict.fromkeys(flags.get(r["key"], []))))
                for r in authority
                if r["figure"] == figure and r["measure"] == main
            ),
            key=lambda r: (not r["flag"], -abs(_number(r["change"]) or 0)),
        )
        parts.append(
            _table(
                shown,
                [("key", "code"), ("name", "authority"), ("unit", "unit"), *value_cols, ("flag", "flag")],
                f"{figure}: {main} by authority, flagged first, then largest change (all measures are in diff.csv: {', '.join(measures)})",
            )
        )
    close_section()
    return render_page(
        title=f"Differences between editions {a} and {b}", edition=f"{a} vs {b}", body_html="\n".join(parts), head_extra=EXTRA_CSS
    )


def write_diff_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DIFF_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in DIFF_COLUMNS})
    write_text_atomic(path, buffer.getvalue())


def diff_editions(a: str, b: str, settings: Settings | None = None) -> tuple[Path, Path]:
    """Compare two built editions; write ``reports/diff-<a>-vs-<b>/diff.html`` and ``diff.csv``.

    Raises
    ------
    EditionError
        A name is invalid, or an edition has not been built (the message gives the build command).
    """
    settings = settings or Settings.from_environment()
    _check_built(a, settings)
    _check_built(b, settings)
    rows = diff_rows(a, b, settings)
    folder = settings.reports_dir(f"diff-{a}-vs-{b}")
    csv_path = folder / "diff.csv"
    html_path = folder / "diff.html"
    write_diff_csv(csv_path, rows)
    write_text_atomic(html_path, render_diff_html(a, b, rows))
    return html_path, csv_path
