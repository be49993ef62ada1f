"""Small pieces several recipes use: a pydantic model as a manual-table schema, the reconciliation of
a run, ordinal words and lists in prose. Nothing here decides a number or knows a figure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nao_analysis.errors import NaoError
from nao_analysis.figures.recipe import FigureContext, Reconciliation


def model_schema(model, name: str, fix: str) -> Callable[[Any], Any]:
    """A ``read_manual`` schema that validates YAML data with a pydantic ``model``; one-line errors."""
    from pydantic import ValidationError

    def validate(data: Any):
        if not isinstance(data, dict):
            raise NaoError(f"data/manual/{name}: expected a mapping at the top level - {fix}")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "file"
            raise NaoError(f"data/manual/{name}: {where}: {first['msg']} ({exc.error_count()} problem(s) in all) - {fix}") from None

    return validate


def reconciliation(ctx: FigureContext) -> Reconciliation:
    """The run's reconciliation, naming raw inputs by their registry titles when inputs differ."""
    titles = {s: ctx.source_title(s) for s in ctx.inputs if not s.startswith("manual:")}
    return Reconciliation(ctx.published, ctx.params.model_dump(mode="json"), titles)


def join_words(items: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def money(value: float) -> str:
    """GBP million as the report prints it: ``£298m``, ``£29.85m``, ``£11.6m``."""
    return "£" + f"{value:,.2f}".rstrip("0").rstrip(".") + "m"


def million(value: float) -> str:
    """GBP million in words, as report subtitles write it: ``£298 million``."""
    return "£" + f"{value:,.2f}".rstrip("0").rstrip(".") + " million"
