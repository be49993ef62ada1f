"""The shared choropleth for the report's maps (Figure 3, Figure 5).

One function draws every map the same way: fixed, user-defined class breaks (so maps of
different years stay comparable, assigned with ``numpy.digitize``), a colour-blind-safe palette whose
every class stays clearly apart from the no-data colour, areas without data hatched on afcharts' focus
grey and named, and an inset that enlarges London, whose boroughs are unreadable at national scale. The
inset is placed from the geometry, where it covers no part of England.

Typical use::

    from nao_analysis.maps import choropleth, classify, no_data_areas

    figure = choropleth(
        gdf, "change_pct",
        bins=[-50, -25, 0, float("inf")],
        labels=["Fall of 50% or more", "Fall of 25% to 50%", "Fall of 0% to 25%", "Increase"],
        palette=["#b35806", "#f1a340", "#fee0b6", "#998ec3"],
        title="...", subtitle="...",
    )
    missing = no_data_areas(gdf, "change_pct")      # -> ["Slough"]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from nao_analysis.charts import NO_DATA_GREY, SECONDARY_TEXT, TEXT, apply_house_style, wrap_text  # noqa: E402
from nao_analysis.errors import AnalysisError  # noqa: E402

if TYPE_CHECKING:
    import geopandas as gpd

#: British National Grid: metres, true shapes for Great Britain.
BRITISH_NATIONAL_GRID = "EPSG:27700"
#: London boroughs and the City of London (ONS codes E09...).
LONDON_CODE_PREFIX = "E09"
#: ColorBrewer PuOr, colour-blind safe: three falls (dark to light orange) and one increase (purple).
FALLS_AND_INCREASE_PALETTE = ["#b35806", "#f1a340", "#fee0b6", "#998ec3"]
NO_DATA_HATCH = "////"
NO_DATA_EDGE = SECONDARY_TEXT
#: Smallest CIELAB distance (Delta E 1976) allowed between a class colour and the no-data fill. Figure 5's old
#: pale lilac (#c5c2de) was 15 from this grey (#bfbfbf) and read as no data; 20 keeps every class clearly apart.
MIN_NO_DATA_DISTANCE = 20.0


# -- colours ---------------------------------------------------------------------------------------------


def _lab(colour: str) -> np.ndarray:
    """CIELAB (D65) of a colour, for perceptual distances."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = (
        np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]) @ linear
    ) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def colour_distance(first: str, second: str) -> float:
    """Perceptual distance between two colours (CIELAB Delta E 1976; about 2.3 is just noticeable)."""
    return float(np.linalg.norm(_lab(first) - _lab(second)))


def sequential_palette(n: int) -> list[str]:
    """afcharts' sequential blues for ``n`` classes (3 to 5), lightest first, as afcharts subsets them."""
    from afcharts.af_colours import get_af_colours

    if n not in (3, 4, 5):
        raise AnalysisError(f"sequential_palette: afcharts' sequential palette has 3, 4 or 5 colours, not {n} - use fewer classes")
    return list(reversed(get_af_colours("sequential", number_of_colours=n)))


def palette_colours(palette: Sequence[str] | str, n: int) -> list[str]:
    """One colour per class: the given list, or ``n`` colours spread along a matplotlib colormap.

    Along a colormap, colours too close to the no-data fill (the pale middle of a diverging ramp) are
    skipped, so every class stays distinguishable from the hatched no-data areas.
    """
    if isinstance(palette, str):
        cmap = matplotlib.colormaps[palette]
        candidates = [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.05, 0.95, 91)]
        usable = [c for c in candidates if colour_distance(c, NO_DATA_GREY) >= MIN_NO_DATA_DISTANCE]
        return [usable[round(i)] for i in np.linspace(0, len(usable) - 1, n)]
    colours = list(palette)
    if len(colours) != n:
        raise AnalysisError(f"choropleth: palette has {len(colours)} colours for {n} classes - give one colour per label")
    return colours


