"""Layout drift: each real mirror file is rewritten in the test into a layout a publisher might produce next
(merged or two-row headers, moved, renamed or extra columns, renamed sheets, numbers stored as text with
thousands separators, suppression markers) and must read back to the same numbers as the original."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from helpers_mirror import NEW_LINES, OLD_LINES, mirror_path
from pandas.testing import assert_frame_equal

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import load_cells, read_workbook

MARKERS = ["[x]", "..", "-", "c", ""]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


def write_xlsx(path, sheets: dict[str, np.ndarray]):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for name, cells in sheets.items():
        sheet = workbook.create_sheet(title=name)
        for row in cells:
            sheet.append([None if _blank(v) else (v.item() if isinstance(v, np.generic) else v) for v in row])
    workbook.save(path)
    return path


def write_csv(path, cells: np.ndarray):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["" if _blank(v) else v for v in row] for row in cells])
    return path


def as_text(value):
    """A numeric cell as the publisher's text: thousands commas; whole numbers without a point."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or _blank(value):
        return value
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def header_row(cells: np.ndarray) -> int:
    return next(r for r in range(40) if any(str(v).strip() == "E-code" for v in cells[r]))


@pytest.fixture(scope="module")
def ro3_2022(raw_file):
    """The real RO3 2022-23 ods: its data sheet's cells and the reader's values (read once; the file is large)."""
    from nao_analysis.readers.revenue_account import read_revenue_account

    source = raw_file("ro3_outturn_2022_23")
    return load_cells(source)["RO3_LA_Data_2022-23"], values(read_revenue_account(source, NEW_LINES))


def values(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["e_code", "line_id", "value_gbp_thousands"]].sort_values(["e_code", "line_id"]).reset_index(drop=True)


class TestRevenueAccountLayouts:
    def test_two_header_rows_rewritten_as_one_merged_header_row(self, ro3_2022, tmp_path):
        from nao_analysis.readers.revenue_account import read_revenue_account

        cells, expected = ro3_2022
        header = header_row(cells)
        merged = cells.copy()
        line = None
        for col in range(cells.shape[1]):
            if not _blank(cells[header - 1, col]):
                line = " ".join(str(cells[header - 1, col]).split())
            if line and not _blank(cells[header, col]):
                merged[header, col] = f"{line} - {' '.join(str(cells[header, col]).split())}"
        merged = np.delete(merged, header - 1, axis=0)  # the line-label row is gone
        variant = write_csv(tmp_path / "RO3_merged.csv", merged)
        result = read_revenue_account(variant, NEW_LINES)
        assert result.attrs["layout"] == "merged_header"
        assert_frame_equal(values(result), expected)

    def test_one_column_per_line_rewritten_with_two_header_rows(self, raw_file, tmp_path):
        from nao_analysis.readers.revenue_account import read_revenue_account

        source = raw_file("ra_budget_2021_22_csv")
        cells = load_cells(source)[None]
        header = header_row(cells)
        line_row = np.full(cells.shape[1], "", dtype=object)
        two_rows = cells.copy()
        for col in range(5, cells.shape[1]):
            if not _blank(cells[header, col]):
                line_row[col] = cells[header, col]
                two_rows[header, col] = "Net current expenditure"
        two_rows[1, 0] = "£ thousand"  # the title no longer says what the columns hold
        two_rows = np.insert(two_rows, header, line_row, axis=0)
        variant = write_csv(tmp_path / "RA_two_rows.csv", two_rows)
        result = read_revenue_account(variant, NEW_LINES)
        assert result.attrs["layout"] == "per_line_subcolumns"
        assert_frame_equal(values(result), values(read_revenue_account(source, NEW_LINES)))

    def test_moved_renamed_and_extra_columns_renamed_sheet_text_numbers_and_markers(self, raw_file, tmp_path):
        from nao_analysis.readers.revenue_account import read_revenue_account

        source = raw_file("ra_budget_2014_15")
        sheets = load_cells(source)
        cells = sheets["RA LA Data 2014-15 (1)"]
        header = header_row(cells)
        order = list(range(1, cells.shape[1])) + [0]  # E-code moves to the far right
        moved = cells[:, order]
        moved[:header] = cells[:header]  # the title rows stay where they were
        extra = np.full((moved.shape[0], 1), "", dtype=object)
        extra[header, 0] = "Notes"
        moved = np.hstack([extra, moved])  # an extra column in front
        for col in range(moved.shape[1]):
            if str(moved[header, col]).strip() == "Local authority":
                moved[header, col] = "Local Authority Name"
        blanks = 0
        for row in range(header + 1, moved.shape[0]):
            for col in range(1, moved.shape[1]):
                if _blank(moved[row, col]) and str(moved[row, -1]).startswith("E"):
                    moved[row, col] = MARKERS[blanks % len(MARKERS)]
                    blanks += 1
                else:
                    moved[row, col] = as_text(moved[row, col])
        variant = write_xlsx(tmp_path / "RA_moved.xlsx", {"Front": sheets["Front Page"], "Budget 1": moved})
        result = read_revenue_account(variant, OLD_LINES)
        assert result.attrs["sheet"] == "Budget 1"
        assert_frame_equal(values(result), values(read_revenue_account(source, OLD_LINES)))

    def test_really_missing_line_names_the_closest_labels_in_the_file(self, raw_file):
        from nao_analysis.readers.revenue_account import read_revenue_account

        with pytest.raises(ReaderError) as caught:
            read_revenue_account(
                raw_file("ro3_outturn_2022_23"), {"adult_drug_treatment": "Substance misuse - Treatment for drugs misuse in adults"}
            )
        assert "closest labels in the file: 'Substance misuse - Treatment for drug misuse in adults'" in str(caught.value)

    def test_missing_authority_column_names_the_closest_header(self, raw_file, tmp_path):
        from nao_analysis.readers.revenue_account import read_revenue_account

        cells = load_cells(raw_file("ra_budget_2021_22_csv"))[None]
        cells[header_row(cells), 2] = "Local auth."
        variant = write_csv(tmp_path / "RA_no_name.csv", cells)
        with pytest.raises(ReaderError, match=r"no 'Local authority' column on the header row; closest labels in the file: 'Local auth.'"):
            read_revenue_account(variant, NEW_LINES)


