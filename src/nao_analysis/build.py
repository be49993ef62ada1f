"""Build an edition: run each figure notebook with papermill, collect outputs, reconcile, report.

For every figure the build decides *up to date* / *skipped* (an input is unavailable) / *built* /
*failed*. A figure is rebuilt only when its notebook, parameters, package code, manual data or
pinned inputs change. Each run happens in a staging folder; only a successful run's outputs are
moved into ``figures/<edition>/`` and ``reports/<edition>/``, so nothing half-written is left.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nao_analysis import __version__, paths
from nao_analysis.editions import Edition, load_edition
from nao_analysis.errors import NaoError
from nao_analysis.figure import RUN_FILE, STATUS_UNAVAILABLE, published_checks
from nao_analysis.hashing import hash_bytes, hash_json, hash_tree
from nao_analysis.kernels import KernelPool
from nao_analysis.params import FigureSpec, load_all
from nao_analysis.sources.registry import expected_hash, load_registry

KERNEL_NAME = "nao-analysis"
RECONCILIATION_COLUMNS = ["check", "figure", "published", "rebuilt", "tolerance", "unit", "status", "note", "description", "citation"]
ERROR_NAMES = {
    "NaoError",
    "EditionError",
    "SourceError",
    "SourceUnavailableError",
    "HashMismatchError",
    "DownloadError",
    "UnsafeArchiveError",
    "ReaderError",
    "CrosswalkError",
    "AnalysisError",
}


@dataclass
class FigureResult:
    figure: str
    status: str  # built | up to date | skipped | failed
    seconds: float = 0.0
    message: str = ""
    record: dict[str, Any] | None = None


@dataclass
class BuildResult:
    edition: str
    results: list[FigureResult] = field(default_factory=list)
    seconds: float = 0.0

    def exit_code(self, strict: bool) -> int:
        if any(r.status == "failed" for r in self.results):
            return 1
        if strict and any(r.status == "skipped" for r in self.results):
            return 1
        if strict and any(row.get("status") == "fail" for r in self.results if r.record for row in r.record.get("reconciliation", [])):
            return 1
        return 0


PACKAGE_DIR = Path(__file__).resolve().parent


def package_hash() -> str:
    """Code a notebook run depends on. The report layer is left out: it only renders finished runs,
    so a change there re-renders the site (see :func:`site_key`) without re-running any figure."""
    return hash_bytes(*(f"{p.relative_to(PACKAGE_DIR)}:{hash_bytes(p.read_bytes())}".encode() for p in _package_files()))


def _package_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts and p.parent.name != "report")


def site_key(edition: str, results: list[FigureResult]) -> str:
    """What the site pages depend on: the report code and each figure's stamp and status."""
    stamps = []
    for result in results:
        stamp_file = _stamp_path(edition, result.figure)
        state = "current" if result.status in ("built", "up to date") else f"{result.status}: {result.message}"
        stamps.append((result.figure, state, stamp_file.read_text() if stamp_file.exists() else ""))
    return hash_bytes(hash_tree(PACKAGE_DIR / "report", "*.py").encode(), hash_json(stamps).encode())


def _source_ids_in(params: dict[str, Any], known: set[str]) -> list[str]:
    found = []
    for value in params.values():
        values = value if isinstance(value, list) else [value]
        found += [v for v in values if isinstance(v, str) and v in known]
    return found


def figure_key(spec: FigureSpec, edition: Edition, params: dict[str, Any], shared: dict[str, str]) -> str:
    notebook = paths.notebooks_dir() / spec.notebook
    header = edition.header.model_dump(mode="json")
    header.pop("figures", None)
    return hash_bytes(
        notebook.read_bytes(),
        hash_json(params).encode(),
        hash_json(header).encode(),
        shared["package"].encode(),
        shared["manual"].encode(),
        shared["registry"].encode(),
    )


def _stamp_path(edition: str, figure: str) -> Path:
    return paths.reports_dir(edition) / "_stamps" / f"{figure}.json"


def _inputs_unchanged(stamp: dict[str, Any]) -> bool:
    registry = load_registry()
    for source_id, recorded_sha in stamp.get("inputs", {}).items():
        try:
            source = registry.get(source_id)
        except NaoError:
            return False
        want, _ = expected_hash(source, source.primary)
        if want != recorded_sha:
            return False
    return True


