"""ChannelWriter / ChannelReader: zero-copy frames up to the whole ring, the metadata block,
frames that stop working once released, and the other end's death as WriterDead / ReaderDead."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import shmkit

from conftest import NO_HANG, start_python, wait_until


def pair(name, **config):
    reader = shmkit.ChannelReader.create(name, **config)
    writer = shmkit.ChannelWriter.open(name)
    return writer, reader


def test_a_frame_may_fill_the_whole_ring_but_its_header(name):
    writer, reader = pair(name, capacity=1024)
    assert writer.max_frame == reader.max_frame == 1008
    writer.write(b"a" * 600)
    with reader.read(timeout=NO_HANG) as f:
        assert bytes(f) == b"a" * 600
    # Larger than half the ring and not fitting before its end: the pad goes first, and the frame
    # fits once the reader has skipped it.
    assert not writer.try_write(b"b" * 1008)
    assert reader.try_read() is None
    assert writer.try_write(b"b" * 1008)
    with reader.read(timeout=NO_HANG) as f:
        assert f.seq == 1 and bytes(f) == b"b" * 1008
    with pytest.raises(shmkit.MessageTooLarge, match="max_frame is 1008 bytes"):
        writer.write(b"c" * 1009)


def test_a_limit_beyond_the_ring_is_refused_with_the_limit(name):
    with pytest.raises(shmkit.InvalidArgument, match=r"at most 10224"):
        shmkit.ChannelWriter.create(name, capacity=10240, max_frame=10225)
    with pytest.raises(shmkit.InvalidArgument, match=r"at most 10224"):
        shmkit.SpscProducer.create(name, capacity=10240, max_message=20000)
    # The frame the issue was about: 10,224 bytes in a 10,240-byte spsc ring.
    p = shmkit.SpscProducer.create(name, capacity=10240)
    c = shmkit.SpscConsumer.open(name)
    p.push(bytes(range(256)) * 39 + bytes(240))
    assert len(c.pop(timeout=NO_HANG)) == 10224


def test_the_metadata_block_is_written_once_and_read_in_place(name):
    writer, reader = pair(name, capacity=4096, metadata_size=100)
    assert reader.metadata_capacity == 128
    assert reader.metadata is None
    with pytest.raises(shmkit.MessageTooLarge):
        writer.set_metadata(bytes(129))
    writer.set_metadata(b"1920x1080 rgb24")
    with pytest.raises(shmkit.AlreadySet):
        writer.set_metadata(b"other")
    meta = reader.metadata
    assert bytes(meta) == b"1920x1080 rgb24"
    assert not meta.flags.writeable


def test_a_released_frame_cannot_be_read_and_views_block_its_release(name):
    writer, reader = pair(name, capacity=4096)
    writer.write(b"first")
    frame = reader.read(timeout=NO_HANG)
    view = np.frombuffer(frame.data, dtype=np.uint8)[1:]
    with pytest.raises(BufferError):
        frame.release()  # the view would show the next frame's bytes
    assert bytes(view) == b"irst"
    del view
    frame.release()
    assert frame.released
    with pytest.raises(ValueError):
        frame.data
    with pytest.raises(ValueError):
        bytes(frame)
    frame.release()  # idempotent


def test_space_comes_back_only_on_release(name):
    writer, reader = pair(name, capacity=1024)
    assert writer.try_write(bytes(400)) and writer.try_write(bytes(400))
    assert not writer.try_write(bytes(400))
    frame = reader.read(timeout=NO_HANG)
    with pytest.raises(shmkit.Timeout):
        writer.write(bytes(400), timeout=0.02)
    with pytest.raises(RuntimeError, match="release"):
        reader.read(timeout=0)  # one frame at a time
    frame.release()
    writer.write(bytes(400), timeout=NO_HANG)


def test_zero_copy_write_and_connection_state(name):
    reader = shmkit.ChannelReader.create(name, capacity=1 << 16)
    assert not reader.writer_connected
    with shmkit.ChannelWriter.open(name) as writer:
        assert reader.writer_connected and writer.reader_connected
        with pytest.raises(shmkit.Busy):
            shmkit.ChannelWriter.open(name)
        with writer.reserve(1000) as frame:  # committed at the end of the block
            frame[:] = np.arange(1000) % 251
        del frame
        with reader.read(timeout=NO_HANG) as f:
            assert np.array_equal(f.data, np.arange(1000) % 251)
    assert not reader.writer_connected


WRITER_THAT_DIES = """
import sys, time, shmkit
w = shmkit.ChannelWriter.open(sys.argv[1])
for i in range(3):
    w.write(b"frame %d" % i)
print("written", flush=True)
time.sleep(60)  # killed before this ends, holding the writer's end
"""


def test_a_dead_writer_is_writer_dead_after_its_last_frame(name):
    reader = shmkit.ChannelReader.create(name, capacity=4096, liveness_period=0.02)
    child = start_python(WRITER_THAT_DIES, name)
    assert child.stdout.readline().strip() == "written"
    for i in range(3):
        with reader.read(timeout=NO_HANG) as f:
            assert bytes(f) == b"frame %d" % i
    killer = threading.Timer(0.1, child.kill)  # a hard death, most likely while the read below waits
    killer.start()
    with pytest.raises(shmkit.WriterDead) as info:
        reader.read(timeout=NO_HANG)
    killer.join()
    child.wait()
    assert isinstance(info.value, shmkit.PeerDead)
    # A successor takes the writer's end over; the sequence carries on.
    with shmkit.ChannelWriter.open(name) as successor:
        successor.write(b"next")
        with reader.read(timeout=NO_HANG) as f:
            assert f.seq == 3 and bytes(f) == b"next"


READER_THAT_DIES = """
import sys, time, shmkit
r = shmkit.ChannelReader.open(sys.argv[1])
f = r.read(timeout=30)
print("holding", f.seq, flush=True)
time.sleep(60)  # killed before this ends, holding the reader's end and its frame
"""


def test_a_dead_reader_is_reader_dead_for_a_blocked_writer(name):
    writer = shmkit.ChannelWriter.create(name, capacity=4096, liveness_period=0.02)
    sent = 0
    while writer.try_write(bytes(1000)):
        sent += 1
    child = start_python(READER_THAT_DIES, name)
    assert child.stdout.readline().strip() == "holding 0"
    assert wait_until(lambda: writer.reader_connected)
    killer = threading.Timer(0.1, child.kill)
    killer.start()
    with pytest.raises(shmkit.ReaderDead):
        writer.write(bytes(1000), timeout=NO_HANG)
    killer.join()
    child.wait()
    successor = shmkit.ChannelReader.open(name)
    for i in range(sent):
        with successor.read(timeout=NO_HANG) as f:
            assert f.seq == i
    writer.write(bytes(1000), timeout=NO_HANG)
