"""Appendix Two (Dame Carol Black's recommendations) and Figure 10 (challenges to local delivery): transcriptions,
validation, counts and display tables."""

from __future__ import annotations

import pandas as pd
import project_paths as paths
import pytest
import yaml

from nao_analysis.analysis.recommendations import (
    ASSESSMENTS,
    RECOMMENDATION_COLUMNS,
    assessment_counts,
    assessment_totals,
    challenge_summary,
    challenges_display_table,
    count_not_accepted,
    load_challenges,
    load_recommendations,
    recommendations_display_table,
    themes_in_order,
    validate_recommendations,
)
from nao_analysis.errors import AnalysisError, ReaderError

RECOMMENDATIONS = paths.manual_dir() / "appendix2_recommendations.csv"
CHALLENGES = paths.manual_dir() / "fig10_challenges.yaml"
REPORT = paths.project_root().parent / "shared" / "reference" / "nao_reducing_the_harm_from_illegal_drugs_2023.txt"


@pytest.fixture(scope="module")
def recommendations():
    return load_recommendations(RECOMMENDATIONS)


def raw_rows() -> pd.DataFrame:
    return pd.read_csv(RECOMMENDATIONS, dtype=str, keep_default_na=False)


class TestLoadRecommendations:
    def test_assessments_are_the_report_categories(self, recommendations):
        assert set(recommendations["assessment"].astype(str)) <= set(ASSESSMENTS)

    def test_every_row_cites_appendix_two(self, recommendations):
        assert recommendations["citation"].str.contains("Appendix Two").all()

    def test_rows_in_report_order(self, recommendations):
        assert recommendations["order"].is_monotonic_increasing

    @pytest.mark.skipif(not REPORT.exists(), reason="reference report text not available")
    def test_every_recommendation_title_appears_in_the_report(self, recommendations):
        # Titles split over two lines in the extraction are checked by their first four words.
        text = " ".join(REPORT.read_text(encoding="utf-8").split())
        missing = [t for t in recommendations["recommendation"] if " ".join(t.split()[:4]) not in text]
        assert missing == []

    def test_physical_healthcare_is_the_one_not_yet_implemented(self, recommendations):
        # Appendix Two: "Physical healthcare ... Not yet implemented".
        not_yet = recommendations[recommendations["assessment"] == "Not yet implemented"]
        assert list(not_yet["recommendation"]) == ["Physical healthcare"]

    def test_assessment_outside_the_categories_names_the_column(self, tmp_path):
        rows = raw_rows()
        rows.loc[0, "assessment"] = "Partial"
        path = tmp_path / "app2.csv"
        rows.to_csv(path, index=False)
        with pytest.raises(ReaderError, match=r"app2\.csv.*assessment.*Partial"):
            load_recommendations(path)

    def test_missing_column_is_named(self, tmp_path):
        path = tmp_path / "app2.csv"
        raw_rows().drop(columns="evidence").to_csv(path, index=False)
        with pytest.raises(ReaderError, match="evidence"):
            load_recommendations(path)

    def test_missing_file_names_the_parameter(self, tmp_path):
        with pytest.raises(ReaderError, match="recommendations_file"):
            load_recommendations(tmp_path / "absent.csv")


class TestValidateRecommendations:
    def test_duplicate_recommendation_rejected(self):
        rows = raw_rows()
        rows.loc[1, "recommendation"] = rows.loc[0, "recommendation"]
        with pytest.raises(AnalysisError, match="recommendation"):
            validate_recommendations(rows)

    def test_returns_columns_in_file_order(self):
        assert list(validate_recommendations(raw_rows()).columns) == RECOMMENDATION_COLUMNS


