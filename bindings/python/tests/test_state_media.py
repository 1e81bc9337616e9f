"""Block (+ TypedView), KV, Stream, Video and Audio through the Python binding: shapes, dtypes,
contents, errors, locks across processes, and the on_data/msgpack helpers."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import shmkit
from conftest import run_python, start_python

# Generous bounds for "does not hang" only; nothing below asserts on how fast anything is.
HANG = 30.0


def _readline(proc, timeout: float = HANG) -> str:
    """The child's next stdout line, failing (not hanging) if it does not come."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out:
        proc.kill()
        raise AssertionError(f"no line from the child within {timeout} s; stderr: {proc.stderr.read()}")
    return out[0]


def _wait_until(predicate, timeout: float = HANG) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# ==== Block ======================================================================================


def test_block_create_attach_size(name):
    with shmkit.Block.create(name, 1000) as b, shmkit.Block.attach(name) as b2:
        assert b.size == 1000 and b2.size == 1000
        assert b.writable and b2.writable
        assert b.name == name and not b.closed
        assert b.read() == bytes(1000)  # created zeroed
    with pytest.raises(shmkit.NotFound):
        shmkit.Block.attach(name + "-missing")


def test_block_memoryview_shape_and_readonly(name):
    with shmkit.Block.create(name, 256) as b:
        mv = memoryview(b)
        assert mv.shape == (256,) and mv.format == "B" and mv.itemsize == 1 and mv.nbytes == 256
        assert not mv.readonly
        mv[3] = 77
        assert b.read(3, 1) == b"\x4d"
        mv.release()
        with shmkit.Block.attach(name, read_only=True) as ro:
            rmv = memoryview(ro)
            assert rmv.readonly and rmv.shape == (256,)
            assert rmv[3] == 77
            with pytest.raises(TypeError):
                rmv[0] = 1
            rmv.release()


def test_block_numpy_writes_visible_to_handle_and_child(name):
    with shmkit.Block.create(name, 64) as b, shmkit.Block.attach(name) as b2:
        a = np.asarray(b)
        assert a.shape == (64,) and a.dtype == np.uint8 and a.flags.writeable
        a[:4] = [1, 2, 3, 4]
        assert b2.read(0, 4) == bytes([1, 2, 3, 4])
        assert bytes(np.asarray(b2)[:4]) == bytes([1, 2, 3, 4])
        out = run_python("""
            import sys, numpy as np, shmkit
            b = shmkit.Block.attach(sys.argv[1])
            a = np.asarray(b)
            print(list(a[:4]))
            a[10:13] = [9, 8, 7]
            del a
            b.close()
        """, name).stdout
        assert out.strip() == "[1, 2, 3, 4]"
        assert list(a[10:13]) == [9, 8, 7]  # the child's write, seen through the parent's array
        del a


def test_block_typed_array_views(name):
    with shmkit.Block.create(name, 64) as b:
        f = b.array("float32", (2, 3), 16)
        assert f.shape == (2, 3) and f.dtype == np.float32 and f.flags.writeable
        f[:] = [[1, 2, 3], [4, 5, 6]]
        assert np.frombuffer(b.read(16, 24), np.float32).tolist() == [1, 2, 3, 4, 5, 6]
        assert b.array("float32").shape == (16,)          # whole block
        assert b.array("float32", offset=4).shape == (15,)  # the rest of it
        assert b.array("int16", 3, 10).shape == (3,)
        assert b.array("uint8", 0, 64).shape == (0,)       # empty at the very end is fine
        b.array("int16", 3, 10)[:] = [-1, 2, -3]
        assert np.frombuffer(b.read(10, 6), "<i2").tolist() == [-1, 2, -3]
        del f
        with pytest.raises(shmkit.OutOfRange):
            b.array("float32", 17)  # 68 bytes > 64
        with pytest.raises(shmkit.OutOfRange):
            b.array("uint8", 1, 64)
        with pytest.raises(shmkit.OutOfRange):
            b.array("uint8", None, 65)
        with pytest.raises(IndexError):  # OutOfRange is an IndexError too
            b.array("float64", (2, 4), 8)
        assert b.exports == 0  # the failed calls left nothing pinned


def test_block_read_write_bounds(name):
    with shmkit.Block.create(name, 64) as b:
        b.write(b"abcd", 60)
        assert b.read(60) == b"abcd" and b.read(60, 4) == b"abcd"
        assert b.read(64) == b""
        b.write(bytearray(b"xy"), 0)
        b.write("é", 2)  # str is written as UTF-8
        assert b.read(0, 4) == b"xy\xc3\xa9"
        with pytest.raises(shmkit.OutOfRange):
            b.write(b"123456789", 60)
        assert b.read(60) == b"abcd"  # nothing written
        with pytest.raises(shmkit.OutOfRange):
            b.read(60, 8)
        with pytest.raises(shmkit.OutOfRange):
            b.read(65)
        with pytest.raises(shmkit.OutOfRange):
            b.write(b"", 65)


