"""select() over readers of every kind, and callables beside them, through the Python binding."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import shmkit
from conftest import broadcast_pair, command_pair, NO_HANG, spsc_pair, start_python


# ---- select ----------------------------------------------------------------------------------


def test_select_returns_ready_source(name):
    wa, ra = broadcast_pair(name + "-a")
    wb, rb = broadcast_pair(name + "-b")
    assert shmkit.select([ra, rb], timeout=0.05) is None
    wb.write(b"b")
    assert shmkit.select([ra, rb], timeout=NO_HANG) is rb
    assert rb.read() == b"b"
    wa.write(b"a")
    assert shmkit.select([ra, rb], timeout=NO_HANG) is ra
    assert ra.read() == b"a"
    assert shmkit.select([ra, rb], timeout=0) is None


def test_select_none_on_timeout(name):
    w, r = broadcast_pair(name)
    t0 = time.monotonic()
    assert shmkit.select([r], timeout=0.1) is None
    assert time.monotonic() - t0 < NO_HANG


def test_select_earlier_source_wins_ties(name):
    wa, ra = broadcast_pair(name + "-a")
    wb, rb = broadcast_pair(name + "-b")
    wa.write(b"a")
    wb.write(b"b")
    assert shmkit.select([ra, rb], timeout=NO_HANG) is ra
    assert shmkit.select([rb, ra], timeout=NO_HANG) is rb
    assert shmkit.select((rb, ra)) is rb  # any sequence


def test_select_rejects_writers_and_foreign_objects(name):
    w, r = broadcast_pair(name)
    p, c = spsc_pair(name + "-s")
    # timeout=0 throughout, so a binding that wrongly accepted them could not hang the test.
    with pytest.raises(TypeError):
        shmkit.select([w], timeout=0)
    with pytest.raises(TypeError):
        shmkit.select([r, p], timeout=0)
    with pytest.raises(TypeError):
        shmkit.select([object()], timeout=0)
    with pytest.raises(TypeError):
        shmkit.select([r, "not a reader"], timeout=0)
    with pytest.raises(ValueError):
        shmkit.select([], timeout=0)


def test_select_closed_source_raises_closed(name):
    w, r = broadcast_pair(name)
    r.close()
    with pytest.raises(shmkit.Closed):
        shmkit.select([r], timeout=0)


def test_select_mixed_kinds(name):
    bw, br = broadcast_pair(name + "-b")
    sp, sc = spsc_pair(name + "-s")
    cw, cr = command_pair(name + "-c")
    kv_writer = shmkit.KV.create(name + "-k", ["a", "b"])
    kv = shmkit.KV.open(name + "-k")
    tw = shmkit.StreamWriter.create(name + "-t", dtype="float32", shape=4)
    tr = shmkit.StreamReader.open(name + "-t")
    sources = [br, sc, cr, kv, tr]
    assert shmkit.select(sources, timeout=0.05) is None

    def ready_one(make_ready, expected, consume):
        make_ready()
        assert shmkit.select(sources, timeout=NO_HANG) is expected
        consume()
        assert shmkit.select(sources, timeout=0) is None

    ready_one(lambda: bw.write(b"b"), br, lambda: br.read(timeout=0))
    ready_one(lambda: sp.push(b"s"), sc, lambda: sc.pop(timeout=0))
    ready_one(lambda: cw.write(b"c"), cr, lambda: cr.read(timeout=0))
    ready_one(lambda: kv_writer.set("a", b"1"), kv, lambda: kv.changes())
    ready_one(lambda: tw.write(np.arange(4, dtype=np.float32)), tr, lambda: tr.next(timeout=0))

    # Several ready at once: the earliest in the list wins.
    cw.write(b"c2")
    tw.write(np.zeros(4, dtype=np.float32))
    assert shmkit.select(sources, timeout=NO_HANG) is cr
    assert shmkit.select(list(reversed(sources)), timeout=NO_HANG) is tr


def test_select_wakes_when_child_writes(name):
    bw, br = broadcast_pair(name + "-b")
    r = shmkit.CommandReader.create(name + "-c")
    child = start_python("""
        import sys, time, shmkit
        w = shmkit.CommandWriter.open(sys.argv[1])
        print("ready", flush=True)
        time.sleep(0.3)
        w.write(b"from child")
    """, name + "-c")
    try:
        assert child.stdout.readline().strip() == "ready"
        got = shmkit.select([br, r], timeout=NO_HANG * 3)
        assert got is r
        assert r.read(timeout=0) == b"from child"
        _, err = child.communicate(timeout=NO_HANG)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


# ---- select with callables ---------------------------------------------------------------------


class Counted:
    """A readiness check that counts its calls and returns the values given, then the last one."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.values[min(self.calls, len(self.values)) - 1]


