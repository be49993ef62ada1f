"""`make bench`: cold build, no-op rebuild and bare compute of an edition, with peak memory.

- cold: outputs and the parsed-file cache cleared, raw files already cached; `nao-analysis build` (best of BENCH_REPEAT=2).
- noop: the same command again, nothing changed.
- bare: the same notebooks' code executed in ONE Python process (imports included), without
  papermill, kernels or HTML rendering - the cost of the analysis itself.
"""

from __future__ import annotations

import json
import os
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

BARE_SCRIPT = r"""
import json, sys, time, resource
from pathlib import Path
started = time.perf_counter()
edition, out = sys.argv[1], Path(sys.argv[2])
from nao_analysis.editions import load_edition
from nao_analysis.params import load_all
specs = load_all()
for figure_id in load_edition(edition).figures:
    notebook = json.loads((Path("notebooks") / specs[figure_id].notebook).read_text())
    namespace = {"__name__": "__bench__"}
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source += f"\nedition = {edition!r}\noutput_dir = {str(out / figure_id)!r}\n"
        exec(compile(source, f"{figure_id}.ipynb", "exec"), namespace)
    import matplotlib.pyplot as plt
    plt.close("all")
print(json.dumps({"seconds": time.perf_counter() - started, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    env = dict(os.environ, MPLBACKEND="Agg")
    cli = str(BIN / "nao-analysis")
    subprocess.run([cli, "fetch", "--all"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Each timing is the best of REPEAT runs: this is a shared 2-core machine, and noise only ever adds time.
    colds, noops = [], []
    for _ in range(REPEAT):
        for folder in (ROOT / "figures" / EDITION, ROOT / "reports" / EDITION, ROOT / "data" / "processed" / "parsed"):
            shutil.rmtree(folder, ignore_errors=True)
        colds.append(run([cli, "build", "--edition", EDITION], env))
        noops.append(run([cli, "build", "--edition", EDITION], env))
    cold, noop = min(colds), min(noops)
    peak_build_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [sys.executable, "-c", BARE_SCRIPT, EDITION, scratch], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        bare_started = json.loads(result.stdout.strip().splitlines()[-1])
    # Time the bare run as a whole process, imports included.
    bares = []
    for _ in range(REPEAT):
        with tempfile.TemporaryDirectory() as scratch:
            bares.append(run([sys.executable, "-c", BARE_SCRIPT, EDITION, scratch], env))
    bare = min(bares)
    peak_mb = max(peak_build_kb, bare_started["maxrss_kb"]) / 1024
    print(
        f"edition={EDITION} figures={len(list((ROOT / 'reports' / EDITION).glob('*.ipynb')))} "
        f"peak_memory={peak_mb:.0f}MB (largest single process)"
    )
    runs = {"cold": [f"{c:.1f}" for c in colds], "noop": [f"{n:.2f}" for n in noops], "bare": [f"{b:.1f}" for b in bares]}
    print("runs: " + " ".join(f"{name}={' '.join(values)}" for name, values in runs.items()))
    print(f"bench: cold={cold:.1f} noop={noop:.2f} bare={bare:.1f} cold/bare={cold / bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
