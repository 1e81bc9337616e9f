"""Races and misuse that must raise, never crash or trap the process: each case found by a
review of the binding's thread and lifetime rules. Cases that would kill the interpreter run in
a child process, so a regression fails the test instead of ending the session."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import shmkit
from conftest import run_python


def test_value_conversion_cannot_close_the_block_under_a_typed_write(name):
    proc = run_python("""
        import sys, shmkit
        b = shmkit.Block.create(sys.argv[1], 1 << 20)
        tv = b.typed()
        class Evil:
            def __index__(self):
                b.close()  # pinned for the call: BufferError, nothing unmapped
                return 7
        try:
            tv.write("i64", Evil(), at=4096 * 100)
        except (BufferError, TypeError, RuntimeError) as e:
            print("refused", type(e).__name__)
        print("closed", b.closed)
    """, name)
    assert "closed False" in proc.stdout


def test_object_dtypes_cannot_view_shared_memory(name):
    with shmkit.Block.create(name, 64) as b:
        b.write(b"A" * 8)
        with pytest.raises(TypeError):
            b.array(object, shape=1)
        with pytest.raises(TypeError):
            b.array([("a", "u1"), ("o", object)], shape=1)


def test_views_too_large_for_the_block_are_out_of_range(name):
    with shmkit.Block.create(name, 4096) as b:
        with pytest.raises(shmkit.OutOfRange):
            b.array("V1048576", shape=2 ** 44)
        with pytest.raises(shmkit.OutOfRange):
            b.array("u1", shape=(0, 2 ** 62))  # empty, but its strides would overflow
        assert b.array("u1", shape=(0, 4096)).shape == (0, 4096)


@pytest.mark.parametrize("lock", ["lock_shared", "lock"])
def test_a_handle_dropped_while_holding_a_lock_releases_it(name, lock):
    proc = run_python(f"""
        import sys, gc, shmkit
        b = shmkit.Block.create(sys.argv[1], 64)
        other = shmkit.Block.open(sys.argv[1])
        b.{lock}()
        del b
        gc.collect()
        print("write lock", other.lock(timeout=2))
        other.unlock()
    """, name)
    assert "write lock True" in proc.stdout


def test_a_thread_cannot_wait_for_its_own_lock(name):
    with shmkit.Block.create(name, 64) as b:
        b.lock_shared()
        with pytest.raises(RuntimeError):
            b.lock(timeout=None)  # would wait for its own read lock forever
        with pytest.raises(RuntimeError):
            b.typed().write("i32", 1)
        b.unlock_shared()
        b.lock()
        with pytest.raises(RuntimeError):
            b.lock_shared(timeout=None)
        b.unlock()


def test_another_thread_may_wait_for_a_lock_this_handle_holds(name):
    with shmkit.Block.create(name, 64) as b:
        b.lock()
        got = []
        t = threading.Thread(target=lambda: got.append(b.lock_shared(timeout=10)))
        t.start()
        t.join(0.3)
        assert t.is_alive() and not got  # waiting, not refused
        b.unlock()
        t.join(10)
        assert got == [True]
        b.unlock_shared()


def test_concurrent_unlocks_release_one_lock_once(name):
    proc = run_python("""
        import sys, threading, shmkit
        b = shmkit.Block.create(sys.argv[1], 1 << 24)
        other = shmkit.Block.open(sys.argv[1])
        for _ in range(20):
            b.lock_shared()
            ok, errors = [], []
            def big_read():
                b.read(0)  # large: holds the handle's mutex with the GIL released
            def unlock():
                try:
                    b.unlock_shared(); ok.append(1)
                except RuntimeError:
                    errors.append(1)
            t = threading.Thread(target=big_read); t.start()
            u = [threading.Thread(target=unlock) for _ in range(2)]
            for x in u: x.start()
            for x in u: x.join()
            t.join()
            assert (len(ok), len(errors)) == (1, 1), (ok, errors)
        print("write lock", other.lock(timeout=2))
        other.unlock()
        b.close()
        print("done")
    """, name)
    assert "write lock True" in proc.stdout and "done" in proc.stdout


def test_reserve_while_a_push_waits_refuses_the_push(name):
    proc = run_python("""
        import sys, threading, time, shmkit
        c = shmkit.SpscConsumer.create(sys.argv[1], capacity=4096, max_message=2000)
        p = shmkit.SpscProducer.open(sys.argv[1])
        p.push(b"x" * 1500); p.push(b"x" * 1500)
        result = []
        def pusher():
            try:
                p.push(b"y" * 2000, timeout=2); result.append("pushed")
            except RuntimeError:
                result.append("refused")
        t = threading.Thread(target=pusher); t.start()
        time.sleep(0.2)
        r = p.reserve(16, timeout=0)
        t.join()
        r.abandon()
        print(result)
    """, name)
    assert "['refused']" in proc.stdout


def test_two_threads_finishing_one_reservation(name):
    proc = run_python("""
        import sys, threading, time, shmkit
        rd = shmkit.CommandReader.create(sys.argv[1], capacity=4096)
        w = shmkit.CommandWriter.open(sys.argv[1])
        res = w.reserve(64, timeout=0)
        while w.try_write(b"f" * 200):
            pass
        def blocker():
            try:
                w.write(b"z" * 200, timeout=1)  # keeps the writer's mutex busy in slices
            except shmkit.Timeout:
                pass
        b = threading.Thread(target=blocker); b.start()
        time.sleep(0.1)
        outcomes = []
        def commit():
            try:
                res.commit(); outcomes.append("ok")
            except RuntimeError:
                outcomes.append("refused")
        ts = [threading.Thread(target=commit) for _ in range(2)]
        for t in ts: t.start()
        for t in ts: t.join()
        b.join()
        print(sorted(outcomes))
    """, name)
    assert "['ok', 'refused']" in proc.stdout


def test_release_after_a_pop_that_did_not_fit(name):
    with shmkit.SpscConsumer.create(name, capacity=4096) as c, shmkit.SpscProducer.open(name) as p:
        p.push(b"x" * 100)
        a = c.peek(timeout=0)
        del a
        with pytest.raises(shmkit.MessageTooLarge):
            c.pop_into(bytearray(10), timeout=0)
        with pytest.raises(RuntimeError):
            c.release()  # the failed pop dropped the peek, as the core does
        assert c.pop(timeout=0) == b"x" * 100


def test_concurrent_changes_report_each_change_once(name):
    with shmkit.KV.create(name, [f"k{i}" for i in range(8)]) as kv:
        for i in range(8):
            kv[f"k{i}"] = b"v"
        seen = []
        def reader():
            seen.extend(kv.changes())
        ts = [threading.Thread(target=reader) for _ in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        assert sorted(seen) == sorted(f"k{i}" for i in range(8))


def test_importing_shmkit_initialises_numpy():
    # pybind11 looks NumPy up lazily; two threads doing it first at once deadlock.
    proc = run_python("""
        import sys, shmkit
        print("numpy" in sys.modules)
    """)
    assert proc.stdout.strip() == "True"
