"""Cross-language: the C++ peer (tests/xlang.cpp, `shmkit_xlang <kind>-<write|read> NAME N`) and
Python exchange broadcast messages, spsc messages, stream samples and video frames with contents
both sides predict; plus segment management (list_segments, info, reap, remove_if_stale) over
segments other processes created."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

import shmkit
from conftest import run_python

N = 8
HANG = 30.0  # "does not hang" bound only
WIDTH, HEIGHT = 64, 48
KINDS = ["broadcast", "spsc", "stream", "video"]


# ---- the contents xlang.cpp predicts ---------------------------------------------------------------


def message(i: int) -> bytes:
    return f"msg-{i}".encode()


def stream_sample(i: int) -> np.ndarray:
    return np.array([i + 0.5 * k for k in range(4)], np.float32)


def video_frame(i: int) -> np.ndarray:
    rows = ((i * 7 + np.arange(HEIGHT)) % 256).astype(np.uint8)
    return np.repeat(rows[:, None, None], WIDTH * 3, axis=1).reshape(HEIGHT, WIDTH, 3)


def run_peer(xlang: str, op: str, name: str, n: int = N) -> subprocess.CompletedProcess:
    return subprocess.run([xlang, op, name, str(n)], capture_output=True, text=True, errors="replace", timeout=60)


def peer_write(xlang: str, kind: str, name: str) -> None:
    proc = run_peer(xlang, f"{kind}-write", name)
    assert proc.returncode == 0, f"{kind}-write failed ({proc.returncode}): {proc.stderr}"


# ---- C++ writes, Python reads ------------------------------------------------------------------------


def test_cpp_broadcast_to_python(name, xlang):
    peer_write(xlang, "broadcast", name)
    with shmkit.BroadcastReader.open(name, from_oldest=True) as r:
        assert not r.writer_alive
        for i in range(N):
            assert r.read(HANG) == message(i)
            assert r.last_seq == i
        assert r.try_read() is None
        assert r.total_lost == 0


def test_cpp_spsc_to_python(name, xlang):
    peer_write(xlang, "spsc", name)
    with shmkit.SpscConsumer.open(name) as c:
        assert not c.producer_alive
        assert [c.pop(HANG) for _ in range(N)] == [message(i) for i in range(N)]
        assert c.try_pop() is None


def test_cpp_stream_to_python(name, xlang):
    peer_write(xlang, "stream", name)
    with shmkit.StreamReader.open(name, from_oldest=True, dtype="float32", shape=(4,)) as r:
        assert r.dtype == np.float32 and r.shape == (4,) and not r.writer_alive
        # The ring keeps the newest slots - 1 samples; xlang.cpp makes N slots for N samples, so
        # from_oldest starts at N - (slots - 1).
        first = max(0, N - (r.slots - 1))
        assert r.next_index == first
        for i in range(first, N):
            got = r.next(HANG)
            assert got.dtype == np.float32 and got.shape == (4,)
            assert np.array_equal(got, stream_sample(i)), f"sample {i}: {got}"
            assert r.last.index == i
        assert r.try_next() is None
        assert np.array_equal(r.latest(), stream_sample(N - 1)) and r.last.index == N - 1


def test_cpp_video_to_python(name, xlang):
    peer_write(xlang, "video", name)
    with shmkit.VideoReader.open(name, from_oldest=True) as r:
        assert (r.width, r.height, r.format, r.shape) == (WIDTH, HEIGHT, "RGB24", (HEIGHT, WIDTH, 3))
        first = max(0, N - (r.slots - 1))  # see test_cpp_stream_to_python
        assert r.next_index == first
        for i in range(first, N):
            frame = r.next(HANG)
            assert frame.shape == (HEIGHT, WIDTH, 3) and frame.dtype == np.uint8
            assert np.array_equal(frame, video_frame(i)), f"frame {i}"
            assert (r.last.index, r.last.pts, r.last.audio_pts) == (i, i * 1000, 0)
        assert r.try_next() is None
        v = r.view_latest()
        assert np.array_equal(v.array, video_frame(N - 1)) and v.info.pts == (N - 1) * 1000 and v.valid
        del v


# ---- Python writes, C++ reads ------------------------------------------------------------------------


def python_write(kind: str, name: str, corrupt: int = -1):
    """Creates `kind` and writes N items as xlang.cpp expects them (item `corrupt` altered);
    returns the handle, which the caller keeps open while the peer reads."""
    if kind == "broadcast":
        h = shmkit.BroadcastWriter.create(name, capacity=64 * 1024)
        for i in range(N):
            h.write(b"bad" if i == corrupt else message(i))
    elif kind == "spsc":
        h = shmkit.SpscProducer.create(name, capacity=64 * 1024)
        for i in range(N):
            h.push(b"bad" if i == corrupt else message(i).decode(), HANG)
    elif kind == "stream":
        h = shmkit.StreamWriter.create(name, dtype="float32", shape=4, slots=2 * N)
        for i in range(N):
            h.write(stream_sample(i) + (1 if i == corrupt else 0))
    else:
        h = shmkit.VideoWriter.create(name, width=WIDTH, height=HEIGHT, format="rgb24", slots=2 * N)
        for i in range(N):
            if i % 2 == 0:
                h.write(video_frame(i), pts=i * 1000 + (1 if i == corrupt else 0))
            else:  # half of them through reserve(), filled in place
                with h.reserve(pts=i * 1000 + (1 if i == corrupt else 0)) as frame:
                    frame[:] = video_frame(i)
                del frame
    return h


@pytest.mark.parametrize("kind", KINDS)
def test_python_to_cpp(name, xlang, kind):
    with python_write(kind, name):
        proc = run_peer(xlang, f"{kind}-read", name)
    assert proc.returncode == 0, f"{kind}-read failed ({proc.returncode}): {proc.stderr}"


@pytest.mark.parametrize("kind", KINDS)
def test_python_to_cpp_detects_wrong_contents(name, xlang, kind):
    # The control for test_python_to_cpp: the peer really checks what it reads.
    with python_write(kind, name, corrupt=3):
        proc = run_peer(xlang, f"{kind}-read", name)
    assert proc.returncode == 1, f"{kind}-read accepted a wrong item ({proc.returncode}): {proc.stderr}"
    assert "3" in proc.stderr


def test_python_msgpack_is_not_what_cpp_expects(name, xlang):
    # write_obj() sends msgpack, not the raw string: the peer must refuse it.
    with shmkit.BroadcastWriter.create(name, capacity=64 * 1024) as w:
        for i in range(N):
            w.write_obj(message(i).decode())
        proc = run_peer(xlang, "broadcast-read", name)
    assert proc.returncode == 1


# ---- list_segments / info --------------------------------------------------------------------------


def _listed(name: str) -> dict:
    rows = [s for s in shmkit.list_segments() if s["name"] == name]
    assert len(rows) == 1, f"{name} listed {len(rows)} times"
    return rows[0]


@pytest.mark.parametrize("kind", KINDS)
def test_list_segments_shows_cpp_segment(name, xlang, kind):
    peer_write(xlang, kind, name)
    row = _listed(name)
    assert row["kind"] == kind
    assert row["state"] == "ready"
    assert row["size"] > 0
    assert row["creator_pid"] not in (0, os.getpid())
    assert row["creator_alive"] is False


def test_list_segments_shows_python_segments(name):
    with shmkit.KV.create(name + "-k", ["a"]), shmkit.Block.create(name + "-b", 100), \
            shmkit.AudioWriter.create(name + "-a"):
        for suffix, kind in (("-k", "kv"), ("-b", "block"), ("-a", "audio")):
            row = _listed(name + suffix)
            assert row["kind"] == kind and row["state"] == "ready"
            assert row["creator_pid"] == os.getpid() and row["creator_alive"] is True
    # Closing detaches but does not remove.
    assert _listed(name + "-k")["kind"] == "kv"
    shmkit.remove(name + "-k")
    assert not [s for s in shmkit.list_segments() if s["name"] == name + "-k"]


def test_info_of_cpp_segments(name, xlang):
    for kind in KINDS:
        peer_write(xlang, kind, f"{name}-{kind}")
    common = {"state": "ready", "creator_alive": False, "format_version": shmkit.wire_format_version}
    for kind in KINDS:
        info = shmkit.info(f"{name}-{kind}")
        assert info["name"] == f"{name}-{kind}" and info["kind"] == kind
        for k, v in common.items():
            assert info[k] == v, (kind, k, info[k])
        assert info["creator_pid"] == _listed(f"{name}-{kind}")["creator_pid"]
        assert info["size"] == _listed(f"{name}-{kind}")["size"]
    b = shmkit.info(f"{name}-broadcast")
    assert b["messages"] == N and b["capacity"] == 64 * 1024 and b["writer_alive"] is False
    q = shmkit.info(f"{name}-spsc")
    assert q["pushed"] == N and q["popped"] == 0 and q["capacity"] == 64 * 1024
    s = shmkit.info(f"{name}-stream")
    assert (s["dtype"], s["shape"], s["sample_bytes"], s["samples_committed"]) == ("float32", (4,), 16, N)
    v = shmkit.info(f"{name}-video")
    assert (v["width"], v["height"], v["pixel_format"], v["stride"], v["frame_bytes"], v["samples_committed"]) == \
        (WIDTH, HEIGHT, "RGB24", WIDTH * 3, WIDTH * HEIGHT * 3, N)


def test_info_follows_python_activity(name):
    with shmkit.StreamWriter.create(name, dtype="int16", shape=(2, 3), slots=5) as w:
        info = shmkit.info(name)
        assert info["creator_pid"] == os.getpid() and info["creator_alive"] is True
        assert (info["dtype"], info["shape"], info["slots"], info["samples_committed"]) == ("int16", (2, 3), 5, 0)
        w.write(np.zeros((2, 3), np.int16))
        assert shmkit.info(name)["samples_committed"] == 1
    with pytest.raises(shmkit.NotFound):
        shmkit.info(name + "-missing")


# ---- reap / remove_if_stale -----------------------------------------------------------------------

_CREATE_AND_EXIT = """
import sys, shmkit
for n in sys.argv[1:]:
    shmkit.Block.create(n, 64).close()
