"""The registry of raw sources (``data/sources.yaml``) and the pins file beside it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nao_analysis.errors import SourceError
from nao_analysis.safe_io import load_yaml
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


def _https(value: str, what: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError(f"{what} {value!r} must be an https URL")
    return value


def _regex(value: str, what: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{what} {value!r} is not a valid regular expression ({exc})") from None
    return value


class Evidence(BaseModel):
    """Where a URL or route was seen: the publisher's page, or another public project's code using it."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    path: str | None = None
    #: An exact string found in other public projects' code (repeat an exact-string code search to see them),
    #: for sightings whose repository was not recorded.
    search: str | None = None
    what: str

    @model_validator(mode="after")
    def _names_a_place(self) -> Evidence:
        if not self.url and not (self.repo and self.path) and not self.search:
            raise ValueError("url_evidence needs a url, a repo and path, or the exact string searched for")
        return self


class GovukRoute(BaseModel):
    """A GOV.UK publication read through the content API; the attachment is picked by title (and year)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["govuk_content_api"]
    #: Path of the page under www.gov.uk, e.g. ``government/statistics/<slug>`` (a bare slug means a statistics page).
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9/_-]*$")
    attachment_title: str
    year: str | None = None

    @field_validator("attachment_title")
    @classmethod
    def _title_is_regex(cls, value: str) -> str:
        return _regex(value, "attachment_title")

    @property
    def page_path(self) -> str:
        return self.slug if "/" in self.slug else f"government/statistics/{self.slug}"


class OnsDatasetRoute(BaseModel):
    """An ONS dataset page; its ``/data`` JSON lists the current edition, its previous versions and their files."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["ons_dataset_page"]
    page: str
    file_pattern: str

    @field_validator("page")
    @classmethod
    def _page_is_https(cls, value: str) -> str:
        return _https(value.rstrip("/"), "page")

    @field_validator("file_pattern")
    @classmethod
    def _pattern_is_regex(cls, value: str) -> str:
        return _regex(value, "file_pattern")


class ArcgisRoute(BaseModel):
    """An ArcGIS feature-service layer (ONS Open Geography Portal), queried page by page into one file."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["arcgis_query"]
    #: The FeatureServer URL, e.g. ``https://services1.arcgis.com/<org>/arcgis/rest/services/<name>/FeatureServer``.
    service: str | None = None
    #: Or: the organisation's services directory and a pattern for the service name (names carry suffixes such as
    #: ``_2022`` or ``_V2`` that change between releases), resolved from ``{directory}?f=json``.
    directory: str | None = None
    service_pattern: str | None = None
    layer: int = 0
    where: str = "1=1"
    out_fields: list[str]
    #: Records asked for per request; the service may return fewer (its maxRecordCount) and says so.
    page_size: int = Field(default=1000, ge=1, le=5000)
    #: The field holding ONS area codes, checked for format and uniqueness.
    code_field: str
    #: How many features the layer must return (checked after paging), if known.
    expected_count: int | None = None
    #: ``geojson`` for boundaries (geometry kept), ``csv`` for lookups (attributes only).
    output: Literal["geojson", "csv"] = "geojson"
    #: The file this route writes, when it differs from the files a mirror holds (a shapefile's GeoJSON).
    filename: str | None = None

    @field_validator("service")
    @classmethod
    def _service_is_https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _https(value.rstrip("/"), "service")
        if not re.search(r"/(FeatureServer|MapServer)$", value):
            raise ValueError(f"service {value!r} must end with /FeatureServer or /MapServer")
        return value

    @field_validator("directory")
    @classmethod
    def _directory_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value.rstrip("/"), "directory")

    @field_validator("service_pattern")
    @classmethod
    def _pattern_is_regex(cls, value: str | None) -> str | None:
        return None if value is None else _regex(value, "service_pattern")

    @model_validator(mode="after")
    def _one_way_to_the_service(self) -> ArcgisRoute:
        if bool(self.service) == bool(self.directory and self.service_pattern):
            raise ValueError("an arcgis_query route needs either service, or directory and service_pattern")
        if self.out_fields != ["*"] and self.code_field not in self.out_fields:
            raise ValueError(f"code_field {self.code_field!r} must be one of out_fields {self.out_fields}")
        return self


class FingertipsRoute(BaseModel):
    """The OHID Fingertips API: every area of one type for the given indicators, as CSV."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fingertips_api"]
    indicator_ids: list[int] = Field(min_length=1)
    child_area_type_id: int
    parent_area_type_id: int = 15


