"""Video through the Python binding: pixel formats, planes, strides, pts, zero-copy views."""

from __future__ import annotations

import numpy as np
import pytest

import shmkit
from conftest import NO_HANG


# ==== Video ======================================================================================


@pytest.mark.parametrize("fmt, shape, frame_bytes", [
    ("rgb24", (4, 6, 3), 72),
    ("bgra32", (4, 6, 4), 96),
    ("gray8", (4, 6), 24),
    ("nv12", (6, 6), 36),
    ("i420", (6, 8), 48),
])
def test_video_frame_shapes(name, fmt, shape, frame_bytes):
    width = shape[1]
    with shmkit.VideoWriter.create(name, width=width, height=4, format=fmt, fps=(25, 1)) as w, \
            shmkit.VideoReader.open(name) as r:
        assert w.shape == shape and r.shape == shape
        assert r.frame_bytes == frame_bytes and r.width == width and r.height == 4
        assert r.format == fmt.upper() and r.fps == (25, 1)
        frame = (np.arange(frame_bytes) % 251).astype(np.uint8).reshape(shape)
        w.write(frame, pts=3)
        got = r.latest()
        assert got.shape == shape and got.dtype == np.uint8
        assert np.array_equal(got, frame)
        assert r.last.pts == 3


def _fill_and_check_planes(name, fmt, width, height, stride):
    with shmkit.VideoWriter.create(name, width=width, height=height, format=fmt, stride=stride) as w, \
            shmkit.VideoReader.open(name) as r:
        uv_cols = width if fmt == "nv12" else width // 2
        expect_shapes = [(height, width)] + [(height // 2, uv_cols)] * (2 if fmt == "i420" else 1)
        with w.reserve(pts=1) as frame:
            frame[...] = 0xEE  # padding and everything else
            planes = w.planes(frame)
            assert [p.shape for p in planes] == expect_shapes
            assert all(p.flags.writeable for p in planes)
            for k, p in enumerate(planes):
                p[...] = (np.arange(p.size) % 50 + 60 * k).reshape(p.shape)
        del frame, planes, p  # views of the reservation pin the writer
        got = r.latest()
        back = r.planes(got)
        assert [p.shape for p in back] == expect_shapes
        for k, p in enumerate(back):
            assert np.array_equal(p, (np.arange(p.size) % 50 + 60 * k).reshape(p.shape)), f"plane {k}"
        # The planes sit where plane_offsets says, in the raw bytes of the frame.
        raw = np.asarray(got).reshape(-1) if got.flags.c_contiguous else None
        if raw is not None:
            for k, (offset, pstride) in enumerate(r.plane_offsets):
                assert raw[offset] == 60 * k and raw[offset + 1] == 60 * k + 1
        return r.shape


@pytest.mark.parametrize("fmt", ["nv12", "i420"])
def test_video_planes_packed(name, fmt):
    shape = _fill_and_check_planes(name, fmt, 8, 4, 0)
    assert shape == (6, 8)


@pytest.mark.parametrize("fmt", ["nv12", "i420"])
def test_video_planes_padded_stride(name, fmt):
    _fill_and_check_planes(name, fmt, 8, 4, 16)


def test_video_nv12_layout(name):
    # NV12: the (h*3/2, w) image is the Y rows followed by the interleaved UV rows.
    with shmkit.VideoWriter.create(name, width=4, height=2, format="nv12") as w, \
            shmkit.VideoReader.open(name) as r:
        frame = np.array([[16] * 4, [17] * 4, [128, 129] * 2], np.uint8)
        w.write(frame)
        y, uv = r.planes(r.latest())
        assert y.tolist() == [[16] * 4, [17] * 4]
        assert uv.tolist() == [[128, 129, 128, 129]]


def test_video_planes_of_packed_format(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="rgb24") as w:
        with w.reserve() as frame:
            planes = w.planes(frame)
            assert len(planes) == 1 and planes[0].shape == (2, 4, 3)
        del frame, planes


def test_video_pts_and_audio_pts(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="gray8", slots=4) as w, \
            shmkit.VideoReader.open(name) as r:
        w.write(np.zeros((2, 4), np.uint8), pts=1000, audio_pts=-5)
        with w.reserve(pts=2000, audio_pts=77) as f:
            f[:] = 1
        del f
        r.next(NO_HANG)
        assert (r.last.pts, r.last.audio_pts, r.last.index) == (1000, -5, 0)
        r.next(NO_HANG)
        assert (r.last.pts, r.last.audio_pts, r.last.index) == (2000, 77, 1)
        v = r.view_latest()
        assert (v.info.pts, v.info.audio_pts) == (2000, 77)
        del v


def test_video_view_latest_zero_copy(name):
    with shmkit.VideoWriter.create(name, width=8, height=4, format="rgb24", slots=4) as w, \
            shmkit.VideoReader.open(name) as r:
        frame = (np.arange(96) % 256).astype(np.uint8).reshape(4, 8, 3)
        w.write(frame, pts=9)
        v = r.view_latest()
        assert v.valid and v.array.shape == (4, 8, 3) and not v.array.flags.writeable
        assert np.array_equal(v.array, frame)
        again = r.view_latest()
        assert np.shares_memory(v.array, again.array)  # both the slot itself, not copies
        assert r.exports == 2
        copy = r.latest()
        assert not np.shares_memory(copy, v.array)
        del again
        for i in range(4):
            w.write(np.zeros((4, 8, 3), np.uint8))
        assert not v.valid
        del v
        assert r.exports == 0


def test_video_stride_padding(name):
    h, wd, stride = 4, 6, 32
    with shmkit.VideoWriter.create(name, width=wd, height=h, format="rgb24", stride=stride) as w, \
            shmkit.VideoReader.open(name) as r:
        assert w.stride == stride and r.frame_bytes == stride * h
        assert w.shape == (h, wd, 3)
        image = (np.arange(h * wd * 3) % 256).astype(np.uint8).reshape(h, wd, 3)
        with w.reserve(pts=1) as frame:
            assert frame.shape == (h, wd, 3) and frame.strides == (stride, 3, 1)
            frame[:] = image
        del frame
        got = r.latest()
        assert got.shape == (h, wd, 3) and got.strides == (stride, 3, 1)
        assert np.array_equal(got, image)
        v = r.view_latest()
        assert v.array.strides == (stride, 3, 1) and np.array_equal(v.array, image)
        del v
        # write() takes the padded frame as frame_bytes raw bytes.
        raw = np.zeros((h, stride), np.uint8)
        raw[:, :wd * 3] = (image[::-1]).reshape(h, wd * 3)
        w.write(raw.reshape(-1), pts=2)
        assert np.array_equal(r.latest(), image[::-1]) and r.last.pts == 2


def test_video_write_wrong_size(name):
    with shmkit.VideoWriter.create(name, width=4, height=2, format="rgb24") as w:
        with pytest.raises(shmkit.SizeMismatch):
            w.write(np.zeros((2, 3, 3), np.uint8))
        assert w.samples_written == 0
