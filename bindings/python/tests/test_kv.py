"""KV through the Python binding: fixed keys, values, epochs and waits, processes, on_data."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG, run_python, wait_until


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
    with shmkit.KV.create(name, ["a", "b", "c", "d"], max_value=32) as kv, shmkit.KV.open(name) as other:
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
    with shmkit.KV.create(name, ["a", "b", "c"]) as kv, shmkit.KV.open(name) as other:
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
        # changes(): since open(), then since the previous call.
        assert sorted(other.changes()) == ["a", "b"]
        assert other.changes() == []
        kv.set("c", b"4")
        assert other.changes() == ["c"]
        assert other.changes() == []


def test_kv_wait_change(name):
    with shmkit.KV.create(name, ["a"]) as kv, shmkit.KV.open(name) as other:
        assert other.wait_change(timeout=0.05) is False
        e0 = other.epoch
        kv.set("a", b"1")
        assert other.wait_change(e0, timeout=NO_HANG) is True  # already past: no wait
        assert other.wait_change(other.epoch, timeout=0.05) is False
        timer = threading.Timer(0.2, lambda: kv.set("a", b"2"))
        timer.start()
        try:
            assert other.wait_change(other.epoch, timeout=NO_HANG) is True
        finally:
            timer.join()
        assert other.get("a") == b"2"


def test_kv_value_from_child_process(name):
    with shmkit.KV.create(name, ["pid", "msg"]) as kv:
        since = kv.epoch
        run_python("""
            import os, sys, shmkit
            kv = shmkit.KV.open(sys.argv[1])
            kv.set("pid", str(os.getpid()))
            kv.set_obj("msg", {"from": "child", "n": [1, 2]})
        """, name)
        assert kv.wait_change(since, timeout=NO_HANG)
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
    with shmkit.KV.create(name, ["a", "b"]) as kv, shmkit.KV.open(name) as other:
        got = []
        sub = other.on_data(lambda keys, epoch: got.append((sorted(keys), epoch)))
        try:
            assert sub.running
            kv.set("a", b"1")
            assert wait_until(lambda: any("a" in k for k, _ in got))
            kv.set("b", b"2")
            assert wait_until(lambda: any("b" in k for k, _ in got))
        finally:
            sub.stop()
        assert not sub.running
        seen = {k for keys, _ in got for k in keys}
        assert seen == {"a", "b"}
        epochs = [e for _, e in got]
        assert epochs == sorted(epochs) and epochs[-1] == kv.epoch
        assert sub.delivered == len(got)


def test_kv_changed_since_with_values(name):
    with shmkit.KV.create(name, ["mode", "count", "status"], max_value=16) as kv, shmkit.KV.open(name) as other:
        e0 = other.epoch
        assert other.changed_since(e0, values=True) == ({}, e0)
        kv.set("status", b"re\x00dy")
        kv.set("mode", "auto")
        changed, e1 = other.changed_since(e0, values=True)
        assert changed == {"mode": b"auto", "status": b"re\x00dy"}
        assert list(changed) == ["mode", "status"]  # in schema order
        assert e1 == kv.epoch
        # Each value is the one get() reads, the newest write's.
        kv.set("mode", b"manual")
        kv.set("mode", b"off")
        assert other.changed_since(e1, values=True) == ({"mode": b"off"}, kv.epoch)
        assert other.changed_since(kv.epoch, values=True) == ({}, kv.epoch)
        # The keys alone, as before.
        assert other.changed_since(e0) == (["mode", "status"], kv.epoch)


def test_kv_changes_with_values(name):
    with shmkit.KV.create(name, ["a", "b"]) as kv, shmkit.KV.open(name) as other:
        assert other.changes(values=True) == {}
        kv["a"] = b"1"
        kv["b"] = b"2"
        assert other.changes(values=True) == {"a": b"1", "b": b"2"}
        assert other.changes(values=True) == {}
        kv["b"] = b"3"
        assert other.changes() == ["b"]  # both forms move the same position
        assert other.changes(values=True) == {}
        kv["a"] = b"4"
        assert other.changes(values=True) == {"a": b"4"}


def test_kv_on_data_with_values(name):
    with shmkit.KV.create(name, ["a", "b"]) as kv, shmkit.KV.open(name) as other:
        got = []
        sub = other.on_data(lambda changed, epoch: got.append(changed), values=True)
        try:
            kv.set("a", b"1")
            assert wait_until(lambda: {"a": b"1"} in got)
            kv.set("b", b"2")
            assert wait_until(lambda: {"b": b"2"} in got)
        finally:
            sub.stop()
        assert all(isinstance(changed, dict) for changed in got)