def test_block_read_huge_size_is_out_of_range(name):
    # A size beyond the end is OutOfRange however large, not an allocation failure.
    with shmkit.Block.create(name, 64) as b:
        for offset, size in ((0, 2**62), (0, 2**63 - 1), (8, 2**64 - 8), (63, 2**40)):
            with pytest.raises(shmkit.OutOfRange):
                b.read(offset, size)


def test_block_read_only_attach(name):
    with shmkit.Block.create(name, 32) as b:
        b.write(b"hello")
        with shmkit.Block.attach(name, read_only=True) as ro:
            assert not ro.writable
            assert ro.read(0, 5) == b"hello"
            assert memoryview(ro).readonly
            with pytest.raises(shmkit.AccessDenied):
                ro.write(b"x")
            with pytest.raises(PermissionError):
                ro.write(b"x", 10)
            arr = ro.array("uint8")
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr[0] = 1
            assert not np.asarray(ro).flags.writeable
            with pytest.raises(shmkit.AccessDenied):
                ro.typed().write("i32", 5)
            del arr
        assert b.read(0, 6) == b"hello\x00"


def test_block_lock_context_managers(name):
    with shmkit.Block.create(name, 16) as b, shmkit.Block.attach(name) as b2:
        with b.write_lock(timeout=5) as held:
            assert held.consistent is True
            with pytest.raises(shmkit.LockTimeout):
                b2.lock_shared(0)
            with pytest.raises(shmkit.LockTimeout):
                b2.lock(0)
            with pytest.raises(RuntimeError):  # not recursive
                b.lock(0)
        with b.read_lock(timeout=5) as held:
            assert held.consistent is True
            with b2.read_lock(timeout=5):  # readers share
                pass
            with pytest.raises(shmkit.LockTimeout):
                b2.lock(0)
        assert b2.lock(5) is True  # free again once both blocks ended
        b2.unlock()
        # An exception inside the block still releases the lock.
        with pytest.raises(KeyError):
            with b.write_lock(5):
                raise KeyError("x")
        assert b2.lock(5) is True
        b2.unlock()


def test_block_unlock_without_lock(name):
    with shmkit.Block.create(name, 16) as b:
        with pytest.raises(RuntimeError):
            b.unlock()
        with pytest.raises(RuntimeError):
            b.unlock_shared()
        with pytest.raises(RuntimeError):
            b.mark_consistent()
        b.lock_shared(5)
        b.unlock_shared()
        with pytest.raises(RuntimeError):
            b.unlock_shared()


_HOLD_LOCK = """
import sys, time, shmkit
b = shmkit.Block.attach(sys.argv[1])
b.lock()
b.write(b"half", 0)
print("locked", flush=True)
deadline = time.monotonic() + 60
while b.read(15, 1) != b"\\x01" and time.monotonic() < deadline:
    time.sleep(0.01)
b.unlock()
print("unlocked", flush=True)
"""


def test_block_lock_timeout_while_child_holds_write_lock(name):
    with shmkit.Block.create(name, 16) as b:
        child = start_python(_HOLD_LOCK, name)
        try:
            assert _readline(child).strip() == "locked"
            with pytest.raises(shmkit.LockTimeout):
                b.lock(0.2)
            with pytest.raises(shmkit.LockTimeout):
                b.lock_shared(0.2)
            with pytest.raises(shmkit.LockTimeout):
                with b.read_lock(0.1):
                    pass
            with pytest.raises(shmkit.Timeout):  # LockTimeout is a Timeout (and a TimeoutError)
                with b.write_lock(0):
                    pass
            b.write(b"\x01", 15)  # let the child unlock
            assert _readline(child).strip() == "unlocked"
            assert b.lock(HANG) is True  # released cleanly: no OwnerDead
            b.unlock()
        finally:
            child.kill()
            child.wait()


def test_block_owner_dead_after_sigkill(name):
    with shmkit.Block.create(name, 16) as b:
        child = start_python(_HOLD_LOCK, name)
        try:
            assert _readline(child).strip() == "locked"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        with pytest.raises(shmkit.OwnerDead):
            b.lock(HANG)
        with pytest.raises(shmkit.OwnerDead):  # still inconsistent: nobody repaired it
            b.lock(HANG)
        with pytest.raises(shmkit.OwnerDead):
            with b.write_lock(HANG):
                pytest.fail("the block must not be entered")
        with b.write_lock(HANG, accept_inconsistent=True) as held:
            assert held.consistent is False
            assert b.read(0, 4) == b"half"
            b.write(b"good", 0)
            b.mark_consistent()
        assert b.lock(HANG) is True
        b.unlock()
        with b.read_lock(HANG) as held:
            assert held.consistent is True
        with b.write_lock(HANG) as held:
            assert held.consistent is True
        assert shmkit.info(name)["lock_recoveries"] >= 1


# ---- TypedView ----------------------------------------------------------------------------------

