"""ONS drug-poisoning reference tables, Table 1, and the Table 1 extract."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers_mirror import mirror_path

from nao_analysis.errors import ReaderError
from nao_analysis.readers.ons_deaths import read_drug_deaths_extract, read_drug_deaths_table1


class TestReadDrugDeathsTable1:
    def test_england_drug_misuse_2011(self, raw_file):
        frame = read_drug_deaths_table1(raw_file("ons_drug_deaths_2016reg"))
        value = frame.query("measure == 'drug_misuse' and country == 'England' and sex == 'Persons' and year == 2011")["deaths"]
        assert value.item() == 1582

    def test_reads_both_measures_three_countries_three_sexes(self, raw_file):
        frame = read_drug_deaths_table1(raw_file("ons_drug_deaths_2016reg"))
        assert frame.groupby(["measure", "country", "sex"]).ngroups == 2 * 3 * 3
        assert frame["year"].min() == 1993 and frame["year"].max() == 2016

    def test_males_and_females_sum_to_persons(self, raw_file):
        frame = read_drug_deaths_table1(raw_file("ons_drug_deaths_2016reg"))
        wide = frame.pivot_table(index=["measure", "country", "year"], columns="sex", values="deaths")
        assert (wide["Males"] + wide["Females"] == wide["Persons"]).all()

    def test_workbook_without_table1_names_what_was_expected(self, tmp_path, raw_file):
        sheets = pd.read_excel(raw_file("ons_drug_deaths_2016reg"), sheet_name=None, header=None, engine="calamine")
        bad = tmp_path / "renamed.xlsx"
        with pd.ExcelWriter(bad) as writer:
            for name, frame in sheets.items():
                if name != "Table 1":
                    frame.to_excel(writer, sheet_name=name, header=False, index=False)
        with pytest.raises(ReaderError, match=r"renamed.xlsx: no sheet for Table 1"):
            read_drug_deaths_table1(bad)


class TestReadDrugDeathsTable1Of2022:
    """The official 2022-registrations xlsx: Table 1 in the years-down layout, read by the same reader."""

    PATH = "ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2022reg.xlsx"

    def _misuse(self, frame, country, year):
        return frame.query("measure == 'drug_misuse' and country == @country and sex == 'Persons' and year == @year")["deaths"].item()

    def test_england_misuse_2021_equals_the_raw_cell(self):
        import openpyxl

        path = mirror_path(self.PATH)
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True)["Table 1"]
        # Row 10 is Persons 2021; column I is England under "of which: Drug misuse" (All causes).
        assert (sheet["B10"].value, sheet["H6"].value, sheet["I7"].value, sheet["I10"].value) == (
            2021,
            "of which: Drug misuse",
            "England",
            2846,
        )
        assert self._misuse(read_drug_deaths_table1(path), "England", 2021) == sheet["I10"].value

    def test_england_and_wales_misuse_2021(self):
        assert self._misuse(read_drug_deaths_table1(mirror_path(self.PATH)), "England and Wales", 2021) == 3060

    def test_registration_edition_is_the_latest_year(self):
        frame = read_drug_deaths_table1(mirror_path(self.PATH))
        assert (frame.attrs["registration_edition"], frame.attrs["layout"]) == (2022, "years_down")

    def test_all_causes_columns_only(self):
        frame = read_drug_deaths_table1(mirror_path(self.PATH))
        assert len(frame) == 2 * 3 * 3 * (2022 - 1993 + 1)

    def test_agrees_with_the_2016_workbook_on_unrevised_2011(self, raw_file):
        older = read_drug_deaths_table1(raw_file("ons_drug_deaths_2016reg"))
        newer = read_drug_deaths_table1(mirror_path(self.PATH))
        assert self._misuse(older, "England", 2011) == self._misuse(newer, "England", 2011) == 1582


class TestReadDrugDeathsExtract:
    def test_england_2021_and_2011(self, raw_file):
        frame = read_drug_deaths_extract(raw_file("ons_drug_deaths_england_2023reg_extract"))
        misuse = frame.query("measure == 'drug_misuse'").set_index("year")["deaths"]
        assert misuse[2021] == 2846 and misuse[2011] == 1582

    def test_extract_agrees_with_the_official_2016_workbook_for_shared_years(self, raw_file):
        official = read_drug_deaths_table1(raw_file("ons_drug_deaths_2016reg")).query("country == 'England' and sex == 'Persons'")
        extract = read_drug_deaths_extract(raw_file("ons_drug_deaths_england_2023reg_extract"))
        merged = official.merge(extract, on=["measure", "year"], suffixes=("_2016", "_2023"))
        assert len(merged) == 2 * (2016 - 1993 + 1)
        # 2011 is one of the years the report relies on; it is unrevised.
        assert merged.query("year == 2011 and measure == 'drug_misuse'").eval("deaths_2016 == deaths_2023").item()

    def test_missing_measure_column_is_named(self, tmp_path):
        bad = tmp_path / "extract.csv"
        bad.write_text("sex,year,drug_misuse\nPersons,2021,2846\n")
        with pytest.raises(ReaderError, match=r"missing columns \['all_drug_poisoning'\]"):
            read_drug_deaths_extract(bad)
