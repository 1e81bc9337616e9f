"""command through the Python binding: many writers, one reader, claims and dead writers."""

from __future__ import annotations

import time

import pytest

import shmkit
from conftest import command_pair, NO_HANG, start_python, u8


# ---- command ---------------------------------------------------------------------------------


def test_command_many_writers_in_child_processes(name):
    writers, k = 3, 400
    r = shmkit.CommandReader.create(name, capacity=2048)  # small: writers wait for room
    code = """
        import sys, shmkit
        name, wid, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        w = shmkit.CommandWriter.open(name)
        for i in range(k):
            w.write(b"%d:%d:" % (wid, i) + b"c" * (i % 20), timeout=60)
    """
    children = [start_python(code, name, str(wid), str(k)) for wid in range(writers)]
    try:
        next_i = [0] * writers
        deadline = time.monotonic() + 60
        total = 0
        while total < writers * k:
            try:
                msg = r.read(timeout=0.5)
            except shmkit.Timeout:
                dead = [ch for ch in children if ch.poll() not in (None, 0)]
                if dead:
                    pytest.fail(f"a writer failed: {dead[0].stderr.read()}")
                assert time.monotonic() < deadline, f"only {total} of {writers * k} commands arrived"
                continue
            wid, i, pad = msg.split(b":")
            wid, i = int(wid), int(i)
            assert i == next_i[wid], f"writer {wid}: command {i} arrived where {next_i[wid]} was expected"
            assert pad == b"c" * (i % 20)
            next_i[wid] += 1
            total += 1
        assert next_i == [k] * writers
        for ch in children:
            _, err = ch.communicate(timeout=NO_HANG * 3)
            assert ch.returncode == 0, err
        assert r.try_read() is None
    finally:
        for ch in children:
            if ch.poll() is None:
                ch.kill()
                ch.communicate()


def test_command_try_write_false_when_full(name):
    w, r = command_pair(name, capacity=256)
    assert w.reader_alive
    written = 0
    while w.try_write(b"%031d" % written):
        written += 1
        assert written < 1000, "try_write never reported a full channel"
    assert written > 0
    assert w.try_write(b"%031d" % written) is False
    with pytest.raises(shmkit.Timeout):
        w.write(b"%031d" % written, timeout=0.1)
    assert r.read(timeout=NO_HANG) == b"%031d" % 0
    assert w.try_write(b"%031d" % written) is True
    got = [r.read(timeout=NO_HANG) for _ in range(written)]
    assert got == [b"%031d" % i for i in range(1, written + 1)]


def test_command_reserve_abandon_is_skipped(name):
    w, r = command_pair(name)
    res = w.reserve(8)
    res.array[:] = 7
    res.abandon()
    w.write(b"after")
    assert r.read(timeout=NO_HANG) == b"after"
    assert r.try_read() is None

    dropped = w.reserve(8)  # dropped without commit: skipped too
    dropped.array[:] = 9
    del dropped
    with w.reserve(3) as a:
        a[:] = u8(b"kept")[:3]
    assert r.read(timeout=NO_HANG) == b"kep"
    assert r.try_read() is None


def test_command_several_reservations_claim_order(name):
    w, r = command_pair(name)
    first = w.reserve(4)
    second = w.reserve(4)  # command writers may hold several
    second.array[:] = u8(b"two!")
    second.commit()
    assert r.try_read() is None  # the earlier claim is still open at the front
    first.array[:] = u8(b"one!")
    first.commit()
    assert r.read(timeout=NO_HANG) == b"one!"
    assert r.read(timeout=NO_HANG) == b"two!"

    third = w.reserve(4)
    fourth = w.reserve(4)
    fourth.array[:] = u8(b"four")
    fourth.commit()
    third.abandon()
    assert r.read(timeout=NO_HANG) == b"four"
    assert r.try_read() is None


def test_command_second_reader_busy(name):
    w, r = command_pair(name)
    with pytest.raises(shmkit.Busy):
        shmkit.CommandReader.open(name)
    w.write(b"x")
    assert r.read(timeout=NO_HANG) == b"x"
