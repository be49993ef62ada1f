"""One house style for every chart: the Government Analysis Function colour-blind-safe palette,
readable fonts, statement titles like the report's, and a source line."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

#: Analysis Function categorical palette (colour-blind safe, in this order).
PALETTE = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
#: Sequential and diverging ramps for maps (ColorBrewer, colour-blind safe).
DIVERGING = ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"]
NO_DATA_GREY = "#bfbfbf"
TEXT = "#0b0c0c"


def apply_house_style() -> None:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 10,
            "axes.edgecolor": "#505a5f",
            "axes.labelcolor": TEXT,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.grid.axis": "y",
            "grid.color": "#e0e0e0",
            "xtick.color": TEXT,
            "ytick.color": TEXT,
            "legend.frameon": False,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "svg.hashsalt": "nao-analysis",
            "svg.fonttype": "none",  # text stays text: smaller, faster, searchable and readable by screen readers
            "figure.facecolor": "white",
        }
    )


def new_chart(title: str, subtitle: str = "", *, figsize: tuple[float, float] = (8.0, 4.8)):
    """A figure and axes with the report's statement title and subtitle above the plot."""
    apply_house_style()
    fig, ax = plt.subplots(figsize=figsize)
    fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    if subtitle:
        fig.text(0.01, 0.925, subtitle, ha="left", va="top", fontsize=9.5, color="#505a5f")
    fig.subplots_adjust(top=0.82, bottom=0.18)
    return fig, ax


def add_source_line(fig, source: str, notes: str | None = None) -> None:
    text = f"Source: {source}"
    if notes:
        text = f"{notes}\n{text}"
    fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=7.5, color="#505a5f", wrap=True)


def label_line_ends(ax, series: dict[str, tuple], fmt: str = "{:,.0f}") -> None:
    """Label the last point of each line, as the report does."""
    for x, y in series.values():
        ax.annotate(fmt.format(y), (x, y), textcoords="offset points", xytext=(4, 0), va="center", fontsize=8.5)
