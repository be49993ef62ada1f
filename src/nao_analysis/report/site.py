"""The reviewer's site for one edition, in ``reports/<edition>/``: index, reconciliation, provenance,
assumptions and caveats. Everything is generated from the figure records and the manifest; every
string is escaped."""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
from pathlib import Path
from typing import Any

from nao_analysis import paths
from nao_analysis.report.page import render_page

e = html.escape


def _status_class(status: str) -> str:
    status = (status or "").lower()
    for key in ("pass", "fail", "differs", "unavailable"):
        if key in status:
            return f"status-{key}"
    return ""


def _read_reconciliation(edition: str) -> list[dict[str, str]]:
    path = paths.reports_dir(edition) / "reconciliation.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _fmt(value: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return e(value or "")
    return f"{number:,.0f}" if number.is_integer() or abs(number) >= 1000 else f"{number:,.1f}"


def reconciliation_table_html(rows: list[dict[str, str]], figure: str | None = None) -> str:
    rows = [r for r in rows if figure is None or r["figure"] == figure]
    if not rows:
        return "<p>No published numbers to reconcile for this figure.</p>"
    out = ['<table><caption>Published numbers against the rebuilt ones</caption><thead><tr>'
           '<th scope="col">Check</th><th scope="col">Published</th><th scope="col">Rebuilt</th><th scope="col">Tolerance</th>'
           '<th scope="col">Unit</th><th scope="col">Status</th><th scope="col">Note</th><th scope="col">Citation</th></tr></thead><tbody>']
    for r in rows:
        out.append(f'<tr class="{_status_class(r["status"])}"><th scope="row">{e(r.get("description") or r["check"])}<br><code>{e(r["figure"])}.{e(r["check"])}</code></th>'
                   f'<td class="num">{_fmt(r["published"])}</td><td class="num">{_fmt(r["rebuilt"])}</td><td class="num">{_fmt(r["tolerance"])}</td>'
                   f'<td>{e(r["unit"])}</td><td>{e(r["status"])}</td><td>{e(r["note"])}</td><td>{e(r.get("citation", ""))}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def _copy_figure_files(edition: str, record: dict[str, Any]) -> list[str]:
    """Copy a figure's chart and data files into the site folder so it can be moved as one piece."""
    source_dir = paths.figures_dir(edition)
    target_dir = paths.reports_dir(edition) / "figures"
    target_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in record.get("outputs", []):
        src = source_dir / name
        if src.suffix in {".png", ".svg", ".csv", ".html", ".json"} and src.exists():
            tmp = target_dir / f".{name}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, target_dir / name)
            copied.append(name)
    return copied


def figure_section(edition: str, record: dict[str, Any], rows: list[dict[str, str]]) -> str:
    files = _copy_figure_files(edition, record)
    parts = [f'<section id="{e(record["figure"])}"><h2>{e(record["figure"].replace("fig", "Figure ").replace("app", "Appendix "))}: {e(record["title"])}</h2>']
    if record.get("subtitle"):
        parts.append(f"<p><strong>{e(record['subtitle'])}</strong></p>")
    if record.get("banner"):
        parts.append(f'<div class="banner" role="note">{e(record["banner"])}</div>')
    for name in files:
        if name.endswith(".png"):
            alt = record.get("alt_text", {}).get(name, record["title"])
            svg = name[:-4] + ".svg"
            parts.append(f'<figure><img src="figures/{e(name)}" alt="{e(alt)}" loading="lazy">'
                         f'<figcaption>{e(alt)} <a href="figures/{e(svg)}">SVG</a></figcaption></figure>')
    interactive = paths.reports_dir(edition) / f"{record['stem']}_interactive.html"
    if interactive.exists():
        parts.append(f'<p><a href="{e(interactive.name)}">Interactive map</a></p>')
    if record.get("notes"):
        parts.append("<p><strong>Notes</strong></p><ol>" + "".join(f"<li>{e(n)}</li>" for n in record["notes"]) + "</ol>")
    parts.append(f"<p><strong>Source:</strong> {e(record.get('source', ''))}</p>")
    links = [f'<a href="{e(record["stem"])}.html">notebook (code hidden)</a>']
    links += [f'<a href="figures/{e(n)}">data: {e(n)}</a>' for n in files if n.endswith(".csv")]
    links += [f'<a href="figures/{e(n)}">{e(n)}</a>' for n in files if n.endswith(".xlsx") or n.endswith(".ods")]
    parts.append("<p>" + " &middot; ".join(links) + "</p>")
    parts.append(reconciliation_table_html(rows, record["figure"]))
    parts.append("</section>")
    return "".join(parts)


def _key_facts_html(rows: list[dict[str, str]]) -> str:
    try:
        import pandas as pd
        import yaml

        from nao_analysis.report.key_facts import key_facts_html, key_facts_table
    except ImportError:
        return ""
    facts_file = paths.manual_dir() / "key_facts.yaml"
    if not facts_file.exists():
        return ""
    facts = yaml.safe_load(facts_file.read_text(encoding="utf-8"))
    try:
        table = key_facts_table(facts, pd.DataFrame(rows))
        return "<h2>Key facts</h2>" + key_facts_html(table)
    except Exception as exc:  # the index must still render; the problem is shown, not hidden
        return f'<h2>Key facts</h2><p class="banner">Key facts could not be assembled: {e(str(exc))}</p>'


def write_site(edition, results) -> Path:
    """Write index.html, reconciliation.html, provenance.html and assumptions.html for the edition."""
    out = paths.reports_dir(edition.name)
    out.mkdir(parents=True, exist_ok=True)
    rows = _read_reconciliation(edition.name)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    banner = ""
    if edition.header.substitute_data:
        banner = f"This edition ('{edition.name}') is built on substitute data: " + " ".join(d.description for d in edition.header.deviations)
    common = {"edition": edition.name, "edition_title": edition.header.title, "banner": banner,
              "footer_html": f"git commit {e(manifest.get('git_commit', 'unknown'))} &middot; <a href=\"manifest.json\">manifest.json</a> &middot; <a href=\"reconciliation.csv\">reconciliation.csv</a>"}

    status_rows = "".join(f'<tr><th scope="row"><a href="#{e(r.figure)}">{e(r.figure)}</a></th><td>{e(r.status)}</td><td>{e(r.message)}</td></tr>' for r in results)
    body = [f"<p>{e(edition.header.description)}</p>", _key_facts_html(rows),
            '<h2>Figures</h2><table><thead><tr><th scope="col">Figure</th><th scope="col">Status</th><th scope="col">Message</th></tr></thead>'
            f"<tbody>{status_rows}</tbody></table>"]
    for result in results:
        if result.record:
            body.append(figure_section(edition.name, result.record, rows))
        else:
            body.append(f'<section id="{e(result.figure)}"><h2>{e(result.figure)}</h2><p class="banner">Not built: {e(result.status)}. {e(result.message)}</p>'
                        + reconciliation_table_html(rows, result.figure) + "</section>")
    _write(out / "index.html", render_page(title="Reducing the harm from illegal drugs: figures rebuilt", body_html="".join(body), **common))

    by_figure: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_figure.setdefault(r["figure"], []).append(r)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} {e(s)}" for s, n in sorted(counts.items()))
    recon = [f"<p>Does this reproduce the NAO? {len(rows)} published numbers: {summary}. "
             "<em>pass</em>: within tolerance; <em>differs (explained)</em>: outside tolerance for a stated reason (e.g. different data basis or vintage); "
             "<em>fail</em>: outside tolerance with no explanation; <em>source unavailable</em>: the input could not be had in this build.</p>"]
    for figure, figure_rows in by_figure.items():
        recon.append(f"<h2>{e(figure)}</h2>" + reconciliation_table_html(figure_rows))
    flags_file = out / "flags.csv"
    if flags_file.exists():
        with open(flags_file, newline="", encoding="utf-8") as handle:
            flags = list(csv.DictReader(handle))
        if flags:
            recon.append("<h2>Automatic flags</h2><table><thead><tr>" + "".join(f'<th scope="col">{e(k)}</th>' for k in flags[0]) + "</tr></thead><tbody>"
                         + "".join("<tr>" + "".join(f"<td>{e(v or '')}</td>" for v in f.values()) + "</tr>" for f in flags) + "</tbody></table>")
    _write(out / "reconciliation.html", render_page(title="Reconciliation with the published report", body_html="".join(recon), **common))

    prov = ['<table><thead><tr><th scope="col">Source</th><th scope="col">Kind</th><th scope="col">Official URL / copied from</th>'
            '<th scope="col">Retrieved</th><th scope="col">sha256</th><th scope="col">Licence</th><th scope="col">Used by</th></tr></thead><tbody>']
    for source_id, info in sorted((manifest.get("inputs") or {}).items()):
        origin = info.get("official_url") or ""
        copied = info.get("copied_from") or ""
        prov.append(f'<tr><th scope="row">{e(info.get("title", source_id))}<br><code>{e(source_id)}</code></th><td>{e(info.get("kind", ""))}</td>'
                    f'<td>{e(origin)}{"<br>copied from " + e(copied) if copied else ""}</td><td>{e(info.get("retrieved_at", ""))} via {e(info.get("origin", ""))}</td>'
                    f'<td><code>{e(info.get("sha256", ""))}</code></td><td>{e(info.get("licence", ""))}</td><td>{e(", ".join(info.get("figures", [])))}</td></tr>')
    prov.append("</tbody></table>")
    prov.append("<h2>Edition parameters</h2><pre>" + e(json.dumps(manifest.get("parameters", {}), indent=2)) + "</pre>")
    prov.append("<h2>Build</h2><pre>" + e(json.dumps({k: manifest.get(k) for k in ("git_commit", "built_at", "package_versions", "overrides", "figures")}, indent=2)) + "</pre>")
    _write(out / "provenance.html", render_page(title="Provenance of every input", body_html="".join(prov), **common))

    aqa = ['<p>Assumptions and caveats declared by each figure notebook (one structured declaration per notebook; nothing is written twice).</p>'
           '<table><thead><tr><th scope="col">Figure</th><th scope="col">Type</th><th scope="col">Text</th></tr></thead><tbody>']
    for result in results:
        record = result.record or {}
        for kind in ("assumptions", "caveats"):
            for text in record.get(kind, []):
                aqa.append(f'<tr><th scope="row">{e(result.figure)}</th><td>{e(kind[:-1])}</td><td>{e(text)}</td></tr>')
        for text in record.get("deviations", []):
            aqa.append(f'<tr><th scope="row">{e(result.figure)}</th><td>substitute data</td><td>{e(text)}</td></tr>')
    aqa.append("</tbody></table>")
    _write(out / "assumptions.html", render_page(title="Assumptions and caveats (AQA log)", body_html="".join(aqa), **common))
    return out / "index.html"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