Route = Annotated[GovukRoute | OnsDatasetRoute | ArcgisRoute | FingertipsRoute, Field(discriminator="kind")]


class ManualSteps(BaseModel):
    """How a person obtains a file that a publisher only produces interactively."""

    model_config = ConfigDict(extra="forbid")

    page: str
    selections: list[str] = Field(min_length=1)
    export: str
    expected_filename: str
    command: str

    @field_validator("page")
    @classmethod
    def _page_is_https(cls, value: str) -> str:
        return _https(value, "manual_steps.page")

    @field_validator("command")
    @classmethod
    def _command_adds_the_file(cls, value: str) -> str:
        if not value.startswith("nao-analysis sources add ") or "--file" not in value:
            raise ValueError("manual_steps.command must be the `nao-analysis sources add ID --file PATH` command")
        return value


class StandsInFor(BaseModel):
    """The official file a third party's extract replaces: a registry id with its own route, or its title and page."""

    model_config = ConfigDict(extra="forbid")

    title: str
    source: str | None = None
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url_is_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value, "stands_in_for.url")

    @model_validator(mode="after")
    def _names_the_official_file(self) -> StandsInFor:
        if not self.source and not self.url:
            raise ValueError("stands_in_for needs the official file's registry id (source) or its url")
        return self


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
    route: Route | None = None
    acquire: Literal["download", "manual"] = "download"
    manual_steps: ManualSteps | None = None
    url_evidence: list[Evidence] = Field(default_factory=list)
    verified: str = Field(default="never", pattern=r"^(never|\d{4}-\d{2}-\d{2})$")
    stands_in_for: StandsInFor | None = None
    files: list[SourceFile]

    @model_validator(mode="after")
    def _extracts_are_labelled(self) -> Source:
        # A third party's copy has no official address: pretending otherwise would mislabel every output built from it.
        if self.kind == "third_party_extract":
            if not self.copied_from:
                raise ValueError(f"third_party_extract {self.id!r} needs copied_from (repository@commit:path)")
            if self.url or self.govuk_slug or self.route:
                raise ValueError(f"third_party_extract {self.id!r} must not have url/govuk_slug/route (it is not the official file)")
        if not self.files:
            raise ValueError(f"source {self.id!r} lists no files")
        if self.acquire == "manual":
            if self.manual_steps is None:
                raise ValueError(f"source {self.id!r} has acquire: manual but no manual_steps (page, selections, export, filename)")
            if self.url or self.govuk_slug or self.route:
                raise ValueError(f"source {self.id!r} has acquire: manual, so it has no url or route to download")
        if self.url and self.route:
            raise ValueError(f"source {self.id!r} has both url and route - keep one")
        return self

    @property
    def primary(self) -> SourceFile:
        return self.files[0]

    @property
    def downloadable(self) -> bool:
        return self.acquire != "manual" and bool(self.url or self.govuk_slug or self.route)

    @property
    def route_kind(self) -> str:
        """How a machine with internet gets this source: ``url``, a route kind, ``manual``, ``extract`` or ``none``.

        ``extract``: a third party's copy or a sample, with no download of its own; ``stands_in_for`` names the
        official file (usually another registry entry with a route) that a user with internet reads instead.
        """
        if self.acquire == "manual":
            return "manual"
        if self.route is not None:
            return self.route.kind
        if self.url:
            return "url"
        if self.govuk_slug:
            return "govuk_content_api"
        if self.stands_in_for is not None:
            return "extract"
        return "none"

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
        raise SourceError(f"data/sources.yaml: no source with id {source_id!r} - known ids: {known}")

    def ids(self) -> list[str]:
        return [s.id for s in self.sources]


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
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


def _registry_file(where: Settings | Path) -> Path:
    if isinstance(where, Settings):
        return where.sources_file
    if where is None:
        raise TypeError("load_registry needs the run's settings (or the registry file's path)")
    return Path(where)


def _pins_file(where: Settings | Path) -> Path:
    if isinstance(where, Settings):
        return where.pins_file
    if where is None:
        raise TypeError("the pins file needs the run's settings (or its path)")
    return Path(where)


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
