"""The treatment gap (Figure 5): the share of people using opiates and/or crack cocaine (OCU) not in treatment.

The method, as in the report's Figure 5 note 1 and OHID Fingertips indicator 93517 (ages 15-64):

- denominator = the estimated number of users resident in the area, taken as the mean of the last three
  prevalence estimates;
- count = that mean minus the number of residents in contact with drug treatment for opiate and/or crack
  use in the year;
- value = count / denominator x 100.

All functions are pure: DataFrames in, DataFrames or numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nao_analysis.errors import AnalysisError

#: ONS code of England, the parent of every county and unitary authority in the Fingertips download.
ENGLAND_CODE = "E92000001"
#: Prevalence estimates averaged for the denominator.
ESTIMATES_AVERAGED = 3


def unmet_need_percentage(estimated_users, in_treatment):
    """Percentage of estimated users not in treatment: ``(estimated_users - in_treatment) / estimated_users x 100``.

    Parameters
    ----------
    estimated_users : float or pandas.Series
        The denominator: the mean of the last three prevalence estimates.
    in_treatment : float or pandas.Series
        People in contact with treatment in the year (same index as ``estimated_users`` for Series).

    Returns
    -------
    float or pandas.Series
        The unmet-need percentage. It is negative where more people are in treatment than estimated users.

    Raises
    ------
    AnalysisError
        If an estimate is zero or negative, or a treatment number is negative.
    """
    users = np.atleast_1d(np.asarray(estimated_users, dtype="float64"))
    treated = np.atleast_1d(np.asarray(in_treatment, dtype="float64"))
    if (users[~np.isnan(users)] <= 0).any():
        raise AnalysisError(f"unmet_need_percentage: estimated users must be positive (got {users[users <= 0][0]:g})")
    if (treated[~np.isnan(treated)] < 0).any():
        raise AnalysisError(f"unmet_need_percentage: numbers in treatment must not be negative (got {treated[treated < 0][0]:g})")
    result = (estimated_users - in_treatment) / estimated_users * 100.0
    return result if np.ndim(result) else float(result)


def recompute_published_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Check the API's values: rebuild each row's percentage from its published count and denominator.

    The number in treatment is not published, but it is implied: ``denominator - count``. Feeding that and
    the denominator back through :func:`unmet_need_percentage` must reproduce the published value.

    Parameters
    ----------
    rows : DataFrame
        Reader output (:func:`nao_analysis.readers.fingertips.read_fingertips_csv`) with ``value``,
        ``count`` and ``denominator``.

    Returns
    -------
    DataFrame
        The rows with a count and denominator, plus ``in_treatment`` (implied), ``in_treatment_is_whole``,
        ``value_rebuilt`` and ``difference`` (rebuilt minus published, percentage points).

    Notes
    -----
    Some rows print the denominator cut to a whole number while the value was computed from the unrounded
    mean (in the 93517 sample: West Sussex, Worcestershire and Middlesbrough in 2019/20). Their implied number
    in treatment is then not a whole number, and the rebuilt value differs by up to about 0.01 percentage points.
    """
    usable = rows.dropna(subset=["value", "count", "denominator"]).copy()
    usable["in_treatment"] = usable["denominator"] - usable["count"]
    # People are counted whole: a fractional remainder means the printed denominator was cut short.
    usable["in_treatment_is_whole"] = (usable["in_treatment"] - usable["in_treatment"].round()).abs() < 1e-3
    usable["value_rebuilt"] = unmet_need_percentage(usable["denominator"], usable["in_treatment"])
    usable["difference"] = usable["value_rebuilt"] - usable["value"]
    return usable.reset_index(drop=True)


def area_values(indicator: pd.DataFrame, *, indicator_id: int, year: str, sex: str = "Persons") -> pd.DataFrame:
    """One row per county or unitary authority for one indicator and financial year.

    Parameters
    ----------
    indicator : DataFrame
        Reader output for a Fingertips download.
    indicator_id : int
        The indicator to keep (93517 for OCU not in treatment).
    year : str
        Financial year ``YYYY-YY``.
    sex : str
        Fingertips sex label; the published figure uses all persons.

    Returns
    -------
    DataFrame
        ``area_code``, ``area_name``, ``value`` (%), ``count``, ``denominator``, ``in_treatment`` (implied:
        denominator minus count), ``value_note``, ``year``, ``unit``; England and category breakdowns excluded.

    Raises
    ------
    AnalysisError
        If the indicator or year is absent (the message lists what the data holds), or an area appears twice.
    """
    rows = indicator[indicator["indicator_id"] == indicator_id]
    if rows.empty:
        held = ", ".join(str(i) for i in sorted(indicator["indicator_id"].unique()))
        raise AnalysisError(f"area_values: indicator {indicator_id} not in the data (it holds {held}) - check indicator_id and the source")
    in_year = rows[rows["year"] == year]
    if in_year.empty:
        held = ", ".join(sorted(rows["year"].dropna().unique()))
        raise AnalysisError(f"area_values: no {year} rows for indicator {indicator_id} (the data holds {held}) - choose one of those years")
    areas = in_year[(in_year["sex"] == sex) & in_year["category_type"].isna() & (in_year["area_code"] != ENGLAND_CODE)]
    duplicated = areas["area_code"].duplicated()
    if duplicated.any():
        code = areas.loc[duplicated, "area_code"].iloc[0]
        raise AnalysisError(f"area_values: area {code} appears twice in {year} - check the age and sex breakdowns")
    out = areas[["area_code", "area_name", "value", "count", "denominator", "value_note", "year"]].copy()
    out["in_treatment"] = out["denominator"] - out["count"]
    out["unit"] = "%"
    return out.sort_values("area_code").reset_index(drop=True)


