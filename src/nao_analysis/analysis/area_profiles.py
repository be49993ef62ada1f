"""Area profiles: one area's treatment spending over every revenue-account year, its share of public health
spending, and drug-poisoning deaths, for the counted upper-tier areas of one boundary vintage. All functions are pure.

Spending comes from :func:`nao_analysis.analysis.spending_change.compare_years`, run once per *pair* of years of
the same basis (each earlier year against the newest year of that basis), so reorganised areas are compared
exactly as Figure 3 compares them: a value of a year before a reorganisation is the sum over the comparison
unit's predecessors, and every point says which areas it covers (``covers``). Budget (RA) and outturn (RO3)
are never compared with each other, never put in one ratio and never joined by a line.

Missing, blank, ``[x]`` and suppressed values are gaps (NaN, status ``"no data"``), never zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nao_analysis.analysis.geography import SMALL_AUTHORITY_PARTNERS, attach_ons_codes
from nao_analysis.analysis.spending_change import upper_tier
from nao_analysis.errors import AnalysisError
from nao_analysis.years import financial_year_start

BASES = ("outturn", "budget")
NO_DATA = "no data"

SPENDING_COLUMNS = [
    "code",
    "name",
    "year",
    "basis",
    "series",
    "covers",
    "covered_codes",
    "cash_gbp_k",
    "real_gbp_k",
    "price_year",
    "status",
    "source",
]
CHANGE_COLUMNS = [
    "code",
    "name",
    "base_year",
    "target_year",
    "basis",
    "covers",
    "base_covers",
    "change_real_pct",
    "england_change_real_pct",
    "rank",
    "ranked_areas",
    "implausible",
    "flag",
    "crosswalk",
    "no_data_reason",
]
SHARE_COLUMNS = [
    "code",
    "name",
    "year",
    "basis",
    "covers",
    "treatment_gbp_k",
    "public_health_gbp_k",
    "share_pct",
    "status",
    "treatment_source",
    "public_health_source",
]
DEATHS_COLUMNS = [
    "code",
    "name",
    "first_year",
    "last_year",
    "period",
    "deaths_rolling",
    "deaths_in_year",
    "status",
    "covers",
    "summed_from_districts",
    "source",
]


@dataclass(frozen=True)
class RevenueYear:
    """One revenue-account file the edition has: its financial year, basis and source id."""

    year: str
    basis: str
    source: str


def year_pairs(years: Sequence[RevenueYear]) -> list[tuple[RevenueYear, RevenueYear]]:
    """Each earlier year against the newest year of the same basis (outturn first).

    Raises
    ------
    AnalysisError
        If a basis is unknown or two files claim the same year and basis.
    """
    seen: set[tuple[str, str]] = set()
    for item in years:
        if item.basis not in BASES:
            raise AnalysisError(f"area profiles: basis {item.basis!r} of {item.source} is not one of {', '.join(BASES)}")
        if (item.year, item.basis) in seen:
            raise AnalysisError(f"area profiles: two revenue-account files for {item.year} {item.basis} - keep one")
        seen.add((item.year, item.basis))
    pairs = []
    for basis in BASES:
        of_basis = sorted((y for y in years if y.basis == basis), key=lambda y: financial_year_start(y.year))
        pairs += [(earlier, of_basis[-1]) for earlier in of_basis[:-1]]
    return pairs


def counted_areas(table: pd.DataFrame) -> pd.DataFrame:
    """``code``, ``name``, ``partner_code``, ``partner_name`` of the counted areas of a comparison table (150 on the
    2021 boundaries: City of London sits within Hackney and the Isles of Scilly within Cornwall)."""
    counted = table[table["counted"]].drop_duplicates("target_code")
    names = dict(zip(table["target_code"], table["target_name"]))
    partner_of = {partner: small for small, partner in SMALL_AUTHORITY_PARTNERS.items() if small in names}
    out = pd.DataFrame({"code": counted["target_code"], "name": counted["target_name"]})
    out["partner_code"] = [partner_of.get(c) for c in out["code"]]
    out["partner_name"] = [names.get(partner_of.get(c)) for c in out["code"]]
    return out.sort_values("code").reset_index(drop=True)


def _own_codes(code: str, partner: object) -> list[str]:
    return [code, partner] if isinstance(partner, str) and partner else [code]


def _sum_codes(codes: Iterable[str], values: Mapping[str, float]) -> float:
    picked = [values.get(c, np.nan) for c in codes]
    if not picked or any(pd.isna(v) for v in picked):
        return float("nan")
    return float(sum(picked))


def _by_code(values: pd.Series) -> dict[str, float]:
    """A Series by code as a plain dict: pandas' per-label ``get`` costs far more than a dict look-up in a loop."""
    return dict(zip(values.index, values.tolist()))


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows as plain dicts of Python values, converted column by column: pandas' own row access (``.loc``,
    ``itertuples``, ``to_dict``) boxes each Arrow-backed string separately and was most of this module's time."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[c].tolist() for c in columns))]


