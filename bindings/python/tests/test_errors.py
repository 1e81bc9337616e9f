"""Every exception the Python API can raise is reached by a real call here (the common ones are
also all over the other files); segments are damaged through /dev/shm the way a crashed or
hostile process could leave them. Empty, Full, PeerDead and Interrupted complete the mapping
from errc but are not raised by the Python API (see the README); the last test pins that down."""

from __future__ import annotations

import errno
import os
import struct

import pytest

import shmkit
from shmkit import _errors
from conftest import broadcast_pair, command_pair, NO_HANG, run_python, spsc_pair

HEADER_VERSION, HEADER_STATE, HEADER_FLAGS = 8, 40, 44   # core/SPEC.md "Segment header"
KV_ENTRIES, KV_ENTRY_SEQ = 256, 24                     # core/SPEC.md "kv"


def poke(name: str, offset: int, fmt: str, value) -> None:
    with open("/dev/shm" + name, "r+b") as f:
        f.seek(offset)
        f.write(struct.pack(fmt, value))


def peek(name: str, offset: int, fmt: str):
    with open("/dev/shm" + name, "rb") as f:
        f.seek(offset)
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def test_full(name):
    with shmkit.SpscProducer.create(name, capacity=256) as p:
        while p.try_push(b"x" * 32):
            pass
        assert p.try_push(b"x" * 32) is False  # no room now: try_ says so without raising
        with pytest.raises(shmkit.Timeout) as ei:
            p.push(b"x" * 32, timeout=0)  # a zero timeout expires like any other: not Full
        assert not isinstance(ei.value, shmkit.Full)


def test_version_mismatch(name):
    shmkit.Block.create(name, 64).close()
    poke(name, HEADER_VERSION, "<I", 99)
    with pytest.raises(shmkit.VersionMismatch) as e:
        shmkit.Block.open(name)
    assert isinstance(e.value, shmkit.InvalidLayout) and e.value.code == "version_mismatch"


def test_not_ready(name):
    shmkit.Block.create(name, 64).close()
    poke(name, HEADER_STATE, "<I", 0)  # as if its creator were still writing it
    with pytest.raises(shmkit.NotReady):
        shmkit.Block.open(name, ready_timeout=0)


def test_no_space(name):
    stat = os.statvfs("/dev/shm")
    with pytest.raises(shmkit.NoSpace):
        shmkit.Block.create(name, stat.f_bavail * stat.f_frsize + (1 << 30))
    assert not os.path.exists("/dev/shm" + name)  # nothing half-made is left behind


def test_stale(name):
    with shmkit.KV.create(name, ["gain", "mode"]) as kv:
        kv["gain"] = b"1"
        since = kv.epoch
        kv.changes()
        poke(name, KV_ENTRIES + KV_ENTRY_SEQ, "<Q", 3)  # a writer that died mid-write left it odd
        with pytest.raises(shmkit.Stale):
            kv["gain"]
        kv["mode"] = b"auto"
        # Changes with values read each value as get() does: the key's is stale, and nothing moves,
        # so the same call gives every change once the key is repaired.
        with pytest.raises(shmkit.Stale, match="'gain'"):
            kv.changed_since(since, values=True)
        with pytest.raises(shmkit.Stale, match="'gain'"):
            kv.changes(values=True)
        kv["gain"] = b"2"  # the next write repairs it
        assert kv["gain"] == b"2"
        assert kv.changed_since(since, values=True) == ({"gain": b"2", "mode": b"auto"}, kv.epoch)
        assert kv.changes(values=True) == {"gain": b"2", "mode": b"auto"}


def test_unsupported(name):
    with shmkit.Block.create(name, 64):
        if peek(name, HEADER_FLAGS, "<I") & 1 == 0:
            pytest.skip("membarrier is not available here, so segments use fences and every process may attach")
        proc = run_python("""
            import os, sys, shmkit
            try:
                shmkit.Block.open(sys.argv[1])
            except shmkit.Unsupported as e:
                print("unsupported", e.code)
        """, name, env_extra={"SHMKIT_NO_MEMBARRIER": "1"})
        assert "unsupported unsupported" in proc.stdout


def test_os_failure(name):
    # shm_open refuses to follow a symbolic link (O_NOFOLLOW): ELOOP, which has no errc of its own.
    os.symlink("/dev/shm" + name + "-target", "/dev/shm" + name)
    with pytest.raises(shmkit.OSFailure) as e:
        shmkit.Block.open(name)
    assert e.value.code == "os_error" and e.value.os_errno == errno.ELOOP and isinstance(e.value, OSError)
    os.unlink("/dev/shm" + name)


