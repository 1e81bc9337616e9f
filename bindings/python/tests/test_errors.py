"""Every exception the Python API can raise is reached by a real call here (the common ones are
also all over the other files); segments are damaged through /dev/shm the way a crashed or
hostile process could leave them. Empty, PeerDead and Interrupted complete the mapping from
errc but are not raised by the Python API (see the README); the last test pins that down."""

from __future__ import annotations

import errno
import os
import struct

import pytest

import shmkit
from conftest import run_python

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
        with pytest.raises(shmkit.Full):
            p.push(b"x" * 32, timeout=0)  # polls once: no room now


def test_version_mismatch(name):
    shmkit.Block.create(name, 64).close()
    poke(name, HEADER_VERSION, "<I", 99)
    with pytest.raises(shmkit.VersionMismatch) as e:
        shmkit.Block.attach(name)
    assert isinstance(e.value, shmkit.InvalidLayout) and e.value.code == "version_mismatch"


def test_not_ready(name):
    shmkit.Block.create(name, 64).close()
    poke(name, HEADER_STATE, "<I", 0)  # as if its creator were still writing it
    with pytest.raises(shmkit.NotReady):
        shmkit.Block.attach(name, ready_timeout=0)


def test_no_space(name):
    stat = os.statvfs("/dev/shm")
    with pytest.raises(shmkit.NoSpace):
        shmkit.Block.create(name, stat.f_bavail * stat.f_frsize + (1 << 30))
    assert not os.path.exists("/dev/shm" + name)  # nothing half-made is left behind


def test_stale(name):
    with shmkit.KV.create(name, ["gain"]) as kv:
        kv["gain"] = b"1"
        poke(name, KV_ENTRIES + KV_ENTRY_SEQ, "<Q", 3)  # a writer that died mid-write left it odd
        with pytest.raises(shmkit.Stale):
            kv["gain"]
        kv["gain"] = b"2"  # the next write repairs it
        assert kv["gain"] == b"2"


def test_unsupported(name):
    with shmkit.Block.create(name, 64):
        if peek(name, HEADER_FLAGS, "<I") & 1 == 0:
            pytest.skip("membarrier is not available here, so segments use fences and every process may attach")
        proc = run_python("""
            import os, sys, shmkit
            try:
                shmkit.Block.attach(sys.argv[1])
            except shmkit.Unsupported as e:
                print("unsupported", e.code)
        """, name, env_extra={"SHMKIT_NO_MEMBARRIER": "1"})
        assert "unsupported unsupported" in proc.stdout


def test_os_failure(name):
    # shm_open refuses to follow a symbolic link (O_NOFOLLOW): ELOOP, which has no errc of its own.
    os.symlink("/dev/shm" + name + "-target", "/dev/shm" + name)
    with pytest.raises(shmkit.OSFailure) as e:
        shmkit.Block.attach(name)
    assert e.value.code == "os_error" and e.value.os_errno == errno.ELOOP and isinstance(e.value, OSError)
    os.unlink("/dev/shm" + name)


def test_names_with_nul_bytes_are_refused(name):
    # C++ sees names as C strings: "/a\0zzz" must not quietly act on "/a".
    shmkit.Block.create(name, 64).close()
    for call in (lambda n: shmkit.Block.create(n, 64), lambda n: shmkit.Block.attach(n), shmkit.remove,
                 shmkit.remove_if_stale, shmkit.info, lambda n: shmkit.BroadcastWriter.create(n)):
        with pytest.raises(shmkit.InvalidArgument, match="NUL"):
            call(name + "\0zzz")
    assert os.path.exists("/dev/shm" + name)


def test_object_arrays_are_refused_everywhere(name):
    np = pytest.importorskip("numpy")
    objects = np.array([object(), "text", 3], dtype=object)
    structured = np.zeros(2, dtype=[("n", "<i4"), ("O", "<u1")])  # a field merely named O is fine
    with shmkit.BroadcastWriter.create(name + "-b") as w, shmkit.BroadcastReader.attach(name + "-b") as r, \
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


def test_wrong_process(name):
    # A role held through a handle belongs to the process that opened it: a forked child that
    # uses the inherited writer is told so, and the parent's messages are all delivered.
    with shmkit.BroadcastWriter.create(name) as w, shmkit.BroadcastReader.attach(name) as r:
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
    # "Nothing yet" is None, a dead peer is the *_alive properties, and a signal runs its handler
    # and the wait goes on: these codes stay in the hierarchy so it maps every errc.
    assert {shmkit.Empty.code, shmkit.PeerDead.code, shmkit.Interrupted.code} == {"empty", "peer_dead", "interrupted"}
    assert {code for code, _, _ in shmkit._shmkit._error_codes} >= {"empty", "peer_dead", "interrupted"}