class TestOnsDeathsLayouts:
    def test_renamed_2016_sheet_is_found_by_its_title(self, raw_file, tmp_path):
        from nao_analysis.readers.ons_deaths import read_drug_deaths_table1

        source = raw_file("ons_drug_deaths_2016reg")
        sheets = {
            ("Deaths by sex" if name == "Table 1" else name): frame.to_numpy(dtype=object) for name, frame in read_workbook(source).items()
        }
        variant = write_xlsx(tmp_path / "renamed.xlsx", sheets)
        result = read_drug_deaths_table1(variant)
        assert result.attrs["sheet"] == "Deaths by sex"
        assert_frame_equal(result, read_drug_deaths_table1(source), check_like=True)

    def test_2022_table_with_counts_as_text_and_renamed_sheet(self, tmp_path):
        from nao_analysis.readers.ons_deaths import read_drug_deaths_table1

        source = mirror_path("ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2022reg.xlsx")
        workbook = read_workbook(source)
        table = workbook["Table 1"].to_numpy(dtype=object)
        text = np.vectorize(as_text, otypes=[object])(table)
        text[:, 1] = table[:, 1]  # registration years stay years
        variant = write_xlsx(tmp_path / "2022_text.xlsx", {"Contents": workbook["Contents"].to_numpy(dtype=object), "T1": text})
        assert_frame_equal(read_drug_deaths_table1(variant), read_drug_deaths_table1(source))

    def test_2016_years_across_rewritten_years_down_reads_the_same(self, raw_file, tmp_path):
        from nao_analysis.readers.ons_deaths import read_drug_deaths_table1

        source = raw_file("ons_drug_deaths_2016reg")
        original = read_drug_deaths_table1(source)
        table = read_workbook(source)["Table 1"].to_numpy(dtype=object)
        # The 2022 layout: cause and measure over country columns, sex sections, one row per year.
        countries = ["England and Wales", "England", "Wales"]
        measures = [("All drug poisoning", "all_drug_poisoning"), ("of which: Drug misuse", "drug_misuse")]
        rows = [[table[1, 0]], [table[2, 0]], [], ["Underlying cause", None, "All causes"]]
        rows.append([None, None] + [m for m, _ in measures for _ in countries])
        rows.append(["Sex", "Year of death registration"] + countries * len(measures))
        year_columns = {int(v): c for c, v in enumerate(table[4]) if isinstance(v, int | float) and v == v}
        label_rows = {}
        measure = country = None
        for r in range(5, table.shape[0]):
            label = str(table[r, 0]).strip()
            if label in ("All drug poisoning", "Drug misuse"):
                measure = "all_drug_poisoning" if label == "All drug poisoning" else "drug_misuse"
            elif label in countries:
                country = label
                label_rows[(measure, country, "Persons")] = r
            elif label in ("Males", "Females") and country:
                label_rows[(measure, country, label)] = r
        for sex in ("Persons", "Males", "Females"):
            rows.append([sex])
            for year in sorted(year_columns, reverse=True):
                rows.append([None, year] + [table[label_rows[(m, c, sex)], year_columns[year]] for _, m in measures for c in countries])
        width = max(len(r) for r in rows)
        grid = np.array([r + [None] * (width - len(r)) for r in rows], dtype=object)
        variant = write_xlsx(tmp_path / "years_down.xlsx", {"Table 1": grid})
        result = read_drug_deaths_table1(variant)
        assert result.attrs["layout"] == "years_down"
        key = ["measure", "country", "sex", "year"]
        assert_frame_equal(result.sort_values(key).reset_index(drop=True), original.sort_values(key).reset_index(drop=True))