def _names(codes: Iterable[str], names: Mapping[str, str]) -> str:
    return "; ".join(names.get(c, c) for c in codes)


def spending_points(
    areas: pd.DataFrame,
    pairs: Mapping[tuple[str, str, str], object],
    own_spend: Mapping[tuple[str, str], pd.Series],
    factors: Mapping[str, float],
    sources: Mapping[tuple[str, str], str],
    names: Mapping[str, str],
    price_year: str,
) -> pd.DataFrame:
    """Every spending point of every counted area, in cash and real terms, each labelled with basis and coverage.

    Parameters
    ----------
    areas : pandas.DataFrame
        From :func:`counted_areas`.
    pairs : mapping
        ``(base_year, target_year, basis) -> SpendingComparison`` (``compare_years`` with policy ``aggregate``).
    own_spend : mapping
        ``(year, basis) -> cash spend (£ thousand) by ONS code`` as each year's file gives it.
    factors : mapping
        Financial year -> cash-to-price-year factor.
    sources : mapping
        ``(year, basis) -> source id``.
    names : mapping
        ONS code -> area name (any vintage), for ``covers``.
    price_year : str
        Financial year of the real-terms prices.

    Returns
    -------
    pandas.DataFrame
        :data:`SPENDING_COLUMNS`. ``series`` is ``"comparison"`` for points on the comparison unit's coverage (the
        same areas in every year of the basis, so the points may be joined), ``"area"`` for the area's own value in
        a year where it differs from the unit (a reorganised area after the change). ``status`` is ``"no data"``
        for a gap.
    """
    rows = []
    area_list = _records(areas)
    for (base_year, target_year, basis), comparison in pairs.items():
        units = _records(comparison.table)
        unit_of_code = {unit["target_code"]: unit for unit in units}
        # The target year covers every code of the comparison unit; a unit without an id matches no code.
        codes_of_unit: dict[str, list[str]] = {}
        for unit in units:
            if isinstance(unit["unit_id"], str):
                codes_of_unit.setdefault(unit["unit_id"], []).append(unit["target_code"])
        for area in area_list:
            unit = unit_of_code[area["code"]]
            base_codes = [c for c in str(unit["base_codes"]).split("; ") if c]
            target_codes = sorted(codes_of_unit.get(unit["unit_id"], []))
            for year, codes, cash in (
                (base_year, base_codes, unit["base_cash_gbp_k"]),
                (target_year, target_codes, unit["target_cash_gbp_k"]),
            ):
                rows.append(_point(area, year, basis, "comparison", codes, cash, factors, sources, names, price_year))
    for (year, basis), spend in own_spend.items():
        spend_of = _by_code(spend)
        for area in area_list:
            codes = _own_codes(area["code"], area["partner_code"])
            if not all(c in spend_of for c in codes):
                continue  # the area did not exist in that year's file: its history is the comparison unit's
            rows.append(_point(area, year, basis, "area", codes, _sum_codes(codes, spend_of), factors, sources, names, price_year))
    out = pd.DataFrame(rows, columns=SPENDING_COLUMNS)
    # An unchanged area's own value is its comparison value: keep one row, marked as comparable.
    out["_rank"] = (out["series"] != "comparison").astype(int)
    out = out.sort_values(["code", "_rank"]).drop_duplicates(["code", "year", "basis", "covered_codes"]).drop(columns="_rank")
    out["_start"] = out["year"].map(financial_year_start)
    out = out.sort_values(["code", "basis", "_start", "series"]).drop(columns="_start")
    return out.reset_index(drop=True)


