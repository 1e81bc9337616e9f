"""Block and its TypedView through the Python binding: arrays over shared memory, bounds,
read-only attach, open-or-create and replacing, locks across processes, owner-dead recovery,
lock snapshots, typed values (tagged, inferred and several as one operation, inside held locks
too)."""

from __future__ import annotations

import os
import signal
import struct
import time

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG, Call, readline, run_python, start_python


# ==== Block ======================================================================================


def test_block_create_attach_size(name):
    with shmkit.Block.create(name, 1000) as b, shmkit.Block.open(name) as b2:
        assert b.size == 1000 and b2.size == 1000
        assert b.writable and b2.writable
        assert b.name == name and not b.closed
        assert b.read() == bytes(1000)  # created zeroed
    with pytest.raises(shmkit.NotFound):
        shmkit.Block.open(name + "-missing")


def test_block_memoryview_shape_and_readonly(name):
    with shmkit.Block.create(name, 256) as b:
        mv = memoryview(b)
        assert mv.shape == (256,) and mv.format == "B" and mv.itemsize == 1 and mv.nbytes == 256
        assert not mv.readonly
        mv[3] = 77
        assert b.read(3, 1) == b"\x4d"
        mv.release()
        with shmkit.Block.open(name, read_only=True) as ro:
            rmv = memoryview(ro)
            assert rmv.readonly and rmv.shape == (256,)
            assert rmv[3] == 77
            with pytest.raises(TypeError):
                rmv[0] = 1
            rmv.release()