"""


def _exists(seg: str) -> bool:
    return any(s["name"] == seg for s in shmkit.list_segments())


def test_reap(name):
    free, held = name + "-free", name + "-held"
    run_python(_CREATE_AND_EXIT, free, held)  # their creator has exited
    assert _exists(free) and _exists(held)
    assert _listed(free)["creator_alive"] is False
    with shmkit.Block.open(held) as h:
        out = shmkit.reap()
        assert set(out) == {"removed", "in_use", "errors"}
        assert free in out["removed"]
        assert held in out["in_use"] and held not in out["removed"]
        assert not _exists(free)
        with pytest.raises(shmkit.NotFound):
            shmkit.Block.open(free)
        assert _exists(held)
        h.write(b"ok")  # the held one keeps working
    # Once nobody has it open it goes too.
    out = shmkit.reap()
    assert held in out["removed"] and not _exists(held)


def test_reap_keeps_segments_of_live_creators(name):
    with shmkit.Block.create(name, 64):
        pass  # closed, but its creator (this process) is alive
    out = shmkit.reap()
    assert name not in out["removed"] and name not in out["in_use"]
    assert _exists(name)


def test_reap_dry_run(name):
    free, held = name + "-free", name + "-held"
    run_python(_CREATE_AND_EXIT, free, held)
    with shmkit.Block.open(held):
        out = shmkit.reap(dry_run=True)
        assert free in out["removed"]
        assert _exists(free) and _exists(held)  # nothing removed
        # A dry run lists what would be removed: not a segment that is still open.
        assert held not in out["removed"], "dry_run reports an in-use segment as removed"
        assert held in out["in_use"]


def test_remove_if_stale(name):
    free, held = name + "-free", name + "-held"
    run_python(_CREATE_AND_EXIT, free, held)
    with shmkit.Block.create(name + "-live", 64) as live:
        assert shmkit.remove_if_stale(live.name) is False  # creator (us) alive
        assert shmkit.remove_if_stale(live.name, even_if_in_use=True) is False
        assert _exists(live.name)
    assert shmkit.remove_if_stale(free) is True
    assert not _exists(free)
    with pytest.raises(shmkit.NotFound):
        shmkit.remove_if_stale(free)
    with shmkit.Block.open(held) as h:
        assert shmkit.remove_if_stale(held) is False  # in use
        assert _exists(held)
        assert shmkit.remove_if_stale(held, even_if_in_use=True) is True
        assert not _exists(held)
        h.write(b"still mapped")
        assert h.read(0, 5) == b"still"
