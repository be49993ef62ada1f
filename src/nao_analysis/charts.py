"""One house style for every chart, on the Government Analysis Function's chart guidance (``afcharts``).

- Colours come from ``afcharts``: its categorical palette for series, its sequential palette for maps and
  its focus grey for "no data". :func:`series_colours` hands a panel distinct colours or refuses.
- Text is laid out once: :func:`wrap_text` wraps with :mod:`textwrap` at a width measured once per font
  size, instead of matplotlib's ``wrap=True`` (which re-measures the text at every draw).
- :func:`save_png_and_svg` writes both formats with one tight-bounding-box computation.
- :func:`find_text_overlaps` lists the pairs of visible texts whose rendered boxes overlap.
- Helpers for honest charts: :func:`direct_label` (labels at line ends instead of a legend),
  :func:`mark_series_end` (a series that stops because its source stops says so) and
  :func:`not_in_report_title` / :func:`not_in_report_caption` for charts the report does not have.
"""

from __future__ import annotations

import functools
import math
import textwrap
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from afcharts.af_colours import get_af_colours  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from nao_analysis.errors import AnalysisError  # noqa: E402

#: Analysis Function categorical palette (colour-blind safe, in this order), from afcharts.
PALETTE: list[str] = get_af_colours("categorical", number_of_colours=6)
#: The six above, then colours chosen to stay at least 25 CIELAB units from every other entry and at
#: 3:1 contrast or more on white. afcharts 1.2 offers no categorical palette beyond six colours; the
#: guidance advises against more than six series, so a panel needing these extras should be rare.
EXTENDED_PALETTE: list[str] = [*PALETTE, "#6B7F00", "#C5168A", "#8B5A2B", "#2073BC"]
#: afcharts' sequential palette, darkest first (five blues).
SEQUENTIAL: list[str] = get_af_colours("sequential", number_of_colours=5)
#: afcharts' focus grey, for areas without data: the same grey the interactive map uses, so both maps agree.
#: (afcharts' paler null grey, #F2F2F2, would read as the page background under the hatching.)
NO_DATA_GREY: str = get_af_colours("focus")[1]
#: ColorBrewer RdBu, colour-blind safe (kept for callers that need a diverging ramp).
TEXT = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
#: Every chart keeps DejaVu Sans (in afcharts' fallback list) so that images are identical on every machine;
#: afcharts would pick Arial where it is installed.
FONT_FAMILY = "DejaVu Sans"
NOT_IN_REPORT = "Not in the report"
#: zlib level for PNGs: level 3 encodes a chart in about 60% of the time of the default 6, for files about 6% larger.
PNG_COMPRESS_LEVEL = 3

_AFCHARTS_KEYS = (
    "axes.titlelocation",
    "axes.edgecolor",
    "axes.labelcolor",
    "axes.linewidth",
    "axes.spines.top",
    "axes.spines.right",
    "axes.axisbelow",
    "axes.grid",
    "axes.grid.axis",
    "axes.grid.which",
    "grid.color",
    "grid.linestyle",
    "grid.linewidth",
    "lines.linewidth",
    "xtick.color",
    "xtick.labelcolor",
    "xtick.direction",
    "ytick.color",
    "ytick.labelcolor",
    "ytick.direction",
    "legend.frameon",
)


@functools.cache
def _afcharts_rc() -> dict[str, object]:
    """The afcharts matplotlib style, read once from the package's own style sheet."""
    style = resources.files("afcharts").joinpath("afcharts.mplstyle")
    with resources.as_file(style) as path:
        params = matplotlib.rc_params_from_file(path, use_default_template=False)
    return {key: params[key] for key in _AFCHARTS_KEYS if key in params}


def apply_house_style() -> None:
    """afcharts' axes, grid, tick and line style with the report's text sizes.

    afcharts sets 14 pt text for its 6.4-inch default canvas; the report's charts are drawn 8 to 15 inches
    wide and shown scaled to the page, where 10 pt body text reads at about the same size as afcharts'.
    """
    plt.rcParams.update(_afcharts_rc())
    plt.rcParams.update(
        {
            "font.family": FONT_FAMILY,
            "font.size": 10,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
            # afcharts hides the left spine; the report's axes keep it, with afcharts' light grey.
            "axes.spines.left": True,
            "text.color": TEXT,
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "svg.hashsalt": "nao-analysis",
            "svg.fonttype": "none",  # text stays text: smaller, faster, searchable and readable by screen readers
            "figure.facecolor": "white",
        }
    )


