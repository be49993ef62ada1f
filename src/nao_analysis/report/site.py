"""The reviewer's site for one edition, in ``reports/<edition>/``, viewable offline with no CDN:

- ``index.html``: every figure first, in order, with its title, subtitle, chart (with alt text), notes and source,
  and links to the code-hidden notebook, the data as CSV and an accessible spreadsheet; then the report's key
  facts, collapsed;
- ``<stem>_interactive.html`` for the maps (Figures 3 and 5): hover or focus shows each area's numbers;
- ``reconciliation.html``: every published number against the rebuilt one, grouped by figure, each figure's
  explanation (and whether its run is comparable with the published one) stated once, with a summary answering
  "does this reproduce the NAO?" and the automatic flags;
- ``provenance.html``: every raw source, its URL, retrieval, sha256 and licence, and the build;
- ``assumptions.html``: the AQA log gathered from the figures' declarations.

Everything is generated from the finished figure records (and the files they name), the reconciliation CSV and
the manifest the build writes; nothing is fetched or recomputed, and every string is escaped.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import multiprocessing
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nao_analysis.report import areas as area_profiles
from nao_analysis.report.formatting import format_change, format_number, is_change
from nao_analysis.report.notebook_html import chart_outputs, figure_banner, figure_label
from nao_analysis.report.page import AREAS_NAV, NAV, render_page
from nao_analysis.safe_io import write_atomic, write_text_atomic

e = html.escape

#: Reconciliation statuses in the order the reviewer reads them (the build's words).
STATUS_PASS = "pass"  # noqa: S105 - a status word, not a password
STATUS_DIFFERS = "differs (explained)"
STATUS_FAIL = "fail"
STATUS_UNAVAILABLE = "source unavailable"
STATUS_NOT_APPLICABLE = "not applicable"
STATUS_NOT_COMPARABLE = "not comparable (parameters differ)"
STATUS_FIGURE_FAILED = "figure failed"
STATUS_NOT_BUILT = "not built"
STATUS_ORDER = [
    STATUS_PASS,
    STATUS_DIFFERS,
    STATUS_UNAVAILABLE,
    STATUS_FAIL,
    STATUS_FIGURE_FAILED,
    STATUS_NOT_BUILT,
    STATUS_NOT_APPLICABLE,
    STATUS_NOT_COMPARABLE,
]
STATUS_MEANINGS = {
    STATUS_PASS: "within the stated tolerance of the published number",
    STATUS_DIFFERS: "outside tolerance for a stated reason, such as substitute data or a later vintage",
    STATUS_FAIL: "outside tolerance with no explanation: needs investigating",
    STATUS_UNAVAILABLE: "the input could not be had in this build, so the number was not rebuilt",
    STATUS_NOT_APPLICABLE: "the published number does not apply to this edition",
    STATUS_NOT_COMPARABLE: "rebuilt with parameters other than the published run's, so not compared as published",
    STATUS_FIGURE_FAILED: "the figure failed in this build (the index gives its one-line reason), so the number was not rebuilt",
    STATUS_NOT_BUILT: "the figure has not been built in this output folder yet, so the number was not rebuilt",
}
#: The record of the area profiles (issue "Area profiles"): rendered as pages of its own, not as a figure.
AREAS_FIGURE = "areas"
#: Files of a figure that the site copies beside its pages, so the folder can be moved as one piece.
COPIED_SUFFIXES = {".png", ".svg", ".csv", ".json", ".geojson"}


@dataclass(frozen=True)
class FigureFiles:
    """What the site has for one figure, as paths relative to the site folder."""

    charts: list[str]
    csvs: list[str]
    spreadsheet: str | None
    interactive: str | None
    problems: list[str]
    tables: list[str] = field(default_factory=list)
    #: Site path of each table image (an SVG with no PNG) -> its SVG, placed in the page as it is.
    table_images: dict[str, str] = field(default_factory=dict)


def status_class(status: str) -> str:
    """CSS class of a reconciliation status (colour is never the only cue: the status is also written)."""
    status = (status or "").lower()
    for key, css in (
        ("not comparable", "not-comparable"),
        ("not applicable", "not-applicable"),
        ("pass", "pass"),
        ("fail", "fail"),
        ("differs", "differs"),
        ("unavailable", "unavailable"),
    ):
        if key in status:
            return f"status-{css}"
    return ""


def read_reconciliation(path: Path) -> list[dict[str, str]]:
    """The build's ``reconciliation.csv`` as a list of rows; empty if it does not exist yet."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def row_is_change(row: dict[str, str]) -> bool:
    """Whether a reconciliation row's numbers are changes, and so are shown signed."""
    return is_change(row.get("check", ""), row.get("description", ""), unit=row.get("unit", ""))


