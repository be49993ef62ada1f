"""The README's "Updating for a new year" section works when copied literally (marked slow).

Its shell blocks are extracted and run, in order, with bash in a scratch clone of the repository (``git clone`` of
this checkout's committed state into a temporary folder), with the mirror and no network (``NAO_OFFLINE=1``). A
block whose first line starts ``# needs internet`` is skipped, and the reason is recorded in the test report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Updating for a new year"
NEEDS_INTERNET = "# needs internet"


def new_year_blocks(readme: str) -> list[str]:
    """The ```bash blocks of the README's new-year section, in order."""
    start = readme.index(SECTION)
    following = readme.find("\n## ", start + len(SECTION))
    section = readme[start : following if following != -1 else len(readme)]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_runnable_and_marked_blocks():
    blocks = new_year_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    runnable = [b for b in blocks if not b.startswith(NEEDS_INTERNET)]
    assert len(runnable) >= 3 and len(blocks) > len(runnable)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, raw_file):
    """A clone of this checkout with the README's runnable blocks run in it; returns (clone, [(block, result)])."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path_factory.mktemp("readme") / "nao-analysis"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("NAO_") or key in {"NAO_DATA_MIRROR", "NAO_NOTEBOOK_TIMEOUT"}
    }
    env.update(
        NAO_OFFLINE="1",
        NAO_PROJECT_ROOT=str(clone),
        # The clone's own package, not this checkout's editable install.
        PYTHONPATH=str(clone / "src") + os.pathsep + env.get("PYTHONPATH", ""),
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    runs = []
    for block in new_year_blocks((clone / "README.md").read_text(encoding="utf-8")):
        if block.startswith(NEEDS_INTERNET):
            warnings.warn(f"README block skipped ({block.splitlines()[0].lstrip('# ')})", stacklevel=1)
            continue
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=clone, env=env, capture_output=True, text=True)
        runs.append((block, result))
        if result.returncode != 0:
            break
    return clone, runs


def test_every_runnable_block_exits_zero(scratch):
    _, runs = scratch
    failed = [(block.splitlines()[-1], result.stderr.strip().splitlines()[-1:]) for block, result in runs if result.returncode != 0]
    assert not failed


def test_roll_asks_only_for_files_the_mirror_does_not_have(scratch):
    _, runs = scratch
    needs = [line for line in runs[0][1].stdout.splitlines() if line.startswith("needs:")]
    assert [line.split("nao-analysis sources add ")[1].split()[0] for line in needs] == [
        "ndtms_viewit_adults_england_to_2022_23",
        "csew_drug_misuse_2022_23",
    ]


def test_rolled_figure_3_is_built_with_the_outturn_label(scratch):
    clone, _ = scratch
    record = json.loads(next((clone / "reports" / "next-year").glob("fig03_*.json")).read_text())
    # The label is computed by Figure 3's recipe from the parameters: it is in the built record's text, not a parameter.
    assert (record["params"]["target_year"], record["text"]["run_label"]) == ("2022-23", "Outturn basis (RO3)")


def test_added_source_is_gone_after_remove(scratch):
    clone, _ = scratch
    assert "ro3_outturn_2022_23_by_hand" not in (clone / "data" / "sources.yaml").read_text()


def test_diff_page_is_written(scratch):
    clone, _ = scratch
    assert "Differences between editions offline and next-year" in (
        clone / "reports" / "diff-offline-vs-next-year" / "diff.html"
    ).read_text(encoding="utf-8")