def test_block_numpy_writes_visible_to_handle_and_child(name):
    with shmkit.Block.create(name, 64) as b, shmkit.Block.open(name) as b2:
        a = np.asarray(b)
        assert a.shape == (64,) and a.dtype == np.uint8 and a.flags.writeable
        a[:4] = [1, 2, 3, 4]
        assert b2.read(0, 4) == bytes([1, 2, 3, 4])
        assert bytes(np.asarray(b2)[:4]) == bytes([1, 2, 3, 4])
        out = run_python("""
            import sys, numpy as np, shmkit
            b = shmkit.Block.open(sys.argv[1])
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
        with shmkit.Block.open(name, read_only=True) as ro:
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
    with shmkit.Block.create(name, 16) as b, shmkit.Block.open(name) as b2:
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
b = shmkit.Block.open(sys.argv[1])
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
            assert readline(child).strip() == "locked"
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
            assert readline(child).strip() == "unlocked"
            assert b.lock(NO_HANG) is True  # released cleanly: no OwnerDead
            b.unlock()
        finally:
            child.kill()
            child.wait()


def test_block_owner_dead_after_sigkill(name):
    with shmkit.Block.create(name, 16) as b:
        child = start_python(_HOLD_LOCK, name)
        try:
            assert readline(child).strip() == "locked"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        with pytest.raises(shmkit.OwnerDead):
            b.lock(NO_HANG)
        with pytest.raises(shmkit.OwnerDead):  # still inconsistent: nobody repaired it
            b.lock(NO_HANG)
        with pytest.raises(shmkit.OwnerDead):
            with b.write_lock(NO_HANG):
                pytest.fail("the block must not be entered")
        with b.write_lock(NO_HANG, accept_inconsistent=True) as held:
            assert held.consistent is False
            assert b.read(0, 4) == b"half"
            b.write(b"good", 0)
            b.mark_consistent()
        assert b.lock(NO_HANG) is True
        b.unlock()
        with b.read_lock(NO_HANG) as held:
            assert held.consistent is True
        with b.write_lock(NO_HANG) as held:
            assert held.consistent is True
        assert shmkit.info(name)["lock_recoveries"] >= 1


def test_block_open_or_create(name):
    with shmkit.Block.open_or_create(name, 100) as made:  # none there: created
        assert made.size == 100 and made.read() == bytes(100)
        made.write(b"kept")
        with shmkit.Block.open_or_create(name, 100) as again:  # there: opened as it is
            assert again.read(0, 4) == b"kept"
        with pytest.raises(shmkit.SizeMismatch):
            shmkit.Block.open_or_create(name, 200)
    with pytest.raises(shmkit.InvalidArgument):
        shmkit.Block.open_or_create(name + "-z", 0)


def test_block_open_or_create_racing_processes_share_one_block(name):
    # Each child opens or creates the block and counts itself in it under the write lock; all of
    # them must have counted in the same block.
    code = """
        import sys, shmkit
        b = shmkit.Block.open_or_create(sys.argv[1], 64)
        with b.write_lock():
            t = b.typed()
            t.write("i64", t.read("i64", at=0) + 1, at=0)
    """
    children = [start_python(code, name) for _ in range(4)]
    try:
        for child in children:
            assert child.wait(NO_HANG) == 0, child.stderr.read()
        with shmkit.Block.open(name) as b:
            assert b.typed().read("i64", at=0) == 4
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_block_create_replace_existing(name):
    with shmkit.Block.create(name, 64) as old:
        old.write(b"old")
        with pytest.raises(shmkit.AlreadyExists):
            shmkit.Block.create(name, 64)  # its creator lives and has it open
        with shmkit.Block.create(name, 32, replace_existing=True) as fresh:
            assert fresh.size == 32 and fresh.read() == bytes(32)
            assert old.read(0, 3) == b"old"  # the old handle keeps its block, alone
            with shmkit.Block.open(name) as later:
                assert later.size == 32  # the name is the new block's


def test_block_reader_count_and_is_write_locked(name):
    with shmkit.Block.create(name, 16) as b, shmkit.Block.open(name) as b2:
        assert b.reader_count == 0 and not b.is_write_locked
        with b.read_lock(), b2.read_lock():
            assert b.reader_count == 2 and b2.reader_count == 2
            assert not b.is_write_locked
        with b2.write_lock():
            assert b.is_write_locked and b.reader_count == 0
        assert not b.is_write_locked and b.reader_count == 0


_HOLD = """
import sys, time, shmkit
b = shmkit.Block.open(sys.argv[1])
if sys.argv[2] == "read":
    b.lock_shared()
else:
    b.lock()
print("holding", flush=True)
time.sleep(600)  # until killed
"""


def test_block_lock_snapshots_see_other_processes_and_forget_the_dead(name):
    with shmkit.Block.create(name, 16) as b:
        for mode in ("read", "write"):
            child = start_python(_HOLD, name, mode)
            try:
                assert readline(child).strip() == "holding"
                assert b.reader_count == (1 if mode == "read" else 0)
                assert b.is_write_locked == (mode == "write")
            finally:
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
            assert b.reader_count == 0, "a dead process's read lock still counts"
            assert not b.is_write_locked, "a dead process's write lock still counts"
        with pytest.raises(shmkit.OwnerDead):  # the writer did die holding it
            b.lock(NO_HANG)


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
        with shmkit.Block.open(name) as b2:
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
            t = shmkit.Block.open(sys.argv[1]).typed()
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


# ---- membridge's typed calls -------------------------------------------------------------------


def test_typed_untagged_values_are_inferred(name):
    with shmkit.Block.create(name, 64) as b:
        t = b.typed()
        t.write("Hello")   # str: u32 length + UTF-8
        t.write(42)        # int: i64
        t.write(3.14)      # float: f64
        t.write(True)      # bool: one byte
        t.write(b"\x01\x02")  # bytes: u32 length + bytes
        assert t.tell() == t.position == (4 + 5) + 8 + 8 + 1 + (4 + 2)
        assert b.read(0, t.tell()) == (struct.pack("<I", 5) + b"Hello" + struct.pack("<qd?", 42, 3.14, True)
                                       + struct.pack("<I", 2) + b"\x01\x02")
        t.seek()  # back to the start
        assert t.tell() == 0
        # membridge's tags: int and float name i64 and f64.
        assert [t.read("str"), t.read("int"), t.read("float"), t.read("bool"), t.read("bytes")] == \
            ["Hello", 42, 3.14, True, b"\x01\x02"]
        t.write(-1, at=40)
        assert t.read("i64", at=40) == -1 and t.tell() == t.position
        t.write(bytearray(b"ab"), at=50)
        assert t.read("bytes", at=50) == b"ab"


def test_typed_untagged_refusals_write_nothing(name):
    with shmkit.Block.create(name, 16) as b:
        t = b.typed()
        with pytest.raises(OverflowError):
            t.write(2**63)  # beyond i64: give its type
        t.write("u64", 2**63)
        assert t.read("u64", at=0) == 2**63
        for value in ([1], None, 1j):
            with pytest.raises(TypeError):
                t.write(value)
        with pytest.raises(shmkit.OutOfRange):
            t.write("x" * 13)  # 4 + 13 > 16 - 8
        assert t.position == 8 and b.read(8) == bytes(8)
        with pytest.raises(UnicodeEncodeError):
            t.write("\ud800")  # not encodable as UTF-8


def test_typed_u8_tag(name):
    with shmkit.Block.create(name, 8) as b:
        t = b.typed()
        t.write("u8", 255)
        t.write("list[u8]", [1, 2])
        assert b.read(0, 7) == b"\xff\x02\x00\x00\x00\x01\x02"
        assert t.read("u8", at=0) == 255 and t.read("list[u8]", at=1) == [1, 2]
        for tag, value in (("u8", 256), ("u8", -1), ("i32", 2**31), ("list[u8]", [1, 300])):
            with pytest.raises(OverflowError):
                t.write(tag, value, at=0)
        for tag, value in (("u8", "x"), ("f64", "1.5"), ("list[i32]", [1, None])):
            with pytest.raises(TypeError):
                t.write(tag, value, at=0)
        assert t.read("u8", at=0) == 255


def test_typed_write_mixed_and_read_mixed(name):
    with shmkit.Block.create(name, 256) as b:
        t = b.typed()
        t.write_mixed([
            ["Hello", "from", "producer"],  # 3 x str
            [0.92, 0.87, 0.95],             # 3 x float
            [True, False, True],            # 3 x bool
            7,                              # a single value
            (b"raw", 1.5),                  # a tuple is a group too
        ])
        written = t.position
        assert written == (4 + 5) + (4 + 4) + (4 + 8) + 3 * 8 + 3 + 8 + (4 + 3) + 8
        t.seek()
        labels, scores, flags, n = t.read_mixed([("str", 3), ("float", 3), ("bool", 3), ("int", 1)])
        raw, f = t.read_mixed(["bytes", "f64"])
        assert labels == ["Hello", "from", "producer"]
        assert scores == [0.92, 0.87, 0.95] and flags == [True, False, True]
        assert n == 7 and raw == b"raw" and f == 1.5  # a count of 1, or a bare tag: the value itself
        assert t.position == written
        # at= reads elsewhere and leaves the cursor alone; a count of 0 gives an empty list.
        assert t.read_mixed([("str", 2), ("u8", 0)], at=0) == [["Hello", "from"], []]
        assert t.position == written
        # Any tag of read() works in a schema.
        t.write("list[u32]", [1, 2], at=200)
        assert t.read_mixed([("list[u32]", 2)], at=200) == [[[1, 2], []]]


def test_typed_write_mixed_is_all_or_nothing(name):
    with shmkit.Block.create(name, 32) as b:
        t = b.typed()
        t.seek(10)
        with pytest.raises(shmkit.OutOfRange):
            t.write_mixed([1, 2, "abc"])  # 8 + 8 + 7 > 22
        with pytest.raises(TypeError):
            t.write_mixed([1, [2, [3]]])  # one level of groups only
        with pytest.raises(TypeError):
            t.write_mixed([1, object()])
        assert t.position == 10 and b.read() == bytes(32), "a refused write_mixed wrote something"
        t.write_mixed([1, 2], at=16)  # exactly to the end
        with pytest.raises(shmkit.OutOfRange):
            t.write_mixed([True], at=32)
        t.write_mixed([])  # nothing: nothing written
        assert t.position == 10


def test_typed_read_mixed_consumes_nothing_on_error(name):
    with shmkit.Block.create(name, 32) as b:
        t = b.typed()
        t.write_mixed([5, "ab"])
        b.write(b"\x07", 14)  # the bool after them is not a bool
        t.seek()
        with pytest.raises(shmkit.InvalidLayout):
            t.read_mixed([("i64", 1), ("str", 1), ("bool", 1)])
        assert t.position == 0
        with pytest.raises(shmkit.OutOfRange):
            t.read_mixed([("i64", 5)])  # 40 bytes > 32
        assert t.position == 0
        with pytest.raises(ValueError):
            t.read_mixed([("nope", 1)])
        with pytest.raises(TypeError):
            t.read_mixed([("i64", 1, 2)])
        assert t.read_mixed([("i64", 1), "str"]) == [5, "ab"] and t.position == 14


def test_typed_zero_seek_tell(name):
    with shmkit.Block.create(name, 32) as b:
        b.write(b"\xff" * 32)
        t = b.typed()
        t.seek(5)
        t.zero()
        assert b.read() == bytes(32) and t.tell() == 5
        with pytest.raises(shmkit.OutOfRange):
            t.seek(33)
        t.seek()
        assert t.tell() == 0
        with shmkit.Block.open(name, read_only=True) as ro:
            with pytest.raises(shmkit.AccessDenied):
                ro.typed().zero()
            with pytest.raises(shmkit.AccessDenied):
                ro.typed().write_mixed([1])


def test_typed_calls_inside_held_locks_use_them(name):
    with shmkit.Block.create(name, 64) as b, shmkit.Block.open(name) as other:
        t = b.typed()
        with b.write_lock(NO_HANG):
            # Inside the write lock, typed calls use it instead of locking again (the lock is not
            # recursive: they used to raise RuntimeError).
            t.write("i32", 1)
            t.write(2)
            t.write_mixed([3, "x"])
            t.zero()
            t.write(9, at=0)
            assert t.read("i64", at=0) == 9
            assert t.read_mixed(["i64"], at=0) == [9]
            assert b.is_write_locked  # still held: nothing released it
            with pytest.raises(shmkit.LockTimeout):
                other.lock_shared(0)
        assert not b.is_write_locked
        with b.read_lock(NO_HANG):
            assert t.read("i64", at=0) == 9 and t.read_mixed([("i64", 1)], at=0) == [9]
            assert b.reader_count == 1  # still only the read_lock()'s
            for write in (lambda: t.write(1), lambda: t.write_mixed([1]), lambda: t.zero()):
                with pytest.raises(RuntimeError):  # a write needs the write lock
                    write()
        assert b.reader_count == 0
        b.lock(NO_HANG)  # the explicit calls count as held too
        try:
            t.write(10, at=0)
        finally:
            b.unlock()
        assert other.typed().read("i64", at=0) == 10
        # Another thread does not hold this thread's lock: its typed calls lock for themselves.
        impatient = b.typed(lock_timeout=0)
        with b.write_lock(NO_HANG):
            call = Call(lambda: impatient.read("i64", at=0)).join()
            assert isinstance(call.error, shmkit.LockTimeout)
        assert Call(lambda: impatient.read("i64", at=0)).join().result == 10


_MIXED_WRITER = """
import sys, shmkit
b = shmkit.Block.open(sys.argv[1])
t = b.typed()
rounds = int(sys.argv[2])
print("writing", flush=True)
for n in range(1, rounds + 1):
    if n % 2:
        t.write_mixed([[n] * 4, f"{n:08d}", float(n), [n] * 4], at=0)  # one call
    else:
        with b.write_lock():  # single calls inside one held lock
            t.seek()
            for _ in range(4):
                t.write(n)
            t.write(f"{n:08d}")
            t.write(float(n))
            for _ in range(4):
                t.write(n)
print("done", flush=True)
"""


def test_typed_updates_of_several_values_are_read_whole_by_another_process(name):
    with shmkit.Block.create(name, 128) as b:
        t = b.typed()
        rounds = 3000
        child = start_python(_MIXED_WRITER, name, str(rounds))
        try:
            assert readline(child).strip() == "writing"
            torn = reads = last = 0
            finished = False
            while not finished:
                finished = child.poll() is not None  # one more read once the writer is done
                values = t.read_mixed([("i64", 4), "str", "f64", ("i64", 4)], at=0)
                n = values[0][0]
                reads += 1
                expected = [[n] * 4, f"{n:08d}" if n else "", float(n), [n] * 4]
                if values != expected:
                    torn += 1
                assert n >= last, "an older update after a newer one"
                last = n
            assert child.wait() == 0, child.stderr.read()
        finally:
            child.kill()
            child.wait()
        assert torn == 0, f"{torn} of {reads} reads saw part of an update"
        assert last == rounds

