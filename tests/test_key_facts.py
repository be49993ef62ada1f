"""The Key facts page: the facts file, the join to the reconciliation, and the HTML fragment."""

from __future__ import annotations

import re

import pandas as pd
import project_paths as paths
import pytest
import yaml

from nao_analysis.errors import AnalysisError, ReaderError
from nao_analysis.figures.key_facts import (
    BASIS_QUOTED,
    BASIS_RECOMPUTED,
    RECONCILIATION_COLUMNS,
    STATUS_NOT_BUILT,
    key_facts_table,
    load_key_facts,
    write_key_facts,
)
from nao_analysis.report.key_facts import key_facts_html

KEY_FACTS = paths.manual_dir() / "key_facts.yaml"
FACTS = load_key_facts(KEY_FACTS)


def reconciliation(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=RECONCILIATION_COLUMNS)


def recon_row(figure: str, check: str, *, rebuilt: float | None, status: str, published: float = 1.0, note: str = "") -> dict:
    return {
        "check": check,
        "figure": figure,
        "published": published,
        "rebuilt": rebuilt,
        "tolerance": 0,
        "unit": "",
        "status": status,
        "note": note,
    }


def fact(**changes) -> dict:
    base = {
        "id": "sample",
        "group": 1,
        "headline": "1",
        "wording": "a fact",
        "value": 1,
        "unit": "things",
        "citation": "Key facts",
        "quoted": "a publication",
    }
    base.update(changes)
    return base


class TestLoadKeyFacts:
    def test_every_fact_has_exactly_one_basis(self):
        assert all((f.recomputed_by is None) != (f.quoted is None) for f in FACTS)

    def test_every_fact_cites_the_key_facts_page(self):
        assert all("Key facts" in f.citation for f in FACTS)

    @pytest.mark.parametrize("reference", sorted({(f.recomputed_by.figure, f.recomputed_by.check) for f in FACTS if f.recomputed_by}))
    def test_referenced_check_exists_in_published_file(self, reference):
        figure, check = reference
        published = paths.manual_dir() / "published" / f"{figure}.yaml"
        if not published.exists():
            pytest.skip(f"{published.name} not written yet")
        checks = {row["check"] for row in yaml.safe_load(published.read_text(encoding="utf-8"))["checks"]}
        assert check in checks

    def test_fact_with_both_bases_rejected(self, tmp_path):
        path = tmp_path / "facts.yaml"
        both = fact(recomputed_by={"figure": "fig02", "check": "deaths_2021"})
        path.write_text(yaml.safe_dump({"schema": 1, "document": "d", "facts": [both]}), encoding="utf-8")
        with pytest.raises(ReaderError, match="both"):
            load_key_facts(path)

    def test_fact_with_neither_basis_rejected(self, tmp_path):
        path = tmp_path / "facts.yaml"
        neither = fact(quoted=None)
        path.write_text(yaml.safe_dump({"schema": 1, "document": "d", "facts": [neither]}), encoding="utf-8")
        with pytest.raises(ReaderError, match="neither"):
            load_key_facts(path)

    def test_duplicate_fact_id_rejected(self, tmp_path):
        path = tmp_path / "facts.yaml"
        path.write_text(yaml.safe_dump({"schema": 1, "document": "d", "facts": [fact(), fact()]}), encoding="utf-8")
        with pytest.raises(ReaderError, match="more than once"):
            load_key_facts(path)


class TestKeyFactsTable:
    def test_recomputed_fact_takes_rebuilt_value_and_status(self):
        table = key_facts_table(FACTS, reconciliation(recon_row("fig02", "deaths_2021", rebuilt=2846, status="pass", published=2846)))
        row = table.set_index("fact").loc["drug_misuse_deaths_2021"]
        assert (row["rebuilt"], row["status"], row["basis"]) == (2846, "pass", BASIS_RECOMPUTED)

    def test_recomputed_fact_without_reconciliation_row_is_not_built(self):
        table = key_facts_table(FACTS, reconciliation())
        recomputed = table[table["basis"] == BASIS_RECOMPUTED]
        assert (recomputed["status"] == STATUS_NOT_BUILT).all()

    def test_quoted_fact_carries_its_citation(self):
        table = key_facts_table(FACTS, reconciliation()).set_index("fact")
        row = table.loc["drug_related_homicides_2021_22"]
        assert row["basis"] == BASIS_QUOTED and row["status"] == BASIS_QUOTED and "ONS" in row["quoted_from"]

    def test_same_check_name_in_two_figures_joins_to_the_right_one(self):
        rows = reconciliation(
            recon_row("fig08", "total_allocation", rebuilt=768, status="pass"),
            recon_row("fig09", "total_allocation", rebuilt=30, status="pass"),
        )
        table = key_facts_table(FACTS, rows).set_index("fact")
        assert (table.loc["strategy_funding_treatment_m", "rebuilt"], table.loc["strategy_funding_demand_m", "rebuilt"]) == (768, 30)

    def test_source_unavailable_status_passes_through(self):
        rows = reconciliation(recon_row("fig01", "any_drug_16_59_ye_jun2022", rebuilt=None, status="source unavailable"))
        row = key_facts_table(FACTS, rows).set_index("fact").loc["drug_use_16_59_pct"]
        assert row["status"] == "source unavailable" and pd.isna(row["rebuilt"])

    def test_reconciliation_missing_column_rejected(self):
        with pytest.raises(AnalysisError, match="status"):
            key_facts_table(FACTS, reconciliation().drop(columns="status"))

    def test_duplicate_reconciliation_row_rejected(self):
        row = recon_row("fig02", "deaths_2021", rebuilt=2846, status="pass")
        with pytest.raises(AnalysisError, match="twice"):
            key_facts_table(FACTS, reconciliation(row, row))

    def test_keeps_page_order(self):
        assert list(key_facts_table(FACTS, reconciliation())["fact"]) == [f.id for f in FACTS]


class TestKeyFactsHtml:
    def test_text_is_escaped(self):
        hostile = fact(wording="<script>alert(1)</script>", citation="Key facts & <b>more</b>", quoted='"quoted" <i>x</i>')
        markup = key_facts_html(key_facts_table([hostile], reconciliation()))
        assert "<script>" not in markup and "<b>" not in markup and "<i>" not in markup
        assert "&lt;script&gt;" in markup and "&amp;" in markup

    def test_one_row_header_per_fact(self):
        markup = key_facts_html(key_facts_table(FACTS, reconciliation()))
        assert len(re.findall(r'<th scope="row">', markup)) == len(FACTS)

    def test_has_caption_and_column_headers(self):
        markup = key_facts_html(key_facts_table(FACTS, reconciliation()))
        assert "<caption>" in markup and markup.count('<th scope="col">') == 6

    def test_says_in_words_which_facts_are_recomputed_and_which_quoted(self):
        markup = key_facts_html(key_facts_table(FACTS, reconciliation()))
        recomputed = sum(f.recomputed_by is not None for f in FACTS)
        assert markup.count("Recomputed by fig") == recomputed
        assert markup.count("Quoted: ") == len(FACTS) - recomputed


class TestKeyFactsRecord:
    def test_the_build_record_holds_every_fact_and_the_facts_file_hash(self, tmp_path):
        import hashlib
        import json

        target = write_key_facts(KEY_FACTS.parent, tmp_path, [])
        record = json.loads(target.read_text())
        assert [f["fact"] for f in record["facts"]] == [f.id for f in FACTS]
        assert record["inputs"]["manual:key_facts.yaml"]["sha256"] == hashlib.sha256(KEY_FACTS.read_bytes()).hexdigest()
