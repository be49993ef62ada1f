"""`make bench`: cold build, no-op rebuild and bare compute of an edition, with peak memory.

- cold: outputs and the parsed-file cache cleared, raw files already cached; `nao-analysis build`
  (best of BENCH_REPEAT=2). Every notebook runs in a pristine kernel forked from a pre-imported parent;
  the parent's start-up (the one import of pandas, matplotlib, geopandas...) is part of this time.
- fresh: the same cold build with a newly started kernel per notebook (`--kernels fresh`), the other
  way to keep figures isolated: the cost of isolation without the fork server.
- noop: the same command again, nothing changed.
- bare: the same figures computed in ONE Python process (imports included), without papermill,
  kernels or HTML rendering - the cost of the analysis itself. It calls the figure recipes
  (`nao_analysis.figures.runtime.run`) when they exist, else executes the notebooks' code cells.
- cores: CPU seconds of the cold build and all its processes per wall-clock second (2.0 = two cores
  busy throughout), to check that `--jobs` keeps the cores busy.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EDITION = os.environ.get("BENCH_EDITION", "offline")
REPEAT = int(os.environ.get("BENCH_REPEAT", "2"))
JOBS = os.environ.get("BENCH_JOBS", "")

BARE_SCRIPT = r"""
import json, sys, time, resource
from pathlib import Path
started = time.perf_counter()
edition, out = sys.argv[1], Path(sys.argv[2])
from nao_analysis.editions import load_edition
from nao_analysis.figures.runtime import run as run_recipe
from nao_analysis.settings import Settings
settings = Settings.from_environment()
for figure_id in load_edition(edition, settings=settings).figures:
    run_recipe(figure_id, edition=edition, output_dir=out / figure_id, settings=settings)
    import matplotlib.pyplot as plt
    plt.close("all")
print(json.dumps({"seconds": time.perf_counter() - started, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the command and every process it waited for, and its output."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return time.perf_counter() - started, children_cpu() - cpu, done.stdout


def clear_outputs() -> None:
    for folder in (ROOT / "figures" / EDITION, ROOT / "reports" / EDITION, ROOT / "data" / "processed" / "parsed"):
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    env = dict(os.environ, MPLBACKEND="Agg")
    cli = str(BIN / "nao-analysis")
    build = [cli, "build", "--edition", EDITION, *(["--jobs", JOBS] if JOBS else [])]
    # Offline: the bench measures builds from cached files, never a download attempt for a source missing here.
    subprocess.run([cli, "fetch", "--all"], cwd=ROOT, env=dict(env, NAO_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Each timing is the best of REPEAT runs: this is a shared 2-core machine, and noise only ever adds time.
    # Cold and bare runs alternate, so that the machine speeding up or slowing down during the bench (seen here
    # to move the same run by a third) moves both sides of the cold/bare ratio alike.
    colds, cores, noops, freshes, bares, server_starts = [], [], [], [], [], []
    for _ in range(REPEAT):
        clear_outputs()
        wall, cpu, output = run([*build, "--kernels", "fork"], env)
        colds.append(wall)
        cores.append(cpu / wall)
        server_starts += [float(s) for s in re.findall(r"kernel fork server ready in ([\d.]+)s", output)]
        noops.append(run(build, env)[0])
        # Timed as a whole process, imports included.
        with tempfile.TemporaryDirectory() as scratch:
            bares.append(run([sys.executable, "-c", BARE_SCRIPT, EDITION, scratch], env)[0])
        clear_outputs()
        freshes.append(run([*build, "--kernels", "fresh"], env)[0])
    cold, noop, fresh, bare = min(colds), min(noops), min(freshes), min(bares)
    busy = cores[colds.index(cold)]
    # The largest single process of all the runs: a build's own, one of its kernels, or a bare run.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"edition={EDITION} figures={len(list((ROOT / 'reports' / EDITION).glob('*.ipynb')))} "
        f"peak_memory={peak_mb:.0f}MB (largest single process) bare_via=recipes"
    )
    runs = {
        "cold": [f"{c:.1f}" for c in colds],
        "fresh": [f"{f:.1f}" for f in freshes],
        "noop": [f"{n:.2f}" for n in noops],
        "bare": [f"{b:.1f}" for b in bares],
        "cold/bare": [f"{c / b:.2f}" for c, b in zip(colds, bares, strict=True)],
        "cores": [f"{c:.2f}" for c in cores],
        "fork_server_start": [f"{s:.1f}" for s in server_starts],
    }
    print("runs: " + " ".join(f"{name}={' '.join(values)}" for name, values in runs.items()))
    print(
        f"isolation: every notebook in its own pristine process; fork server (default) cold={cold:.1f}s, "
        f"fresh kernel per notebook cold={fresh:.1f}s, saving {fresh - cold:.1f}s; the fork server's start-up is included"
    )
    print(f"bench: cold={cold:.1f} noop={noop:.2f} bare={bare:.1f} cold/bare={cold / bare:.2f} fresh={fresh:.1f} cores={busy:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
