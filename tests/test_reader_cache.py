"""The parsed-file cache (nao_analysis.readers.cache), on real raw files in a private cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from nao_analysis.errors import ReaderError
from nao_analysis.readers import cache as cache_module
from nao_analysis.readers.cache import cache_entry_path, cached_read, cached_reader, raw_sha256

SAMPLE_ID = "fingertips_93517_sample"


class CountingReader:
    """A minimal reader of the real Fingertips CSV that counts how often it really parses."""

    def __init__(self) -> None:
        self.calls = 0
        self.__module__ = __name__
        self.__qualname__ = "CountingReader"

    def __call__(self, path: Path, *, columns: list[str] | None = None) -> pd.DataFrame:
        self.calls += 1
        frame = pd.read_csv(path, usecols=columns)
        frame.attrs["units"] = "percent"
        return frame


@pytest.fixture
def sample(raw_file, isolated_data) -> Path:
    """The real Fingertips sample, fetched into the private raw cache (so it has a provenance record)."""
    return raw_file(SAMPLE_ID)


@pytest.fixture
def cache_settings(isolated_data):
    """Settings whose processed_dir is the private one (resolved after isolated_data set the variables)."""
    from nao_analysis.settings import Settings

    return Settings.from_environment()


@pytest.fixture
def processed(isolated_data) -> Path:
    return isolated_data[1]


def as_fetched(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with the provenance record fetch would write beside it."""
    from nao_analysis.sources.fetch import Provenance, sha256_of

    path.write_bytes(data)
    sha = sha256_of(path)
    Provenance("demo", path.name, "added by hand", str(path), "2026-11-23T00:00:00+00:00", sha, len(data), "official").write(path)
    return path


def parquet_entries(processed: Path) -> list[Path]:
    return sorted(processed.rglob("*.parquet"))


def all_files(processed: Path) -> list[Path]:
    return sorted(p for p in processed.rglob("*") if p.is_file())


