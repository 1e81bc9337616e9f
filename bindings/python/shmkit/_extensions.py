"""Python-level additions to the native classes: background callbacks (on_data), msgpack
message helpers, Block lock context managers, video plane views and the attach() aliases.

They live here rather than in C++ because they are naturally Python (threads, optional
imports, context managers) and cost nothing on the hot path.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from . import _errors
from . import _shmkit as _n

# How often a subscription thread looks at its stop flag while idle (seconds).
_SUBSCRIPTION_POLL = 0.1


# ---- on_data ---------------------------------------------------------------------------------


class Subscription:
    """A callback run on a background thread for every message (see ``Reader.on_data``).

    ``stop()`` ends it (within about 0.1 s) and re-raises, as CallbackError, an exception the
    callback raised. Such an exception is also reported at once through ``threading.excepthook``
    (printed to stderr by default) and ends the subscription, unless ``on_error`` was given: then
    ``on_error(exc)`` is called and delivery continues. Closing the reader ends the subscription
    quietly. Usable as a context manager (stops on exit).
    """

    # ``receive(timeout)`` returns None (nothing within timeout) or ``(lost, args)``: the
    # callback's arguments and how many messages were lost just before them.
    def __init__(self, receive: Callable[[float], Optional[tuple]], fn: Callable[..., Any],
                 on_error: Optional[Callable[[BaseException], Any]], name: str) -> None:
        self._receive = receive
        self._fn = fn
        self._on_error = on_error
        self._stop = threading.Event()
        self._error: Optional[BaseException] = None
        self.delivered = 0  #: callbacks completed
        self.lost = 0       #: messages the writer overwrote before this subscription read them
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the thread delivers messages."""
        return self._thread.is_alive()

    @property
    def error(self) -> Optional[BaseException]:
        """The exception that ended the subscription, if any."""
        return self._error

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._receive(_SUBSCRIPTION_POLL)
            except _errors.Closed:
                return  # the reader was closed: nothing more will come
            except BaseException as e:  # a failure of the channel itself
                self._fail(e)
                return
            if item is None:
                continue
            lost, args = item
            self.lost += lost
            try:
                self._fn(*args)
                self.delivered += 1
            except BaseException as e:
                if self._on_error is None:
                    self._fail(e)
                    return
                try:
                    self._on_error(e)
                except BaseException as e2:
                    self._fail(e2)
                    return

    def _fail(self, e: BaseException) -> None:
        self._error = e
        threading.excepthook(threading.ExceptHookArgs((type(e), e, e.__traceback__, self._thread)))

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stops delivering and waits for the thread; raises CallbackError if the callback failed."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        if self._error is not None:
            raise _errors.CallbackError(f"the on_data callback raised {type(self._error).__name__}: {self._error}") \
                from self._error

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _timeout_as_none(call: Callable[[float], Any]) -> Callable[[float], Any]:
    def receive(timeout: float) -> Any:
        try:
            return call(timeout)
        except _errors.Timeout:
            return None
    return receive


def _message_on_data(read_name: str, lossy: bool):
    def on_data(self, fn: Callable[[bytes, int], Any], *,
                on_error: Optional[Callable[[BaseException], Any]] = None) -> Subscription:
        """Calls ``fn(message, seq)`` on a background thread for every message; returns the
        Subscription (stop() it when done). Messages the writer overwrote before they were read
        are counted in ``Subscription.lost``."""
        read = getattr(self, read_name)

        def receive(timeout: float):
            msg = read(timeout)
            return (self.lost if lossy else 0, (msg, self.last_seq))
        return Subscription(_timeout_as_none(receive), fn, on_error, f"shmkit-on_data {self.name}")
    return on_data


