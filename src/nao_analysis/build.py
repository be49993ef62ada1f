"""Build an edition: run each figure notebook with papermill, collect outputs, reconcile, report.

Every figure of the build ends in one status, and the statuses never blur into each other:

- *built*: the notebook ran and its outputs replaced the old ones;
- *up to date*: nothing it depends on changed (notebook, parameters, package code, its recipe,
  manual data, or the registry entries and pinned hashes of the sources it names or read);
- *skipped*: a source it needs is unavailable here; the message names it and how to get it;
- *failed*: the notebook raised, timed out or its kernel died; the message is one line.

A reconciliation row built by a figure keeps the figure's own status (``pass``, ``differs
(explained)``, ``fail``, ``source unavailable``, ``not applicable``). A figure that did not produce
rows keeps its published numbers visible with a row status saying why: ``source unavailable`` only
when it was skipped for a missing source, ``figure failed`` when it failed.

Each notebook runs in a pristine kernel forked from a pre-imported parent (:mod:`nao_analysis.kernels`),
or in a freshly started kernel, so a figure's result never depends on what ran before it. Every run
happens in a staging folder; a successful run's files are moved over the old ones (across
filesystems if need be) before any old file is removed. One lock per edition serialises builds of
the same edition, and staging folders left by a killed build are removed by the next one.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nao_analysis import __version__, build_memo
from nao_analysis.build_start import EarlyStart, start_early
from nao_analysis.editions import Edition, load_edition, parse_override
from nao_analysis.errors import NaoError
from nao_analysis.figures import FigureSpec, load_specs
from nao_analysis.hashing import hash_bytes, hash_json, hash_tree
from nao_analysis.safe_io import load_yaml, move_into_place, write_text_atomic
from nao_analysis.settings import Settings
from nao_analysis.sources.registry import Registry, load_pins, load_registry

KERNEL_NAME = "nao-analysis"
KERNEL_MODES = ("fork", "fresh")
LOCK_FILE = ".lock"
STAGING_PREFIX = ".staging-"
RECONCILIATION_COLUMNS = [
    "check",
    "figure",
    "published",
    "rebuilt",
    "tolerance",
    "unit",
    "status",
    "note",
    "description",
    "citation",
    "expected",
    "expected_status",
]

# Figure statuses.
BUILT = "built"
UP_TO_DATE = "up to date"
SKIPPED = "skipped"
FAILED = "failed"
NOT_BUILT = "not built"  # outside --only and never built before

# Row statuses for a figure's published numbers when the figure produced no rows of its own.
ROW_SOURCE_UNAVAILABLE = "source unavailable"
ROW_FIGURE_FAILED = "figure failed"
ROW_NOT_BUILT = "not built"
ROW_STATUS_FOR = {SKIPPED: ROW_SOURCE_UNAVAILABLE, FAILED: ROW_FIGURE_FAILED, NOT_BUILT: ROW_NOT_BUILT}


def _nao_error_names() -> set[str]:
    names, todo = set(), [NaoError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


@dataclass
class FigureResult:
    figure: str
    status: str  # built | up to date | skipped | failed | not built
    seconds: float = 0.0
    message: str = ""
    record: dict[str, Any] | None = None
    missing_sources: list[str] = field(default_factory=list)


@dataclass
class BuildResult:
    edition: str
    results: list[FigureResult] = field(default_factory=list)
    seconds: float = 0.0

    def exit_code(self, strict: bool) -> int:
        if any(r.status == FAILED for r in self.results):
            return 1
        if strict and any(r.status == SKIPPED for r in self.results):
            return 1
        rows = [row for r in self.results if r.record for row in r.record.get("reconciliation", [])]
        if strict and any(row.get("status") == "fail" for row in rows):
            return 1
        # A substitute-data run is held to the values it was reviewed at (editions/expected/<name>.yaml).
        if strict and any(row.get("expected_status") == "moved" for row in rows):
            return 1
        return 0


PACKAGE_DIR = Path(__file__).resolve().parent
RECIPES_DIR = PACKAGE_DIR / "figures"


# -- what a figure depends on ---------------------------------------------------------------------
def _package_files() -> list[Path]:
    """Code every notebook run depends on. The report layer only renders finished runs, so a change
    there re-renders the site (see :func:`site_key`) without re-running any figure; a figure's own
    recipe counts for that figure only (see :func:`recipe_hash`)."""
    out = []
    for path in PACKAGE_DIR.rglob("*.py"):
        if "__pycache__" in path.parts or path.parent.name == "report":
            continue
        if path.parent == RECIPES_DIR and _is_recipe(path):
            continue
        out.append(path)
    return sorted(out)


def _is_recipe(path: Path) -> bool:
    return path.stem in load_specs()


def package_hash() -> str:
    return hash_bytes(*(f"{p.relative_to(PACKAGE_DIR)}:{hash_bytes(p.read_bytes())}".encode() for p in _package_files()))


def recipe_hash(figure_id: str) -> str:
    recipe = RECIPES_DIR / f"{figure_id}.py"
    return hash_bytes(recipe.read_bytes()) if recipe.exists() else ""


def _source_ids_in(params: dict[str, Any], known: set[str]) -> list[str]:
    found: list[str] = []
    for value in params.values():
        values = value if isinstance(value, list) else [value]
        found += [v for v in values if isinstance(v, str) and v in known and v not in found]
    return found


def source_entry_hash(source_id: str, registry: Registry, pins: dict[str, Any]) -> str:
    """One source's registry entry and pinned hashes: what a figure reading it depends on."""
    try:
        entry = registry.get(source_id).model_dump(mode="json")
    except NaoError:
        return "absent"
    return hash_json({"entry": entry, "pins": pins.get(source_id, {})})


