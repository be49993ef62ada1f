"""find_text_overlaps: pairs of visible texts whose rendered boxes overlap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from nao_analysis.charts import find_text_overlaps, new_chart


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def clean_chart():
    figure, axes = new_chart("Deaths from drug misuse have been rising", "Deaths registered, England")
    axes.plot([2011, 2016, 2021], [1582, 2383, 2846], label="Deaths")
    axes.set_ylabel("Number of deaths")
    axes.set_xticks([2011, 2016, 2021])
    return figure, axes


def test_a_clean_chart_has_no_overlaps():
    figure, _axes = clean_chart()
    assert find_text_overlaps(figure) == []


def test_two_annotations_on_the_same_point_overlap():
    figure, axes = clean_chart()
    axes.annotate("9.2% (quoted)", (2016, 2383))
    axes.annotate("9.4% (quoted)", (2016, 2383))
    assert find_text_overlaps(figure) == [("9.2% (quoted)", "9.4% (quoted)")]


def test_a_y_label_over_the_tick_labels_is_found():
    figure, axes = clean_chart()
    axes.yaxis.set_label_coords(-0.02, 0.5)
    overlapping = {pair for pair in find_text_overlaps(figure) if "Number of deaths" in pair}
    assert overlapping


def test_hidden_text_is_not_compared():
    figure, axes = clean_chart()
    hidden = axes.text(2016, 2383, "hidden")
    axes.text(2016, 2383, "shown")
    hidden.set_visible(False)
    assert find_text_overlaps(figure) == []


def test_tick_labels_outside_the_axis_limits_are_not_compared():
    figure, axes = clean_chart()
    axes.set_xticks([2011, 2016, 2021, 2030])
    axes.set_xlim(2010, 2022)
    axes.text(0.97, -0.09, "x", transform=axes.transAxes)
    assert find_text_overlaps(figure) == []


def test_rotated_tick_labels_that_do_not_touch_are_not_an_overlap():
    figure, axes = plt.subplots(figsize=(8, 4))
    labels = [f"20{y}-{y + 1}" for y in range(10, 22)]
    axes.bar(range(len(labels)), range(len(labels)))
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    assert find_text_overlaps(figure) == []


def test_a_wrapped_subtitle_leaves_room_for_a_legend_above_the_axes():
    subtitle = (
        "Since 2010-11, the number of adults in treatment for drugs misuse has fallen by 7%. "
        "People who use opiates make up the majority of these cases"
    )
    title = "The number of adults in England in treatment for drugs misuse, 2010-11 to 2021-22"
    figure, axes = new_chart(title, subtitle, figsize=(8.5, 5))
    axes.bar([0, 1], [120, 130], label="Opiate")
    axes.bar([0, 1], [80, 90], bottom=[120, 130], label="Non-opiate")
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2)
    assert find_text_overlaps(figure) == []
