"""Strategy funding allocations (report Figures 7, 8 and 9): totals, tidy form, shares by department.

The tables are transcribed in ``data/manual/funding_fig0{7,8,9}_*.csv``, one row per allocation with the
three yearly amounts (GBP million) and the row total the report prints. Everything here is pure: the
notebook reads the CSV and passes the frame in.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import AnalysisError

#: Financial year -> column of the transcribed table holding its amount (GBP million).
AMOUNT_COLUMNS: dict[str, str] = {
    "2022-23": "amount_2022_23",
    "2023-24": "amount_2023_24",
    "2024-25": "amount_2024_25",
}

#: Check id of each recomputed column total, as used in ``data/manual/published/fig0{7,8,9}.yaml``.
COLUMN_CHECK_IDS: dict[str, str] = {
    "2022-23": "total_2022_23",
    "2023-24": "total_2023_24",
    "2024-25": "total_2024_25",
    "Total": "total_allocation",
}

#: Tolerance (GBP million) when comparing a recomputed sum with a printed total. The report prints totals
#: to the nearest GBP 1m and warns that "numbers may not sum due to rounding" (Figure 9, note 1).
DEFAULT_SUM_TOLERANCE_M = 0.5

_amount = pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True)
ALLOCATION_SCHEMA = pa.DataFrameSchema(
    {
        "row": pa.Column(int, pa.Check.ge(1), unique=True, coerce=True),
        "department_body": pa.Column(str, pa.Check.str_length(min_value=1)),
        "activity": pa.Column(str, pa.Check.str_length(min_value=1)),
        "description": pa.Column(str),
        **{column: _amount for column in AMOUNT_COLUMNS.values()},
        "published_total": pa.Column(float, pa.Check.ge(0), coerce=True),
        "inferred": pa.Column(str),
        "citation": pa.Column(str, pa.Check.str_length(min_value=10)),
    },
    strict=True,
)

LONG_SCHEMA = pa.DataFrameSchema(
    {
        "workstream": pa.Column(str),
        "department": pa.Column(str),
        "department_body": pa.Column(str),
        "activity": pa.Column(str),
        "year": pa.Column(str, pa.Check.isin(list(AMOUNT_COLUMNS))),
        "amount": pa.Column(float, pa.Check.ge(0)),
        "units": pa.Column(str, pa.Check.eq("GBP million")),
        "inferred": pa.Column(bool),
    },
    strict=True,
)


def validate_allocation_table(table: pd.DataFrame, *, name: str = "allocation table") -> pd.DataFrame:
    """Check a transcribed allocation table and return it with numeric amounts.

    Parameters
    ----------
    table
        The CSV as read by ``pandas.read_csv`` (columns ``row, department_body, activity, description,
        amount_2022_23, amount_2023_24, amount_2024_25, published_total, inferred, citation``).
    name
        How to name the table in an error (its file name).

    Returns
    -------
    pandas.DataFrame
        The table sorted by ``row``; blank amounts (printed ``-`` in the report) stay missing.

    Raises
    ------
    AnalysisError
        If a column is missing or a value is not a non-negative number.
    """
    table = table.copy()
    for text_column in ("description", "inferred"):
        # An all-blank column arrives as float NaN from read_csv; blank text means "none".
        if text_column in table:
            table[text_column] = table[text_column].astype("str").fillna("")
    try:
        checked = ALLOCATION_SCHEMA.validate(table, lazy=False)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        first = str(exc).splitlines()[0]
        raise AnalysisError(f"{name}: {first} - fix the transcription so every row has the documented columns") from None
    return checked.sort_values("row").reset_index(drop=True)


def row_total_checks(table: pd.DataFrame, *, tolerance: float = DEFAULT_SUM_TOLERANCE_M) -> pd.DataFrame:
    """Recompute each row's total and compare it with the total the report prints.

    Parameters
    ----------
    table
        A validated allocation table.
    tolerance
        Largest accepted absolute difference (GBP million).

    Returns
    -------
    pandas.DataFrame
        One row per allocation: ``activity, recomputed, published, difference, within_tolerance``.
    """
    recomputed = table[list(AMOUNT_COLUMNS.values())].sum(axis=1, min_count=0)
    checks = pd.DataFrame(
        {
            "activity": table["activity"],
            "recomputed": recomputed.round(6),
            "published": table["published_total"],
        }
    )
    checks["difference"] = (checks["recomputed"] - checks["published"]).round(6)
    checks["within_tolerance"] = checks["difference"].abs() <= tolerance
    return checks


def column_totals(table: pd.DataFrame) -> pd.Series:
    """Sum each year's column, and all three years, over the allocations.

    Returns
    -------
    pandas.Series
        Indexed ``2022-23, 2023-24, 2024-25, Total`` (GBP million, unrounded).
    """
    totals = {year: float(table[column].sum()) for year, column in AMOUNT_COLUMNS.items()}
    totals["Total"] = sum(totals.values())
    return pd.Series(totals, name="recomputed").round(6)


def column_total_checks(table: pd.DataFrame, published: Mapping[str, float], *, tolerance: float = DEFAULT_SUM_TOLERANCE_M) -> pd.DataFrame:
    """Compare recomputed column totals with the printed Total row.

    Parameters
    ----------
    table
        A validated allocation table.
    published
        Printed totals keyed by check id (``total_2022_23`` ... ``total_allocation``).
    tolerance
        Largest accepted absolute difference (GBP million).

    Returns
    -------
    pandas.DataFrame
        ``check, column, recomputed, published, difference, within_tolerance``.

    Raises
    ------
    AnalysisError
        If a printed total is missing from ``published``.
    """
    missing = [check for check in COLUMN_CHECK_IDS.values() if check not in published]
    if missing:
        raise AnalysisError(f"published totals lack {missing} - add them to the figure's published YAML")
    totals = column_totals(table)
    rows = []
    for column, check in COLUMN_CHECK_IDS.items():
        difference = round(totals[column] - float(published[check]), 6)
        rows.append(
            {
                "check": check,
                "column": column,
                "recomputed": totals[column],
                "published": float(published[check]),
                "difference": difference,
                "within_tolerance": abs(difference) <= tolerance,
            }
        )
    return pd.DataFrame(rows)


def infer_missing_cell(table: pd.DataFrame, *, activity: str, year: str, published_column_total: float) -> float:
    """Recover one lost cell as the printed column total minus every other row of that column.

    Parameters
    ----------
    table
        A validated allocation table.
    activity
        The row whose cell is recovered.
    year
        Its column (``2022-23`` ...).
    published_column_total
        The printed total of that column.

    Returns
    -------
    float
        The recovered amount (GBP million).

    Raises
    ------
    AnalysisError
        If the activity is not in the table, or the recovered value would be negative.
    """
    column = AMOUNT_COLUMNS[year]
    is_row = table["activity"] == activity
    if not is_row.any():
        raise AnalysisError(f"no allocation with activity {activity!r} - check the spelling against the table")
    value = round(published_column_total - float(table.loc[~is_row, column].sum()), 6)
    if value < 0:
        raise AnalysisError(
            f"recovering {activity!r} {year} from the column total gives {value} (negative) - the other rows do not fit the printed total"
        )
    return value


def lead_department(department_body: str) -> str:
    """The accountable department of a "Department/Body" cell (the text before the first ``/``).

    ``"Home Office/ National Crime Agency"`` -> ``"Home Office"``.
    """
    return department_body.split("/")[0].strip()


def to_long(table: pd.DataFrame, *, workstream: str) -> pd.DataFrame:
    """Tidy form: one row per allocation and year, amounts in GBP million.

    Parameters
    ----------
    table
        A validated allocation table.
    workstream
        The strategy workstream the table belongs to (e.g. ``"Disrupting supply"``).

    Returns
    -------
    pandas.DataFrame
        ``workstream, department, department_body, activity, year, amount, units, inferred``; missing
        (printed ``-``) amounts count as zero.
    """
    long = table.melt(
        id_vars=["department_body", "activity", "inferred"],
        value_vars=list(AMOUNT_COLUMNS.values()),
        var_name="column",
        value_name="amount",
    )
    year_of = {column: year for year, column in AMOUNT_COLUMNS.items()}
    long["year"] = long["column"].map(year_of)
    long["amount"] = long["amount"].fillna(0.0).astype(float)
    long["inferred"] = long["inferred"].str.len().gt(0)
    long["department"] = long["department_body"].map(lead_department)
    long["workstream"] = workstream
    long["units"] = "GBP million"
    long = long[["workstream", "department", "department_body", "activity", "year", "amount", "units", "inferred"]]
    return LONG_SCHEMA.validate(long.reset_index(drop=True))


def shares_by_department(long: pd.DataFrame) -> pd.DataFrame:
    """Each department's allocation and share of its workstream over the three years.

    Parameters
    ----------
    long
        One or more tables in the form returned by :func:`to_long`, concatenated.

    Returns
    -------
    pandas.DataFrame
        ``workstream, department, amount, share`` (share of the workstream total, 0-1), largest first.
    """
    by_department = long.groupby(["workstream", "department"], as_index=False)["amount"].sum()
    workstream_total = by_department.groupby("workstream")["amount"].transform("sum")
    if (workstream_total <= 0).any():
        raise AnalysisError("a workstream has no funding at all - check the allocation tables")
    by_department["share"] = by_department["amount"] / workstream_total
    return by_department.sort_values(["workstream", "amount"], ascending=[True, False]).reset_index(drop=True)


def department_totals(long: pd.DataFrame) -> pd.Series:
    """Each lead department's allocation over every year of a tidy table, largest first.

    Parameters
    ----------
    long
        One table in the form returned by :func:`to_long`.

    Returns
    -------
    pandas.Series
        GBP million indexed by department (unrounded; ties keep the table's order).
    """
    totals = long.groupby("department", sort=False)["amount"].sum().round(6)
    return totals.sort_values(ascending=False, kind="stable").rename("amount")


def round_like_report(value: float, places: int = 0) -> float:
    """Round half up (as printed tables do), not to even as Python's ``round`` does."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as the report lays it out, with recomputed row totals and a Total row.

    The Total row holds the recomputed column totals rounded half up to the nearest GBP 1m, as the
    report prints them; the reconciliation compares them with the printed values.

    Returns
    -------
    pandas.DataFrame
        Columns ``Responsible Department/Body, Activity, Description, 2022-23 (£mn), 2023-24 (£mn),
        2024-25 (£mn), Total (£mn)``.
    """
    shown = pd.DataFrame(
        {
            "Responsible Department/Body": table["department_body"],
            "Activity": table["activity"] + table["inferred"].map(lambda text: " *" if text else ""),
            "Description": table["description"],
        }
    )
    for year, column in AMOUNT_COLUMNS.items():
        shown[f"{year} (£mn)"] = table[column].astype(object).where(table[column].notna(), None)
    shown["Total (£mn)"] = table[list(AMOUNT_COLUMNS.values())].sum(axis=1).round(6).astype(object)
    totals = column_totals(table)
    total_row = {"Responsible Department/Body": "Total", "Activity": "", "Description": ""}
    for year in AMOUNT_COLUMNS:
        total_row[f"{year} (£mn)"] = round_like_report(totals[year])
    total_row["Total (£mn)"] = round_like_report(totals["Total"])
    return pd.concat([shown, pd.DataFrame([total_row])], ignore_index=True)


def strategy_total_reconciliation(
    treatment_table: pd.DataFrame,
    demand_table: pd.DataFrame,
    supply_table: pd.DataFrame,
    *,
    home_office_additional_supply_m: float,
    supply_strategy_department: str = "Ministry of Justice",
) -> pd.DataFrame:
    """Rebuild the GBP 903m of strategy funding (768 + 105 + 30) from the three tables.

    Figure 7 shows GBP 298m of *total* allocations to disrupting supply, most of it existing Home Office
    budgets. Only part is new strategy money: the Home Office's GBP 84m of additional funding (included in
    its GBP 277m total, with no breakdown by activity - paragraph 2.8) and the Ministry of Justice's
    GBP 21m (its Figure 7 row). Treatment and recovery (Figure 8) and demand reduction (Figure 9) are
    strategy funding in full.

    Parameters
    ----------
    treatment_table, demand_table, supply_table
        Validated allocation tables of Figures 8, 9 and 7.
    home_office_additional_supply_m
        The Home Office's strategy (additional) funding within its supply allocation, quoted in
        paragraph 2.8 (GBP 84m); the tables give no breakdown of it.
    supply_strategy_department
        The department whose Figure 7 rows are strategy funding in full.

    Returns
    -------
    pandas.DataFrame
        ``component, amount, how`` for treatment, supply (Home Office additional + MoJ), demand and the total.
    """
    supply_departments = supply_table["department_body"].map(lead_department)
    moj = float(supply_table.loc[supply_departments == supply_strategy_department, list(AMOUNT_COLUMNS.values())].sum().sum())
    if moj == 0:
        raise AnalysisError(f"Figure 7 has no {supply_strategy_department} allocation - check the supply table")
    treatment = float(column_totals(treatment_table)["Total"])
    demand = float(column_totals(demand_table)["Total"])
    supply = home_office_additional_supply_m + moj
    rows = [
        ("treatment_and_recovery", treatment, "sum of Figure 8"),
        ("supply_home_office_additional", home_office_additional_supply_m, "quoted: paragraph 2.8 (no breakdown by activity)"),
        (f"supply_{supply_strategy_department.lower().replace(' ', '_')}", moj, "sum of its Figure 7 rows"),
        ("disrupting_supply_strategy", supply, "Home Office additional + Ministry of Justice"),
        ("demand_reduction", demand, "sum of Figure 9"),
        ("strategy_total", treatment + supply + demand, "treatment + supply strategy + demand"),
    ]
    return pd.DataFrame(rows, columns=["component", "amount", "how"]).assign(amount=lambda d: d["amount"].round(6))


def require_within_tolerance(checks: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Stop when a recomputed total is outside tolerance: the transcription is then wrong somewhere.

    Parameters
    ----------
    checks
        Output of :func:`row_total_checks` or :func:`column_total_checks`.
    what
        The table, for the message (e.g. its file name).

    Returns
    -------
    pandas.DataFrame
        ``checks`` unchanged, when every row is within tolerance.

    Raises
    ------
    AnalysisError
        Naming the first row whose recomputed total differs from the printed one.
    """
    failing = checks[~checks["within_tolerance"]]
    if not failing.empty:
        first = failing.iloc[0]
        label = first.get("activity", first.get("column", ""))
        raise AnalysisError(
            f"{what}: {label!r} sums to {first['recomputed']} but the report prints {first['published']} - "
            "check the transcription of that row or column against the report"
        )
    return checks
