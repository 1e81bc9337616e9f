"""reserve_memory on every create(): by default the whole segment is backed with memory at
creation (a full /dev/shm fails there, rather than with SIGBUS on a later write); with
reserve_memory=False only the pages written so far are, so a large segment is created at once.
Checked by counting the blocks of the /dev/shm object (Linux; Windows ignores the option)."""

from __future__ import annotations

import os
import sys

import pytest

import shmkit

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="counts the blocks of /dev/shm objects, a Linux detail")

SIZE = 16 << 20

# One create() of every kind that takes reserve_memory, each for a segment of at least SIZE bytes.
CREATORS = {
    "Block.create": lambda name, **kw: shmkit.Block.create(name, SIZE, **kw),
    "Block.open_or_create": lambda name, **kw: shmkit.Block.open_or_create(name, SIZE, **kw),
    "BroadcastWriter": lambda name, **kw: shmkit.BroadcastWriter.create(name, capacity=SIZE, **kw),
    "SpscProducer": lambda name, **kw: shmkit.SpscProducer.create(name, capacity=SIZE, **kw),
    "SpscConsumer": lambda name, **kw: shmkit.SpscConsumer.create(name, capacity=SIZE, **kw),
    "CommandReader": lambda name, **kw: shmkit.CommandReader.create(name, capacity=SIZE, **kw),
    "ChannelWriter": lambda name, **kw: shmkit.ChannelWriter.create(name, capacity=SIZE, **kw),
    "ChannelReader": lambda name, **kw: shmkit.ChannelReader.create(name, capacity=SIZE, **kw),
    "StreamWriter": lambda name, **kw: shmkit.StreamWriter.create(name, dtype="uint8", shape=(SIZE // 8,), slots=8,
                                                                  **kw),
    "VideoWriter": lambda name, **kw: shmkit.VideoWriter.create(name, width=1024, height=1024, format="rgba32",
                                                                slots=4, **kw),
    "AudioWriter": lambda name, **kw: shmkit.AudioWriter.create(name, channels=8, format="f64le",
                                                                sample_rate=48000, buffer_seconds=1.0, slots=6, **kw),
    "KV": lambda name, **kw: shmkit.KV.create(name, [f"key{i}" for i in range(8)], max_value=2 << 20, **kw),
}


def size_and_backed_bytes(name):
    """The /dev/shm object's size and how many of its bytes are backed by memory."""
    st = os.stat("/dev/shm" + name)
    return st.st_size, st.st_blocks * 512


def created(kind, name, **kw):
    """Creates a segment with CREATORS[kind] and returns its size and backed bytes, removing it
    at once (so that a small /dev/shm holds one such segment at a time)."""
    with CREATORS[kind](name, **kw) as h:
        try:
            return size_and_backed_bytes(name)
        finally:
            h.unlink()


@pytest.mark.parametrize("kind", sorted(CREATORS))
def test_create_reserves_memory_unless_told_not_to(name, kind):
    size, backed = created(kind, name)
    assert size >= SIZE
    assert backed >= size, f"{kind}: the default leaves {size - backed} of {size} bytes unbacked"
    size, backed = created(kind, name, reserve_memory=True)
    assert backed >= size
    size, backed = created(kind, name, reserve_memory=False)
    assert size >= SIZE
    assert backed < size / 16, f"{kind}: reserve_memory=False still backs {backed} of {size} bytes"


def test_an_unreserved_block_is_backed_as_it_is_written(name):
    with shmkit.Block.create(name, SIZE, reserve_memory=False) as b:
        _, before = size_and_backed_bytes(name)
        b.write(b"\x01\x02\x03", SIZE - 3)
        with shmkit.Block.open(name) as other:
            assert other.read(SIZE - 3, 3) == b"\x01\x02\x03"
            assert other.read(0, 16) == bytes(16)  # what was never written reads as zero
        _, after = size_and_backed_bytes(name)
        assert after > before
