"""spsc through the Python binding: push/pop, peek/release, blocking both ways, processes."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG, spsc_pair, start_python


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


def test_spsc_both_ends_see_how_full_the_ring_is(name):
    p, c = spsc_pair(name, capacity=256)
    assert p.is_empty and c.is_empty and not p.is_full
    assert (p.used, p.free, p.capacity) == (0, 256, 256)
    p.push(b"hello")  # a 16-byte header and 16 bytes of payload
    assert p.used == c.used == 32
    assert c.free == 256 - 32
    while p.try_push(b""):
        pass
    assert p.is_full and c.is_full and c.used == 256
    assert c.pop(timeout=NO_HANG) == b"hello"
    assert p.used == 256 - 32 and not p.is_full  # room again once the consumer pops


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
    assert c.try_peek() is None
    for timeout in (0, 0.1):
        with pytest.raises(shmkit.Timeout):
            c.peek(timeout=timeout)
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
    assert c.try_peek().tobytes() == b"first"
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
    assert c.try_pop_into(bytearray(8)) is None
    with pytest.raises(shmkit.Timeout):
        c.pop_into(bytearray(8), timeout=0)
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
        shmkit.SpscConsumer.open(name)
    with pytest.raises(shmkit.Busy):
        shmkit.SpscProducer.open(name)
    p.push(b"still works")
    assert c.pop(timeout=NO_HANG) == b"still works"


def test_spsc_liveness(name):
    p, c = spsc_pair(name)
    assert p.consumer_alive
    assert c.producer_alive
    c.close()
    assert not p.consumer_alive
    c2 = shmkit.SpscConsumer.open(name)
    assert p.consumer_alive
    p.close()
    assert not c2.producer_alive


def test_spsc_producer_in_child_process(name):
    count = 10_000
    c = shmkit.SpscConsumer.create(name, capacity=4096)  # small: the child must wait for room
    child = start_python("""
        import struct, sys, shmkit
        name, count = sys.argv[1], int(sys.argv[2])
        p = shmkit.SpscProducer.open(name)
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
