"""Small assertions shared by the test modules."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(raw_dir: Path) -> list[str]:
    """Everything in the raw cache, hidden temporary files included."""
    return sorted(str(p.relative_to(raw_dir)) for p in raw_dir.rglob("*"))


def assert_one_line(exc: BaseException, *must_contain: str) -> None:
    """The error is one line and says each of ``must_contain``."""
    text = str(exc)
    assert "\n" not in text
    for fragment in must_contain:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def allow_local_downloads(monkeypatch, origin: str, *, retries: int = 2, timeout: float = 2) -> None:
    """Downloads allowed from the test's local server only, with fast retries; no mirror, not offline."""
    monkeypatch.delenv("NAO_OFFLINE", raising=False)
    monkeypatch.delenv("NAO_DATA_MIRROR", raising=False)
    monkeypatch.setenv("NAO_EXTRA_ALLOWED_ORIGINS", origin)
    monkeypatch.setenv("NAO_DOWNLOAD_BACKOFF", "0.01")
    monkeypatch.setenv("NAO_DOWNLOAD_RETRIES", str(retries))
    monkeypatch.setenv("NAO_DOWNLOAD_TIMEOUT", str(timeout))
