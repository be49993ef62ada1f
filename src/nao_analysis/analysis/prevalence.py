"""Figure 1: prevalence of drug use (CSEW), from tables where they exist and quoted values where not.

Inputs are the tidy frames of :mod:`nao_analysis.readers.csew` (several editions combined, newest
wins) and the quoted points transcribed in ``data/manual/csew_quoted_points.csv``. Everything here is
pure. A quoted point is never blended into a table series: it keeps ``origin == "quoted"`` so the
chart can draw it with its own marker and the reconciliation can say where a number came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa

from nao_analysis.errors import AnalysisError

#: How the chart names the tables' drug types (Figure 1 note 5: "Cocaine" is crack and powder).
DISPLAY_NAMES: dict[str, str] = {
    "Any drug": "Any drug",
    "Any Class A drug": "Any Class A drug",
    "Any cocaine": "Cocaine",
}

QUOTED_SCHEMA = pa.DataFrameSchema(
    {
        "age_group": pa.Column(str, pa.Check.isin(["16-59", "16-24"])),
        "measure": pa.Column(str, pa.Check.isin(["ever", "last_year", "last_month"])),
        "drug_type": pa.Column(str),
        "period_label": pa.Column(str),
        "interview_period": pa.Column(str),
        "year_ending": pa.Column("datetime64[ns]", coerce=True),
        "percent": pa.Column(float, pa.Check.in_range(0, 100), coerce=True),
        "decimals": pa.Column(int, pa.Check.isin([0, 1, 2]), coerce=True),
        "document": pa.Column(str, pa.Check.str_length(min_value=5)),
        "citation": pa.Column(str, pa.Check.str_length(min_value=5)),
    },
    strict=True,
)

SERIES_SCHEMA = pa.DataFrameSchema(
    {
        "age_group": pa.Column(str),
        "measure": pa.Column(str),
        "drug_type": pa.Column(str),
        "series": pa.Column(str),
        "period_label": pa.Column(str),
        "year_ending": pa.Column("datetime64[ns]"),
        "percent": pa.Column(float, pa.Check.in_range(0, 100)),
        "origin": pa.Column(str, pa.Check.isin(["table", "quoted"])),
        "edition": pa.Column(str, nullable=True),
        "citation": pa.Column(str, nullable=True),
        "unit": pa.Column(str, pa.Check.eq("percent")),
    },
    strict=True,
)


def validate_quoted_points(quoted: pd.DataFrame, *, name: str = "csew_quoted_points.csv") -> pd.DataFrame:
    """Check the transcribed quoted values and return them typed.

    Raises
    ------
    AnalysisError
        If a column is missing or a value is out of range.
    """
    try:
        return QUOTED_SCHEMA.validate(quoted.copy())
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as exc:
        raise AnalysisError(f"{name}: {str(exc).splitlines()[0]} - fix the row so it has every documented column") from None


def display_name(drug_type: str) -> str:
    """The chart's name for a table drug type."""
    return DISPLAY_NAMES.get(drug_type, drug_type)


def table_series(
    combined: pd.DataFrame,
    *,
    age_group: str,
    measure: str,
    drugs: Sequence[str],
    first_survey_year: str,
) -> pd.DataFrame:
    """The table values to chart, from the first survey year shown onwards.

    Parameters
    ----------
    combined
        Editions combined by :func:`nao_analysis.readers.csew.combine_editions`.
    age_group, measure
        E.g. ``"16-59"``, ``"last_year"``.
    drugs
        Table drug types to keep, in chart order.
    first_survey_year
        First survey year shown (``"2010/11"``).

    Returns
    -------
    pandas.DataFrame
        :data:`SERIES_SCHEMA` rows with ``origin == "table"``.

    Raises
    ------
    AnalysisError
        If a requested drug has no value in the tables for that age group and measure.
    """
    start = combined.loc[combined["survey_year"] == first_survey_year, "year_ending"]
    if start.empty:
        raise AnalysisError(f"no survey year {first_survey_year!r} in the CSEW tables - use one of their survey years, e.g. 2010/11")
    chosen = combined[
        (combined["age_group"] == age_group)
        & (combined["measure"] == measure)
        & (combined["drug_type"].isin(list(drugs)))
        & (combined["year_ending"] >= start.iloc[0])
    ]
    absent = [d for d in drugs if d not in set(chosen["drug_type"])]
    if absent:
        raise AnalysisError(
            f"the CSEW tables have no {age_group} {measure} values for {absent} from {first_survey_year} - "
            f"choose from {sorted(combined['drug_type'].unique())}"
        )
    series = pd.DataFrame(
        {
            "age_group": chosen["age_group"],
            "measure": chosen["measure"],
            "drug_type": chosen["drug_type"],
            "series": chosen["drug_type"].map(display_name),
            "period_label": chosen["survey_year"],
            "year_ending": chosen["year_ending"],
            "percent": chosen["percent"],
            "origin": "table",
            "edition": chosen["edition"],
            "citation": None,
            "unit": "percent",
        }
    )
    return SERIES_SCHEMA.validate(_in_drug_order(series, drugs))