def figure_key(
    settings: Settings,
    spec: FigureSpec,
    edition: Edition,
    params: dict[str, Any],
    shared: dict[str, str],
    registry: Registry,
    pins: dict[str, Any],
) -> str:
    """Everything a figure's result depends on, except the inputs it read (checked from its stamp).

    Only the registry entries of the sources its parameters name count, so adding or removing an
    unrelated source leaves it up to date."""
    header = edition.header.model_dump(mode="json")
    header.pop("figures", None)
    header["deviations"] = edition.deviations_for(spec.figure_id)
    sources = {sid: source_entry_hash(sid, registry, pins) for sid in _source_ids_in(params, set(registry.ids()))}
    return hash_bytes(
        (settings.notebooks_dir / spec.notebook).read_bytes(),
        hash_json(params).encode(),
        hash_json(header).encode(),
        shared["package"].encode(),
        recipe_hash(spec.figure_id).encode(),
        shared["manual"].encode(),
        hash_json(sources).encode(),
    )


def site_key(settings: Settings, edition: str, results: list[FigureResult]) -> str:
    """What the site pages depend on: the report code and each figure's stamp and status."""
    stamps = []
    for result in results:
        stamp_file = _stamp_path(settings, edition, result.figure)
        state = "current" if result.status in (BUILT, UP_TO_DATE) else f"{result.status}: {result.message}"
        stamps.append((result.figure, state, stamp_file.read_text() if stamp_file.exists() else ""))
    # The key facts are joined when the site is written, so their manual table counts here too.
    facts = settings.manual_dir / "key_facts.yaml"
    return hash_bytes(
        hash_tree(PACKAGE_DIR / "report", "*.py").encode(),
        hash_json(stamps).encode(),
        facts.read_bytes() if facts.exists() else b"",
    )


def _stamp_path(settings: Settings, edition: str, figure: str) -> Path:
    return settings.reports_dir(edition) / "_stamps" / f"{figure}.json"


def _read_stamp(settings: Settings, edition: str, figure: str) -> dict[str, Any] | None:
    path = _stamp_path(settings, edition, figure)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_up_to_date(settings: Settings, edition: str, spec: FigureSpec, key: str, registry: Registry, pins: dict[str, Any]) -> bool:
    stamp = _read_stamp(settings, edition, spec.figure_id)
    if not stamp or stamp.get("key") != key:
        return False
    # The sources it actually read: their entries and pins must be the ones it was built from.
    for source_id, recorded in (stamp.get("entries") or {}).items():
        if source_entry_hash(source_id, registry, pins) != recorded:
            return False
    return all((settings.output_root / rel).exists() for rel in stamp.get("outputs", []))


# -- sources a figure cannot have ---------------------------------------------------------------
def _source_status(source, settings: Settings) -> str:
    from nao_analysis.sources import status

    return status(source, settings)


def how_to_get(source) -> str:
    if source.downloadable and source.url:
        where = source.url
    elif source.downloadable:
        where = f"GOV.UK page {source.govuk_slug}"
    elif source.landing_page:
        where = source.landing_page
    else:
        where = source.copied_from or "the publisher"
    mirror = f" or place it in NAO_DATA_MIRROR at {source.primary.mirror}" if source.primary.mirror else ""
    return f"{source.id} ({source.title}; get it from {where}: `nao-analysis fetch {source.id}` with internet{mirror})"


