"""Tests of the message kinds of the Python binding: broadcast, spsc and command channels,
select(), the GIL and thread/close rules of common.hpp, on_data subscriptions, the msgpack
helpers and the exception hierarchy.

Timing: the machine running these is noisy, so nothing here asserts how fast something is; the
only time bounds are generous upper limits proving that a call does not hang.
"""

from __future__ import annotations

import math
import os
import signal
import struct
import subprocess
import threading
import time

import numpy as np
import pytest

import shmkit
from shmkit import _errors

from conftest import run_python, start_python

# Generous upper bound for "this returns instead of hanging".
NO_HANG = 10.0


# ---- helpers ---------------------------------------------------------------------------------


def wait_until(pred, timeout=NO_HANG, interval=0.005):
    """Polls pred() until it is true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


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
    r = shmkit.BroadcastReader.attach(name)
    return w, r


def spsc_pair(name, **kwargs):
    c = shmkit.SpscConsumer.create(name, **kwargs)
    p = shmkit.SpscProducer.attach(name)
    return p, c


def command_pair(name, **kwargs):
    r = shmkit.CommandReader.create(name, **kwargs)
    w = shmkit.CommandWriter.attach(name)
    return w, r


def u8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


# ---- broadcast -------------------------------------------------------------------------------


def test_broadcast_create_attach_and_roundtrip(name):
    w, r = broadcast_pair(name)
    assert isinstance(w, shmkit.BroadcastWriter) and isinstance(r, shmkit.BroadcastReader)
    assert w.name == name and r.name == name
    assert r.writer_alive
    w.write(b"hello")
    msg = r.read(timeout=NO_HANG)
    assert msg == b"hello" and type(msg) is bytes
    assert w.messages_written == 1


@pytest.mark.parametrize("data, expected", [
    (b"bytes payload", b"bytes payload"),
    ("h\u00e9llo \u2603", "h\u00e9llo \u2603".encode("utf-8")),
    (bytearray(b"a bytearray"), b"a bytearray"),
    (memoryview(b"xxa memoryviewxx")[2:-2], b"a memoryview"),
    (np.arange(10, dtype=np.int32), np.arange(10, dtype=np.int32).tobytes()),
    (np.arange(12, dtype=np.float64).reshape(3, 4), np.arange(12, dtype=np.float64).tobytes()),
    (b"", b""),
], ids=["bytes", "str", "bytearray", "memoryview", "numpy-int32", "numpy-2d", "empty"])
def test_broadcast_input_types(name, data, expected):
    w, r = broadcast_pair(name)
    w.write(data)
    assert r.read(timeout=NO_HANG) == expected


def test_broadcast_rejects_non_buffer_and_non_contiguous(name):
    w, r = broadcast_pair(name)
    with pytest.raises(TypeError):
        w.write(12345)
    with pytest.raises(TypeError):
        w.write(np.arange(10, dtype=np.uint8)[::2])
    assert r.try_read() is None  # nothing was published by the failed writes


def test_broadcast_try_read_none_when_empty(name):
    w, r = broadcast_pair(name)
    assert r.try_read() is None
    assert not r.poll()
    w.write(b"one")
    assert r.poll()
    assert r.try_read() == b"one"
    assert r.try_read() is None


def test_broadcast_read_into(name):
    w, r = broadcast_pair(name)
    assert r.read_into(bytearray(16), timeout=0) is None  # empty, polling
    w.write(b"0123456789")
    buf = bytearray(16)
    assert r.read_into(buf) == 10
    assert bytes(buf[:10]) == b"0123456789"
    assert r.last_seq == 0

    w.write(b"abc")
    arr = np.zeros(8, dtype=np.uint8)
    assert r.read_into(arr) == 3
    assert arr[:3].tobytes() == b"abc"
    assert r.last_seq == 1

    with pytest.raises(TypeError):
        r.read_into(b"read-only bytes")


def test_broadcast_read_into_too_small_consumes_nothing(name):
    w, r = broadcast_pair(name)
    w.write(b"0123456789")
    small = bytearray(4)
    with pytest.raises(shmkit.MessageTooLarge) as ei:
        r.read_into(small)
    assert ei.value.code == "message_too_large"
    assert isinstance(ei.value, ValueError)
    assert r.pending_size == 10
    assert small == bytearray(4)
    # Nothing was consumed: the same message is still the next one.
    buf = bytearray(10)
    assert r.read_into(buf) == 10
    assert bytes(buf) == b"0123456789"
    assert r.last_seq == 0
    assert r.try_read() is None


def test_broadcast_last_seq_counts_writer_messages(name):
    w = shmkit.BroadcastWriter.create(name)
    w.write(b"before-0")
    w.write(b"before-1")
    r = shmkit.BroadcastReader.attach(name)  # starts at the next new message
    assert r.try_read() is None
    for i in range(3):
        w.write(b"m%d" % i)
    for i in range(3):
        assert r.read(timeout=NO_HANG) == b"m%d" % i
        assert r.last_seq == 2 + i
    assert r.next_seq == 5


def test_broadcast_from_oldest(name):
    w = shmkit.BroadcastWriter.create(name)
    for i in range(3):
        w.write(b"old%d" % i)
    late = shmkit.BroadcastReader.attach(name)
    oldest = shmkit.BroadcastReader.attach(name, from_oldest=True)
    assert late.try_read() is None
    got = [(oldest.read(timeout=NO_HANG), oldest.last_seq) for _ in range(3)]
    assert got == [(b"old0", 0), (b"old1", 1), (b"old2", 2)]
    assert oldest.try_read() is None


def test_broadcast_overrun_reports_lost_then_resumes_at_oldest(name):
    w, r = broadcast_pair(name, capacity=256)
    total = 40
    for i in range(total):
        w.write(b"%03d" % i)
    with pytest.raises(shmkit.Overrun) as ei:
        r.read(timeout=NO_HANG)
    lost = ei.value.lost
    assert ei.value.code == "overrun"
    assert 0 < lost < total
    assert r.lost == lost
    assert r.total_lost == lost
    assert r.overruns == 1
    # The next read returns the oldest message still kept: the first one not lost.
    first = r.read(timeout=NO_HANG)
    assert first == b"%03d" % lost
    assert r.last_seq == lost
    rest = [first]
    while (m := r.try_read()) is not None:
        rest.append(m)
    assert rest == [b"%03d" % i for i in range(lost, total)]


def test_broadcast_max_message(name):
    w, r = broadcast_pair(name, capacity=4096, max_message=100)
    assert w.max_message == 100 and r.max_message == 100
    with pytest.raises(shmkit.MessageTooLarge) as ei:
        w.write(b"x" * 101)
    assert ei.value.code == "message_too_large"
    assert r.try_read() is None  # the failed write published nothing
    w.write(b"y" * 100)
    assert r.read(timeout=NO_HANG) == b"y" * 100


def test_broadcast_second_writer_busy_while_first_lives(name):
    w, r = broadcast_pair(name)
    with pytest.raises(shmkit.Busy) as ei:
        shmkit.BroadcastWriter.attach(name)
    assert ei.value.code == "busy"
    w.write(b"still the writer")
    assert r.read(timeout=NO_HANG) == b"still the writer"
    w.close()
    w2 = shmkit.BroadcastWriter.attach(name)  # the role is free again
    w2.write(b"new writer")
    assert r.read(timeout=NO_HANG) == b"new writer"


def test_broadcast_read_only_reader(name):
    w = shmkit.BroadcastWriter.create(name)
    ro = shmkit.BroadcastReader.attach(name, read_only=True)
    assert ro.try_read() is None
    w.write(b"visible")
    assert ro.try_read() == b"visible"
    # A blocking read needs to register as a waiter, which a read-only mapping cannot.
    with pytest.raises(shmkit.AccessDenied) as ei:
        ro.read(timeout=NO_HANG)
    assert ei.value.code == "access_denied"
    assert isinstance(ei.value, PermissionError)
    call = Call(ro.read).join()  # no timeout at all: must still raise, not hang
    assert isinstance(call.error, shmkit.AccessDenied)


# ---- broadcast reservations ----------------------------------------------------------------


def test_reservation_with_block_commits(name):
    w, r = broadcast_pair(name)
    with w.reserve(5) as a:
        assert isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.shape == (5,)
        assert a.flags.writeable
        a[:] = u8(b"hello")
    assert r.read(timeout=NO_HANG) == b"hello"
    assert w.exports >= 1  # the array `a` still refers to the ring
    del a
    assert w.exports == 0


def test_reservation_exception_inside_with_publishes_nothing(name):
    w, r = broadcast_pair(name)
    with pytest.raises(KeyError):
        with w.reserve(5) as a:
            a[:] = u8(b"NOPE!")
            raise KeyError("abort")
    assert r.try_read() is None
    w.write(b"after")  # the writer is usable again (the reservation is finished)
    assert r.read(timeout=NO_HANG) == b"after"
    assert r.try_read() is None


def test_reservation_partial_commit(name):
    w, r = broadcast_pair(name)
    res = w.reserve(10)
    assert res.size == 10 and not res.finished
    res.array[:3] = u8(b"abc")
    res.commit(3)
    assert res.finished
    assert r.read(timeout=NO_HANG) == b"abc"
    with pytest.raises(RuntimeError):
        res.commit()  # already committed
    res2 = w.reserve(4)
    with pytest.raises(ValueError):
        res2.commit(5)  # more than reserved
    res2.abandon()


def test_reservation_abandon_publishes_nothing(name):
    w, r = broadcast_pair(name)
    res = w.reserve(4)
    res.array[:] = 7
    res.abandon()
    assert res.finished
    assert r.try_read() is None
    res.abandon()  # idempotent
    dropped = w.reserve(4)
    dropped.array[:] = 9
    del dropped  # dropping an unfinished reservation abandons it
    assert r.try_read() is None
    w.write(b"next")
    assert r.read(timeout=NO_HANG) == b"next"
    assert r.try_read() is None


def test_reservation_one_at_a_time(name):
    w, r = broadcast_pair(name)
    res = w.reserve(4)
    with pytest.raises(RuntimeError):
        w.reserve(4)
    with pytest.raises(RuntimeError):
        w.write(b"meanwhile")
    with pytest.raises(BufferError):
        w.close()  # the reservation pins the mapping
    assert not w.closed
    res.array[:] = u8(b"1234")
    res.commit()
    assert r.read(timeout=NO_HANG) == b"1234"
    with w.reserve(2) as a:  # free again after commit
        a[:] = u8(b"ok")
    assert r.read(timeout=NO_HANG) == b"ok"


def test_reservation_array_read_only_after_commit(name):
    w, r = broadcast_pair(name)
    res = w.reserve(3)
    arr = res.array
    arr[:] = u8(b"xyz")
    res.commit()
    assert not arr.flags.writeable
    assert not res.array.flags.writeable
    with pytest.raises(ValueError):
        arr[0] = 1
    assert r.read(timeout=NO_HANG) == b"xyz"

    with w.reserve(3) as a:
        a[:] = u8(b"abc")
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1
    assert r.read(timeout=NO_HANG) == b"abc"


# ---- large messages (copies with the GIL released) -----------------------------------------


@pytest.mark.parametrize("size", [16 * 1024 + 1, 100_000, 300_000])
def test_broadcast_large_messages_roundtrip(name, size):
    w, r = broadcast_pair(name, capacity=1 << 21)
    payload = os.urandom(size)
    w.write(payload)
    arr = np.frombuffer(os.urandom(size), dtype=np.uint8)
    w.write(arr)
    w.write(b"small")
    assert r.read(timeout=NO_HANG) == payload
    buf = bytearray(size)
    assert r.read_into(buf, timeout=NO_HANG) == size
    assert bytes(buf) == arr.tobytes()
    assert r.read(timeout=NO_HANG) == b"small"


def test_spsc_and_command_large_messages_roundtrip(name):
    p, c = spsc_pair(name + "-s", capacity=1 << 20)
    w, r = command_pair(name + "-c", capacity=1 << 20)
    for size in (16 * 1024 + 1, 200_000):
        payload = os.urandom(size)
        p.push(payload, timeout=NO_HANG)
        assert c.pop(timeout=NO_HANG) == payload
        w.write(payload, timeout=NO_HANG)
        assert r.read(timeout=NO_HANG) == payload


# ---- spsc ------------------------------------------------------------------------------------


def test_spsc_push_pop_order(name):
    p, c = spsc_pair(name)
    msgs = [b"m%d-" % i + b"x" * (i % 37) for i in range(200)]
    for m in msgs:
        p.push(m)
    got = []
    for i in range(len(msgs)):
        got.append(c.pop(timeout=NO_HANG))
        assert c.last_seq == i
    assert got == msgs
    assert c.try_pop() is None


def test_spsc_try_push_false_when_full(name):
    p, c = spsc_pair(name, capacity=256)
    pushed = 0
    while p.try_push(b"%031d" % pushed):
        pushed += 1
        assert pushed < 1000, "try_push never reported a full queue"
    assert pushed > 0
    assert p.try_push(b"%031d" % pushed) is False  # still full
    assert c.pop(timeout=NO_HANG) == b"%031d" % 0
    assert p.try_push(b"%031d" % pushed) is True  # room again
    got = [c.pop(timeout=NO_HANG) for _ in range(pushed)]
    assert got == [b"%031d" % i for i in range(1, pushed + 1)]  # nothing dropped


def test_spsc_push_timeout_when_full(name):
    p, c = spsc_pair(name, capacity=256)
    while p.try_push(b"y" * 32):
        pass
    t0 = time.monotonic()
    with pytest.raises(shmkit.Timeout) as ei:
        p.push(b"y" * 32, timeout=0.1)
    assert time.monotonic() - t0 < NO_HANG
    assert isinstance(ei.value, TimeoutError)
    assert ei.value.code == "timeout"


def test_spsc_pop_timeout_and_try_pop_none(name):
    p, c = spsc_pair(name)
    assert c.try_pop() is None
    with pytest.raises(shmkit.Timeout):
        c.pop(timeout=0.1)
    p.push(b"late")
    assert c.pop(timeout=0.1) == b"late"


def test_spsc_peek_zero_copy_then_release(name):
    p, c = spsc_pair(name)
    assert c.peek(timeout=0) is None
    with pytest.raises(shmkit.Timeout):
        c.peek(timeout=0.1)
    p.push(b"first")
    p.push(b"second")
    v = c.peek(timeout=NO_HANG)
    assert isinstance(v, np.ndarray) and v.dtype == np.uint8
    assert v.tobytes() == b"first"
    assert not v.flags.writeable
    assert not v.flags.owndata  # a view over the queue's memory, not a copy
    assert c.exports == 1  # ... which pins the handle
    with pytest.raises(BufferError):
        c.close()
    assert c.peek(timeout=0).tobytes() == b"first"  # peeking does not consume
    c.release()
    del v
    assert c.exports == 0
    assert c.pop(timeout=NO_HANG) == b"second"
    assert c.try_pop() is None


def test_spsc_release_without_peek(name):
    p, c = spsc_pair(name)
    with pytest.raises(RuntimeError):
        c.release()
    p.push(b"a")
    v = c.peek()
    c.release()
    with pytest.raises(RuntimeError):
        c.release()  # only once per peek
    del v
    p.push(b"b")
    assert c.pop() == b"b"
    with pytest.raises(RuntimeError):
        c.release()  # pop() does not leave a peeked message


def test_spsc_pop_into(name):
    p, c = spsc_pair(name)
    assert c.pop_into(bytearray(8), timeout=0) is None
    p.push(b"abcdef")
    buf = bytearray(8)
    assert c.pop_into(buf, timeout=NO_HANG) == 6
    assert bytes(buf[:6]) == b"abcdef"
    p.push(b"0123456789")
    with pytest.raises(shmkit.MessageTooLarge):
        c.pop_into(bytearray(4))
    assert c.pending_size == 10
    assert c.pop() == b"0123456789"  # not consumed by the failed pop_into


def test_spsc_second_consumer_and_producer_busy(name):
    p, c = spsc_pair(name)
    with pytest.raises(shmkit.Busy):
        shmkit.SpscConsumer.attach(name)
    with pytest.raises(shmkit.Busy):
        shmkit.SpscProducer.attach(name)
    p.push(b"still works")
    assert c.pop(timeout=NO_HANG) == b"still works"


def test_spsc_liveness(name):
    p, c = spsc_pair(name)
    assert p.consumer_alive
    assert c.producer_alive
    c.close()
    assert not p.consumer_alive
    c2 = shmkit.SpscConsumer.attach(name)
    assert p.consumer_alive
    p.close()
    assert not c2.producer_alive


def test_spsc_producer_in_child_process(name):
    count = 10_000
    c = shmkit.SpscConsumer.create(name, capacity=4096)  # small: the child must wait for room
    child = start_python("""
        import struct, sys, shmkit
        name, count = sys.argv[1], int(sys.argv[2])
        p = shmkit.SpscProducer.attach(name)
        for i in range(count):
            p.push(struct.pack("<I", i) + b"p" * (i % 50), timeout=60)
        print("done", flush=True)
    """, name, str(count))
    try:
        got = 0
        deadline = time.monotonic() + 60
        while got < count:
            try:
                msg = c.pop(timeout=0.5)
            except shmkit.Timeout:
                if child.poll() is not None and not c.poll():
                    pytest.fail(f"child exited ({child.returncode}) after {got} messages: {child.stderr.read()}")
                assert time.monotonic() < deadline, f"only {got} of {count} messages arrived"
                continue
            (i,) = struct.unpack_from("<I", msg)
            assert i == got, f"message {i} arrived where {got} was expected"
            assert msg[4:] == b"p" * (i % 50)
            assert c.last_seq == i
            got += 1
        out, err = child.communicate(timeout=NO_HANG * 3)
        assert child.returncode == 0, err
        assert out.strip() == "done"
        assert c.try_pop() is None
        assert not c.producer_alive  # the child is gone
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


# ---- command ---------------------------------------------------------------------------------


def test_command_many_writers_in_child_processes(name):
    writers, k = 3, 400
    r = shmkit.CommandReader.create(name, capacity=2048)  # small: writers wait for room
    code = """
        import sys, shmkit
        name, wid, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        w = shmkit.CommandWriter.attach(name)
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
        shmkit.CommandReader.attach(name)
    w.write(b"x")
    assert r.read(timeout=NO_HANG) == b"x"


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
    kv = shmkit.KV.attach(name + "-k")
    tw = shmkit.StreamWriter.create(name + "-t", dtype="float32", shape=4)
    tr = shmkit.StreamReader.attach(name + "-t")
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
        w = shmkit.CommandWriter.attach(sys.argv[1])
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