TYPED_CASES = [
    ("bool", True, 1),
    ("bool", False, 1),
    ("i32", -2**31, 4),
    ("u32", 2**32 - 1, 4),
    ("i64", -2**63, 8),
    ("u64", 2**64 - 1, 8),
    ("f32", 1.5, 4),
    ("f64", 0.1, 8),
    ("str", "héllo ✓", 4 + len("héllo ✓".encode())),
    ("str", "", 4),
    ("bytes", b"\x00\xff\x10", 7),
    ("list[i32]", [1, -2, 2**31 - 1], 4 + 12),
    ("list[f64]", [0.5, -1e300, 0.1], 4 + 24),
    ("list[bool]", [True, False, True], 4 + 3),
    ("list[str]", ["a", "βc", ""], 4 + (4 + 1) + (4 + 3) + 4),
    ("list[i32]", [], 4),
]


@pytest.mark.parametrize("type_, value, encoded", TYPED_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(TYPED_CASES)])
def test_typed_round_trip(name, type_, value, encoded):
    with shmkit.Block.create(name, 128) as b:
        t = b.typed()
        assert t.block is b
        t.seek(8)
        t.write(type_, value)
        assert t.position == 8 + encoded
        t.seek(8)
        got = t.read(type_)
        assert t.position == 8 + encoded
        assert got == value and type(got) is type(value)
        # The same value read through a second handle's view.
        with shmkit.Block.attach(name) as b2:
            assert b2.typed().read(type_, at=8) == value


def test_typed_encoding_is_little_endian(name):
    with shmkit.Block.create(name, 32) as b:
        t = b.typed()
        t.write("i32", 0x01020304)
        t.write("str", "ab")
        assert b.read(0, 10) == b"\x04\x03\x02\x01\x02\x00\x00\x00ab"


def test_typed_cursor_and_at(name):
    with shmkit.Block.create(name, 64) as b:
        t = b.typed()
        assert t.position == 0
        t.write("i32", 1)
        t.write("i32", 2)
        assert t.position == 8
        t.write("i64", 99, at=32)  # at= leaves the cursor alone
        assert t.position == 8
        assert t.read("i64", at=32) == 99
        assert t.position == 8
        t.seek(0)
        assert t.read("i32") == 1 and t.position == 4
        assert t.read("i32") == 2 and t.position == 8
        t.seek(64)  # the end is a valid position
        with pytest.raises(shmkit.OutOfRange):
            t.read("bool")
        assert t.position == 64
        with pytest.raises(shmkit.OutOfRange):
            t.seek(65)
        assert t.position == 64
        with pytest.raises(ValueError):
            t.read("nope")


OOR_CASES = [
    ("i64", 5, 12),
    ("str", "x" * 20, 0),
    ("bytes", b"y" * 13, 0),
    ("list[i32]", [1, 2, 3, 4], 0),
    ("list[str]", ["abcd", "abcd", "abcd"], 0),
]


@pytest.mark.parametrize("type_, value, at", OOR_CASES, ids=[c[0] for c in OOR_CASES])
def test_typed_out_of_range_write_writes_nothing(name, type_, value, at):
    with shmkit.Block.create(name, 16) as b:
        t = b.typed()
        t.seek(at)
        with pytest.raises(shmkit.OutOfRange):
            t.write(type_, value)
        assert t.position == at
        assert b.read() == bytes(16), "a refused write changed the block"
        with pytest.raises(shmkit.OutOfRange):
            t.write(type_, value, at=at)
        assert b.read() == bytes(16), "a refused write changed the block"


def test_typed_invalid_utf8_is_invalid_layout(name):
    with shmkit.Block.create(name, 32) as b:
        b.write(b"\x02\x00\x00\x00\xff\xfe", 0)
        t = b.typed()
        with pytest.raises(shmkit.InvalidLayout):
            t.read("str")
        assert t.position == 0  # nothing consumed
        assert t.read("bytes") == b"\xff\xfe"  # the same bytes are fine as bytes
        # A list of strings with an invalid element: refused, cursor unmoved.
        b.write(b"\x02\x00\x00\x00" + b"\x01\x00\x00\x00a" + b"\x01\x00\x00\x00\xc3", 8)
        t.seek(8)
        with pytest.raises(shmkit.InvalidLayout):
            t.read("list[str]")
        assert t.position == 8
        # A bool byte other than 0/1 is not a bool.
        b.write(b"\x02", 30)
        with pytest.raises(shmkit.InvalidLayout):
            t.read("bool", at=30)