def unavailable_inputs(settings: Settings, params: dict[str, Any], registry: Registry) -> list[str]:
    """Inputs a figure's parameters name that can be neither found locally nor downloaded here."""
    return [sid for sid in _source_ids_in(params, set(registry.ids())) if _source_status(registry.get(sid), settings) == "missing offline"]


def skipped_message(missing: list[str], registry: Registry) -> str:
    return "source unavailable: " + "; ".join(how_to_get(registry.get(sid)) for sid in missing)


# -- running one notebook -----------------------------------------------------------------------
def _reported_error(executed: Path) -> tuple[str, str] | None:
    """The (name, message) a failed notebook reported: its last error output, or the one line a figure
    notebook prints instead of a traceback for the project's own errors (``failed: ...``/``skipped: ...``)."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return None
    for cell in reversed(cells):
        for output in reversed(cell.get("outputs", [])):
            if output.get("output_type") == "error" and output.get("ename"):
                return output["ename"], output.get("evalue", "")
            if output.get("output_type") == "stream":
                text = "".join(output.get("text", "")) if isinstance(output.get("text"), list) else output.get("text", "")
                for line in reversed(text.strip().splitlines()):
                    word, _, message = line.partition(": ")
                    if word in (SKIPPED, FAILED) and message:
                        return ("SourceUnavailableError" if word == SKIPPED else "NaoError"), message
    return None


def _error_line(exc: BaseException, settings: Settings, notebook: str, executed: Path | None = None) -> tuple[str, str]:
    """(status, one-line message) for a notebook run that raised."""
    from nbclient.exceptions import DeadKernelError

    if isinstance(exc, TimeoutError):  # nbclient's CellTimeoutError included
        return FAILED, (
            f"{notebook}: a cell ran longer than the {settings.notebook_timeout:g} s notebook timeout - "
            "make it faster, or raise the limit with --timeout / NAO_NOTEBOOK_TIMEOUT"
        )
    if isinstance(exc, DeadKernelError):
        return FAILED, f"{notebook}: the notebook's kernel died (it exited, crashed or was killed for memory) - see the .failed.ipynb"
    ename = getattr(exc, "ename", "") or ""
    evalue = str(getattr(exc, "evalue", "") or "")
    if not (ename and evalue) and executed is not None:
        ename, evalue = _reported_error(executed) or (ename, evalue)
    ename = ename or exc.__class__.__name__
    evalue = evalue or str(exc)
    first = evalue.strip().splitlines()[0] if evalue.strip() else ""
    if ename == "SourceUnavailableError":
        return SKIPPED, f"source unavailable: {first}"
    if ename in _nao_error_names():
        return FAILED, first
    return FAILED, f"{ename}: {first} (see the executed notebook for the traceback)"


def _destination(settings: Settings, edition: str, produced: Path) -> Path:
    charts_and_data = produced.suffix in {".png", ".svg", ".csv", ".geojson"} or produced.name.endswith(".table.html")
    return (settings.figures_dir(edition) if charts_and_data else settings.reports_dir(edition)) / produced.name


def _relative(settings: Settings, path: Path) -> str:
    return str(path.relative_to(settings.output_root)) if path.is_relative_to(settings.output_root) else str(path)


def _old_outputs(settings: Settings, edition: str, spec: FigureSpec) -> set[Path]:
    """The files a figure's last build published: those in its stamp, and any file of its stem."""
    old = {settings.output_root / rel for rel in ((_read_stamp(settings, edition, spec.figure_id) or {}).get("outputs") or [])}
    for folder in (settings.figures_dir(edition), settings.reports_dir(edition)):
        old |= {p for p in folder.glob(f"{spec.stem}*") if p.is_file()}
    return old


def withdraw_outputs(settings: Settings, edition: str, spec: FigureSpec) -> None:
    """A figure that failed or was skipped must not leave its last outputs looking current."""
    _stamp_path(settings, edition, spec.figure_id).unlink(missing_ok=True)
    for path in _old_outputs(settings, edition, spec):
        path.unlink(missing_ok=True)


