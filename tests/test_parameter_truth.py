"""Every word follows the run: under parameters other than the published ones, no text states a year or number
that belongs to the published run unless this run's parameters or results hold it too, and "as published" is
said only of the published parameters."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import requires_mirror

ROOT = Path(__file__).resolve().parents[1]

#: Per figure, a parameter set the mirror's real data support that differs from the published run.
OTHER_RUNS = {
    "fig01": {"measure": "last_month"},
    "fig02": {"source": "ons_drug_deaths_england_2023reg_extract", "start_year": 2013, "end_year": 2020},
    "fig03": {
        "base_year": "2013-14",
        "target_year": "2022-23",
        "price_year": "2022-23",
        "basis": "outturn",
        "base_source": "ro3_outturn_2013_14",
        "target_source": "ro3_outturn_2022_23",
        "crosswalk_policy": "aggregate",
        "crosswalk_sources": ["ra_budget_2021_22_csv", "ro3_outturn_2022_23"],
    },
    "fig04": {"start_year": "2014-15"},
    "fig05": {"year": "2019-20", "threshold": 38},
    "fig06": {"show_inferred": False},
    "fig07": {"sum_tolerance_m": 1.0},
    "fig08": {"sum_tolerance_m": 1.0},
    "fig09": {"sum_tolerance_m": 1.0},
    "fig10": {},
    "app2": {},
}

NUMBER = re.compile(r"(?<![\w.])[-\u2212+]?\d[\d,]*(?:\.\d+)?(?:-\d{2})?")


def _tokens(text: str) -> set[str]:
    """Numbers as written, normalised: '2,846' -> '2846', '-40%' -> '40', '2014-15' kept whole."""
    found = set()
    for raw in NUMBER.findall(text):
        token = raw.replace(",", "").replace("\u2212", "-").lstrip("+-")
        if re.fullmatch(r"\d{4}-\d{2}", token):
            found.add(token)
            continue
        try:
            value = float(token)
        except ValueError:
            continue
        found.add(f"{value:g}")
    return found


def _published_tokens(figure_id: str, params: dict) -> set[str]:
    path = ROOT / "data" / "manual" / "published" / f"{figure_id}.yaml"
    if not path.exists():
        return set()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    tokens = set()
    for row in data.get("checks", []):
        tokens.add(f"{abs(float(row['published'])):g}")
    run = (data.get("published_run") or {}).get("parameters") or {}
    for name, value in run.items():
        if params.get(name) != value:
            tokens |= _tokens(str(value))
    # Small counts and percentages (1, 2, 5, 50...) are everywhere in prose; the check is about distinctive numbers.
    return {t for t in tokens if not re.fullmatch(r"\d{1,2}", t)}


def _allowed_tokens(result, params: dict) -> set[str]:
    allowed = set()
    for value in params.values():
        allowed |= _tokens(str(value))
    for row in result.reconciliation:
        if row.get("rebuilt") is not None:
            for digits in (0, 1):
                allowed |= _tokens(f"{abs(row['rebuilt']):.{digits}f}")
    for frame in [*result.data.values(), *result.tables.values()]:
        for column in frame.columns:
            allowed |= _tokens(str(column))
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values):
                for v in values.dropna().unique()[:5000]:
                    for digits in (0, 1):
                        allowed |= _tokens(f"{abs(float(v)):.{digits}f}")
            else:
                for v in values.dropna().astype(str).unique()[:5000]:
                    allowed |= _tokens(v)
    return allowed


def _notebook_markdown(figure_id: str) -> list[str]:
    script = next((ROOT / "notebooks").glob(f"{figure_id}_*.py"), None)
    if script is None:
        return []
    cells = script.read_text(encoding="utf-8").split("# %%")
    return [cell for cell in cells if cell.startswith(" [markdown]")]


def _texts(result) -> dict[str, str]:
    texts = {"title": result.title, "subtitle": result.subtitle, "source": result.source}
    texts |= {f"note {i}": n for i, n in enumerate(result.notes, 1)}
    texts |= {f"alt {c.name or ''}": c.alt for c in result.charts}
    texts |= {f"text {k}": v for k, v in result.text.items()}
    texts |= {f"assumption {i}": a for i, a in enumerate(result.assumptions, 1)}
    return texts


@requires_mirror
@pytest.mark.parametrize("figure_id", list(OTHER_RUNS))
def test_text_follows_a_non_published_run(figure_id, settings, tmp_path):
    from nao_analysis.figures.runtime import execute, prepare

    ctx = prepare(figure_id, settings=settings, edition="offline", overrides={figure_id: OTHER_RUNS[figure_id]})
    result = execute(ctx)
    params = ctx.params.model_dump(mode="json")
    stale = _published_tokens(figure_id, params) - _allowed_tokens(result, params)
    problems = []
    for where, text in {**_texts(result), **{f"markdown {i}": m for i, m in enumerate(_notebook_markdown(figure_id))}}.items():
        for token in _tokens(text) & stale:
            problems.append(f"{where}: states {token}, a number of the published run that this run does not hold")
        if "as published" in text.lower() and not ctx.published.is_published(params):
            problems.append(f"{where}: says 'as published' under non-published parameters")
    assert not problems, "\n".join(problems)


@requires_mirror
def test_as_published_is_said_of_the_published_parameters_only(settings):
    from nao_analysis.figures.runtime import execute, prepare

    ctx = prepare("fig03", settings=settings, edition="offline", overrides={"fig03": OTHER_RUNS["fig03"]})
    result = execute(ctx)
    assert "as published" not in result.text["run_label"]
    assert result.text["run_label"] == "Outturn basis (RO3)"