# -- colours ---------------------------------------------------------------------------------------------


def series_colours(n: int) -> list[str]:
    """``n`` distinct colours for the series of one panel.

    Up to six: afcharts' categorical palette (two series get its duo pair). Seven to ten:
    :data:`EXTENDED_PALETTE`. More than that cannot be told apart: split the panel.

    Raises
    ------
    AnalysisError
        If ``n`` is below 1 or above ``len(EXTENDED_PALETTE)``.
    """
    if n < 1:
        raise AnalysisError(f"series_colours: asked for {n} colours - a panel needs at least one series")
    if n == 1:
        return PALETTE[:1]
    if n <= len(PALETTE):
        return list(get_af_colours("categorical", number_of_colours=n))
    if n <= len(EXTENDED_PALETTE):
        return EXTENDED_PALETTE[:n]
    raise AnalysisError(
        f"series_colours: {n} series in one panel, but only {len(EXTENDED_PALETTE)} colours stay distinguishable - split the panel"
    )


# -- text laid out once ----------------------------------------------------------------------------------

#: Characters typical of the report's English notes; their mean advance is the width used to wrap.
_SAMPLE = "The proportion of the population that report having taken any drug, 2010-11 to 2021-22 (£298m; 9.2%)."


@functools.lru_cache(maxsize=64)
def glyph_width_pt(fontsize: float, weight: str = "normal", family: str = FONT_FAMILY) -> float:
    """Mean advance of one character at ``fontsize`` in points, measured once per size and weight."""
    props = FontProperties(family=family, size=fontsize, weight=weight)
    width, _height, _descent = TextToPath().get_text_width_height_descent(_SAMPLE, props, ismath=False)
    return width / len(_SAMPLE)


@functools.lru_cache(maxsize=4096)
def wrap_text(text: str, width_inches: float, fontsize: float, weight: str = "normal") -> str:
    """``text`` wrapped to ``width_inches`` at ``fontsize``, keeping its own line breaks.

    The same string wrapped twice is measured once (the result is cached).
    """
    chars = max(8, int(width_inches * 72 / glyph_width_pt(fontsize, weight)))
    return "\n".join(textwrap.fill(line, chars) if line else "" for line in text.split("\n"))


def new_chart(title: str, subtitle: str = "", *, figsize: tuple[float, float] = (8.0, 4.8)):
    """A figure and axes with the report's statement title and subtitle above the plot."""
    apply_house_style()
    fig, ax = plt.subplots(figsize=figsize)
    width = figsize[0] * 0.98
    title_text = wrap_text(title, width, 12, "bold")
    subtitle_text = wrap_text(subtitle, width, 9.5) if subtitle else ""
    # The layout below suits a one-line title and subtitle; each extra wrapped line moves what follows down.
    title_extra = title_text.count("\n") * 12 * 1.2 / 72 / figsize[1]
    subtitle_extra = subtitle_text.count("\n") * 9.5 * 1.2 / 72 / figsize[1]
    fig.suptitle(title_text, x=0.01, ha="left", fontsize=12, fontweight="bold", color=TEXT)
    if subtitle_text:
        fig.text(0.01, 0.925 - title_extra, subtitle_text, ha="left", va="top", fontsize=9.5, color=SECONDARY_TEXT)
    fig.subplots_adjust(top=0.82 - title_extra - subtitle_extra, bottom=0.18)
    return fig, ax


def add_source_line(fig, source: str, notes: str | None = None) -> Text:
    """Notes and the source line at the foot of the figure, wrapped to its width."""
    text = f"Source: {source}"
    if notes:
        text = f"{notes}\n{text}"
    wrapped = wrap_text(text, fig.get_figwidth() * 0.98, 7.5)
    return fig.text(0.01, 0.01, wrapped, ha="left", va="bottom", fontsize=7.5, color=SECONDARY_TEXT)


