"""Real-terms conversion: rebase a deflator series to a price year and turn cash into real terms."""

from __future__ import annotations

import pandas as pd

from nao_analysis.errors import AnalysisError


def rebase_deflator(deflators: pd.DataFrame, price_year: str) -> pd.DataFrame:
    """Rebase a financial-year deflator so that ``price_year`` = 100.

    Parameters
    ----------
    deflators : pandas.DataFrame
        ``financial_year``, ``deflator`` (any base), as returned by :mod:`nao_analysis.readers.deflators`.
    price_year : str
        The financial year whose prices the results are expressed in, e.g. ``"2022-23"``.

    Returns
    -------
    pandas.DataFrame
        ``financial_year``, ``deflator`` (original), ``index_price_year_100`` and ``to_price_year``, the factor
        that turns cash of that year into ``price_year`` prices (``100 / index``).

    Raises
    ------
    AnalysisError
        If the price year is not in the series or a value is not positive.
    """
    if price_year not in set(deflators["financial_year"]):
        have = f"{deflators['financial_year'].min()} to {deflators['financial_year'].max()}" if len(deflators) else "nothing"
        raise AnalysisError(
            f"price_year {price_year!r} is not in the deflator series (it covers {have}) - choose a covered year or a later vintage"
        )
    if (deflators["deflator"] <= 0).any():
        raise AnalysisError("deflator series has non-positive values - check the deflator source")
    base = float(deflators.loc[deflators["financial_year"] == price_year, "deflator"].iloc[0])
    out = deflators[["financial_year", "deflator"]].copy()
    out["index_price_year_100"] = out["deflator"] / base * 100.0
    out["to_price_year"] = 100.0 / out["index_price_year_100"]
    out.attrs.update(deflators.attrs)
    out.attrs["price_year"] = price_year
    return out.reset_index(drop=True)


def price_factor(rebased: pd.DataFrame, year: str) -> float:
    """The factor turning cash of ``year`` into the rebased price year.

    Raises
    ------
    AnalysisError
        If ``year`` is not in the series.
    """
    match = rebased.loc[rebased["financial_year"] == year, "to_price_year"]
    if match.empty:
        raise AnalysisError(
            f"year {year!r} is not in the deflator series ({rebased['financial_year'].min()} to {rebased['financial_year'].max()}) "
            "- use a deflator vintage that covers it"
        )
    return float(match.iloc[0])


def to_real_terms(cash: pd.Series | float, year: str, rebased: pd.DataFrame) -> pd.Series | float:
    """Convert cash amounts of financial year ``year`` into the price year of ``rebased``.

    Parameters
    ----------
    cash : pandas.Series or float
        Cash amounts (any unit; the unit is kept). NaN stays NaN.
    year : str
        Financial year of the cash amounts.
    rebased : pandas.DataFrame
        Output of :func:`rebase_deflator`.

    Returns
    -------
    pandas.Series or float
        Real-terms amounts in the same unit.
    """
    return cash * price_factor(rebased, year)
