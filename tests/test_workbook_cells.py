"""Workbook cells: read straight from calamine, exactly as pandas' read_excel gave them, and parsed once per file.

The reference is what the readers used before: ``pd.read_excel(path, sheet_name=None, header=None,
engine="calamine")`` and, for cell grids, ``frame.astype(object).to_numpy()``. Every xls, xlsx and ods file of
the mirror is compared with it, frame by frame and cell by cell (type included), and so are the outputs of
every reader of those files.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers_mirror import NEW_LINES, OLD_LINES
from pandas.testing import assert_frame_equal

from nao_analysis.readers import _common
from nao_analysis.readers._common import SPREADSHEET_SUFFIXES, check_limits, load_cells, read_workbook
from nao_analysis.readers.csew import read_csew_appendix_tables
from nao_analysis.readers.ons_deaths import read_drug_deaths_table1
from nao_analysis.readers.revenue_account import read_revenue_account


def _spreadsheet_sources() -> dict[str, str]:
    """Source id -> mirror path of every registered source whose file is a workbook."""
    from nao_analysis.settings import Settings
    from nao_analysis.sources import load_registry

    registry = load_registry(Settings.from_environment())
    return {
        source.id: file.mirror
        for source in registry.sources
        for file in source.files
        if file.mirror and Path(file.mirror).suffix.lower() in SPREADSHEET_SUFFIXES
    }


SPREADSHEETS = _spreadsheet_sources()
#: Every reader of a workbook in the mirror, with the arguments the figures give it.
READER_CALLS = {
    "ro3_2013_14": (read_revenue_account, "ro3_outturn_2013_14", {"lines": OLD_LINES}),
    "ra_2014_15": (read_revenue_account, "ra_budget_2014_15", {"lines": OLD_LINES}),
    "ro3_2022_23": (read_revenue_account, "ro3_outturn_2022_23", {"lines": NEW_LINES}),
    "csew_2016_17": (read_csew_appendix_tables, "csew_drug_misuse_2016_17", {}),
    "ons_deaths_2016reg": (read_drug_deaths_table1, "ons_drug_deaths_2016reg", {}),
    "ons_deaths_2022reg": (read_drug_deaths_table1, "ons_drug_deaths_2022reg", {}),
}


def pandas_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """How the readers read a workbook before: pandas' calamine reader, one conversion call per cell."""
    return pd.read_excel(path, sheet_name=None, header=None, engine="calamine")


def assert_same_cells(expected: dict, actual: dict) -> None:
    """Same sheets in the same order, same shapes, and every cell of the same type and value (NaN = NaN)."""
    assert list(actual) == list(expected)
    for sheet, cells in expected.items():
        got = actual[sheet]
        assert got.dtype == object and got.shape == cells.shape, sheet
        for index, (want, have) in enumerate(zip(cells.ravel().tolist(), got.ravel().tolist(), strict=True)):
            where = f"sheet {sheet!r}, cell {divmod(index, max(cells.shape[1], 1))}"
            assert type(have) is type(want), f"{where}: {type(have).__name__} instead of {type(want).__name__}"
            both_nan = isinstance(want, float) and math.isnan(want) and math.isnan(have)
            assert both_nan or have == want, f"{where}: {have!r} instead of {want!r}"


def test_every_workbook_in_the_mirror_is_a_registered_source():
    mirror = Path(os.environ.get("NAO_DATA_MIRROR", "/nonexistent"))
    if not mirror.is_dir():
        pytest.skip("NAO_DATA_MIRROR is not set to a folder of raw files")
    workbooks = {str(p.relative_to(mirror)) for p in mirror.rglob("*") if p.suffix.lower() in SPREADSHEET_SUFFIXES}
    assert workbooks and workbooks <= set(SPREADSHEETS.values())


@pytest.mark.parametrize("source_id", sorted(SPREADSHEETS))
def test_read_workbook_gives_read_excels_frames(raw_file, source_id):
    path = raw_file(source_id)
    expected, actual = pandas_sheets(path), read_workbook(path)
    assert list(actual) == list(expected)
    for sheet, frame in expected.items():
        assert_frame_equal(actual[sheet], frame, check_dtype=True, check_exact=True, check_index_type=True, check_column_type=True)


@pytest.mark.parametrize("source_id", sorted(SPREADSHEETS))
def test_load_cells_gives_the_same_cells_and_types_as_read_excel(raw_file, source_id):
    path = raw_file(source_id)
    expected = {sheet: frame.astype(object).to_numpy() for sheet, frame in pandas_sheets(path).items()}
    assert_same_cells(expected, load_cells(path))


