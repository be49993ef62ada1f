"""UK financial years (``2021-22``): the parameter type and the arithmetic every layer needs."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

FINANCIAL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def _check_financial_year(value: str) -> str:
    match = FINANCIAL_YEAR.match(value)
    if not match:
        hint = ""
        if re.match(r"^\d{4}/\d{2,4}$", value):
            hint = f" (write {value[:4]}-{value[5:7][-2:]} instead of {value})"
        raise ValueError(f"financial year {value!r} must look like 2021-22{hint}")
    start, end = int(match.group(1)), int(match.group(2))
    if (start + 1) % 100 != end:
        raise ValueError(f"financial year {value!r} is not two consecutive years (e.g. {start}-{(start + 1) % 100:02d})")
    return value


#: A UK financial year written ``YYYY-YY`` (April to March).
FinancialYear = Annotated[str, AfterValidator(_check_financial_year)]


def financial_year_start(year: str) -> int:
    """``"2021-22"`` -> ``2021``."""
    return int(_check_financial_year(year)[:4])


def shift_financial_year(year: str, years: int) -> str:
    start = financial_year_start(year) + years
    return f"{start}-{(start + 1) % 100:02d}"
