"""The report's qualitative tables: Appendix Two (the NAO's assessment of Dame Carol Black's recommendations)
and Figure 10 (challenges to successful local delivery).

Both are transcribed in ``data/manual/``. The ``load_*`` functions read and validate those files (the only I/O
here); the rest are pure functions that count, check and shape the tables for printing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors
from pydantic import BaseModel, ConfigDict, Field

from nao_analysis.errors import AnalysisError, ReaderError
from nao_analysis.readers._common import read_manual_yaml

#: The NAO's assessment categories, exactly as Appendix Two prints them, from most to least progress.
ASSESSMENTS: tuple[str, ...] = ("Implemented", "Partial implementation", "Work in progress", "Not yet implemented")

#: The columns of ``data/manual/appendix2_recommendations.csv``.
RECOMMENDATION_COLUMNS = [
    "order",
    "theme",
    "recommendation",
    "finding",
    "assessment",
    "evidence",
    "recommendations_not_accepted",
    "citation",
    "transcription_note",
]

RECOMMENDATIONS_SCHEMA = pa.DataFrameSchema(
    {
        "order": pa.Column(int, [pa.Check.ge(1)], unique=True),
        "theme": pa.Column(str, pa.Check.str_length(min_value=1)),
        "recommendation": pa.Column(str, pa.Check.str_length(min_value=1), unique=True),
        "finding": pa.Column(str),
        "assessment": pa.Column(str, pa.Check.isin(list(ASSESSMENTS))),
        "evidence": pa.Column(str, pa.Check.str_length(min_value=1)),
        "recommendations_not_accepted": pa.Column(int, pa.Check.ge(0)),
        "citation": pa.Column(str, pa.Check.str_contains("Appendix Two")),
        "transcription_note": pa.Column(str),
    },
    strict=True,
    coerce=True,
    ordered=True,
)


def load_recommendations(path: str | Path) -> pd.DataFrame:
    """Read the Appendix Two transcription and validate it.

    Parameters
    ----------
    path
        A CSV laid out like ``data/manual/appendix2_recommendations.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per recommendation in the report's order (see :func:`validate_recommendations`).

    Raises
    ------
    ReaderError
        If the file is missing, lacks a column, or a value breaks the schema (e.g. an assessment that is not
        one of :data:`ASSESSMENTS`).
    """
    path = Path(path)
    if not path.exists():
        raise ReaderError(path, "file not found", "check the app2 'recommendations_file' parameter names a file in data/manual/")
    # keep_default_na=False: an empty finding or note is an empty string, not a missing value.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in RECOMMENDATION_COLUMNS if c not in frame.columns]
    if missing:
        raise ReaderError(path, f"missing column(s) {', '.join(missing)}", f"the header must be: {','.join(RECOMMENDATION_COLUMNS)}")
    try:
        return validate_recommendations(frame)
    except AnalysisError as exc:
        raise ReaderError(path, str(exc), "correct the row against Appendix Two of the report") from exc


def validate_recommendations(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a table of recommendations against the schema and return it in the report's order.

    Parameters
    ----------
    frame
        Columns :data:`RECOMMENDATION_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The validated table, sorted by ``order``, with ``assessment`` as an ordered categorical (report order).

    Raises
    ------
    AnalysisError
        Naming the first column and value that break the schema.
    """
    try:
        valid = RECOMMENDATIONS_SCHEMA.validate(
            frame[RECOMMENDATION_COLUMNS] if set(RECOMMENDATION_COLUMNS) <= set(frame.columns) else frame
        )
    except (SchemaError, SchemaErrors) as exc:
        raise AnalysisError(f"Appendix Two recommendations: {_first_schema_problem(exc)}") from exc
    valid = valid.sort_values("order").reset_index(drop=True)
    valid["assessment"] = pd.Categorical(valid["assessment"], categories=list(ASSESSMENTS), ordered=True)
    return valid


def _first_schema_problem(exc: SchemaError | SchemaErrors) -> str:
    if isinstance(exc, SchemaErrors):
        cases = exc.failure_cases
        if len(cases):
            case = cases.iloc[0]
            return f"column {case['column']!r} fails {case['check']} (value {case['failure_case']!r})"
    return str(exc).splitlines()[0]


def themes_in_order(recommendations: pd.DataFrame) -> list[str]:
    """Themes in the order the report first prints them."""
    return list(dict.fromkeys(recommendations.sort_values("order")["theme"]))


