"""shmkit.Consumer: a subclass's callback() runs on a background thread for each sample (or
message), over the reader's on_data."""

from __future__ import annotations

import threading

import numpy as np
import pydantic
import pytest

import shmkit
from conftest import NO_HANG, start_python, wait_until


class Collector(shmkit.Consumer):
    """Keeps what each callback saw."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def callback(self):
        info = self.info.index if self.info is not None else None
        self.seen.append((self.data.tolist() if isinstance(self.data, np.ndarray) else self.data, self.seq, info))


def int_stream(name, slots=8):
    return shmkit.StreamWriter.create(name, dtype="int64", shape=1, slots=slots)


def test_next_mode_delivers_every_sample_in_order(name):
    with int_stream(name) as w, Collector.open(name) as c:
        assert isinstance(c.reader, shmkit.StreamReader) and not c.running
        assert c.start() is c and c.running
        for i in range(5):
            w.write(np.array([i * 10], np.int64))
        assert wait_until(lambda: c.delivered == 5)
        c.stop()
        assert not c.running
        assert c.seen == [([i * 10], i, i) for i in range(5)] and c.lost == 0
    assert c.reader.closed  # open() opened it: close() closed it


def test_latest_mode_skips_to_the_newest(name):
    with int_stream(name) as w, Collector.open(name, mode="latest") as c:
        for i in range(3):
            w.write(np.array([i], np.int64))
        c.start()
        assert wait_until(lambda: c.delivered == 1)
        w.write(np.array([3], np.int64))
        assert wait_until(lambda: c.delivered == 2)
        c.stop()
        assert c.seen == [([2], 2, 2), ([3], 3, 3)]  # 0 and 1 were never the newest when it looked


class Status(pydantic.BaseModel):
    gain: float
    cam_on: bool


def test_a_consumer_of_a_message_stream_gets_message_objects(name):
    with shmkit.StreamWriter.create(name, max_bytes=256, schema=Status) as w, \
            Collector.open(name, schema=Status, from_newest=True) as c:
        w.write_obj(Status(gain=0.5, cam_on=True))  # the newest present when it starts
        c.start()
        w.write_obj(Status(gain=1.5, cam_on=False))
        assert wait_until(lambda: c.delivered == 2)
        c.stop()
    assert c.seen == [(Status(gain=0.5, cam_on=True), 0, 0), (Status(gain=1.5, cam_on=False), 1, 1)]


def test_a_consumer_over_a_channel_reader_it_does_not_close(name):
    with shmkit.BroadcastWriter.create(name) as w, shmkit.BroadcastReader.open(name) as r:
        with pytest.raises(ValueError, match="latest"):
            Collector(r, mode="latest")
        with Collector(r) as c:
            c.start()
            w.write(b"a")
            w.write(b"b")
            assert wait_until(lambda: c.delivered == 2)
        assert c.seen == [(b"a", 0, None), (b"b", 1, None)]
        assert not r.closed


def test_a_callback_error_ends_it_unless_on_error_handles_it(name, monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # reported: not printed here

    class Failing(shmkit.Consumer):
        def callback(self):
            raise KeyError(self.seq)

    class Forgiving(Failing):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.errors = []

        def on_error(self, exc):
            self.errors.append(exc)

    with int_stream(name) as w, Failing.open(name) as failing, Forgiving.open(name) as forgiving:
        failing.start()
        forgiving.start()
        for i in range(3):
            w.write(np.array([i], np.int64))
        assert wait_until(lambda: not failing.running and len(forgiving.errors) == 3)
        with pytest.raises(shmkit.CallbackError) as e:
            failing.stop()
        assert isinstance(e.value.__cause__, KeyError)
        assert forgiving.running
        forgiving.stop()
        assert [exc.args for exc in forgiving.errors] == [(0,), (1,), (2,)]

    with int_stream(name + "-bare") as w, shmkit.Consumer.open(name + "-bare") as bare:
        bare.start()
        w.write(np.array([1], np.int64))
        assert wait_until(lambda: not bare.running)
        with pytest.raises(shmkit.CallbackError) as e:
            bare.stop()
        assert isinstance(e.value.__cause__, NotImplementedError)


def test_start_twice_and_restart(name):
    with int_stream(name) as w, Collector.open(name) as c:
        c.start()
        with pytest.raises(RuntimeError):
            c.start()
        c.stop()
        w.write(np.array([7], np.int64))
        c.start()  # a stopped consumer starts again where its reader is
        assert wait_until(lambda: c.delivered == 1)
        c.stop()
        assert c.seen == [([7], 0, 0)]


def test_samples_written_by_another_process(name):
    with int_stream(name, slots=16):
        pass  # the writer role is free again; the segment stays
    with Collector.open(name) as c:
        c.start()
        child = start_python("""
            import sys, numpy as np, shmkit
            with shmkit.StreamWriter.open(sys.argv[1]) as w:
                for i in range(5):
                    w.write(np.array([i], np.int64))
        """, name)
        assert child.wait(NO_HANG) == 0, child.stderr.read()
        assert wait_until(lambda: c.delivered == 5)
        c.stop()
        assert [seq for _, seq, _ in c.seen] == list(range(5))