def test_names_with_nul_bytes_are_refused(name):
    # C++ sees names as C strings: "/a\0zzz" must not quietly act on "/a".
    shmkit.Block.create(name, 64).close()
    for call in (lambda n: shmkit.Block.create(n, 64), lambda n: shmkit.Block.open(n), shmkit.remove,
                 shmkit.remove_if_stale, shmkit.info, lambda n: shmkit.BroadcastWriter.create(n)):
        with pytest.raises(shmkit.InvalidArgument, match="NUL"):
            call(name + "\0zzz")
    assert os.path.exists("/dev/shm" + name)


def test_object_arrays_are_refused_everywhere(name):
    np = pytest.importorskip("numpy")
    objects = np.array([object(), "text", 3], dtype=object)
    structured = np.zeros(2, dtype=[("n", "<i4"), ("O", "<u1")])  # a field merely named O is fine
    with shmkit.BroadcastWriter.create(name + "-b") as w, shmkit.BroadcastReader.open(name + "-b") as r, \
            shmkit.SpscProducer.create(name + "-s") as p, shmkit.KV.create(name + "-k", ["a"]) as kv, \
            shmkit.Block.create(name + "-blk", 64) as b:
        for send in (w.write, p.push, lambda d: kv.__setitem__("a", d), b.write):
            with pytest.raises(TypeError, match="Python objects"):
                send(objects)
            with pytest.raises(TypeError, match="Python objects"):
                send(memoryview(objects))
            with pytest.raises(TypeError, match="Python objects"):
                send(np.zeros(1, dtype=[("a", "<i4"), ("b", object)]))
        w.write(structured)
        assert r.try_read() == structured.tobytes()


def test_schema_mismatch(name):
    with shmkit.StreamWriter.create(name, dtype="bytes", max_bytes=64, schema=shmkit.Schema("Status", 1)):
        with pytest.raises(shmkit.SchemaMismatch) as e:
            shmkit.StreamReader.open(name, schema=shmkit.Schema("Status", 2))
    assert isinstance(e.value, shmkit.WrongKind) and e.value.code == "schema_mismatch"


def test_wrong_process(name):
    # A role held through a handle belongs to the process that opened it: a forked child that
    # uses the inherited writer is told so, and the parent's messages are all delivered.
    with shmkit.BroadcastWriter.create(name) as w, shmkit.BroadcastReader.open(name) as r:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                w.write(b"child")
            except shmkit.WrongProcess as e:
                code = 0 if e.code == "wrong_process" else 2
            except BaseException:
                code = 3
            os._exit(code)
        w.write(b"parent")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert r.try_read() == b"parent"
        assert r.try_read() is None


def test_the_errors_the_python_api_does_not_raise():
    # "Nothing yet" is None, "no room now" is False from try_push/try_write (a wait that finds
    # none raises Timeout), a dead peer is the *_alive properties, and a signal runs its handler
    # and the wait goes on: these codes stay in the hierarchy so it maps every errc.
    codes = {"empty", "full", "peer_dead", "interrupted"}
    assert {shmkit.Empty.code, shmkit.Full.code, shmkit.PeerDead.code, shmkit.Interrupted.code} == codes
    assert {code for code, _, _ in shmkit._shmkit._error_codes} >= codes


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
    assert issubclass(shmkit.SchemaMismatch, shmkit.WrongKind)


def _check_raised(excinfo, cls):
    e = excinfo.value
    assert type(e) is cls, type(e)
    assert e.code == cls.code
    assert str(e)  # a message naming the operation


def test_not_found_on_open_of_missing_name(name):
    for open_ in (shmkit.BroadcastReader.open, shmkit.BroadcastWriter.open, shmkit.SpscConsumer.open,
                   shmkit.SpscProducer.open, shmkit.CommandWriter.open, shmkit.CommandReader.open):
        with pytest.raises(shmkit.NotFound) as ei:
            open_(name + "-missing", ready_timeout=0)
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
    for bad in ("a/b", "/a/b", "/", "", "..", "x" * 300, "a\0b"):
        with pytest.raises(shmkit.InvalidArgument) as ei:
            create(bad)
        _check_raised(ei, shmkit.InvalidArgument)
        assert isinstance(ei.value, ValueError)
        # The message states the rules the name broke.
        assert "invalid name" in str(ei.value) and "1 to 254 bytes" in str(ei.value), str(ei.value)


