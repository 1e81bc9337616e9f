"""Stream through the Python binding: dtypes and shapes, next/latest, overruns, views,
reservations, on_data."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG, wait_until


# ==== Stream =====================================================================================

NUMERIC = [
    ("float32", (2, 3)),
    ("int16", (5,)),
    ("complex64", (2, 2)),
    ("bool", (3,)),
    ("float16", (4,)),
    ("uint64", (1,)),
    ("float64", (2, 1, 3)),
]


def _sample(dtype, shape, seed):
    n = int(np.prod(shape))
    if dtype == "bool":
        return (np.arange(n) % (seed + 2) == 0).reshape(shape)
    values = np.arange(n) + seed * 10
    if dtype.startswith("complex"):
        return (values + 1j * (values + 0.5)).astype(dtype).reshape(shape)
    return values.astype(dtype).reshape(shape)


@pytest.mark.parametrize("dtype, shape", NUMERIC, ids=[d for d, _ in NUMERIC])
def test_stream_numeric_round_trip(name, dtype, shape):
    with shmkit.StreamWriter.create(name, dtype=dtype, shape=shape, slots=4) as w, \
            shmkit.StreamReader.open(name) as r:
        assert w.dtype == np.dtype(dtype) and r.dtype == np.dtype(dtype)
        assert w.shape == shape and r.shape == shape
        assert w.sample_bytes == r.sample_bytes == np.dtype(dtype).itemsize * int(np.prod(shape))
        for seed in range(2):
            w.write(_sample(dtype, shape, seed))
        latest = r.latest()
        assert latest.dtype == np.dtype(dtype) and latest.shape == shape
        assert np.array_equal(latest, _sample(dtype, shape, 1))
        first = r.next(NO_HANG)
        assert first.dtype == np.dtype(dtype) and first.shape == shape
        assert np.array_equal(first, _sample(dtype, shape, 0))
        assert r.last.index == 0 and r.last.size == w.sample_bytes
        assert np.array_equal(r.next(NO_HANG), _sample(dtype, shape, 1))
        assert r.try_next() is None


def test_stream_shape_given_as_int(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=3) as w, shmkit.StreamReader.open(name, shape=3) as r:
        assert w.shape == (3,) and r.shape == (3,)


def test_stream_bytes_variable_sizes(name):
    with shmkit.StreamWriter.create(name, dtype="bytes", max_bytes=100, slots=8) as w, \
            shmkit.StreamReader.open(name) as r:
        assert w.dtype == "bytes" and r.dtype == "bytes"
        msgs = [b"a", b"", b"x" * 100, "héllo", bytearray(b"ba")]
        for m in msgs:
            w.write(m)
        for m in msgs:
            got = r.next(NO_HANG)
            assert isinstance(got, bytes)
            assert got == (m.encode() if isinstance(m, str) else bytes(m))
            assert r.last.size == len(got)
        with pytest.raises(shmkit.MessageTooLarge):
            w.write(b"x" * 101)
        assert r.try_next() is None
        # reserve() hands out max_bytes; commit(n) publishes the first n.
        res = w.reserve()
        assert res.size == 100 and res.array.shape == (100,) and res.array.dtype == np.uint8
        res.array[:5] = np.frombuffer(b"hello", np.uint8)
        res.commit(5)
        assert r.next(NO_HANG) == b"hello"
        res = w.reserve()
        with pytest.raises(ValueError):
            res.commit(101)
        res.commit(0)
        assert r.next(NO_HANG) == b""
        del res  # its (now read-only) array pins the writer


def test_stream_obj_helpers(name):
    with shmkit.StreamWriter.create(name, dtype="bytes", max_bytes=256) as w, shmkit.StreamReader.open(name) as r:
        assert r.latest_obj() is None
        w.write_obj({"k": [1, 2], "s": "x"})
        w.write_obj([3])
        assert r.latest_obj() == [3]
        assert r.next_obj(NO_HANG) == {"k": [1, 2], "s": "x"}
        assert r.next_obj(NO_HANG) == [3]


def test_stream_empty(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=2) as w, shmkit.StreamReader.open(name) as r:
        assert r.latest() is None
        assert r.try_next() is None
        assert r.view_latest() is None
        assert r.view_next() is None
        assert not r.poll()
        with pytest.raises(shmkit.Timeout):
            r.next(0.05)
        with pytest.raises(shmkit.Timeout):
            r.wait_latest(0.05)
        assert w.samples_written == 0


def test_stream_next_order_and_overrun(name):
    slots = 4
    total = 10
    with shmkit.StreamWriter.create(name, dtype="int64", shape=1, slots=slots) as w, \
            shmkit.StreamReader.open(name) as r:
        assert r.slots == slots
        for i in range(total):
            w.write(np.array([i], np.int64))
        assert w.samples_written == total
        assert r.poll()  # lapped: ready, a read returns at once
        # A lap is not an exception: the read returns the oldest sample kept, and `lost` (also in
        # `last`) says how many were overwritten just before it.
        first = r.try_next()
        lost = r.lost
        assert total - slots <= lost < total
        assert r.last.index == lost and first.tolist() == [lost]
        assert r.last.lost == lost and r.total_lost == lost and r.overruns == 1
        for i in range(lost + 1, total):
            assert r.next(NO_HANG).tolist() == [i]
            assert r.last.index == i
            assert r.lost == 0 and r.last.lost == 0
        assert r.try_next() is None
        # next() and view_next() after a lap: the same.
        for i in range(total, 2 * total):
            w.write(np.array([i], np.int64))
        got = r.next(0)
        lost2 = r.lost
        assert total - slots <= lost2 < total
        assert got.tolist() == [total + lost2] and r.last.lost == lost2
        assert r.total_lost == lost + lost2 and r.overruns == 2
        while r.try_next() is not None:
            pass
        for i in range(2 * total, 3 * total):
            w.write(np.array([i], np.int64))
        view = r.view_next()
        lost3 = view.info.lost
        assert total - slots <= lost3 < total and r.lost == lost3
        assert view.info.index == 2 * total + lost3 and view.array.tolist() == [2 * total + lost3]
        assert r.total_lost == lost + lost2 + lost3 and r.overruns == 3
        del view
        # latest() skips by design: nothing lost is reported with it.
        r.latest()
        assert r.last.lost == 0
        # A reader attached later with from_oldest starts at the oldest kept, nothing lost.
        oldest = 2 * total + lost3
        with shmkit.StreamReader.open(name, from_oldest=True) as old:
            assert old.next_index == oldest
            assert old.try_next().tolist() == [oldest] and old.lost == 0
        # A reader attached later without from_oldest only sees new samples.
        with shmkit.StreamReader.open(name) as new:
            assert new.try_next() is None
            w.write(np.array([3 * total], np.int64))
            assert new.try_next().tolist() == [3 * total]


@pytest.mark.parametrize("kind", ["stream", "video", "audio"])
def test_slot_readers_from_newest(name, kind):
    if kind == "stream":
        w = shmkit.StreamWriter.create(name, dtype="int64", shape=1, slots=4)
        sample = lambda i: np.array([i], np.int64)  # noqa: E731
        reader = shmkit.StreamReader
    elif kind == "video":
        w = shmkit.VideoWriter.create(name, width=4, height=2, format="gray8", slots=4)
        sample = lambda i: np.full((2, 4), i, np.uint8)  # noqa: E731
        reader = shmkit.VideoReader
    else:
        w = shmkit.AudioWriter.create(name, channels=1, format="s16le", sample_rate=8000, buffer_seconds=0.001,
                                      slots=4)
        sample = lambda i: np.full((8, 1), i, np.int16)  # noqa: E731
        reader = shmkit.AudioReader
    with w, reader.open(name, from_newest=True) as on_empty:
        assert on_empty.next_index == 0  # nothing present: the next new sample
        for i in range(7):  # laps the 4 slots
            w.write(sample(i))
        with reader.open(name, from_newest=True) as r:
            assert r.next_index == 6
            assert np.array_equal(r.next(NO_HANG), sample(6)) and r.last.index == 6 and r.lost == 0
            assert r.try_next() is None
        with pytest.raises(shmkit.InvalidArgument):
            reader.open(name, from_oldest=True, from_newest=True)


def test_stream_from_newest_in_another_process(name):
    from conftest import run_python
    with shmkit.StreamWriter.create(name, dtype="int64", shape=1, slots=4) as w:
        for i in range(7):
            w.write(np.array([i], np.int64))
        out = run_python("""
            import sys, shmkit
            with shmkit.StreamReader.open(sys.argv[1], from_newest=True) as r:
                print(r.next(0).tolist(), r.last.index, r.try_next())
        """, name).stdout
        assert out.split() == ["[6]", "6", "None"]


def test_stream_wait_latest(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2) as w, shmkit.StreamReader.open(name) as r:
        w.write(np.array([1, 2], np.int32))
        w.write(np.array([3, 4], np.int32))
        assert r.fresh()
        assert r.wait_latest(NO_HANG).tolist() == [3, 4]  # the newest, skipping [1, 2]
        assert not r.fresh()
        with pytest.raises(shmkit.Timeout):
            r.wait_latest(0.05)  # nothing newer than what it returned
        assert r.latest().tolist() == [3, 4]  # latest() still returns it
        timer = threading.Timer(0.2, lambda: w.write(np.array([5, 6], np.int32)))
        timer.start()
        try:
            assert r.wait_latest(NO_HANG).tolist() == [5, 6]
        finally:
            timer.join()
        assert r.last.index == 2


def test_stream_reader_expectations(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 3)):
        with shmkit.StreamReader.open(name, dtype="float32", shape=(2, 3)) as r:
            assert r.shape == (2, 3)
        with pytest.raises(shmkit.WrongKind):
            shmkit.StreamReader.open(name, dtype="int16")
        with pytest.raises(TypeError):  # WrongKind is a TypeError too
            shmkit.StreamReader.open(name, dtype="float64")
        with pytest.raises(shmkit.WrongKind):
            shmkit.StreamReader.open(name, dtype="bytes")
        with pytest.raises(shmkit.SizeMismatch):
            shmkit.StreamReader.open(name, shape=(3, 2))
        with pytest.raises(shmkit.SizeMismatch):
            shmkit.StreamReader.open(name, shape=6)
        with pytest.raises(shmkit.WrongKind):
            shmkit.VideoReader.open(name)


def test_stream_write_checks(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 3)) as w, shmkit.StreamReader.open(name) as r:
        with pytest.raises(TypeError):
            w.write(np.zeros((2, 3), np.float64))
        with pytest.raises(TypeError):
            w.write(np.zeros((2, 3), np.int32))
        with pytest.raises(shmkit.SizeMismatch):
            w.write(np.zeros((2, 2), np.float32))
        with pytest.raises(shmkit.SizeMismatch):
            w.write(np.zeros(7, np.float32))
        with pytest.raises(shmkit.SizeMismatch):
            w.write(b"\x00" * 23)
        assert w.samples_written == 0 and r.latest() is None
        sample = np.arange(6, dtype=np.float32).reshape(2, 3)
        w.write(sample.tobytes())           # raw bytes of the right size
        w.write(sample.view(np.uint8))      # raw uint8 arrays are accepted
        w.write(sample)
        assert w.samples_written == 3
        assert np.array_equal(r.latest(), sample)


def test_stream_view_latest_validity(name):
    slots = 4
    with shmkit.StreamWriter.create(name, dtype="int32", shape=4, slots=slots) as w, \
            shmkit.StreamReader.open(name) as r:
        w.write(np.full(4, 7, np.int32))
        v = r.view_latest()
        assert isinstance(v, shmkit.SampleView)
        assert v.valid is True
        assert v.array.tolist() == [7, 7, 7, 7] and v.array.dtype == np.int32
        assert not v.array.flags.writeable
        assert v.info.index == 0 and r.last.index == 0
        assert np.asarray(memoryview(v)).tolist() == [7, 7, 7, 7]
        with v as arr:
            assert arr.tolist() == [7, 7, 7, 7]
        assert v.valid is True  # nothing written meanwhile
        # Zero-copy: a second view of the same sample is the same memory.
        v2 = r.view_latest()
        assert np.shares_memory(v.array, v2.array)
        del v2
        for i in range(slots + 1):  # the writer laps the slot
            w.write(np.full(4, 100 + i, np.int32))
        assert v.valid is False
        del v, arr


def test_stream_view_next(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1, slots=8) as w, shmkit.StreamReader.open(name) as r:
        for i in range(3):
            w.write(np.array([i], np.int32))
        for i in range(3):
            v = r.view_next()
            assert v.array.tolist() == [i] and v.info.index == i and v.valid
            del v
        assert r.view_next() is None


def test_stream_reserve(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 2), slots=4) as w, \
            shmkit.StreamReader.open(name) as r:
        with w.reserve() as arr:
            assert arr.shape == (2, 2) and arr.dtype == np.float32 and arr.flags.writeable
            arr[:] = [[1, 2], [3, 4]]
            with pytest.raises(RuntimeError):  # one reservation at a time
                w.write(np.zeros((2, 2), np.float32))
        assert r.next(NO_HANG).tolist() == [[1, 2], [3, 4]]
        # An exception inside the block publishes nothing.
        with pytest.raises(KeyError):
            with w.reserve() as arr:
                arr[:] = 9
                raise KeyError("abandon")
        assert r.try_next() is None and r.latest().tolist() == [[1, 2], [3, 4]]
        # Dropped without commit: nothing published either.
        res = w.reserve()
        res.array[:] = 5
        del res
        assert r.try_next() is None
        # Explicit commit; fixed-size samples are committed whole.
        res = w.reserve()
        res.array[:] = 6
        with pytest.raises(ValueError):
            res.commit(4)
        res.commit()
        assert res.finished
        assert r.next(NO_HANG).tolist() == [[6, 6], [6, 6]]
        with pytest.raises(RuntimeError):
            res.commit()
        del res, arr
        w.write(np.zeros((2, 2), np.float32))  # the writer is free again
        assert w.samples_written == 3


def test_stream_out_parameter(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2) as w, shmkit.StreamReader.open(name) as r:
        w.write(np.array([1, 2], np.int32))
        w.write(np.array([3, 4], np.int32))
        out = np.zeros(2, np.int32)
        assert r.next(NO_HANG, out=out) is out and out.tolist() == [1, 2]
        buf = bytearray(8)
        assert r.try_next(out=buf) is buf and np.frombuffer(buf, np.int32).tolist() == [3, 4]
        out2 = np.zeros(2, np.int32)
        assert r.latest(out=out2) is out2 and out2.tolist() == [3, 4]
        with pytest.raises(shmkit.MessageTooLarge):
            r.latest(out=bytearray(4))
        with pytest.raises(TypeError):
            r.latest(out=b"12345678")  # not writable


def test_stream_last_sample_info(name):
    with shmkit.StreamWriter.create(name, dtype="uint8", shape=3) as w, shmkit.StreamReader.open(name) as r:
        for i in range(3):
            w.write(np.full(3, i, np.uint8))
        r.next(NO_HANG)
        assert r.last.index == 0
        r.latest()
        info = r.last
        assert isinstance(info, shmkit.SampleInfo)
        assert info.index == 2 and info.size == 3 and info.pts == 0 and info.timestamp_ns > 0
        assert "index=2" in repr(info)


def test_stream_on_data_next(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2, slots=16) as w, \
            shmkit.StreamReader.open(name) as r:
        got = []
        sub = r.on_data(lambda s, index: got.append((s.tolist(), index)))
        try:
            for i in range(5):
                w.write(np.array([i, -i], np.int32))
            assert wait_until(lambda: len(got) >= 5)
        finally:
            sub.stop()
        assert got == [([i, -i], i) for i in range(5)]
        assert sub.delivered == 5 and sub.lost == 0 and sub.error is None


def test_stream_on_data_latest(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1, slots=4) as w, \
            shmkit.StreamReader.open(name) as r:
        got = []
        sub = r.on_data(lambda s, index: got.append((s.tolist(), index)), mode="latest")
        try:
            for i in range(20):
                w.write(np.array([i], np.int32))
            assert wait_until(lambda: got and got[-1][1] == 19)
        finally:
            sub.stop()
        assert got[-1] == ([19], 19)
        indices = [i for _, i in got]
        assert indices == sorted(set(indices))  # each newer than the one before
        assert all(s == [i] for s, i in got)
        with pytest.raises(ValueError):
            r.on_data(print, mode="every")


def test_stream_on_data_callback_error(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1) as w, shmkit.StreamReader.open(name) as r:
        errors = []
        sub = r.on_data(lambda s, i: 1 / 0, on_error=errors.append)
        try:
            w.write(np.array([1], np.int32))
            assert wait_until(lambda: errors)
        finally:
            sub.stop()
        assert isinstance(errors[0], ZeroDivisionError)
