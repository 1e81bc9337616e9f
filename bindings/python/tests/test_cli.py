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


@pytest.fixture
def non_utf8_object():
    """A shared-memory object whose name is not UTF-8 (Linux allows any bytes but '/' and NUL):
    its raw name, removed afterwards."""
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm")
    raw = b"/shmkit-test-\xff\xfe" + str(os.getpid()).encode()
    path = b"/dev/shm" + raw
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.close(fd)
    try:
        yield raw
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_list_segments_decodes_names_that_are_not_utf8(non_utf8_object):
    names = [row["name"] for row in shmkit.list_segments(include_foreign=True)]
    expected = os.fsdecode(non_utf8_object)  # surrogateescape, as os.listdir() gives it
    assert expected in names
    assert os.fsencode(expected) == non_utf8_object
    shmkit.remove(expected)  # the same name back again: the same bytes
    assert not os.path.exists(b"/dev/shm" + non_utf8_object)


@pytest.mark.parametrize("command", COMMANDS)
def test_ls_json_stays_valid_with_names_that_are_not_utf8(command, non_utf8_object):
    listed = run(command, "ls", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    shown = non_utf8_object.decode("utf-8", "backslashreplace")  # "\xff" as four characters
    row = next((r for r in rows if r["name"] == shown), None)
    assert row is not None, rows
    assert bytes.fromhex(row["name_hex"]) == non_utf8_object
    assert row["state"] == "foreign"
