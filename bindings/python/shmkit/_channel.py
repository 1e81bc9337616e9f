"""Frames read from a channel (views of the channel's memory that stop working when released),
and the duplex server's serving loops."""

from __future__ import annotations

import concurrent.futures
import sys
import threading
from typing import Any, Callable, Optional

from . import _shmkit as _n
from ._errors import Closed, ReaderDead, Timeout

wait_slice = _n.wait_slice


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
    # The stubs (_shmkit.pyi) declare these as the native classes' own methods; setattr adds them.
    setattr(_n.ChannelReader, "read", read)
    setattr(_n.ChannelReader, "try_read", try_read)
    install_duplex()


# ---- duplex: the serving loops over DuplexServer's calls ----------------------------------------

def _answer(server: "_n.DuplexServer", handler: Callable[..., Any], request: Any, seq: int,
            in_place: bool, timeout: Optional[float]) -> None:
    """Runs handler for one request and sends its response; a client that died meanwhile drops it."""
    try:
        if in_place:
            # handler(request, reserve): reserve(size) gives a writable array in the response
            # ring; what the handler fills is sent when it returns (its return value: the bytes used).
            slot: list[Any] = []

            def reserve(size: int) -> Any:
                if slot:
                    raise RuntimeError("reserve() once per response")
                slot.append(server.reserve_response(seq, size, timeout))
                return slot[0].__enter__()

            used = handler(request, reserve)
            if slot:
                slot[0].commit(used if isinstance(used, int) else None)
            else:
                server.respond(seq, b"", timeout)
        else:
            result = handler(request)
            server.respond(seq, b"" if result is None else result, timeout)
    except ReaderDead:
        pass  # the client is gone; its successor skips responses meant for it


def _serve_one(self: "_n.DuplexServer", handler: Callable[..., Any], timeout: Optional[float] = None, *,
               in_place: bool = False) -> int:
    """Receives one request (waiting up to `timeout`; Timeout when none came) and answers it with
    handler(request) -> bytes-like or None, or with in_place=True handler(request, reserve), which
    writes its response into reserve(size) in place and returns the bytes used. `request` is a
    read-only uint8 array in place, valid during the call. Returns the request's sequence number."""
    request, seq = self._receive_request(timeout)
    try:
        _answer(self, handler, request, seq, in_place, timeout)
    finally:
        del request
        self._release_request()
    return seq


def _serve(self: "_n.DuplexServer", handler: Callable[..., Any], *, workers: int = 1, in_place: bool = False,
           stop: Optional[threading.Event] = None) -> None:
    """Serves requests until `stop` is set (or the server is closed). workers=1: one at a time, in
    this thread, zero-copy in and (with in_place) out. workers>1: each request is copied out and
    answered by a pool of threads, in whatever order they finish (clients match responses by
    sequence number)."""
    stop = stop or threading.Event()
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers > 1 and in_place:
        raise ValueError("in_place needs workers=1: the pool answers from copies")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        while not stop.is_set():
            try:
                if pool is None:
                    _serve_one(self, handler, wait_slice, in_place=in_place)
                    continue
                request, seq = self._receive_request(wait_slice)
                data = bytes(request)
                del request
                self._release_request()
                pool.submit(_answer, self, handler, data, seq, False, None)
            except Timeout:
                continue
            except Closed:
                return
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def install_duplex() -> None:
    setattr(_n.DuplexServer, "serve_one", _serve_one)
    setattr(_n.DuplexServer, "serve", _serve)
