"""Paths of real files in the offline mirror that the registry does not list yet (tests skip without the mirror)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def mirror_path(relative: str) -> Path:
    """``$NAO_DATA_MIRROR/<relative>``, read in place (never copied into the project); skip if absent."""
    mirror = os.environ.get("NAO_DATA_MIRROR")
    path = Path(mirror) / relative if mirror else None
    if path is None or not path.is_file():
        pytest.skip(f"mirror file {relative} not available (set NAO_DATA_MIRROR)")
    return path