def publish(settings: Settings, edition: str, spec: FigureSpec, staging: Path, key: str, record: dict[str, Any]) -> list[str]:
    """Move a finished run's files over the old ones, then remove old files it no longer makes, then stamp.

    Until the new files are all in place the old ones stay (a move may be a copy across filesystems),
    and the stamp is written last, so an interrupted publish is rebuilt next time."""
    old = _old_outputs(settings, edition, spec)
    _stamp_path(settings, edition, spec.figure_id).unlink(missing_ok=True)
    placed: list[Path] = []
    for produced in sorted(p for p in staging.iterdir() if p.is_file()):
        target = _destination(settings, edition, produced)
        move_into_place(produced, target)
        placed.append(target)
    for path in old - set(placed):
        path.unlink(missing_ok=True)
    registry = load_registry(settings.sources_file)
    pins = load_pins(settings.pins_file)
    inputs = record.get("inputs") or {}
    stamp = {
        "key": key,
        "inputs": {k: v.get("sha256") for k, v in inputs.items()},
        "entries": {k: source_entry_hash(k, registry, pins) for k in inputs},
        "outputs": [_relative(settings, p) for p in placed],
    }
    write_text_atomic(_stamp_path(settings, edition, spec.figure_id), json.dumps(stamp, indent=2))
    return stamp["outputs"]


def run_figure(
    settings: Settings,
    edition: Edition,
    spec: FigureSpec,
    overrides: dict[str, Any],
    key: str,
    kernel_manager_class: type | None = None,
) -> FigureResult:
    """Execute one notebook in a staging folder and publish its outputs only if it succeeds."""
    import papermill

    from nao_analysis.notebook_engine import ENGINE_NAME
    from nao_analysis.report.notebook_html import notebook_to_html

    started = time.perf_counter()
    reports = settings.reports_dir(edition.name)
    settings.figures_dir(edition.name).mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{spec.figure_id}-", dir=reports))
    executed = staging / spec.notebook
    try:
        options: dict[str, Any] = dict(
            parameters={
                "edition": edition.name,
                "output_dir": str(staging),
                "overrides": {spec.figure_id: overrides} if overrides else {},
                "settings": settings.to_json(),
            },
            kernel_name=KERNEL_NAME,
            cwd=str(settings.notebooks_dir),
            progress_bar=False,
            log_output=False,
            report_mode=False,
            engine_name=ENGINE_NAME,
            # Every output has arrived once the last cell is answered: the kernel can be killed rather than asked
            # to stop and waited for.
            shutdown_kernel="immediate",
            execution_timeout=settings.notebook_timeout,
            start_timeout=60,
        )
        if kernel_manager_class is not None:
            options["kernel_manager_class"] = kernel_manager_class
        try:
            papermill.execute_notebook(str(settings.notebooks_dir / spec.notebook), str(executed), **options)
        except Exception as exc:  # papermill wraps the notebook's exception; nbclient raises timeouts and dead kernels
            status, message = _error_line(exc, settings, spec.notebook, executed)
            withdraw_outputs(settings, edition.name, spec)
            if executed.exists() and status == FAILED:
                move_into_place(executed, reports / f"{spec.stem}.failed.ipynb")
            return FigureResult(spec.figure_id, status, time.perf_counter() - started, message)
        record_file = staging / f"{spec.stem}.json"
        if not record_file.exists():
            withdraw_outputs(settings, edition.name, spec)
            return FigureResult(spec.figure_id, FAILED, time.perf_counter() - started, f"{spec.notebook}: wrote no figure record")
        record = json.loads(record_file.read_text())
        record["seconds"] = round(time.perf_counter() - started, 2)
        write_text_atomic(record_file, json.dumps(record, indent=2) + "\n")
        write_text_atomic(staging / f"{spec.stem}.html", notebook_to_html(executed, record))
        (reports / f"{spec.stem}.failed.ipynb").unlink(missing_ok=True)
        try:
            publish(settings, edition.name, spec, staging, key, record)
        except OSError as exc:
            # The old files not yet replaced stay; without a stamp the figure is rebuilt next time.
            where = f"{exc.strerror or exc}: {exc.filename or ''}"
            message = f"{spec.stem}: could not move its outputs into place ({where}) - free space or fix permissions and build again"
            return FigureResult(spec.figure_id, FAILED, time.perf_counter() - started, message)
        return FigureResult(spec.figure_id, BUILT, time.perf_counter() - started, record=record)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- one build of an edition at a time ------------------------------------------------------------
