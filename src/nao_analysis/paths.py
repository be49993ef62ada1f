"""Where the project keeps things. Environment variables let tests and users relocate them."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout this package runs from (``NAO_PROJECT_ROOT`` overrides)."""
    if env := os.environ.get("NAO_PROJECT_ROOT"):
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def raw_dir() -> Path:
    """Downloaded and mirrored raw files with their provenance records (git-ignored)."""
    return Path(os.environ.get("NAO_RAW_DIR") or project_root() / "data" / "raw")


def processed_dir() -> Path:
    """Parsed-file cache (git-ignored)."""
    return Path(os.environ.get("NAO_PROCESSED_DIR") or project_root() / "data" / "processed")


def registry_path() -> Path:
    return Path(os.environ.get("NAO_SOURCES_FILE") or project_root() / "data" / "sources.yaml")


def pins_path() -> Path:
    """Hashes pinned on first download or accepted on purpose; committed beside the registry."""
    return registry_path().with_name("source-pins.yaml")


def manual_dir() -> Path:
    return project_root() / "data" / "manual"


def editions_dir() -> Path:
    return Path(os.environ.get("NAO_EDITIONS_DIR") or project_root() / "editions")


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def figures_dir(edition: str) -> Path:
    return Path(os.environ.get("NAO_OUTPUT_ROOT") or project_root()) / "figures" / edition


def reports_dir(edition: str) -> Path:
    return Path(os.environ.get("NAO_OUTPUT_ROOT") or project_root()) / "reports" / edition


def mirror_dir() -> Path | None:
    """The offline mirror of official files, if ``NAO_DATA_MIRROR`` points at one."""
    env = os.environ.get("NAO_DATA_MIRROR")
    return Path(env).resolve() if env else None