def _point(area, year, basis, series, codes, cash, factors, sources, names, price_year) -> dict:
    cash = float(cash) if cash is not None and not pd.isna(cash) else float("nan")
    return {
        "code": area["code"],
        "name": area["name"],
        "year": year,
        "basis": basis,
        "series": series,
        "covers": _names(sorted(codes), names),
        "covered_codes": "; ".join(sorted(codes)),
        "cash_gbp_k": cash,
        "real_gbp_k": cash * factors[year] if not math.isnan(cash) else float("nan"),
        "price_year": price_year,
        "status": NO_DATA if math.isnan(cash) else "",
        "source": sources[(year, basis)],
    }


def area_changes(areas: pd.DataFrame, pairs: Mapping[tuple[str, str, str], object]) -> pd.DataFrame:
    """Each area's real-terms change per pair of years, against England's, with its rank (1 = largest fall) among
    the counted areas that have a change, Figure 3's implausibility flag and its crosswalk text.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_COLUMNS`, one row per area and pair.
    """
    rows = []
    area_list = _records(areas)
    for (base_year, target_year, basis), comparison in pairs.items():
        table = comparison.table
        ranked = int((table["counted"] & table["change_real_pct"].notna()).sum())
        england = float(comparison.england["change_pct"])
        unit_of_code = {unit["target_code"]: unit for unit in _records(table)}
        for area in area_list:
            unit = unit_of_code[area["code"]]
            rank = unit["rank"]
            rows.append(
                {
                    "code": area["code"],
                    "name": area["name"],
                    "base_year": base_year,
                    "target_year": target_year,
                    "basis": basis,
                    "covers": str(unit["unit_name"]),
                    "base_covers": str(unit["base_names"]),
                    "change_real_pct": float(unit["change_real_pct"]) if pd.notna(unit["change_real_pct"]) else float("nan"),
                    "england_change_real_pct": england,
                    "rank": pd.NA if pd.isna(rank) else int(rank),
                    "ranked_areas": ranked,
                    "implausible": bool(unit["implausible"]),
                    "flag": str(unit["flag"]),
                    "crosswalk": str(unit["crosswalk"]),
                    "no_data_reason": str(unit["no_data_reason"]),
                }
            )
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    out["rank"] = out["rank"].astype("Int64")
    return out


def line_by_code(raw: pd.DataFrame, line_id: str, crosswalk: pd.DataFrame, area_names: pd.DataFrame) -> pd.Series:
    """One line of a revenue-account file (e.g. total public health) by ONS code, upper tier only; NaN = no data."""
    part = raw[raw["line_id"] == line_id]
    if part.empty:
        raise AnalysisError(f"area profiles: line {line_id!r} was not read - read it with the file's other lines")
    coded = attach_ons_codes(upper_tier(part), crosswalk, area_names)
    return coded.set_index("ons_code")["value_gbp_thousands"].astype(float)


