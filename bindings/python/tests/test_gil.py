"""The GIL and thread rules of the binding (common.hpp): blocking calls release the GIL, close()
from another thread, and Ctrl-C."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import threading
import time

import pytest

import shmkit
from conftest import broadcast_pair, Call, command_pair, NO_HANG, run_python, spsc_pair, start_python


# ---- concurrency and the GIL -----------------------------------------------------------------


def test_blocked_read_releases_gil(name):
    # In a child process: if read() kept the GIL, the child would hang and run_python's timeout
    # fails the test instead of hanging the suite.
    proc = run_python("""
        import sys, threading, time, shmkit
        name = sys.argv[1]
        w = shmkit.BroadcastWriter.create(name)
        r = shmkit.BroadcastReader.open(name)
        got = []
        started = threading.Event()
        def reader():
            started.set()
            got.append(r.read())  # no timeout
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        started.wait()
        time.sleep(0.2)  # let it get into read()
        count = 0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            count += 1
        blocked = t.is_alive() and not got
        w.write(b"wake")
        t.join(10)
        print(count, blocked, t.is_alive(), got == [b"wake"])
    """, name, timeout=30)
    count, blocked, still_alive, got_it = proc.stdout.split()
    assert blocked == "True"  # the reader really was waiting while we counted
    assert int(count) > 1000  # and this thread ran Python code meanwhile
    assert still_alive == "False" and got_it == "True"


def _blocked_call(kind, name):
    """A (call, handle-to-close, keep-alive) triple for a call that blocks forever."""
    if kind == "broadcast":
        w, r = broadcast_pair(name)
        return r.read, r, (w,)
    if kind == "broadcast-read_into":
        w, r = broadcast_pair(name)
        return (lambda: r.read_into(bytearray(64))), r, (w,)
    if kind == "spsc":
        p, c = spsc_pair(name)
        return c.pop, c, (p,)
    if kind == "spsc-peek":
        p, c = spsc_pair(name)
        return c.peek, c, (p,)
    if kind == "command":
        w, r = command_pair(name)
        return r.read, r, (w,)
    if kind == "select":
        w, r = broadcast_pair(name)
        p, c = spsc_pair(name + "-s")
        return (lambda: shmkit.select([c, r])), r, (w, p)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["broadcast", "broadcast-read_into", "spsc", "spsc-peek", "command", "select"])
def test_close_from_another_thread_wakes_blocked_call(name, kind):
    call_fn, handle, keep = _blocked_call(kind, name)
    call = Call(call_fn)
    time.sleep(0.2)  # let it block
    assert call.thread.is_alive(), f"the call returned without a message: {call.result!r} {call.error!r}"
    closer = Call(handle.close).join()  # close() returns (it waits for the blocked call)
    assert closer.error is None, closer.error
    call.join()
    assert isinstance(call.error, shmkit.Closed), repr(call.error)
    assert call.error.code == "not_open"
    assert handle.closed
    with pytest.raises(shmkit.Closed):
        call_fn()
    del keep


_CTRL_C_CHILD = """
    import signal, sys, shmkit
    # A child of a non-interactive shell's background job starts with SIGINT ignored, and Python
    # then installs no KeyboardInterrupt handler: give it the handler a terminal session has.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    kind, name = sys.argv[1], sys.argv[2]
    if kind == "broadcast":
        w = shmkit.BroadcastWriter.create(name)
        r = shmkit.BroadcastReader.open(name)
        call = r.read
    elif kind == "spsc":
        c = shmkit.SpscConsumer.create(name)
        call = c.pop
    elif kind == "command":
        r = shmkit.CommandReader.create(name)
        call = r.read
    elif kind == "select":
        w = shmkit.BroadcastWriter.create(name)
        r = shmkit.BroadcastReader.open(name)
        call = lambda: shmkit.select([r])
    elif kind == "open":
        # A half-made segment (state 0, core/SPEC.md "Creation handshake"): open() waits for it.
        shmkit.Block.create(name, 64).close()
        with open("/dev/shm" + name, "r+b") as f:
            f.seek(40)
            f.write(bytes(4))
        call = lambda: shmkit.Block.open(name, ready_timeout=60)
    print("ready", flush=True)
    call()
    print("returned", flush=True)