@contextlib.contextmanager
def edition_lock(settings: Settings, edition: str, log: Callable[..., Any] = print) -> Iterator[None]:
    """Hold ``reports/<edition>/.lock`` while building, so two builds never mix their files.

    The lock file is never removed: removing it would let a third build lock a different file."""
    reports = settings.reports_dir(edition)
    reports.mkdir(parents=True, exist_ok=True)
    fd = os.open(reports / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another build of '{edition}' to finish ({reports / LOCK_FILE})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_leftovers(settings: Settings, edition: str) -> list[Path]:
    """Staging folders and temporary files of a build that was killed. Called under the edition lock,
    so no live build of this edition owns any of them."""
    removed = []
    reports, figures = settings.reports_dir(edition), settings.figures_dir(edition)
    for path in sorted(reports.glob(f"{STAGING_PREFIX}*")):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        removed.append(path)
    for folder in (reports, figures, reports / "_stamps"):
        for path in sorted(folder.glob(".tmp-*")):
            if path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


# -- reconciliation and manifest -------------------------------------------------------------------
def _load_record(settings: Settings, edition: str, spec: FigureSpec) -> dict[str, Any] | None:
    path = settings.reports_dir(edition) / f"{spec.stem}.json"
    return json.loads(path.read_text()) if path.exists() else None


def published_checks(settings: Settings, figure_id: str) -> dict[str, dict[str, Any]]:
    """The numbers the report publishes for a figure, from ``data/manual/published/<figure>.yaml``."""

    path = settings.manual_dir / "published" / f"{figure_id}.yaml"
    if not path.exists():
        return {}
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    return {row["check"]: row for row in data.get("checks", [])}


def unbuilt_rows(settings: Settings, figure_id: str, status: str, reason: str) -> list[dict[str, Any]]:
    """Reconciliation rows for a figure that produced none: its published values stay visible, with why."""
    row_status = ROW_STATUS_FOR.get(status, ROW_NOT_BUILT)
    return [
        {
            "check": check,
            "figure": figure_id,
            "published": spec["published"],
            "rebuilt": None,
            "tolerance": spec.get("tolerance", 0),
            "unit": spec.get("unit", ""),
            "status": row_status,
            "note": f"figure {status}: {reason}" if reason else f"figure {status}",
            "description": spec.get("description", ""),
            "citation": spec.get("citation", ""),
        }
        for check, spec in published_checks(settings, figure_id).items()
    ]


def reconciliation_rows(settings: Settings, results: list[FigureResult]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for result in results:
        if result.record:
            rows += result.record.get("reconciliation", [])
        else:
            rows += unbuilt_rows(settings, result.figure, result.status, result.message)
    return rows


def write_reconciliation(settings: Settings, edition: str, results: list[FigureResult]) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=RECONCILIATION_COLUMNS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            for row in reconciliation_rows(settings, results):
                writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in RECONCILIATION_COLUMNS})

    from nao_analysis.safe_io import write_atomic

    return write_atomic(settings.reports_dir(edition) / "reconciliation.csv", write)


def git_commit(root: Path) -> str:
    head = root / ".git" / "HEAD"
    try:
        if (root / ".git").is_file():
            # A worktree: .git is a file naming the real git folder.
            gitdir = Path((root / ".git").read_text().split(":", 1)[1].strip())
            head = gitdir / "HEAD"
            common = Path((gitdir / "commondir").read_text().strip()) if (gitdir / "commondir").exists() else gitdir
            common = common if common.is_absolute() else (gitdir / common).resolve()
        else:
            gitdir = common = root / ".git"
        ref = head.read_text().strip()
        if not ref.startswith("ref: "):
            return ref
        name = ref[5:]
        for folder in (gitdir, common):
            if (folder / name).exists():
                return (folder / name).read_text().strip()
        packed = common / "packed-refs"
        for line in packed.read_text().splitlines() if packed.exists() else []:
            if line.endswith(name):
                return line.split()[0]
        return "unknown"
    except OSError:
        return "unknown"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = [
        "pandas",
        "numpy",
        "geopandas",
        "matplotlib",
        "papermill",
        "nbconvert",
        "pydantic",
        "pandera",
        "python-calamine",
        "pyogrio",
        "shapely",
    ]
    out = {"python": sys.version.split()[0], "nao-analysis": __version__}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(settings: Settings, edition: Edition, results: list[FigureResult], seconds: float, overrides: list[str]) -> Path:
    inputs: dict[str, Any] = {}
    for result in results:
        for source_id, info in ((result.record or {}).get("inputs") or {}).items():
            entry = inputs.setdefault(source_id, dict(info, figures=[]))
            entry["figures"].append(result.figure)
    manifest = {
        "edition": edition.name,
        "title": edition.header.title,
        "substitute_data": edition.header.substitute_data,
        "deviations": [d.model_dump() for d in edition.header.deviations],
        "parameters": {fid: p.model_dump(mode="json") for fid, p in edition.figures.items()},
        "overrides": overrides,
        "git_commit": git_commit(settings.project_root),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "package_versions": package_versions(),
        "figures": [
            {"figure": r.figure, "status": r.status, "seconds": round(r.seconds, 2), "message": r.message}
            | ({"missing_sources": r.missing_sources} if r.missing_sources else {})
            for r in results
        ],
        "inputs": inputs,
        "total_seconds": round(seconds, 2),
    }
    return write_text_atomic(settings.reports_dir(edition.name) / "manifest.json", json.dumps(manifest, indent=2) + "\n")


