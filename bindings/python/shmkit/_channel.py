"""Frames read from a channel: views of the channel's memory that stop working when released."""

from __future__ import annotations

import sys
from typing import Any, Optional

from . import _shmkit as _n


class Frame:
    """One frame read from a ChannelReader, in place in the channel's memory (zero-copy).

    ``data`` is a read-only uint8 NumPy array over its bytes; ``seq`` its sequence number.
    ``release()`` (or leaving a ``with`` block) gives its space back to the writer, which may then
    reuse it, so from then on ``data`` raises ValueError instead of showing bytes of a later
    frame. For the same reason ``release()`` refuses (BufferError) while anything made from
    ``data`` still exists (a name bound to it, a slice, a reshaped or ``frombuffer`` view, a
    memoryview): no reference to the frame's memory outlives its release. Copy what must
    (``bytes(frame)``, ``frame.data.copy()``).
    """

    __slots__ = ("_reader", "_array", "seq", "size")

    def __init__(self, reader: "_n.ChannelReader", array: Any, seq: int) -> None:
        self._reader = reader
        self._array: Optional[Any] = array
        self.seq = seq
        self.size = len(array)

    @property
    def data(self) -> Any:
        if self._array is None:
            raise ValueError("the frame was released: its memory belongs to the writer again")
        return self._array

    @property
    def released(self) -> bool:
        return self._array is None

    def release(self) -> None:
        """Gives the frame's space back to the writer; idempotent."""
        if self._array is None:
            return
        # Every view of the array (slices, memoryviews, frombuffer arrays) holds a reference to
        # it, directly or through its base chain; two are ours (the slot and the call's argument).
        if sys.getrefcount(self._array) > 2:
            raise BufferError("arrays, views or names made from this frame's data still exist: drop them "
                              "before release()")
        self._array = None
        self._reader._release()

    def __bytes__(self) -> bytes:
        return bytes(self.data)

    def __len__(self) -> int:
        return self.size

    def __enter__(self) -> "Frame":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "released" if self._array is None else f"{self.size} bytes"
        return f"<shmkit.Frame seq={self.seq} {state}>"


def read(self: "_n.ChannelReader", timeout: Optional[float] = None) -> Frame:
    """The next frame in place, waiting up to `timeout` seconds (None: forever). Raises Timeout when
    it expires (0 included), WriterDead once every frame is read and the writer has died, and
    RuntimeError while the frame read before is not released."""
    array, seq = self._read(timeout)
    return Frame(self, array, seq)


def try_read(self: "_n.ChannelReader") -> Optional[Frame]:
    """As read(), without waiting: None when no frame is waiting."""
    got = self._try_read()
    return None if got is None else Frame(self, got[0], got[1])


def install() -> None:
    _n.ChannelReader.read = read
    _n.ChannelReader.try_read = try_read