class TestNdtmsLayouts:
    def test_reordered_renamed_extra_columns_and_text_counts(self, raw_file, tmp_path):
        from nao_analysis.readers.ndtms import read_viewit_export

        source = raw_file("ndtms_viewit_adults_england_2009_2022")
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        count = next(c for c in frame.columns if c.lower() == "num_intreatment_allintx")
        frame[count] = [f"{int(v):,}" if v.isdigit() else v for v in frame[count]]
        frame = frame.rename(columns={"ReportingPeriod_Data": "Reporting Period", "Gender_Data": "Sex"})
        frame.insert(0, "Extract note", "exported again")
        frame = frame[list(reversed(frame.columns))]
        variant = tmp_path / "viewit.csv"
        frame.to_csv(variant, index=False)
        assert_frame_equal(read_viewit_export(variant), read_viewit_export(source))


class TestDeflatorLayouts:
    def test_hmt_csv_rewritten_as_workbook_with_renamed_sheet_and_extra_column(self, tmp_path):
        from nao_analysis.readers.deflators import read_deflator

        source = mirror_path("deflators/GDP_Deflators_Qtrly_National_Accounts_December_2023_update.csv")
        cells = load_cells(source)[None]
        extra = np.full((cells.shape[0], 1), "", dtype=object)
        extra[6, 0] = "Quarter"
        grid = np.hstack([cells[:, :2], extra, cells[:, 2:]])
        variant = write_xlsx(tmp_path / "GDP_Deflators.xlsx", {"Notes": np.array([["See sheet 2"]], dtype=object), "Deflators 2": grid})
        result = read_deflator(variant)
        original = read_deflator(source)
        assert_frame_equal(result, original)
        assert (result.attrs["sheet"], result.attrs["vintage"]) == ("Deflators 2", "2023-12")


