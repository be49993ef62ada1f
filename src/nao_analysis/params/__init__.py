"""Typed parameters of each figure, registered by figure id.

Each module in this package defines one pydantic model and registers it with
:func:`register_figure`. An edition file (``editions/<name>.yaml``) supplies the
values; unknown keys and malformed values are rejected before anything runs.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
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


def check_boundary_vintage(boundary_source: str, boundary_vintage: str) -> None:
    """Raise ValueError unless the registry says ``boundary_source`` serves ``boundary_vintage``.

    Maps join on area codes: boundaries of another vintage would silently drop or invent areas.
    """
    from nao_analysis.errors import SourceError
    from nao_analysis.sources.registry import load_registry

    try:
        served = (load_registry().get(boundary_source).serves or {}).get("boundary_vintage")
    except SourceError as exc:
        raise ValueError(str(exc)) from None
    if served != boundary_vintage:
        raise ValueError(
            f"boundary_source {boundary_source!r} serves boundary vintage {served!r}, not boundary_vintage "
            f"{boundary_vintage!r} - choose a boundary source of that vintage, or change boundary_vintage"
        )


from nao_analysis.figures.recipe import FigureParams  # noqa: E402 - TRANSITION


@dataclass(frozen=True)
class FigureSpec:
    figure_id: str
    slug: str
    title: str
    params: type[FigureParams]

    @property
    def notebook(self) -> str:
        return f"{self.figure_id}_{self.slug}.ipynb"

    @property
    def stem(self) -> str:
        return f"{self.figure_id}_{self.slug}"


FIGURES: dict[str, FigureSpec] = {}


def register_figure(figure_id: str, *, slug: str, title: str):
    """Class decorator: register a figure's parameter model under its id (e.g. ``fig03``)."""

    def wrap(cls: type[FigureParams]) -> type[FigureParams]:
        FIGURES[figure_id] = FigureSpec(figure_id, slug, title, cls)
        return cls

    return wrap


def load_all() -> dict[str, FigureSpec]:
    """Import every parameter module so each registers itself; return the specs in figure order.

    TRANSITION: a figure whose parameter module has moved into its recipe (``nao_analysis.figures.<id>``)
    is taken from the recipe, so callers of this function keep seeing every figure until they move too.
    """
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    from nao_analysis.figures import RECIPE_MODULES, recipe

    for figure_id in RECIPE_MODULES:
        if figure_id not in FIGURES:
            FIGURES[figure_id] = recipe(figure_id).FIGURE
    return dict(sorted(FIGURES.items(), key=lambda kv: _order_key(kv[0])))


def _order_key(figure_id: str) -> tuple[int, str]:
    match = re.match(r"fig(\d+)", figure_id)
    return (int(match.group(1)) if match else 100, figure_id)
