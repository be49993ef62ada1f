"""What Figures 7, 8 and 9 share: a transcribed allocation table, checked, totalled and drawn as the report lays it out.

Each of the three recipes reads its own table and words its own title and subtitle; the checks
(every row and column against the printed totals), the tidy form, the report-style table image and
the notes transcribed under the figure are the same for all three.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nao_analysis.analysis.funding import (
    AMOUNT_COLUMNS,
    column_total_checks,
    column_totals,
    department_totals,
    display_table,
    require_within_tolerance,
    row_total_checks,
    to_long,
    validate_allocation_table,
)
from nao_analysis.errors import NaoError
from nao_analysis.figures._shared import million, money
from nao_analysis.figures.recipe import Chart, FigureContext, fill

#: The report's notes under each allocation table, transcribed with their citation.
NOTES_FILE = "funding_notes.yaml"

YEARS = list(AMOUNT_COLUMNS)

TEXT = {
    "tolerance": "Each recomputed row and column total is checked against the printed one, within {tolerance}.",
    "alt": (
        "Table of {rows} allocations to {workstream_lower} by department and activity, with amounts for {years}. "
        "Totals: {year_totals}; {grand_total} over {year_count} years."
    ),
    "caption": "Figure {number}: {title}",
}


@dataclass
class Allocations:
    """One allocation table and everything recomputed from it."""

    table: pd.DataFrame
    long: pd.DataFrame
    row_checks: pd.DataFrame
    column_checks: pd.DataFrame
    shown: pd.DataFrame
    totals: pd.Series
    departments: pd.Series

    def values(self) -> dict[str, object]:
        """Numbers and names for text templates."""
        return {
            "first_year": YEARS[0],
            "last_year": YEARS[-1],
            "years": ", ".join(YEARS),
            "year_count": len(YEARS),
            "rows": len(self.table),
            "year_totals": ", ".join(money(self.shown.iloc[-1][f"{year} (£mn)"]) for year in YEARS),
            "grand_total": money(self.shown.iloc[-1]["Total (£mn)"]),
            "total_m": float(self.totals["Total"]),
            "total_text": million(self.totals["Total"]),
            "lead_department": self.departments.index[0],
            "lead_share": float(self.departments.iloc[0] / self.departments.sum()),
            "departments": list(self.departments.index),
        }


def read_table(ctx: FigureContext, name: str) -> pd.DataFrame:
    """An allocation table from ``data/manual/`` (blank cells, printed '-', stay missing), validated."""
    return ctx.read_manual(name, lambda frame: validate_allocation_table(frame, name=name), dtype=None, keep_default_na=True)


def transcribed_notes(ctx: FigureContext, table_name: str) -> list[str]:
    """The notes the report prints under the table, from :data:`NOTES_FILE`."""
    notes = ctx.read_manual(NOTES_FILE)
    entry = (notes or {}).get(table_name)
    if not entry or not entry.get("notes"):
        raise NaoError(f"data/manual/{NOTES_FILE}: no notes for {table_name} - add the figure's printed notes with their citation")
    return [str(n) for n in entry["notes"]]


def analyse(ctx: FigureContext, table: pd.DataFrame, *, name: str, workstream: str, tolerance: float) -> Allocations:
    """Check every row against its printed total (stopping on a transcription error) and every column."""
    rows = require_within_tolerance(row_total_checks(table, tolerance=tolerance), what=name)
    published = {check: spec.published for check, spec in ctx.published.checks.items()}
    columns = column_total_checks(table, published, tolerance=tolerance)
    long = to_long(table, workstream=workstream)
    return Allocations(
        table=table,
        long=long,
        row_checks=rows,
        column_checks=columns,
        shown=display_table(table),
        totals=column_totals(table),
        departments=department_totals(long),
    )


def table_chart(allocations: Allocations, *, title: str, subtitle: str, notes: list[str], source: str, workstream: str) -> Chart:
    """The table drawn as the report lays it out, with its alt text."""
    from nao_analysis.tables import table_image

    image = table_image(
        allocations.shown,
        title,
        subtitle,
        notes,
        source,
        column_widths=[2.3, 2.6, 4.2, 1, 1, 1, 1],
        merge_repeats=["Responsible Department/Body"],
    )
    alt = fill(TEXT["alt"], {**allocations.values(), "workstream_lower": workstream.lower()})
    return Chart.of_table(image, alt)


def table_html(allocations: Allocations, *, number: int, title: str, notes: list[str], source: str) -> str:
    from nao_analysis.tables import table_html as html

    return html(allocations.shown, caption=fill(TEXT["caption"], {"number": number, "title": title}), notes=notes, source=source)


def printed_table(allocations: Allocations) -> pd.DataFrame:
    """The table with amounts printed as the report prints them (``0.05`` stays ``0.05``, a blank is ``-``),
    for reading in the notebook; the data file keeps the numbers."""
    return printed_numbers(allocations.shown, allocations.shown.columns[3:])


def tolerance_note(tolerance: float) -> str:
    return fill(TEXT["tolerance"], {"tolerance": money(tolerance)})


def reconcile_columns(recon, allocations: Allocations) -> None:
    for check in allocations.column_checks.itertuples():
        recon.check(check.check, check.recomputed)


def check_table(allocations: Allocations) -> pd.DataFrame:
    """Rows and columns against the printed totals, for reading."""
    rows = allocations.row_checks.rename(
        columns={"activity": "Row or column", "recomputed": "Recomputed (£m)", "published": "Printed (£m)", "difference": "Difference (£m)"}
    )
    columns = allocations.column_checks.rename(
        columns={"column": "Row or column", "recomputed": "Recomputed (£m)", "published": "Printed (£m)", "difference": "Difference (£m)"}
    )
    keep = ["Row or column", "Recomputed (£m)", "Printed (£m)", "Difference (£m)", "within_tolerance"]
    both = pd.concat([rows[keep], columns[keep]], ignore_index=True)
    return printed_numbers(both.rename(columns={"within_tolerance": "Within tolerance"}), keep[1:4])


def printed_numbers(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Amounts as the report prints them (no rounding of 0.05 or 902.85), for reading."""
    from nao_analysis.tables import format_cell

    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(format_cell)
    return frame
