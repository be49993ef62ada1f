"""Area profiles (issue 16): the areas with awkward histories checked against raw cells of the mirror files, read
here with pandas independently of the project's readers, and the pure functions of analysis.area_profiles.

With the 2021 boundaries the profiles use, Cumbria stands (Cumberland and Westmorland and Furness date from April
2023), so Cumbria is tested as one area and Cumberland's absence is asserted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import requires_mirror

RO3_2013 = "ro3_outturn_2013_14"
RA_2014 = "ra_budget_2014_15"
RA_2021 = "ra_budget_2021_22_csv"
RSX_2021 = "rsx_outturn_2021_22_csv"
DEATHS = "ons_drug_poisoning_deaths_by_la_1993_2020_extract"
DRUG_2013, ALCOHOL_2013 = "Substance misuse - Drug misuse - adults", "Substance misuse - Alcohol misuse - adults"
DRUG_2021, ALCOHOL_2021 = (
    "Substance misuse - Treatment for drug misuse in adults",
    "Substance misuse - Treatment for alcohol misuse in adults",
)

BCP, DORSET = "E06000058", "E06000059"
NORTH_NORTHANTS = "E06000061"
CUMBRIA, CUMBERLAND = "E10000006", "E06000063"
HACKNEY, CORNWALL, SLOUGH = "E09000012", "E06000052", "E06000039"


# -- raw cells, read without the project's readers -------------------------------------------------


def _number(text) -> float:
    return float(str(text).replace(",", "").strip())


def _header_row(cells: pd.DataFrame) -> int:
    return int(cells.index[cells.apply(lambda r: r.astype(str).str.strip().eq("E-code").any(), axis=1)][0])


def _one_column_per_line(cells: pd.DataFrame, name_column: int, authority: str, label: str) -> float:
    """RA layout: the line label is the header cell of its column."""
    header = _header_row(cells)
    column = next(i for i, v in enumerate(cells.iloc[header]) if str(v).strip() == label)
    row = cells.index[cells.iloc[:, name_column].astype(str).str.strip() == authority][0]
    return _number(cells.iat[row, column])


def _per_line_subcolumns(cells: pd.DataFrame, authority: str, label: str) -> float:
    """RO3 layout: the line label sits above its columns; net current expenditure is one of them."""
    header = _header_row(cells)
    where = [(r, c) for r in range(header) for c in range(cells.shape[1]) if str(cells.iat[r, c]).strip() == label]
    row_of_label, first = where[0]
    column = next(c for c in range(first, cells.shape[1]) if str(cells.iat[header, c]).startswith("Net Current Expenditure"))
    row = cells.index[cells.iloc[:, 1].astype(str).str.strip() == authority][0]
    return _number(cells.iat[row, column])


@pytest.fixture(scope="module")
def raw(raw_file):
    ra2021 = pd.read_csv(raw_file(RA_2021), header=None, dtype=str, encoding="latin-1")
    return {
        "ro3_2013": pd.read_excel(raw_file(RO3_2013), sheet_name="RO3 LA Data 2013-14 (3)", header=None, dtype=str),
        "ra_2014": pd.read_excel(raw_file(RA_2014), sheet_name="RA LA Data 2014-15 (1)", header=None, dtype=str),
        "ra_2021": ra2021,
        "rsx_2021": pd.read_csv(raw_file(RSX_2021), header=None, dtype=str, encoding="latin-1"),
        "deaths": pd.read_csv(raw_file(DEATHS), dtype=str, encoding="cp1252").assign(code=lambda f: f["code"].str.strip()),
    }


def ra2021_treatment(raw, ons_code: str) -> float:
    return sum(_one_column_per_line(raw["ra_2021"], 1, ons_code, line) for line in (DRUG_2021, ALCOHOL_2021))


def raw_deaths(raw, code: str, years) -> float:
    row = raw["deaths"].set_index("code").loc[code]
    return sum(_number(row[str(y)]) for y in years)


# -- the recipe's output ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profiles(raw_file):
    from nao_analysis.figures.runtime import execute, prepare
    from nao_analysis.settings import Settings

    ctx = prepare("areas", settings=Settings.from_environment(), edition="offline")
    result = execute(ctx)
    return result, {a["code"]: a for a in result.extra["areas"]}


def point(area, year, basis, series="comparison"):
    return next(s for s in area["spending"] if s["year"] == year and s["basis"] == basis and s["series"] == series)


@requires_mirror
class TestAwkwardHistories:
    def test_bcp_2013_14_outturn_sums_bournemouth_poole_and_dorset_cc(self, profiles, raw):
        expected = sum(
            _per_line_subcolumns(raw["ro3_2013"], authority, line)
            for authority in ("Bournemouth UA", "Poole UA", "Dorset CC")
            for line in (DRUG_2013, ALCOHOL_2013)
        )
        bcp = point(profiles[1][BCP], "2013-14", "outturn")
        assert (bcp["cash_gbp_k"], bcp["covers"]) == (
            expected,
            "Bournemouth (former area E06000028); Poole (former area E06000029); Dorset (former area E10000009)",
        )

    def test_bcp_2021_22_budget_of_its_own_is_its_raw_row(self, profiles, raw):
        assert point(profiles[1][BCP], "2021-22", "budget", "area")["cash_gbp_k"] == ra2021_treatment(raw, BCP)

    def test_bcp_says_which_predecessors_its_history_comes_from(self, profiles):
        assert profiles[1][BCP]["predecessors"] == ["Bournemouth; Poole; Dorset"]

    def test_north_northamptonshire_2014_15_budget_is_northamptonshire_cc(self, profiles, raw):
        expected = sum(_one_column_per_line(raw["ra_2014"], 1, "Northamptonshire", line) for line in (DRUG_2013, ALCOHOL_2013))
        assert point(profiles[1][NORTH_NORTHANTS], "2014-15", "budget")["cash_gbp_k"] == expected

    def test_north_northamptonshire_2021_22_budget_is_compared_with_west_added(self, profiles, raw):
        expected = ra2021_treatment(raw, NORTH_NORTHANTS) + ra2021_treatment(raw, "E06000062")
        assert point(profiles[1][NORTH_NORTHANTS], "2021-22", "budget")["cash_gbp_k"] == expected

    def test_cumbria_stands_on_the_2021_boundaries(self, profiles):
        assert CUMBRIA in profiles[1] and CUMBERLAND not in profiles[1]

    def test_cumbria_2021_22_budget_share_is_treatment_over_raw_public_health(self, profiles, raw):
        public_health = _one_column_per_line(raw["ra_2021"], 1, CUMBRIA, "TOTAL PUBLIC HEALTH")
        share = next(s for s in profiles[1][CUMBRIA]["public_health_share"] if s["year"] == "2021-22" and s["basis"] == "budget")
        assert share["share_pct"] == pytest.approx(ra2021_treatment(raw, CUMBRIA) / public_health * 100)

    def test_hackney_spending_includes_city_of_london(self, profiles, raw):
        expected = ra2021_treatment(raw, HACKNEY) + ra2021_treatment(raw, "E09000001")
        assert point(profiles[1][HACKNEY], "2021-22", "budget")["cash_gbp_k"] == expected

    def test_hackney_deaths_include_city_of_london(self, profiles, raw):
        expected = raw_deaths(raw, HACKNEY, (2018, 2019, 2020)) + raw_deaths(raw, "E09000001", (2018, 2019, 2020))
        latest = profiles[1][HACKNEY]["deaths"]["rolling"][-1]
        assert (latest["period"], latest["deaths"]) == ("2018-20", expected)

    def test_cornwall_spending_includes_the_isles_of_scilly(self, profiles, raw):
        expected = ra2021_treatment(raw, CORNWALL) + ra2021_treatment(raw, "E06000053")
        assert point(profiles[1][CORNWALL], "2021-22", "budget")["cash_gbp_k"] == expected

    def test_cornwall_deaths_include_the_isles_of_scilly(self, profiles, raw):
        expected = raw_deaths(raw, CORNWALL, (2011, 2012, 2013)) + raw_deaths(raw, "E06000053", (2011, 2012, 2013))
        assert next(r for r in profiles[1][CORNWALL]["deaths"]["rolling"] if r["period"] == "2011-13")["deaths"] == expected

    def test_rsx_public_health_is_shown_without_a_share_that_would_mix_bases(self, profiles, raw):
        rsx = raw["rsx_2021"]
        header = _header_row(rsx)
        column = next(i for i, v in enumerate(rsx.iloc[header]) if str(v).startswith("Public Health - Net Current Expenditure"))
        codes = rsx.iloc[:, 1].astype(str).str.strip()
        expected = sum(_number(rsx.iat[codes[codes == c].index[0], column]) for c in (HACKNEY, "E09000001"))
        row = next(s for s in profiles[1][HACKNEY]["public_health_share"] if s["source"] == RSX_2021)
        assert (row["public_health_gbp_k"], row["share_pct"], row["basis"]) == (expected, None, "outturn")


@requires_mirror
class TestWholeRun:
    def test_every_counted_area_has_a_profile(self, profiles):
        assert len(profiles[1]) == 150

    def test_a_missing_return_is_a_gap_not_zero(self, profiles):
        slough = point(profiles[1][SLOUGH], "2022-23", "outturn")
        assert (slough["cash_gbp_k"], slough["real_gbp_k"], slough["status"]) == (None, None, "no data")

    def test_changes_compare_years_of_one_basis_only(self, profiles):
        pairs = {(c["from"], c["to"], c["basis"]) for c in profiles[1][CUMBRIA]["changes"]}
        assert pairs == {("2013-14", "2022-23", "outturn"), ("2014-15", "2021-22", "budget")}

    def test_a_reorganised_area_sentence_names_the_areas_compared(self, profiles):
        assert "(outturn, Bournemouth, Christchurch and Poole and Dorset together)" in profiles[1][BCP]["summary"]

    def test_the_sentence_gives_the_rank_of_the_change(self, profiles):
        change = profiles[1][HACKNEY]["change"]
        assert f"the {change['rank']}th largest fall of the {change['of']} areas with a change" in profiles[1][HACKNEY]["summary"]

    def test_tidy_tables_are_saved(self, profiles):
        assert set(profiles[0].data) == {"spending", "changes", "share", "deaths"}

    def test_rank_is_figure_3s_rank_of_the_change(self, profiles):
        changes = profiles[0].data["changes"]
        outturn = changes[(changes["basis"] == "outturn") & changes["change_real_pct"].notna()]
        lowest = outturn.loc[outturn["change_real_pct"].idxmin()]
        assert lowest["rank"] == 1


@requires_mirror
class TestRecordsFollowTheTables:
    """The per-area records and the tidy tables are built from rows grouped once by area; each check here recomputes
    one link between them for every area with plain Python."""

    def test_every_rolling_total_adds_up_the_years_of_its_window(self, profiles):
        deaths = profiles[0].data["deaths"]
        in_year = dict(zip(zip(deaths["code"], deaths["last_year"]), deaths["deaths_in_year"]))
        expected = [
            sum(in_year.get((code, year), math.nan) for year in range(first, last + 1))
            for code, first, last in zip(deaths["code"], deaths["first_year"], deaths["last_year"])
        ]
        np.testing.assert_array_equal(deaths["deaths_rolling"].to_numpy(), np.array(expected))

    def test_each_record_lists_its_areas_spending_rows_in_table_order(self, profiles):
        spending = profiles[0].data["spending"]
        expected = {code: [] for code in profiles[1]}
        for code, year, basis, series, covers in zip(
            spending["code"], spending["year"], spending["basis"], spending["series"], spending["covers"]
        ):
            expected[code].append((year, basis, series, covers))
        listed = {code: [(s["year"], s["basis"], s["series"], s["covers"]) for s in area["spending"]] for code, area in profiles[1].items()}
        assert listed == expected

    def test_each_share_takes_the_comparison_spending_of_the_same_area_year_and_basis(self, profiles):
        spending, shares = profiles[0].data["spending"], profiles[0].data["share"]
        comparable = spending[spending["series"] == "comparison"]
        with_treatment = shares[shares["treatment_source"] != ""]

        def by_point(frame, value):
            keys = zip(frame["code"], frame["year"], frame["basis"], frame["covers"])
            return {key: None if math.isnan(v) else v for key, v in zip(keys, frame[value])}

        assert by_point(with_treatment, "treatment_gbp_k") == by_point(comparable, "cash_gbp_k")

    def test_the_headline_change_is_the_longest_span_of_years(self, profiles):
        headlines = {(a["change"]["from"], a["change"]["to"], a["change"]["basis"]) for a in profiles[1].values()}
        assert headlines == {("2013-14", "2022-23", "outturn")}


# -- pure functions --------------------------------------------------------------------------------


class TestYearPairs:
    def test_each_year_is_compared_with_the_newest_of_its_basis(self):
        from nao_analysis.analysis.area_profiles import RevenueYear, year_pairs

        years = [RevenueYear(y, "outturn", f"ro3_{y}") for y in ("2013-14", "2014-15", "2021-22", "2022-23")]
        years += [RevenueYear(y, "budget", f"ra_{y}") for y in ("2014-15", "2021-22")]
        pairs = [(a.year, b.year, a.basis) for a, b in year_pairs(years)]
        assert pairs == [
            ("2013-14", "2022-23", "outturn"),
            ("2014-15", "2022-23", "outturn"),
            ("2021-22", "2022-23", "outturn"),
            ("2014-15", "2021-22", "budget"),
        ]

    def test_two_files_for_one_year_and_basis_are_refused(self):
        from nao_analysis.analysis.area_profiles import RevenueYear, year_pairs
        from nao_analysis.errors import AnalysisError

        with pytest.raises(AnalysisError, match="two revenue-account files for 2013-14 outturn"):
            year_pairs([RevenueYear("2013-14", "outturn", "a"), RevenueYear("2013-14", "outturn", "b")])


def test_the_headline_change_is_outturn_when_spans_are_equal():
    from nao_analysis.analysis.area_profiles import headline_change

    changes = pd.DataFrame({"base_year": ["2014-15", "2014-15"], "target_year": ["2021-22", "2021-22"], "basis": ["budget", "outturn"]})
    assert headline_change(changes)["basis"] == "outturn"


@pytest.fixture(scope="module")
def deaths_inputs(raw_file):
    from nao_analysis.readers.boundaries import read_district_upper_tier_lookup
    from nao_analysis.readers.la_deaths import read_la_drug_deaths

    deaths = read_la_drug_deaths(raw_file(DEATHS))
    districts = read_district_upper_tier_lookup(raw_file("lookup_ltla21_utla21_apr2021"))
    areas = pd.DataFrame({"code": [CUMBRIA, HACKNEY], "name": ["Cumbria", "Hackney"], "partner_code": [None, "E09000001"]})
    areas["partner_name"] = [None, "City of London"]
    return deaths, districts, areas


@requires_mirror
class TestDeaths:
    def test_a_county_without_its_own_row_is_summed_from_its_districts(self, deaths_inputs):
        from nao_analysis.analysis.area_profiles import area_deaths

        deaths, districts, areas = deaths_inputs
        with_county = area_deaths(deaths, areas.iloc[:1], districts, source=DEATHS)
        without_county = area_deaths(deaths[deaths["code"] != CUMBRIA], areas.iloc[:1], districts, source=DEATHS)
        assert without_county["summed_from_districts"].all()
        assert without_county["deaths_rolling"].tolist() == pytest.approx(with_county["deaths_rolling"].tolist(), nan_ok=True)

    def test_a_missing_year_makes_every_rolling_total_through_it_a_gap(self, deaths_inputs):
        from nao_analysis.analysis.area_profiles import area_deaths

        deaths, districts, areas = deaths_inputs
        holed = deaths.copy()
        holed.loc[(holed["code"] == HACKNEY) & (holed["year"] == 2019), "deaths"] = float("nan")
        rolling = area_deaths(holed, areas.iloc[1:], districts, source=DEATHS).set_index("period")["deaths_rolling"]
        assert [math.isnan(rolling[p]) for p in ("2016-18", "2017-19", "2018-20")] == [False, True, True]


@requires_mirror
def test_an_implausible_change_carries_figure_3s_flag_in_its_sentence(profiles):
    greenwich = profiles[1]["E09000011"]
    assert greenwich["change"]["flag"].startswith("increase of 1,410% exceeds the +300% plausibility limit")
    assert (
        "rose 1,410% between 2013-14 and 2022-23 (outturn)" in greenwich["summary"] and "(flagged as implausible:" in greenwich["summary"]
    )
