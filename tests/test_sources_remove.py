"""`nao-analysis sources remove ID`: the registry entry and the cached files go; nothing else changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nao_analysis.cli import main
from nao_analysis.errors import SourceError
from nao_analysis.manage_sources import add_source, remove_source
from nao_analysis.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings_copy(tmp_path, monkeypatch):
    """A registry copy, a private data/raw and a copy of the editions, named in the environment for the CLI too."""
    registry = tmp_path / "registry" / "sources.yaml"
    registry.parent.mkdir()
    shutil.copyfile(ROOT / "data" / "sources.yaml", registry)
    editions = tmp_path / "editions"
    shutil.copytree(ROOT / "editions", editions)
    for name, value in (("NAO_SOURCES_FILE", registry), ("NAO_RAW_DIR", tmp_path / "raw"), ("NAO_EDITIONS_DIR", editions)):
        monkeypatch.setenv(name, str(value))
    (tmp_path / "raw").mkdir()
    return Settings.from_environment()


@pytest.fixture
def added(settings_copy, raw_file):
    """The registry text before an add, and the id added."""
    before = settings_copy.sources_file.read_text()
    add_source("ro3_to_remove", file=raw_file("ro3_outturn_2022_23"), kind="official", settings=settings_copy)
    return before, "ro3_to_remove"


def test_registry_text_is_as_before_the_add(settings_copy, added):
    before, source_id = added
    remove_source(source_id, settings=settings_copy)
    assert settings_copy.sources_file.read_text() == before


def test_cached_file_and_its_record_are_deleted(settings_copy, added):
    remove_source(added[1], settings=settings_copy)
    assert not (settings_copy.raw_dir / added[1]).exists()


def test_source_an_edition_uses_is_refused(settings_copy):
    before = settings_copy.sources_file.read_text()
    with pytest.raises(SourceError, match=r"still used by editions/nao-2023\.yaml fig03\.target_source"):
        remove_source("ro3_outturn_2021_22", settings=settings_copy)
    assert settings_copy.sources_file.read_text() == before


def test_unknown_id_is_refused(settings_copy):
    with pytest.raises(SourceError, match="has no source 'no_such_source'"):
        remove_source("no_such_source", settings=settings_copy)


def test_removed_id_can_be_added_again(settings_copy, added, raw_file):
    remove_source(added[1], settings=settings_copy)
    source = add_source(added[1], file=raw_file("ro3_outturn_2022_23"), kind="official", settings=settings_copy)
    assert source.serves == {"basis": "outturn", "year": "2022-23"}


def test_cli_remove_says_what_went(settings_copy, added, capsys):
    assert main(["sources", "remove", added[1]]) == 0
    assert capsys.readouterr().out.startswith(f"removed {added[1]}:")
