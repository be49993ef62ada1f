"""The registry of raw sources (``data/sources.yaml``) and the pins file beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nao_analysis import paths
from nao_analysis.errors import SourceError
from nao_analysis.settings import Settings


class SourceFile(BaseModel):
    """One file of a source (a shapefile source has several)."""

    model_config = ConfigDict(extra="forbid")

    filename: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    bytes: int | None = None
    mirror: str | None = None

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str) -> str:
        # The filename becomes data/raw/<id>/<filename>: it must not name a folder or climb out of one.
        if not value or value.startswith(".") or "/" in value or "\\" in value:
            raise ValueError(f"filename {value!r} must be a plain file name (no folders, not hidden)")
        return value

    @field_validator("mirror")
    @classmethod
    def _relative_mirror_path(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/")):
            raise ValueError(f"mirror path {value!r} must be relative to the mirror folder, without '..'")
        return value


class Source(BaseModel):
    """A raw input, as published, with where to get it and how to check it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    publisher: str
    kind: Literal["official", "third_party_extract"]
    format: str
    url: str | None = None
    govuk_slug: str | None = None
    attachment_pattern: str | None = None
    landing_page: str | None = None
    licence: str
    serves: dict[str, Any] = Field(default_factory=dict)
    copied_from: str | None = None
    notes: str | None = None
    archive: Literal["zip"] | None = None
    added: str | None = None
    files: list[SourceFile]

    @model_validator(mode="after")
    def _extracts_are_labelled(self) -> Source:
        # A third party's copy has no official address: pretending otherwise would mislabel every output built from it.
        if self.kind == "third_party_extract":
            if not self.copied_from:
                raise ValueError(f"third_party_extract {self.id!r} needs copied_from (repository@commit:path)")
            if self.url or self.govuk_slug:
                raise ValueError(f"third_party_extract {self.id!r} must not have url/govuk_slug (it is not the official file)")
        if not self.files:
            raise ValueError(f"source {self.id!r} lists no files")
        return self

    @property
    def primary(self) -> SourceFile:
        return self.files[0]

    @property
    def downloadable(self) -> bool:
        return bool(self.url or self.govuk_slug)

    def describe_origin(self) -> str:
        """Short provenance text for figure notes."""
        if self.kind == "third_party_extract":
            return f"{self.title} - a third party's copy or extract, from {self.copied_from}; not the official file"
        return f"{self.title} ({self.publisher})"


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_: int = Field(alias="schema")
    sources: list[Source]

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(sorted(s.id for s in self.sources))
        raise SourceError(f"{paths.registry_path()}: no source with id {source_id!r} - known ids: {known}")

    def ids(self) -> list[str]:
        return [s.id for s in self.sources]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{path}: registry file not found - run from a checkout of nao-analysis") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}) - fix the syntax") from None


@lru_cache(maxsize=4)
def _load_registry_cached(path: Path, mtime: float) -> Registry:
    data = _read_yaml(path)
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SourceError(f"{path}: invalid entry at {where}: {first['msg']} - fix the registry entry") from None
    seen: set[str] = set()
    for source in registry.sources:
        if source.id in seen:
            raise SourceError(f"{path}: duplicate source id {source.id!r} - ids must be unique")
        seen.add(source.id)
    return registry


def _registry_file(where: Settings | Path | None) -> Path:
    # TRANSITION: callers not yet handed the settings pass nothing (or a path) and get paths' answer.
    if isinstance(where, Settings):
        return where.sources_file
    return Path(where or paths.registry_path())


def _pins_file(where: Settings | Path | None) -> Path:
    if isinstance(where, Settings):
        return where.pins_file
    return Path(where or paths.pins_path())


def load_registry(settings: Settings | Path | None = None) -> Registry:
    """Load and validate ``settings.sources_file`` (cached until the file changes); a path is also accepted."""
    path = _registry_file(settings).resolve()
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _load_registry_cached(path, mtime)


def load_pins(settings: Settings | Path | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Hashes recorded on first download (trust on first use) or accepted re-releases (``settings.pins_file``)."""
    path = _pins_file(settings)
    if not path.exists():
        return {}
    return _read_yaml(path) or {}


def record_pin(source_id: str, filename: str, sha256: str, size: int, url: str, reason: str, *, settings: Settings | None = None) -> None:
    """Write a pin atomically, so the next run verifies against it.

    Parallel builds may pin different sources at once, so the read-modify-write is done
    under an exclusive lock and the file is replaced in one step.
    """
    import contextlib
    import os
    import tempfile

    path = _pins_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lock the folder itself rather than a lock file, so no stray file is left beside the pins.
    folder_fd = os.open(path.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(ImportError):
            import fcntl

            fcntl.flock(folder_fd, fcntl.LOCK_EX)
        pins = load_pins(path)
        pins.setdefault(source_id, {})[filename] = {
            "sha256": sha256,
            "bytes": size,
            "url": url,
            "pinned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": reason,
        }
        header = "# Machine-written: hashes pinned on first download or accepted re-releases. Commit this file.\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(header + yaml.safe_dump(pins, sort_keys=True))
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    finally:
        os.close(folder_fd)  # releases the lock


def expected_hash(source: Source, file: SourceFile, settings: Settings | None = None) -> tuple[str | None, int | None]:
    """The sha256 and size a file must have: an accepted pin wins over the registry."""
    pin = load_pins(settings).get(source.id, {}).get(file.filename)
    if pin:
        return pin["sha256"], pin.get("bytes")
    return file.sha256, file.bytes