def _slot_on_data(self, fn: Callable[[Any, int], Any], *, mode: str = "next",
                  on_error: Optional[Callable[[BaseException], Any]] = None) -> Subscription:
    """Calls ``fn(sample, index)`` on a background thread: every sample in order (mode="next";
    samples the writer overwrote before they were read are counted in ``Subscription.lost``) or
    each newer sample (mode="latest", skipping those that came in meanwhile). ``self.last`` has
    the full SampleInfo inside the callback."""
    if mode == "next":
        read = self.next
    elif mode == "latest":
        read = self.wait_latest
    else:
        raise ValueError("mode must be 'next' or 'latest'")

    def receive(timeout: float):
        sample = read(timeout)
        info = self.last
        return (info.lost, (sample, info.index))
    return Subscription(_timeout_as_none(receive), fn, on_error, f"shmkit-on_data {self.name}")


def _kv_on_data(self, fn: Callable[[Any, int], Any], *, values: bool = False,
                on_error: Optional[Callable[[BaseException], Any]] = None) -> Subscription:
    """Calls ``fn(changed_keys, epoch)`` on a background thread whenever keys change; with
    ``values=True``, ``changed_keys`` is a dict of the keys and their values (see changed_since)."""
    state = {"since": self.epoch}

    def receive(timeout: float):
        if not self.wait_change(state["since"], timeout):
            return None
        changed, state["since"] = self.changed_since(state["since"], values=values)
        return (0, (changed, state["since"])) if changed else None
    return Subscription(receive, fn, on_error, f"shmkit-on_data {self.name}")


# ---- msgpack -----------------------------------------------------------------------------------


def _msgpack():
    try:
        import msgpack
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("the *_obj helpers need msgpack (Debian: apt-get install python3-msgpack)") from e
    return msgpack


def _pack(obj: Any) -> bytes:
    return _msgpack().packb(obj, use_bin_type=True)


def _unpack(data: Optional[bytes]) -> Any:
    if data is None:
        return None
    return _msgpack().unpackb(data, raw=False)


def _obj_writer(method: str):
    def write_obj(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, method)(_pack(obj), *args, **kwargs)
    write_obj.__doc__ = f"{method}() of a msgpack-encoded object (dict, list, str, numbers, bytes...)."
    return write_obj


def _obj_reader(method: str):
    def read_obj(self, *args: Any, **kwargs: Any) -> Any:
        return _unpack(getattr(self, method)(*args, **kwargs))
    read_obj.__doc__ = f"{method}(), decoded from msgpack (None where {method}() returns None)."
    return read_obj


def _kv_get_obj(self, key: str, default: Any = None) -> Any:
    """The msgpack-decoded value of ``key``, or ``default`` if it was never written."""
    value = self.get(key)
    return default if value is None else _unpack(value)


def _kv_set_obj(self, key: str, obj: Any, timeout: Optional[float] = None) -> None:
    """Stores ``obj`` msgpack-encoded."""
    self.set(key, _pack(obj), timeout)


# ---- Block locks ---------------------------------------------------------------------------


class BlockLock:
    """A Block lock as a context manager; ``consistent`` is False only when the lock was taken
    with accept_inconsistent=True from a writer that died mid-write. The block's typed calls made
    inside it by the same thread use it instead of locking again, so several of them inside one
    ``write_lock()`` are one update that readers see whole."""

    def __init__(self, block: "_n.Block", exclusive: bool, timeout: Optional[float],
                 accept_inconsistent: bool) -> None:
        self._block = block
        self._exclusive = exclusive
        self._timeout = timeout
        self._accept = accept_inconsistent
        self.consistent = True

    def __enter__(self) -> "BlockLock":
        take = self._block.lock if self._exclusive else self._block.lock_shared
        self.consistent = take(self._timeout, accept_inconsistent=self._accept)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._exclusive:
            self._block.unlock()
        else:
            self._block.unlock_shared()


def _read_lock(self, timeout: Optional[float] = None, *, accept_inconsistent: bool = False) -> BlockLock:
    """``with block.read_lock():`` holds a shared lock for the block's duration."""
    return BlockLock(self, False, timeout, accept_inconsistent)


def _write_lock(self, timeout: Optional[float] = None, *, accept_inconsistent: bool = False) -> BlockLock:
    """``with block.write_lock():`` holds the exclusive lock for the block's duration."""
    return BlockLock(self, True, timeout, accept_inconsistent)


