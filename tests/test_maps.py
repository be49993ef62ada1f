"""The shared choropleth (Figures 3 and 5) and the boundary reader it draws on."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from nao_analysis.errors import AnalysisError, ReaderError
from nao_analysis.maps import choropleth, classify, no_data_areas
from nao_analysis.readers.boundaries import read_ctyua_boundaries

BINS = [-50.0, -25.0, 0.0, float("inf")]
LABELS = ["Fall of 50% or more", "Fall of 25% to 50%", "Fall of up to 25%", "Increase"]


@pytest.fixture(scope="module")
def england(raw_file):
    gdf = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))
    # A spread of values over every class, with Slough as no data.
    gdf["change"] = np.linspace(-90, 150, len(gdf))
    gdf.loc[gdf["name"] == "Slough", "change"] = np.nan
    return gdf


def legend_texts(figure: Figure) -> list[str]:
    return [t.get_text() for legend in figure.legends for t in legend.get_texts()]


class TestReadCtyuaBoundaries:
    def test_december_2021_has_152_english_areas(self, raw_file):
        gdf = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))
        assert len(gdf) == 152 and list(gdf.columns) == ["code", "name", "geometry"]

    def test_hampshire_is_made_valid(self, raw_file):
        gdf = read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))
        assert gdf.geometry.is_valid.all()

    def test_geojson_layout(self, raw_file):
        assert len(read_ctyua_boundaries(raw_file("boundaries_utla19_geojson"))) == 151

    def test_topojson_selects_the_year(self, raw_file):
        gdf = read_ctyua_boundaries(raw_file("boundaries_onsvisual_topojson"), year=2014)
        assert {"E06000028", "E10000009"} <= set(gdf["code"]) and "E06000058" not in set(gdf["code"])

    def test_topojson_without_a_year_is_an_error(self, raw_file):
        with pytest.raises(ReaderError, match="needs a year"):
            read_ctyua_boundaries(raw_file("boundaries_onsvisual_topojson"))

    def test_a_file_without_code_field_is_an_error(self, tmp_path):
        bad = tmp_path / "bad.geojson"
        bad.write_text(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [{"type": "Feature", "properties": {"label": "x"}, "geometry": {"type": "Point", "coordinates": [0, 51]}}],
                }
            )
        )
        with pytest.raises(ReaderError, match="no area-code field"):
            read_ctyua_boundaries(bad)


class TestClassify:
    def test_bounds_are_right_closed(self):
        classes = classify(pd.Series([-50.0, -49.9, 0.0, 0.1]), BINS, LABELS)
        assert list(classes) == ["Fall of 50% or more", "Fall of 25% to 50%", "Fall of up to 25%", "Increase"]

    def test_no_data_stays_unclassified(self):
        assert classify(pd.Series([np.nan, 10.0]), BINS, LABELS).isna().tolist() == [True, False]

    def test_a_value_above_the_last_bound_is_an_error(self):
        with pytest.raises(AnalysisError, match="above the last bin bound"):
            classify(pd.Series([500.0]), [-50, 0, 100], ["a", "b", "c"])

    def test_labels_must_match_bins(self):
        with pytest.raises(AnalysisError, match="4 bins but 3 labels"):
            classify(pd.Series([1.0]), BINS, LABELS[:3])


class TestNoDataAreas:
    def test_lists_areas_without_a_value(self, england):
        assert no_data_areas(england, "change") == ["Slough"]


class TestChoropleth:
    def test_returns_a_figure_with_a_counted_legend(self, england):
        figure = choropleth(england, "change", bins=BINS, labels=LABELS, title="Test")
        texts = legend_texts(figure)
        assert texts[-1] == "Data unavailable (1)"
        assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in texts) == 152
        plt.close(figure)

    def test_draws_a_london_inset(self, england):
        figure = choropleth(england, "change", bins=BINS, labels=LABELS)
        every_axes = [axes for parent in figure.axes for axes in (parent, *parent.child_axes)]
        assert any(axes.get_title(loc="left") == "London" for axes in every_axes)
        plt.close(figure)

    def test_count_column_leaves_merged_areas_out_of_the_counts(self, england):
        counted = england.assign(counted=england["code"] != "E09000001")
        figure = choropleth(counted, "change", bins=BINS, labels=LABELS, count_column="counted")
        assert sum(int(t.rsplit("(", 1)[1].rstrip(")")) for t in legend_texts(figure)) == 151
        plt.close(figure)

    def test_a_missing_column_is_an_error(self, england):
        with pytest.raises(AnalysisError, match="column 'nope' not in the map data"):
            choropleth(england, "nope", bins=BINS, labels=LABELS)

    def test_palette_must_match_labels(self, england):
        with pytest.raises(AnalysisError, match="palette has 2 colours for 4 classes"):
            choropleth(england, "change", bins=BINS, labels=LABELS, palette=["#000000", "#ffffff"])


class TestImportCost:
    def test_importing_maps_loads_neither_mapclassify_nor_geopandas(self):
        import subprocess
        import sys

        probe = "import sys, nao_analysis.maps; print(sorted({'mapclassify', 'geopandas'} & set(sys.modules)))"
        loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
        assert loaded == "[]"