# -- the build -------------------------------------------------------------------------------------
def build(
    edition_name: str,
    settings: Settings,
    *,
    only: list[str] | None = None,
    overrides: list[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    log: Callable[..., Any] = print,
    kernels: str = "fork",
    early_start: EarlyStart | None = None,
) -> BuildResult:
    """Build the figures of an edition. See the module docstring for the rules.

    ``kernels`` is ``"fork"`` (each notebook in a pristine child of a pre-imported parent) or
    ``"fresh"`` (a newly started kernel per notebook); both isolate figures from each other.
    ``settings.notebook_timeout`` bounds every cell.
    """
    if kernels not in KERNEL_MODES:
        if early_start is not None and early_start.server is not None:
            early_start.server.stop(now=True)
        raise NaoError(f"kernels={kernels!r}: use one of {', '.join(KERNEL_MODES)}")
    started = time.perf_counter()
    if early_start is None:
        early_start = start_early(settings, edition_name, kernels, log)
    started_inputs, server = early_start.inputs, early_start.server
    try:
        return _build(edition_name, settings, only, overrides, jobs, force, log, started, started_inputs, server)
    finally:
        if server is not None:
            server.stop(now=True)


def _build(
    edition_name: str,
    settings: Settings,
    only: list[str] | None,
    overrides: list[str] | None,
    jobs: int | None,
    force: bool,
    log: Callable[..., Any],
    started: float,
    started_inputs: dict[str, Any],
    server: Any,
) -> BuildResult:
    edition = load_edition(edition_name, overrides, settings=settings)
    specs = load_specs()
    if only:
        unknown = sorted(set(only) - set(edition.figures))
        if unknown:
            raise NaoError(f"--only {','.join(unknown)}: not figures of edition {edition_name!r} - figures: {', '.join(edition.figures)}")
    wanted = [f for f in edition.figures if not only or f in only]
    override_map: dict[str, dict[str, Any]] = {}
    for item in overrides or []:
        fid, name, value = parse_override(item)
        override_map.setdefault(fid, {})[name] = value

    with edition_lock(settings, edition.name, log):
        for leftover in remove_leftovers(settings, edition.name):
            log(f"removed {leftover.name}, left by a build that was interrupted")
        result = BuildResult(edition.name)
        outcomes, to_run = _plan(settings, edition, specs, wanted, force)
        if to_run:
            outcomes |= _run_all(settings, edition, to_run, override_map, jobs, server, log)

        result.results = [outcomes[f] for f in wanted]
        if only:
            # Keep the reconciliation and site whole: figures not rebuilt this time keep their last record.
            for figure_id in edition.figures:
                if figure_id not in outcomes:
                    record = _load_record(settings, edition.name, specs[figure_id])
                    status = UP_TO_DATE if record else NOT_BUILT
                    result.results.append(FigureResult(figure_id, status, record=record, message="" if record else "not built yet"))
            order = list(edition.figures)
            result.results.sort(key=lambda r: order.index(r.figure))
        result.seconds = time.perf_counter() - started
        _write_site_if_needed(settings, edition, result, bool(to_run) or force, overrides or [])
        if not only and edition_name == edition.name and all(r.status in (BUILT, UP_TO_DATE) for r in result.results):
            build_memo.write(
                settings,
                edition.name,
                started_inputs=started_inputs,
                asked=build_memo.request(settings, edition_name, overrides),
                rows=[[r.figure, UP_TO_DATE, 0.0, ""] for r in result.results],
                exit_codes={"default": result.exit_code(False), "strict": result.exit_code(True)},
            )
        else:
            build_memo.forget(settings, edition.name)
    result.seconds = time.perf_counter() - started
    return result


def _plan(
    settings: Settings, edition: Edition, specs: dict[str, FigureSpec], wanted: list[str], force: bool
) -> tuple[dict[str, FigureResult], list[tuple[FigureSpec, str]]]:
    """Decide each wanted figure's fate before running anything: up to date, skipped, failed, or to run."""
    shared = {"package": package_hash(), "manual": hash_tree(settings.manual_dir)}
    registry = load_registry(settings.sources_file)
    pins = load_pins(settings.pins_file)
    outcomes: dict[str, FigureResult] = {}
    to_run: list[tuple[FigureSpec, str]] = []
    for figure_id in wanted:
        spec = specs[figure_id]
        params = edition.figures[figure_id].model_dump(mode="json")
        if not (settings.notebooks_dir / spec.notebook).exists():
            withdraw_outputs(settings, edition.name, spec)
            message = f"notebooks/{spec.notebook}: notebook missing - add it or remove {figure_id} from the edition"
            outcomes[figure_id] = FigureResult(figure_id, FAILED, message=message)
            continue
        problems = edition.figures[figure_id].registry_problems(registry)
        waiting = [m.group(1) for m in (re.match(r"source '([^']+)' is not in the registry", p) for p in problems) if m]
        if waiting:
            # A rolled edition names files the registry does not have yet: the figure waits for them.
            withdraw_outputs(settings, edition.name, spec)
            message = (
                "waiting for " + ", ".join(waiting) + " - add with `nao-analysis sources add ID --url URL` (see the edition's needs lines)"
            )
            outcomes[figure_id] = FigureResult(figure_id, SKIPPED, message=message, missing_sources=waiting)
            continue
        if problems:
            withdraw_outputs(settings, edition.name, spec)
            outcomes[figure_id] = FigureResult(figure_id, FAILED, message=f"{edition.path.name}: {figure_id}: {problems[0]}")
            continue
        key = figure_key(settings, spec, edition, params, shared, registry, pins)
        if not force and is_up_to_date(settings, edition.name, spec, key, registry, pins):
            outcomes[figure_id] = FigureResult(figure_id, UP_TO_DATE, record=_load_record(settings, edition.name, spec))
            continue
        missing = unavailable_inputs(settings, params, registry)
        if missing:
            withdraw_outputs(settings, edition.name, spec)
            outcomes[figure_id] = FigureResult(figure_id, SKIPPED, message=skipped_message(missing, registry), missing_sources=missing)
            continue
        to_run.append((spec, key))
    return outcomes, to_run


def _prepare_kernel_starts() -> None:
    """Do once what the first start of a kernel does in this process: find the kernel spec (which imports
    IPython), list the kernel provisioners (a scan of every installed package's entry points) and the local
    network interfaces. Otherwise the first notebooks' threads each do it again, at the same moment, while
    their kernels wait. A missing kernel spec is left for the notebooks to report, one line each."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_client.localinterfaces import localhost

    with contextlib.suppress(NoSuchKernel):
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    localhost()


def _load_what_the_site_needs() -> None:
    """Import, in this process, the libraries the site and the key facts use after the figures (pandas, pandera,
    gptables). Done while the fork server is still importing, it takes a core that would otherwise wait, instead
    of delaying the site by about a second once the figures are done."""
    import gptables  # noqa: F401

    import nao_analysis.report.site  # noqa: F401
    import nao_analysis.report.spreadsheet  # noqa: F401
    from nao_analysis.figures.key_facts import key_facts_schema

    key_facts_schema()


def default_jobs() -> int:
    """One notebook per core the build may use, plus one: while a kernel starts up (about 0.3 s of waiting for
    its channels to connect) or the build turns a finished notebook into a page, the extra notebook keeps
    that core busy. Measured on two cores: the offline edition's cold build took 1.5 s less than with two jobs."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def _run_all(
    settings: Settings,
    edition: Edition,
    to_run: list[tuple[FigureSpec, str]],
    override_map: dict[str, dict[str, Any]],
    jobs: int | None,
    server: Any,
    log: Callable[..., Any],
) -> dict[str, FigureResult]:
    """Run the notebooks, in kernels forked from ``server`` (a started ForkServer) or, without one, fresh kernels."""
    # Done here, while the server finishes starting, rather than by the first figures' threads.
    import papermill  # noqa: F401

    from nao_analysis import notebook_engine  # noqa: F401
    from nao_analysis.report import notebook_html

    notebook_html.warm_up()
    _prepare_kernel_starts()
    _load_what_the_site_needs()

    workers = min(max(1, jobs or default_jobs()), len(to_run))
    # Longest first, by each figure's last run time: the last job to finish then has the least left to do,
    # so the cores stay busy to the end instead of one figure running alone.
    times = _run_times(settings, edition.name)
    to_run = sorted(to_run, key=lambda item: -times.get(item[0].figure_id, float("inf")))
    log(f"building {len(to_run)} figure(s) of '{edition.name}' with {workers} job(s): " + ", ".join(s.figure_id for s, _ in to_run))
    outcomes: dict[str, FigureResult] = {}
    manager_class = None
    if server is not None:
        waiting = time.perf_counter()
        try:
            manager_class = server.wait_ready().manager_class()
            # Counted in the build's time: the one import of the heavy libraries every kernel then shares.
            log(
                f"kernel fork server ready in {time.perf_counter() - server.started_at:.1f}s "
                f"(started with the planning; the figures waited {time.perf_counter() - waiting:.1f}s)"
            )
        except (OSError, RuntimeError) as exc:
            log(f"kernel fork server unavailable ({exc}); starting a fresh kernel per notebook instead")
    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = {
            spec.figure_id: executor.submit(run_figure, settings, edition, spec, override_map.get(spec.figure_id, {}), key, manager_class)
            for spec, key in to_run
        }
        for figure_id, future in futures.items():
            outcomes[figure_id] = future.result()
    if server is not None:
        server.stop()
    _record_run_times(settings, edition.name, {f: r.seconds for f, r in outcomes.items() if r.status == BUILT})
    return outcomes


