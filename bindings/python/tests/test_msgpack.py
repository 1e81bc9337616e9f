"""The msgpack helpers (write_obj/read_obj and friends) of every kind."""

from __future__ import annotations

import pytest

import shmkit
from conftest import broadcast_pair, command_pair, NO_HANG, spsc_pair


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