def test_typed_corrupt_length_prefix_is_out_of_range(name):
    # A length prefix larger than the block (corrupt or hostile data) must be refused as
    # OutOfRange, not turned into a multi-gigabyte allocation. The child caps its address space so
    # such an allocation fails fast (MemoryError) instead of eating the machine's memory.
    with shmkit.Block.create(name, 64) as b:
        b.write(b"\xff\xff\xff\xff", 0)
        b.write(b"\xff\xff\xff\x7f", 20)
        proc = run_python("""
            import resource, sys, shmkit
            with open("/proc/self/status") as f:
                vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
            resource.setrlimit(resource.RLIMIT_AS, (vm + (512 << 20), resource.RLIM_INFINITY))
            t = shmkit.Block.attach(sys.argv[1]).typed()
            bad = []
            for at in (0, 20):
                for ty in ("bytes", "str", "list[i32]", "list[f64]", "list[bool]", "list[str]"):
                    try:
                        t.read(ty, at=at)
                        bad.append(f"{ty}@{at}: no error")
                    except shmkit.OutOfRange:
                        pass
                    except BaseException as e:
                        bad.append(f"{ty}@{at}: {type(e).__name__}")
            print(bad)
        """, name, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", f"refused with the wrong error: {proc.stdout}"


# ==== KV =========================================================================================


def test_kv_never_written_and_defaults(name):
    with shmkit.KV.create(name, ["a", "b"], max_value=16) as kv:
        assert kv.get("a") is None
        assert kv.get("a", b"dflt") == b"dflt"
        assert kv.get("a", default=7) == 7
        assert kv["a"] is None
        assert kv.get_with_epoch("a") == (None, 0)
        assert kv.get_obj("b") is None and kv.get_obj("b", {"x": 1}) == {"x": 1}
        assert kv.epoch == 0


def test_kv_set_get_bytes_and_str(name):
    with shmkit.KV.create(name, ["a", "b", "c", "d"], max_value=32) as kv, shmkit.KV.attach(name) as other:
        kv.set("a", b"\x00\x01\x02")
        kv.set("b", "héllo")
        kv["c"] = bytearray(b"ba")
        kv.set("d", np.arange(4, dtype=np.uint8))
        assert other.get("a") == b"\x00\x01\x02"
        assert other.get("b") == "héllo".encode()
        assert other["c"] == b"ba"
        assert other.get("d") == bytes([0, 1, 2, 3])
        kv.set("a", b"")  # empty is a value, not "never written"
        assert other.get("a", b"dflt") == b""
        assert kv.max_value == 32


def test_kv_unknown_key(name):
    with shmkit.KV.create(name, ["a"]) as kv:
        with pytest.raises(KeyError):
            kv.get("zz")
        with pytest.raises(KeyError):
            kv["zz"]
        with pytest.raises(KeyError):
            kv.set("zz", b"1")
        with pytest.raises(KeyError):
            kv["zz"] = b"1"
        with pytest.raises(KeyError):
            kv.get_with_epoch("zz")
        assert kv.epoch == 0


def test_kv_message_too_large(name):
    with shmkit.KV.create(name, ["a"], max_value=8) as kv:
        kv.set("a", b"12345678")  # exactly max_value
        with pytest.raises(shmkit.MessageTooLarge):
            kv.set("a", b"123456789")
        with pytest.raises(ValueError):  # MessageTooLarge is a ValueError too
            kv.set("a", "x" * 100)
        assert kv.get("a") == b"12345678"  # refused, not truncated
        with pytest.raises(shmkit.MessageTooLarge):
            kv.set_obj("a", {"too": "large for eight bytes"})


def test_kv_epochs_and_changes(name):
    with shmkit.KV.create(name, ["a", "b", "c"]) as kv, shmkit.KV.attach(name) as other:
        e0 = kv.epoch
        kv.set("a", b"1")
        _, e1 = other.get_with_epoch("a")
        kv.set("b", b"2")
        _, e2 = other.get_with_epoch("b")
        kv.set("a", b"3")
        v, e3 = other.get_with_epoch("a")
        assert v == b"3"
        assert e0 < e1 < e2 < e3
        assert other.epoch == e3 == kv.epoch
        keys, now = other.changed_since(e0)
        assert sorted(keys) == ["a", "b"] and now == e3
        keys, now = other.changed_since(e2)
        assert keys == ["a"] and now == e3
        assert other.changed_since(e3) == ([], e3)
        # changes(): since attach, then since the previous call.
        assert sorted(other.changes()) == ["a", "b"]
        assert other.changes() == []
        kv.set("c", b"4")
        assert other.changes() == ["c"]
        assert other.changes() == []


def test_kv_wait_change(name):
    with shmkit.KV.create(name, ["a"]) as kv, shmkit.KV.attach(name) as other:
        assert other.wait_change(timeout=0.05) is False
        e0 = other.epoch
        kv.set("a", b"1")
        assert other.wait_change(e0, timeout=HANG) is True  # already past: no wait
        assert other.wait_change(other.epoch, timeout=0.05) is False
        timer = threading.Timer(0.2, lambda: kv.set("a", b"2"))
        timer.start()
        try:
            assert other.wait_change(other.epoch, timeout=HANG) is True
        finally:
            timer.join()
        assert other.get("a") == b"2"


def test_kv_value_from_child_process(name):
    with shmkit.KV.create(name, ["pid", "msg"]) as kv:
        since = kv.epoch
        run_python("""
            import os, sys, shmkit
            kv = shmkit.KV.attach(sys.argv[1])
            kv.set("pid", str(os.getpid()))
            kv.set_obj("msg", {"from": "child", "n": [1, 2]})
        """, name)
        assert kv.wait_change(since, timeout=HANG)
        assert int(kv.get("pid")) != os.getpid()
        assert kv.get_obj("msg") == {"from": "child", "n": [1, 2]}
        assert sorted(kv.changed_since(since)[0]) == ["msg", "pid"]


def test_kv_obj_helpers(name):
    with shmkit.KV.create(name, ["o"], max_value=128) as kv:
        obj = {"a": 1, "b": [1.5, "x", None, True], "c": b"\x00raw"}
        kv.set_obj("o", obj)
        assert kv.get_obj("o") == obj
        kv.set_obj("o", [1, 2, 3])
        assert kv.get_obj("o") == [1, 2, 3]


def test_kv_mapping_protocol(name):
    with shmkit.KV.create(name, ["x", "y", "z"]) as kv:
        kv["y"] = b"2"
        assert kv.keys() == ["x", "y", "z"]
        assert list(kv) == ["x", "y", "z"]
        assert len(kv) == 3
        assert "y" in kv and "w" not in kv
        assert kv.items() == {"x": None, "y": b"2", "z": None}


def test_kv_on_data(name):
    with shmkit.KV.create(name, ["a", "b"]) as kv, shmkit.KV.attach(name) as other:
        got = []
        sub = other.on_data(lambda keys, epoch: got.append((sorted(keys), epoch)))
        try:
            assert sub.running
            kv.set("a", b"1")
            assert _wait_until(lambda: any("a" in k for k, _ in got))
            kv.set("b", b"2")
            assert _wait_until(lambda: any("b" in k for k, _ in got))
        finally:
            sub.stop()
        assert not sub.running
        seen = {k for keys, _ in got for k in keys}
        assert seen == {"a", "b"}
        epochs = [e for _, e in got]
        assert epochs == sorted(epochs) and epochs[-1] == kv.epoch
        assert sub.delivered == len(got)


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
            shmkit.StreamReader.attach(name) as r:
        assert w.dtype == np.dtype(dtype) and r.dtype == np.dtype(dtype)
        assert w.shape == shape and r.shape == shape
        assert w.sample_bytes == r.sample_bytes == np.dtype(dtype).itemsize * int(np.prod(shape))
        for seed in range(2):
            w.write(_sample(dtype, shape, seed))
        latest = r.latest()
        assert latest.dtype == np.dtype(dtype) and latest.shape == shape
        assert np.array_equal(latest, _sample(dtype, shape, 1))
        first = r.next(HANG)
        assert first.dtype == np.dtype(dtype) and first.shape == shape
        assert np.array_equal(first, _sample(dtype, shape, 0))
        assert r.last.index == 0 and r.last.size == w.sample_bytes
        assert np.array_equal(r.next(HANG), _sample(dtype, shape, 1))
        assert r.try_next() is None


def test_stream_shape_given_as_int(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=3) as w, shmkit.StreamReader.attach(name, shape=3) as r:
        assert w.shape == (3,) and r.shape == (3,)


def test_stream_bytes_variable_sizes(name):
    with shmkit.StreamWriter.create(name, dtype="bytes", max_bytes=100, slots=8) as w, \
            shmkit.StreamReader.attach(name) as r:
        assert w.dtype == "bytes" and r.dtype == "bytes"
        msgs = [b"a", b"", b"x" * 100, "héllo", bytearray(b"ba")]
        for m in msgs:
            w.write(m)
        for m in msgs:
            got = r.next(HANG)
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
        assert r.next(HANG) == b"hello"
        res = w.reserve()
        with pytest.raises(ValueError):
            res.commit(101)
        res.commit(0)
        assert r.next(HANG) == b""
        del res  # its (now read-only) array pins the writer


def test_stream_obj_helpers(name):
    with shmkit.StreamWriter.create(name, dtype="bytes", max_bytes=256) as w, shmkit.StreamReader.attach(name) as r:
        assert r.latest_obj() is None
        w.write_obj({"k": [1, 2], "s": "x"})
        w.write_obj([3])
        assert r.latest_obj() == [3]
        assert r.next_obj(HANG) == {"k": [1, 2], "s": "x"}
        assert r.next_obj(HANG) == [3]


def test_stream_empty(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=2) as w, shmkit.StreamReader.attach(name) as r:
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
            shmkit.StreamReader.attach(name) as r:
        assert r.slots == slots
        for i in range(total):
            w.write(np.array([i], np.int64))
        assert w.samples_written == total
        assert r.poll()
        with pytest.raises(shmkit.Overrun) as ei:
            r.try_next()
        lost = ei.value.lost
        assert total - slots <= lost < total
        assert r.lost == lost and r.total_lost == lost
        # The next read returns the oldest sample kept: the first one not lost.
        first = r.try_next()
        assert r.last.index == lost and first.tolist() == [lost]
        for i in range(lost + 1, total):
            assert r.next(HANG).tolist() == [i]
            assert r.last.index == i
        assert r.try_next() is None
        # A reader attached later with from_oldest starts at the oldest kept, without Overrun.
        with shmkit.StreamReader.attach(name, from_oldest=True) as old:
            assert old.next_index == lost
            assert old.try_next().tolist() == [lost]
        # A reader attached later without from_oldest only sees new samples.
        with shmkit.StreamReader.attach(name) as new:
            assert new.try_next() is None
            w.write(np.array([total], np.int64))
            assert new.try_next().tolist() == [total]


def test_stream_wait_latest(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2) as w, shmkit.StreamReader.attach(name) as r:
        w.write(np.array([1, 2], np.int32))
        w.write(np.array([3, 4], np.int32))
        assert r.fresh()
        assert r.wait_latest(HANG).tolist() == [3, 4]  # the newest, skipping [1, 2]
        assert not r.fresh()
        with pytest.raises(shmkit.Timeout):
            r.wait_latest(0.05)  # nothing newer than what it returned
        assert r.latest().tolist() == [3, 4]  # latest() still returns it
        timer = threading.Timer(0.2, lambda: w.write(np.array([5, 6], np.int32)))
        timer.start()
        try:
            assert r.wait_latest(HANG).tolist() == [5, 6]
        finally:
            timer.join()
        assert r.last.index == 2


def test_stream_reader_expectations(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 3)):
        with shmkit.StreamReader.attach(name, dtype="float32", shape=(2, 3)) as r:
            assert r.shape == (2, 3)
        with pytest.raises(shmkit.WrongKind):
            shmkit.StreamReader.attach(name, dtype="int16")
        with pytest.raises(TypeError):  # WrongKind is a TypeError too
            shmkit.StreamReader.attach(name, dtype="float64")
        with pytest.raises(shmkit.WrongKind):
            shmkit.StreamReader.attach(name, dtype="bytes")
        with pytest.raises(shmkit.SizeMismatch):
            shmkit.StreamReader.attach(name, shape=(3, 2))
        with pytest.raises(shmkit.SizeMismatch):
            shmkit.StreamReader.attach(name, shape=6)
        with pytest.raises(shmkit.WrongKind):
            shmkit.VideoReader.attach(name)


