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
    _code_change_lookups,
    authority_changes,
    authority_columns,
    compare_authorities,
    compare_parameters,
    compare_reconciliation,
    diff_editions,
)


@pytest.fixture(scope="module")
def lookups(raw_file):
    raw_file("lookup_la_code_changes_2018_2025")
    changes, districts, reason = _code_change_lookups()
    assert changes is not None, reason
    return changes, districts


def _note(rows, code):
    return next(r["note"] for r in rows if r["key"] == code)


class TestAuthorityChanges:
    def test_cumbria_is_split_into_its_two_successors(self, lookups):
        rows = authority_changes(
            "fig05", {"E10000006": "Cumbria"}, {"E06000063": "Cumberland", "E06000064": "Westmorland and Furness"}, *lookups
        )
        assert _note(rows, "E10000006") == "split into Cumberland (E06000063), Westmorland and Furness (E06000064)"

    def test_north_yorkshire_county_is_replaced_by_the_unitary(self, lookups):
        rows = authority_changes("fig05", {"E10000023": "North Yorkshire"}, {"E06000065": "North Yorkshire"}, *lookups)
        assert _note(rows, "E10000023") == "replaced by North Yorkshire (E06000065)"

    def test_bournemouth_and_poole_are_merged(self, lookups):
        rows = authority_changes(
            "fig03", {"E06000028": "Bournemouth", "E06000029": "Poole"}, {"E06000058": "Bournemouth, Christchurch and Poole"}, *lookups
        )
        assert _note(rows, "E06000029") == "merged into Bournemouth, Christchurch and Poole (E06000058)"

    def test_successor_names_its_predecessors(self, lookups):
        rows = authority_changes("fig05", {"E10000027": "Somerset"}, {"E06000066": "Somerset"}, *lookups)
        assert _note(rows, "E06000066") == "successor of Somerset (E10000027)"

    def test_unexplained_code_disappears(self, lookups):
        rows = authority_changes("fig05", {"E06000001": "Hartlepool"}, {}, *lookups)
        assert _note(rows, "E06000001") == "disappears"

    def test_without_the_code_change_table_the_row_says_so(self):
        rows = authority_changes("fig05", {"E10000006": "Cumbria"}, {}, None, None)
        assert _note(rows, "E10000006") == "disappears (code-change table unavailable)"


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

    def test_rank_is_not_a_measure(self):
        assert authority_columns(self.A) == ("target_code", "target_name", ["change_real_pct"])

    def test_table_without_authority_codes_is_not_compared(self):
        assert authority_columns(pd.DataFrame({"statistic": ["x"], "value": ["1"]})) is None


class TestCompareParameters:
    def test_changed_parameter_and_input_are_listed(self):
        a = {"params": {"basis": "budget"}, "inputs": {"ra": {"sha256": "a" * 64}}}
        b = {"params": {"basis": "outturn"}, "inputs": {"ro3": {"sha256": "b" * 64}}}
        rows = compare_parameters("fig03", a, b)
        assert [(r["section"], r["key"], r["note"]) for r in rows] == [
            ("parameter", "basis", ""),
            ("input", "ra", "only in a"),
            ("input", "ro3", "only in b"),
        ]


class TestDiffEditions:
    def test_unbuilt_edition_is_refused_with_the_command(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
        with pytest.raises(EditionError, match=r"has not been built - run `nao-analysis build --edition nao-2099`"):
            diff_editions("nao-2099", "nao-2099")

    def test_edition_name_with_path_characters_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
        with pytest.raises(EditionError, match="not valid"):
            diff_editions("../x", "offline")

    def test_text_from_the_records_is_escaped(self, tmp_path, monkeypatch):
        monkeypatch.setenv("NAO_OUTPUT_ROOT", str(tmp_path))
        hostile = "<script>alert(1)</script>"
        for edition, rebuilt in (("old", "1"), ("new", "2")):
            folder = tmp_path / "reports" / edition
            folder.mkdir(parents=True)
            (folder / "reconciliation.csv").write_text(
                "check,figure,published,rebuilt,tolerance,unit,status,note,description,citation\n"
                f"c,fig02,1,{rebuilt},0,deaths,pass,,{hostile},\n"
            )
            (folder / "fig02_x.json").write_text(
                json.dumps({"figure": "fig02", "stem": "fig02_x", "params": {}, "inputs": {}, "outputs": []})
            )
        html_path, _ = diff_editions("old", "new")
        text = html_path.read_text()
        assert hostile not in text and "&lt;script&gt;" in text
