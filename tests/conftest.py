"""Shared fixtures. Real-data tests read the offline mirror through the project's own fetch layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Shared assertion helpers live in tests/helpers.py: let pytest rewrite their asserts for readable failures.
pytest.register_assert_rewrite("helpers")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = ROOT.parent / "shared" / "mirror"

if "NAO_DATA_MIRROR" not in os.environ and DEFAULT_MIRROR.is_dir():
    os.environ["NAO_DATA_MIRROR"] = str(DEFAULT_MIRROR)
# Tests never reach the internet: a source missing from cache and mirror fails fast.
os.environ.setdefault("NAO_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def _mirror_available() -> bool:
    mirror = os.environ.get("NAO_DATA_MIRROR")
    return bool(mirror) and Path(mirror).is_dir()


requires_mirror = pytest.mark.skipif(not _mirror_available(), reason="NAO_DATA_MIRROR is not set to a folder of raw files")


@pytest.fixture(scope="session")
def raw_file():
    """Return a function: source id -> verified local path (via cache or mirror)."""
    if not _mirror_available():
        pytest.skip("NAO_DATA_MIRROR is not set to a folder of raw files")
    from nao_analysis.settings import Settings
    from nao_analysis.sources import fetch

    return lambda source_id: fetch(source_id, Settings.from_environment()).path


@pytest.fixture
def settings():
    """The run settings a CLI call would resolve now (tests set ``NAO_*`` variables before asking)."""
    from nao_analysis.settings import Settings

    return Settings.from_environment()


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """A private data/raw and data/processed, so bad-input tests can prove nothing was cached."""
    raw = tmp_path / "raw"
    processed = tmp_path / "processed"
    raw.mkdir()
    processed.mkdir()
    monkeypatch.setenv("NAO_RAW_DIR", str(raw))
    monkeypatch.setenv("NAO_PROCESSED_DIR", str(processed))
    return raw, processed


@pytest.fixture(scope="session")
def offline_build_root(tmp_path_factory, raw_file):
    """One real build of the whole ``offline`` edition into a private output root, shared by the
    site, browser and figure-regression tests (a full build takes about half a minute)."""
    from nao_analysis.build import build
    from nao_analysis.settings import Settings

    root = tmp_path_factory.mktemp("offline-build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NAO_OUTPUT_ROOT", str(root))
        result = build("offline", Settings.from_environment(), jobs=2, log=lambda *_: None)
    failed = [f"{r.figure}: {r.message}" for r in result.results if r.status == "failed"]
    assert not failed, failed
    return root


@pytest.fixture(scope="session")
def offline_site(offline_build_root):
    """The site of the shared offline build: the recipes write the map files and the area profiles' record."""
    return offline_build_root / "reports" / "offline"
