"""The year-over-year diff: headline numbers, authorities, code changes and reconciliation status.

The real two-edition comparison is in tests/test_new_year_flow.py (slow); these tests cover each comparison with
the real ONS code-change table where it matters, and small tables built in the test for edge cases.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nao_analysis.errors import EditionError
from nao_analysis.report.diff import (
    authority_changes,
    authority_columns,
    compare_authorities,
    compare_figure_status,
    compare_inputs,
    compare_parameters,
    compare_reconciliation,
    diff_editions,
    diff_rows,
    render_diff_html,
)
from nao_analysis.settings import Settings


@pytest.fixture(scope="module")
def successors(raw_file):
    """Old code -> codes it became, computed at build time by the analysis layer from the real ONS tables.

    This is what a figure saves as its ``authority_successors`` table; the diff itself never reads a raw file.
    """
    from nao_analysis.analysis.geography import successor_codes
    from nao_analysis.readers.boundaries import read_code_changes

    changes = read_code_changes(raw_file("lookup_la_code_changes_2018_2025"))
    table = pd.read_csv(raw_file("lookup_ltla21_utla21_apr2021"), dtype=str, keep_default_na=False)
    district = next(c for c in table.columns if c.upper().startswith("LTLA") and c.upper().endswith("CD"))
    upper = next(c for c in table.columns if c.upper().startswith("UTLA") and c.upper().endswith("CD"))
    districts = pd.DataFrame({"district_code": table[district], "upper_tier_code": table[upper]})
    codes = ["E10000006", "E10000023", "E06000028", "E06000029", "E10000027", "E06000001"]
    return successor_codes(codes, changes, districts, boundary_year=9999)


def _note(rows, code):
    return next(r["note"] for r in rows if r["key"] == code)


class TestAuthorityChanges:
    def test_cumbria_is_split_into_its_two_successors(self, successors):
        rows = authority_changes(
            "fig05", {"E10000006": "Cumbria"}, {"E06000063": "Cumberland", "E06000064": "Westmorland and Furness"}, successors
        )
        assert _note(rows, "E10000006") == "split into Cumberland (E06000063), Westmorland and Furness (E06000064)"

    def test_north_yorkshire_county_is_replaced_by_the_unitary(self, successors):
        rows = authority_changes("fig05", {"E10000023": "North Yorkshire"}, {"E06000065": "North Yorkshire"}, successors)
        assert _note(rows, "E10000023") == "replaced by North Yorkshire (E06000065)"

    def test_bournemouth_and_poole_are_merged(self, successors):
        rows = authority_changes(
            "fig03", {"E06000028": "Bournemouth", "E06000029": "Poole"}, {"E06000058": "Bournemouth, Christchurch and Poole"}, successors
        )
        assert _note(rows, "E06000029") == "merged into Bournemouth, Christchurch and Poole (E06000058)"

    def test_successor_names_its_predecessors(self, successors):
        rows = authority_changes("fig05", {"E10000027": "Somerset"}, {"E06000066": "Somerset"}, successors)
        assert _note(rows, "E06000066") == "successor of Somerset (E10000027)"

    def test_unexplained_code_disappears(self, successors):
        rows = authority_changes("fig05", {"E06000001": "Hartlepool"}, {}, successors)
        assert _note(rows, "E06000001") == "disappears"

    def test_without_a_successor_table_the_row_says_so(self):
        rows = authority_changes("fig05", {"E10000006": "Cumbria"}, {}, None)
        assert _note(rows, "E10000006") == "disappears (no authority_successors table in the figure records)"


class TestCompareReconciliation:
    ROW = {
        "figure": "fig03",
        "check": "authorities_increased",
        "published": "9",
        "tolerance": "0",
        "unit": "authorities",
        "description": "d",
    }

    def test_headline_change_is_b_minus_a(self):
        rows = compare_reconciliation([dict(self.ROW, rebuilt="8.0", status="differs")], [dict(self.ROW, rebuilt="9.0", status="pass")])
        headline = next(r for r in rows if r["section"] == "headline")
        assert (headline["value_a"], headline["value_b"], headline["change"]) == ("8.0", "9.0", 1.0)

    def test_status_change_gets_its_own_row(self):
        rows = compare_reconciliation([dict(self.ROW, rebuilt="8.0", status="differs")], [dict(self.ROW, rebuilt="9.0", status="pass")])
        assert [r["note"] for r in rows if r["section"] == "reconciliation_status"] == ["differs -> pass"]

    def test_number_not_rebuilt_in_a_is_compared_with_the_published_value(self):
        rows = compare_reconciliation(
            [dict(self.ROW, rebuilt="", status="source unavailable")], [dict(self.ROW, rebuilt="8.0", status="differs")]
        )
        headline = next(r for r in rows if r["section"] == "headline")
        assert (headline["change"], headline["note"]) == (-1.0, "not rebuilt in a: change against the published value (source unavailable)")

    def test_unchanged_status_has_no_status_row(self):
        rows = compare_reconciliation([dict(self.ROW, rebuilt="8.0", status="pass")], [dict(self.ROW, rebuilt="9.0", status="pass")])
        assert not [r for r in rows if r["section"] == "reconciliation_status"]


class TestCompareAuthorities:
    A = pd.DataFrame(
        {
            "target_code": ["E06000001", "E06000002"],
            "target_name": ["Hartlepool", "Middlesbrough"],
            "change_real_pct": ["-10", "-20"],
            "rank": ["1", "2"],
            "unit": ["%", "%"],
        }
    )

    def test_change_per_authority_is_b_minus_a(self):
        b = self.A.assign(change_real_pct=["-15", "-20"])
        rows = compare_authorities("fig03", self.A, b)
        assert [(r["key"], r["change"]) for r in rows] == [("E06000001", -5.0), ("E06000002", 0.0)]

    def test_change_of_a_percentage_is_in_percentage_points(self):
        b = self.A.assign(change_real_pct=["-15", "-20"])
        row = compare_authorities("fig03", self.A, b)[0]
        assert (row["change"], row["change_unit"], row["change_pct"]) == (-5.0, "percentage points", "")

    def test_fall_to_zero_is_flagged(self):
        a = self.A.assign(change_real_pct=["-10", "5"])
        b = self.A.assign(change_real_pct=["-10", "0"])
        assert [r["flag"] for r in compare_authorities("fig03", a, b)] == ["", "falls to zero"]

    def test_rise_over_the_implausible_threshold_is_flagged(self):
        b = self.A.assign(change_real_pct=["350", "-20"])
        assert compare_authorities("fig03", self.A, b, implausible_pct=300)[0]["flag"] == "over the implausible threshold (300%) in b"

    def test_count_in_a_table_of_percentages_is_not_a_percentage(self):
        a = pd.DataFrame({"area_code": ["E06000001"], "value": ["50"], "count": ["100"], "unit": ["%"]})
        b = a.assign(value=["55"], count=["110"])
        rows = {r["measure"]: r for r in compare_authorities("fig05", a, b)}
        assert (rows["value"]["change_unit"], rows["count"]["change_pct"]) == ("percentage points", 10.0)

    def test_rank_is_not_a_measure(self):
        assert authority_columns(self.A) == ("target_code", "target_name", ["change_real_pct"])

    def test_table_without_authority_codes_is_not_compared(self):
        assert authority_columns(pd.DataFrame({"statistic": ["x"], "value": ["1"]})) is None


class TestCompareParameters:
    def test_changed_parameter_is_listed(self):
        rows = compare_parameters("fig03", {"basis": "budget"}, {"basis": "outturn"})
        assert [(r["key"], r["value_a"], r["value_b"]) for r in rows] == [("basis", '"budget"', '"outturn"')]

    def test_parameters_of_a_figure_missing_from_one_edition_are_listed(self):
        rows = compare_parameters("fig03", None, {"basis": "outturn"})
        assert [(r["key"], r["value_a"]) for r in rows] == [("basis", "(not in edition)")]


class TestCompareInputs:
    def test_inputs_only_in_one_edition_are_listed(self):
        rows = compare_inputs("fig03", {"ra": {"sha256": "a" * 64}}, {"ro3": {"sha256": "b" * 64}})
        assert [(r["key"], r["note"]) for r in rows] == [("ra", "only in a"), ("ro3", "only in b")]

    def test_same_file_under_another_id_is_recognised(self):
        rows = compare_inputs("fig03", {"ro3_outturn_2022_23": {"sha256": "c" * 64}}, {"ro3_hand": {"sha256": "c" * 64}})
        assert [(r["key"], r["note"]) for r in rows] == [("ro3_outturn_2022_23 -> ro3_hand", "same file (same sha256) under another id")]

    def test_re_release_under_the_same_id_is_named(self):
        rows = compare_inputs("fig03", {"ro3": {"sha256": "a" * 64}}, {"ro3": {"sha256": "b" * 64}})
        assert rows[0]["note"] == "same id, different file (re-release?)"


class TestCompareFigureStatus:
    def test_figure_skipped_in_one_edition_says_why(self):
        rows = compare_figure_status(
            "fig03", "a", "b", {"status": "built"}, {"status": "skipped", "message": "source unavailable offline: ro3_x"}
        )
        assert (rows[0]["status_b"], rows[0]["note"]) == ("skipped", "b: source unavailable offline: ro3_x")

    def test_figure_built_in_both_has_no_row(self):
        assert compare_figure_status("fig03", "a", "b", {"status": "built"}, {"status": "up to date"}) == []


def _built(root, edition, *, rebuilt="1", figures=None, params=None, description="d"):
    """A minimal finished build: reconciliation, manifest and one figure record."""
    folder = root / "reports" / edition
    folder.mkdir(parents=True)
    (folder / "reconciliation.csv").write_text(
        "check,figure,published,rebuilt,tolerance,unit,status,note,description,citation\n"
        f"c,fig02,1,{rebuilt},0,deaths,pass,,{description},\n"
    )
    (folder / "fig02_x.json").write_text(json.dumps({"figure": "fig02", "stem": "fig02_x", "params": {}, "inputs": {}, "outputs": []}))
    manifest = {"figures": figures or [{"figure": "fig02", "status": "built"}], "parameters": params or {"fig02": {}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


class TestDiffEditions:
    def test_unbuilt_edition_is_refused_with_the_command(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
        with pytest.raises(
            EditionError, match=r"has not been built - diff compares two finished builds: run `nao-analysis build --edition nao-2099`"
        ):
            diff_editions("nao-2099", "nao-2099")

    def test_parameters_of_a_figure_not_built_are_compared(self, tmp_path):
        settings = Settings(project_root=tmp_path, output_root=tmp_path)
        _built(tmp_path, "old", params={"fig02": {}, "fig03": {"basis": "budget"}})
        _built(
            tmp_path,
            "new",
            params={"fig02": {}, "fig03": {"basis": "outturn"}},
            figures=[{"figure": "fig02", "status": "built"}, {"figure": "fig03", "status": "skipped", "message": "source unavailable"}],
        )
        rows = diff_rows("old", "new", settings)
        assert [(r["figure"], r["key"]) for r in rows if r["section"] == "parameter"] == [("fig03", "basis")]

    def test_years_are_shown_as_years(self, tmp_path):
        settings = Settings(project_root=tmp_path, output_root=tmp_path)
        _built(tmp_path, "old", params={"fig02": {"end_year": 2011}})
        _built(tmp_path, "new", params={"fig02": {"end_year": 2012}})
        page = render_diff_html("old", "new", diff_rows("old", "new", settings))
        assert "<td>2011</td><td>2012</td>" in page and "2,011" not in page

    def test_page_has_contents_and_scrolling_tables(self, tmp_path):
        settings = Settings(project_root=tmp_path, output_root=tmp_path)
        _built(tmp_path, "old")
        _built(tmp_path, "new", rebuilt="2")
        page = render_diff_html("old", "new", diff_rows("old", "new", settings))
        assert '<nav class="toc"' in page and '<section id="headline">' in page and '<div class="wide">' in page

    def test_edition_name_with_path_characters_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
        with pytest.raises(EditionError, match="not valid"):
            diff_editions("../x", "offline")

    def test_text_from_the_records_is_escaped(self, tmp_path):
        hostile = "<script>alert(1)</script>"
        _built(tmp_path, "old", description=hostile)
        _built(tmp_path, "new", rebuilt="2", description=hostile)
        html_path, _ = diff_editions("old", "new", Settings(project_root=tmp_path, output_root=tmp_path))
        text = html_path.read_text()
        assert hostile not in text and "&lt;script&gt;" in text