def test_stream_write_checks(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 3)) as w, shmkit.StreamReader.attach(name) as r:
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
            shmkit.StreamReader.attach(name) as r:
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
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1, slots=8) as w, shmkit.StreamReader.attach(name) as r:
        for i in range(3):
            w.write(np.array([i], np.int32))
        for i in range(3):
            v = r.view_next()
            assert v.array.tolist() == [i] and v.info.index == i and v.valid
            del v
        assert r.view_next() is None


def test_stream_reserve(name):
    with shmkit.StreamWriter.create(name, dtype="float32", shape=(2, 2), slots=4) as w, \
            shmkit.StreamReader.attach(name) as r:
        with w.reserve() as arr:
            assert arr.shape == (2, 2) and arr.dtype == np.float32 and arr.flags.writeable
            arr[:] = [[1, 2], [3, 4]]
            with pytest.raises(RuntimeError):  # one reservation at a time
                w.write(np.zeros((2, 2), np.float32))
        assert r.next(HANG).tolist() == [[1, 2], [3, 4]]
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
        assert r.next(HANG).tolist() == [[6, 6], [6, 6]]
        with pytest.raises(RuntimeError):
            res.commit()
        del res, arr
        w.write(np.zeros((2, 2), np.float32))  # the writer is free again
        assert w.samples_written == 3


