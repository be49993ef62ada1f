"""Run settings, resolved once at the command-line edge and handed down.

Environment variables are read in :meth:`Settings.from_environment` and nowhere else in the package.
The build hands the same settings to every notebook kernel as a parameter (:meth:`Settings.to_json`),
so a notebook can never disagree with the CLI about where files live or whether downloads are allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_GOVUK_API = "https://www.gov.uk/api/content/"
DEFAULT_FINGERTIPS_BASE_URL = "https://fingertips.phe.org.uk/api"


def _default_root() -> Path:
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Where the project keeps things and how it may reach the network, for one run."""

    project_root: Path = field(default_factory=_default_root)
    raw_dir: Path | None = None
    processed_dir: Path | None = None
    sources_file: Path | None = None
    editions_dir: Path | None = None
    output_root: Path | None = None
    mirror: Path | None = None
    offline: bool = False
    parsed_cache: bool = True
    download_timeout: float = 60.0
    download_deadline: float = 900.0
    download_min_rate: float = 1024.0
    download_retries: int = 5
    download_backoff: float = 1.0
    retry_after_max: float = 120.0
    extra_allowed_origins: tuple[str, ...] = ()
    #: Test-only: (official origin, loopback origin) pairs. Requests keep their official URL (and provenance) but are
    #: sent to the loopback server, so a local server can stand in for the publishers.
    host_overrides: tuple[tuple[str, str], ...] = ()
    govuk_api: str = DEFAULT_GOVUK_API
    fingertips_base_url: str = DEFAULT_FINGERTIPS_BASE_URL
    notebook_timeout: float = 600.0

    def __post_init__(self) -> None:
        root = Path(self.project_root).resolve()
        object.__setattr__(self, "project_root", root)
        defaults = {
            "raw_dir": root / "data" / "raw",
            "processed_dir": root / "data" / "processed",
            "sources_file": root / "data" / "sources.yaml",
            "editions_dir": root / "editions",
            "output_root": root,
        }
        for name, default in defaults.items():
            value = getattr(self, name)
            object.__setattr__(self, name, Path(value) if value else default)
        if self.mirror is not None:
            object.__setattr__(self, "mirror", Path(self.mirror).resolve())
        object.__setattr__(self, "extra_allowed_origins", tuple(self.extra_allowed_origins))
        object.__setattr__(self, "host_overrides", tuple((str(a).rstrip("/"), str(b).rstrip("/")) for a, b in self.host_overrides))

    # -- places ----------------------------------------------------------------------------------
    @property
    def pins_file(self) -> Path:
        """Hashes pinned on first download or accepted on purpose; committed beside the registry."""
        return self.sources_file.with_name("source-pins.yaml")

    @property
    def manual_dir(self) -> Path:
        return self.project_root / "data" / "manual"

    @property
    def notebooks_dir(self) -> Path:
        return self.project_root / "notebooks"

    def figures_dir(self, edition: str) -> Path:
        return self.output_root / "figures" / edition

    def reports_dir(self, edition: str) -> Path:
        return self.output_root / "reports" / edition

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The only place ``NAO_*`` variables are read. Unset or empty means the default."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value else None

        def number(name: str, default: float) -> float:
            value = get(name)
            if value is None:
                return default
            try:
                return float(value)
            except ValueError:
                raise ValueError(f"{name}={value!r} is not a number - unset it or give seconds/bytes as a number") from None

        root = get("NAO_PROJECT_ROOT")
        mirror = get("NAO_DATA_MIRROR")
        origins = tuple(o.strip().rstrip("/") for o in (get("NAO_EXTRA_ALLOWED_ORIGINS") or "").split(",") if o.strip())
        return cls(
            project_root=Path(root) if root else _default_root(),
            raw_dir=_path(get("NAO_RAW_DIR")),
            processed_dir=_path(get("NAO_PROCESSED_DIR")),
            sources_file=_path(get("NAO_SOURCES_FILE")),
            editions_dir=_path(get("NAO_EDITIONS_DIR")),
            output_root=_path(get("NAO_OUTPUT_ROOT")),
            mirror=Path(mirror) if mirror else None,
            offline=get("NAO_OFFLINE") == "1",
            parsed_cache=(get("NAO_PARSED_CACHE") or "1") != "0",
            download_timeout=number("NAO_DOWNLOAD_TIMEOUT", 60.0),
            download_deadline=number("NAO_DOWNLOAD_DEADLINE", 900.0),
            download_min_rate=number("NAO_DOWNLOAD_MIN_RATE", 1024.0),
            download_retries=int(number("NAO_DOWNLOAD_RETRIES", 5)),
            download_backoff=number("NAO_DOWNLOAD_BACKOFF", 1.0),
            retry_after_max=number("NAO_DOWNLOAD_RETRY_AFTER_MAX", 120.0),
            extra_allowed_origins=origins,
            host_overrides=_host_overrides(get("NAO_HOST_OVERRIDES")),
            govuk_api=get("NAO_GOVUK_API") or DEFAULT_GOVUK_API,
            fingertips_base_url=(get("NAO_FINGERTIPS_BASE_URL") or DEFAULT_FINGERTIPS_BASE_URL).rstrip("/"),
            notebook_timeout=number("NAO_NOTEBOOK_TIMEOUT", 600.0),
        )

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def to_json(self) -> str:
        """Serialised for a notebook's ``settings`` parameter."""
        return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()})

    @classmethod
    def from_json(cls, text: str | Mapping[str, Any]) -> Settings:
        data = json.loads(text) if isinstance(text, str) else dict(text)
        for name in ("project_root", "raw_dir", "processed_dir", "sources_file", "editions_dir", "output_root", "mirror"):
            if data.get(name):
                data[name] = Path(data[name])
        data["extra_allowed_origins"] = tuple(data.get("extra_allowed_origins") or ())
        data["host_overrides"] = tuple(tuple(pair) for pair in data.get("host_overrides") or ())
        return cls(**data)


def _host_overrides(value: str | None) -> tuple[tuple[str, str], ...]:
    """``NAO_HOST_OVERRIDES=https://www.gov.uk=http://127.0.0.1:8000,...`` -> pairs (official, loopback)."""
    pairs = []
    for item in (value or "").split(","):
        if not item.strip():
            continue
        official, sep, local = item.strip().rpartition("=")
        if not sep or not official or not local:
            raise ValueError(f"NAO_HOST_OVERRIDES item {item!r} is not OFFICIAL_ORIGIN=LOOPBACK_ORIGIN - fix or unset it")
        pairs.append((official.rstrip("/"), local.rstrip("/")))
    return tuple(pairs)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