def england_value(indicator: pd.DataFrame, *, indicator_id: int, year: str, sex: str = "Persons") -> float | None:
    """England's published value for the year, or None if the download has no England row."""
    rows = indicator[
        (indicator["indicator_id"] == indicator_id)
        & (indicator["year"] == year)
        & (indicator["sex"] == sex)
        & indicator["category_type"].isna()
        & (indicator["area_code"] == ENGLAND_CODE)
    ]
    if rows.empty or pd.isna(rows["value"].iloc[0]):
        return None
    return float(rows["value"].iloc[0])


def whole_percent(value: float) -> int:
    """Round half up to a whole per cent, as the report prints percentages (47.5 -> 48)."""
    return int(math.floor(value + 0.5))


@dataclass(frozen=True)
class TreatmentGapSummary:
    """The figures the report quotes about the map, computed from the area values."""

    threshold: float
    areas_total: int
    areas_at_or_above: int
    min_pct: float
    min_areas: list[str]
    max_pct: float
    max_areas: list[str]
    missing_areas: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The statistics as tidy rows (``statistic``, ``value``, ``unit``) for the figure's summary CSV."""
        rows = [
            ("threshold_pct", f"{self.threshold:g}", "%"),
            ("areas_at_or_above_threshold", str(self.areas_at_or_above), "areas"),
            ("areas_total", str(self.areas_total), "areas with a value"),
            ("min_pct", f"{self.min_pct:.4f}", "%"),
            ("min_areas", "; ".join(self.min_areas), "names"),
            ("max_pct", f"{self.max_pct:.4f}", "%"),
            ("max_areas", "; ".join(self.max_areas), "names"),
            ("areas_no_data", str(len(self.missing_areas)), "areas"),
            ("no_data_areas", "; ".join(self.missing_areas), "names"),
        ]
        return pd.DataFrame(rows, columns=["statistic", "value", "unit"])


def summarise(values: pd.DataFrame, *, threshold: float, all_areas: pd.DataFrame | None = None) -> TreatmentGapSummary:
    """Count of areas at or above the threshold, the lowest and highest areas, and the areas without data.

    Parameters
    ----------
    values : DataFrame
        :func:`area_values` output (``area_code``, ``area_name``, ``value``).
    threshold : float
        The percentage the report counts areas against (48).
    all_areas : DataFrame, optional
        ``code`` and ``name`` of every area that should have a value (e.g. the boundary file's areas);
        those absent from ``values`` are listed as missing too.

    Returns
    -------
    TreatmentGapSummary
        ``areas_total`` counts areas with a value; areas without one are in ``missing_areas`` (sorted names).
        Ties for the lowest or highest value list every tied area.

    Raises
    ------
    AnalysisError
        If no area has a value.
    """
    present = values.dropna(subset=["value"])
    if present.empty:
        raise AnalysisError("summarise: no area has a value - check the year and the indicator")
    missing = set(values.loc[values["value"].isna(), "area_name"])
    if all_areas is not None:
        absent = ~all_areas["code"].isin(values["area_code"])
        missing |= set(all_areas.loc[absent, "name"])
    low, high = present["value"].min(), present["value"].max()
    return TreatmentGapSummary(
        threshold=float(threshold),
        areas_total=len(present),
        areas_at_or_above=int((present["value"] >= threshold).sum()),
        min_pct=float(low),
        min_areas=sorted(present.loc[present["value"] == low, "area_name"]),
        max_pct=float(high),
        max_areas=sorted(present.loc[present["value"] == high, "area_name"]),
        missing_areas=sorted(missing),
    )