def public_health_shares(
    spending: pd.DataFrame,
    public_health: Mapping[tuple[str, str], pd.Series],
    public_health_sources: Mapping[tuple[str, str], str],
    areas: pd.DataFrame,
    names: Mapping[str, str],
) -> pd.DataFrame:
    """Treatment spending as a share of all public health spending, for each year and basis where both exist.

    Each ratio takes numerator and denominator from the same year, basis and areas (the comparison unit's
    coverage where the area was reorganised). A public health total with no treatment figure of the same year and
    basis (RSX 2021-22 outturn, when the edition has no RO3 2021-22 file) is kept as a row with no share and status
    ``"no treatment spending on this basis"``: budget and outturn are never mixed in one ratio.

    Returns
    -------
    pandas.DataFrame
        :data:`SHARE_COLUMNS`.
    """
    rows = []
    # Grouped once: filtering the spending frame per area, year and basis was most of this function's time.
    points_of: dict[tuple[str, str, str], list[dict]] = {}
    for point in _records(spending[spending["series"] == "comparison"]):
        points_of.setdefault((point["code"], point["year"], point["basis"]), []).append(point)
    area_list = _records(areas)
    for (year, basis), totals in public_health.items():
        total_of = _by_code(totals)
        ph_source = public_health_sources[(year, basis)]
        for area in area_list:
            treatment = points_of.get((area["code"], year, basis), [])
            if not treatment:
                codes = _own_codes(area["code"], area["partner_code"])
                ph = _sum_codes(codes, total_of)
                rows.append(
                    _share_row(area, year, basis, _names(sorted(codes), names), float("nan"), ph, "", ph_source)
                    | {"status": f"no {basis} treatment spending for {year} in this edition"}
                )
                continue
            for point in treatment:
                ph = _sum_codes(point["covered_codes"].split("; "), total_of)
                rows.append(_share_row(area, year, basis, point["covers"], point["cash_gbp_k"], ph, point["source"], ph_source))
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def _share_row(area, year, basis, covers, treatment, ph, treatment_source, ph_source) -> dict:
    share = treatment / ph * 100 if not (math.isnan(treatment) or math.isnan(ph)) and ph > 0 else float("nan")
    return {
        "code": area["code"],
        "name": area["name"],
        "year": year,
        "basis": basis,
        "covers": covers,
        "treatment_gbp_k": treatment,
        "public_health_gbp_k": ph,
        "share_pct": share,
        "status": "" if not math.isnan(share) else NO_DATA,
        "treatment_source": treatment_source,
        "public_health_source": ph_source,
    }


