"""Authority geography: E-code crosswalk, successors after reorganisations, comparison units."""

from __future__ import annotations

import pandas as pd
import pytest

from nao_analysis.analysis.geography import (
    attach_ons_codes,
    build_e_code_crosswalk,
    comparison_units,
    successor_codes,
    upper_tier_areas_from_districts,
)
from nao_analysis.analysis.spending_change import upper_tier
from nao_analysis.errors import CrosswalkError
from nao_analysis.readers.boundaries import read_code_changes, read_ctyua_boundaries, read_district_upper_tier_lookup
from nao_analysis.readers.revenue_account import read_revenue_account

OLD_LINE = {"adult_drug_misuse": r"Substance misuse - Drug misuse - adults"}
NEW_LINE = {"adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults"}
BCP, DORSET_UA, BOURNEMOUTH, POOLE, DORSET_CC = "E06000058", "E06000059", "E06000028", "E06000029", "E10000009"


@pytest.fixture(scope="module")
def crosswalk(raw_file):
    return build_e_code_crosswalk(
        [read_revenue_account(raw_file("ra_budget_2021_22_csv"), NEW_LINE), read_revenue_account(raw_file("ro3_outturn_2022_23"), NEW_LINE)]
    )


@pytest.fixture(scope="module")
def districts(raw_file):
    return read_district_upper_tier_lookup(raw_file("lookup_ltla14"))


@pytest.fixture(scope="module")
def changes(raw_file):
    return read_code_changes(raw_file("lookup_la_code_changes_2018_2025"))


@pytest.fixture(scope="module")
def base_2013(raw_file, crosswalk, districts):
    spend = upper_tier(read_revenue_account(raw_file("ro3_outturn_2013_14"), OLD_LINE))
    return attach_ons_codes(spend, crosswalk, upper_tier_areas_from_districts(districts))


@pytest.fixture(scope="module")
def boundaries_2021(raw_file):
    return read_ctyua_boundaries(raw_file("boundaries_ctyua_dec2021_buc"))


def names(frame: pd.DataFrame) -> dict[str, str]:
    return dict(zip(frame["code"], frame["name"]))


class TestBuildECodeCrosswalk:
    def test_the_two_files_agree_on_every_code(self, crosswalk):
        assert crosswalk["e_code"].is_unique

    def test_bcp_has_its_ons_code(self, crosswalk):
        assert crosswalk.set_index("e_code").at["E1204", "ons_code"] == BCP

    def test_conflicting_codes_are_an_error_listing_them(self):
        a = pd.DataFrame({"e_code": ["E0101"], "ons_code": ["E06000022"], "authority": ["Bath"]})
        b = pd.DataFrame({"e_code": ["E0101"], "ons_code": ["E06000099"], "authority": ["Bath"]})
        with pytest.raises(CrosswalkError, match=r"E0101: E06000022, E06000099"):
            build_e_code_crosswalk([a, b])


class TestAttachOnsCodes:
    def test_every_2013_14_upper_tier_authority_gets_a_code(self, base_2013):
        assert len(base_2013) == 152 and base_2013["ons_code"].str.match(r"^E\d{8}$").all()

    def test_abolished_authorities_are_matched_by_name(self, base_2013):
        by_name = base_2013[base_2013["ons_code_from"] == "name"].set_index("authority")["ons_code"].to_dict()
        assert by_name == {
            "Buckinghamshire CC": "E10000002",
            "Poole UA": POOLE,
            "Bournemouth UA": BOURNEMOUTH,
            "Dorset CC": DORSET_CC,
            "Northamptonshire CC": "E10000021",
        }

    def test_an_unknown_authority_is_an_error_listing_it(self, crosswalk, districts):
        stray = pd.DataFrame({"e_code": ["E9999"], "ons_code": [None], "authority": ["Atlantis UA"]})
        with pytest.raises(CrosswalkError, match=r"E9999 \(Atlantis UA\)"):
            attach_ons_codes(stray, crosswalk, upper_tier_areas_from_districts(districts))