def assessment_counts(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Count recommendations by theme and assessment, including the combinations with none.

    Parameters
    ----------
    recommendations
        A table from :func:`load_recommendations` or :func:`validate_recommendations`.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``theme, assessment, recommendations, unit`` with one row for every theme x assessment, themes in
        report order, assessments in :data:`ASSESSMENTS` order; ``unit`` is ``"recommendations"``.
    """
    themes = themes_in_order(recommendations)
    counts = recommendations.groupby(["theme", "assessment"], observed=False).size()
    grid = pd.MultiIndex.from_product([themes, list(ASSESSMENTS)], names=["theme", "assessment"])
    tidy = counts.reindex(grid, fill_value=0).rename("recommendations").reset_index()
    tidy["recommendations"] = tidy["recommendations"].astype(int)
    tidy["unit"] = "recommendations"
    if int(tidy["recommendations"].sum()) != len(recommendations):
        raise AnalysisError("Appendix Two counts: some recommendations have a theme or assessment outside the expected lists")
    return tidy


def assessment_totals(recommendations: pd.DataFrame) -> pd.Series:
    """Number of recommendations in each assessment category (all themes), in :data:`ASSESSMENTS` order."""
    counts = assessment_counts(recommendations)
    return counts.groupby("assessment", sort=False)["recommendations"].sum().reindex(list(ASSESSMENTS))


def count_not_accepted(recommendations: pd.DataFrame) -> int:
    """How many of Dame Carol's recommendations the government did not accept, summed over the table's rows.

    Paragraph 1.8 says the strategy addressed all but one; footnote 16 names that one, and the transcription
    records it against the row it belongs to, so this sum cross-checks the two parts of the report.
    """
    return int(recommendations["recommendations_not_accepted"].sum())


def recommendations_display_table(recommendations: pd.DataFrame) -> pd.DataFrame:
    """The table as printed: one row per recommendation, columns headed as on the page.

    Returns
    -------
    pandas.DataFrame
        ``Theme, Recommendation, Dame Carol Black's finding, NAO assessment, Evidence (NAO assessment of the strategy response)``;
        evidence paragraphs are joined with spaces for wrapping.
    """
    table = recommendations.sort_values("order")
    return pd.DataFrame(
        {
            "Theme": table["theme"].astype(str),
            "Recommendation": table["recommendation"].astype(str),
            "Dame Carol Black's finding": table["finding"].astype(str),
            "NAO assessment": table["assessment"].astype(str),
            "NAO assessment of the strategy response": table["evidence"].astype(str).str.replace("\n", " ", regex=False),
        }
    ).reset_index(drop=True)


# --- Figure 10 --------------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyIssue(_Strict):
    key_issue: str = Field(min_length=1)
    impacts: list[str] = Field(min_length=1)


class Challenge(_Strict):
    challenge: str = Field(min_length=1)
    issues: list[KeyIssue] = Field(min_length=1)


class ChallengesFile(_Strict):
    """``data/manual/fig10_challenges.yaml``: Figure 10 as challenge -> key issues -> potential impacts."""

    schema_version: int = Field(alias="schema")
    figure: str
    title: str
    subtitle: str = ""
    source: str
    citation: str = Field(min_length=1)
    transcription_notes: list[str] = Field(default_factory=list)
    challenges: list[Challenge] = Field(min_length=1)


CHALLENGES_SCHEMA = pa.DataFrameSchema(
    {
        "challenge_order": pa.Column(int, pa.Check.ge(1)),
        "challenge": pa.Column(str),
        "issue_order": pa.Column(int, pa.Check.ge(1)),
        "key_issue": pa.Column(str),
        "impact_order": pa.Column(int, pa.Check.ge(1)),
        "potential_impact": pa.Column(str),
        "citation": pa.Column(str),
    },
    strict=True,
    coerce=True,
    unique=["challenge_order", "issue_order", "impact_order"],
)


def load_challenges(path: str | Path) -> tuple[ChallengesFile, pd.DataFrame]:
    """Read and validate the Figure 10 transcription, and flatten it to one row per potential impact.

    Parameters
    ----------
    path
        A YAML file laid out like ``data/manual/fig10_challenges.yaml``.

    Returns
    -------
    tuple
        The validated file (title, subtitle, source, citation) and the tidy table from :func:`challenges_tidy`.

    Raises
    ------
    ReaderError
        If the file is missing, not YAML, or an entry lacks a challenge, key issue or impact.
    """
    parsed = read_manual_yaml(
        path,
        ChallengesFile,
        missing_fix="check the fig10 'challenges_file' parameter names a file in data/manual/",
        invalid_fix="every challenge needs a name and key issues, each with at least one impact",
    )
    return parsed, challenges_tidy(parsed)


def challenges_tidy(challenges: ChallengesFile) -> pd.DataFrame:
    """Figure 10 as a tidy table: one row per (challenge, key issue, potential impact), in the report's order."""
    rows = [
        {
            "challenge_order": c_i,
            "challenge": challenge.challenge,
            "issue_order": i_i,
            "key_issue": issue.key_issue,
            "impact_order": p_i,
            "potential_impact": impact,
            "citation": challenges.citation,
        }
        for c_i, challenge in enumerate(challenges.challenges, 1)
        for i_i, issue in enumerate(challenge.issues, 1)
        for p_i, impact in enumerate(issue.impacts, 1)
    ]
    return CHALLENGES_SCHEMA.validate(pd.DataFrame.from_records(rows))


def challenges_display_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Figure 10 with the report's column headings (``Challenge, Key issues, Potential impact``), one row per impact."""
    ordered = tidy.sort_values(["challenge_order", "issue_order", "impact_order"])
    return pd.DataFrame(
        {
            "Challenge": ordered["challenge"].astype(str),
            "Key issues": ordered["key_issue"].astype(str),
            "Potential impact": ordered["potential_impact"].astype(str),
        }
    ).reset_index(drop=True)


def challenge_summary(tidy: pd.DataFrame) -> pd.DataFrame:
    """Number of key issues and potential impacts per challenge, in the report's order."""
    summary = (
        tidy.groupby(["challenge_order", "challenge"], sort=True)
        .agg(key_issues=("issue_order", "nunique"), potential_impacts=("potential_impact", "size"))
        .reset_index()
    )
    return summary