def is_up_to_date(edition: str, spec: FigureSpec, key: str) -> bool:
    stamp_file = _stamp_path(edition, spec.figure_id)
    if not stamp_file.exists():
        return False
    stamp = json.loads(stamp_file.read_text())
    if stamp.get("key") != key or not _inputs_unchanged(stamp):
        return False
    return all((paths.project_root() / rel).exists() for rel in stamp.get("outputs", []))


def unavailable_inputs(params: dict[str, Any]) -> list[str]:
    """Inputs a figure names that can be neither found locally nor downloaded here."""
    from nao_analysis.settings import Settings
    from nao_analysis.sources import status

    registry = load_registry()
    missing = []
    for source_id in _source_ids_in(params, set(registry.ids())):
        if status(registry.get(source_id), Settings.from_environment()) == "missing offline" and source_id not in missing:
            missing.append(source_id)
    return missing


def _error_line(exc: BaseException) -> tuple[str, str]:
    """(status, one-line message) for a failed notebook run."""
    ename = getattr(exc, "ename", exc.__class__.__name__)
    evalue = getattr(exc, "evalue", str(exc))
    if ename == "SourceUnavailableError":
        return "skipped", evalue
    if ename in ERROR_NAMES:
        return "failed", evalue
    first = (evalue or "").strip().splitlines()[0] if evalue else ""
    return "failed", f"{ename}: {first} (see the executed notebook for the traceback)"


def _clear_outputs(edition: str, spec: FigureSpec) -> None:
    for folder in (paths.figures_dir(edition), paths.reports_dir(edition)):
        for old in folder.glob(f"{spec.stem}*"):
            if old.is_file():
                old.unlink()
    _stamp_path(edition, spec.figure_id).unlink(missing_ok=True)


def run_figure(edition: Edition, spec: FigureSpec, overrides: dict[str, Any], key: str, pool=None) -> FigureResult:
    """Execute one notebook in a staging folder and publish its outputs only if it succeeds."""
    import papermill

    from nao_analysis.report.notebook_html import notebook_to_html

    started = time.perf_counter()
    reports = paths.reports_dir(edition.name)
    figures = paths.figures_dir(edition.name)
    reports.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{spec.figure_id}-", dir=reports))
    executed = staging / spec.notebook
    try:
        (staging / RUN_FILE).write_text(json.dumps({"overrides": {spec.figure_id: overrides} if overrides else {}}))
        try:
            options = dict(
                parameters={"edition": edition.name, "output_dir": str(staging)},
                kernel_name=KERNEL_NAME,
                cwd=str(paths.notebooks_dir()),
                progress_bar=False,
                log_output=False,
                report_mode=False,
            )
            if pool is None:
                papermill.execute_notebook(str(paths.notebooks_dir() / spec.notebook), str(executed), **options)
            else:
                with pool.kernel() as manager:
                    papermill.execute_notebook(str(paths.notebooks_dir() / spec.notebook), str(executed), km=manager, **options)
        except Exception as exc:  # papermill wraps the notebook's exception
            status, message = _error_line(exc)
            _clear_outputs(edition.name, spec)
            if executed.exists() and status == "failed":
                shutil.copyfile(executed, reports / f"{spec.stem}.failed.ipynb")
            return FigureResult(spec.figure_id, status, time.perf_counter() - started, message)
        record_file = staging / f"{spec.stem}.json"
        if not record_file.exists():
            _clear_outputs(edition.name, spec)
            return FigureResult(spec.figure_id, "failed", time.perf_counter() - started, f"{spec.notebook}: did not call fig.finish()")
        record = json.loads(record_file.read_text())
        record["seconds"] = round(time.perf_counter() - started, 2)
        record_file.write_text(json.dumps(record, indent=2) + "\n")
        html = notebook_to_html(executed, record)
        (staging / f"{spec.stem}.html").write_text(html, encoding="utf-8")

        _clear_outputs(edition.name, spec)
        outputs = []
        for produced in sorted(staging.iterdir()):
            if produced.name == RUN_FILE:
                continue
            destination = figures if produced.suffix in {".png", ".svg", ".csv"} or produced.name.endswith(".table.html") else reports
            os.replace(produced, destination / produced.name)
            outputs.append(
                str((destination / produced.name).relative_to(paths.project_root()))
                if destination.is_relative_to(paths.project_root())
                else str(destination / produced.name)
            )
        stamp = {"key": key, "inputs": {k: v["sha256"] for k, v in record["inputs"].items()}, "outputs": outputs}
        stamp_file = _stamp_path(edition.name, spec.figure_id)
        stamp_file.parent.mkdir(parents=True, exist_ok=True)
        stamp_file.write_text(json.dumps(stamp, indent=2))
        return FigureResult(spec.figure_id, "built", time.perf_counter() - started, record=record)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load_record(edition: str, spec: FigureSpec) -> dict[str, Any] | None:
    path = paths.reports_dir(edition) / f"{spec.stem}.json"
    return json.loads(path.read_text()) if path.exists() else None


