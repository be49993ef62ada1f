"""Diagrams drawn with matplotlib alone (no Graphviz or other system binaries): Figure 6's stakeholder map.

The positions come from :func:`nao_analysis.analysis.stakeholders.layered_layout`; this module only draws.
Each kind of body has its own fill *and* outline style, and each relation its own line style, so the legend
still reads in greyscale and for colour-blind readers.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle
from matplotlib.path import Path

from nao_analysis.analysis.stakeholders import KIND_LABELS, RELATION_LABELS
from nao_analysis.charts import PALETTE, TEXT, add_source_line, apply_house_style
from nao_analysis.errors import AnalysisError

#: Fill, outline, text colour and outline style for each kind of body (the report's three legend entries).
KIND_STYLE: dict[str, dict[str, str]] = {
    "central_government": {"face": PALETTE[0], "edge": PALETTE[0], "text": "white", "linestyle": "solid"},
    "governance_coordinating": {"face": "#d4ecea", "edge": PALETTE[1], "text": TEXT, "linestyle": "solid"},
    "local_implementing": {"face": "white", "edge": PALETTE[3], "text": TEXT, "linestyle": "dashed"},
}
#: Line colour and style for each relation.
RELATION_STYLE: dict[str, dict[str, object]] = {
    "provides_direction": {"color": "#0b0c0c", "linestyle": "solid", "linewidth": 1.3},
    "liaises_advises": {"color": "#6f777b", "linestyle": (0, (4, 3)), "linewidth": 1.1},
}
ROW_BAND = "#f3f2f1"
#: Opacity of an arrow marked ``inferred`` (our reading of the text rather than a relationship the report names).
INFERRED_ALPHA = 0.45
INFERRED_LABEL = "Paler arrow: relationship inferred from the report's text"
#: Characters per line of a box label; boxes are narrow because the widest row holds ten bodies.
LABEL_WIDTH = 17


def _edge_point(cx: float, cy: float, half_w: float, half_h: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the line from a box's centre towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(half_w / abs(dx) if dx else float("inf"), half_h / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def _waypoints_by_edge(routes: pd.DataFrame | None) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """The intermediate points of each arrow (its reserved slots), without the two box centres."""
    if routes is None or routes.empty:
        return {}
    result = {}
    for (source, target), points in routes.sort_values("point").groupby(["source", "target"], sort=False):
        result[(source, target)] = list(zip(points["x"], points["y"]))[1:-1]
    return result


def draw_stakeholder_diagram(
    layout: pd.DataFrame,
    relationships: pd.DataFrame,
    routes: pd.DataFrame | None = None,
    *,
    title: str,
    subtitle: str = "",
    source: str = "",
    notes: str | None = None,
    figsize: tuple[float, float] = (15.0, 10.0),
) -> Figure:
    """Draw the layered stakeholder map with the report's legend.

    Parameters
    ----------
    layout
        One row per body, from :func:`~nao_analysis.analysis.stakeholders.layered_layout`
        (uses ``node, label, kind, layer_label, layer_index, x, y``).
    relationships
        One row per relationship, from :func:`~nao_analysis.analysis.stakeholders.relationships_table`
        (uses ``source, target, relation`` and, if present, ``inferred``, drawn paler).
    routes
        The points each arrow passes through, from :func:`~nao_analysis.analysis.stakeholders.edge_routes`;
        without it, arrows are straight lines between boxes.
    title, subtitle, source, notes
        The report's statement title, subtitle, source line and any notes.
    figsize
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The drawing; the caller saves it.

    Raises
    ------
    AnalysisError
        If a relationship names a body the layout does not place.
    """
    apply_house_style()
    positions = layout.set_index("node")
    missing = sorted(set(relationships["source"]).union(relationships["target"]) - set(positions.index))
    if missing:
        raise AnalysisError(f"fig06 diagram: relationships name bodies with no position: {', '.join(missing)}")

    fig, ax = plt.subplots(figsize=figsize)
    ax.set_axis_off()
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", color=TEXT)
    if subtitle:
        fig.text(0.01, 0.935, subtitle, ha="left", va="top", fontsize=10, color="#505a5f")

    # Box width from the tightest spacing within a row (rows are centred, so x values differ between rows).
    gaps = [b - a for _, row in layout.groupby("layer_index") for a, b in zip(sorted(row["x"]), sorted(row["x"])[1:])]
    step = min(gaps, default=0.2)
    rows = sorted(layout["y"].unique())
    row_gap = min((b - a for a, b in zip(rows, rows[1:])), default=0.5)
    half_w, half_h = step * 0.45, row_gap * 0.2

    # A light band behind each layer, labelled, so the rows read as the report's tiers.
    for (_, layer_label), members in layout.groupby(["layer_index", "layer_label"], sort=True):
        y = members["y"].iloc[0]
        ax.add_patch(
            Rectangle(
                (-half_w - 0.02, y - row_gap * 0.42), 1 + 2 * half_w + 0.04, row_gap * 0.84, facecolor=ROW_BAND, edgecolor="none", zorder=0
            )
        )
        ax.text(
            -half_w - 0.015, y + row_gap * 0.4, layer_label, ha="left", va="top", fontsize=8.5, style="italic", color="#505a5f", zorder=1
        )

    waypoints = _waypoints_by_edge(routes)
    for edge in relationships.itertuples(index=False):
        start, end = positions.loc[edge.source], positions.loc[edge.target]
        style = RELATION_STYLE[edge.relation]
        between = waypoints.get((edge.source, edge.target), [])
        if start["y"] == end["y"]:
            # Same-row links arc over the row so they do not run through the boxes between.
            rad = -0.35 if end["x"] > start["x"] else 0.35
            arrow = FancyArrowPatch((start["x"], start["y"] + half_h), (end["x"], end["y"] + half_h), connectionstyle=f"arc3,rad={rad}")
        else:
            # Leave and enter each box towards the neighbouring point, passing through the slots reserved for the arrow.
            first_towards = between[0] if between else (end["x"], end["y"])
            last_from = between[-1] if between else (start["x"], start["y"])
            vertices = [
                _edge_point(start["x"], start["y"], half_w, half_h, *first_towards),
                *between,
                _edge_point(end["x"], end["y"], half_w, half_h, *last_from),
            ]
            arrow = FancyArrowPatch(path=Path(vertices, [Path.MOVETO] + [Path.LINETO] * (len(vertices) - 1)))
        arrow.set_arrowstyle("-|>", head_length=0.6, head_width=0.3)
        arrow.set_mutation_scale(11)
        # A relationship that is our reading of the text (not named by the report) is drawn paler.
        inferred = bool(getattr(edge, "inferred", False))
        arrow.set(
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=style["linewidth"],
            zorder=2,
            alpha=INFERRED_ALPHA if inferred else 1.0,
        )
        ax.add_patch(arrow)

    for body in layout.itertuples(index=False):
        style = KIND_STYLE[body.kind]
        ax.add_patch(
            Rectangle(
                (body.x - half_w, body.y - half_h),
                2 * half_w,
                2 * half_h,
                facecolor=style["face"],
                edgecolor=style["edge"],
                linestyle=style["linestyle"],
                linewidth=1.4,
                zorder=3,
            )
        )
        ax.text(
            body.x,
            body.y,
            textwrap.fill(body.label, LABEL_WIDTH),
            ha="center",
            va="center",
            fontsize=7.6,
            color=style["text"],
            zorder=4,
            linespacing=1.1,
        )

    ax.set_xlim(-half_w - 0.03, 1 + half_w + 0.03)
    ax.set_ylim(min(rows) - row_gap * 0.5, max(rows) + row_gap * 0.5)

    handles = [
        Patch(facecolor=KIND_STYLE[k]["face"], edgecolor=KIND_STYLE[k]["edge"], linestyle=KIND_STYLE[k]["linestyle"], label=KIND_LABELS[k])
        for k in KIND_LABELS
    ] + [
        Line2D(
            [0],
            [0],
            color=RELATION_STYLE[r]["color"],
            linestyle=RELATION_STYLE[r]["linestyle"],
            linewidth=RELATION_STYLE[r]["linewidth"],
            marker=">",
            markevery=[-1],
            label=RELATION_LABELS[r],
        )
        for r in RELATION_LABELS
    ]
    if "inferred" in relationships.columns and relationships["inferred"].any():
        handles.append(
            Line2D([0], [0], color=RELATION_STYLE["provides_direction"]["color"], alpha=INFERRED_ALPHA, linewidth=1.3, label=INFERRED_LABEL)
        )
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8.5, bbox_to_anchor=(0.5, 0.07), handlelength=2.6)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.14)
    if source:
        add_source_line(fig, source, notes)
    return fig
