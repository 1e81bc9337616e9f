"""The shmkit command-line tool as the Python package installs it: `python -m shmkit` and the
`shmkit` console script run the tool inside the package with the same arguments and exit
status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import shmkit
from conftest import child_env, NO_HANG


def run(command: list, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *args], env=child_env(), capture_output=True, text=True, timeout=NO_HANG)


# `python -m shmkit`, and the console script pip puts beside the interpreter (only an installed
# package has one: `make test-pip` runs this file against one).
COMMANDS = [pytest.param([sys.executable, "-m", "shmkit"], id="python -m shmkit")]
SCRIPT = Path(sys.executable).with_name("shmkit.exe" if os.name == "nt" else "shmkit")
COMMANDS.append(pytest.param([str(SCRIPT)], id="console script",
                             marks=pytest.mark.skipif(not SCRIPT.is_file(),
                                                      reason="no console script: the package is not pip-installed")))


@pytest.mark.parametrize("command", COMMANDS)
def test_runs_the_tool_with_the_same_arguments_and_exit_status(command, name):
    help_ = run(command, "--help")
    assert help_.returncode == 0, help_.stderr
    assert help_.stdout.startswith("usage: shmkit <command>")
    shmkit.Block.create(name, 64).close()
    listed = run(command, "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    assert name in [row["name"] for row in json.loads(listed.stdout)]
    removed = run(command, "rm", name)
    assert removed.returncode == 0, removed.stderr
    with pytest.raises(shmkit.NotFound):
        shmkit.info(name)
    assert run(command, "rm", name).returncode == 1  # the tool's "failed"
    unknown = run(command, "no-such-command")
    assert unknown.returncode == 2  # the tool's "usage error"
    assert "unknown command 'no-such-command'" in unknown.stderr


def test_the_tool_is_inside_the_package():
    from shmkit import __main__ as entry
    assert entry.TOOL.parent.parent == Path(shmkit.__file__).parent
    assert entry.TOOL.is_file() and os.access(entry.TOOL, os.X_OK)
