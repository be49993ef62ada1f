"""Where the project keeps things, as a test sees them: the settings a CLI call would resolve now.

Tests set ``NAO_*`` variables with monkeypatch and then ask; the package itself never reads the environment
below its CLI edge.
"""

from __future__ import annotations

from pathlib import Path

from nao_analysis.settings import Settings


def _settings() -> Settings:
    return Settings.from_environment()


def project_root() -> Path:
    return _settings().project_root


def manual_dir() -> Path:
    return _settings().manual_dir


def raw_dir() -> Path:
    return _settings().raw_dir


def registry_path() -> Path:
    return _settings().sources_file


def mirror_dir() -> Path | None:
    return _settings().mirror