def check_classes_readable(colours: Sequence[str], no_data: str = NO_DATA_GREY) -> None:
    """Raise if a class colour is too close to the no-data fill to be told apart from it."""
    for colour in colours:
        distance = colour_distance(colour, no_data)
        if distance < MIN_NO_DATA_DISTANCE:
            raise AnalysisError(
                f"choropleth: class colour {colour} is {distance:.0f} CIELAB units from the no-data colour {no_data} "
                f"(minimum {MIN_NO_DATA_DISTANCE:.0f}) - choose a darker or more saturated colour"
            )


# -- classes ---------------------------------------------------------------------------------------------


def classify(values: pd.Series, bins: Sequence[float], labels: Sequence[str]) -> pd.Series:
    """Assign each value to a fixed, user-defined class (``numpy.digitize`` on the explicit bounds).

    Parameters
    ----------
    values : pandas.Series
        Numbers to classify; NaN means "no data" and stays NaN.
    bins : sequence of float
        Upper bounds of the classes, increasing, right-closed (a value equal to a bound falls in the
        lower class). The last bound must cover the largest value: use ``float("inf")`` for an
        open-ended top class.
    labels : sequence of str
        One label per class.

    Returns
    -------
    pandas.Series
        An ordered categorical with the labels, aligned on ``values.index``.

    Raises
    ------
    AnalysisError
        If bins are not increasing, labels do not match bins, or a value lies above the last bound.
    """
    bounds = np.asarray([float(b) for b in bins])
    if len(bounds) != len(labels):
        raise AnalysisError(f"classify: {len(bounds)} bins but {len(labels)} labels - give one label per class")
    if np.any(np.diff(bounds) <= 0):
        raise AnalysisError(f"classify: bins {bounds.tolist()} must be strictly increasing")
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    present = ~np.isnan(numbers)
    if present.any() and numbers[present].max() > bounds[-1]:
        raise AnalysisError(
            f"classify: value {numbers[present].max():g} lies above the last bin bound {bounds[-1]:g} - add a higher bound or float('inf')"
        )
    codes = np.full(len(numbers), -1, dtype=int)
    # right=True: bins[i-1] < x <= bins[i] gives class i, so a value equal to a bound stays in the lower class.
    codes[present] = np.digitize(numbers[present], bounds, right=True)
    categories = pd.Categorical.from_codes(codes, categories=list(labels), ordered=True)
    return pd.Series(categories, index=values.index, name=f"{values.name}_class" if values.name else "class")


def no_data_areas(gdf: pd.DataFrame, value_column: str, name_column: str = "name") -> list[str]:
    """Names of the areas whose value is missing, sorted, for the "Data were unavailable for ..." note."""
    missing = gdf[pd.to_numeric(gdf[value_column], errors="coerce").isna()]
    return sorted(str(n) for n in missing[name_column])


