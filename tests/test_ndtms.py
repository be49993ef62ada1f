"""NDTMS ViewIt exports: every column-naming generation in the mirror."""

from __future__ import annotations

import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers.ndtms import read_viewit_export


class TestReadViewitExport:
    def test_reads_the_england_export_with_upper_case_2021_22(self, raw_file):
        frame = read_viewit_export(raw_file("ndtms_viewit_adults_england_2009_2022"))
        row = frame.query("period == '2021-22' and drug_group == 'opiates' and sex == 'total' and age_group == 'total'")
        assert row["in_treatment"].item() == 140558

    def test_covers_2009_10_to_2021_22(self, raw_file):
        frame = read_viewit_export(raw_file("ndtms_viewit_adults_england_2009_2022"))
        assert frame["period"].min() == "2009-10" and frame["period"].max() == "2021-22"

    def test_reads_the_local_authority_layout(self, raw_file):
        frame = read_viewit_export(raw_file("ndtms_viewit_adults_barnet_sample"))
        assert set(frame["area"]) == {"Barnet"}
        assert frame["in_treatment"].notna().all()

    def test_reads_the_wide_layout_and_drops_filter_description_lines(self, raw_file):
        frame = read_viewit_export(raw_file("ndtms_viewit_england_opiate_2009_2024"))
        assert frame.set_index("period").loc["2022-23", "in_treatment"] == 138604
        assert frame["period"].str.match(r"^\d{4}-\d{2}$").all()

    def test_total_export_2022_23(self, raw_file):
        frame = read_viewit_export(raw_file("ndtms_viewit_england_total_2009_2024"))
        assert frame.set_index("period").loc["2022-23", "in_treatment"] == 290635

    def test_missing_count_column_names_it(self, tmp_path):
        bad = tmp_path / "export.csv"
        bad.write_text("ReportingPeriod_Data,Area_Data,DrugGroup_Data,Gender_Data,AgeGroup_Data\n2010/11,England,Total,Total,Total\n")
        with pytest.raises(ReaderError, match=r"export.csv.*no column for 'in_treatment'"):
            read_viewit_export(bad)

    def test_duplicated_row_is_an_error(self, tmp_path, raw_file):
        lines = raw_file("ndtms_viewit_adults_england_2009_2022").read_text().splitlines()
        bad = tmp_path / "dup.csv"
        bad.write_text("\n".join(lines + [lines[1]]) + "\n")
        with pytest.raises(ReaderError, match="duplicated row for 2009-10 England"):
            read_viewit_export(bad)

    def test_non_numeric_count_is_an_error(self, tmp_path, raw_file):
        lines = raw_file("ndtms_viewit_adults_england_2009_2022").read_text().splitlines()
        lines[1] = lines[1].replace("311668", "lots")
        bad = tmp_path / "text.csv"
        bad.write_text("\n".join(lines) + "\n")
        with pytest.raises(ReaderError, match=r"\[column 'Num_InTreatment_AllInTx'\]: row 2: 'lots' is not a number"):
            read_viewit_export(bad)
