"""Shared fixtures: unique segment names (removed afterwards), a helper that runs Python code in
a child process with the same shmkit on its path, and the C++ peer for cross-language tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import numpy as np
import pytest

import shmkit


@pytest.fixture
def name(request):
    """A fresh segment name; every segment whose name starts with it is removed afterwards."""
    base = f"/pyt-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    yield base
    for seg in shmkit.list_segments(include_foreign=True):
        if seg["name"].startswith(base):
            try:
                shmkit.remove(seg["name"])
            except shmkit.NotFound:
                pass


def child_env(env_extra: dict | None = None) -> dict:
    """The environment of a child interpreter: this one's, with the same shmkit importable, plus
    `env_extra`."""
    env = dict(os.environ)
    env.update(env_extra or {})
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def run_python(code: str, *args: str, timeout: float = 60.0, check: bool = True,
               env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `code` in a child interpreter (the one running the tests) with shmkit importable;
    `args` become sys.argv[1:], `env_extra` is added to its environment. Raises with the
    child's output if it fails and `check`."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=child_env(env_extra),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"child failed ({proc.returncode}):\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def start_python(code: str, *args: str) -> subprocess.Popen:
    """Starts `code` in a child interpreter without waiting (stdout/stderr piped, text mode)."""
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def xlang():
    """Path of the C++ peer program (tests/xlang.cpp), set by CMake in SHMKIT_XLANG."""
    path = os.environ.get("SHMKIT_XLANG")
    if not path or not os.path.exists(path):
        pytest.fail("SHMKIT_XLANG does not name the shmkit_xlang program; run the tests through ctest or "
                    "`make test-python`")
    return path


# ---- helpers shared by the test files ----------------------------------------------------------

# Generous upper bound for "this returns instead of hanging"; nothing asserts how fast anything is.
NO_HANG = 30.0


def wait_until(pred, timeout=NO_HANG, interval=0.005):
    """Polls pred() until it is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def readline(proc, timeout: float = NO_HANG) -> str:
    """The child's next stdout line, failing (not hanging) if it does not come."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out:
        proc.kill()
        raise AssertionError(f"no line from the child within {timeout} s; stderr: {proc.stderr.read()}")
    return out[0]


class Call:
    """Runs fn() on a daemon thread, recording its result or exception."""

    def __init__(self, fn, *args, **kwargs):
        self.result = None
        self.error = None
        self.started = threading.Event()

        def run():
            self.started.set()
            try:
                self.result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - recorded for the test to inspect
                self.error = e

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.started.wait(NO_HANG)

    def join(self, timeout=NO_HANG):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the call did not return within {timeout} s"
        return self


def broadcast_pair(name, **kwargs):
    w = shmkit.BroadcastWriter.create(name, **kwargs)
    r = shmkit.BroadcastReader.open(name)
    return w, r


def spsc_pair(name, **kwargs):
    c = shmkit.SpscConsumer.create(name, **kwargs)
    p = shmkit.SpscProducer.open(name)
    return p, c


def command_pair(name, **kwargs):
    r = shmkit.CommandReader.create(name, **kwargs)
    w = shmkit.CommandWriter.open(name)
    return w, r


def u8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)
