"""Handle lifetimes: memory handed to Python (arrays, memoryviews, SampleViews, reservations, peeked
messages) pins its handle, close() refuses (BufferError) while it exists and unmaps nothing, a
closed handle raises Closed, and views keep the mapping alive after the handle object is gone."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import shmkit
from conftest import run_python


def _close_refused(handle) -> None:
    with pytest.raises(BufferError):
        handle.close()
    assert not handle.closed


# ---- close() with live exports --------------------------------------------------------------------


def test_close_with_numpy_view(name):
    b = shmkit.Block.create(name, 64)
    a = np.asarray(b)
    a[0] = 5
    assert b.exports == 1
    _close_refused(b)
    assert a[0] == 5  # still mapped and readable
    a[1] = 6          # and writable
    assert b.read(0, 2) == b"\x05\x06"  # the handle still works too
    del a
    assert b.exports == 0
    b.close()
    assert b.closed


def test_close_with_block_array(name):
    b = shmkit.Block.create(name, 64)
    f = b.array("float32", 4, 16)
    f[:] = [1, 2, 3, 4]
    _close_refused(b)
    assert f.tolist() == [1, 2, 3, 4]
    del f
    b.close()


def test_close_with_memoryview(name):
    b = shmkit.Block.create(name, 64)
    b.write(b"abc")
    mv = memoryview(b)
    assert b.exports == 1
    _close_refused(b)
    assert bytes(mv[:3]) == b"abc"
    mv.release()
    assert b.exports == 0
    b.close()
    # The same with `del` instead of release().
    b = shmkit.Block.open(name)
    mv = memoryview(b)
    _close_refused(b)
    del mv
    b.close()


def test_close_with_sample_view(name):
    w = shmkit.StreamWriter.create(name, dtype="int32", shape=3)
    r = shmkit.StreamReader.open(name)
    w.write(np.array([1, 2, 3], np.int32))
    v = r.view_latest()
    assert r.exports == 1
    _close_refused(r)
    assert v.array.tolist() == [1, 2, 3]
    assert r.latest().tolist() == [1, 2, 3]
    del v
    assert r.exports == 0
    r.close()
    # A SampleView's array, kept alone, still pins the reader.
    r = shmkit.StreamReader.open(name)
    arr = r.view_latest().array
    assert r.exports == 1
    _close_refused(r)
    assert arr.tolist() == [1, 2, 3]
    del arr
    r.close()
    w.close()


def test_close_with_video_view(name):
    w = shmkit.VideoWriter.create(name, width=4, height=2, format="gray8")
    r = shmkit.VideoReader.open(name)
    w.write(np.full((2, 4), 9, np.uint8))
    v = r.view_latest()
    _close_refused(r)
    assert (v.array == 9).all()
    del v
    r.close()
    w.close()


def test_close_with_reservation(name):
    w = shmkit.StreamWriter.create(name, dtype="float32", shape=4)
    r = shmkit.StreamReader.open(name)
    res = w.reserve()
    assert w.exports == 1
    _close_refused(w)
    res.array[:] = [1, 2, 3, 4]
    assert res.array.tolist() == [1, 2, 3, 4]
    res.commit()
    assert r.latest().tolist() == [1, 2, 3, 4]
    _close_refused(w)  # the committed reservation's array still refers to the slot
    del res
    assert w.exports == 0
    w.close()
    r.close()


def test_close_with_message_reservation(name):
    w = shmkit.BroadcastWriter.create(name, capacity=4096)
    res = w.reserve(5)
    _close_refused(w)
    res.array[:] = np.frombuffer(b"hello", np.uint8)
    res.commit()
    _close_refused(w)
    del res
    w.close()


def test_close_with_spsc_peek(name):
    p = shmkit.SpscProducer.create(name, capacity=4096)
    c = shmkit.SpscConsumer.open(name)
    p.push(b"hello")
    peeked = c.peek(0)
    assert bytes(peeked) == b"hello" and not peeked.flags.writeable
    assert c.exports == 1
    _close_refused(c)
    assert bytes(peeked) == b"hello"
    c.release()
    _close_refused(c)  # released, but the array still refers to the queue's memory
    assert len(bytes(peeked)) == 5  # still mapped (contents may be reused by the producer)
    del peeked
    assert c.exports == 0
    c.close()
    p.close()


def test_derived_views_still_pin(name):
    b = shmkit.Block.create(name, 64)
    a = np.asarray(b)
    part = a[8:16]          # a NumPy view of the view
    again = part.view(np.uint16).reshape(2, 2)
    del a, part
    assert b.exports == 1
    _close_refused(b)
    again[:] = 0x0101
    assert b.read(8, 8) == b"\x01" * 8
    del again
    b.close()
    # memoryview slices too.
    b = shmkit.Block.open(name)
    mv = memoryview(b)
    sub = mv[8:12]
    mv.release()
    _close_refused(b)
    assert bytes(sub) == b"\x01" * 4
    sub.release()
    b.close()


def test_exports_property_counts(name):
    with shmkit.Block.create(name, 64) as b:
        assert b.exports == 0
        a = np.asarray(b)
        assert b.exports == 1
        mv = memoryview(b)
        assert b.exports == 2
        f = b.array("int32")
        assert b.exports == 3
        s = a[1:3]  # derived: no new export
        assert b.exports == 3
        del a
        assert b.exports == 3  # s keeps a's export
        del s
        assert b.exports == 2
        mv.release()
        assert b.exports == 1
        del f
        assert b.exports == 0


def test_committed_reservation_array_is_read_only(name):
    w = shmkit.StreamWriter.create(name, dtype="int16", shape=2)
    res = w.reserve()
    arr = res.array
    assert arr.flags.writeable
    arr[:] = [1, 2]
    res.commit()
    assert res.finished
    assert not arr.flags.writeable
    assert not res.array.flags.writeable
    with pytest.raises(ValueError):
        arr[0] = 3
    # Abandoned reservations too.
    res2 = w.reserve()
    arr2 = res2.array
    res2.abandon()
    assert not arr2.flags.writeable
    del res, arr, res2, arr2
    w.close()


def test_message_reservation_read_only_after_commit(name):
    p = shmkit.SpscProducer.create(name, capacity=4096)
    res = p.reserve(3)
    arr = res.array
    arr[:] = [1, 2, 3]
    res.commit()
    assert not arr.flags.writeable
    del res, arr
    p.close()


# ---- closed handles ---------------------------------------------------------------------------------


def test_closed_block_raises_closed(name):
    b = shmkit.Block.create(name, 64)
    t = b.typed()
    b.close()
    assert b.closed
    for call in (lambda: b.size, lambda: b.read(), lambda: b.write(b"x"), lambda: b.array("uint8"),
                 lambda: b.lock(0), lambda: b.lock_shared(0), lambda: b.typed(), lambda: t.read("i32"),
                 lambda: t.write("i32", 1), lambda: t.seek(0)):
        with pytest.raises(shmkit.Closed):
            call()
    with pytest.raises(ValueError):  # Closed is a ValueError, like I/O on a closed file
        b.read()
    assert "closed" in repr(b)


def test_closed_block_buffer_protocol_raises(name):
    # memoryview()/numpy.asarray() of a closed Block must raise, not abort the interpreter: run in a
    # child so a crash is reported as a failure instead of taking the test session down.
    shmkit.Block.create(name, 64).close()
    proc = run_python("""
        import sys, numpy as np, shmkit
        b = shmkit.Block.open(sys.argv[1])
        b.close()
        for make in (memoryview, bytes):
            try:
                make(b)
            except (shmkit.Closed, BufferError):
                pass
            else:
                raise SystemExit(f"{make.__name__}(closed block) did not raise")
        try:  # NumPy may fall back to an object array: only surviving matters here
            a = np.asarray(b)
        except Exception:
            pass
        else:
            assert a.dtype == object, a.dtype
        print("ok")
    """, name, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", \
        f"child exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"


def test_closed_slot_and_kv_handles_raise_closed(name):
    w = shmkit.StreamWriter.create(name + "-s", dtype="int32", shape=1)
    r = shmkit.StreamReader.open(name + "-s")
    kv = shmkit.KV.create(name + "-k", ["a"])
    p = shmkit.SpscProducer.create(name + "-q", capacity=4096)
    c = shmkit.SpscConsumer.open(name + "-q")
    for h in (w, r, kv, p, c):
        h.close()
        assert h.closed
    calls = [
        lambda: w.write(np.zeros(1, np.int32)), lambda: w.reserve(), lambda: w.samples_written,
        lambda: r.latest(), lambda: r.next(0), lambda: r.try_next(), lambda: r.wait_latest(0),
        lambda: r.view_latest(), lambda: r.poll(),
        lambda: kv.get("a"), lambda: kv.set("a", b"1"), lambda: kv.epoch, lambda: kv.changes(),
        lambda: kv.wait_change(timeout=0),
        lambda: p.push(b"x", 0), lambda: p.try_push(b"x"), lambda: c.try_pop(), lambda: c.peek(0),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(shmkit.Closed):
            call()
            pytest.fail(f"call {i} did not raise")


def test_context_manager_closes(name):
    with shmkit.Block.create(name, 16) as b:
        assert not b.closed
    assert b.closed
    with shmkit.KV.create(name + "-k", ["a"]) as kv:
        pass
    assert kv.closed
    with shmkit.StreamWriter.create(name + "-s", dtype="int8", shape=1) as w, \
            shmkit.StreamReader.open(name + "-s") as r:
        pass
    assert w.closed and r.closed
    # A with-block that ends with a view still alive: __exit__ refuses like close().
    with pytest.raises(BufferError):
        with shmkit.Block.open(name) as b2:
            a = np.asarray(b2)
    assert not b2.closed
    del a
    b2.close()
    assert b2.closed


def test_double_close_is_fine(name):
    b = shmkit.Block.create(name, 16)
    b.close()
    b.close()
    assert b.closed
    r = shmkit.BroadcastWriter.create(name + "-b", capacity=4096)
    r.close()
    r.close()
    assert r.closed


def test_close_after_refusal_succeeds_and_segment_survives(name):
    b = shmkit.Block.create(name, 16)
    a = np.asarray(b)
    a[0] = 42
    _close_refused(b)
    _close_refused(b)  # refusing twice changes nothing
    del a
    b.close()
    with shmkit.Block.open(name) as again:  # close() detaches; the segment stays
        assert again.read(0, 1) == b"\x2a"


# ---- views outlive their handle object ------------------------------------------------------------


def test_view_keeps_handle_alive_after_del(name):
    b = shmkit.Block.create(name, 64)
    b.write(b"abc")
    a = b.array("uint8")
    del b
    gc.collect()
    assert bytes(a[:3]) == b"abc"
    a[3] = ord("d")
    with shmkit.Block.open(name) as other:
        assert other.read(0, 4) == b"abcd"  # the mapping is the live segment
    del a
    gc.collect()
    # A memoryview alone does the same.
    b = shmkit.Block.open(name)
    mv = memoryview(b)
    del b
    gc.collect()
    assert bytes(mv[:4]) == b"abcd"
    mv[4] = ord("e")
    with shmkit.Block.open(name) as other:
        assert other.read(0, 5) == b"abcde"
    mv.release()
    gc.collect()


def test_sample_view_keeps_reader_alive_after_del(name):
    w = shmkit.StreamWriter.create(name, dtype="int32", shape=2)
    r = shmkit.StreamReader.open(name)
    w.write(np.array([7, 8], np.int32))
    v = r.view_latest()
    del r
    gc.collect()
    assert v.array.tolist() == [7, 8] and v.valid
    w.write(np.array([9, 10], np.int32))
    assert v.array.tolist() == [7, 8]  # its own slot, not overwritten yet
    del v
    gc.collect()
    w.close()


def test_reservation_keeps_writer_alive_after_del(name):
    w = shmkit.StreamWriter.create(name, dtype="int32", shape=2)
    r = shmkit.StreamReader.open(name)
    res = w.reserve()
    del w
    gc.collect()
    res.array[:] = [3, 4]
    res.commit()
    assert r.latest().tolist() == [3, 4]
    del res
    gc.collect()
    r.close()


# ---- remove() while attached -----------------------------------------------------------------------


def test_remove_while_attached(name):
    b = shmkit.Block.create(name, 64)
    b2 = shmkit.Block.open(name)
    a = np.asarray(b2)
    shmkit.remove(name)
    with pytest.raises(shmkit.NotFound):
        shmkit.Block.open(name)
    with pytest.raises(FileNotFoundError):
        shmkit.Block.open(name)
    b.write(b"still")
    assert b2.read(0, 5) == b"still"
    assert bytes(a[:5]) == b"still"
    with b.write_lock(5):
        b.write(b"S")
    assert a[0] == ord("S")
    with pytest.raises(shmkit.NotFound):
        shmkit.remove(name)  # already gone
    assert not any(s["name"] == name for s in shmkit.list_segments())
    del a
    b.close()
    b2.close()


def test_remove_stream_while_attached(name):
    w = shmkit.StreamWriter.create(name, dtype="int32", shape=1)
    r = shmkit.StreamReader.open(name)
    shmkit.remove(name)
    w.write(np.array([5], np.int32))
    assert r.next(5).tolist() == [5]
    with pytest.raises(shmkit.NotFound):
        shmkit.StreamReader.open(name)
    # A new segment of the same name is a different one.
    w2 = shmkit.StreamWriter.create(name, dtype="int32", shape=1)
    with shmkit.StreamReader.open(name) as r2:
        w.write(np.array([6], np.int32))
        assert r2.latest() is None
        assert r.next(5).tolist() == [6]
    w.close()
    w2.close()
    r.close()


def test_owner_unlink_removes_its_own_name_only(name):
    w = shmkit.StreamWriter.create(name, dtype="int32", shape=1)
    r = shmkit.StreamReader.open(name)
    w.unlink()
    with pytest.raises(shmkit.NotFound):
        shmkit.StreamReader.open(name)
    w.write(np.array([5], np.int32))  # both handles keep using the segment
    assert r.next(5).tolist() == [5]
    with pytest.raises(shmkit.NotFound):
        w.unlink()  # already gone
    # The name now holds another segment: the old handles' unlink leaves it alone.
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1) as w2:
        with pytest.raises(shmkit.NotFound):
            w.unlink()
        with pytest.raises(shmkit.NotFound):
            r.unlink()
        shmkit.StreamReader.open(name).close()
        w2.unlink()
    w.close()
    with pytest.raises(shmkit.Closed):
        w.unlink()
    r.close()


@pytest.mark.parametrize("make", [
    lambda n: shmkit.BroadcastWriter.create(n),
    lambda n: shmkit.SpscConsumer.create(n),
    lambda n: shmkit.CommandReader.create(n),
    lambda n: shmkit.Block.create(n, 64),
    lambda n: shmkit.KV.create(n, ["k"]),
    lambda n: shmkit.VideoWriter.create(n, width=4, height=2, format="gray8"),
    lambda n: shmkit.AudioWriter.create(n, channels=1),
], ids=["broadcast", "spsc", "command", "block", "kv", "video", "audio"])
def test_every_handle_unlinks_its_segment(name, make):
    with make(name) as h:
        h.unlink()
        assert not any(s["name"] == name for s in shmkit.list_segments())

