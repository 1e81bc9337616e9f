"""The type stubs as a user's type checker sees them: mypy --strict on a script written the way
users write shmkit code (functions that return from inside a `with` block, zero-copy frames)."""
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


def test_mypy_accepts_a_function_that_returns_inside_a_with_block(tmp_path: Path) -> None:
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (Debian: python3-mypy)")
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    # The user's code under --strict; the package's own modules are not what is judged here.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n\n[mypy-shmkit.*]\nignore_errors = True\n")
    env = dict(os.environ)
    if "/site-packages/" not in shmkit.__file__:
        # The build tree's copy: tell mypy where it is. An installed copy (py.typed) it finds
        # itself, and refuses a site-packages folder on MYPYPATH.
        env["MYPYPATH"] = str(Path(shmkit.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), str(script)],
        capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
