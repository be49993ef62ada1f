"""The shared choropleth for the report's maps (Figure 3, Figure 5).

One function draws every map the same way: fixed, user-defined class breaks (so maps of
different years stay comparable), a colour-blind-safe palette, areas without data hatched
grey and named, and an inset that enlarges London, whose boroughs are unreadable at national
scale.

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

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import mapclassify  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from nao_analysis.charts import NO_DATA_GREY, TEXT, apply_house_style  # noqa: E402
from nao_analysis.errors import AnalysisError  # noqa: E402

#: British National Grid: metres, true shapes for Great Britain.
BRITISH_NATIONAL_GRID = "EPSG:27700"
#: London boroughs and the City of London (ONS codes E09...).
LONDON_CODE_PREFIX = "E09"
#: ColorBrewer PuOr, colour-blind safe: three falls (dark to light orange) and one increase (purple).
FALLS_AND_INCREASE_PALETTE = ["#b35806", "#f1a340", "#fee0b6", "#998ec3"]
NO_DATA_HATCH = "////"


def classify(values: pd.Series, bins: Sequence[float], labels: Sequence[str]) -> pd.Series:
    """Assign each value to a fixed, user-defined class with mapclassify.

    Parameters
    ----------
    values : pandas.Series
        Numbers to classify; NaN means "no data" and stays NaN.
    bins : sequence of float
        Upper bounds of the classes, increasing, right-closed (a value equal to a bound falls in the
        lower class, as in ``mapclassify.UserDefined``). The last bound must cover the largest value:
        use ``float("inf")`` for an open-ended top class.
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
    bins = [float(b) for b in bins]
    if len(bins) != len(labels):
        raise AnalysisError(f"classify: {len(bins)} bins but {len(labels)} labels - give one label per class")
    if any(b2 <= b1 for b1, b2 in zip(bins, bins[1:])):
        raise AnalysisError(f"classify: bins {bins} must be strictly increasing")
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    present = numbers.dropna()
    if len(present) and present.max() > bins[-1]:
        raise AnalysisError(
            f"classify: value {present.max():g} lies above the last bin bound {bins[-1]:g} - add a higher bound or float('inf')"
        )
    codes = pd.Series(np.nan, index=values.index)
    if len(present):
        # mapclassify needs finite bounds; the top class is open-ended when its bound is infinite.
        finite = [b if np.isfinite(b) else max(present.max(), bins[-2] if len(bins) > 1 else 0) + 1 for b in bins]
        classifier = mapclassify.UserDefined(present.to_numpy(), bins=finite, lowest=min(present.min(), finite[0]) - 1)
        codes.loc[present.index] = classifier.yb
    categories = pd.Categorical.from_codes(codes.fillna(-1).astype(int).to_numpy(), categories=list(labels), ordered=True)
    return pd.Series(categories, index=values.index, name=f"{values.name}_class" if values.name else "class")


def no_data_areas(gdf: pd.DataFrame, value_column: str, name_column: str = "name") -> list[str]:
    """Names of the areas whose value is missing, sorted, for the "Data were unavailable for ..." note."""
    missing = gdf[pd.to_numeric(gdf[value_column], errors="coerce").isna()]
    return sorted(str(n) for n in missing[name_column])


def palette_colours(palette: Sequence[str] | str, n: int) -> list[str]:
    if isinstance(palette, str):
        cmap = matplotlib.colormaps[palette]
        return [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.1, 0.9, n)]
    colours = list(palette)
    if len(colours) != n:
        raise AnalysisError(f"choropleth: palette has {len(colours)} colours for {n} classes - give one colour per label")
    return colours


def _draw(ax, gdf: gpd.GeoDataFrame, classes: pd.Series, colours: list[str], edge_width: float) -> None:
    colour_of = dict(zip(classes.cat.categories, colours))
    has_class = classes.notna()
    if has_class.any():
        gdf[has_class].plot(ax=ax, color=[colour_of[c] for c in classes[has_class]], edgecolor="white", linewidth=edge_width)
    if (~has_class).any():
        gdf[~has_class].plot(ax=ax, facecolor=NO_DATA_GREY, edgecolor="#505a5f", hatch=NO_DATA_HATCH, linewidth=edge_width)
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
        The numeric column to map. NaN = no data (drawn grey and hatched, listed by :func:`no_data_areas`).
    bins, labels : sequence
        Fixed class upper bounds and their labels, as in :func:`classify`. Fixed bins keep maps of
        different years comparable (never data-driven quantiles).
    palette : sequence of str or str
        One colour per class (default: ColorBrewer PuOr, colour-blind safe), or a matplotlib colormap name.
    no_data_label : str
        Legend entry for the hatched grey areas.
    title, subtitle, legend_title, source : str
        Texts drawn on the figure (statement title as in the report; source line at the bottom).
    name_column, code_column : str
        Columns holding area names and ONS codes.
    inset_code_prefix : str or None
        Areas whose code starts with this prefix are redrawn enlarged in an inset (default London, ``E09``);
        ``None`` for no inset.
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
        If a column is missing, the frame is empty, or bins/labels/palette do not match.
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

    figure = plt.figure(figsize=figsize)
    main = figure.add_axes([0.0, 0.06, 0.72, 0.80])
    _draw(main, shapes, classes, colours, edge_width=0.3)
    if title:
        figure.text(0.01, 0.985, title, ha="left", va="top", fontsize=12, fontweight="bold", color=TEXT, wrap=True)
    if subtitle:
        figure.text(0.01, 0.935, subtitle, ha="left", va="top", fontsize=9.5, color="#505a5f", wrap=True)

    counted = shapes[count_column].fillna(False).astype(bool) if count_column else pd.Series(True, index=shapes.index)
    counts = classes[counted].value_counts(sort=False)
    handles = [Patch(facecolor=c, edgecolor="white", label=f"{label} ({counts.get(label, 0)})") for label, c in zip(labels, colours)]
    n_missing = int(classes[counted].isna().sum())
    if classes.isna().any():
        handles.append(Patch(facecolor=NO_DATA_GREY, edgecolor="#505a5f", hatch=NO_DATA_HATCH, label=f"{no_data_label} ({n_missing})"))
    figure.legend(
        handles=handles,
        title=legend_title or None,
        loc="upper left",
        bbox_to_anchor=(0.66, 0.86),
        fontsize=8.5,
        title_fontsize=9,
        alignment="left",
    )

    if inset_code_prefix:
        in_inset = shapes[code_column].astype(str).str.startswith(inset_code_prefix)
        if in_inset.any():
            inset = figure.add_axes([0.66, 0.30, 0.33, 0.27])
            _draw(inset, shapes[in_inset], classes[in_inset], colours, edge_width=0.4)
            inset.set_title(inset_title, fontsize=9, loc="left", fontweight="normal")
            inset.set_axis_on()
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_xlabel("")
            inset.set_ylabel("")
            inset.grid(False)
            for spine in inset.spines.values():
                spine.set_visible(True)
                spine.set_color("#505a5f")
            # Mark the inset's area on the national map.
            x0, y0, x1, y1 = shapes[in_inset].total_bounds
            main.add_patch(matplotlib.patches.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#505a5f", linewidth=0.6))
    if source:
        figure.text(0.01, 0.01, source, ha="left", va="bottom", fontsize=7.5, color="#505a5f", wrap=True)
    return figure