def test_select_returns_a_ready_callable(name):
    ready, idle = Counted(True), Counted(False)
    assert shmkit.select([ready], timeout=0) is ready
    assert shmkit.select([idle], timeout=0) is None
    assert shmkit.select([idle, ready], timeout=0) is ready
    assert idle.calls == 2
    # Any true value counts, as in an if statement.
    truthy, falsy = Counted([1]), Counted([])
    assert shmkit.select([falsy, truthy, lambda: None], timeout=0) is truthy


def test_select_callables_and_readers_earlier_in_the_list_win(name):
    w, r = broadcast_pair(name)
    w.write(b"x")
    before, after = Counted(True), Counted(True)
    assert shmkit.select([before, r, after], timeout=0) is before
    assert after.calls == 0  # only the sources before the winner are asked
    not_yet = Counted(False)
    assert shmkit.select([not_yet, r, after], timeout=0) is r
    assert not_yet.calls == 1 and after.calls == 0


def test_select_polls_callables_between_waits_on_idle_readers(name):
    w, r = broadcast_pair(name)
    third_time = Counted(False, False, True)
    assert shmkit.select([r, third_time], timeout=NO_HANG, poll_interval=0.001) is third_time
    assert third_time.calls == 3


def test_select_notices_a_callable_made_true_by_another_thread(name):
    # Noticed by a poll between waits, not only by the last look at the deadline.
    w, r = broadcast_pair(name)
    event = threading.Event()
    check = event.is_set
    timer = threading.Timer(0.1, event.set)
    timer.start()
    try:
        t0 = time.monotonic()
        assert shmkit.select([r, check], timeout=2 * NO_HANG) is check
        assert time.monotonic() - t0 < NO_HANG
    finally:
        timer.join()


def test_select_with_callables_wakes_at_once_for_a_reader(name):
    # A poll interval far longer than the timeout: the reader must wake the select itself, not
    # wait for a poll (which would first come at the deadline and let the select return late).
    w, r = broadcast_pair(name)
    never = Counted(False)
    timer = threading.Timer(0.1, lambda: w.write(b"x"))
    timer.start()
    try:
        t0 = time.monotonic()
        assert shmkit.select([never, r], timeout=2 * NO_HANG, poll_interval=1e6) is r
        assert time.monotonic() - t0 < NO_HANG
    finally:
        timer.join()
    assert never.calls == 2  # at the start, and before the ready reader


def test_select_polls_callables_no_more_often_than_the_interval(name):
    # Each poll is at least poll_interval after the previous one, except the last look at the
    # deadline: a bound that holds whatever the machine's speed.
    w, r = broadcast_pair(name)
    for sources in ([r, Counted(False)], [Counted(False)]):
        poll = sources[-1]
        t0 = time.monotonic()
        assert shmkit.select(sources, timeout=0.2, poll_interval=0.05) is None
        elapsed = time.monotonic() - t0
        assert 2 <= poll.calls <= elapsed / 0.05 + 2


def test_select_raises_what_a_callable_raises(name):
    w, r = broadcast_pair(name)

    def broken():
        raise RuntimeError("broken check")

    class NoTruth:
        def __bool__(self):
            raise ValueError("no truth value")

    with pytest.raises(RuntimeError, match="broken check"):
        shmkit.select([r, broken], timeout=NO_HANG)
    with pytest.raises(ValueError, match="no truth value"):
        shmkit.select([lambda: NoTruth()], timeout=NO_HANG)


def test_select_poll_interval_must_be_positive(name):
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            shmkit.select([lambda: True], timeout=0, poll_interval=bad)
