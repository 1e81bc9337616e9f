"""One meaning for timeouts across every primitive: a call that takes a timeout waits up to it and
raises Timeout (a TimeoutError) when it expires, for every value, 0 included; the try_* calls
never wait and say "nothing" (None from readers, False from writers)."""

from __future__ import annotations

import numpy as np
import pytest

import shmkit
from conftest import broadcast_pair, command_pair, spsc_pair


def _empty_readers(name):
    """(label, blocking call taking a timeout, try_ calls that must return None) for every reader
    with nothing to read."""
    _, br = broadcast_pair(name + "-b")
    sp, sc = spsc_pair(name + "-s")
    cw, cr = command_pair(name + "-c")
    out = [
        ("broadcast.read", br.read, [br.try_read]),
        ("broadcast.read_into", lambda t: br.read_into(bytearray(8), t), [lambda: br.try_read_into(bytearray(8))]),
        ("broadcast.read_obj", br.read_obj, [br.try_read_obj]),
        ("spsc.pop", sc.pop, [sc.try_pop]),
        ("spsc.pop_into", lambda t: sc.pop_into(bytearray(8), t), [lambda: sc.try_pop_into(bytearray(8))]),
        ("spsc.pop_obj", sc.pop_obj, [sc.try_pop_obj]),
        ("spsc.peek", sc.peek, [sc.try_peek]),
        ("command.read", cr.read, [cr.try_read]),
        ("command.read_into", lambda t: cr.read_into(bytearray(8), t), [lambda: cr.try_read_into(bytearray(8))]),
        ("command.read_obj", cr.read_obj, [cr.try_read_obj]),
    ]
    handles = [br, sp, sc, cw, cr]
    tw = shmkit.StreamWriter.create(name + "-t", dtype="bytes", max_bytes=16)
    tr = shmkit.StreamReader.open(name + "-t")
    vw = shmkit.VideoWriter.create(name + "-v", width=4, height=2, format="gray8")
    vr = shmkit.VideoReader.open(name + "-v")
    aw = shmkit.AudioWriter.create(name + "-a", channels=1, format="u8", sample_rate=800, buffer_seconds=0.01)
    ar = shmkit.AudioReader.open(name + "-a")
    handles += [tw, tr, vw, vr, aw, ar]
    out.append(("stream.next_obj", tr.next_obj, [tr.latest_obj]))
    for label, r in (("stream", tr), ("video", vr), ("audio", ar)):
        tries = [r.try_next, r.latest, r.view_next, r.view_latest]
        out.append((label + ".next", r.next, tries))
        out.append((label + ".wait_latest", r.wait_latest, tries))
    return out, handles


def test_zero_timeout_expires_like_any_other_and_try_calls_return_none(name):
    calls, handles = _empty_readers(name)
    try:
        for label, call, tries in calls:
            for timeout in (0, 0.0, 0.001):
                with pytest.raises(shmkit.Timeout) as ei:
                    call(timeout)
                assert isinstance(ei.value, TimeoutError), label
                assert ei.value.code == "timeout", label
            for t in tries:
                assert t() is None, label
        with pytest.raises(ValueError):  # a negative timeout is a mistake, not a poll
            calls[0][1](-1)
    finally:
        for h in handles:
            h.close()


def test_zero_timeout_on_a_full_queue_or_channel(name):
    p, c = spsc_pair(name + "-s", capacity=256)
    w, r = command_pair(name + "-c", capacity=256)
    while p.try_push(b"x" * 32):
        pass
    while w.try_write(b"x" * 32):
        pass
    assert p.try_push(b"x" * 32) is False and w.try_write(b"x" * 32) is False
    assert p.try_reserve(32) is None and w.try_reserve(32) is None
    for timeout in (0, 0.001):
        for call in (lambda: p.push(b"x" * 32, timeout), lambda: p.reserve(32, timeout),
                     lambda: p.push_obj({"k": 1}, timeout), lambda: w.write(b"x" * 32, timeout),
                     lambda: w.reserve(32, timeout), lambda: w.write_obj({"k": 1}, timeout)):
            with pytest.raises(shmkit.Timeout):
                call()


def test_zero_timeout_returns_what_is_there(name):
    w, r = broadcast_pair(name)
    w.write(b"x")
    assert r.read(0) == b"x"
    with shmkit.StreamWriter.create(name + "-t", dtype="int32", shape=1) as tw, \
            shmkit.StreamReader.open(name + "-t") as tr:
        tw.write(np.array([7], np.int32))
        assert tr.next(0).tolist() == [7]
        assert tr.wait_latest(0).tolist() == [7]


def test_read_only_broadcast_reader_zero_timeout(name):
    w = shmkit.BroadcastWriter.create(name)
    ro = shmkit.BroadcastReader.open(name, read_only=True)
    with pytest.raises(shmkit.Timeout):
        ro.read(0)  # nothing to wait for: expires, as in C++
    with pytest.raises(shmkit.AccessDenied):
        ro.read(1)  # a wait a read-only mapping cannot make
    w.write(b"x")
    assert ro.read(0) == b"x"


def test_try_reserve_when_there_is_room(name):
    p, c = spsc_pair(name + "-s")
    w, r = command_pair(name + "-c")
    for writer, reader in ((p, c.pop), (w, r.read)):
        res = writer.try_reserve(3)
        assert isinstance(res, shmkit.Reservation)
        res.array[:] = np.frombuffer(b"abc", np.uint8)
        res.commit()
        assert reader(0) == b"abc"
        del res