def quoted_series(quoted: pd.DataFrame, *, age_group: str, measure: str, drugs: Sequence[str]) -> pd.DataFrame:
    """Quoted values to chart, one point per drug and period (documents quoting the same value merged).

    Raises
    ------
    AnalysisError
        If two documents quote different values for the same drug and period.
    """
    chosen = quoted[(quoted["age_group"] == age_group) & (quoted["measure"] == measure) & quoted["drug_type"].isin(list(drugs))]
    key = ["age_group", "measure", "drug_type", "year_ending"]
    conflicting = chosen.groupby(key)["percent"].nunique()
    if (conflicting > 1).any():
        first = conflicting[conflicting > 1].index[0]
        raise AnalysisError(f"quoted points disagree for {first} - check the transcription against each document")
    merged = chosen.groupby(key, as_index=False).agg(
        percent=("percent", "first"),
        period_label=("period_label", "first"),
        citation=("document", lambda docs: "; ".join(dict.fromkeys(docs))),
    )
    series = pd.DataFrame(
        {
            "age_group": merged["age_group"],
            "measure": merged["measure"],
            "drug_type": merged["drug_type"],
            "series": merged["drug_type"].map(display_name),
            "period_label": merged["period_label"],
            "year_ending": merged["year_ending"].astype("datetime64[ns]"),
            "percent": merged["percent"].astype(float),
            "origin": "quoted",
            "edition": pd.Series(None, index=merged.index, dtype="str"),
            "citation": merged["citation"],
            "unit": "percent",
        }
    )
    return SERIES_SCHEMA.validate(_in_drug_order(series, drugs))


def _in_drug_order(series: pd.DataFrame, drugs: Sequence[str]) -> pd.DataFrame:
    order = {drug: i for i, drug in enumerate(drugs)}
    return (
        series.assign(_order=series["drug_type"].map(order))
        .sort_values(["_order", "year_ending"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def chart_series(table: pd.DataFrame, quoted: pd.DataFrame) -> pd.DataFrame:
    """Table and quoted points together; a quoted point where the tables already have a value is kept
    (marked quoted) so both are visible, and :func:`table_vs_quoted` says whether they agree."""
    both = pd.concat([table, quoted], ignore_index=True)
    return SERIES_SCHEMA.validate(both.sort_values(["drug_type", "year_ending", "origin"]).reset_index(drop=True))


def survey_gap(series: pd.DataFrame, *, gap_start: pd.Timestamp, gap_end: pd.Timestamp) -> dict[str, object]:
    """Describe the interview gap (no CSEW interviews March 2020 to October 2021) against the data.

    Parameters
    ----------
    series
        Chart series (:func:`chart_series`).
    gap_start, gap_end
        First and last day with no interviews (Figure 1 note 2).

    Returns
    -------
    dict
        ``start``, ``end``, ``last_before`` (the last period ending on or before the gap),
        and ``first_after`` (the first period ending after it).

    Raises
    ------
    AnalysisError
        If the gap ends before it starts, or a data point falls inside it.
    """
    gap_start, gap_end = pd.Timestamp(gap_start), pd.Timestamp(gap_end)
    if gap_end <= gap_start:
        raise AnalysisError(f"survey gap ends ({gap_end.date()}) before it starts ({gap_start.date()}) - check gap_start and gap_end")
    ends = series["year_ending"]
    inside = series[(ends > gap_start) & (ends < gap_end)]
    if not inside.empty:
        raise AnalysisError(
            f"{len(inside)} data points end inside the survey gap ({gap_start.date()} to {gap_end.date()}), "
            f"e.g. {inside.iloc[0]['series']} {inside.iloc[0]['period_label']} - check the gap dates"
        )
    before = series[ends <= gap_start].sort_values("year_ending")
    after = series[ends >= gap_end].sort_values("year_ending")
    return {
        "start": gap_start,
        "end": gap_end,
        "last_before": before["period_label"].iloc[-1] if not before.empty else None,
        "first_after": after["period_label"].iloc[0] if not after.empty else None,
    }


def table_vs_quoted(combined: pd.DataFrame, quoted: pd.DataFrame) -> pd.DataFrame:
    """For every quoted value, the table value for the same group, drug and period, if any.

    A quoted value agrees with a table when the table value, rounded as the document rounds, equals it
    (within half a unit of its last decimal place).

    Returns
    -------
    pandas.DataFrame
        The quoted rows with ``table_percent``, ``table_edition``, ``difference`` and ``status``:
        ``agrees with table``, ``differs from table`` or ``no table available``.
    """
    key = ["age_group", "measure", "drug_type", "year_ending"]
    tables = combined[key + ["percent", "edition"]].rename(columns={"percent": "table_percent", "edition": "table_edition"})
    joined = quoted.merge(tables, on=key, how="left")
    joined["difference"] = (joined["percent"] - joined["table_percent"]).round(6)
    half_unit = 0.5 * 10.0 ** (-joined["decimals"].astype(float))
    joined["status"] = "no table available"
    has_table = joined["table_percent"].notna()
    agrees = has_table & (joined["difference"].abs() <= half_unit + 1e-9)
    joined.loc[has_table, "status"] = "differs from table"
    joined.loc[agrees, "status"] = "agrees with table"
    return joined


def rebuilt_value(combined: pd.DataFrame, *, age_group: str, measure: str, drug_type: str, year_ending: pd.Timestamp) -> float | None:
    """The table value for one published number, or None when no table covers that period."""
    match = combined[
        (combined["age_group"] == age_group)
        & (combined["measure"] == measure)
        & (combined["drug_type"] == drug_type)
        & (combined["year_ending"] == pd.Timestamp(year_ending))
    ]
    if match.empty:
        return None
    return float(match["percent"].iloc[0])
