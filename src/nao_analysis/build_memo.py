"""Answer "nothing changed" without planning the build again, as make and ninja do: from file stats.

A build plans each figure from content hashes (:func:`nao_analysis.build._plan`), which needs the editions,
the recipes and the registry parsed - about a second of imports and YAML. When a build ends with every figure
built or up to date, this module records the stats (size, modification time in nanoseconds, inode) of every
file that plan read and every output it checked, with the request (edition, overrides, settings, Python).
The next identical request whose files all stat the same gets the recorded summary back at once.

What keeps the shortcut from ever hiding a change:

- the *inputs* are stat-ed when the build starts, before anything is read, so an edit made while a build
  runs leaves a memo that no longer matches and the next build plans in full;
- the trees (package, notebooks, manual data, editions) count their directories too, so an added or
  removed file shows;
- anything not recorded here - a changed request, a figure skipped or failed, ``--only``, ``--force`` -
  plans in full; a full plan that finds everything up to date writes a fresh memo.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nao_analysis import __version__
from nao_analysis.safe_io import write_text_atomic
from nao_analysis.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent
MEMO_NAME = "memo.json"
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}


def memo_path(settings: Settings, edition: str) -> Path:
    return settings.reports_dir(edition) / "_stamps" / MEMO_NAME


def request(settings: Settings, edition: str, overrides: Iterable[str] | None) -> dict[str, Any]:
    """Everything besides files that decides a plan."""
    return {
        "edition": edition,
        "overrides": list(overrides or []),
        "settings": json.loads(settings.to_json()),
        "python": sys.version,
        "executable": sys.executable,
        "version": __version__,
    }


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _tree(root: Path) -> dict[str, list[int] | None]:
    """Every file and directory under ``root`` (caches and checkpoints excepted) with its stat."""
    found: dict[str, list[int] | None] = {str(root): _stat(root)}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in [*dirs, *sorted(files)]:
            path = Path(folder) / name
            found[str(path)] = _stat(path)
    return found


def input_stats(settings: Settings, edition: str) -> dict[str, list[int] | None]:
    """Stats of everything a plan reads before it looks at the outputs."""
    stats: dict[str, list[int] | None] = {}
    for root in (PACKAGE_DIR, settings.notebooks_dir, settings.manual_dir, settings.editions_dir):
        stats |= _tree(root)
    for path in (settings.sources_file, settings.pins_file, Path(edition)):
        stats[str(path)] = _stat(path)
    return stats


def output_stats(settings: Settings, edition: str, outputs: Iterable[str]) -> dict[str, list[int] | None]:
    """Stats of the stamps, the outputs they list and the site's front page."""
    stamps = settings.reports_dir(edition) / "_stamps"
    paths = [*(settings.output_root / rel for rel in outputs), settings.reports_dir(edition) / "index.html"]
    if stamps.is_dir():
        paths += sorted(p for p in stamps.iterdir() if p.name != MEMO_NAME)
    return {str(p): _stat(p) for p in paths}


def write(
    settings: Settings,
    edition: str,
    *,
    started_inputs: dict[str, list[int] | None],
    asked: dict[str, Any],
    rows: list[list[str]],
    exit_codes: dict[str, int],
) -> None:
    """Record a build whose every figure ended current; ``started_inputs`` were taken before it read anything."""
    outputs: list[str] = []
    for figure, *_ in rows:
        try:
            outputs += json.loads((settings.reports_dir(edition) / "_stamps" / f"{figure}.json").read_text())["outputs"]
        except (OSError, ValueError, KeyError, TypeError):
            forget(settings, edition)  # an unreadable stamp: no memo, the next build plans in full
            return
    memo = {
        "request": asked,
        "inputs": started_inputs,
        "outputs": outputs,
        "output_stats": output_stats(settings, edition, outputs),
        "rows": rows,
        "exit_codes": exit_codes,
    }
    write_text_atomic(memo_path(settings, edition), json.dumps(memo, sort_keys=True))


def forget(settings: Settings, edition: str) -> None:
    memo_path(settings, edition).unlink(missing_ok=True)


def recall(settings: Settings, edition: str, asked: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded summary when nothing it depends on has changed since, else None."""
    try:
        memo = json.loads(memo_path(settings, edition).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(memo, dict) or memo.get("request") != asked:
        return None
    if memo.get("inputs") != input_stats(settings, edition):
        return None
    if memo.get("output_stats") != output_stats(settings, edition, memo.get("outputs") or []):
        return None
    return memo


def format_summary(edition: str, rows: list[list[str]], seconds: float) -> str:
    """The build's closing table: one line per figure, then the counts."""
    lines = [f"{'figure':<8} {'status':<11} {'seconds':>8}  message"]
    counts: dict[str, int] = {}
    for figure, status, figure_seconds, message in rows:
        lines.append(f"{figure:<8} {status:<11} {float(figure_seconds):>8.1f}  {message}")
        counts[status] = counts.get(status, 0) + 1
    lines.append(f"edition {edition}: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" in {seconds:.1f}s")
    return "\n".join(lines)
