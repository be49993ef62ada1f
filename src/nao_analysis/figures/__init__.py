"""One recipe per figure: ``nao_analysis.figures.<figure_id>``.

Each recipe module holds everything specific to its figure - its parameter model (``Params``), its
spec (``FIGURE``), its text templates, its reconciliation checks, its map spec where it has one, and
``run(ctx) -> FigureResult``. Shared code stays in ``readers/`` (one per official format) and
``analysis/`` (pure functions). ``CONTRIBUTING.md`` maps each figure to its recipe, notebook, sources,
readers and analysis functions.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from nao_analysis.figures.recipe import FigureParams, FigureSpec

#: Recipe modules in figure order.
RECIPE_MODULES = ("fig01", "fig02", "fig03", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09", "fig10", "app2", "areas")


def recipe(figure_id: str) -> ModuleType:
    if figure_id not in RECIPE_MODULES:
        from nao_analysis.errors import NaoError

        raise NaoError(f"unknown figure {figure_id!r} - known figures: {', '.join(RECIPE_MODULES)}")
    return importlib.import_module(f"{__name__}.{figure_id}")


def load_specs() -> dict[str, FigureSpec]:
    """Every figure's spec, in figure order."""
    return {figure_id: recipe(figure_id).FIGURE for figure_id in RECIPE_MODULES}


def order_key(figure_id: str) -> tuple[int, str]:
    match = re.match(r"fig(\d+)", figure_id)
    return (int(match.group(1)) if match else 100, figure_id)


__all__ = ["RECIPE_MODULES", "FigureParams", "FigureSpec", "load_specs", "order_key", "recipe"]
