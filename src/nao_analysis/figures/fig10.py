"""TRANSITION: parameters only, until this figure's recipe lands."""

from __future__ import annotations

from nao_analysis.figures.recipe import FigureSpec
from nao_analysis.params import FIGURES, load_all
from nao_analysis.params.fig10 import Fig10Params as Params

load_all()
_old = FIGURES["fig10"]
FIGURE = FigureSpec(_old.figure_id, _old.slug, _old.title, Params)