class TestCsewLayouts:
    def test_renamed_sheets_and_reversed_year_columns(self, raw_file, tmp_path):
        from nao_analysis.readers.csew import read_csew_appendix_tables

        source = raw_file("csew_drug_misuse_2016_17")
        sheets = {}
        for index, frame in enumerate(read_workbook(source).values()):
            cells = frame.to_numpy(dtype=object)
            if cells.shape[1] > 2:
                cells = np.hstack([cells[:, :1], cells[:, :0:-1]])
            sheets[f"Sheet {index}"] = cells
        variant = write_xlsx(tmp_path / "csew.xlsx", sheets)
        key = ["age_group", "measure", "drug_type", "survey_year"]
        result = read_csew_appendix_tables(variant).sort_values(key).reset_index(drop=True)
        original = read_csew_appendix_tables(source).sort_values(key).reset_index(drop=True)
        assert_frame_equal(result[[*key, "percent"]], original[[*key, "percent"]])


class TestFingertipsLayouts:
    def test_reordered_and_extra_columns(self, raw_file, tmp_path):
        from nao_analysis.readers.fingertips import read_fingertips_csv

        source = raw_file("fingertips_93517_sample")
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        frame["Recent trend"] = "Cannot be calculated"
        frame = frame[list(reversed(frame.columns))]
        variant = tmp_path / "fingertips.csv"
        frame.to_csv(variant, index=False)
        result = read_fingertips_csv(variant)
        original = read_fingertips_csv(source)
        assert_frame_equal(result[original.columns], original)


class TestOnsTimeSeriesLayouts:
    def test_observations_in_reverse_order_with_an_extra_metadata_row(self, raw_file, tmp_path):
        from nao_analysis.readers.deflators import read_deflator

        source = raw_file("ons_ybgb_gdp_deflator_2025_06")
        lines = source.read_text(encoding="utf-8-sig").splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith('"1948"'))
        metadata = [*lines[:first], '"Contact","National Accounts"']
        variant = tmp_path / "ybgb.csv"
        variant.write_text("\n".join(metadata + list(reversed(lines[first:]))) + "\n", encoding="utf-8")
        assert_frame_equal(read_deflator(variant), read_deflator(source))


class TestMissingCsewTables:
    def test_workbook_without_prevalence_titles_names_the_closest_title(self, raw_file, tmp_path):
        from nao_analysis.readers.csew import read_csew_appendix_tables

        sheets = {}
        for index, frame in enumerate(read_workbook(raw_file("csew_drug_misuse_2016_17")).values()):
            cells = frame.to_numpy(dtype=object, copy=True)
            cells[:6] = np.vectorize(lambda v: v.replace("reporting use of", "who used") if isinstance(v, str) else v, otypes=[object])(
                cells[:6]
            )
            sheets[f"S{index}"] = cells
        variant = write_xlsx(tmp_path / "retitled.xlsx", sheets)
        with pytest.raises(
            ReaderError, match=r"no sheet titled .* closest labels in the file: 'Table 1\.0\d\s+Proportion of 16 to 59 year olds who used"
        ):
            read_csew_appendix_tables(variant)


class TestMissingMeasures:
    def test_2022_table_without_drug_misuse_names_the_closest_label(self, tmp_path):
        from nao_analysis.readers.ons_deaths import read_drug_deaths_table1

        source = mirror_path("ons-deaths/deathsrelatedtodrugpoisoningenglandandwales_2022reg.xlsx")
        table = read_workbook(source)["Table 1"].to_numpy(dtype=object, copy=True)
        table[table == "of which: Drug misuse"] = "of which: Drug abuse"
        variant = write_xlsx(tmp_path / "renamed_measure.xlsx", {"Table 1": table})
        with pytest.raises(ReaderError, match=r"no rows for 'drug misuse'; closest labels in the file: 'of which: Drug abuse'"):
            read_drug_deaths_table1(variant)

    def test_deflator_file_without_a_year_column_names_the_closest_header(self, tmp_path):
        from nao_analysis.readers.deflators import read_hmt_deflator

        source = mirror_path("deflators/GDP_Deflators_Qtrly_National_Accounts_December_2023_update.csv")
        cells = load_cells(source)[None]
        variant = write_xlsx(tmp_path / "no_years.xlsx", {"Deflators": cells[:8]})
        with pytest.raises(ReaderError, match=r"closest labels in the file: 'GDP deflator at market prices"):
            read_hmt_deflator(variant)