def area_deaths(
    deaths: pd.DataFrame,
    areas: pd.DataFrame,
    districts: pd.DataFrame,
    *,
    source: str,
    window: int = 3,
) -> pd.DataFrame:
    """Drug-poisoning deaths per counted area by registration year, with ``window``-year rolling totals.

    An area's count is its own row of the extract; where the extract has no row for an upper-tier area but lists
    its districts, the districts are summed (all of them, or the year is a gap). City of London is added to Hackney
    and the Isles of Scilly to Cornwall, as for spending. A rolling total with any year missing is a gap.

    Parameters
    ----------
    deaths : pandas.DataFrame
        :func:`nao_analysis.readers.la_deaths.read_la_drug_deaths` (``code``, ``year``, ``deaths``).
    areas : pandas.DataFrame
        From :func:`counted_areas`.
    districts : pandas.DataFrame
        District -> upper tier lookup of the extract's boundary vintage.
    source : str
        Source id of the extract.

    Returns
    -------
    pandas.DataFrame
        :data:`DEATHS_COLUMNS`: one row per area and registration year; ``deaths_rolling`` is the total of the window
        ending that year (``first_year`` to ``last_year``), NaN for the first ``window - 1`` years and any gap.
    """
    if window < 1:
        raise AnalysisError(f"area profiles: rolling window {window} must be at least one year")
    wide = deaths.pivot_table(index="code", columns="year", values="deaths", aggfunc="first", dropna=False)
    years = sorted(int(y) for y in wide.columns)
    wide = wide.reindex(columns=years)
    yearly = wide.to_numpy(dtype=float)
    row_of = {code: i for i, code in enumerate(wide.index)}
    names = dict(zip(deaths["code"].tolist(), deaths["name"].tolist()))
    districts_of = districts.groupby("upper_tier_code")["district_code"].apply(list).to_dict()
    area_list = _records(areas)

    # One row of yearly deaths per area (its own codes added together); a year missing for any code is a gap.
    by_area = np.full((len(area_list), len(years)), np.nan)
    covers, summed_from_districts = [], []
    for position, area in enumerate(area_list):
        parts, summed = [], False
        for code in _own_codes(area["code"], area["partner_code"]):
            if code in row_of:
                parts.append(yearly[row_of[code]])
                continue
            own = [d for d in districts_of.get(code, []) if d != code]
            if own and all(d in row_of for d in own):
                block = wide.loc[own]
                parts.append(block.sum(axis=0, min_count=len(own)).where(block.notna().all(axis=0)).to_numpy(dtype=float))
                summed = True
            else:
                parts.append(np.full(len(years), np.nan))
        total = parts[0]
        for part in parts[1:]:
            total = total + part  # NaN in either part stays NaN: a gap is never zero
        by_area[position] = total
        covers.append("; ".join(names.get(c, c).strip() for c in _own_codes(area["code"], area["partner_code"])))
        summed_from_districts.append(summed)

    # Rolling totals for all areas at once; a window is complete only over consecutive years the extract has.
    column_of = {year: i for i, year in enumerate(years)}
    rolling = np.full(by_area.shape, np.nan)
    for position, year in enumerate(years):
        window_years = years[max(0, position - window + 1) : position + 1]
        if len(window_years) == window and window_years == list(range(year - window + 1, year + 1)):
            total = np.zeros(len(area_list))  # added in year order from zero, as a sum over the window's years
            for window_year in window_years:
                total = total + by_area[:, column_of[window_year]]
            rolling[:, position] = total

    if not by_area.size:
        return pd.DataFrame([], columns=DEATHS_COLUMNS)  # no areas or no years: the columns, untyped, as for any empty table
    in_year = by_area.ravel().tolist()  # area by area, years in order within each
    periods = [f"{year - window + 1}-{str(year)[-2:]}" if window > 1 else str(year) for year in years]
    return pd.DataFrame(
        {
            "code": [area["code"] for area in area_list for _ in years],
            "name": [area["name"] for area in area_list for _ in years],
            "first_year": [year - window + 1 for _ in area_list for year in years],
            "last_year": [year for _ in area_list for year in years],
            "period": [period for _ in area_list for period in periods],
            "deaths_rolling": rolling.ravel().tolist(),
            "deaths_in_year": in_year,
            "status": ["" if not math.isnan(value) else NO_DATA for value in in_year],
            "covers": [text for text in covers for _ in years],
            "summed_from_districts": [summed for summed in summed_from_districts for _ in years],
            "source": [source] * (len(area_list) * len(years)),
        },
        columns=DEATHS_COLUMNS,
    )


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def headline_change(changes: pd.DataFrame) -> pd.Series | None:
    """The area's headline comparison: the longest span of years, outturn before budget on a tie."""
    if changes.empty:
        return None
    return changes.iloc[_headline_position(_records(changes[["base_year", "target_year", "basis"]]))]


def _headline_position(changes: Sequence[Mapping]) -> int:
    """Index of the headline among an area's changes: longest span, then outturn before budget (an unknown basis
    last), then the first listed."""
    basis_order = {b: i for i, b in enumerate(BASES)}

    def key(position: int) -> tuple:
        change = changes[position]
        span = financial_year_start(change["target_year"]) - financial_year_start(change["base_year"])
        return (-span, basis_order.get(change["basis"], len(BASES)), position)

    return min(range(len(changes)), key=key)


