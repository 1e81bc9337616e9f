"""on_data() subscriptions: a thread per subscription calling back with each message."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import shmkit
from conftest import broadcast_pair, Call, command_pair, spsc_pair, wait_until


# ---- on_data ---------------------------------------------------------------------------------


def test_on_data_delivers_in_order_with_seq(name):
    w, r = broadcast_pair(name)
    got = []
    sub = r.on_data(lambda msg, seq: got.append((msg, seq)))
    assert isinstance(sub, shmkit.Subscription)
    try:
        assert sub.running
        n = 50
        for i in range(n):
            w.write(b"msg%d" % i)
        assert wait_until(lambda: len(got) >= n), f"only {len(got)} of {n} delivered"
    finally:
        sub.stop()
    assert got == [(b"msg%d" % i, i) for i in range(n)]
    assert sub.delivered == n
    assert sub.error is None


def test_on_data_stop_ends_thread(name):
    w, r = broadcast_pair(name)
    sub = r.on_data(lambda msg, seq: None)
    assert sub.running
    threads_before = {t.name for t in threading.enumerate()}
    assert any(t.startswith("shmkit-on_data") for t in threads_before)
    Call(sub.stop).join()
    assert not sub.running
    # Nothing more is delivered after stop().
    got = []
    sub2 = r.on_data(lambda msg, seq: got.append(msg))
    sub2.stop()
    w.write(b"after stop")
    time.sleep(0.2)
    assert got == []
    with sub2:  # context manager form: stop() again is harmless
        pass


def test_on_data_callback_exception_stops_and_is_reported(name, monkeypatch):
    w, r = broadcast_pair(name)
    reported = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args))
    boom = ValueError("boom")
    got = []

    def fn(msg, seq):
        if seq == 2:
            raise boom
        got.append(msg)

    sub = r.on_data(fn)
    for i in range(5):
        w.write(b"m%d" % i)
    assert wait_until(lambda: not sub.running), "the subscription kept running after the callback raised"
    assert got == [b"m0", b"m1"]  # nothing delivered after the failure
    assert sub.error is boom
    assert len(reported) == 1 and reported[0].exc_value is boom
    with pytest.raises(shmkit.CallbackError) as ei:
        sub.stop()
    assert ei.value.__cause__ is boom
    assert isinstance(ei.value, shmkit.Error)


def test_on_data_on_error_keeps_delivering(name, monkeypatch):
    w, r = broadcast_pair(name)
    reported = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args))
    seen, errors = [], []

    def fn(msg, seq):
        seen.append(seq)
        if seq % 2 == 0:
            raise RuntimeError(f"bad {seq}")

    sub = r.on_data(fn, on_error=errors.append)
    try:
        for i in range(10):
            w.write(b"m%d" % i)
        assert wait_until(lambda: len(seen) >= 10)
        assert sub.running
    finally:
        sub.stop()  # no CallbackError: every failure was handled
    assert seen == list(range(10))
    assert [str(e) for e in errors] == [f"bad {i}" for i in range(0, 10, 2)]
    assert all(isinstance(e, RuntimeError) for e in errors)
    assert sub.delivered == 5
    assert sub.error is None
    assert reported == []


def test_on_data_reader_close_ends_subscription(name, monkeypatch):
    w, r = broadcast_pair(name)
    reported = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args))
    got = []
    sub = r.on_data(lambda msg, seq: got.append(msg))
    w.write(b"one")
    assert wait_until(lambda: got == [b"one"])
    Call(r.close).join()
    assert wait_until(lambda: not sub.running), "closing the reader did not end the subscription"
    sub.stop()  # quietly: no CallbackError
    assert sub.error is None
    assert reported == []
    assert r.closed


def test_on_data_counts_overruns(name):
    w, r = broadcast_pair(name, capacity=256)
    total = 40
    for i in range(total):
        w.write(b"%03d" % i)
    got = []
    sub = r.on_data(lambda msg, seq: got.append((msg, seq)))
    try:
        assert wait_until(lambda: sub.lost + len(got) >= total), (sub.lost, len(got))
    finally:
        sub.stop()
    assert sub.lost > 0
    assert sub.lost + len(got) == total
    assert got == [(b"%03d" % i, i) for i in range(sub.lost, total)]


def _slot_pair(kind, name, slots):
    if kind == "stream":
        return shmkit.StreamWriter.create(name, dtype="int64", shape=1, slots=slots), shmkit.StreamReader.open(name)
    if kind == "video":
        return (shmkit.VideoWriter.create(name, width=8, height=2, format="gray8", slots=slots),
                shmkit.VideoReader.open(name))
    return (shmkit.AudioWriter.create(name, channels=1, format="u8", sample_rate=800, buffer_seconds=0.01, slots=slots),
            shmkit.AudioReader.open(name))


@pytest.mark.parametrize("kind", ["stream", "video", "audio"])
def test_on_data_counts_lost_samples(name, kind):
    w, r = _slot_pair(kind, name, slots=4)
    total = 10
    for i in range(total):
        w.write(np.full(w.shape if kind != "audio" else (8, 1), i, dtype=np.int64 if kind == "stream" else np.uint8),
                **({} if kind == "stream" else {"pts": i}))
    got = []
    sub = r.on_data(lambda sample, index: got.append(index))
    try:
        assert wait_until(lambda: sub.lost + len(got) >= total), (sub.lost, len(got))
    finally:
        sub.stop()
    # 4 slots keep the 3 newest: the first 7 are lost, counted once, before the first delivered.
    assert sub.lost == total - 3
    assert got == list(range(total - 3, total))
    assert r.total_lost == total - 3 and r.overruns == 1


@pytest.mark.parametrize("kind", ["spsc", "command"])
def test_on_data_other_kinds(name, kind):
    if kind == "spsc":
        p, c = spsc_pair(name)
        send, reader = p.push, c
    else:
        w, c = command_pair(name)
        send, reader = w.write, c
    got = []
    sub = reader.on_data(lambda msg, seq: got.append((msg, seq)))
    try:
        for i in range(20):
            send(b"x%d" % i)
        assert wait_until(lambda: len(got) >= 20)
    finally:
        sub.stop()
    assert got == [(b"x%d" % i, i) for i in range(20)]
