"""Content hashes that decide whether a figure must be rebuilt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def hash_bytes(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def hash_json(value: Any) -> str:
    return hash_bytes(json.dumps(value, sort_keys=True, default=str).encode())


def hash_tree(root: Path, pattern: str = "**/*") -> str:
    """Hash every file under ``root`` matching ``pattern`` (names and contents), ignoring caches."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
