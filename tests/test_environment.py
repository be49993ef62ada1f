"""The lock file and environment.yml pin the same versions; the project kernel is named."""

from __future__ import annotations

from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {name.lower().replace("_", "-"): version for name, _, version in (p.partition("==") for p in pip_section)}


def test_environment_yml_pins_match_the_lock():
    assert _environment_pins() == _lock_pins()


def test_every_direct_dependency_is_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [Requirement(d) for d in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = _lock_pins()
    missing = [str(d) for d in direct if d.name.lower().replace("_", "-") not in pins]
    assert missing == []


def test_every_pin_meets_the_projects_own_bounds():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _lock_pins()
    bounded = [Requirement(d) for d in project["dependencies"] if Requirement(d).specifier]
    outside = [f"{r} (locked {pins[r.name]})" for r in bounded if not r.specifier.contains(pins[r.name], prereleases=True)]
    assert bounded and outside == []


def test_environment_python_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
