"""The Key facts block of the site, rendered from the finished key-facts record (``reports/<edition>/key_facts.json``,
written by :func:`nao_analysis.figures.key_facts.write_key_facts`). The page shows which facts the suite recomputes
and which it quotes in words, not only by colour.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from nao_analysis.figures.key_facts import BASIS_QUOTED, BASIS_RECOMPUTED, _number
from nao_analysis.report.formatting import format_change


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