def direct_label(ax, lines: Iterable | None = None, *, fontsize: float = 8.0, gap_points: float | None = None) -> list[Text]:
    """Name each line at its last point, in its colour, instead of a legend.

    Labels that would collide are pushed apart vertically (at least ``gap_points``, default 1.25 x the
    font size); any legend on the axes is removed, since the labels replace it.

    Parameters
    ----------
    ax
        The axes holding the lines.
    lines
        ``Line2D`` artists to label (default: every line with a label not starting with ``_``).

    Returns
    -------
    list of matplotlib.text.Text
        The labels, in the order of ``lines``.
    """
    chosen = [line for line in (ax.get_lines() if lines is None else lines) if not str(line.get_label()).startswith("_")]
    ends = []
    for line in chosen:
        # get_xydata() is in plotting units (dates already numbers), so it transforms like any data point.
        finite = [(float(x), float(y)) for x, y in line.get_xydata() if math.isfinite(x) and math.isfinite(y)]
        if finite:
            ends.append((line, *finite[-1]))
    if not ends:
        return []
    gap = (gap_points if gap_points is not None else fontsize * 1.25) * ax.figure.dpi / 72
    to_display = ax.transData.transform
    placed = sorted(((to_display((x, y))[1], i) for i, (_line, x, y) in enumerate(ends)), reverse=True)
    positions: dict[int, float] = {}
    previous = math.inf
    for y_display, i in placed:
        y_display = min(y_display, previous - gap)
        positions[i] = y_display
        previous = y_display
    texts = []
    for i, (line, x, y) in enumerate(ends):
        shift = (positions[i] - to_display((x, y))[1]) * 72 / ax.figure.dpi
        texts.append(
            ax.annotate(
                str(line.get_label()),
                (x, y),
                textcoords="offset points",
                xytext=(6, shift),
                va="center",
                ha="left",
                fontsize=fontsize,
                color=line.get_color(),
                annotation_clip=False,
            )
        )
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    return texts


def mark_series_end(ax, x, y, text: str, *, colour: str = SECONDARY_TEXT, fontsize: float = 7.5) -> Text:
    """Say on the chart why a series stops (e.g. "Series ends: the survey table stops at 2017-18").

    A short leader runs from the series' last point to the note, above and to the right of it.
    """
    return ax.annotate(
        text,
        (x, y),
        textcoords="offset points",
        xytext=(8, 14),
        ha="left",
        va="bottom",
        fontsize=fontsize,
        color=colour,
        arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8, "shrinkA": 0, "shrinkB": 2},
        annotation_clip=False,
    )


def not_in_report_title(title: str) -> str:
    """A chart title that says the chart is an addition, not one of the report's figures."""
    return f"{NOT_IN_REPORT}: {title}"


def not_in_report_caption(title: str, *, based_on: Sequence[str] = ()) -> str:
    """The caption of a chart the report does not have: no figure number, and what it is drawn from."""
    caption = f"Additional chart ({NOT_IN_REPORT.lower()}): {title}"
    if based_on:
        caption += f". Drawn from the data of {_join(list(based_on))}"
    return caption + "."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- saving ----------------------------------------------------------------------------------------------


def _prewrap(fig) -> None:
    """Replace matplotlib's ``wrap=True`` (re-measured at every draw) by text wrapped once to the same width."""
    width_in = fig.get_figwidth()
    for text in fig.findobj(Text):
        if not text.get_wrap() or not text.get_text():
            continue
        x_fig = fig.transFigure.inverted().transform(text.get_transform().transform(text.get_unitless_position()))[0]
        x_fig = min(max(x_fig, 0.0), 1.0)
        room = {"left": 1 - x_fig, "right": x_fig, "center": 2 * min(x_fig, 1 - x_fig)}[text.get_horizontalalignment()]
        text.set_text(wrap_text(text.get_text(), max(room, 0.2) * width_in * 0.98, text.get_fontsize(), str(text.get_fontweight())))
        text.set_wrap(False)


def tight_bbox(fig, dpi: float | None = None) -> Bbox:
    """The figure's tight bounding box in inches, padded as ``savefig`` pads it, measured at ``dpi``."""
    dpi = float(dpi or matplotlib.rcParams["savefig.dpi"])
    original = fig.dpi
    try:
        fig.set_dpi(dpi)
        renderer = fig.canvas.get_renderer()
        with renderer._draw_disabled():
            fig.draw(renderer)
        bbox = fig.get_tightbbox(renderer)
    finally:
        fig.set_dpi(original)
    pad = matplotlib.rcParams["savefig.pad_inches"]
    return bbox.padded(pad, pad)


