"""Trend series for Figures 2 and 4: deaths by registration year and adults in drug treatment."""

from __future__ import annotations

import pandas as pd

from nao_analysis.errors import AnalysisError
from nao_analysis.years import financial_year_start


def percent_change(start: float, end: float) -> float:
    """Percentage change from ``start`` to ``end``."""
    if start == 0:
        raise AnalysisError("percent_change: the starting value is zero, so a percentage change is undefined")
    return (end - start) / start * 100.0


def deaths_series(
    deaths: pd.DataFrame, *, measure: str, country: str, start_year: int, end_year: int, sex: str = "Persons"
) -> pd.DataFrame:
    """Deaths per registration year for one measure and country, every year in the range present.

    Returns
    -------
    DataFrame
        ``year, deaths, measure, country, sex, unit``.
    """
    selected = deaths[(deaths["measure"] == measure) & (deaths["country"] == country) & (deaths["sex"] == sex)]
    selected = selected[(selected["year"] >= start_year) & (selected["year"] <= end_year)].sort_values("year")
    missing = sorted(set(range(start_year, end_year + 1)) - set(selected["year"]))
    if missing:
        raise AnalysisError(f"deaths_series: no {measure} deaths for {country} in {missing} - choose years the table covers")
    out = selected[["year", "deaths", "measure", "country", "sex"]].reset_index(drop=True)
    out["unit"] = "deaths registered"
    return out


def year_range(start: str, end: str) -> list[str]:
    """Financial years from ``start`` to ``end`` inclusive."""
    first, last = financial_year_start(start), financial_year_start(end)
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(first, last + 1)]


def drug_treatment_series(
    ndtms: pd.DataFrame, *, start_year: str, end_year: str, drug_groups: list[str], opiate_groups: list[str], area: str = "England"
) -> pd.DataFrame:
    """Adults in treatment for drug misuse by year, split opiate / non-opiate.

    Drug treatment is the sum of ``drug_groups`` (by default opiates, non-opiates only and
    non-opiates & alcohol); alcohol-only clients are excluded. Totals are taken from the
    all-sex, all-age rows.

    Returns
    -------
    DataFrame
        ``period, category (opiate|non-opiate), in_treatment, unit``.
    """
    groups = {g.lower() for g in drug_groups}
    opiates = {g.lower() for g in opiate_groups}
    periods = year_range(start_year, end_year)
    rows = ndtms[(ndtms["area"].str.lower() == area.lower()) & (ndtms["sex"] == "total") & (ndtms["age_group"] == "total")]
    rows = rows[rows["period"].isin(periods) & rows["drug_group"].isin(groups)]
    present = set(rows["drug_group"])
    if groups - present:
        raise AnalysisError(
            f"drug_treatment_series: drug groups {sorted(groups - present)} not in the export - groups found: {sorted(present)}"
        )
    missing_years = sorted(set(periods) - set(rows["period"]))
    if missing_years:
        raise AnalysisError(f"drug_treatment_series: no rows for {missing_years} - choose years the export covers")
    if rows["in_treatment"].isna().any():
        raise AnalysisError("drug_treatment_series: a national total is suppressed (NULL) - cannot form the series")
    rows = rows.assign(category=rows["drug_group"].map(lambda g: "opiate" if g in opiates else "non-opiate"))
    out = rows.groupby(["period", "category"], as_index=False)["in_treatment"].sum()
    out["unit"] = "adults in treatment"
    return out.sort_values(["period", "category"], ascending=[True, False]).reset_index(drop=True)


def treatment_summary(series: pd.DataFrame, start_year: str, end_year: str) -> dict[str, float]:
    """Totals at both ends, the % change and the opiate share at the end."""
    totals = series.groupby("period")["in_treatment"].sum()
    opiate_end = series[(series["period"] == end_year) & (series["category"] == "opiate")]["in_treatment"].sum()
    return {
        "total_start": float(totals[start_year]),
        "total_end": float(totals[end_year]),
        "change_pct": percent_change(totals[start_year], totals[end_year]),
        "opiate_share_end_pct": float(opiate_end / totals[end_year] * 100),
    }