def test_stream_out_parameter(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2) as w, shmkit.StreamReader.attach(name) as r:
        w.write(np.array([1, 2], np.int32))
        w.write(np.array([3, 4], np.int32))
        out = np.zeros(2, np.int32)
        assert r.next(HANG, out=out) is out and out.tolist() == [1, 2]
        buf = bytearray(8)
        assert r.try_next(out=buf) is buf and np.frombuffer(buf, np.int32).tolist() == [3, 4]
        out2 = np.zeros(2, np.int32)
        assert r.latest(out=out2) is out2 and out2.tolist() == [3, 4]
        with pytest.raises(shmkit.MessageTooLarge):
            r.latest(out=bytearray(4))
        with pytest.raises(TypeError):
            r.latest(out=b"12345678")  # not writable


def test_stream_last_sample_info(name):
    with shmkit.StreamWriter.create(name, dtype="uint8", shape=3) as w, shmkit.StreamReader.attach(name) as r:
        for i in range(3):
            w.write(np.full(3, i, np.uint8))
        r.next(HANG)
        assert r.last.index == 0
        r.latest()
        info = r.last
        assert isinstance(info, shmkit.SampleInfo)
        assert info.index == 2 and info.size == 3 and info.pts == 0 and info.timestamp_ns > 0
        assert "index=2" in repr(info)


def test_stream_on_data_next(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=2, slots=16) as w, \
            shmkit.StreamReader.attach(name) as r:
        got = []
        sub = r.on_data(lambda s, index: got.append((s.tolist(), index)))
        try:
            for i in range(5):
                w.write(np.array([i, -i], np.int32))
            assert _wait_until(lambda: len(got) >= 5)
        finally:
            sub.stop()
        assert got == [([i, -i], i) for i in range(5)]
        assert sub.delivered == 5 and sub.lost == 0 and sub.error is None


def test_stream_on_data_latest(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1, slots=4) as w, \
            shmkit.StreamReader.attach(name) as r:
        got = []
        sub = r.on_data(lambda s, index: got.append((s.tolist(), index)), mode="latest")
        try:
            for i in range(20):
                w.write(np.array([i], np.int32))
            assert _wait_until(lambda: got and got[-1][1] == 19)
        finally:
            sub.stop()
        assert got[-1] == ([19], 19)
        indices = [i for _, i in got]
        assert indices == sorted(set(indices))  # each newer than the one before
        assert all(s == [i] for s, i in got)
        with pytest.raises(ValueError):
            r.on_data(print, mode="every")


