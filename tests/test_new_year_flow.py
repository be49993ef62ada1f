"""A new year in one command, end to end on the mirror's real files (marked slow).

The flow an auditor runs for a new year, in temporary folders (editions, registry, raw cache and outputs):

1. ``new-edition outturn-2022-23 --from nao-2023 --years 1`` with Figure 3's base year set to 2013-14 (the
   earliest RO3 outturn file in the mirror). The registry copy starts *without* the RO3 2022-23 entry, as a
   checkout would before the new year's file is registered, so the edition needs it;
2. ``sources add ro3_outturn_2022_23 --file <the real RO3 2022-23 ods>``: the id the needs line asked for;
3. ``build --edition outturn-2022-23 --only fig03`` and ``build --edition offline --only fig03``;
4. ``diff offline outturn-2022-23``.

The numbers are checked against the raw file read directly with pandas in this test: the adult treatment lines
(drug + alcohol) of RO3 2022-23, net current expenditure, GBP thousand.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil

import numpy as np
import pandas as pd
import project_paths as paths
import pytest

from nao_analysis.cli import main
from nao_analysis.roll import new_edition

pytestmark = pytest.mark.slow

NEW = "outturn-2022-23"
TREATMENT_LINE = re.compile(r"Substance misuse - Treatment for (drug|alcohol) misuse in adults")
LANDING_PAGE = "https://www.gov.uk/government/collections/local-authority-revenue-expenditure-and-financing"


def adult_treatment_by_ons_code(path) -> dict[str, float]:
    """Drug + alcohol adult treatment, net current expenditure (GBP thousand) per ONS code, read with pandas only."""
    for frame in pd.read_excel(path, sheet_name=None, header=None, engine="calamine").values():
        cells = frame.astype(object).to_numpy()
        header_rows = [
            r for r in range(min(30, len(cells))) for c in range(min(6, cells.shape[1])) if str(cells[r, c]).strip().lower() == "e-code"
        ]
        if not header_rows:
            continue
        header_row = header_rows[0]
        header = [" ".join(str(c).split()).lower() for c in cells[header_row]]
        labels = [
            (r, c) for r in range(header_row) for c in range(cells.shape[1]) if TREATMENT_LINE.fullmatch(" ".join(str(cells[r, c]).split()))
        ]
        if len(labels) != 2:
            continue
        e_col, ons_col = header.index("e-code"), header.index("ons code")
        values: dict[str, list[float]] = {}
        for _, label_col in labels:
            value_col = next(c for c in range(label_col, len(header)) if header[c].startswith("net current expenditure"))
            for row in cells[header_row + 1 :]:
                if re.fullmatch(r"E\d{4}", str(row[e_col]).strip()):
                    number = pd.to_numeric(str(row[value_col]).replace(",", ""), errors="coerce")
                    values.setdefault(str(row[ons_col]).strip(), []).append(float(number))
        return {code: (math.nan if all(np.isnan(v)) else float(np.nansum(v))) for code, v in values.items()}
    raise AssertionError(f"{path}: no sheet with both adult treatment lines")


def _registry_without(source_id: str, text: str) -> str:
    block = re.search(rf"^- id: {source_id}\n(?:(?!- id:).*\n)*", text, flags=re.MULTILINE)
    assert block, f"{source_id} not in the registry"
    return text[: block.start()] + text[block.end() :]


def _csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def flow(tmp_path_factory, raw_file):
    ro3_2022_23 = raw_file("ro3_outturn_2022_23")  # resolved through the real registry, before it is swapped
    root = tmp_path_factory.mktemp("new-year")
    editions = root / "editions"
    shutil.copytree(paths.project_root() / "editions", editions)
    registry = root / "registry" / "sources.yaml"
    registry.parent.mkdir()
    registry.write_text(_registry_without("ro3_outturn_2022_23", (paths.project_root() / "data" / "sources.yaml").read_text()))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "NAO_EDITIONS_DIR": editions,
            "NAO_SOURCES_FILE": registry,
            "NAO_RAW_DIR": root / "raw",
            "NAO_PROCESSED_DIR": root / "processed",
            "NAO_OUTPUT_ROOT": root / "out",
        }.items():
            patch.setenv(name, str(value))
        edition_path, needs = new_edition(NEW, base="nao-2023", years=1, overrides=["fig03.base_year=2013-14"])
        add_status = main(
            [
                "sources",
                "add",
                "ro3_outturn_2022_23",
                "--file",
                str(ro3_2022_23),
                "--kind",
                "official",
                "--serves",
                "basis=outturn",
                "--serves",
                "year=2022-23",
            ]
        )
        build_new = main(["build", "--edition", NEW, "--only", "fig03", "--jobs", "1"])
        build_offline = main(["build", "--edition", "offline", "--only", "fig03", "--jobs", "1"])
        diff_status = main(["diff", "offline", NEW])
        yield {
            "root": root,
            "edition_path": edition_path,
            "needs": needs,
            "ro3": ro3_2022_23,
            "statuses": (add_status, build_new, build_offline, diff_status),
            "figures": root / "out" / "figures",
            "reports": root / "out" / "reports",
            "diff": root / "out" / "reports" / f"diff-offline-vs-{NEW}",
        }


@pytest.fixture(scope="module")
def raw_2022_23(flow):
    return adult_treatment_by_ons_code(flow["ro3"])


@pytest.fixture(scope="module")
def fig03_new(flow):
    return pd.read_csv(flow["figures"] / NEW / "fig03_spending_change_map.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def summary_new(flow):
    table = pd.read_csv(flow["figures"] / NEW / "fig03_spending_change_map_summary.csv", dtype=str, keep_default_na=False)
    return dict(zip(table["statistic"], table["value"]))


class TestNewEditionStep:
    def test_needs_line_asks_for_the_new_years_file_from_the_official_page(self, flow):
        line = next(line for line in flow["needs"] if line.startswith("fig03.target_source:"))
        assert LANDING_PAGE in line and "sources add ro3_outturn_2022_23" in line

    def test_no_stored_label_can_contradict_the_basis(self, flow):
        # Figure 3's basis label is computed by its recipe from `basis` (checked on the build below).
        assert "run_label" not in flow["edition_path"].read_text()

    def test_edition_compares_2013_14_outturn_with_2022_23(self, flow):
        text = flow["edition_path"].read_text()
        assert all(
            f"{key}: {value}" in text
            for key, value in (("base_source", "ro3_outturn_2013_14"), ("target_source", "ro3_outturn_2022_23"), ("price_year", "2023-24"))
        )


class TestEveryCommandSucceeds:
    def test_add_build_build_diff_exit_zero(self, flow):
        assert flow["statuses"] == (0, 0, 0, 0)


class TestBuiltLabel:
    def test_run_label_says_the_outturn_basis(self, flow):
        record = json.loads(next((flow["reports"] / NEW).glob("fig03_*.json")).read_text())
        assert record["text"]["run_label"] == "Outturn basis (RO3)"


class TestBuiltNumbers:
    def test_england_target_total_equals_the_raw_file(self, summary_new, fig03_new, raw_2022_23):
        # Like for like: areas with data in both years; a merged unit's target value is the sum of its areas.
        with_data = fig03_new.loc[fig03_new["no_data"] == "False", "target_code"]
        independent = sum(raw_2022_23[code] for code in with_data)
        assert float(summary_new["target_cash_gbp_m"]) * 1000 == pytest.approx(independent, abs=0.01)

    def test_england_target_total_is_552_972_thousand(self, raw_2022_23, fig03_new):
        with_data = fig03_new.loc[fig03_new["no_data"] == "False", "target_code"]
        assert sum(raw_2022_23[code] for code in with_data) == pytest.approx(552_972, abs=0.5)

    def test_every_unchanged_authority_equals_the_raw_file(self, fig03_new, raw_2022_23):
        unchanged = fig03_new[(fig03_new["crosswalk"] == "") & (fig03_new["no_data"] == "False")]
        assert len(unchanged) > 130
        assert {c: float(v) for c, v in zip(unchanged["target_code"], unchanged["target_cash_gbp_k"])} == pytest.approx(
            {c: raw_2022_23[c] for c in unchanged["target_code"]}
        )

    def test_areas_without_2022_23_data_are_blank_in_the_raw_file(self, fig03_new, raw_2022_23):
        no_target = fig03_new.loc[fig03_new["no_data_reason"] == "no data in the target year", "target_code"]
        assert len(no_target) and all(math.isnan(raw_2022_23[code]) for code in no_target)


class TestDiff:
    def test_headline_target_total_is_side_by_side(self, flow, summary_new):
        offline = pd.read_csv(flow["figures"] / "offline" / "fig03_spending_change_map_summary.csv", dtype=str, keep_default_na=False)
        row = next(r for r in _csv(flow["diff"] / "diff.csv") if r["section"] == "headline" and r["key"] == "target_cash_gbp_m")
        assert (row["value_a"], row["value_b"]) == (
            dict(zip(offline["statistic"], offline["value"]))["target_cash_gbp_m"],
            summary_new["target_cash_gbp_m"],
        )

    def test_per_authority_change_matches_the_two_builds(self, flow, fig03_new):
        offline = pd.read_csv(flow["figures"] / "offline" / "fig03_spending_change_map.csv", dtype=str, keep_default_na=False)
        a = dict(zip(offline["target_code"], offline["change_real_pct"]))
        b = dict(zip(fig03_new["target_code"], fig03_new["change_real_pct"]))
        rows = [r for r in _csv(flow["diff"] / "diff.csv") if r["section"] == "authority" and r["measure"] == "change_real_pct"]
        assert len(rows) == len(set(a) & set(b))
        for row in rows:
            if a[row["key"]] and b[row["key"]]:
                assert float(row["change"]) == pytest.approx(float(b[row["key"]]) - float(a[row["key"]]))

    def test_reconciliation_status_changes_are_exactly_those_of_the_two_builds(self, flow):
        status = {
            e: {(r["figure"], r["check"]): r["status"] for r in _csv(flow["reports"] / e / "reconciliation.csv")} for e in ("offline", NEW)
        }
        expected = {k for k in status["offline"] if k[0] == "fig03" and status["offline"][k] != status[NEW].get(k)}
        found = {
            (r["figure"], r["key"])
            for r in _csv(flow["diff"] / "diff.csv")
            if r["section"] == "reconciliation_status" and r["figure"] == "fig03"
        }
        assert found == expected

    def test_basis_change_is_listed_as_a_parameter(self, flow):
        row = next(r for r in _csv(flow["diff"] / "diff.csv") if r["section"] == "parameter" and r["key"] == "basis")
        assert (row["value_a"], row["value_b"]) == ('"budget"', '"outturn"')

    def test_same_boundaries_so_no_authority_appears_or_disappears(self, flow):
        assert not [r for r in _csv(flow["diff"] / "diff.csv") if r["section"] == "authority_change"]

    def test_html_page_is_written(self, flow):
        assert "Differences between editions offline and outturn-2022-23" in (flow["diff"] / "diff.html").read_text()
