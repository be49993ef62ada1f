"""The shared chart helpers: afcharts colours, text wrapped once, direct labels, honest captions, saving."""

from __future__ import annotations

import itertools

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from afcharts.af_colours import get_af_colours
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from PIL import Image

from nao_analysis.charts import (
    EXTENDED_PALETTE,
    FONT_FAMILY,
    PALETTE,
    apply_house_style,
    direct_label,
    find_text_overlaps,
    mark_series_end,
    new_chart,
    not_in_report_caption,
    not_in_report_title,
    save_png_and_svg,
    series_colours,
    wrap_text,
)
from nao_analysis.errors import AnalysisError
from nao_analysis.maps import colour_distance

NOTE = (
    "'Any drug' comprises powder cocaine, crack cocaine, ecstasy, LSD, magic mushrooms, heroin, methadone, amphetamines, "
    "cannabis, tranquillisers, anabolic steroids and any other pills/powders/drugs plus ketamine since March 2007."
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class TestSeriesColours:
    def test_up_to_six_series_use_the_afcharts_categorical_palette(self):
        assert series_colours(6) == get_af_colours("categorical", number_of_colours=6)

    def test_two_series_use_the_afcharts_duo_pair(self):
        assert series_colours(2) == get_af_colours("duo")

    @pytest.mark.parametrize("n", range(1, len(EXTENDED_PALETTE) + 1))
    def test_no_two_series_share_a_colour(self, n):
        assert len(set(series_colours(n))) == n

    def test_extended_colours_stay_perceptibly_apart(self):
        closest = min(colour_distance(a, b) for a, b in itertools.combinations(EXTENDED_PALETTE, 2))
        assert closest >= 25

    def test_more_series_than_distinguishable_colours_is_an_error(self):
        with pytest.raises(AnalysisError, match="split the panel"):
            series_colours(len(EXTENDED_PALETTE) + 1)


class TestHouseStyle:
    def test_series_cycle_is_the_afcharts_palette(self):
        apply_house_style()
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == PALETTE

    def test_lines_take_the_afcharts_width(self):
        apply_house_style()
        assert matplotlib.rcParams["lines.linewidth"] == 2


class TestWrapText:
    def test_every_line_fits_the_width(self):
        measure = TextToPath()
        props = FontProperties(family=FONT_FAMILY, size=7.5)
        lines = wrap_text(NOTE, 4.0, 7.5).split("\n")
        widths = [measure.get_text_width_height_descent(line, props, ismath=False)[0] / 72 for line in lines]
        assert len(widths) > 1 and max(widths) <= 4.0

    def test_keeps_the_texts_own_line_breaks(self):
        assert wrap_text("First note.\nSource: ONS", 6.0, 7.5) == "First note.\nSource: ONS"

    def test_a_repeated_string_is_measured_once(self):
        wrap_text.cache_clear()
        wrap_text(NOTE, 5.0, 8.0)
        wrap_text(NOTE, 5.0, 8.0)
        assert wrap_text.cache_info().hits == 1


class TestDirectLabel:
    def _chart(self):
        figure, axes = plt.subplots(figsize=(6, 4))
        for i, name in enumerate(["Ecstasy", "Ketamine", "LSD"]):
            axes.plot([2010, 2015, 2020], [1.0, 1.1, 1.2 + i * 0.01], label=name)
        axes.legend()
        return figure, axes

    def test_labels_each_line_in_its_colour(self):
        _figure, axes = self._chart()
        labels = direct_label(axes)
        assert [(t.get_text(), t.get_color()) for t in labels] == [(line.get_label(), line.get_color()) for line in axes.get_lines()]

    def test_replaces_the_legend(self):
        _figure, axes = self._chart()
        direct_label(axes)
        assert axes.get_legend() is None

    def test_labels_of_close_lines_do_not_overlap(self):
        figure, axes = self._chart()
        direct_label(axes)
        assert find_text_overlaps(figure) == []

    def test_works_on_a_date_axis(self):
        _figure, axes = plt.subplots()
        axes.plot(pd.to_datetime(["2011-03-31", "2016-03-31", "2022-06-30"]), [8.6, 8.4, 9.2], label="Any drug")
        (label,) = direct_label(axes)
        assert label.get_text() == "Any drug"


class TestHonestCharts:
    def test_series_end_note_is_drawn_at_the_last_point(self):
        _figure, axes = plt.subplots()
        axes.plot([2016, 2017, 2018], [3.1, 3.4, 3.3])
        note = mark_series_end(axes, 2018, 3.3, "Series ends: the survey table stops at 2017-18")
        assert note.xy == (2018, 3.3) and note.get_text().startswith("Series ends")

    def test_title_of_a_chart_not_in_the_report_says_so(self):
        title = not_in_report_title("Drugs strategy allocations by workstream")
        assert title == "Not in the report: Drugs strategy allocations by workstream"

    def test_caption_of_a_chart_not_in_the_report_has_no_figure_number(self):
        caption = not_in_report_caption("Allocations by workstream", based_on=["Figure 7", "Figure 8", "Figure 9"])
        assert caption == (
            "Additional chart (not in the report): Allocations by workstream. Drawn from the data of Figure 7, Figure 8 and Figure 9."
        )


class TestSavePngAndSvg:
    def test_writes_both_formats(self, tmp_path):
        figure, axes = new_chart("Deaths from drug misuse have been rising", "Deaths registered, England")
        axes.plot([2011, 2016, 2021], [1582, 2383, 2846])
        png, svg = save_png_and_svg(figure, tmp_path / "c.png", tmp_path / "c.svg", png_metadata={"Title": "Deaths"})
        assert Image.open(png).format == "PNG" and svg.read_text().lstrip().startswith("<?xml")

    def test_wrapped_text_is_wrapped_once_before_drawing(self, tmp_path):
        figure, _axes = new_chart("A title")
        banner = figure.text(0.01, -0.01, NOTE * 2, fontsize=7.5, wrap=True)
        save_png_and_svg(figure, tmp_path / "c.png", tmp_path / "c.svg")
        assert not banner.get_wrap() and "\n" in banner.get_text()

    def test_the_png_matches_what_a_tight_savefig_gives(self, tmp_path):
        figure, axes = new_chart("Deaths from drug misuse have been rising", "Deaths registered, England")
        axes.plot([2011, 2016, 2021], [1582, 2383, 2846])
        figure.savefig(tmp_path / "reference.png")
        save_png_and_svg(figure, tmp_path / "c.png", tmp_path / "c.svg")
        assert Image.open(tmp_path / "c.png").size == Image.open(tmp_path / "reference.png").size