@pytest.mark.parametrize("source_id", sorted(SPREADSHEETS))
def test_cells_read_back_from_the_cache_are_identical(raw_file, isolated_data, settings, source_id):
    path = raw_file(source_id)
    parsed = load_cells(path, settings=settings)
    assert list((isolated_data[1] / "parsed").rglob("*.parquet")), "the cells were not cached"
    assert_same_cells(parsed, load_cells(path, settings=settings))


@pytest.mark.parametrize("call", sorted(READER_CALLS))
def test_reader_output_is_unchanged_from_the_read_excel_path(raw_file, monkeypatch, call):
    reader, source_id, kwargs = READER_CALLS[call]
    path = raw_file(source_id)
    now = reader.uncached(path, **kwargs)
    monkeypatch.setattr(_common, "_read_sheets", lambda path, sheet_name: pandas_sheets(path))
    before = reader.uncached(path, **kwargs)
    assert_frame_equal(now, before, check_dtype=True, check_exact=True)
    assert now.attrs == before.attrs


@pytest.fixture
def counted_parses(monkeypatch) -> list[Path]:
    """Every real parse of a workbook's cells (cache misses), by path."""
    parses: list[Path] = []
    original = _common._workbook_cells

    @functools.wraps(original)  # same name, so the same cache entries
    def counting(path: Path):
        parses.append(Path(path))
        return original(path)

    monkeypatch.setattr(_common, "_workbook_cells", counting)
    return parses


def test_two_line_lists_of_one_file_parse_it_once(raw_file, isolated_data, settings, counted_parses):
    # Figure 3 and the area profiles ask for different lines of the same revenue account file.
    path = raw_file("ro3_outturn_2022_23")
    with_public_health = NEW_LINES | {"public_health_total": r"TOTAL PUBLIC HEALTH(?: SERVICES)?"}
    read_revenue_account(path, NEW_LINES, settings=settings)
    read_revenue_account(path, with_public_health, settings=settings)
    assert counted_parses == [path]


def test_second_line_list_read_from_cached_cells_equals_a_fresh_parse(raw_file, isolated_data, settings):
    path = raw_file("ro3_outturn_2022_23")
    read_revenue_account(path, NEW_LINES, settings=settings)
    one_line = {"adult_drug_treatment": NEW_LINES["adult_drug_treatment"]}
    from_cached_cells = read_revenue_account(path, one_line, settings=settings)
    fresh = read_revenue_account.uncached(path, one_line)
    assert_frame_equal(from_cached_cells, fresh, check_dtype=True, check_exact=True)
    assert from_cached_cells.attrs == fresh.attrs


def test_forced_read_parses_the_cells_again(raw_file, isolated_data, settings, counted_parses):
    path = raw_file("ro3_outturn_2013_14")
    read_revenue_account(path, OLD_LINES, settings=settings)
    read_revenue_account(path, OLD_LINES, settings=settings, force=True)
    assert counted_parses == [path, path]


def test_cells_without_settings_are_not_cached(raw_file, isolated_data):
    load_cells(raw_file("ons_drug_deaths_2016reg"))
    assert not list(isolated_data[1].rglob("*.parquet"))


@pytest.mark.parametrize(
    "value",
    [dt.datetime(2023, 3, 31), pd.Timestamp("2023-03-31"), 2**70, np.float64(1.5)],
    ids=["datetime", "timestamp", "integer-beyond-64-bits", "numpy-float"],
)
def test_cells_the_cache_cannot_hold_exactly_are_left_uncached(value):
    cells = np.array([["label", value], [1, 2.5]], dtype=object)
    assert _common._cells_to_frame({"Sheet1": cells}) is None


def test_cell_types_survive_the_cache_table():
    cells = np.array([["text", 7, 2.5, True], [math.nan, -0.0, False, ""]], dtype=object)
    back = _common._cells_from_frame(_common._cells_to_frame({"Sheet1": cells, "Empty": np.empty((0, 0), dtype=object)}))
    assert_same_cells({"Sheet1": cells, "Empty": np.empty((0, 0), dtype=object)}, back)


@pytest.mark.parametrize("source_id", sorted(s for s, mirror in SPREADSHEETS.items() if not mirror.endswith(".xls")))
def test_checked_extent_covers_every_parsed_sheet(raw_file, monkeypatch, source_id):
    # The row and cell limits are checked on the sheet's extent as written in the file, before parsing.
    path = raw_file(source_id)
    extents = {}
    monkeypatch.setattr(_common, "_check_extent", lambda _path, sheet, rows, cols, _limits: extents.__setitem__(sheet, (rows, cols)))
    check_limits(path)
    monkeypatch.undo()
    for sheet, cells in load_cells(path).items():
        rows, cols = extents[sheet]
        assert rows >= cells.shape[0] and cols >= cells.shape[1], sheet