def unavailable_rows(figure_id: str, reason: str) -> list[dict[str, Any]]:
    """Reconciliation rows for a figure that could not be built: published values stay visible."""
    rows = []
    for check, spec in published_checks(figure_id).items():
        rows.append(
            {
                "check": check,
                "figure": figure_id,
                "published": spec["published"],
                "rebuilt": None,
                "tolerance": spec.get("tolerance", 0),
                "unit": spec.get("unit", ""),
                "status": STATUS_UNAVAILABLE,
                "note": reason,
                "description": spec.get("description", ""),
                "citation": spec.get("citation", ""),
            }
        )
    return rows


def write_reconciliation(edition: str, results: list[FigureResult]) -> Path:
    rows: list[dict[str, Any]] = []
    for result in results:
        if result.record:
            rows += result.record.get("reconciliation", [])
        else:
            rows += unavailable_rows(result.figure, f"figure {result.status}: {result.message}")
    target = paths.reports_dir(edition) / "reconciliation.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECONCILIATION_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in RECONCILIATION_COLUMNS})
    os.replace(tmp, target)
    return target


def git_commit() -> str:
    head = paths.project_root() / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_path = paths.project_root() / ".git" / ref[5:]
            if ref_path.exists():
                return ref_path.read_text().strip()
            packed = paths.project_root() / ".git" / "packed-refs"
            for line in packed.read_text().splitlines() if packed.exists() else []:
                if line.endswith(ref[5:]):
                    return line.split()[0]
            return "unknown"
        return ref
    except OSError:
        return "unknown"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    names = [
        "pandas",
        "numpy",
        "geopandas",
        "matplotlib",
        "mapclassify",
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


def write_manifest(edition: Edition, results: list[FigureResult], seconds: float, overrides: list[str]) -> Path:
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
        "git_commit": git_commit(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "package_versions": package_versions(),
        "figures": [{"figure": r.figure, "status": r.status, "seconds": round(r.seconds, 2), "message": r.message} for r in results],
        "inputs": inputs,
        "total_seconds": round(seconds, 2),
    }
    target = paths.reports_dir(edition.name) / "manifest.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, target)
    return target


def build(
    edition_name: str,
    *,
    only: list[str] | None = None,
    overrides: list[str] | None = None,
    jobs: int | None = None,
    force: bool = False,
    log=print,
    warm_kernels: bool = True,
) -> BuildResult:
    """Build the figures of an edition. See the module docstring for the rules.

    ``warm_kernels`` runs the notebooks in a pool of reused, pre-imported kernels (one per job),
    wiping each kernel's namespace between notebooks; ``False`` starts a fresh kernel per notebook.
    """
    started = time.perf_counter()
    edition = load_edition(edition_name, overrides)
    specs = load_all()
    wanted = [f for f in edition.figures if not only or f in only]
    if only:
        unknown = sorted(set(only) - set(edition.figures))
        if unknown:
            raise NaoError(f"--only {','.join(unknown)}: not figures of edition {edition_name!r} - figures: {', '.join(edition.figures)}")
    override_map: dict[str, dict[str, Any]] = {}
    from nao_analysis.editions import parse_override

    for item in overrides or []:
        fid, key, value = parse_override(item)
        override_map.setdefault(fid, {})[key] = value

    shared = {
        "package": package_hash(),
        "manual": hash_tree(paths.manual_dir()),
        "registry": hash_bytes(paths.registry_path().read_bytes(), paths.pins_path().read_bytes() if paths.pins_path().exists() else b""),
    }
    result = BuildResult(edition.name)
    to_run: list[tuple[FigureSpec, str]] = []
    outcomes: dict[str, FigureResult] = {}
    for figure_id in wanted:
        spec = specs[figure_id]
        params = edition.figures[figure_id].model_dump(mode="json")
        if not (paths.notebooks_dir() / spec.notebook).exists():
            _clear_outputs(edition.name, spec)
            outcomes[figure_id] = FigureResult(
                figure_id, "failed", message=f"notebooks/{spec.notebook}: notebook missing - add it or remove {figure_id} from the edition"
            )
            continue
        key = figure_key(spec, edition, params, shared)
        if not force and is_up_to_date(edition.name, spec, key):
            outcomes[figure_id] = FigureResult(figure_id, "up to date", record=_load_record(edition.name, spec))
            continue
        missing = unavailable_inputs(params)
        if missing:
            _clear_outputs(edition.name, spec)
            outcomes[figure_id] = FigureResult(
                figure_id,
                "skipped",
                message=(
                    f"source unavailable offline: {', '.join(missing)} "
                    f"(run `nao-analysis fetch {' '.join(missing)}` with internet, or set NAO_DATA_MIRROR)"
                ),
            )
            continue
        to_run.append((spec, key))

    if to_run:
        jobs = max(1, jobs or os.cpu_count() or 1)
        log(
            f"building {len(to_run)} figure(s) of '{edition.name}' with {min(jobs, len(to_run))} job(s): "
            + ", ".join(s.figure_id for s, _ in to_run)
        )
        workers = min(jobs, len(to_run))
        kernels = KernelPool(KERNEL_NAME, workers, str(paths.notebooks_dir())) if warm_kernels else nullcontext()
        with kernels as pool, ThreadPoolExecutor(max_workers=workers) as executor:
            futures = {
                spec.figure_id: executor.submit(run_figure, edition, spec, override_map.get(spec.figure_id, {}), key, pool)
                for spec, key in to_run
            }
            for figure_id, future in futures.items():
                outcomes[figure_id] = future.result()

    result.results = [outcomes[f] for f in wanted]
    if only:
        # Keep the reconciliation and site whole: figures not rebuilt this time keep their last record.
        for figure_id in edition.figures:
            if figure_id not in outcomes:
                record = _load_record(edition.name, specs[figure_id])
                status = "up to date" if record else "not built"
                result.results.append(FigureResult(figure_id, status, record=record, message="" if record else "not built yet"))
        order = list(edition.figures)
        result.results.sort(key=lambda r: order.index(r.figure))
    result.seconds = time.perf_counter() - started
    site_stamp = paths.reports_dir(edition.name) / "_stamps" / "site.json"
    key = site_key(edition.name, result.results)
    site_current = site_stamp.exists() and site_stamp.read_text() == key and (paths.reports_dir(edition.name) / "index.html").exists()
    if to_run or force or not site_current:
        write_reconciliation(edition.name, result.results)
        write_manifest(edition, result.results, result.seconds, overrides or [])
        from nao_analysis.report.site import write_site

        if not to_run:
            rerender_notebook_pages(edition.name, result.results)
        write_site(edition, result.results)
        site_stamp.parent.mkdir(parents=True, exist_ok=True)
        site_stamp.write_text(site_key(edition.name, result.results))
    result.seconds = time.perf_counter() - started
    return result


def rerender_notebook_pages(edition: str, results: list[FigureResult]) -> None:
    """Re-render the code-hidden pages of figures that were not re-run (the report code changed)."""
    from nao_analysis.report.notebook_html import notebook_to_html

    for result in results:
        if not result.record:
            continue
        executed = paths.reports_dir(edition) / f"{result.record['stem']}.ipynb"
        if executed.exists():
            page = executed.with_suffix(".html")
            tmp = page.with_name(f".{page.name}.tmp")
            tmp.write_text(notebook_to_html(executed, result.record), encoding="utf-8")
            os.replace(tmp, page)


def summary_table(result: BuildResult) -> str:
    lines = [f"{'figure':<8} {'status':<11} {'seconds':>8}  message"]
    for r in result.results:
        lines.append(f"{r.figure:<8} {r.status:<11} {r.seconds:>8.1f}  {r.message}")
    counts: dict[str, int] = {}
    for r in result.results:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(f"edition {result.edition}: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" in {result.seconds:.1f}s")
    return "\n".join(lines)