class TestCachedRead:
    def test_first_call_parses_and_matches_the_reader(self, sample, cache_settings):
        reader = CountingReader()
        assert_frame_equal(cached_read(reader, sample, settings=cache_settings, reader_version="1"), reader(sample))

    def test_second_call_is_served_from_the_cache(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert reader.calls == 1

    def test_cached_result_equals_the_parsed_result(self, sample, cache_settings):
        reader = CountingReader()
        first = cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert_frame_equal(cached_read(reader, sample, settings=cache_settings, reader_version="1"), first)

    def test_cached_result_keeps_attrs(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert cached_read(reader, sample, settings=cache_settings, reader_version="1").attrs["units"] == "percent"

    def test_entry_lives_in_the_processed_dir(self, sample, processed, cache_settings):
        cached_read(CountingReader(), sample, settings=cache_settings, reader_version="1")
        assert [p.parent.parent.name for p in parquet_entries(processed)] == ["parsed"]

    def test_new_reader_version_parses_again(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        cached_read(reader, sample, settings=cache_settings, reader_version="2")
        assert reader.calls == 2

    def test_different_kwargs_parse_again(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1", columns=["Area Code", "Value"])
        narrow = cached_read(reader, sample, settings=cache_settings, reader_version="1", columns=["Area Code"])
        assert (reader.calls, list(narrow.columns)) == (2, ["Area Code"])

    def test_edited_reader_code_parses_again_without_a_version_bump(self, sample, tmp_path, monkeypatch, cache_settings):
        import importlib

        module_file = tmp_path / "corpus_reader_module.py"
        module_file.write_text("import pandas as pd\ncalls = []\ndef read(path):\n    calls.append(1)\n    return pd.read_csv(path)\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        module = importlib.import_module("corpus_reader_module")
        cached_read(module.read, sample, settings=cache_settings, reader_version="1")
        module_file.write_text(module_file.read_text() + "# an edit that may change the output\n")
        cache_module._code_fingerprint.cache_clear()
        cached_read(module.read, sample, settings=cache_settings, reader_version="1")
        assert len(module.calls) == 2

    def test_changed_raw_file_parses_again(self, sample, tmp_path, cache_settings):
        reader = CountingReader()
        copy = as_fetched(tmp_path / "copy.csv", sample.read_bytes())
        cached_read(reader, copy, settings=cache_settings, reader_version="1")
        as_fetched(copy, sample.read_bytes().replace(b"England", b"ENGLAND"))  # a re-release, fetched again
        result = cached_read(reader, copy, settings=cache_settings, reader_version="1")
        assert (reader.calls, "ENGLAND" in set(result["Area Name"])) == (2, True)

    def test_file_without_provenance_is_parsed_every_time(self, sample, tmp_path, cache_settings):
        reader = CountingReader()
        copy = tmp_path / "copy.csv"
        shutil.copyfile(sample, copy)
        cached_read(reader, copy, settings=cache_settings, reader_version="1")
        cached_read(reader, copy, settings=cache_settings, reader_version="1")
        assert reader.calls == 2

    def test_file_without_provenance_leaves_nothing_behind(self, sample, tmp_path, processed, cache_settings):
        copy = tmp_path / "copy.csv"
        shutil.copyfile(sample, copy)
        cached_read(CountingReader(), copy, settings=cache_settings, reader_version="1")
        assert all_files(processed) == []

    def test_corrupt_entry_is_ignored_and_rebuilt(self, sample, cache_settings):
        reader = CountingReader()
        expected = cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
        assert_frame_equal(cached_read(reader, sample, settings=cache_settings, reader_version="1"), expected)
        assert reader.calls == 2

    def test_rebuilt_entry_is_valid_again(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        entry.write_bytes(b"not parquet")
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert reader.calls == 2

    def test_write_leaves_no_temporary_file(self, sample, processed, cache_settings):
        cached_read(CountingReader(), sample, settings=cache_settings, reader_version="1")
        names = [p.name for p in all_files(processed)]
        assert names and not any(name.startswith(".tmp-") for name in names)

    def test_reader_error_propagates_and_caches_nothing(self, sample, processed, cache_settings):
        def failing_reader(path: Path) -> pd.DataFrame:
            raise ReaderError(path, "no sheet for net current expenditure", "use the official file")

        with pytest.raises(ReaderError, match="no sheet"):
            cached_read(failing_reader, sample, settings=cache_settings, reader_version="1")
        assert all_files(processed) == []

    def test_disabled_cache_parses_every_time_and_writes_nothing(self, sample, processed, cache_settings):
        disabled = cache_settings.with_changes(parsed_cache=False)
        reader = CountingReader()
        cached_read(reader, sample, settings=disabled, reader_version="1")
        cached_read(reader, sample, settings=disabled, reader_version="1")
        assert (reader.calls, all_files(processed)) == (2, [])

    def test_unhashable_kwarg_is_refused(self, sample, cache_settings):
        with pytest.raises(TypeError, match="cannot be part of a cache key"):
            cached_read(CountingReader(), sample, settings=cache_settings, reader_version="1", columns=object())

    def test_frame_parquet_cannot_hold_is_returned_uncached(self, sample, processed, cache_settings):
        def reader_with_objects(path: Path) -> pd.DataFrame:
            return pd.DataFrame({"cell": [object()]})

        with pytest.warns(UserWarning, match="continuing uncached"):
            frame = cached_read(reader_with_objects, sample, settings=cache_settings, reader_version="1")
        assert (len(frame), parquet_entries(processed)) == (1, [])

    def test_object_column_of_text_or_none_round_trips(self, raw_file, isolated_data, cache_settings):
        from nao_analysis.readers.revenue_account import read_revenue_account

        # RO3 2013-14 carries no ONS codes: the reader returns an object column of None.
        path = raw_file("ro3_outturn_2013_14")
        lines = {"adult_drug_misuse": r"Substance misuse - Drug misuse - adults"}
        first = cached_read(read_revenue_account, path, settings=cache_settings, reader_version="1", lines=lines)
        again = cached_read(read_revenue_account, path, settings=cache_settings, reader_version="1", lines=lines)
        assert_frame_equal(again, first)

    def test_cache_hit_is_faster_than_parsing_a_real_workbook(self, raw_file, isolated_data, cache_settings):
        import time

        from nao_analysis.readers.revenue_account import read_revenue_account

        path = raw_file("ro3_outturn_2022_23")
        lines = {"adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults"}
        started = time.perf_counter()
        cached_read(read_revenue_account, path, settings=cache_settings, reader_version="1", lines=lines)
        parse = time.perf_counter() - started
        started = time.perf_counter()
        cached_read(read_revenue_account, path, settings=cache_settings, reader_version="1", lines=lines)
        assert time.perf_counter() - started < parse

    def test_geodataframe_round_trips_with_geometry_and_crs(self, raw_file, isolated_data, cache_settings):
        import geopandas as gpd

        shp = raw_file("boundaries_ctyua_dec2021_buc")

        def read_boundaries(path: Path) -> gpd.GeoDataFrame:
            return gpd.read_file(path).head(5)

        first = cached_read(read_boundaries, shp, settings=cache_settings, reader_version="1")
        again = cached_read(read_boundaries, shp, settings=cache_settings, reader_version="1")
        assert (type(again), again.crs, again.geometry.equals(first.geometry)) == (gpd.GeoDataFrame, first.crs, True)


class TestCachePoisoning:
    def test_entry_edited_in_place_is_not_used(self, sample, cache_settings):
        reader = CountingReader()
        expected = cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        poisoned = expected.copy()
        poisoned["Value"] = poisoned["Value"] * 10  # a valid parquet with wrong numbers
        poisoned.to_parquet(entry)
        assert_frame_equal(cached_read(reader, sample, settings=cache_settings, reader_version="1"), expected)

    def test_entry_edited_in_place_is_parsed_again(self, sample, cache_settings):
        reader = CountingReader()
        expected = cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        expected.assign(Value=0.0).to_parquet(entry)
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert reader.calls == 2

    def test_entry_without_its_recorded_digest_is_parsed_again(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        entry.with_name(entry.name + ".sha256").unlink()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert reader.calls == 2

    def test_entry_is_written_with_its_sha256(self, sample, cache_settings):
        import hashlib

        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        entry = cache_entry_path(reader, sample, settings=cache_settings, reader_version="1")
        recorded = entry.with_name(entry.name + ".sha256").read_text().strip()
        assert recorded == hashlib.sha256(entry.read_bytes()).hexdigest()

    def test_force_parses_again_despite_a_valid_entry(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        cached_read(reader, sample, settings=cache_settings, reader_version="1", force=True)
        assert reader.calls == 2

    def test_forced_parse_leaves_a_valid_entry_for_the_next_call(self, sample, cache_settings):
        reader = CountingReader()
        cached_read(reader, sample, settings=cache_settings, reader_version="1", force=True)
        cached_read(reader, sample, settings=cache_settings, reader_version="1")
        assert reader.calls == 1

    def test_decorated_reader_passes_force_through(self, sample, cache_settings):
        calls = []

        @cached_reader("1")
        def read_sample(path: Path) -> pd.DataFrame:
            calls.append(path)
            return pd.read_csv(path)

        read_sample(sample, settings=cache_settings)
        read_sample(sample, settings=cache_settings, force=True)
        assert len(calls) == 2

    def test_reader_without_settings_parses_and_writes_nothing(self, sample, processed):
        calls = []

        @cached_reader("1")
        def read_sample(path: Path) -> pd.DataFrame:
            calls.append(path)
            return pd.read_csv(path)

        read_sample(sample)
        read_sample(sample)
        assert (len(calls), all_files(processed)) == (2, [])


class TestRawSha256:
    def test_uses_the_provenance_record(self, sample, monkeypatch):
        record = json.loads(sample.with_name(sample.name + ".provenance.json").read_text())
        monkeypatch.setattr(cache_module.hashlib, "sha256", lambda *a: pytest.fail("hashed although provenance was present"))
        assert raw_sha256(sample) == record["sha256"]

    def test_hashes_a_file_without_provenance(self, sample, tmp_path):
        copy = tmp_path / "copy.csv"
        shutil.copyfile(sample, copy)
        assert raw_sha256(copy) == raw_sha256(sample)

    def test_ignores_a_provenance_record_that_no_longer_fits(self, sample, tmp_path):
        copy = tmp_path / "copy.csv"
        shutil.copyfile(sample, copy)
        shutil.copyfile(sample.with_name(sample.name + ".provenance.json"), tmp_path / "copy.csv.provenance.json")
        copy.write_bytes(sample.read_bytes() + b"\n")
        assert raw_sha256(copy) != raw_sha256(sample)


class TestCachedReader:
    def test_decorated_reader_is_cached(self, sample, cache_settings):
        calls = []

        @cached_reader("1")
        def read_sample(path: Path) -> pd.DataFrame:
            calls.append(path)
            return pd.read_csv(path)

        read_sample(sample, settings=cache_settings)
        read_sample(sample, settings=cache_settings)
        assert len(calls) == 1

    def test_decorated_reader_keys_positional_extras(self, sample, isolated_data, cache_settings):
        calls = []

        @cached_reader("1")
        def read_sample(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
            calls.append(columns)
            return pd.read_csv(path, usecols=columns)

        first = read_sample(sample, ["Value"], settings=cache_settings)
        again = read_sample(sample, columns=["Value"], settings=cache_settings)
        other = read_sample(sample, settings=cache_settings)
        assert calls == [["Value"], None]
        assert list(first.columns) == list(again.columns) == ["Value"]
        assert len(other.columns) > 1

    def test_uncached_original_stays_reachable(self, sample):
        @cached_reader("1")
        def read_sample(path: Path) -> pd.DataFrame:
            return pd.read_csv(path)

        assert_frame_equal(read_sample.uncached(sample), pd.read_csv(sample))


class SlowRecordingReader:
    """Parses the real sample slowly, noting each real parse in a file, so parses in other processes count."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.__module__ = __name__
        self.__qualname__ = "SlowRecordingReader"

    def __call__(self, path: Path) -> pd.DataFrame:
        import time

        with open(self.log, "a") as handle:
            handle.write("parsed\n")
        time.sleep(0.5)
        return pd.read_csv(path)


def test_two_processes_wanting_one_entry_at_once_parse_the_file_once(sample, cache_settings, tmp_path):
    import multiprocessing

    reader = SlowRecordingReader(tmp_path / "parses.log")
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=cached_read, args=(reader, sample), kwargs={"settings": cache_settings, "reader_version": "1"})
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert (tmp_path / "parses.log").read_text().count("parsed") == 1
    assert not list(cache_settings.processed_dir.rglob("*.lock"))


def test_a_cache_folder_that_cannot_be_written_does_not_stop_a_parse(sample, cache_settings, monkeypatch):
    # Taking the lock is only an economy: a read-only cache still parses (and warns that it stores nothing).
    real_open = open

    def refuse_locks(file, *args, **kwargs):
        if str(file).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse_locks)
    reader = CountingReader()
    assert_frame_equal(cached_read(reader, sample, settings=cache_settings, reader_version="1"), reader(sample))
