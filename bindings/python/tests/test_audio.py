"""Audio through the Python binding: sample formats, channels, partial buffers, pts."""

from __future__ import annotations

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG, u8


# ==== Audio ======================================================================================


@pytest.mark.parametrize("fmt, dtype", [("s16le", np.int16), ("f32le", np.float32), ("s32le", np.int32),
                                        ("u8", np.uint8), ("f64le", np.float64)])
def test_audio_shapes_and_pts(name, fmt, dtype):
    with shmkit.AudioWriter.create(name, channels=2, format=fmt, sample_rate=8000, buffer_seconds=0.01) as w, \
            shmkit.AudioReader.open(name) as r:
        frames = w.frames_per_buffer
        assert frames == 80 and r.channels == 2 and r.sample_rate == 8000 and r.format == fmt.upper()
        assert r.buffer_bytes == frames * 2 * np.dtype(dtype).itemsize
        data = (np.arange(frames * 2) % 100).astype(dtype).reshape(frames, 2)
        w.write(data, pts=1234)
        got = r.next(NO_HANG)
        assert got.shape == (frames, 2) and got.dtype == np.dtype(dtype)
        assert np.array_equal(got, data)
        assert r.last.pts == 1234 and r.last.size == r.buffer_bytes


def test_audio_partial_buffer(name):
    with shmkit.AudioWriter.create(name, channels=2, format="s16le", sample_rate=48000, buffer_seconds=0.01) as w, \
            shmkit.AudioReader.open(name) as r:
        assert w.frames_per_buffer == 480
        short = np.arange(100 * 2, dtype=np.int16).reshape(100, 2)
        w.write(short, pts=7)
        got = r.next(NO_HANG)
        assert got.shape == (100, 2) and np.array_equal(got, short)
        assert r.last.pts == 7 and r.last.size == 400
        with pytest.raises(shmkit.SizeMismatch):  # more than a buffer
            w.write(np.zeros((481, 2), np.int16))
        with pytest.raises(shmkit.SizeMismatch):  # not whole frames
            w.write(b"\x00" * 6)
        # reserve() is a whole buffer.
        with w.reserve(pts=8) as buf:
            assert buf.shape == (480, 2) and buf.dtype == np.int16
            buf[:] = 3
        del buf
        got = r.next(NO_HANG)
        assert got.shape == (480, 2) and (got == 3).all() and r.last.pts == 8


def test_audio_s24le(name):
    with shmkit.AudioWriter.create(name, channels=2, format="s24le", sample_rate=48000, buffer_seconds=0.001) as w, \
            shmkit.AudioReader.open(name) as r:
        frames = w.frames_per_buffer
        assert frames == 48 and w.buffer_bytes == frames * 2 * 3
        data = (np.arange(frames * 6) % 251).astype(np.uint8)
        w.write(data.tobytes(), pts=5)
        got = r.latest()
        assert got.shape == (frames, 2, 3) and got.dtype == np.uint8
        assert np.array_equal(got.reshape(-1), data)
        w.write(data[:10 * 6].tobytes(), pts=6)
        got = r.latest()
        assert got.shape == (10, 2, 3) and r.last.pts == 6
