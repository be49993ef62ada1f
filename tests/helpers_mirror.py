"""Paths of real files in the offline mirror that the registry does not list yet (tests skip without the mirror)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The revenue-account lines the figures read: their labels up to 2016-17 and from 2017-18 on.
OLD_LINES = {
    "adult_drug_misuse": r"Substance misuse - Drug misuse - adults",
    "adult_alcohol_misuse": r"Substance misuse - Alcohol misuse - adults",
}
NEW_LINES = {
    "adult_drug_treatment": r"Substance misuse - Treatment for drug misuse in adults",
    "adult_alcohol_treatment": r"Substance misuse - Treatment for alcohol misuse in adults",
}


def mirror_path(relative: str) -> Path:
    """``$NAO_DATA_MIRROR/<relative>``, read in place (never copied into the project); skip if absent."""
    mirror = os.environ.get("NAO_DATA_MIRROR")
    path = Path(mirror) / relative if mirror else None
    if path is None or not path.is_file():
        pytest.skip(f"mirror file {relative} not available (set NAO_DATA_MIRROR)")
    return path