class TestAssessmentCounts:
    def test_counts_add_up_to_the_rows(self, recommendations):
        assert assessment_counts(recommendations)["recommendations"].sum() == len(recommendations)

    def test_every_theme_and_assessment_combination_present(self, recommendations):
        counts = assessment_counts(recommendations)
        assert len(counts) == recommendations["theme"].nunique() * len(ASSESSMENTS)

    def test_themes_in_report_order(self, recommendations):
        counts = assessment_counts(recommendations)
        assert list(dict.fromkeys(counts["theme"])) == themes_in_order(recommendations)

    def test_totals_follow_category_order(self, recommendations):
        assert list(assessment_totals(recommendations).index) == list(ASSESSMENTS)

    def test_synthetic_counts(self):
        rows = raw_rows().head(3).copy()
        rows["theme"] = ["A", "A", "B"]
        rows["assessment"] = ["Implemented", "Implemented", "Work in progress"]
        counts = assessment_counts(validate_recommendations(rows)).set_index(["theme", "assessment"])["recommendations"]
        assert (counts[("A", "Implemented")], counts[("B", "Work in progress")], counts[("B", "Implemented")]) == (2, 1, 0)


class TestCountNotAccepted:
    def test_matches_paragraph_1_8(self, recommendations):
        published = yaml.safe_load((paths.manual_dir() / "published" / "app2.yaml").read_text())["checks"][0]["published"]
        assert count_not_accepted(recommendations) == published

    def test_not_accepted_recommendation_sits_under_employment_support(self, recommendations):
        flagged = recommendations[recommendations["recommendations_not_accepted"] > 0]
        assert list(flagged["recommendation"]) == ["Employment support"]


class TestRecommendationsDisplayTable:
    def test_one_row_per_recommendation_without_line_breaks(self, recommendations):
        shown = recommendations_display_table(recommendations)
        assert len(shown) == len(recommendations)
        assert not shown.apply(lambda col: col.str.contains("\n")).any().any()


class TestLoadChallenges:
    def test_every_key_issue_has_an_impact(self):
        _, tidy = load_challenges(CHALLENGES)
        assert tidy.groupby(["challenge_order", "issue_order"]).size().min() >= 1

    def test_cites_figure_10(self):
        parsed, tidy = load_challenges(CHALLENGES)
        assert "Figure 10" in parsed.citation and tidy["citation"].str.contains("Figure 10").all()

    @pytest.mark.skipif(not REPORT.exists(), reason="reference report text not available")
    def test_every_cell_appears_in_the_report(self):
        _, tidy = load_challenges(CHALLENGES)
        text = " ".join(REPORT.read_text(encoding="utf-8").split()).replace("inputs/ activities", "inputs/activities")
        cells = set(tidy["challenge"]) | set(tidy["key_issue"]) | set(tidy["potential_impact"])
        assert [c for c in cells if c not in text] == []

    def test_key_issue_without_impacts_rejected(self, tmp_path):
        data = yaml.safe_load(CHALLENGES.read_text(encoding="utf-8"))
        data["challenges"][0]["issues"][0]["impacts"] = []
        path = tmp_path / "fig10.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        with pytest.raises(ReaderError, match=r"fig10\.yaml.*impacts"):
            load_challenges(path)

    def test_missing_file_names_the_parameter(self, tmp_path):
        with pytest.raises(ReaderError, match="challenges_file"):
            load_challenges(tmp_path / "absent.yaml")


class TestChallengesDisplayTable:
    def test_report_headings(self):
        _, tidy = load_challenges(CHALLENGES)
        assert list(challenges_display_table(tidy).columns) == ["Challenge", "Key issues", "Potential impact"]

    def test_one_row_per_impact(self):
        _, tidy = load_challenges(CHALLENGES)
        assert len(challenges_display_table(tidy)) == len(tidy)


class TestChallengeSummary:
    def test_counts_issues_and_impacts_per_challenge(self):
        _, tidy = load_challenges(CHALLENGES)
        summary = challenge_summary(tidy)
        assert summary["potential_impacts"].sum() == len(tidy)
        assert summary["key_issues"].sum() == tidy.drop_duplicates(["challenge_order", "issue_order"]).shape[0]
