"""The static map's London inset covers no part of England, and every class reads apart from no data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from shapely.geometry import box

from nao_analysis.charts import NO_DATA_GREY
from nao_analysis.errors import AnalysisError
from nao_analysis.maps import (
    BRITISH_NATIONAL_GRID,
    FALLS_AND_INCREASE_PALETTE,
    LONDON_CODE_PREFIX,
    MIN_NO_DATA_DISTANCE,
    check_classes_readable,
    choropleth,
    colour_distance,
    palette_colours,
    place_inset,
    sequential_palette,
)
from nao_analysis.readers.boundaries import read_ctyua_boundaries

BINS = [-50.0, -25.0, 0.0, float("inf")]
LABELS = ["Fall of 50% or more", "Fall of 25% to 50%", "Fall of up to 25%", "Increase"]
#: Figure 5's pale lilac before this change, which read as no data next to the old grey hatching.
OLD_PALE_LILAC = "#c5c2de"


@pytest.fixture(scope="module")
def england(raw_file):
    gdf = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc")).to_crs(BRITISH_NATIONAL_GRID)
    gdf["change"] = np.linspace(-90, 150, len(gdf))
    gdf.loc[gdf["name"] == "Slough", "change"] = np.nan
    return gdf


@pytest.fixture(scope="module")
def drawn(england):
    figure = choropleth(england, "change", bins=BINS, labels=LABELS, title="Test")
    figure.canvas.draw()
    yield figure
    plt.close(figure)


def inset_box_in_map_coordinates(figure):
    main = figure.axes[0]
    (inset,) = main.child_axes
    corners = inset.get_window_extent().get_points()
    (x0, y0), (x1, y1) = main.transData.inverted().transform(corners)
    return box(x0, y0, x1, y1)


class TestInsetPlacement:
    def test_the_drawn_inset_covers_no_part_of_england(self, drawn, england):
        assert not inset_box_in_map_coordinates(drawn).intersects(england.geometry.union_all())

    def test_the_drawn_inset_is_inside_the_map_axes(self, drawn):
        main = drawn.axes[0]
        (inset,) = main.child_axes
        assert main.get_window_extent().contains(*inset.get_window_extent().get_points().mean(axis=0))

    def test_placement_keeps_the_inset_title_off_the_land(self, england):
        land = england.geometry.union_all()
        london = tuple(england[england["code"].str.startswith(LONDON_CODE_PREFIX)].total_bounds)
        assert not box(*place_inset(land, london).bounds).intersects(land)

    def test_placement_keeps_london_proportions(self, england):
        land = england.geometry.union_all()
        x0, y0, x1, y1 = england[england["code"].str.startswith(LONDON_CODE_PREFIX)].total_bounds
        placed = place_inset(land, (x0, y0, x1, y1))
        assert placed.width / placed.height == pytest.approx((x1 - x0) / (y1 - y0))


class TestClassesReadableNextToNoData:
    @pytest.mark.parametrize(
        "palette",
        [FALLS_AND_INCREASE_PALETTE, sequential_palette(3), sequential_palette(4), sequential_palette(5)],
        ids=["falls-and-increase", "sequential-3", "sequential-4", "sequential-5"],
    )
    def test_every_class_colour_is_far_from_the_no_data_colour(self, palette):
        assert min(colour_distance(c, NO_DATA_GREY) for c in palette) >= MIN_NO_DATA_DISTANCE

    @pytest.mark.parametrize("n", [3, 4, 5, 6, 7])
    def test_a_diverging_colormap_skips_its_pale_middle(self, n):
        assert min(colour_distance(c, NO_DATA_GREY) for c in palette_colours("PuOr", n)) >= MIN_NO_DATA_DISTANCE

    def test_figure_5_classes_read_apart_from_no_data(self):
        from nao_analysis.figures.fig05 import palette

        colours = palette([38, 48, 58, 68], 48, 5)
        assert min(colour_distance(c, NO_DATA_GREY) for c in colours) >= MIN_NO_DATA_DISTANCE

    def test_the_old_pale_lilac_is_refused(self):
        with pytest.raises(AnalysisError, match="from the no-data colour"):
            check_classes_readable([OLD_PALE_LILAC], no_data="#bfbfbf")

    def test_a_palette_too_close_to_no_data_is_refused_by_the_map(self, england):
        with pytest.raises(AnalysisError, match="from the no-data colour"):
            choropleth(england, "change", bins=BINS, labels=LABELS, palette=["#b35806", "#f1a340", "#eeeeee", "#998ec3"])
