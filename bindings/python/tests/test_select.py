"""select() over readers of every kind through the Python binding."""

from __future__ import annotations

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