# ---- concurrency and the GIL -----------------------------------------------------------------


def test_blocked_read_releases_gil(name):
    # In a child process: if read() kept the GIL, the child would hang and run_python's timeout
    # fails the test instead of hanging the suite.
    proc = run_python("""
        import sys, threading, time, shmkit
        name = sys.argv[1]
        w = shmkit.BroadcastWriter.create(name)
        r = shmkit.BroadcastReader.attach(name)
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
        r = shmkit.BroadcastReader.attach(name)
        call = r.read
    elif kind == "spsc":
        c = shmkit.SpscConsumer.create(name)
        call = c.pop
    elif kind == "command":
        r = shmkit.CommandReader.create(name)
        call = r.read
    elif kind == "select":
        w = shmkit.BroadcastWriter.create(name)
        r = shmkit.BroadcastReader.attach(name)
        call = lambda: shmkit.select([r])
    elif kind == "attach":
        # A half-made segment (state 0, core/SPEC.md "Creation handshake"): attach waits for it.
        shmkit.Block.create(name, 64).close()
        with open("/dev/shm" + name, "r+b") as f:
            f.seek(40)
            f.write(bytes(4))
        call = lambda: shmkit.Block.attach(name, ready_timeout=60)
    print("ready", flush=True)
    call()
    print("returned", flush=True)
"""


@pytest.mark.parametrize("kind", ["broadcast", "spsc", "command", "select", "attach"])
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


# ---- msgpack helpers -------------------------------------------------------------------------

OBJECTS = [
    {"a": 1, "b": "two", "c": 3.5, "d": None, "e": True},
    [1, "two", [3, [4, [5]]], {"k": b"\x00\xff"}],
    b"raw \x00 bytes",
    {"nested": {"list": [1, 2, {"deep": [b"x", "y", -7]}], "empty": {}}, "big": 2 ** 40},
    "just a string",
    42,
]


def test_msgpack_broadcast(name):
    w, r = broadcast_pair(name)
    assert r.try_read_obj() is None
    for obj in OBJECTS:
        w.write_obj(obj)
    assert r.try_read_obj() == OBJECTS[0]
    assert [r.read_obj(timeout=NO_HANG) for _ in OBJECTS[1:]] == OBJECTS[1:]
    assert r.try_read_obj() is None


def test_msgpack_command(name):
    w, r = command_pair(name)
    assert r.try_read_obj() is None
    for obj in OBJECTS:
        w.write_obj(obj, timeout=NO_HANG)
    assert r.try_read_obj() == OBJECTS[0]
    assert [r.read_obj(timeout=NO_HANG) for _ in OBJECTS[1:]] == OBJECTS[1:]
    assert r.try_read_obj() is None


def test_msgpack_spsc(name):
    p, c = spsc_pair(name)
    assert c.try_pop_obj() is None
    for obj in OBJECTS:
        p.push_obj(obj)
    assert c.try_pop_obj() == OBJECTS[0]
    assert [c.pop_obj(timeout=NO_HANG) for _ in OBJECTS[1:]] == OBJECTS[1:]
    assert c.try_pop_obj() is None
    with pytest.raises(shmkit.Timeout):
        c.pop_obj(timeout=0.05)


def test_msgpack_is_wire_compatible_with_raw_bytes(name):
    msgpack = pytest.importorskip("msgpack")
    w, r = broadcast_pair(name)
    w.write_obj({"x": [1, b"y"]})
    assert msgpack.unpackb(r.read(timeout=NO_HANG), raw=False) == {"x": [1, b"y"]}
    w.write(msgpack.packb(["z", 3], use_bin_type=True))
    assert r.read_obj(timeout=NO_HANG) == ["z", 3]


# ---- exceptions ------------------------------------------------------------------------------


def test_error_classes_and_codes():
    # One class per C++ error code, paired from the list in errc.hpp.
    codes = shmkit._shmkit._error_codes
    classes = [getattr(_errors, name) for _, name, _ in codes]
    assert len(set(classes)) == len(classes) == len(codes)
    for (code, name, meaning), cls in zip(codes, classes):
        assert issubclass(cls, shmkit.Error), cls
        assert cls.code == code, (cls, cls.code, code)
        assert getattr(shmkit, name) is cls
        assert meaning
    assert issubclass(shmkit.CallbackError, shmkit.Error)
    builtins = {
        shmkit.Timeout: TimeoutError, shmkit.LockTimeout: TimeoutError, shmkit.NotFound: FileNotFoundError,
        shmkit.AlreadyExists: FileExistsError, shmkit.AccessDenied: PermissionError,
        shmkit.InvalidArgument: ValueError, shmkit.Closed: ValueError, shmkit.MessageTooLarge: ValueError,
        shmkit.WrongKind: TypeError, shmkit.OutOfRange: IndexError, shmkit.Interrupted: InterruptedError,
        shmkit.OSFailure: OSError,
    }
    for cls, base in builtins.items():
        assert issubclass(cls, base), (cls, base)
    assert issubclass(shmkit.LockTimeout, shmkit.Timeout)
    assert issubclass(shmkit.VersionMismatch, shmkit.InvalidLayout)


def _check_raised(excinfo, cls):
    e = excinfo.value
    assert type(e) is cls, type(e)
    assert e.code == cls.code
    assert str(e)  # a message naming the operation


def test_not_found_on_attach_of_missing_name(name):
    for attach in (shmkit.BroadcastReader.attach, shmkit.BroadcastWriter.attach, shmkit.SpscConsumer.attach,
                   shmkit.SpscProducer.attach, shmkit.CommandWriter.attach, shmkit.CommandReader.attach):
        with pytest.raises(shmkit.NotFound) as ei:
            attach(name + "-missing", ready_timeout=0)
        _check_raised(ei, shmkit.NotFound)
        assert isinstance(ei.value, FileNotFoundError)
        assert name + "-missing" in str(ei.value)


def test_already_exists_on_create_of_live_name(name):
    w = shmkit.BroadcastWriter.create(name)
    with pytest.raises(shmkit.AlreadyExists) as ei:
        shmkit.BroadcastWriter.create(name)
    _check_raised(ei, shmkit.AlreadyExists)
    c = shmkit.SpscConsumer.create(name + "-s")
    with pytest.raises(shmkit.AlreadyExists):
        shmkit.SpscProducer.create(name + "-s")
    r = shmkit.CommandReader.create(name + "-c")
    with pytest.raises(shmkit.AlreadyExists):
        shmkit.CommandReader.create(name + "-c")
    assert not (w.closed or c.closed or r.closed)


@pytest.mark.parametrize("create", [
    lambda n: shmkit.BroadcastWriter.create(n),
    lambda n: shmkit.SpscConsumer.create(n),
    lambda n: shmkit.CommandReader.create(n),
], ids=["broadcast", "spsc", "command"])
def test_invalid_argument_for_bad_name(create):
    with pytest.raises(shmkit.InvalidArgument) as ei:
        create("noslash")
    _check_raised(ei, shmkit.InvalidArgument)
    assert isinstance(ei.value, ValueError)


def test_wrong_kind_on_attach_as_another_kind(name):
    w = shmkit.BroadcastWriter.create(name)
    with pytest.raises(shmkit.WrongKind) as ei:
        shmkit.SpscConsumer.attach(name)
    _check_raised(ei, shmkit.WrongKind)
    with pytest.raises(shmkit.WrongKind):
        shmkit.CommandWriter.attach(name)
    del w


def test_closed_after_close(name):
    w, r = broadcast_pair(name)
    p, c = spsc_pair(name + "-s")
    cw, cr = command_pair(name + "-c")
    for h in (w, r, p, c, cw, cr):
        h.close()
        assert h.closed
        h.close()  # idempotent
        assert "closed" in repr(h)
    calls = [lambda: w.write(b"x"), lambda: w.reserve(1), lambda: r.read(timeout=0), r.try_read,
             lambda: r.read_into(bytearray(8)), r.poll, lambda: p.push(b"x"), lambda: p.try_push(b"x"),
             c.try_pop, lambda: c.pop(0.1), lambda: c.peek(0), lambda: cw.write(b"x"),
             lambda: cw.try_write(b"x"), cr.try_read, lambda: cr.read(0.1)]
    for call in calls:
        with pytest.raises(shmkit.Closed) as ei:
            call()
        _check_raised(ei, shmkit.Closed)


def test_context_manager_closes(name):
    with shmkit.BroadcastWriter.create(name) as w:
        with shmkit.BroadcastReader.attach(name) as r:
            w.write(b"x")
            assert r.read(timeout=NO_HANG) == b"x"
    assert w.closed and r.closed


def test_reached_errors_through_real_calls(name):
    """Overrun, Busy, MessageTooLarge, AccessDenied and Timeout as raised by the binding carry
    their class's code (the per-kind tests above check the behaviour)."""
    w, r = broadcast_pair(name, capacity=256, max_message=64)
    for i in range(40):
        w.write(b"%03d" % i)
    with pytest.raises(shmkit.Overrun) as ei:
        r.try_read()
    _check_raised(ei, shmkit.Overrun)
    assert ei.value.lost > 0
    with pytest.raises(shmkit.Busy) as ei:
        shmkit.BroadcastWriter.attach(name)
    _check_raised(ei, shmkit.Busy)
    with pytest.raises(shmkit.MessageTooLarge) as ei:
        w.write(b"z" * 65)
    _check_raised(ei, shmkit.MessageTooLarge)
    ro = shmkit.BroadcastReader.attach(name, read_only=True)
    with pytest.raises(shmkit.AccessDenied) as ei:
        ro.read(timeout=1)
    _check_raised(ei, shmkit.AccessDenied)
    while r.try_read() is not None:
        pass
    with pytest.raises(shmkit.Timeout) as ei:
        r.read(timeout=0.05)
    _check_raised(ei, shmkit.Timeout)
