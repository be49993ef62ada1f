"""Readers refuse oversized inputs before loading them: quickly, in one line, with little memory."""

from __future__ import annotations

import time
import tracemalloc
import zipfile

import pytest

from nao_analysis.errors import ReaderError
from nao_analysis.readers._common import LIMITS, check_limits, read_csv_cells, read_workbook


def _peak_bytes(action) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    caught = None
    try:
        action()
    except ReaderError as exc:
        caught = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, caught


class TestCsv:
    def test_one_gigabyte_csv_is_refused_without_reading_it(self, tmp_path):
        huge = tmp_path / "huge.csv"
        with huge.open("wb") as handle:  # sparse: 1 GB on paper, nothing on disk
            handle.write(b"E-code,Local authority\n")
            handle.truncate(2**30)
        started = time.perf_counter()
        peak, caught = _peak_bytes(lambda: read_csv_cells(huge))
        assert caught is not None and "over this format's limit" in str(caught)
        assert peak < 50 * 2**20 and time.perf_counter() - started < 5

    def test_csv_with_too_many_lines_is_refused_by_streaming(self, tmp_path):
        many = tmp_path / "many.csv"
        cap = LIMITS[".csv"].max_rows
        with many.open("wb") as handle:
            handle.write(b"a,1\n" * (cap + 10))  # about 4 MB, under the size cap
        peak, caught = _peak_bytes(lambda: read_csv_cells(many))
        assert caught is not None and "line count" in str(caught) and "\n" not in str(caught)
        # Counting streams 1 MB blocks: far below the size of the file, let alone a parsed frame.
        assert peak < 8 * 2**20


def _ods_with_repeated_rows(path, repeats: int):
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="RO3_LA_Data">'
        f'<table:table-row table:number-rows-repeated="{repeats}">'
        '<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="20">'
        "<text:p>1</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
    return path


class TestSpreadsheets:
    def test_ods_of_100k_repeated_rows_is_refused_fast(self, tmp_path):
        bomb = _ods_with_repeated_rows(tmp_path / "repeated.ods", 100_000)
        started = time.perf_counter()
        peak, caught = _peak_bytes(lambda: read_workbook(bomb))
        assert caught is not None and "100,000 rows" in str(caught) and "RO3_LA_Data" in str(caught)
        assert time.perf_counter() - started < 2 and peak < 20 * 2**20

    def test_small_ods_of_the_same_shape_is_read(self, tmp_path):
        small = _ods_with_repeated_rows(tmp_path / "small.ods", 50)
        assert read_workbook(small)["RO3_LA_Data"].shape == (50, 20)

    def test_real_ods_passes_the_row_scan(self, raw_file):
        check_limits(raw_file("ro3_outturn_2022_23"))

    def test_xlsx_padded_to_a_far_cell_is_refused(self, tmp_path):
        import openpyxl

        path = tmp_path / "padded.xlsx"
        workbook = openpyxl.Workbook()
        workbook.active["A1"] = "E-code"
        workbook.active["A900000"] = 1
        workbook.save(path)
        with pytest.raises(ReaderError, match=r"sheet has 900,000 rows"):
            read_workbook(path)


class TestFormulasWithoutValues:
    def test_xlsx_formula_without_a_cached_value_is_an_error(self, tmp_path, raw_file):
        import openpyxl

        # A real table written back by openpyxl, with one formula: openpyxl saves no cached result for it.
        source = read_workbook(raw_file("ons_drug_deaths_2016reg"))["Table 1"]
        path = tmp_path / "table1.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "Table 1"
        for row in source.itertuples(index=False):
            sheet.append([None if v != v else v for v in row])
        sheet["B11"] = "=B12+B13"
        workbook.save(path)
        with pytest.raises(ReaderError, match=r"\[sheet 'Table 1'\]: cell B11 holds a formula with no saved value"):
            read_workbook(path)

    def test_real_workbooks_with_saved_formula_values_pass(self, raw_file):
        check_limits(raw_file("csew_drug_misuse_2016_17"))

    def test_ods_formula_without_a_value_is_an_error(self, tmp_path):
        path = _ods_with_repeated_rows(tmp_path / "formula.ods", 3)
        with zipfile.ZipFile(path) as archive:
            content = archive.read("content.xml").decode()
        content = content.replace(
            "</table:table-row></table:table>",
            '</table:table-row><table:table-row><table:table-cell table:formula="of:=[.A1]+[.A2]"/></table:table-row></table:table>',
        )
        rebuilt = tmp_path / "formula2.ods"
        with zipfile.ZipFile(rebuilt, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("content.xml", content)
        with pytest.raises(ReaderError, match=r"cell A4 holds a formula with no saved value"):
            check_limits(rebuilt)


class TestRepeatedColumns:
    def test_valued_cell_repeated_across_the_sheet_is_refused(self, tmp_path):
        path = _ods_with_repeated_rows(tmp_path / "wide.ods", 400)
        with zipfile.ZipFile(path) as archive:
            content = archive.read("content.xml").decode().replace('number-columns-repeated="20"', 'number-columns-repeated="16384"')
        wide = tmp_path / "wide2.ods"
        with zipfile.ZipFile(wide, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("content.xml", content)
        with pytest.raises(ReaderError, match=r"sheet spans 400 rows x 16,384 columns"):
            check_limits(wide)
