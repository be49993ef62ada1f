"""Change in real-terms spending per authority between two years (Figure 3), and its summary statistics.

The line definitions come from ``data/manual/ro_line_mapping.csv`` (one row per year range and line): before
2016-17 the adult drug and adult alcohol misuse lines; from 2016-17 the adult *treatment* lines only.
All functions are pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nao_analysis.analysis.geography import (
    UPPER_TIER_CLASSES,
    CrosswalkPolicy,
    attach_ons_codes,
    comparison_units,
    successor_codes,
)
from nao_analysis.analysis.real_terms import price_factor, rebase_deflator
from nao_analysis.errors import AnalysisError, CrosswalkError
from nao_analysis.years import financial_year_start

MAPPING_COLUMNS = ["first_year", "last_year", "component", "counts_as_adult_treatment", "line_label_pattern", "source_citation"]


def lines_for_year(mapping: pd.DataFrame, year: str) -> pd.DataFrame:
    """The rows of the line mapping that apply to financial year ``year``.

    Parameters
    ----------
    mapping : pandas.DataFrame
        ``data/manual/ro_line_mapping.csv`` as read by pandas.
    year : str
        Financial year, e.g. ``"2014-15"``.

    Returns
    -------
    pandas.DataFrame
        Rows whose ``first_year <= year <= last_year`` (an empty ``last_year`` is open-ended).

    Raises
    ------
    AnalysisError
        If a column is missing or no line applies, or no applicable line counts as adult treatment.
    """
    missing = [c for c in MAPPING_COLUMNS if c not in mapping.columns]
    if missing:
        raise AnalysisError(f"data/manual/ro_line_mapping.csv: missing column(s) {', '.join(missing)}")
    start = financial_year_start(year)
    first = mapping["first_year"].map(financial_year_start)
    last = mapping["last_year"].map(lambda y: financial_year_start(y) if isinstance(y, str) and y.strip() else math.inf)
    rows = mapping[(first <= start) & (start <= last)].reset_index(drop=True)
    counts = rows["counts_as_adult_treatment"].astype(str).str.lower().isin({"true", "1", "yes"})
    if rows.empty or not counts.any():
        raise AnalysisError(f"data/manual/ro_line_mapping.csv: no adult treatment line applies to {year} - add a row for that year range")
    rows["counts_as_adult_treatment"] = counts.to_numpy()
    return rows


def line_patterns(rows: pd.DataFrame) -> dict[str, str]:
    """``component -> line label pattern`` for the reader, from :func:`lines_for_year`."""
    return dict(zip(rows["component"], rows["line_label_pattern"]))


def upper_tier(spend: pd.DataFrame) -> pd.DataFrame:
    """Keep upper-tier authorities (county, unitary, metropolitan district, London borough, City, Isles of Scilly)."""
    return spend[spend["class"].isin(UPPER_TIER_CLASSES)].reset_index(drop=True)


def adult_treatment_spend(spend: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Sum the lines that count as adult substance misuse treatment, per authority.

    Parameters
    ----------
    spend : pandas.DataFrame
        Tidy revenue account rows (``line_id`` = mapping ``component``), with ``ons_code`` attached.
    rows : pandas.DataFrame
        From :func:`lines_for_year`.

    Returns
    -------
    pandas.DataFrame
        ``ons_code``, ``e_code``, ``authority``, ``class``, ``spend_gbp_thousands``, ``components``.
        NaN when any counted line is missing for that authority (no data is never zero).
    """
    counted = list(rows.loc[rows["counts_as_adult_treatment"], "component"])
    missing = sorted(set(counted) - set(spend["line_id"]))
    if missing:
        raise AnalysisError(f"adult treatment spend: lines {', '.join(missing)} were not read - read every line the mapping lists")
    part = spend[spend["line_id"].isin(counted)]
    keys = ["ons_code", "e_code", "authority", "class"]
    totals = part.groupby(keys, dropna=False)["value_gbp_thousands"].sum(min_count=len(counted))
    # sum(min_count) only checks the count of non-missing values; any NaN line makes the total no data.
    any_missing = part["value_gbp_thousands"].isna().groupby([part[k] for k in keys], dropna=False).any()
    totals[any_missing] = np.nan
    out = totals.rename("spend_gbp_thousands").reset_index()
    out["components"] = " + ".join(counted)
    return out


def _unit_sum(codes: str, spend: pd.Series) -> float:
    values = [spend.get(c, np.nan) for c in codes.split("; ") if c]
    if not values or any(pd.isna(v) for v in values):
        return float("nan")
    return float(sum(values))


