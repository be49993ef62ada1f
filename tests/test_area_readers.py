"""Readers for the area-level files: drug-poisoning deaths by local authority and the RSX summary."""

from __future__ import annotations

import csv
import math

import pytest
from helpers_mirror import mirror_path

from nao_analysis.errors import ReaderError
from nao_analysis.readers.la_deaths import read_la_drug_deaths
from nao_analysis.readers.rsx import read_rsx, read_rsx_totals

LA_DEATHS = "ons-deaths/drug_poisoning_deaths_by_la_1993_2020_registrations_extract.csv"
RSX = "revenue-account/RSX_2021-22_data_by_LA_Live.csv"


def raw_rows(path):
    with path.open(encoding="cp1252", newline="") as handle:
        return list(csv.reader(handle))


class TestLaDrugDeaths:
    def test_england_2020_equals_the_raw_cell(self):
        path = mirror_path(LA_DEATHS)
        rows = raw_rows(path)
        england = next(r for r in rows if r[0] == "E92000001")
        raw = int(england[rows[0].index("2020")])
        frame = read_la_drug_deaths(path)
        assert frame.query("code == 'E92000001' and year == 2020")["deaths"].item() == raw == 4312

    def test_every_area_and_year(self):
        frame = read_la_drug_deaths(mirror_path(LA_DEATHS))
        assert (frame["code"].nunique(), frame["year"].min(), frame["year"].max()) == (375, 1993, 2020)

    def test_levels_come_from_the_code(self):
        frame = read_la_drug_deaths(mirror_path(LA_DEATHS))
        assert frame.set_index("code")["level"].to_dict()["E06000058"] == "unitary authority"

    def test_windows_encoded_names_are_read(self):
        frame = read_la_drug_deaths(mirror_path(LA_DEATHS))
        assert "Isle of Anglesey / Ynys Môn" in set(frame["name"])

    def test_text_count_is_refused_with_its_cell(self, tmp_path):
        bad = tmp_path / "la.csv"
        bad.write_bytes(mirror_path(LA_DEATHS).read_bytes().replace(b"E92000001,ENGLAND,4312", b"E92000001,ENGLAND,4312.0e0"))
        with pytest.raises(ReaderError, match=r"row 3, column '2020' \(C\): '4312.0e0'"):
            read_la_drug_deaths(bad)


class TestRsx:
    def test_england_public_health_equals_the_raw_cell(self):
        path = mirror_path(RSX)
        rows = raw_rows(path)
        header = next(r for r in rows if r and r[0] == "E-code")
        column = next(i for i, label in enumerate(header) if label.startswith("Public Health - Net Current Expenditure"))
        raw = next(r for r in rows if r and r[0] == "Eng")[column]
        assert read_rsx_totals(path)["public_health"] == float(raw.replace(",", "")) == 4_232_223

    def test_upper_tier_authorities_sum_as_the_manifest_says(self):
        frame = read_rsx(mirror_path(RSX))
        upper = frame[frame["class"].isin(["UA", "SC", "MD", "LB", "L"])]
        assert upper["value_gbp_thousands"].sum() == 4_207_175

    def test_returns_not_received_are_no_data(self):
        frame = read_rsx(mirror_path(RSX))
        assert math.isnan(frame.loc[frame["authority"] == "Woking", "value_gbp_thousands"].item())

    def test_read_through_the_merged_header_layout(self):
        assert read_rsx(mirror_path(RSX)).attrs["layout"] == "merged_header"


class TestDistrictLookups:
    @pytest.mark.parametrize(
        "source_id", ["lookup_ltla14", "lookup_ltla21_utla21_apr2021", "lookup_ltla19_utla19_geographr", "lookup_ltla23_utla23_geographr"]
    )
    def test_every_layout_maps_adur_to_west_sussex(self, raw_file, source_id):
        from nao_analysis.readers.boundaries import read_district_upper_tier_lookup

        lookup = read_district_upper_tier_lookup(raw_file(source_id)).set_index("district_code")
        assert lookup.loc["E07000223", ["district_name", "upper_tier_code", "upper_tier_name"]].tolist() == [
            "Adur",
            "E10000032",
            "West Sussex",
        ]


class TestRoEnglandTimeseries:
    LINES = {
        "adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults",
        "adult_alcohol_treatment": r"Substance misuse - Treatment for alcohol misuse in adults",
    }

    def test_2021_22_outturn_equals_the_raw_cells_in_thousands(self, raw_file):
        from nao_analysis.readers.ro_timeseries import read_ro_england_timeseries

        path = raw_file("ro3_england_substance_misuse_2017_2024")
        with path.open(encoding="utf-8", newline="") as handle:
            raw = {(r["period"], r["description"]): int(r["net_current_expenditure"]) for r in csv.DictReader(handle)}
        frame = read_ro_england_timeseries(path, self.LINES).set_index(["financial_year", "line_id"])["value_gbp_thousands"]
        assert frame["2021-22", "adult_drug_treatment"] * 1000 == raw["2021-22", "Treatment for drug misuse in adults"] == 347_197_000
        assert frame["2021-22", "adult_alcohol_treatment"] == 171_280

    def test_detected_as_england_outturn_by_year(self, raw_file):
        from nao_analysis.readers.detect import identify

        found = identify(raw_file("ro3_england_substance_misuse_2017_2024"))
        assert (found.format, found.serves["first_year"], found.serves["last_year"]) == ("ro_england_timeseries_csv", "2017-18", "2023-24")