def format_reconciled(value: str | float | None, row: dict[str, str]) -> str:
    """A published or rebuilt number of a row: signed when the row is a change (``-40%``), else as the report prints it."""
    return format_change(value, row.get("unit", "")) if row_is_change(row) else format_number(value)


def status_counts(rows: Sequence[dict[str, str]]) -> dict[str, int]:
    """Number of rows per status, in :data:`STATUS_ORDER` (other statuses after)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.get("status", "")] = counts.get(row.get("status", ""), 0) + 1
    ordered = {s: counts[s] for s in STATUS_ORDER if s in counts}
    ordered.update({s: n for s, n in counts.items() if s not in ordered})
    return ordered


def verdict(rows: Sequence[dict[str, str]]) -> str:
    """A plain-English answer to "does this reproduce the NAO?" for a set of reconciliation rows."""
    counts = status_counts(rows)
    total = len(rows)
    if not total:
        return "Nothing to compare: no published numbers were reconciled in this build."
    passed = counts.get(STATUS_PASS, 0)
    parts = [f"{passed} of {total} published numbers are reproduced within tolerance"]
    phrases = {
        STATUS_DIFFERS: "differ for a stated reason (such as substitute data, another basis or vintage)",
        STATUS_UNAVAILABLE: "could not be rebuilt because their source was unavailable",
        STATUS_NOT_COMPARABLE: "were rebuilt with parameters other than the published run's, so are not compared as published",
        STATUS_NOT_APPLICABLE: "do not apply to this edition",
        STATUS_FAIL: "differ with no explanation and need investigating",
        STATUS_FIGURE_FAILED: "were not rebuilt because their figure failed",
        STATUS_NOT_BUILT: "were not rebuilt because their figure has not been built yet",
    }
    for status, phrase in phrases.items():
        if counts.get(status):
            parts.append(f"{counts[status]} {phrase}")
    sentence = "; ".join(parts) + "."
    if passed == total:
        return "Yes. " + sentence
    if counts.get(STATUS_FAIL) or counts.get(STATUS_FIGURE_FAILED):
        return "Not fully: " + sentence
    return "Partly. " + sentence


# -- one explanation per figure ---------------------------------------------------------------------


def note_parts(note: str) -> list[str]:
    """A reconciliation note split at its top-level semicolons (a semicolon inside brackets stays)."""
    parts, depth, current = [], 0, []
    for char in note or "":
        depth += char in "([" and 1 or char in ")]" and -1 or 0
        if char == ";" and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def shared_explanation(rows: Sequence[dict[str, str]]) -> tuple[str, list[str]]:
    """The explanation a figure's rows share, said once, and what each row adds.

    Parameters
    ----------
    rows : sequence of dict
        One figure's reconciliation rows.

    Returns
    -------
    (str, list of str)
        The leading note parts every row with a note repeats (empty if fewer than two rows share one), and
        each row's note without them.
    """
    split = [note_parts(r.get("note", "")) for r in rows]
    with_notes = [s for s in split if s]
    shared: list[str] = []
    if len(with_notes) >= 2 and len(with_notes) == len(rows):
        for parts in zip(*with_notes):
            if len(set(parts)) != 1:
                break
            shared.append(parts[0])
    rest = ["; ".join(s[len(shared) :]) for s in split]
    return "; ".join(shared), rest


def comparability_statement(record: dict[str, Any] | None) -> str:
    """One sentence saying whether a figure's run is comparable with the published one, from ``record["comparability"]``.

    Returns an empty string when the record says nothing about comparability.
    """
    comparability = (record or {}).get("comparability")
    if not isinstance(comparability, dict):
        return ""
    if comparability.get("as_published"):
        return "This run uses the published run's parameters, so its numbers are compared with the published ones as they stand."
    differing = comparability.get("differing") or {}
    listed = "; ".join(
        f"{name}: published {_param_text(pair[0])}, this run {_param_text(pair[1])}"
        for name, pair in differing.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    )
    return (
        "Not comparable as published: this run's parameters differ from the published run's"
        + (f" ({listed})" if listed else "")
        + ", so a difference from a published number is expected and is not a failure."
    )


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def reconciliation_table_html(
    rows: Sequence[dict[str, str]], caption: str = "Published numbers against the rebuilt ones", notes: Sequence[str] | None = None
) -> str:
    """An accessible table of reconciliation rows (status written in words and shown by row colour).

    ``notes`` replaces each row's note (the part not already said once for the whole figure).
    """
    if not rows:
        return "<p>No published numbers to reconcile for this figure.</p>"
    out = [
        f'<table class="recon"><caption>{e(caption)}</caption><thead><tr>'
        '<th scope="col">Check</th><th scope="col">Published</th><th scope="col">Rebuilt</th><th scope="col">Tolerance</th>'
        '<th scope="col">Unit</th><th scope="col">Status</th><th scope="col">Note</th><th scope="col">Citation</th></tr></thead><tbody>'
    ]
    for index, r in enumerate(rows):
        note = r.get("note", "") if notes is None else notes[index]
        out.append(
            f'<tr class="{status_class(r.get("status", ""))}"><th scope="row">{e(r.get("description") or r.get("check", ""))}'
            f"<br><code>{e(r.get('figure', ''))}.{e(r.get('check', ''))}</code></th>"
            f'<td class="num">{format_reconciled(r.get("published"), r)}</td>'
            f'<td class="num">{format_reconciled(r.get("rebuilt"), r) or "not rebuilt"}</td>'
            f'<td class="num">{format_number(r.get("tolerance"))}</td><td>{e(r.get("unit", ""))}</td>'
            f'<td><strong>{e(r.get("status", ""))}</strong></td><td class="note">{e(note)}</td><td>{e(r.get("citation", ""))}</td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


def _counts_text(rows: Sequence[dict[str, str]]) -> str:
    return ", ".join(f"{n} {s}" for s, n in status_counts(rows).items()) or "none"


# -- files -------------------------------------------------------------------------------------------


def _copy_atomic(source: Path, target: Path) -> None:
    write_atomic(target, lambda tmp: shutil.copyfile(source, tmp))


def _figure_csvs(figures_dir: Path, record: dict[str, Any]) -> list[str]:
    names = [Path(n).name for n in record.get("outputs", [])]
    names += [Path(n).name for n in (record.get("tables") or {}).values() if isinstance(n, str)]
    return [n for n in dict.fromkeys(names) if n.endswith(".csv") and (figures_dir / n).exists()]


def _write_spreadsheet(record: dict[str, Any], figures_dir: Path, target: Path, built_at: str) -> None:
    import pandas as pd

    from nao_analysis.report.spreadsheet import SheetTable, write_figure_workbook

    label = figure_label(record["figure"])
    tables = []
    for name in _figure_csvs(figures_dir, record):
        suffix = name[len(record["stem"]) : -len(".csv")].lstrip("_") if name.startswith(record["stem"]) else name[: -len(".csv")]
        frame = pd.read_csv(figures_dir / name)
        title = f"{label}: {record['title']}" if not suffix else f"{label}: {suffix.replace('_', ' ')}"
        tables.append(SheetTable(sheet=suffix or "Data", title=title, frame=frame, description=f"From {name}."))
    if not tables:
        return
    write_figure_workbook(
        target,
        title=f"{label}: {record['title']}",
        subtitle=record.get("subtitle", ""),
        tables=tables,
        notes=record.get("notes", []),
        assumptions=record.get("assumptions", []),
        caveats=record.get("caveats", []),
        source=record.get("source", ""),
        edition=record.get("edition", ""),
        substitute_data=record.get("banner", ""),
        built_at=built_at or "",
    )


@contextlib.contextmanager
def spreadsheets_in_background(
    records: Sequence[dict[str, Any]], figures_dir: Path, site_dir: Path, built_at: str
) -> Iterator[dict[str, Future]]:
    """Start writing every figure's spreadsheet in worker processes; yield figure stem -> its pending write.

    The workbooks are most of the site's work and independent of each other and of the pages, which are
    written meanwhile; on a machine with one core they are simply written in turn."""
    workers = min(len(records), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    if workers < 2:
        yield {}
        return
    import nao_analysis.report.spreadsheet  # noqa: F401 - imported once here, not in every worker

    target = site_dir / "figures"
    target.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield {
            record["stem"]: pool.submit(_write_spreadsheet, record, figures_dir, target / f"{record['stem']}.xlsx", built_at)
            for record in records
        }


def publish_figure_files(
    record: dict[str, Any],
    figures_dir: Path,
    site_dir: Path,
    common: dict[str, Any],
    area_links: dict[str, str] | None = None,
    spreadsheet_job: Future | None = None,
) -> FigureFiles:
    """Copy a figure's charts and data into ``<site>/figures/``, write its spreadsheet and, for a map, its interactive page.

    Parameters
    ----------
    record : dict
        The figure's finished record.
    figures_dir : pathlib.Path
        ``figures/<edition>/``, where the build put the charts, CSVs and map files.
    site_dir : pathlib.Path
        ``reports/<edition>/``.
    common : dict
        Keyword arguments for :func:`render_page` shared by every page of the site.
    area_links : dict, optional
        Area code -> site-relative page of its profile, for the interactive map.
    spreadsheet_job : concurrent.futures.Future, optional
        The spreadsheet's write already started by :func:`spreadsheets_in_background`; without it, written here.

    Returns
    -------
    FigureFiles
        Site-relative names of what was written, and any problem met (shown on the index, never raised:
        one figure's trouble must not hide the others).
    """
    target = site_dir / "figures"
    target.mkdir(parents=True, exist_ok=True)
    from nao_analysis.tables import svg_element

    charts, csvs, problems, tables = [], [], [], []
    table_images: dict[str, str] = {}
    pictures = dict(chart_outputs(record))
    for output in record.get("outputs", []):
        name = Path(output).name
        source = figures_dir / name
        if name.endswith(".table.html") and source.exists():
            # An accessible table the notebook wrote with fig.save_html: shown on the index as it is.
            tables.append(source.read_text(encoding="utf-8"))
            continue
        if Path(name).suffix in COPIED_SUFFIXES and source.exists():
            _copy_atomic(source, target / name)
            if name in pictures:
                charts.append(f"figures/{name}")
            if pictures.get(name):
                table_images[f"figures/{name}"] = svg_element(source.read_text(encoding="utf-8"))
    csvs = [f"figures/{n}" for n in _figure_csvs(figures_dir, record)]
    for name in csvs:
        if not (site_dir / name).exists():
            _copy_atomic(figures_dir / Path(name).name, site_dir / name)
    spreadsheet = None
    try:
        xlsx = target / f"{record['stem']}.xlsx"
        if spreadsheet_job is None:
            _write_spreadsheet(record, figures_dir, xlsx, common.get("built_at", ""))
        else:
            spreadsheet_job.result()
        if xlsx.exists():
            spreadsheet = f"figures/{xlsx.name}"
    except Exception as exc:  # shown on the index so the reviewer knows the spreadsheet is missing and why
        problems.append(f"spreadsheet not written: {' '.join(str(exc).split())}")
    interactive = None
    try:
        interactive = write_interactive_page(record, figures_dir, site_dir, common, area_links=area_links)
    except Exception as exc:  # as above: the static map remains
        problems.append(f"interactive map not written: {exc}")
    return FigureFiles(charts, csvs, spreadsheet, interactive, problems, tables, table_images)


def write_interactive_page(
    record: dict[str, Any], figures_dir: Path, site_dir: Path, common: dict[str, Any], area_links: dict[str, str] | None = None
) -> str | None:
    """Write ``<stem>_interactive.html`` for a map figure; return its site-relative name, or None for other figures."""
    from nao_analysis.report.interactive_map import interactive_map_for_record

    made = interactive_map_for_record(record, figures_dir, site_dir, area_links=area_links)
    if made is None:
        return None
    body, css = made
    label = figure_label(record["figure"])
    csv_link = next((f"figures/{n}" for n in _figure_csvs(figures_dir, record)), None)
    intro = (f"<p>{e(record.get('subtitle', ''))}</p>" if record.get("subtitle") else "") + (
        f'<p>The static map (for print) is on the <a href="index.html#{e(record["figure"])}">index</a>'
        + (f'; the data are in <a href="{e(csv_link)}">CSV</a>' if csv_link else "")
        + ". The table after the map lists every area's numbers.</p>"
    )
    notes = "".join(f"<li>{e(n)}</li>" for n in record.get("notes", []))
    body_html = (
        intro
        + body
        + (f"<h2>Notes</h2><ol>{notes}</ol>" if notes else "")
        + f"<p><strong>Source:</strong> {e(record.get('source', ''))}</p>"
    )
    name = f"{record['stem']}_interactive.html"
    write_text(
        site_dir / name,
        render_page(
            title=f"{label} (interactive): {record['title']}",
            body_html=body_html,
            head_extra=f"<style>{css}</style>",
            **(common | {"banner": figure_banner(record) or common.get("banner", ""), "banner_items": []}),
        ),
    )
    return name


# -- sections ----------------------------------------------------------------------------------------


def figure_section(record: dict[str, Any], files: FigureFiles, rows: Sequence[dict[str, str]]) -> str:
    """The index's section for one built figure, laid out like the report's figure."""
    figure = record["figure"]
    label = figure_label(figure)
    parts = [
        f'<section class="figure" id="{e(figure)}" aria-labelledby="{e(figure)}-title">',
        f'<h2 id="{e(figure)}-title"><span class="figno">{e(label)}</span> {e(record["title"])}</h2>',
    ]
    if record.get("subtitle"):
        parts.append(f'<p class="subtitle">{e(record["subtitle"])}</p>')
    if record.get("banner"):
        parts.append(f'<div class="banner" role="note"><strong>{e(label)} uses substitute data.</strong> {e(record["banner"])}</div>')
    for chart in files.charts:
        name = chart.removeprefix("figures/")
        alt = record.get("alt_text", {}).get(name) or record["title"]
        if chart in files.table_images:
            # A picture of a table: its SVG in the page (text stays text, named by its aria-label); the same
            # table as HTML follows for reading and for assistive technology.
            parts.append(
                f'<figure class="table-image">{files.table_images[chart]}'
                f'<figcaption>{e(label)} as printed. <a href="{e(chart)}">Vector (SVG)</a> &middot; '
                f"<details><summary>Text description of the table</summary>{e(alt)}</details></figcaption></figure>"
            )
            continue
        svg = chart[:-4] + ".svg"
        parts.append(
            f'<figure><img src="{e(chart)}" alt="{e(alt)}">'
            f'<figcaption>{e(label)}. <a href="{e(svg)}">Vector (SVG)</a> &middot; '
            f"<details><summary>Text description of the chart</summary>{e(alt)}</details></figcaption></figure>"
        )
    for table in files.tables:
        parts.append(f"<details><summary>{e(label)} as a table</summary>{table}</details>")
    if files.interactive:
        parts.append(
            f'<p class="interactive"><a href="{e(files.interactive)}">Explore the interactive map of {e(label)}</a> '
            "(hover over an area to see its numbers)</p>"
        )
    if record.get("notes"):
        parts.append("<h3>Notes</h3><ol>" + "".join(f"<li>{e(n)}</li>" for n in record["notes"]) + "</ol>")
    parts.append(f"<p><strong>Source:</strong> {e(record.get('source', ''))}</p>")
    links = [f'<a href="{e(record["stem"])}.html">Notebook (code hidden)</a>']
    links += [f'<a href="{e(c)}">Data (CSV): {e(c.removeprefix("figures/"))}</a>' for c in files.csvs]
    if files.spreadsheet:
        links.append(f'<a href="{e(files.spreadsheet)}">Accessible spreadsheet (XLSX)</a>')
    parts.append('<p class="links">' + " &middot; ".join(links) + "</p>")
    for problem in files.problems:
        parts.append(f'<p class="problem" role="note">{e(problem)}</p>')
    figure_rows = [r for r in rows if r.get("figure") == figure]
    if figure_rows:
        parts.append(
            f'<p class="recon-summary"><strong>Reconciliation:</strong> {e(_counts_text(figure_rows))}. '
            f'<a href="reconciliation.html#{e(figure)}">Published against rebuilt numbers</a></p>'
        )
    parts.append("</section>")
    return "".join(parts)


def unbuilt_section(figure: str, status: str, message: str, rows: Sequence[dict[str, str]]) -> str:
    """The index's section for a figure this build could not make: why, and its published numbers."""
    label = figure_label(figure)
    figure_rows = [r for r in rows if r.get("figure") == figure]
    return (
        f'<section class="figure" id="{e(figure)}"><h2><span class="figno">{e(label)}</span> not built</h2>'
        f'<p class="problem" role="note">{e(status)}: {e(message)}</p>'
        + (
            f'<p><a href="reconciliation.html#{e(figure)}">Its published numbers</a> ({e(_counts_text(figure_rows))})</p>'
            if figure_rows
            else ""
        )
        + "</section>"
    )


def key_facts_section(record_file: Path) -> str:
    """The report's key facts as the build joined them to the reconciliation (``key_facts.json``), collapsed under one
    line; empty when the build wrote no key-facts record."""
    if not record_file.exists():
        return ""
    try:
        import pandas as pd

        from nao_analysis.report.key_facts import key_facts_html

        table = pd.DataFrame(json.loads(record_file.read_text(encoding="utf-8"))["facts"])
        inner = key_facts_html(table)
        summary = f"Key facts of the report ({len(table)}: which the suite recomputes and which it quotes)"
    except Exception as exc:  # the index must still render; the problem is shown, not hidden
        inner = f'<p class="problem" role="note">Key facts could not be assembled: {e(str(exc))}</p>'
        summary = "Key facts of the report"
    return f'<details class="key-facts" id="key-facts"><summary>{e(summary)}</summary>{inner}</details>'


def collect_flags(records: Sequence[dict[str, Any]], figures_dir: Path, site_dir: Path) -> list[dict[str, str]]:
    """Automatic flags raised by the figures: rows of a figure CSV with a non-empty ``flag`` column,
    every row of a ``*_flags.csv`` output, and any legacy ``reports/<edition>/flags.csv``.

    Returns
    -------
    list of dict
        ``figure``, ``area`` (name, or code), ``code``, ``flag``.
    """
    flags: list[dict[str, str]] = []
    for record in records:
        for name in _figure_csvs(figures_dir, record):
            with open(figures_dir / name, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                fields = reader.fieldnames or []
                name_field = next((f for f in fields if f.endswith("name")), None)
                code_field = next((f for f in fields if f.endswith("code")), None)
                flag_fields = [f for f in fields if f == "flag" or f.endswith("_flag")]
                is_flag_file = name.endswith("_flags.csv")
                for row in reader:
                    texts = [row[f] for f in flag_fields if (row.get(f) or "").strip()]
                    if is_flag_file and not texts:
                        texts = ["; ".join(f"{k}: {v}" for k, v in row.items() if k not in (name_field, code_field) and v)]
                    for text in texts:
                        flags.append(
                            {
                                "figure": record["figure"],
                                "area": row.get(name_field or "", "") or row.get(code_field or "", ""),
                                "code": row.get(code_field or "", ""),
                                "flag": text,
                            }
                        )
    legacy = site_dir / "flags.csv"
    if legacy.exists():
        with open(legacy, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                flags.append(
                    {
                        "figure": row.get("figure", ""),
                        "area": row.get("area", "") or row.get("name", ""),
                        "code": row.get("code", ""),
                        "flag": row.get("flag", "") or "; ".join(f"{k}: {v}" for k, v in row.items() if v),
                    }
                )
    return flags


# -- pages -------------------------------------------------------------------------------------------


def index_body(edition, results, sections: dict[str, str], rows: Sequence[dict[str, str]], key_facts: str = "") -> str:
    """The index page body: description, verdict, the figures (contents, then each in the edition's order), key facts collapsed."""
    contents = []
    for r in results:
        title = (r.record or {}).get("title", "")
        state = "" if r.status in ("built", "up to date") else f" ({r.status}{': ' + r.message if r.message else ''})"
        contents.append(f'<li><a href="#{e(r.figure)}">{e(figure_label(r.figure))}</a>: {e(title)}{e(state)}</li>')
    key_facts_link = ' <a href="#key-facts">Key facts of the report</a> follow the figures.' if key_facts else ""
    body = [
        f"<p>{e(edition.header.description)}</p>",
        f'<p class="verdict"><strong>Does this reproduce the NAO?</strong> {e(verdict(rows))} '
        f'<a href="reconciliation.html">See the reconciliation</a>.{key_facts_link}</p>',
        f'<nav aria-labelledby="contents-title"><h2 id="contents-title">Figures</h2><ol class="contents">{"".join(contents)}</ol></nav>',
    ]
    body += [sections[r.figure] for r in results]
    body.append(key_facts)
    return "".join(body)


def reconciliation_body(results, rows: Sequence[dict[str, str]], flags: Sequence[dict[str, str]]) -> str:
    """Summary verdict, a per-figure summary table, each figure's explanation once and its rows, and the automatic flags."""
    by_figure: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_figure.setdefault(r.get("figure", ""), []).append(r)
    order = [r.figure for r in results] + [f for f in by_figure if f not in {r.figure for r in results}]
    records = {r.figure: (r.record or {}) for r in results}
    shown = [s for s in STATUS_ORDER if any(r.get("status") == s for r in rows)] or STATUS_ORDER[:4]
    out = [
        f'<p class="verdict"><strong>Does this reproduce the NAO?</strong> {e(verdict(rows))}</p>',
        "<p>"
        + " ".join(f"<em>{e(status)}</em>: {e(STATUS_MEANINGS[status])}." for status in STATUS_ORDER)
        + " A change is always shown with its sign (+9%, -40%), published and rebuilt alike.</p>",
    ]
    summary = ['<table><caption>Reconciliation by figure</caption><thead><tr><th scope="col">Figure</th>']
    summary += [f'<th scope="col">{e(s)}</th>' for s in shown]
    summary.append('<th scope="col">Answer</th></tr></thead><tbody>')
    for figure in order:
        figure_rows = by_figure.get(figure, [])
        counts = status_counts(figure_rows)
        summary.append(
            f'<tr><th scope="row"><a href="#{e(figure)}">{e(figure_label(figure))}</a></th>'
            + "".join(f'<td class="num">{counts.get(s, 0)}</td>' for s in shown)
            + f"<td>{e(verdict(figure_rows))}</td></tr>"
        )
    summary.append("</tbody></table>")
    out += summary
    for figure in order:
        figure_rows = by_figure.get(figure, [])
        heading = f"{figure_label(figure)}: {records.get(figure, {}).get('title', '')}".rstrip(": ")
        shared, notes = shared_explanation(figure_rows)
        explanation = [comparability_statement(records.get(figure))]
        if shared:
            explanation.append(f"For every number of this figure: {shared}.")
        said = " ".join(x for x in explanation if x)
        out.append(
            f'<section id="{e(figure)}"><h2>{e(heading)}</h2>'
            + (f'<p class="explanation">{e(said)}</p>' if said else "")
            + reconciliation_table_html(figure_rows, caption=f"{figure_label(figure)}: published against rebuilt", notes=notes)
            + "</section>"
        )
    out.append('<section id="flags"><h2>Automatic flags</h2>')
    if flags:
        out.append(
            "<p>Values the figures flag automatically (for example implausible changes, where spending probably moved between "
            "lines or bodies). They are kept in the data and the maps, and named here so a reviewer can judge them.</p>"
            '<table><caption>Automatic flags</caption><thead><tr><th scope="col">Figure</th><th scope="col">Area</th>'
            '<th scope="col">Code</th><th scope="col">Flag</th></tr></thead><tbody>'
            + "".join(
                f'<tr><th scope="row">{e(figure_label(f["figure"]))}</th><td>{e(f["area"])}</td><td>{e(f["code"])}</td>'
                f"<td>{e(f['flag'])}</td></tr>"
                for f in flags
            )
            + "</tbody></table>"
        )
    else:
        out.append("<p>No figure raised an automatic flag in this build.</p>")
    out.append("</section>")
    return "".join(out)


def provenance_body(manifest: dict[str, Any]) -> str:
    """Every raw source with URL, retrieval, sha256, licence and users; then the parameters and the build."""
    out = [
        '<table class="provenance"><caption>Raw sources used by this build</caption><thead><tr>'
        '<th scope="col">Source</th><th scope="col">Kind</th>'
        '<th scope="col">Official URL / copied from</th><th scope="col">Retrieved</th><th scope="col">sha256</th>'
        '<th scope="col">Licence</th><th scope="col">Used by</th></tr></thead><tbody>'
    ]
    for source_id, info in sorted((manifest.get("inputs") or {}).items()):
        url = info.get("official_url") or ""
        link = f'<a href="{e(url)}" rel="noreferrer">{e(url)}</a>' if url.startswith(("https://", "http://")) else e(url)
        copied = info.get("copied_from") or ""
        used_by = ", ".join(f'<a href="{_figure_href(f)}">{e(figure_label(f))}</a>' for f in info.get("figures", []))
        out.append(
            f'<tr><th scope="row">{e(info.get("title", source_id))}<br><code>{e(source_id)}</code></th><td>{e(info.get("kind", ""))}</td>'
            f'<td class="url">{link}{"<br>copied from " + e(copied) if copied else ""}</td>'
            f"<td>{e(info.get('retrieved_at', ''))}{' via ' + e(info.get('origin', '')) if info.get('origin') else ''}</td>"
            f'<td><code class="hash">{e(info.get("sha256", ""))}</code></td><td>{e(info.get("licence", ""))}</td><td>{used_by}</td></tr>'
        )
    out.append("</tbody></table>")
    out.append(
        "<h2>Build</h2><table><caption>This build</caption><tbody>"
        f'<tr><th scope="row">Git commit</th><td><code>{e(str(manifest.get("git_commit", "unknown")))}</code></td></tr>'
        f'<tr><th scope="row">Built at</th><td>{e(str(manifest.get("built_at", "")))}</td></tr>'
        f'<tr><th scope="row">Overrides</th><td>{e(", ".join(manifest.get("overrides") or []) or "none")}</td></tr>'
        f'<tr><th scope="row">Total seconds</th><td>{e(str(manifest.get("total_seconds", "")))}</td></tr></tbody></table>'
    )
    versions = manifest.get("package_versions") or {}
    out.append(
        '<h2>Package versions</h2><table><caption>Python and package versions</caption><thead><tr><th scope="col">Package</th>'
        '<th scope="col">Version</th></tr></thead><tbody>'
        + "".join(f'<tr><th scope="row">{e(k)}</th><td>{e(str(v))}</td></tr>' for k, v in versions.items())
        + "</tbody></table>"
    )
    out.append("<h2>Edition parameters</h2>")
    for figure, params in (manifest.get("parameters") or {}).items():
        out.append(
            f"<h3>{e(figure_label(figure))}</h3><table><caption>Parameters of {e(figure)}</caption><tbody>"
            + "".join(
                f'<tr><th scope="row"><code>{e(k)}</code></th><td><code>{e(json.dumps(v))}</code></td></tr>' for k, v in params.items()
            )
            + "</tbody></table>"
        )
    return "".join(out)


def assumptions_body(results) -> str:
    """The AQA log: each figure's declared assumptions, caveats and substitute-data statements."""
    out = [
        "<p>Assumptions and caveats as each figure notebook declares them (one structured <code>fig.declare(...)</code> per "
        "notebook, gathered automatically; nothing is written twice), with the edition's substitute-data statements.</p>"
    ]
    for result in results:
        record = result.record or {}
        items = [("Assumption", t) for t in record.get("assumptions", [])] + [("Caveat", t) for t in record.get("caveats", [])]
        items += [("Substitute data", t) for t in record.get("deviations", [])]
        if not items:
            continue
        heading = f"{figure_label(result.figure)}: {record.get('title', '')}"
        out.append(
            f'<section id="{e(result.figure)}"><h2>{e(heading)}</h2>'
            f"<table><caption>{e(figure_label(result.figure))}: assumptions and caveats</caption>"
            '<thead><tr><th scope="col">Type</th><th scope="col">Text</th></tr></thead><tbody>'
            + "".join(f'<tr><th scope="row">{e(kind)}</th><td>{e(text)}</td></tr>' for kind, text in items)
            + "</tbody></table></section>"
        )
    return "".join(out)


def write_site(edition, results, settings=None) -> Path:
    """Write the reviewer's site for an edition into ``reports/<edition>/`` and return the index's path.

    Parameters
    ----------
    edition : nao_analysis.editions.Edition
        The edition built.
    results : list of nao_analysis.build.FigureResult
        One per figure of the edition, in its order; ``record`` is None for a figure not built.
    settings : nao_analysis.settings.Settings, optional
        Where the edition's figures and reports live. The build passes the settings it was given; without them the
        site resolves its own, as the command line would.

    Returns
    -------
    pathlib.Path
        ``reports/<edition>/index.html``.
    """
    if settings is None:
        from nao_analysis.settings import Settings

        settings = Settings.from_environment()
    site_dir = settings.reports_dir(edition.name)
    figures_dir = settings.figures_dir(edition.name)
    site_dir.mkdir(parents=True, exist_ok=True)
    rows = read_reconciliation(site_dir / "reconciliation.csv")
    manifest_path = site_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    banner, banner_items = "", []
    if edition.header.substitute_data:
        banner = f"This edition ('{edition.name}') is built on substitute data, so its numbers can differ from the report's:"
        banner_items = [f"{figure_label(d.figure)}: {' '.join(d.description.split())}" for d in edition.header.deviations]
    built_at = str(manifest.get("built_at", "")).replace("T", " ").replace("Z", " UTC") or None
    common = {
        "edition": edition.name,
        "edition_title": edition.header.title,
        "banner": banner,
        "banner_items": banner_items,
        "built_at": built_at,
        "footer_html": f'git commit {e(str(manifest.get("git_commit", "unknown")))} &middot; <a href="manifest.json">manifest.json</a>'
        ' &middot; <a href="reconciliation.csv">reconciliation.csv</a>',
    }
    records = [r.record for r in results if r.record]
    figure_records = [r for r in records if r.get("figure") != AREAS_FIGURE]
    sections: dict[str, str] = {}
    with spreadsheets_in_background(figure_records, figures_dir, site_dir, common.get("built_at") or "") as spreadsheet_jobs:
        area_links = write_area_pages(records, figures_dir, site_dir, common)
        if area_links:
            common["nav"] = [NAV[0], AREAS_NAV, *NAV[1:]]
        # The area profiles have their own pages; the index, reconciliation and AQA log list the report's figures.
        results = [r for r in results if r.figure != AREAS_FIGURE]
        records = figure_records
        for result in results:
            if result.record:
                job = spreadsheet_jobs.get(result.record["stem"])
                files = publish_figure_files(result.record, figures_dir, site_dir, common, area_links=area_links, spreadsheet_job=job)
                sections[result.figure] = figure_section(result.record, files, rows)
            else:
                sections[result.figure] = unbuilt_section(result.figure, result.status, result.message, rows)
    key_facts = key_facts_section(site_dir / "key_facts.json")
    write_text(
        site_dir / "index.html",
        render_page(
            title="Reducing the harm from illegal drugs: figures rebuilt",
            body_html=index_body(edition, results, sections, rows, key_facts) + area_profiles.site_index_link(site_dir),
            current="index.html",
            **common,
        ),
    )
    flags = collect_flags(records, figures_dir, site_dir)
    write_text(
        site_dir / "reconciliation.html",
        render_page(
            title="Reconciliation with the published report",
            current="reconciliation.html",
            body_html=reconciliation_body(results, rows, flags),
            **common,
        ),
    )
    write_text(
        site_dir / "provenance.html",
        render_page(title="Provenance of every input", current="provenance.html", body_html=provenance_body(manifest), **common),
    )
    write_text(
        site_dir / "assumptions.html",
        render_page(title="Assumptions and caveats (AQA log)", current="assumptions.html", body_html=assumptions_body(results), **common),
    )
    return site_dir / "index.html"


def write_area_pages(records: Sequence[dict[str, Any]], figures_dir: Path, site_dir: Path, common: dict[str, Any]) -> dict[str, str]:
    """Area profiles from an ``areas`` record, if the edition has one; return area code -> site-relative page."""
    if not any(r.get("figure") == AREAS_FIGURE for r in records):
        return {}
    # Area profiles first, so the interactive maps can link each area to its page.
    area_profiles.write_area_pages(figures_dir, site_dir, common)
    return area_profiles.area_links(site_dir)


def _figure_href(figure: str) -> str:
    """Where a figure is shown: its section of the index, or the area profiles' own index."""
    return "areas/index.html" if figure == AREAS_FIGURE else f"index.html#{e(figure)}"


def write_text(path: Path, text: str) -> None:
    """Write a page atomically (a reader never sees half a page)."""
    write_text_atomic(path, text)
