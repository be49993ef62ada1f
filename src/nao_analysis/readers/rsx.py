"""Revenue Outturn Service Expenditure Summary (RSX): net current expenditure per service, per authority.

The RSX worksheet has the layout of the individual-LA revenue account files with one merged header cell per
service and column (``Public Health - Net Current Expenditure (C7 = C3 - C6)``), so it is read by the same
label-driven parser (:func:`nao_analysis.readers.revenue_account.read_revenue_account`); a service is a "line".
Values are £ thousand, cash; ``...`` (return not received) and the other markers are no data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from nao_analysis.errors import ReaderError
from nao_analysis.readers.revenue_account import detect as detect_revenue_account
from nao_analysis.readers.revenue_account import read_revenue_account, read_revenue_account_totals

#: Service id -> label pattern, as printed in the RSX header.
PUBLIC_HEALTH = {"public_health": r"Public Health"}


def read_rsx(path: Path, services: Mapping[str, str] | None = None, **options) -> pd.DataFrame:
    """Net current expenditure (£ thousand) per authority for the given services (default: public health).

    Parameters
    ----------
    path : Path
        The RSX CSV or workbook.
    services : mapping, optional
        ``service_id -> label pattern`` (full match, case-insensitive); default :data:`PUBLIC_HEALTH`.
    options
        ``settings`` / ``force`` for the parsed cache.

    Returns
    -------
    DataFrame
        The revenue account layout with ``line_id`` = service id.
    """
    return read_revenue_account(Path(path), dict(services or PUBLIC_HEALTH), **options)


def read_rsx_totals(path: Path, services: Mapping[str, str] | None = None) -> pd.Series:
    """The file's own ENGLAND row for the services (£ thousand)."""
    return read_revenue_account_totals(Path(path), dict(services or PUBLIC_HEALTH))


def detect(path: Path) -> dict | None:
    """``{"format": "rsx_csv", "serves": {"basis": "outturn", "year": "2021-22"}, ...}`` for an RSX file, else None."""
    try:
        found = detect_revenue_account(path)
    except ReaderError:
        return None
    if found and found["format"].startswith("rsx_"):
        return found
    return None