def test_stream_on_data_callback_error(name):
    with shmkit.StreamWriter.create(name, dtype="int32", shape=1) as w, shmkit.StreamReader.attach(name) as r:
        errors = []
        sub = r.on_data(lambda s, i: 1 / 0, on_error=errors.append)
        try:
            w.write(np.array([1], np.int32))
            assert _wait_until(lambda: errors)
        finally:
            sub.stop()
        assert isinstance(errors[0], ZeroDivisionError)


# ==== Video ======================================================================================


@pytest.mark.parametrize("fmt, shape, frame_bytes", [
    ("rgb24", (4, 6, 3), 72),
    ("bgra32", (4, 6, 4), 96),
    ("gray8", (4, 6), 24),
    ("nv12", (6, 6), 36),
    ("i420", (6, 8), 48),
])
def test_video_frame_shapes(name, fmt, shape, frame_bytes):
    width = shape[1]
    with shmkit.VideoWriter.create(name, width=width, height=4, format=fmt, fps=(25, 1)) as w, \
            shmkit.VideoReader.attach(name) as r:
        assert w.shape == shape and r.shape == shape
        assert r.frame_bytes == frame_bytes and r.width == width and r.height == 4
        assert r.format == fmt.upper() and r.fps == (25, 1)
        frame = (np.arange(frame_bytes) % 251).astype(np.uint8).reshape(shape)
        w.write(frame, pts=3)
        got = r.latest()
        assert got.shape == shape and got.dtype == np.uint8
        assert np.array_equal(got, frame)
        assert r.last.pts == 3


