"""Broadcast through the Python binding: one writer, many readers, overruns, reservations,
and large messages copied with the GIL released."""

from __future__ import annotations

import os

import numpy as np
import pytest

import shmkit
from conftest import broadcast_pair, Call, command_pair, NO_HANG, spsc_pair, u8


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


def test_broadcast_skip_counts_messages_lost_before_the_next(name):
    w, r = broadcast_pair(name)
    w.write(b"a")
    w.skip(3)
    w.write(b"b")
    assert r.read(timeout=NO_HANG) == b"a" and r.lost == 0
    assert r.read(timeout=NO_HANG) == b"b" and r.lost == 3
    assert r.total_lost == 3 and r.overruns == 0
    assert w.messages_written == 5
    with pytest.raises(shmkit.InvalidArgument):
        w.skip(2**64 - 1)


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
    assert r.try_read_into(bytearray(16)) is None  # empty, polling
    with pytest.raises(shmkit.Timeout):
        r.read_into(bytearray(16), timeout=0)  # a zero timeout expires like any other
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
    r = shmkit.BroadcastReader.open(name)  # starts at the next new message
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
    late = shmkit.BroadcastReader.open(name)
    oldest = shmkit.BroadcastReader.open(name, from_oldest=True)
    assert late.try_read() is None
    got = [(oldest.read(timeout=NO_HANG), oldest.last_seq) for _ in range(3)]
    assert got == [(b"old0", 0), (b"old1", 1), (b"old2", 2)]
    assert oldest.try_read() is None


def test_broadcast_from_newest(name):
    w = shmkit.BroadcastWriter.create(name, capacity=1024)
    on_empty = shmkit.BroadcastReader.open(name, from_newest=True)  # nothing yet: the next new one
    for i in range(40):  # many laps of the ring
        w.write(b"msg%02d" % i)
    assert on_empty.read(timeout=NO_HANG) != b"msg00"  # lapped meanwhile: the oldest kept
    newest = shmkit.BroadcastReader.open(name, from_newest=True)
    assert newest.next_seq == 39
    assert newest.try_read() == b"msg39" and newest.last_seq == 39 and newest.lost == 0
    assert newest.try_read() is None
    w.write(b"msg40")
    assert newest.try_read() == b"msg40"
    with pytest.raises(shmkit.InvalidArgument):
        shmkit.BroadcastReader.open(name, from_oldest=True, from_newest=True)


def test_broadcast_lapped_read_returns_the_oldest_kept_with_lost(name):
    w, r = broadcast_pair(name, capacity=256)
    total = 40
    for i in range(total):
        w.write(b"%03d" % i)
    assert r.poll()  # lapped: ready, a read returns at once
    # A lap is not an exception: the read returns the oldest message still kept, and `lost` says
    # how many were overwritten just before it.
    first = r.read(timeout=NO_HANG)
    lost = r.lost
    assert 0 < lost < total
    assert first == b"%03d" % lost
    assert r.last_seq == lost
    assert r.total_lost == lost
    assert r.overruns == 1
    rest = [first]
    while (m := r.try_read()) is not None:
        rest.append(m)
        assert r.lost == 0  # nothing lost before these
    assert rest == [b"%03d" % i for i in range(lost, total)]

    # Lapped again: try_read does the same, and the counters add up.
    for i in range(total, 2 * total):
        w.write(b"%03d" % i)
    m = r.try_read()
    lost2 = r.lost
    assert 0 < lost2 < total
    assert m == b"%03d" % (total + lost2) and r.last_seq == total + lost2
    assert r.total_lost == lost + lost2 and r.overruns == 2
    while r.try_read() is not None:
        pass

    # And read_into.
    for i in range(2 * total, 3 * total):
        w.write(b"%03d" % i)
    buf = bytearray(8)
    assert r.read_into(buf, timeout=0) == 3
    lost3 = r.lost
    assert 0 < lost3 < total
    assert bytes(buf[:3]) == b"%03d" % (2 * total + lost3)
    assert r.total_lost == lost + lost2 + lost3 and r.overruns == 3


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
        shmkit.BroadcastWriter.open(name)
    assert ei.value.code == "busy"
    w.write(b"still the writer")
    assert r.read(timeout=NO_HANG) == b"still the writer"
    w.close()
    w2 = shmkit.BroadcastWriter.open(name)  # the role is free again
    w2.write(b"new writer")
    assert r.read(timeout=NO_HANG) == b"new writer"


def test_broadcast_read_only_reader(name):
    w = shmkit.BroadcastWriter.create(name)
    ro = shmkit.BroadcastReader.open(name, read_only=True)
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