def _run_times_file(settings: Settings, edition: str) -> Path:
    # Beside the parsed-file cache rather than the outputs, so it outlives a clean of figures/ and reports/.
    return settings.processed_dir / "build-times" / f"{edition}.json"


def _run_times(settings: Settings, edition: str) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in json.loads(_run_times_file(settings, edition).read_text()).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _record_run_times(settings: Settings, edition: str, seconds: dict[str, float]) -> None:
    if seconds:
        with contextlib.suppress(OSError):  # only a scheduling hint: never worth failing a build over
            merged = _run_times(settings, edition) | {k: round(v, 2) for k, v in seconds.items()}
            write_text_atomic(_run_times_file(settings, edition), json.dumps(merged, indent=2, sort_keys=True))


def _write_site_if_needed(settings: Settings, edition: Edition, result: BuildResult, ran: bool, overrides: list[str]) -> None:
    site_stamp = settings.reports_dir(edition.name) / "_stamps" / "site.json"
    key = site_key(settings, edition.name, result.results)
    index = settings.reports_dir(edition.name) / "index.html"
    site_current = site_stamp.exists() and site_stamp.read_text() == key and index.exists()
    if not ran and site_current:
        return
    reconciliation = write_reconciliation(settings, edition.name, result.results)
    from nao_analysis.figures.key_facts import write_key_facts

    with open(reconciliation, newline="", encoding="utf-8") as handle:
        write_key_facts(settings.manual_dir, settings.reports_dir(edition.name), csv.DictReader(handle))
    write_manifest(settings, edition, result.results, result.seconds, overrides)
    from nao_analysis.report.site import write_site

    if not ran:
        rerender_notebook_pages(settings, edition.name, result.results)
    write_site(edition, result.results, settings=settings)
    write_text_atomic(site_stamp, site_key(settings, edition.name, result.results))


def rerender_notebook_pages(settings: Settings, edition: str, results: list[FigureResult]) -> None:
    """Re-render the code-hidden pages of figures that were not re-run (the report code changed)."""
    from nao_analysis.report.notebook_html import notebook_to_html

    for result in results:
        if not result.record:
            continue
        executed = settings.reports_dir(edition) / f"{result.record['stem']}.ipynb"
        if executed.exists():
            write_text_atomic(executed.with_suffix(".html"), notebook_to_html(executed, result.record))


def summary_table(result: BuildResult) -> str:
    rows = [[r.figure, r.status, r.seconds, r.message] for r in result.results]
    return build_memo.format_summary(result.edition, rows, result.seconds)