def ranked_table(values: pd.DataFrame, *, threshold: float, all_areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Areas ranked from the highest share not in treatment (rank 1) to the lowest; areas without data last.

    Parameters
    ----------
    values : DataFrame
        :func:`area_values` output.
    threshold : float
        Flags areas at or above it.
    all_areas : DataFrame, optional
        ``code`` and ``name`` of every mapped area; those absent from ``values`` are added without data.

    Returns
    -------
    DataFrame
        ``rank`` (ties share the best rank; NA without data), ``area_code``, ``area_name``, ``value`` (%),
        ``count``, ``denominator``, ``in_treatment``, ``at_or_above_threshold`` (NA without data), ``unit``.
    """
    table = values.copy()
    if all_areas is not None:
        absent = all_areas.loc[~all_areas["code"].isin(values["area_code"]), ["code", "name"]]
        absent = absent.rename(columns={"code": "area_code", "name": "area_name"})
        table = pd.concat([table, pd.DataFrame(absent)], ignore_index=True) if len(absent) else table
    table["rank"] = table["value"].rank(ascending=False, method="min").astype("Int64")
    table["at_or_above_threshold"] = (table["value"] >= threshold).astype("boolean").where(table["value"].notna())
    table["unit"] = "%"
    table = table.sort_values(["rank", "area_name"], na_position="last")
    columns = ["rank", "area_code", "area_name", "value", "count", "denominator", "in_treatment", "at_or_above_threshold", "unit"]
    return table[columns].reset_index(drop=True)


def map_classes(breaks: Sequence[float], *, unit: str = "%") -> tuple[list[float], list[str]]:
    """Class bounds and labels for the shared choropleth, with each break starting a class.

    The choropleth's bins are right-closed upper bounds (a value equal to a bound falls in the lower class).
    The report counts areas at "48% or more", so each bound is nudged to the float just below the break:
    a value of exactly 48 then falls in the "48% to under 58%" class.

    Parameters
    ----------
    breaks : sequence of float
        Increasing class breaks, e.g. ``[38, 48, 58, 68]``.

    Returns
    -------
    (list of float, list of str)
        ``len(breaks) + 1`` upper bounds (the last infinite) and labels such as ``"Less than 38%"``,
        ``"38% to under 48%"``, ``"68% or more"``.
    """
    breaks = [float(b) for b in breaks]
    if not breaks or any(b2 <= b1 for b1, b2 in zip(breaks, breaks[1:])):
        raise AnalysisError(f"map_classes: breaks {breaks} must be a non-empty increasing list")
    shown = [f"{b:g}{unit}" for b in breaks]
    bounds = [float(np.nextafter(b, -np.inf)) for b in breaks] + [float("inf")]
    labels = [f"Less than {shown[0]}"]
    labels += [f"{low} to under {high}" for low, high in zip(shown, shown[1:])]
    labels.append(f"{shown[-1]} or more")
    return bounds, labels


#: What the published figure shows (HC 1864, Figure 5 title and paragraph 1.6): only a run of the same year,
#: indicator and threshold is comparable with its numbers.
def map_frame(values: pd.DataFrame, boundaries):
    """Join area values to boundaries by ONS code; every boundary area is kept (NaN value = no data).

    Parameters
    ----------
    values : DataFrame
        :func:`area_values` output.
    boundaries : geopandas.GeoDataFrame
        ``code``, ``name``, ``geometry`` of the boundary vintage matching the data's area type.

    Returns
    -------
    geopandas.GeoDataFrame
        The boundaries with ``value``, ``count``, ``denominator``, ``in_treatment`` and ``unit``.

    Raises
    ------
    CrosswalkError
        If an area of the data has no boundary: the boundary vintage does not match the data's area type.
    """
    from nao_analysis.errors import CrosswalkError

    unknown = sorted(set(values["area_code"]) - set(boundaries["code"]))
    if unknown:
        named = values.set_index("area_code").loc[unknown, "area_name"]
        shown = ", ".join(f"{code} {name}" for code, name in list(named.items())[:5])
        raise CrosswalkError(
            f"map_frame: {len(unknown)} area(s) of the data have no boundary ({shown}) - "
            "choose a boundary_vintage that matches the data's Fingertips area type"
        )
    columns = ["area_code", "value", "count", "denominator", "in_treatment", "unit"]
    joined = boundaries.merge(values[columns], left_on="code", right_on="area_code", how="left").drop(columns="area_code")
    joined["unit"] = "%"
    return joined


def _names_match(published: str, rebuilt: str) -> bool:
    # The report shortens names ("Bournemouth" for Bournemouth, Christchurch and Poole): its words must appear in ours.
    return _words(published) <= _words(rebuilt)


def _words(name: str) -> set[str]:
    return set(str(name).lower().replace(",", " ").split())


def compare_area_names(published: Sequence[str], rebuilt: Sequence[str]) -> str:
    unmatched = [p for p in published if not any(_names_match(p, r) for r in rebuilt)]
    extra = [r for r in rebuilt if not any(_names_match(p, r) for p in published)]
    if not unmatched and not extra:
        return f"areas as published: {', '.join(rebuilt)}"
    parts = [f"rebuilt areas: {', '.join(rebuilt) or 'none'}"]
    if unmatched:
        parts.append(f"published but not rebuilt: {', '.join(unmatched)}")
    if extra:
        parts.append(f"rebuilt but not published: {', '.join(extra)}")
    return "; ".join(parts)