def area_records(
    areas: pd.DataFrame,
    spending: pd.DataFrame,
    changes: pd.DataFrame,
    shares: pd.DataFrame,
    deaths: pd.DataFrame,
    *,
    deaths_source: str,
    deaths_third_party: bool,
) -> list[dict]:
    """The per-area JSON-able summary (see :mod:`nao_analysis.figures.areas` for its shape), without sentences."""
    # Each table split by area once, as plain rows: per-area pandas selections were most of this function's time.
    spending_of, changes_of, shares_of, deaths_of = (_records_by_code(frame) for frame in (spending, changes, shares, deaths))
    out = []
    for area in _records(areas):
        own_changes = changes_of.get(area["code"], [])
        history = sorted({c["crosswalk"] for c in own_changes if c["crosswalk"]})
        predecessors = sorted({c["base_covers"] for c in own_changes if c["crosswalk"]})
        own_deaths = deaths_of.get(area["code"], [])
        record = {
            "code": area["code"],
            "name": area["name"],
            "partner": {"code": area["partner_code"], "name": area["partner_name"]} if isinstance(area["partner_code"], str) else None,
            "history": history,
            "predecessors": predecessors,
            "spending": [
                {
                    "year": r["year"],
                    "basis": r["basis"],
                    "series": r["series"],
                    "covers": r["covers"],
                    "cash_gbp_k": _number(r["cash_gbp_k"]),
                    "real_gbp_k": _number(r["real_gbp_k"]),
                    "status": r["status"],
                    "source": r["source"],
                }
                for r in spending_of.get(area["code"], [])
            ],
            "changes": [_change_dict(r) for r in own_changes],
            "change": _change_dict(own_changes[_headline_position(own_changes)]) if own_changes else None,
            "public_health_share": [
                {
                    "year": r["year"],
                    "basis": r["basis"],
                    "covers": r["covers"],
                    "treatment_gbp_k": _number(r["treatment_gbp_k"]),
                    "public_health_gbp_k": _number(r["public_health_gbp_k"]),
                    "share_pct": _number(r["share_pct"]),
                    "status": r["status"],
                    "source": r["public_health_source"],
                    "treatment_source": r["treatment_source"],
                }
                for r in shares_of.get(area["code"], [])
            ],
            "deaths": {
                "source": deaths_source,
                "third_party": deaths_third_party,
                "measure": "all drug poisoning",
                "summed_from_districts": any(bool(r["summed_from_districts"]) for r in own_deaths),
                "covers": str(own_deaths[0]["covers"]) if own_deaths else "",
                "annual": [
                    {"year": int(r["last_year"]), "deaths": _number(r["deaths_in_year"]), "status": r["status"]} for r in own_deaths
                ],
                "rolling": [
                    {
                        "period": r["period"],
                        "first_year": int(r["first_year"]),
                        "last_year": int(r["last_year"]),
                        "deaths": _number(r["deaths_rolling"]),
                        "status": "" if pd.notna(r["deaths_rolling"]) else NO_DATA,
                    }
                    for r in own_deaths
                    if pd.notna(r["deaths_rolling"]) or r["status"]
                ],
            },
        }
        out.append(record)
    return out


def _records_by_code(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The rows of ``frame`` as plain dicts, by ``code``, each area's rows in the frame's order."""
    grouped: dict[str, list[dict]] = {}
    for record in _records(frame):
        grouped.setdefault(record["code"], []).append(record)
    return grouped


def _change_dict(row: Mapping) -> dict:
    return {
        "from": row["base_year"],
        "to": row["target_year"],
        "basis": row["basis"],
        "covers": row["covers"],
        "real_pct": _number(row["change_real_pct"]),
        "england_real_pct": _number(row["england_change_real_pct"]),
        "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
        "of": int(row["ranked_areas"]),
        "flag": row["flag"],
        "crosswalk": row["crosswalk"],
        "no_data_reason": row["no_data_reason"],
    }


def deaths_change(record: dict) -> tuple[dict, dict] | None:
    """The first and last complete rolling totals of an area (for the summary sentence), or None."""
    rolling = [r for r in record["deaths"]["rolling"] if r["deaths"] is not None]
    if len(rolling) < 2:
        return None
    return rolling[0], rolling[-1]


def ordinal(n: int) -> str:
    """1 -> "1st", 12 -> "12th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