# ---- video planes --------------------------------------------------------------------------


def _planes(self, frame: Any) -> tuple:
    """The planes of a frame array from this ring, as views (no copy): (frame,) for packed
    formats, (Y, UV) for NV12, (Y, U, V) for I420, each (rows, columns) with its own stride."""
    import numpy as np

    frame = np.asarray(frame)
    offsets = self.plane_offsets
    if len(offsets) == 1:
        return (frame,)
    h, w = self.height, self.width
    if frame.ndim == 2:
        if frame.shape != (h * 3 // 2, w) or frame.strides[0] != self.stride:
            raise ValueError(f"expected a ({h * 3 // 2}, {w}) frame with row stride {self.stride}")
        if len(offsets) == 2:  # NV12: Y rows, then interleaved UV rows of the same stride
            return (frame[:h], frame[h:])
        quarter = h // 4  # I420 packed rows (stride == width): U and V are h/4 rows each
        return (frame[:h], frame[h:h + quarter].reshape(h // 2, w // 2),
                frame[h + quarter:h + 2 * quarter].reshape(h // 2, w // 2))
    flat = frame.reshape(-1)
    if flat.size < self.frame_bytes:
        raise ValueError(f"expected {self.frame_bytes} bytes, got {flat.size}")
    shapes = [(h, w)] + [(h // 2, w if len(offsets) == 2 else w // 2)] * (len(offsets) - 1)
    planes = []
    for (offset, stride), (rows, cols) in zip(offsets, shapes):
        extent = (rows - 1) * stride + cols
        region = flat[offset:offset + extent]
        planes.append(np.lib.stride_tricks.as_strided(region, shape=(rows, cols), strides=(stride, 1),
                                                      writeable=region.flags.writeable))
    return tuple(planes)


# ---- installation ---------------------------------------------------------------------------


# Every class that opens an existing named segment: open() is the name, as in C++; attach() is
# kept as an alias (the name the Python API used first).
_OPENABLE = ("AudioReader", "AudioWriter", "Block", "BroadcastReader", "BroadcastWriter", "ChannelReader",
             "ChannelWriter", "CommandReader", "CommandWriter", "DuplexClient", "KV", "SpscConsumer", "SpscProducer", "StreamReader", "StreamWriter", "VideoReader",
             "VideoWriter")


def install() -> None:
    for name in _OPENABLE:
        cls = getattr(_n, name)
        cls.attach = cls.open

    for cls, read, lossy in ((_n.BroadcastReader, "read", True), (_n.CommandReader, "read", False),
                             (_n.SpscConsumer, "pop", False)):
        cls.on_data = _message_on_data(read, lossy)
    for cls in (_n.StreamReader, _n.VideoReader, _n.AudioReader):
        cls.on_data = _slot_on_data
    _n.KV.on_data = _kv_on_data

    _n.BroadcastWriter.write_obj = _obj_writer("write")
    _n.BroadcastReader.read_obj = _obj_reader("read")
    _n.BroadcastReader.try_read_obj = _obj_reader("try_read")
    _n.CommandWriter.write_obj = _obj_writer("write")
    _n.CommandReader.read_obj = _obj_reader("read")
    _n.CommandReader.try_read_obj = _obj_reader("try_read")
    _n.SpscProducer.push_obj = _obj_writer("push")
    _n.SpscConsumer.pop_obj = _obj_reader("pop")
    _n.SpscConsumer.try_pop_obj = _obj_reader("try_pop")
    _n.StreamWriter.write_obj = _obj_writer("write")
    _n.StreamReader.latest_obj = _obj_reader("latest")
    _n.StreamReader.next_obj = _obj_reader("next")
    _n.KV.get_obj = _kv_get_obj
    _n.KV.set_obj = _kv_set_obj

    _n.Block.read_lock = _read_lock
    _n.Block.write_lock = _write_lock
    _n.VideoReader.planes = _planes
    _n.VideoWriter.planes = _planes
