"""The type stubs as a user's type checker sees them: mypy --strict on a script written the way
users write shmkit code (functions that return from inside a `with` block, zero-copy frames),
and on the package itself (its modules and stubs)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import shmkit

USER_SCRIPT = """
    import numpy as np
    import shmkit

    def newest(name: str) -> bytes:
        with shmkit.BroadcastReader.open(name) as reader:
            return reader.read(timeout=1.0)

    def send(name: str, payload: bytes) -> int:
        with shmkit.SpscProducer.open(name) as producer:
            producer.push(payload)
            return len(payload)

    def fill(name: str) -> None:
        with shmkit.ChannelWriter.open(name) as writer:
            with writer.reserve(16) as frame:
                frame[:4] = np.frombuffer(b"abcd", dtype=np.uint8)

    def first_byte(name: str) -> int:
        with shmkit.ChannelReader.open(name) as reader:
            with reader.read(timeout=1.0) as frame:
                return int(frame.data[0])
"""


def run_mypy(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    """mypy --strict on `targets`, finding this shmkit (the build tree's copy or an installed one)."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (Debian: python3-mypy)")
    env = dict(os.environ)
    if "/site-packages/" not in shmkit.__file__:
        # The build tree's copy: tell mypy where it is. An installed copy (py.typed) it finds
        # itself, and refuses a site-packages folder on MYPYPATH.
        env["MYPYPATH"] = str(Path(shmkit.__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
         *targets],
        capture_output=True, text=True, env=env, cwd=str(tmp_path))


def test_mypy_accepts_a_function_that_returns_inside_a_with_block(tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    result = run_mypy(tmp_path, str(script))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_itself_passes_mypy_strict(tmp_path: Path) -> None:
    # Its modules and stubs, as a user's --strict run that follows imports into shmkit sees them.
    result = run_mypy(tmp_path, "-p", "shmkit")
    assert result.returncode == 0, result.stdout + result.stderr