# -- inset placement -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsetBox:
    """Where the inset goes, in the main map's data coordinates (metres, British National Grid)."""

    x: float
    y: float
    width: float
    height: float
    #: Height of the band above the map box kept free for the inset's title.
    title_band: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The whole footprint, title band included: (x0, y0, x1, y1)."""
        return (self.x, self.y, self.x + self.width, self.y + self.height + self.title_band)


#: Inset widths tried, as a share of the main map's width, largest first.
INSET_WIDTHS = (0.40, 0.36, 0.32, 0.28, 0.25)
#: Candidate positions per axis when searching for free space.
INSET_GRID = 25


def place_inset(land, inset_bounds: tuple[float, float, float, float], *, title_share: float = 0.16) -> InsetBox:
    """The largest inset box, with the enlarged area's proportions, that covers no part of ``land``.

    The search runs over ``land``'s bounding box extended southwards by the box's own height, so there is
    always open sea below the south coast. Of the free positions of the largest size that fits, the most
    southerly, then the most westerly, is taken: for England that is the sea south-west of Cornwall, away
    from the blank but real land of Wales and Scotland.

    Parameters
    ----------
    land
        A shapely geometry (England, in British National Grid).
    inset_bounds
        ``(x0, y0, x1, y1)`` of the enlarged area (London).
    title_share
        Height kept free above the box for the inset's title, as a share of the box's height.
    """
    import shapely
    from shapely.geometry import box

    x0, y0, x1, y1 = land.bounds
    width, height = x1 - x0, y1 - y0
    lx0, ly0, lx1, ly1 = inset_bounds
    aspect = (lx1 - lx0) / max(ly1 - ly0, 1.0)
    margin = 0.015 * max(width, height)
    shapely.prepare(land)
    for share in INSET_WIDTHS:
        w = share * width
        h = w / aspect
        band = h * title_share
        free = []
        for x in np.linspace(x0, x1 - w, INSET_GRID):
            for y in np.linspace(y0 - h - band - 2 * margin, y1 - h - band, INSET_GRID):
                if not land.intersects(box(x - margin, y - margin, x + w + margin, y + h + band + margin)):
                    free.append((y, x))
        if free:
            y, x = min(free)
            return InsetBox(float(x), float(y), float(w), float(h), float(band))
    raise AnalysisError(f"place_inset: no free space for an inset around land with bounds {land.bounds}")


# -- drawing ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _without_idle_redraws(fig) -> Iterator[None]:
    """geopandas asks the canvas to redraw after every layer it plots; on a file-only (Agg) canvas each
    request is a full render of the map, thrown away. The map is drawn once, when it is saved."""
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    try:
        yield
    finally:
        del fig.canvas.draw_idle


def _draw(ax, gdf: gpd.GeoDataFrame, classes: pd.Series, colours: list[str], edge_width: float) -> None:
    colour_of = dict(zip(classes.cat.categories, colours))
    has_class = classes.notna()
    with _without_idle_redraws(ax.figure):
        if has_class.any():
            gdf[has_class].plot(ax=ax, color=[colour_of[c] for c in classes[has_class]], edgecolor="white", linewidth=edge_width)
        if (~has_class).any():
            gdf[~has_class].plot(ax=ax, facecolor=NO_DATA_GREY, edgecolor=NO_DATA_EDGE, hatch=NO_DATA_HATCH, linewidth=edge_width)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.grid(False)


def choropleth(
    gdf: gpd.GeoDataFrame,
    value_column: str,
    *,
    bins: Sequence[float],
    labels: Sequence[str],
    palette: Sequence[str] | str = FALLS_AND_INCREASE_PALETTE,
    no_data_label: str = "Data unavailable",
    title: str = "",
    subtitle: str = "",
    legend_title: str = "",
    name_column: str = "name",
    code_column: str = "code",
    inset_code_prefix: str | None = LONDON_CODE_PREFIX,
    inset_title: str = "London",
    count_column: str | None = None,
    source: str = "",
    figsize: tuple[float, float] = (8.0, 9.5),
) -> Figure:
    """Draw a choropleth with fixed class breaks, hatched no-data areas and a London inset.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        One row per area, with ``code_column``, ``name_column``, ``value_column`` and a geometry.
        Any CRS; it is projected to British National Grid.
    value_column : str
        The numeric column to map. NaN = no data (drawn hatched on afcharts' focus grey, listed by
        :func:`no_data_areas`).
    bins, labels : sequence
        Fixed class upper bounds and their labels, as in :func:`classify`. Fixed bins keep maps of
        different years comparable (never data-driven quantiles).
    palette : sequence of str or str
        One colour per class (default: ColorBrewer PuOr, colour-blind safe), or a matplotlib colormap name.
        Every colour must stay :data:`MIN_NO_DATA_DISTANCE` from the no-data colour.
    no_data_label : str
        Legend entry for the hatched areas.
    title, subtitle, legend_title, source : str
        Texts drawn on the figure (statement title as in the report; source line at the bottom).
    name_column, code_column : str
        Columns holding area names and ONS codes.
    inset_code_prefix : str or None
        Areas whose code starts with this prefix are redrawn enlarged in an inset (default London, ``E09``),
        placed by :func:`place_inset` where it covers no area of the map; ``None`` for no inset.
    inset_title : str
        Caption of the inset.
    count_column : str or None
        A boolean column: only rows where it is True are counted in the legend (e.g. to count City of London
        within Hackney while still drawing it). ``None`` counts every area.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The map. Legend entries carry the number of areas in each class.

    Raises
    ------
    AnalysisError
        If a column is missing, the frame is empty, bins/labels/palette do not match, or a class colour is too
        close to the no-data colour.
    """
    for column in (value_column, name_column, code_column, *([count_column] if count_column else [])):
        if column not in gdf.columns:
            raise AnalysisError(f"choropleth: column {column!r} not in the map data (columns: {', '.join(map(str, gdf.columns))})")
    if gdf.empty:
        raise AnalysisError("choropleth: no areas to draw - check the join between values and boundaries")
    apply_house_style()
    shapes = gdf.to_crs(BRITISH_NATIONAL_GRID) if gdf.crs is not None else gdf
    shapes = shapes.reset_index(drop=True)
    classes = classify(shapes[value_column], bins, labels)
    colours = palette_colours(palette, len(labels))
    check_classes_readable(colours)

    width_in = figsize[0]
    figure = plt.figure(figsize=figsize)
    # The map on the left, anchored top-left; the legend to its right, never over it.
    main = figure.add_axes((0.0, 0.06, 0.68, 0.80), anchor="NW")
    _draw(main, shapes, classes, colours, edge_width=0.3)
    if title:
        wrapped = wrap_text(title, width_in * 0.98, 12, "bold")
        figure.text(0.01, 0.985, wrapped, ha="left", va="top", fontsize=12, fontweight="bold", color=TEXT)
    if subtitle:
        figure.text(0.01, 0.935, wrap_text(subtitle, width_in * 0.98, 9.5), ha="left", va="top", fontsize=9.5, color=SECONDARY_TEXT)

    counted = shapes[count_column].fillna(False).astype(bool) if count_column else pd.Series(True, index=shapes.index)
    counts = classes[counted].value_counts(sort=False)
    handles = [Patch(facecolor=c, edgecolor="white", label=f"{label} ({counts.get(label, 0)})") for label, c in zip(labels, colours)]
    n_missing = int(classes[counted].isna().sum())
    if classes.isna().any():
        handles.append(Patch(facecolor=NO_DATA_GREY, edgecolor=NO_DATA_EDGE, hatch=NO_DATA_HATCH, label=f"{no_data_label} ({n_missing})"))
    figure.legend(
        handles=handles,
        title=legend_title or None,
        loc="upper left",
        bbox_to_anchor=(0.68, 0.86),
        fontsize=8.5,
        title_fontsize=9,
        alignment="left",
    )

    if inset_code_prefix:
        in_inset = shapes[code_column].astype(str).str.startswith(inset_code_prefix)
        if in_inset.any():
            _draw_inset(main, shapes, in_inset, classes, colours, inset_title)
    if source:
        figure.text(0.01, 0.01, wrap_text(source, width_in * 0.98, 7.5), ha="left", va="bottom", fontsize=7.5, color=SECONDARY_TEXT)
    return figure


def _draw_inset(main, shapes, in_inset: pd.Series, classes: pd.Series, colours: list[str], inset_title: str) -> None:
    """The enlarged area in a box placed where it covers no land, and its outline on the national map."""
    land = shapes.geometry.union_all()
    area_bounds = tuple(shapes[in_inset].total_bounds)
    placed = place_inset(land, area_bounds)
    x0, y0, x1, y1 = land.bounds
    fx0, fy0, fx1, fy1 = placed.bounds
    pad = 0.01 * max(x1 - x0, y1 - y0)
    main.set_xlim(min(x0, fx0) - pad, max(x1, fx1) + pad)
    main.set_ylim(min(y0, fy0) - pad, max(y1, fy1) + pad)
    inset = main.inset_axes((placed.x, placed.y, placed.width, placed.height), transform=main.transData)
    _draw(inset, shapes[in_inset], classes[in_inset], colours, edge_width=0.4)
    inset.set_title(inset_title, fontsize=9, loc="left", fontweight="normal", pad=3)
    inset.set_axis_on()
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.grid(False)
    for spine in inset.spines.values():
        spine.set_visible(True)
        spine.set_color(NO_DATA_EDGE)
    # Mark the inset's area on the national map.
    ax0, ay0, ax1, ay1 = area_bounds
    main.add_patch(Rectangle((ax0, ay0), ax1 - ax0, ay1 - ay0, fill=False, edgecolor=NO_DATA_EDGE, linewidth=0.6))