class TestSuccessorCodes:
    def test_every_2013_14_authority_maps_to_a_2021_boundary_code(self, base_2013, changes, districts, boundaries_2021):
        successors = successor_codes(base_2013["ons_code"], changes, districts, 2021)
        reached = set().union(*successors.values())
        assert reached == set(boundaries_2021["code"])

    def test_every_2013_14_authority_maps_to_a_2022_boundary_code(self, base_2013, changes, districts, boundaries_2021):
        # England's upper-tier codes are the same in December 2022 as in December 2021.
        successors = successor_codes(base_2013["ons_code"], changes, districts, 2022)
        assert set().union(*successors.values()) == set(boundaries_2021["code"])

    def test_dorset_county_splits_between_bcp_and_dorset(self, changes, districts):
        assert successor_codes([DORSET_CC], changes, districts, 2021)[DORSET_CC] == {BCP, DORSET_UA}

    def test_northamptonshire_becomes_north_and_west(self, changes, districts):
        assert successor_codes(["E10000021"], changes, districts, 2021)["E10000021"] == {"E06000061", "E06000062"}

    def test_changes_after_the_boundary_year_are_not_applied(self, changes, districts):
        assert successor_codes(["E10000027"], changes, districts, 2022)["E10000027"] == {"E10000027"}

    def test_2023_changes_follow_chains(self, changes, districts, raw_file):
        boundaries_2023 = read_ctyua_boundaries(raw_file("boundaries_ctyua_may2023_buc"))
        successors = successor_codes(["E10000027", "E10000006"], changes, districts, 2023)
        assert successors["E10000027"] == {"E06000066"}
        assert successors["E10000006"] == {"E06000063", "E06000064"}
        assert set().union(*successors.values()) <= set(boundaries_2023["code"])


@pytest.fixture(scope="module")
def inputs(base_2013, changes, districts, boundaries_2021):
    """Base areas 2013-14, target areas December 2021, and the successors between them."""
    areas = names(upper_tier_areas_from_districts(districts))
    base = {c: areas[c] for c in base_2013["ons_code"]}
    return base, names(boundaries_2021), successor_codes(base, changes, districts, 2021)


class TestComparisonUnits:
    def test_aggregate_compares_all_dorset_predecessors_with_both_successors(self, inputs):
        units = comparison_units(*inputs, policy="aggregate").set_index("target_code")
        assert units.at[BCP, "unit_id"] == units.at[DORSET_UA, "unit_id"]
        assert set(units.at[BCP, "base_codes"].split("; ")) == {BOURNEMOUTH, POOLE, DORSET_CC}

    def test_nao_compares_bournemouth_alone_with_bcp(self, inputs):
        units = comparison_units(*inputs, policy="nao")
        row = units.set_index("target_code").loc[BCP]
        assert row["base_codes"] == BOURNEMOUTH
        assert units.attrs["not_compared"] == [POOLE]

    def test_nao_aggregates_the_northamptonshire_split(self, inputs):
        units = comparison_units(*inputs, policy="nao").set_index("target_code")
        assert units.at["E06000061", "unit_id"] == units.at["E06000062", "unit_id"]

    def test_150_areas_are_counted(self, inputs):
        units = comparison_units(*inputs, policy="nao")
        assert units["counted"].sum() == 150
        assert set(units.loc[~units["counted"], "target_name"]) == {"City of London", "Isles of Scilly"}

    def test_city_of_london_shares_hackneys_unit(self, inputs):
        units = comparison_units(*inputs, policy="aggregate").set_index("target_code")
        assert units.at["E09000001", "unit_id"] == units.at["E09000012", "unit_id"] == "E09000012"

    def test_a_successor_missing_from_the_target_boundaries_is_an_error(self, inputs):
        base, target, successors = inputs
        older_boundaries = {c: n for c, n in target.items() if c != BCP}
        with pytest.raises(CrosswalkError, match=r"E06000028 \(Bournemouth\) -> E06000058"):
            comparison_units(base, older_boundaries, successors)

    def test_a_target_area_without_predecessor_is_an_error(self):
        with pytest.raises(CrosswalkError, match=r"E06000099 \(Newtown\)"):
            comparison_units(
                {"E06000001": "Hartlepool"}, {"E06000001": "Hartlepool", "E06000099": "Newtown"}, {"E06000001": frozenset({"E06000001"})}
            )

    def test_an_unknown_policy_is_an_error(self, inputs):
        with pytest.raises(CrosswalkError, match="crosswalk_policy 'pairwise' is not known"):
            comparison_units(*inputs, policy="pairwise")
