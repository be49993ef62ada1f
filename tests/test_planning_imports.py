"""Planning a build imports none of the data libraries.

``nao-analysis build`` plans in its main process (it loads the edition, which validates every figure's
parameters with its recipe's ``Params``, and reads every recipe's ``FIGURE``), while the kernel fork
server imports pandas and the rest on the same cores. The main process never runs a recipe, so any of
those imports it pays only delays every figure. Recipes import them inside ``run()`` instead.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

DATA_LIBRARIES = ("pandas", "numpy", "pandera", "networkx", "geopandas", "matplotlib")
DATA_LAYERS = ("nao_analysis.analysis", "nao_analysis.readers", "nao_analysis.sources")

# What the build's planning touches of each recipe: the edition (validated by each Params), the specs,
# and each recipe's text templates.
PLAN = """
from nao_analysis import figures
from nao_analysis.editions import load_edition
from nao_analysis.settings import Settings

load_edition("offline", settings=Settings.from_environment())
for figure_id, spec in figures.load_specs().items():
    spec.params.model_json_schema()
    getattr(figures.recipe(figure_id), "TEXT", None)
"""


def modules_loaded_by(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code`` (this test process has long since imported everything)."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"the probe failed:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def data_libraries_in(modules: list[str]) -> list[str]:
    return sorted({name.partition(".")[0] for name in modules} & set(DATA_LIBRARIES))


@pytest.fixture(scope="module")
def modules_after_planning() -> list[str]:
    return modules_loaded_by(PLAN)


def test_planning_imports_no_data_library(modules_after_planning):
    leaked = data_libraries_in(modules_after_planning)
    assert not leaked, f"planning imported {', '.join(leaked)}; move those imports into the recipe's run() or the helper that uses them"


def test_planning_imports_no_analysis_reader_or_source_module(modules_after_planning):
    leaked = [name for name in modules_after_planning if name.startswith(DATA_LAYERS)]
    assert not leaked, f"planning imported {', '.join(leaked)}; move those imports into the recipe's run() or the helper that uses them"


def test_importing_the_key_facts_module_imports_no_data_library():
    # The report imports it for its constants, the build only after the figures: only making the table needs pandera.
    leaked = data_libraries_in(modules_loaded_by("import nao_analysis.figures.key_facts"))
    assert not leaked, f"importing nao_analysis.figures.key_facts imported {', '.join(leaked)}; import them where the table is made"


def test_the_fork_server_starts_before_the_rest_of_the_build_is_imported():
    probe = """
from nao_analysis.build_start import start_early
from nao_analysis.settings import Settings

early = start_early(Settings.from_environment(), "offline", "fork")
early.server.stop(now=True)
"""
    assert "nao_analysis.build" not in modules_loaded_by(probe)