def test_a_name_without_its_leading_slash_is_the_same_name(name):
    """As in the shmkit tool (`shmkit info x` is `shmkit info /x`): one vocabulary."""
    bare = name[1:]
    with shmkit.BroadcastWriter.create(bare) as w, shmkit.BroadcastReader.open(name) as r:
        assert w.name == name and r.name == name
        w.write(b"x")
        assert r.read(timeout=NO_HANG) == b"x"
        assert shmkit.info(bare)["name"] == name
    assert shmkit.remove_if_stale(bare) is False  # its creator (this process) is alive
    shmkit.remove(bare)
    with pytest.raises(shmkit.NotFound):
        shmkit.info(name)


def test_kv_duplicate_key_is_named_not_reported_as_an_existing_segment(name):
    with pytest.raises(shmkit.AlreadyExists) as ei:
        shmkit.KV.create(name, ["gain", "mode", "gain"])
    message = str(ei.value)
    assert "'gain' is given twice" in message, message
    assert "segment of that name exists" not in message, message
    with pytest.raises(shmkit.NotFound):
        shmkit.info(name)  # nothing was created


def test_modes_are_shown_in_octal():
    for create in (shmkit.BroadcastWriter.create, shmkit.KV.create, shmkit.Block.create):
        doc = create.__doc__
        assert "mode: int = 0o600" in doc, doc
        assert "384" not in doc, doc
    with pytest.raises(ValueError) as ei:
        shmkit.Block.create("/pyt-mode-never-created", 64, mode=0o1000)
    assert "0o1000" in str(ei.value) and "0o777" in str(ei.value), str(ei.value)


def test_wrong_kind_on_open_as_another_kind(name):
    w = shmkit.BroadcastWriter.create(name)
    with pytest.raises(shmkit.WrongKind) as ei:
        shmkit.SpscConsumer.open(name)
    _check_raised(ei, shmkit.WrongKind)
    with pytest.raises(shmkit.WrongKind):
        shmkit.CommandWriter.open(name)
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
        with shmkit.BroadcastReader.open(name) as r:
            w.write(b"x")
            assert r.read(timeout=NO_HANG) == b"x"
    assert w.closed and r.closed


def test_reached_errors_through_real_calls(name):
    """Busy, MessageTooLarge, AccessDenied and Timeout as raised by the binding carry their
    class's code (the per-kind tests above check the behaviour). A lapped reader raises nothing."""
    w, r = broadcast_pair(name, capacity=256, max_message=64)
    for i in range(40):
        w.write(b"%03d" % i)
    assert r.try_read() is not None
    assert r.lost > 0
    with pytest.raises(shmkit.Busy) as ei:
        shmkit.BroadcastWriter.open(name)
    _check_raised(ei, shmkit.Busy)
    with pytest.raises(shmkit.MessageTooLarge) as ei:
        w.write(b"z" * 65)
    _check_raised(ei, shmkit.MessageTooLarge)
    ro = shmkit.BroadcastReader.open(name, read_only=True)
    with pytest.raises(shmkit.AccessDenied) as ei:
        ro.read(timeout=1)
    _check_raised(ei, shmkit.AccessDenied)
    while r.try_read() is not None:
        pass
    with pytest.raises(shmkit.Timeout) as ei:
        r.read(timeout=0.05)
    _check_raised(ei, shmkit.Timeout)


def test_no_overrun_error():
    """A lapped reader's read returns the oldest message kept with its lost count: no exception
    class and no error code exists for it any more."""
    assert not hasattr(shmkit, "Overrun")
    assert "overrun" not in {code for code, _, _ in shmkit._shmkit._error_codes}


def test_attach_is_an_alias_of_open(name):
    """open(name) is the name for an existing segment in both languages; attach() stays as an
    alias."""
    classes = [shmkit.AudioReader, shmkit.AudioWriter, shmkit.Block, shmkit.BroadcastReader, shmkit.BroadcastWriter,
               shmkit.CommandReader, shmkit.CommandWriter, shmkit.KV, shmkit.SpscConsumer, shmkit.SpscProducer,
               shmkit.StreamReader, shmkit.StreamWriter, shmkit.VideoReader, shmkit.VideoWriter]
    for cls in classes:
        assert cls.attach is cls.open, cls
    with shmkit.BroadcastWriter.create(name) as w, shmkit.BroadcastReader.attach(name) as r:
        assert isinstance(r, shmkit.BroadcastReader)
        w.write(b"x")
        assert r.read(NO_HANG) == b"x"