def spending_change_table(
    units: pd.DataFrame,
    base_spend: pd.Series,
    target_spend: pd.Series,
    *,
    base_factor: float,
    target_factor: float,
    implausible_change_pct: float = 300.0,
) -> pd.DataFrame:
    """Per-area change in real-terms spending, ranked.

    Parameters
    ----------
    units : pandas.DataFrame
        From :func:`nao_analysis.analysis.geography.comparison_units`.
    base_spend, target_spend : pandas.Series
        Cash spend (£ thousand) indexed by ONS code, for the base year's and target year's areas.
    base_factor, target_factor : float
        Cash-to-price-year factors (:func:`nao_analysis.analysis.real_terms.price_factor`).
    implausible_change_pct : float
        Increases above this percentage are flagged as implausible (spending moved between lines or bodies).

    Returns
    -------
    pandas.DataFrame
        One row per target area: the unit columns, ``base_cash_gbp_k``, ``target_cash_gbp_k``, ``base_real_gbp_k``,
        ``target_real_gbp_k``, ``change_real_gbp_k``, ``change_real_pct``, ``crosswalk_applied``, ``no_data``,
        ``no_data_reason``, ``no_base_spending``, ``implausible`` (an increase above the limit, or a fall to zero), ``flag``,
        ``rank`` (1 = largest fall, among counted areas with a percentage change).

    Raises
    ------
    CrosswalkError
        If a spend code is not known to the units (it would otherwise be dropped silently).
    """
    known_base = {c for codes in units["base_codes"] for c in codes.split("; ") if c} | set(units.attrs.get("not_compared", []))
    unknown = sorted(set(base_spend.index) - known_base)
    if unknown:
        raise CrosswalkError(
            f"spending change: base-year codes not in the crosswalk: {', '.join(unknown)} - check the base file's year and classes"
        )
    unknown = sorted(set(target_spend.index) - set(units["target_code"]))
    if unknown:
        raise CrosswalkError(
            f"spending change: target-year codes not in the target boundaries: {', '.join(unknown)} - check boundary_vintage"
        )

    table = units.copy()
    unit_targets = units.groupby("unit_id")["target_code"].apply(lambda s: "; ".join(sorted(s)))
    table["base_cash_gbp_k"] = [_unit_sum(codes, base_spend) for codes in table["base_codes"]]
    table["target_cash_gbp_k"] = [_unit_sum(unit_targets[u], target_spend) for u in table["unit_id"]]
    table["base_real_gbp_k"] = table["base_cash_gbp_k"] * base_factor
    table["target_real_gbp_k"] = table["target_cash_gbp_k"] * target_factor
    table["change_real_gbp_k"] = table["target_real_gbp_k"] - table["base_real_gbp_k"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["change_real_pct"] = np.where(
            table["base_real_gbp_k"] > 0, table["change_real_gbp_k"] / table["base_real_gbp_k"] * 100, np.nan
        )
    table["crosswalk_applied"] = table["crosswalk"].astype(str) != ""
    base_missing = table["base_cash_gbp_k"].isna()
    target_missing = table["target_cash_gbp_k"].isna()
    table["no_data"] = base_missing | target_missing
    # A zero base has no percentage change: shown like no data on the map, but counted apart.
    table["no_base_spending"] = ~table["no_data"] & (table["base_cash_gbp_k"] <= 0)
    table["no_data_reason"] = np.select(
        [base_missing & target_missing, base_missing, target_missing, table["no_base_spending"]],
        ["no data in either year", "no data in the base year", "no data in the target year", "no spending in the base year"],
        default="",
    )
    fell_to_zero = ~table["no_data"] & (table["base_cash_gbp_k"] > 0) & (table["target_cash_gbp_k"] <= 0)
    table["implausible"] = (table["change_real_pct"] > implausible_change_pct) | fell_to_zero
    table["flag"] = [
        f"increase of {pct:,.0f}% exceeds the +{implausible_change_pct:,.0f}% plausibility limit: "
        "spending probably moved between lines or bodies"
        if pct > implausible_change_pct
        else "spending fell to zero: check whether it moved to another line or body"
        if zero
        else ""
        for pct, zero in zip(table["change_real_pct"].fillna(0), fell_to_zero)
    ]
    ranked = table["counted"] & table["change_real_pct"].notna()
    table["rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table.loc[ranked, "rank"] = table.loc[ranked, "change_real_pct"].rank(method="min").astype("Int64")
    return table.sort_values(["rank", "target_name"], na_position="last").reset_index(drop=True)


def england_change(table: pd.DataFrame) -> dict[str, float]:
    """England total change, like for like: the sum over comparison units with data in both years.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`spending_change_table` (use the ``aggregate`` policy so no predecessor is left out).

    Returns
    -------
    dict
        ``base_real_gbp_m``, ``target_real_gbp_m``, ``change_gbp_m``, ``change_pct``, ``base_cash_gbp_m``,
        ``target_cash_gbp_m``, ``units_excluded`` (names of units without data in both years).
    """
    units = table.drop_duplicates("unit_id")
    usable = units[units["base_cash_gbp_k"].notna() & units["target_cash_gbp_k"].notna()]
    if usable.empty:
        raise AnalysisError("England change: no area has data in both years")
    base, target = usable["base_real_gbp_k"].sum() / 1000, usable["target_real_gbp_k"].sum() / 1000
    return {
        "base_cash_gbp_m": usable["base_cash_gbp_k"].sum() / 1000,
        "target_cash_gbp_m": usable["target_cash_gbp_k"].sum() / 1000,
        "base_real_gbp_m": base,
        "target_real_gbp_m": target,
        "change_gbp_m": target - base,
        "change_pct": (target - base) / base * 100,
        "units_excluded": sorted(units.loc[~units.index.isin(usable.index), "unit_name"]),
    }


def summary_statistics(table: pd.DataFrame) -> dict[str, object]:
    """The counts and extremes the report quotes, over counted areas (City and Scilly sit within their partners).

    Returns
    -------
    dict
        ``authorities``, ``authorities_with_data``, ``authorities_reduced``, ``authorities_cut_50pct_or_more``,
        ``authorities_increased``, ``authorities_unchanged``, ``authorities_no_data``, ``no_data_names``,
        ``no_base_spending_names`` (zero in the base year: no percentage change), ``min_change_pct``/``min_change_name``,
        ``max_change_pct``/``max_change_name``, ``max_plausible_change_pct``/``max_plausible_change_name`` (ignoring
        flagged changes), ``smallest_increase_pct``, ``implausible_names``.
    """
    counted = table[table["counted"]]
    with_data = counted[counted["change_real_pct"].notna()]
    change = with_data["change_real_pct"]
    increases = with_data[change > 0]
    plausible = with_data[~with_data["implausible"]]
    lowest = with_data.loc[change.idxmin()] if len(with_data) else None
    highest = with_data.loc[change.idxmax()] if len(with_data) else None
    highest_plausible = plausible.loc[plausible["change_real_pct"].idxmax()] if len(plausible) else None
    lowest_plausible = plausible.loc[plausible["change_real_pct"].idxmin()] if len(plausible) else None
    return {
        "authorities": int(len(counted)),
        "authorities_with_data": int(len(with_data)),
        "authorities_reduced": int((change < 0).sum()),
        "authorities_cut_50pct_or_more": int((change <= -50).sum()),
        "authorities_increased": int((change > 0).sum()),
        "authorities_unchanged": int((change == 0).sum()),
        "authorities_no_data": int(counted["no_data"].sum()),
        "no_data_names": sorted(counted.loc[counted["no_data"], "target_name"]),
        "no_base_spending_names": sorted(counted.loc[counted["no_base_spending"], "target_name"]),
        "min_change_pct": float(lowest["change_real_pct"]) if lowest is not None else float("nan"),
        "min_change_name": str(lowest["target_name"]) if lowest is not None else "",
        "max_change_pct": float(highest["change_real_pct"]) if highest is not None else float("nan"),
        "max_change_name": str(highest["target_name"]) if highest is not None else "",
        "max_plausible_change_pct": float(highest_plausible["change_real_pct"]) if highest_plausible is not None else float("nan"),
        "max_plausible_change_name": str(highest_plausible["target_name"]) if highest_plausible is not None else "",
        "min_plausible_change_pct": float(lowest_plausible["change_real_pct"]) if lowest_plausible is not None else float("nan"),
        "min_plausible_change_name": str(lowest_plausible["target_name"]) if lowest_plausible is not None else "",
        "smallest_increase_pct": float(increases["change_real_pct"].min()) if len(increases) else float("nan"),
        "implausible_names": sorted(counted.loc[counted["implausible"], "target_name"]),
    }


_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0-99 in words as the report writes them at the start of a sentence or for small counts ("forty-two")."""
    if n < 20:
        return _WORDS[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _WORDS[n % 10])
    return f"{n:,}"


@dataclass
class SpendingComparison:
    """Everything Figure 3 shows, from one pair of years."""

    table: pd.DataFrame
    england: dict[str, float]
    stats: dict[str, object]
    base_spend: pd.DataFrame
    target_spend: pd.DataFrame
    deflator: pd.DataFrame
    base_factor: float
    target_factor: float
    not_compared: list[str] = field(default_factory=list)


def _spend_by_code(spend: pd.DataFrame) -> pd.Series:
    duplicated = spend[spend["ons_code"].duplicated(keep=False)]
    if len(duplicated):
        raise CrosswalkError(f"spend: ONS codes given to more than one authority: {', '.join(sorted(set(duplicated['ons_code'])))}")
    return spend.set_index("ons_code")["spend_gbp_thousands"]


def compare_years(
    *,
    base_raw: pd.DataFrame,
    target_raw: pd.DataFrame,
    base_year: str,
    target_year: str,
    mapping: pd.DataFrame,
    crosswalk: pd.DataFrame,
    base_areas: pd.DataFrame,
    target_areas: pd.DataFrame,
    changes: pd.DataFrame,
    districts: pd.DataFrame,
    boundary_year: int,
    deflators: pd.DataFrame,
    price_year: str,
    policy: CrosswalkPolicy = "aggregate",
    implausible_change_pct: float = 300.0,
) -> SpendingComparison:
    """Run the whole Figure 3 comparison from tidy inputs (no I/O).

    Parameters
    ----------
    base_raw, target_raw : pandas.DataFrame
        :func:`nao_analysis.readers.revenue_account.read_revenue_account` output for each year, read with the
        lines of :func:`lines_for_year`.
    base_year, target_year, price_year : str
        Financial years.
    mapping : pandas.DataFrame
        ``data/manual/ro_line_mapping.csv``.
    crosswalk : pandas.DataFrame
        :func:`nao_analysis.analysis.geography.build_e_code_crosswalk`.
    base_areas : pandas.DataFrame
        ``code``, ``name`` of the ONS upper-tier areas of the base year (names for authorities the crosswalk misses).
    target_areas : pandas.DataFrame
        ``code``, ``name`` of the target boundary vintage (the map's areas).
    changes, districts : pandas.DataFrame
        Code-change table and base-year district lookup (:mod:`nao_analysis.readers.boundaries`).
    boundary_year : int
        Calendar year of the target boundaries.
    deflators : pandas.DataFrame
        ``financial_year``, ``deflator``.
    policy : {"aggregate", "nao"}
        Crosswalk policy for reorganised areas.
    implausible_change_pct : float
        Threshold for the implausible-increase flag.

    Returns
    -------
    SpendingComparison
    """
    base_rows, target_rows = lines_for_year(mapping, base_year), lines_for_year(mapping, target_year)
    base = adult_treatment_spend(attach_ons_codes(upper_tier(base_raw), crosswalk, base_areas), base_rows)
    target = adult_treatment_spend(attach_ons_codes(upper_tier(target_raw), crosswalk, target_areas), target_rows)
    base_series, target_series = _spend_by_code(base), _spend_by_code(target)
    ons_names = dict(zip(base_areas["code"], base_areas["name"]))
    base_names = {c: ons_names.get(c, a) for c, a in zip(base["ons_code"], base["authority"])}
    target_names = dict(zip(target_areas["code"], target_areas["name"]))
    successors = successor_codes(base_names, changes, districts, boundary_year)
    rebased = rebase_deflator(deflators, price_year)
    factors = {"base_factor": price_factor(rebased, base_year), "target_factor": price_factor(rebased, target_year)}

    units = comparison_units(base_names, target_names, successors, policy)
    table = spending_change_table(units, base_series, target_series, implausible_change_pct=implausible_change_pct, **factors)
    aggregate = (
        table
        if policy == "aggregate"
        else spending_change_table(
            comparison_units(base_names, target_names, successors, "aggregate"),
            base_series,
            target_series,
            implausible_change_pct=implausible_change_pct,
            **factors,
        )
    )
    england = england_change(aggregate)
    stats = summary_statistics(table)
    return SpendingComparison(
        table=table,
        england=england,
        stats=stats,
        base_spend=base,
        target_spend=target,
        deflator=rebased,
        not_compared=list(units.attrs.get("not_compared_names", [])),
        **factors,
    )