"""


@pytest.mark.parametrize("kind", ["broadcast", "spsc", "command", "select", "open"])
def test_ctrl_c_interrupts_blocked_call(name, kind):
    child = start_python(_CTRL_C_CHILD, kind, name)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # let it block in the call
        assert child.poll() is None
        os.kill(child.pid, signal.SIGINT)
        try:
            out, err = child.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            pytest.fail("the blocked call did not react to SIGINT within 5 s")
        assert child.returncode != 0
        assert "KeyboardInterrupt" in err
        assert "returned" not in out
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def _timeout_calls(name):
    bw, br = broadcast_pair(name + "-b")
    sp, sc = spsc_pair(name + "-s", capacity=256)
    cw, cr = command_pair(name + "-c", capacity=256)
    full_p, _full_c = spsc_pair(name + "-fs", capacity=256)
    while full_p.try_push(b"f" * 32):
        pass
    full_w, _full_r = command_pair(name + "-fc", capacity=256)
    while full_w.try_write(b"f" * 32):
        pass
    keep = (bw, sp, cw, _full_c, _full_r)
    calls = {
        "broadcast.read": lambda t: br.read(t),
        "broadcast.read_into": lambda t: br.read_into(bytearray(64), t),
        "broadcast.wait": lambda t: br.wait(t),
        "spsc.pop": lambda t: sc.pop(t),
        "spsc.pop_into": lambda t: sc.pop_into(bytearray(64), t),
        "spsc.peek": lambda t: sc.peek(t),
        "spsc.push(full)": lambda t: full_p.push(b"f" * 32, t),
        "command.read": lambda t: cr.read(t),
        "command.read_into": lambda t: cr.read_into(bytearray(64), t),
        "command.write(full)": lambda t: full_w.write(b"f" * 32, t),
        "select": lambda t: shmkit.select([br, sc, cr], t),
    }
    return calls, keep


TIMEOUT_CALLS = ["broadcast.read", "broadcast.read_into", "spsc.pop", "spsc.pop_into", "spsc.peek",
                 "spsc.push(full)", "command.read", "command.read_into", "command.write(full)"]


@pytest.mark.parametrize("which", TIMEOUT_CALLS)
def test_timeout_raises_timeout_error(name, which):
    calls, keep = _timeout_calls(name)
    t0 = time.monotonic()
    with pytest.raises(shmkit.Timeout) as ei:
        calls[which](0.2)
    assert time.monotonic() - t0 < NO_HANG
    assert isinstance(ei.value, TimeoutError)
    assert isinstance(ei.value, shmkit.Error)
    assert ei.value.code == "timeout"


def test_wait_and_select_timeouts_return_false_none(name):
    calls, keep = _timeout_calls(name)
    assert calls["broadcast.wait"](0.1) is False
    assert calls["select"](0.1) is None


@pytest.mark.parametrize("which", TIMEOUT_CALLS + ["broadcast.wait", "select"])
def test_invalid_timeout_raises_value_error(name, which):
    # common.hpp: "ValueError for a negative or NaN timeout" -- also when there is nothing to
    # wait for (a negative timeout must not be taken as "poll once").
    calls, keep = _timeout_calls(name)
    wrong = []
    for value in (-1.0, -0.001, math.nan):
        try:
            result = calls[which](value)
        except ValueError:
            continue
        except Exception as e:  # noqa: BLE001 - reported below
            wrong.append(f"timeout={value}: raised {type(e).__name__}: {e}")
        else:
            wrong.append(f"timeout={value}: returned {result!r}")
    assert not wrong, "expected ValueError; " + "; ".join(wrong)


_SIGNAL_KINDS = ["broadcast.read", "broadcast.wait", "spsc.pop", "spsc.peek", "command.read", "select"]


@pytest.mark.parametrize("kind", _SIGNAL_KINDS)
def test_signal_whose_handler_returns_does_not_end_wait(name, kind):
    # PEP 475: a signal handler that returns normally lets the interrupted wait continue; only an
    # exception from the handler (KeyboardInterrupt) ends it.
    bw, br = broadcast_pair(name + "-b")
    sp, sc = spsc_pair(name + "-s")
    cw, cr = command_pair(name + "-c")
    call, send = {
        "broadcast.read": (lambda: br.read(timeout=NO_HANG), lambda: bw.write(b"data")),
        "broadcast.wait": (lambda: br.wait(timeout=NO_HANG), lambda: bw.write(b"data")),
        "spsc.pop": (lambda: sc.pop(timeout=NO_HANG), lambda: sp.push(b"data")),
        "spsc.peek": (lambda: bytes(sc.peek(timeout=NO_HANG)), lambda: sp.push(b"data")),
        "command.read": (lambda: cr.read(timeout=NO_HANG), lambda: cw.write(b"data")),
        "select": (lambda: shmkit.select([br, sc, cr], timeout=NO_HANG), lambda: cw.write(b"data")),
    }[kind]
    expected = {"broadcast.wait": True, "select": cr}.get(kind, b"data")
    handled = threading.Event()
    main = threading.get_ident()

    def poke():
        time.sleep(0.2)  # let the main thread block
        signal.pthread_kill(main, signal.SIGUSR1)  # to the waiting thread: its wait sees EINTR
        handled.wait(NO_HANG)
        send()

    old = signal.signal(signal.SIGUSR1, lambda *a: handled.set())
    try:
        helper = threading.Thread(target=poke, daemon=True)
        helper.start()
        try:
            result = call()
        finally:
            helper.join(NO_HANG)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert handled.is_set()
    assert result == expected if kind != "select" else result is expected
