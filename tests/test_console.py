"""The installed ``nao-analysis`` command ends the process itself once its work is done: its output must be
complete and its exit code main's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COMMAND = str(Path(sys.executable).parent / "nao-analysis")


def test_piped_output_is_complete_when_the_command_ends():
    done = subprocess.run([COMMAND, "editions"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["latest", "nao-2023", "offline"]


def test_the_exit_code_is_the_commands_own():
    done = subprocess.run([COMMAND, "build", "--edition", "no-such-edition"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("available editions: latest, nao-2023, offline")