def save_png_and_svg(
    fig,
    png_path: str | Path,
    svg_path: str | Path,
    *,
    png_metadata: dict | None = None,
    svg_metadata: dict | None = None,
    dpi: float | None = None,
) -> tuple[Path, Path]:
    """Write ``fig`` as PNG and SVG with one layout pass shared by both.

    matplotlib draws each format with its own renderer, so two draws are unavoidable; what this saves is
    ``bbox_inches="tight"``'s extra measuring draw per format (the box is computed once, at the PNG's
    resolution, and used for both) and the
    re-measuring of ``wrap=True`` texts, which are wrapped once.

    Parameters
    ----------
    fig
        A drawn-or-not matplotlib figure.
    png_path, svg_path
        Where to write; the caller handles atomic replacement.
    png_metadata, svg_metadata
        Passed to ``savefig`` (e.g. ``{"Title": ..., "Software": "nao-analysis"}`` and ``{"Date": None}``).
    dpi
        PNG resolution (default ``savefig.dpi``).

    Returns
    -------
    (Path, Path)
        The PNG and SVG paths.
    """
    _prewrap(fig)
    bbox = tight_bbox(fig, dpi)
    fig.savefig(png_path, format="png", dpi=dpi, bbox_inches=bbox, metadata=png_metadata, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    fig.savefig(svg_path, format="svg", bbox_inches=bbox, metadata=svg_metadata if svg_metadata is not None else {"Date": None})
    return Path(png_path), Path(svg_path)


# -- checks ----------------------------------------------------------------------------------------------

#: Overlaps smaller than this many square pixels (at the figure's dpi) are anti-aliasing, not collisions.
OVERLAP_TOLERANCE_PX2 = 2.0


def _drawn_texts(fig) -> tuple[list[Text], object]:
    """The text artists a draw actually renders (tick labels outside the view and hidden texts are skipped)."""
    drawn: list[Text] = []
    original = Text.draw

    def recording_draw(self, renderer):
        # Text.draw returns early for invisible or empty text; only record what reaches the renderer.
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    Text.draw = recording_draw
    try:
        fig.canvas.draw()
    finally:
        Text.draw = original
    return drawn, fig.canvas.get_renderer()


def _outline(text: Text, renderer):
    """The text's rendered rectangle as a polygon in pixels (rotated texts are rotated rectangles)."""
    from shapely import affinity, geometry

    # Text's own extent: an annotation's includes its leader line, which may cross text without hiding it.
    extent = Text.get_window_extent(text, renderer)
    angle = text.get_rotation() % 90
    box = geometry.box(extent.x0, extent.y0, extent.x1, extent.y1)
    if math.isclose(angle, 0.0, abs_tol=1e-6):
        return box
    # The axis-aligned extent of a rotated text is centred on the text's own rectangle: measure that
    # rectangle unrotated and turn it about the centre.
    rotation = text.get_rotation()
    text.set_rotation(0)
    try:
        flat = Text.get_window_extent(text, renderer)
    finally:
        text.set_rotation(rotation)
    cx, cy = (extent.x0 + extent.x1) / 2, (extent.y0 + extent.y1) / 2
    upright = geometry.box(cx - flat.width / 2, cy - flat.height / 2, cx + flat.width / 2, cy + flat.height / 2)
    return affinity.rotate(upright, rotation, origin=(cx, cy))


def find_text_overlaps(fig, tolerance_px2: float = OVERLAP_TOLERANCE_PX2) -> list[tuple[str, str]]:
    """Pairs of visible texts whose rendered boxes overlap in a drawn figure.

    Titles, axis labels, tick labels, legend entries, annotations and free texts are all compared; a text
    that is not drawn (hidden, empty, or a tick outside the axis limits) is not.

    Returns
    -------
    list of (str, str)
        The two texts of each overlapping pair, in drawing order; empty when nothing overlaps.
    """
    texts, renderer = _drawn_texts(fig)
    outlines = [(t, _outline(t, renderer)) for t in texts]
    overlaps = []
    for i, (first, first_shape) in enumerate(outlines):
        for second, second_shape in outlines[i + 1 :]:
            if first is second or not first_shape.intersects(second_shape):
                continue
            if first_shape.intersection(second_shape).area > tolerance_px2:
                overlaps.append((first.get_text(), second.get_text()))
    return overlaps