def _fill_and_check_planes(name, fmt, width, height, stride):
    with shmkit.VideoWriter.create(name, width=width, height=height, format=fmt, stride=stride) as w, \
            shmkit.VideoReader.attach(name) as r:
        uv_cols = width if fmt == "nv12" else width // 2
        expect_shapes = [(height, width)] + [(height // 2, uv_cols)] * (2 if fmt == "i420" else 1)
        with w.reserve(pts=1) as frame:
            frame[...] = 0xEE  # padding and everything else
            planes = w.planes(frame)
            assert [p.shape for p in planes] == expect_shapes
            assert all(p.flags.writeable for p in planes)
            for k, p in enumerate(planes):
                p[...] = (np.arange(p.size) % 50 + 60 * k).reshape(p.shape)
        del frame, planes, p  # views of the reservation pin the writer
        got = r.latest()
        back = r.planes(got)
        assert [p.shape for p in back] == expect_shapes
        for k, p in enumerate(back):
            assert np.array_equal(p, (np.arange(p.size) % 50 + 60 * k).reshape(p.shape)), f"plane {k}"
        # The planes sit where plane_offsets says, in the raw bytes of the frame.
        raw = np.asarray(got).reshape(-1) if got.flags.c_contiguous else None
        if raw is not None:
            for k, (offset, pstride) in enumerate(r.plane_offsets):
                assert raw[offset] == 60 * k and raw[offset + 1] == 60 * k + 1
        return r.shape


@pytest.mark.parametrize("fmt", ["nv12", "i420"])
def test_video_planes_packed(name, fmt):
    shape = _fill_and_check_planes(name, fmt, 8, 4, 0)
    assert shape == (6, 8)


@pytest.mark.parametrize("fmt", ["nv12", "i420"])
def test_video_planes_padded_stride(name, fmt):
    _fill_and_check_planes(name, fmt, 8, 4, 16)


def test_video_nv12_layout(name):
    # NV12: the (h*3/2, w) image is the Y rows followed by the interleaved UV rows.
    with shmkit.VideoWriter.create(name, width=4, height=2, format="nv12") as w, \
            shmkit.VideoReader.attach(name) as r:
        frame = np.array([[16] * 4, [17] * 4, [128, 129] * 2], np.uint8)
        w.write(frame)
        y, uv = r.planes(r.latest())
        assert y.tolist() == [[16] * 4, [17] * 4]
        assert uv.tolist() == [[128, 129, 128, 129]]


def test_video_planes_of_packed_format(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="rgb24") as w:
        with w.reserve() as frame:
            planes = w.planes(frame)
            assert len(planes) == 1 and planes[0].shape == (2, 4, 3)
        del frame, planes


def test_video_pts_and_audio_pts(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="gray8", slots=4) as w, \
            shmkit.VideoReader.attach(name) as r:
        w.write(np.zeros((2, 4), np.uint8), pts=1000, audio_pts=-5)
        with w.reserve(pts=2000, audio_pts=77) as f:
            f[:] = 1
        del f
        r.next(HANG)
        assert (r.last.pts, r.last.audio_pts, r.last.index) == (1000, -5, 0)
        r.next(HANG)
        assert (r.last.pts, r.last.audio_pts, r.last.index) == (2000, 77, 1)
        v = r.view_latest()
        assert (v.info.pts, v.info.audio_pts) == (2000, 77)
        del v


def test_video_view_latest_zero_copy(name):
    with shmkit.VideoWriter.create(name, width=8, height=4, format="rgb24", slots=4) as w, \
            shmkit.VideoReader.attach(name) as r:
        frame = (np.arange(96) % 256).astype(np.uint8).reshape(4, 8, 3)
        w.write(frame, pts=9)
        v = r.view_latest()
        assert v.valid and v.array.shape == (4, 8, 3) and not v.array.flags.writeable
        assert np.array_equal(v.array, frame)
        again = r.view_latest()
        assert np.shares_memory(v.array, again.array)  # both the slot itself, not copies
        assert r.exports == 2
        copy = r.latest()
        assert not np.shares_memory(copy, v.array)
        del again
        for i in range(4):
            w.write(np.zeros((4, 8, 3), np.uint8))
        assert not v.valid
        del v
        assert r.exports == 0


def test_video_stride_padding(name):
    h, wd, stride = 4, 6, 32
    with shmkit.VideoWriter.create(name, width=wd, height=h, format="rgb24", stride=stride) as w, \
            shmkit.VideoReader.attach(name) as r:
        assert w.stride == stride and r.frame_bytes == stride * h
        assert w.shape == (h, wd, 3)
        image = (np.arange(h * wd * 3) % 256).astype(np.uint8).reshape(h, wd, 3)
        with w.reserve(pts=1) as frame:
            assert frame.shape == (h, wd, 3) and frame.strides == (stride, 3, 1)
            frame[:] = image
        del frame
        got = r.latest()
        assert got.shape == (h, wd, 3) and got.strides == (stride, 3, 1)
        assert np.array_equal(got, image)
        v = r.view_latest()
        assert v.array.strides == (stride, 3, 1) and np.array_equal(v.array, image)
        del v
        # write() takes the padded frame as frame_bytes raw bytes.
        raw = np.zeros((h, stride), np.uint8)
        raw[:, :wd * 3] = (image[::-1]).reshape(h, wd * 3)
        w.write(raw.reshape(-1), pts=2)
        assert np.array_equal(r.latest(), image[::-1]) and r.last.pts == 2


def test_video_write_wrong_size(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="rgb24") as w:
        with pytest.raises(shmkit.SizeMismatch):
            w.write(np.zeros((2, 3, 3), np.uint8))
        assert w.samples_written == 0


# ==== Audio ======================================================================================


@pytest.mark.parametrize("fmt, dtype", [("s16le", np.int16), ("f32le", np.float32), ("s32le", np.int32),
                                        ("u8", np.uint8), ("f64le", np.float64)])
def test_audio_shapes_and_pts(name, fmt, dtype):
    with shmkit.AudioWriter.create(name, channels=2, format=fmt, sample_rate=8000, buffer_seconds=0.01) as w, \
            shmkit.AudioReader.attach(name) as r:
        frames = w.frames_per_buffer
        assert frames == 80 and r.channels == 2 and r.sample_rate == 8000 and r.format == fmt.upper()
        assert r.buffer_bytes == frames * 2 * np.dtype(dtype).itemsize
        data = (np.arange(frames * 2) % 100).astype(dtype).reshape(frames, 2)
        w.write(data, pts=1234)
        got = r.next(HANG)
        assert got.shape == (frames, 2) and got.dtype == np.dtype(dtype)
        assert np.array_equal(got, data)
        assert r.last.pts == 1234 and r.last.size == r.buffer_bytes


def test_audio_partial_buffer(name):
    with shmkit.AudioWriter.create(name, channels=2, format="s16le", sample_rate=48000, buffer_seconds=0.01) as w, \
            shmkit.AudioReader.attach(name) as r:
        assert w.frames_per_buffer == 480
        short = np.arange(100 * 2, dtype=np.int16).reshape(100, 2)
        w.write(short, pts=7)
        got = r.next(HANG)
        assert got.shape == (100, 2) and np.array_equal(got, short)
        assert r.last.pts == 7 and r.last.size == 400
        with pytest.raises(shmkit.SizeMismatch):  # more than a buffer
            w.write(np.zeros((481, 2), np.int16))
        with pytest.raises(shmkit.SizeMismatch):  # not whole frames
            w.write(b"\x00" * 6)
        # reserve() is a whole buffer.
        with w.reserve(pts=8) as buf:
            assert buf.shape == (480, 2) and buf.dtype == np.int16
            buf[:] = 3
        del buf
        got = r.next(HANG)
        assert got.shape == (480, 2) and (got == 3).all() and r.last.pts == 8


def test_audio_s24le(name):
    with shmkit.AudioWriter.create(name, channels=2, format="s24le", sample_rate=48000, buffer_seconds=0.001) as w, \
            shmkit.AudioReader.attach(name) as r:
        frames = w.frames_per_buffer
        assert frames == 48 and w.buffer_bytes == frames * 2 * 3
        data = (np.arange(frames * 6) % 251).astype(np.uint8)
        w.write(data.tobytes(), pts=5)
        got = r.latest()
        assert got.shape == (frames, 2, 3) and got.dtype == np.uint8
        assert np.array_equal(got.reshape(-1), data)
        w.write(data[:10 * 6].tobytes(), pts=6)
        got = r.latest()
        assert got.shape == (10, 2, 3) and r.last.pts == 6
