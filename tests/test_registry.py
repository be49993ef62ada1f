"""The real registry (data/sources.yaml) and the registry loader's refusals."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlparse

import project_paths as paths
import pytest
import yaml

from nao_analysis.errors import SourceError
from nao_analysis.settings import Settings
from nao_analysis.sources.fetch import OFFICIAL_HOSTS, check_url_allowed
from nao_analysis.sources.registry import expected_hash, load_registry, record_pin

REAL_REGISTRY = Path(__file__).resolve().parents[1] / "data" / "sources.yaml"


def real_sources() -> list:
    return load_registry(REAL_REGISTRY).sources


def mirrored_files() -> list[tuple[str, object]]:
    try:
        sources = real_sources()
    except SourceError:
        return []  # an invalid registry is reported by test_validates, not as a collection error
    return [(s.id, f) for s in sources for f in s.files if f.mirror]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestRealRegistry:
    def test_validates(self):
        assert len(real_sources()) > 0

    def test_ids_are_unique(self):
        ids = [s.id for s in real_sources()]
        assert len(ids) == len(set(ids))

    def test_raw_yaml_ids_are_unique(self):
        # The loader refuses duplicates too; this reads the text so the test does not depend on it.
        ids = [entry["id"] for entry in yaml.safe_load(REAL_REGISTRY.read_text(encoding="utf-8"))["sources"]]
        assert sorted({i for i in ids if ids.count(i) > 1}) == []

    def test_every_url_is_https_on_the_allowlist(self, monkeypatch):
        monkeypatch.delenv("NAO_EXTRA_ALLOWED_ORIGINS", raising=False)
        for source in real_sources():
            if source.url:
                check_url_allowed(source.url, f"{REAL_REGISTRY} source {source.id!r}", Settings())

    def test_every_landing_page_is_https_on_the_allowlist(self):
        bad = [
            s.id
            for s in real_sources()
            if s.landing_page and (urlparse(s.landing_page).scheme != "https" or urlparse(s.landing_page).hostname not in OFFICIAL_HOSTS)
        ]
        assert bad == []

    def test_third_party_extracts_say_where_they_were_copied_from(self):
        assert [s.id for s in real_sources() if s.kind == "third_party_extract" and not s.copied_from] == []

    def test_third_party_extracts_have_no_official_url(self):
        assert [s.id for s in real_sources() if s.kind == "third_party_extract" and (s.url or s.govuk_slug)] == []

    def test_every_source_can_be_resolved_somehow(self):
        # Either a mirror path for every file, or an official download.
        assert [s.id for s in real_sources() if not s.downloadable and not all(f.mirror for f in s.files)] == []

    def test_filenames_within_a_source_are_unique(self):
        assert [s.id for s in real_sources() if len({f.filename for f in s.files}) != len(s.files)] == []

    def test_filenames_are_plain_names(self):
        # A filename becomes a path under data/raw/<id>/: it must not climb out of it.
        bad = [f.filename for s in real_sources() for f in s.files if Path(f.filename).name != f.filename or f.filename.startswith(".")]
        assert bad == []


@pytest.mark.skipif(not os.environ.get("NAO_DATA_MIRROR") or not Path(os.environ["NAO_DATA_MIRROR"]).is_dir(), reason="no mirror")
class TestRealRegistryAgainstMirror:
    @pytest.mark.parametrize(("source_id", "file"), mirrored_files(), ids=lambda value: getattr(value, "filename", value))
    def test_mirror_file_exists(self, source_id, file):
        assert (paths.mirror_dir() / file.mirror).is_file(), f"{source_id}: {file.mirror} missing from the mirror"

    @pytest.mark.parametrize(("source_id", "file"), mirrored_files(), ids=lambda value: getattr(value, "filename", value))
    def test_mirror_file_matches_its_pinned_sha256(self, source_id, file):
        path = paths.mirror_dir() / file.mirror
        if not path.is_file():
            pytest.skip(f"{file.mirror} missing from the mirror")
        assert (sha256_of(path), path.stat().st_size) == (file.sha256, file.bytes)


def write_registry(path: Path, sources: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"schema": 1, "sources": sources}), encoding="utf-8")
    return path


def entry(source_id: str = "demo", **changes) -> dict:
    base = {
        "id": source_id,
        "title": "demo",
        "publisher": "demo publisher",
        "kind": "official",
        "format": "csv",
        "licence": "OGL-3.0",
        "url": "https://www.gov.uk/demo.csv",
        "files": [{"filename": "demo.csv"}],
    }
    base.update(changes)
    return base


class TestLoadRegistry:
    def test_duplicate_id_is_refused_in_one_line(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(), entry()])
        with pytest.raises(SourceError) as caught:
            load_registry(path)
        assert "\n" not in str(caught.value) and "duplicate source id 'demo'" in str(caught.value)

    def test_unknown_field_is_refused_naming_the_entry(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(homepage="https://www.gov.uk")])
        with pytest.raises(SourceError) as caught:
            load_registry(path)
        assert str(path) in str(caught.value) and "sources.0.homepage" in str(caught.value)

    def test_malformed_sha256_is_refused(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(files=[{"filename": "demo.csv", "sha256": "abc"}])])
        with pytest.raises(SourceError, match="sha256"):
            load_registry(path)

    def test_third_party_extract_without_copied_from_is_refused(self, tmp_path):
        extract = entry(kind="third_party_extract", url=None)
        path = write_registry(tmp_path / "sources.yaml", [extract])
        with pytest.raises(SourceError, match="needs copied_from"):
            load_registry(path)

    def test_third_party_extract_with_a_url_is_refused(self, tmp_path):
        extract = entry(kind="third_party_extract", copied_from="someone/repo@abc:x.csv")
        path = write_registry(tmp_path / "sources.yaml", [extract])
        with pytest.raises(SourceError, match="must not have url"):
            load_registry(path)

    def test_filename_with_a_folder_is_refused(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(files=[{"filename": "../../evil.csv"}])])
        with pytest.raises(SourceError, match="plain file name"):
            load_registry(path)

    def test_mirror_path_climbing_out_is_refused(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(files=[{"filename": "demo.csv", "mirror": "../secrets/demo.csv"}])])
        with pytest.raises(SourceError, match="without '..'"):
            load_registry(path)

    def test_absolute_mirror_path_is_refused(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry(files=[{"filename": "demo.csv", "mirror": "/etc/demo.csv"}])])
        with pytest.raises(SourceError, match="relative to the mirror folder"):
            load_registry(path)

    def test_invalid_yaml_is_refused_in_one_line(self, tmp_path):
        path = tmp_path / "sources.yaml"
        path.write_text("schema: 1\nsources: [\n  - id: demo\n", encoding="utf-8")
        with pytest.raises(SourceError) as caught:
            load_registry(path)
        assert "\n" not in str(caught.value) and "not valid YAML" in str(caught.value)

    def test_missing_file_is_refused(self, tmp_path):
        with pytest.raises(SourceError, match="registry file not found"):
            load_registry(tmp_path / "nowhere.yaml")

    def test_unknown_id_lists_the_known_ones(self, tmp_path):
        registry = load_registry(write_registry(tmp_path / "sources.yaml", [entry()]))
        with pytest.raises(SourceError, match="known ids: demo"):
            registry.get("demoo")

    def test_edited_file_is_reloaded(self, tmp_path):
        path = write_registry(tmp_path / "sources.yaml", [entry()])
        load_registry(path)
        write_registry(path, [entry(), entry("second")])
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
        assert load_registry(path).ids() == ["demo", "second"]


def _pin_one(index: int) -> None:
    settings = Settings.from_environment()  # the forked worker inherits the test's NAO_SOURCES_FILE
    record_pin(f"source_{index}", "demo.csv", f"{index:064x}", index, "https://www.gov.uk/demo.csv", "parallel test", settings=settings)


class TestPins:
    def test_parallel_processes_lose_no_pin(self, tmp_path, monkeypatch):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        path = write_registry(tmp_path / "sources.yaml", [entry()])
        monkeypatch.setenv("NAO_SOURCES_FILE", str(path))
        with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_pin_one, range(12)))
        pins = yaml.safe_load((tmp_path / "source-pins.yaml").read_text())
        assert (sorted(pins), sorted(p.name for p in tmp_path.iterdir())) == (
            sorted(f"source_{i}" for i in range(12)),
            ["source-pins.yaml", "sources.yaml"],
        )

    def test_pin_overrides_the_registry_hash(self, tmp_path, monkeypatch):
        path = write_registry(tmp_path / "sources.yaml", [entry(files=[{"filename": "demo.csv", "sha256": "a" * 64, "bytes": 1}])])
        monkeypatch.setenv("NAO_SOURCES_FILE", str(path))
        settings = Settings.from_environment()
        record_pin("demo", "demo.csv", "b" * 64, 2, "https://www.gov.uk/demo.csv", "test", settings=settings)
        source = load_registry(settings).get("demo")
        assert expected_hash(source, source.primary, settings) == ("b" * 64, 2)

    def test_pins_of_other_sources_are_kept(self, tmp_path, monkeypatch):
        path = write_registry(tmp_path / "sources.yaml", [entry(), entry("other")])
        monkeypatch.setenv("NAO_SOURCES_FILE", str(path))
        settings = Settings.from_environment()
        record_pin("demo", "demo.csv", "b" * 64, 2, "https://www.gov.uk/demo.csv", "test", settings=settings)
        record_pin("other", "demo.csv", "c" * 64, 3, "https://www.gov.uk/demo.csv", "test", settings=settings)
        pins = yaml.safe_load((tmp_path / "source-pins.yaml").read_text())
        assert (pins["demo"]["demo.csv"]["sha256"], pins["other"]["demo.csv"]["sha256"]) == ("b" * 64, "c" * 64)
