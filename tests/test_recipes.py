"""Figure recipes (Figures 1, 4, 6-10 and Appendix Two) run on the offline mirror.

Each figure is run twice: under the ``offline`` edition, where the reconciliation must rebuild exactly the
values the notebooks rebuilt before the recipes existed, and under a parameter set the report did not use
(other years, age group, tolerance or quoted amount), where every title, note, alt text and sentence must
follow the parameters and the record must say which parameters differ from the published run.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from matplotlib.text import Text

from nao_analysis.figures import recipe
from nao_analysis.figures.recipe import STATUS_NOT_APPLICABLE, STATUS_NOT_COMPARABLE, STATUS_PASS, STATUS_UNAVAILABLE

#: Reconciliation values the notebooks rebuilt under ``--edition offline`` before the recipes replaced them.
OFFLINE_REBUILT = {
    "fig01": {
        "any_drug_16_59_ye_jun2022": None,
        "class_a_16_59_ye_jun2022": None,
        "any_drug_16_24_ye_jun2022": None,
        "class_a_16_24_ye_jun2022": None,
    },
    "fig04": {
        "adults_in_treatment_2010_11": 220980.0,
        "adults_in_treatment_2021_22": 204518.0,
        "adults_change_pct": -7.449542945062902,
        "opiate_share_2021_22": 68.72646906384769,
    },
    "fig06": {"government_departments": 6.0},
    "fig07": {
        "total_2022_23": 102.0,
        "total_2023_24": 101.0,
        "total_2024_25": 95.0,
        "total_allocation": 298.0,
        "home_office_total": 277.0,
        "moj_total": 21.0,
    },
    "fig08": {
        "total_2022_23": 163.0,
        "total_2023_24": 240.0,
        "total_2024_25": 365.0,
        "total_allocation": 768.0,
        "inferred_row_total": 15.0,
        "other_departments_total": 152.0,
    },
    "fig09": {
        "total_2022_23": 8.75,
        "total_2023_24": 11.6,
        "total_2024_25": 9.5,
        "total_allocation": 29.85,
        "home_office_total": 24.55,
        "supply_strategy_105m": 105.0,
        "strategy_total_903m": 902.85,
    },
    "fig10": {},
    "app2": {"recommendations_not_accepted": 1.0},
}


@cache
def _run(figure_id: str, overrides_json: str, output_dir: str):
    from nao_analysis.figures.runtime import run
    from nao_analysis.settings import Settings

    overrides = json.loads(overrides_json)
    result = run(figure_id, edition="offline", overrides=overrides, output_dir=output_dir, settings=Settings.from_environment())
    record = json.loads((Path(output_dir) / f"{recipe(figure_id).FIGURE.stem}.json").read_text())
    return result, record


@pytest.fixture(scope="module")
def built(tmp_path_factory, raw_file):
    """``built(figure_id, **overrides)`` -> (FigureResult, record); each distinct run happens once per module.

    ``raw_file`` skips the module when the mirror is not available.
    """
    root = tmp_path_factory.mktemp("recipes")

    def get(figure_id: str, **overrides):
        key = json.dumps({figure_id: overrides} if overrides else {}, sort_keys=True)
        folder = root / f"{figure_id}-{abs(hash(key))}"
        return _run(figure_id, key, str(folder))

    return get


def _words(result, record) -> str:
    """Everything a reader sees in words: title, subtitle, notes, alt text and the prose sentences."""
    return "\n".join([result.title, result.subtitle, *result.notes, *record["alt_text"].values(), *result.text.values()])


def _rebuilt(result) -> dict:
    return {row["check"]: row["rebuilt"] for row in result.reconciliation}


class TestOfflineReconciliationUnchanged:
    @pytest.mark.parametrize("figure_id", sorted(OFFLINE_REBUILT))
    def test_rebuilds_the_values_the_notebooks_rebuilt(self, built, figure_id):
        result, _ = built(figure_id)
        assert _rebuilt(result) == pytest.approx(OFFLINE_REBUILT[figure_id])

    @pytest.mark.parametrize("figure_id", ["fig04", "fig06", "fig07", "fig08", "fig09", "app2"])
    def test_every_rebuilt_number_passes(self, built, figure_id):
        result, _ = built(figure_id)
        assert {row["status"] for row in result.reconciliation} == {STATUS_PASS}

    def test_figure_1_without_the_june_2022_tables_says_the_source_is_unavailable(self, built):
        result, _ = built("fig01")
        assert {row["status"] for row in result.reconciliation} == {STATUS_UNAVAILABLE}
        assert all("quoted in NAO, Reducing the harm" in row["note"] for row in result.reconciliation)


class TestComparability:
    @pytest.mark.parametrize("figure_id", ["fig06", "fig07", "fig08", "fig09", "app2"])
    def test_published_parameters_are_as_published(self, built, figure_id):
        _, record = built(figure_id)
        assert record["comparability"]["as_published"] is True

    def test_substitute_sources_are_named_as_the_only_difference(self, built):
        _, record = built("fig01")
        assert list(record["comparability"]["differing"]) == ["sources"]


class TestFigure1OtherParameters:
    OVERRIDES = {"age_group": "16-24", "first_survey_year": "2012/13"}

    def test_title_spans_the_years_shown(self, built):
        result, _ = built("fig01", **self.OVERRIDES)
        assert result.title.endswith("2012-13 to 2021-22")

    def test_words_name_the_age_group_shown_and_never_the_published_one(self, built):
        result, record = built("fig01", **self.OVERRIDES)
        words = _words(result, record)
        assert "16-24-year-olds" in result.subtitle and "16-24-year-olds" in result.notes[0]
        assert "16-59" not in words and "2010-11" not in words

    def test_record_names_the_differing_parameters(self, built):
        _, record = built("fig01", **self.OVERRIDES)
        assert {"age_group", "first_survey_year"} <= set(record["comparability"]["differing"])


class TestFigure1Chart:
    def test_no_two_series_in_a_panel_share_a_colour(self, built):
        result, _ = built("fig01")
        for ax in result.charts[0].figure.axes:
            colours = [line.get_color() for line in ax.get_lines() if line.get_label() and not line.get_label().startswith("_")]
            assert len(colours) == len(set(colours))

    def test_a_series_that_stops_early_says_its_source_stops(self, built):
        result, _ = built("fig01")
        texts = [t.get_text() for ax in result.charts[0].figure.axes for t in ax.texts]
        assert any(t.startswith("Any Class A drug stops here") and "source stops" in t for t in texts)

    def test_right_panel_label_overlaps_no_tick_or_annotation(self, built):
        figure = built("fig01")[0].charts[0].figure
        renderer = figure.canvas.get_renderer()
        left, right = figure.axes
        label = right.yaxis.label.get_window_extent(renderer)
        others = [t for t in right.get_yticklabels() + left.texts if t.get_visible() and t.get_text()]
        assert not [t.get_text() for t in others if label.overlaps(Text.get_window_extent(t, renderer))]

    def test_direct_labels_do_not_overlap_each_other(self, built):
        figure = built("fig01")[0].charts[0].figure
        renderer = figure.canvas.get_renderer()
        # Text.get_window_extent: the words only, not the leader line an annotation also draws.
        labels = [t for t in figure.axes[1].texts if not t.get_text().startswith("No survey")]
        boxes = [Text.get_window_extent(t, renderer) for t in labels]
        assert not [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


class TestFigure4OtherYears:
    def test_title_and_subtitle_follow_the_start_year(self, built):
        result, _ = built("fig04", start_year="2014-15")
        assert result.title.endswith("2014-15 to 2021-22") and result.subtitle.startswith("Since 2014-15")

    def test_no_word_carries_the_published_start_year_or_change(self, built):
        result, record = built("fig04", start_year="2014-15")
        words = _words(result, record)
        assert "2010-11" not in words and "by 7%" not in words

    def test_a_year_outside_the_run_is_not_applicable(self, built):
        result, _ = built("fig04", start_year="2014-15")
        statuses = {row["check"]: row["status"] for row in result.reconciliation}
        assert statuses["adults_in_treatment_2010_11"] == STATUS_NOT_APPLICABLE

    def test_the_change_over_other_years_is_not_comparable(self, built):
        result, _ = built("fig04", start_year="2014-15")
        change = next(row for row in result.reconciliation if row["check"] == "adults_change_pct")
        # Which parameters differ is said once for the figure (its record), not on each row.
        assert change["status"] == STATUS_NOT_COMPARABLE

    def test_record_names_only_the_start_year(self, built):
        _, record = built("fig04", start_year="2014-15")
        assert record["comparability"]["differing"] == {"start_year": ["2010-11", "2014-15"]}


class TestFigure6StatedRelationshipsOnly:
    def test_note_says_every_drawn_relationship_is_stated(self, built):
        result, _ = built("fig06", show_inferred=False)
        assert any(note.endswith("relationships drawn, all stated in the report.") for note in result.notes)

    def test_record_names_show_inferred(self, built):
        _, record = built("fig06", show_inferred=False)
        assert list(record["comparability"]["differing"]) == ["show_inferred"]
        assert record["comparability"]["as_published"] is False


class TestFundingTablesOtherTolerance:
    @pytest.mark.parametrize("figure_id", ["fig07", "fig08", "fig09"])
    def test_note_states_the_tolerance_used(self, built, figure_id):
        result, _ = built(figure_id, sum_tolerance_m=1.0)
        assert result.notes[-1].endswith("within £1m.")

    @pytest.mark.parametrize("figure_id", ["fig07", "fig08", "fig09"])
    def test_record_names_the_tolerance(self, built, figure_id):
        _, record = built(figure_id, sum_tolerance_m=1.0)
        assert record["comparability"]["differing"] == {"sum_tolerance_m": [0.5, 1.0]}


class TestFigure9OtherSupplyAmount:
    def test_sentences_use_the_amount_given(self, built):
        result, record = built("fig09", home_office_additional_supply_m=90)
        words = _words(result, record)
        assert "additional £90m" in result.text["supply_explained"] and "£84m" not in words

    def test_strategy_total_is_rebuilt_but_not_comparable(self, built):
        result, _ = built("fig09", home_office_additional_supply_m=90)
        row = next(r for r in result.reconciliation if r["check"] == "strategy_total_903m")
        assert row["rebuilt"] == pytest.approx(908.85) and row["status"] == STATUS_NOT_COMPARABLE

    def test_column_totals_do_not_depend_on_the_amount(self, built):
        result, _ = built("fig09", home_office_additional_supply_m=90)
        assert next(r for r in result.reconciliation if r["check"] == "total_allocation")["status"] == STATUS_PASS


class TestFigure9AdditionalChart:
    def test_title_says_it_is_not_in_the_report(self, built):
        result, _ = built("fig09")
        assert result.charts[1].figure._suptitle.get_text().startswith("Not in the report")

    def test_caption_and_alt_text_say_it_is_not_in_the_report(self, built):
        result, record = built("fig09")
        assert result.text["extra_caption"].startswith("Additional chart, not in the report")
        assert record["alt_text"]["fig09_funding_demand_reduction_by_workstream.png"].startswith("Additional chart, not in the report")

    def test_bars_add_up_to_strategy_funding_only(self, built):
        result, _ = built("fig09")
        workstream_axes = result.charts[1].figure.axes[0]
        assert sum(bar.get_width() for bar in workstream_axes.patches) == pytest.approx(902.85)

    def test_department_colours_never_reuse_the_workstream_colour(self, built):
        from matplotlib.colors import to_hex

        result, _ = built("fig09")
        bars, shares = result.charts[1].figure.axes
        workstream = {to_hex(p.get_facecolor()) for p in bars.patches}
        departments = {to_hex(p.get_facecolor()) for p in shares.patches}
        assert not workstream & departments


class TestManualTablesInProvenance:
    @pytest.mark.parametrize(
        ("figure_id", "name"),
        [
            ("fig01", "csew_quoted_points.csv"),
            ("fig06", "fig06_stakeholders.yaml"),
            ("fig07", "funding_notes.yaml"),
            ("fig10", "fig10_challenges.yaml"),
            ("app2", "appendix2_recommendations.csv"),
        ],
    )
    def test_manual_table_is_recorded_with_its_hash(self, built, figure_id, name):
        _, record = built(figure_id)
        assert len(record["inputs"][f"manual:{name}"]["sha256"]) == 64
