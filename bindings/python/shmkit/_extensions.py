"""Python-level additions to the native classes: background callbacks (on_data, and Consumer
over it), msgpack message helpers and the message schemas of streams (Schema), Block lock
context managers, video plane views and the attach() aliases.

They live here rather than in C++ because they are naturally Python (threads, optional
imports, context managers) and cost nothing on the hot path.
"""

from __future__ import annotations

import dataclasses
import threading
import types
import typing
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
    def __init__(self, receive: Callable[[float], Optional[tuple[int, tuple[Any, ...]]]], fn: Callable[..., Any],
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


def _message_on_data(read_name: str, lossy: bool) -> Callable[..., Subscription]:
    def on_data(self: Any, fn: Callable[[bytes, int], Any], *,
                on_error: Optional[Callable[[BaseException], Any]] = None) -> Subscription:
        """Calls ``fn(message, seq)`` on a background thread for every message; returns the
        Subscription (stop() it when done). Messages the writer overwrote before they were read
        are counted in ``Subscription.lost``."""
        read = getattr(self, read_name)

        def receive(timeout: float) -> tuple[int, tuple[Any, ...]]:
            msg = read(timeout)
            return (self.lost if lossy else 0, (msg, self.last_seq))
        return Subscription(_timeout_as_none(receive), fn, on_error, f"shmkit-on_data {self.name}")
    return on_data


def _slot_on_data(self: Any, fn: Callable[[Any, int], Any], *, mode: str = "next",
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

    def receive(timeout: float) -> tuple[int, tuple[Any, ...]]:
        sample = read(timeout)
        info = self.last
        return (info.lost, (sample, info.index))
    return Subscription(_timeout_as_none(receive), fn, on_error, f"shmkit-on_data {self.name}")


def _kv_on_data(self: Any, fn: Callable[[Any, int], Any], *, values: bool = False,
                on_error: Optional[Callable[[BaseException], Any]] = None) -> Subscription:
    """Calls ``fn(changed_keys, epoch)`` on a background thread whenever keys change; with
    ``values=True``, ``changed_keys`` is a dict of the keys and their values (see changed_since)."""
    state = {"since": self.epoch}

    def receive(timeout: float) -> Optional[tuple[int, tuple[Any, ...]]]:
        if not self.wait_change(state["since"], timeout):
            return None
        changed, state["since"] = self.changed_since(state["since"], values=values)
        return (0, (changed, state["since"])) if changed else None
    return Subscription(receive, fn, on_error, f"shmkit-on_data {self.name}")


# ---- Consumer --------------------------------------------------------------------------------


class Consumer:
    """A reader's samples (or messages) delivered to a method: subclass it, override
    ``callback()``, then ``start()`` and ``stop()``. Before each call ``self.data`` holds the
    sample (an array, bytes, or the message object when the stream reader was opened with a
    message class), ``self.seq`` its index (a channel's message: its sequence number) and
    ``self.info`` its SampleInfo (None for channels).

    mode="next" delivers every sample in order (those the writer overwrote first are counted in
    ``lost``); mode="latest" each newer sample, skipping the ones that came meanwhile (stream,
    video and audio readers). It runs on the reader's ``on_data`` (one Subscription thread): an
    exception in callback() ends it, is reported through ``threading.excepthook`` and re-raised
    by stop() as CallbackError, unless ``on_error(exc)`` is overridden to handle it (delivery then
    goes on). ``open(name, ...)`` opens a StreamReader that close() (or leaving a ``with`` block)
    closes; ``Consumer(reader)`` uses any reader that has on_data and leaves it open.
    """

    def __init__(self, reader: Any, *, mode: str = "next", owns_reader: bool = False) -> None:
        if mode not in ("next", "latest"):
            raise ValueError("mode must be 'next' or 'latest'")
        if mode == "latest" and not isinstance(reader, (_n.StreamReader, _n.VideoReader, _n.AudioReader)):
            raise ValueError("mode='latest' needs a stream, video or audio reader")
        self.reader = reader
        self.mode = mode
        self._owns_reader = owns_reader
        schema = getattr(reader, "schema", None)
        self._decodes = schema is not None and schema.model is not None
        self._subscription: Optional[Subscription] = None
        self._error_raised = False
        self.data: Any = None
        self.seq = -1
        self.info: Any = None

    @classmethod
    def open(cls, name: str, *, mode: str = "next", **options: Any) -> "Consumer":
        """A consumer of the stream `name`, through StreamReader.open(name, **options) (schema=,
        from_newest=, ...); close() closes that reader."""
        return cls(_n.StreamReader.open(name, **options), mode=mode, owns_reader=True)

    attach = open  # as every class that opens a named segment

    def callback(self) -> None:
        """Called on the consumer's thread for each sample, with data, seq and info set."""
        raise NotImplementedError("a Consumer subclass overrides callback()")

    def on_error(self, exc: BaseException) -> None:
        """Called with an exception callback() raised; re-raising it (the default) ends the consumer."""
        raise exc

    def start(self) -> "Consumer":
        """Starts delivering on a background thread (RuntimeError if it already runs)."""
        if self.running:
            raise RuntimeError("the consumer is already running")
        options = {} if self.mode == "next" else {"mode": self.mode}  # channels' on_data has no mode
        self._error_raised = False
        self._subscription = self.reader.on_data(self._deliver, on_error=self.on_error, **options)
        return self

    def _deliver(self, data: Any, seq: int) -> None:
        self.data = _decode(self.reader, data) if self._decodes else data
        self.seq = seq
        self.info = getattr(self.reader, "last", None)  # slot readers: the sample's SampleInfo
        self.callback()

    def stop(self, timeout: Optional[float] = None) -> None:
        """Stops delivering and waits for the thread; raises CallbackError if callback() failed
        (once: a later stop() or close() does not raise it again)."""
        if self._subscription is None:
            return
        try:
            self._subscription.stop(timeout)
        except _errors.CallbackError:
            if not self._error_raised:
                self._error_raised = True
                raise

    @property
    def running(self) -> bool:
        """True while the thread delivers."""
        return self._subscription is not None and self._subscription.running

    @property
    def delivered(self) -> int:
        """callback() calls completed since the last start()."""
        return self._subscription.delivered if self._subscription is not None else 0

    @property
    def lost(self) -> int:
        """Samples the writer overwrote before they were delivered, since the last start()."""
        return self._subscription.lost if self._subscription is not None else 0

    def close(self) -> None:
        """stop(), then closes the reader if open() opened it."""
        try:
            self.stop()
        finally:
            if self._owns_reader:
                self.reader.close()

    def __enter__(self) -> "Consumer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---- message schemas -----------------------------------------------------------------------

# typing's introspection, on every Python the package supports (get_origin: 3.8; Annotated: 3.9;
# X | Y: 3.10).
_get_origin: Callable[[Any], Any] = getattr(typing, "get_origin", lambda t: getattr(t, "__origin__", None))
_get_args: Callable[[Any], tuple[Any, ...]] = getattr(typing, "get_args", lambda t: getattr(t, "__args__", ()))
_Annotated = getattr(typing, "Annotated", None)
_Literal = getattr(typing, "Literal", None)
_UnionType = getattr(types, "UnionType", None)


def _is_pydantic(cls: type) -> bool:
    return isinstance(getattr(cls, "model_fields", None), dict) or (
        isinstance(getattr(cls, "__fields__", None), dict) and hasattr(cls, "parse_obj"))


def _is_message_class(t: Any) -> bool:
    """A class whose instances travel as msgpack maps of their fields: a pydantic model, a
    dataclass, or a msgspec Struct (any class with ``__struct_fields__``)."""
    return isinstance(t, type) and (_is_pydantic(t) or dataclasses.is_dataclass(t) or hasattr(t, "__struct_fields__"))


def _field_types(cls: Any) -> list[tuple[str, Any]]:
    """(name, type) of each field of a message class, in declaration order."""
    if _is_pydantic(cls):
        fields = cls.model_fields if isinstance(getattr(cls, "model_fields", None), dict) else cls.__fields__
        # pydantic resolved the annotations (v2: FieldInfo.annotation; v1.10: ModelField.annotation).
        return [(name, getattr(f, "annotation", getattr(f, "outer_type_", None))) for name, f in fields.items()]
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that does not resolve here: describe it as written
        hints = {}
    if dataclasses.is_dataclass(cls):
        return [(f.name, hints.get(f.name, f.type)) for f in dataclasses.fields(cls)]
    return [(name, hints.get(name, cls.__annotations__.get(name))) for name in cls.__struct_fields__]


def _type_text(t: Any, seen: frozenset[type]) -> str:
    """A field type as the schema's description spells it, the same in every Python version:
    ``int``, ``list[int]``, ``Union[int,None]`` (also for ``Optional[int]`` and ``int | None``),
    and a message class with its own fields, ``Inner{a:int}``."""
    if t is None or t is type(None):
        return "None"
    if isinstance(t, str):
        return t
    if isinstance(t, typing.ForwardRef):
        return t.__forward_arg__
    origin = _get_origin(t)
    if origin is not None:
        args = _get_args(t)
        if _Annotated is not None and origin is _Annotated:
            return _type_text(args[0], seen)
        if _Literal is not None and origin is _Literal:
            return "Literal[" + ",".join(repr(a) for a in args) + "]"
        if origin is typing.Union or (_UnionType is not None and origin is _UnionType):
            name = "Union"
        else:
            name = getattr(origin, "__name__", None) or repr(origin)
        return name + "[" + ",".join("..." if a is Ellipsis else _type_text(a, seen) for a in args) + "]"
    if isinstance(t, type):
        if _is_message_class(t) and t not in seen:
            return t.__name__ + "{" + _describe_fields(t, seen | {t}) + "}"
        return t.__name__
    return repr(t)


def _describe_fields(cls: type, seen: frozenset[type] = frozenset()) -> str:
    return ",".join(f"{name}:{_type_text(t, seen | {cls})}" for name, t in _field_types(cls))


@dataclasses.dataclass(frozen=True)
class Schema:
    """What a stream's messages are, stored in its segment: the message type's ``name`` (1 to
    39 bytes of UTF-8) and a 64-bit ``hash`` of the type's fields. A reader that names a schema
    is refused (SchemaMismatch) unless the stream holds exactly that name and hash.

    ``Schema.of(cls)`` describes a message class (a pydantic model, a dataclass or a msgspec
    Struct): ``fields`` is the description hashed (``gain:float,cam_on:bool``), ``model`` the
    class, which write_obj() expects and latest_obj()/next_obj() build. ``Schema(name, hash)``
    names a schema directly (a C++ peer computes the hash with fields_hash()).
    """

    name: str
    hash: int
    fields: str = dataclasses.field(default="", compare=False)
    model: Optional[type] = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            size = len(self.name.encode("utf-8")) if "\0" not in self.name else 0
        except (AttributeError, TypeError, UnicodeEncodeError):  # not a str, or not encodable
            size = 0
        if not 0 < size <= 39:
            raise _errors.InvalidArgument(f"a schema name is 1 to 39 bytes of UTF-8 without NUL, not {self.name!r}")
        if not isinstance(self.hash, int) or not 0 <= self.hash < 2 ** 64:
            raise _errors.InvalidArgument(f"a schema hash is an int in [0, 2**64), not {self.hash!r}")

    @classmethod
    def of(cls, spec: Any, *, name: Optional[str] = None) -> "Schema":
        """The schema of a message class (``name``: store this name instead of the class's), or
        ``spec`` itself if it is a Schema."""
        if isinstance(spec, Schema):
            return spec
        if not _is_message_class(spec):
            raise TypeError(f"a schema is a Schema, a pydantic model, a dataclass or a msgspec Struct, not {spec!r}")
        fields = _describe_fields(spec)
        return cls(spec.__name__ if name is None else name, _n.fields_hash(fields), fields, spec)


def _fields_of(obj: Any) -> Any:
    """msgpack's hook for what it cannot encode itself: a message object travels as a map of its
    fields (nested message objects come back here)."""
    cls = type(obj)
    if _is_pydantic(cls):
        return obj.model_dump() if hasattr(obj, "model_dump") else obj.dict()
    if dataclasses.is_dataclass(cls):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(cls, "__struct_fields__"):
        return {name: getattr(obj, name) for name in cls.__struct_fields__}
    raise TypeError(f"cannot encode a {cls.__name__} as msgpack")


def _build(model: Any, value: Any) -> Any:
    """An instance of message class `model` from the map of its fields: pydantic validates it;
    dataclasses and Structs get their fields rebuilt as their types say (_rebuild)."""
    if _is_pydantic(model):
        return model.model_validate(value) if hasattr(model, "model_validate") else model.parse_obj(value)
    if not isinstance(value, dict):
        raise TypeError(f"expected a map of {model.__name__}'s fields, got {type(value).__name__}")
    types_of = dict(_field_types(model))
    return model(**{key: _rebuild(types_of.get(key), v) for key, v in value.items()})


def _rebuild(t: Any, value: Any) -> Any:
    """A decoded field value as its type `t` says, where message classes are involved: a message
    class from its map; the items of a list, tuple or set and the values of a dict; the message
    class of an Optional or other Union whose map it is. Anything else stays as decoded."""
    if value is None or t is None:
        return value
    if _is_message_class(t):
        return _build(t, value) if isinstance(value, dict) else value
    origin, args = _get_origin(t), _get_args(t)
    if origin in (list, tuple, set, frozenset) and isinstance(value, (list, tuple)):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(_rebuild(a, v) for a, v in zip(args, value))
        items = [_rebuild(args[0] if args else None, v) for v in value]
        return items if origin is list else origin(items)
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return {k: _rebuild(args[1], v) for k, v in value.items()}
    if origin is typing.Union or (_UnionType is not None and origin is _UnionType):
        for a in args:
            if _is_message_class(a) and isinstance(value, dict):
                return _build(a, value)
    return value


# ---- msgpack -----------------------------------------------------------------------------------


def _msgpack() -> Any:
    try:
        import msgpack  # type: ignore[import]  # Debian's python3-msgpack has no type information
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("the *_obj helpers need msgpack (Debian: apt-get install python3-msgpack)") from e
    return msgpack


def _pack(obj: Any) -> bytes:
    packed: bytes = _msgpack().packb(obj, use_bin_type=True, default=_fields_of)
    return packed


def _unpack(data: Optional[bytes]) -> Any:
    if data is None:
        return None
    return _msgpack().unpackb(data, raw=False)


def _obj_writer(method: str) -> Callable[..., Any]:
    def write_obj(self: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, method)(_pack(obj), *args, **kwargs)
    write_obj.__doc__ = f"{method}() of a msgpack-encoded object (dict, list, str, numbers, bytes...)."
    return write_obj


def _obj_reader(method: str) -> Callable[..., Any]:
    def read_obj(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _unpack(getattr(self, method)(*args, **kwargs))
    read_obj.__doc__ = f"{method}(), decoded from msgpack (None where {method}() returns None)."
    return read_obj


def _stream_write_obj(self: Any, obj: Any) -> None:
    """write() of a msgpack-encoded object (dict, list, str, numbers, bytes, message objects...);
    a stream created with a message class takes only its instances."""
    model = self.schema.model if self.schema is not None else None
    if model is not None and not isinstance(obj, model):
        raise TypeError(f"'{self.name}' write_obj: expected a {model.__name__}, got {type(obj).__name__}")
    self.write(_pack(obj))


def _decode(reader: Any, data: Any) -> Any:
    """A message `reader` returned, decoded from msgpack: an instance of the message class the
    reader was opened with, else plain values (None stays None)."""
    if data is None:
        return None
    value = _unpack(data)
    schema = getattr(reader, "schema", None)
    model = schema.model if schema is not None else None
    return value if model is None else _build(model, value)


def _stream_obj_reader(method: str) -> Callable[..., Any]:
    def read_obj(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _decode(self, getattr(self, method)(*args, **kwargs))
    read_obj.__doc__ = (f"{method}(), decoded from msgpack (None where {method}() returns None): an instance of "
                        "the message class open() was given, else plain values.")
    return read_obj


def _kv_get_obj(self: Any, key: str, default: Any = None) -> Any:
    """The msgpack-decoded value of ``key``, or ``default`` if it was never written."""
    value = self.get(key)
    return default if value is None else _unpack(value)


def _kv_set_obj(self: Any, key: str, obj: Any, timeout: Optional[float] = None) -> None:
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


def _read_lock(self: Any, timeout: Optional[float] = None, *, accept_inconsistent: bool = False) -> BlockLock:
    """``with block.read_lock():`` holds a shared lock for the block's duration."""
    return BlockLock(self, False, timeout, accept_inconsistent)


def _write_lock(self: Any, timeout: Optional[float] = None, *, accept_inconsistent: bool = False) -> BlockLock:
    """``with block.write_lock():`` holds the exclusive lock for the block's duration."""
    return BlockLock(self, True, timeout, accept_inconsistent)


# ---- video planes --------------------------------------------------------------------------


def _planes(self: Any, frame: Any) -> tuple[Any, ...]:
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
    # The stubs (_shmkit.pyi) declare these as the native classes' own methods; setattr adds them.
    for name in _OPENABLE:
        cls = getattr(_n, name)
        setattr(cls, "attach", cls.open)

    for cls, read, lossy in ((_n.BroadcastReader, "read", True), (_n.CommandReader, "read", False),
                             (_n.SpscConsumer, "pop", False)):
        setattr(cls, "on_data", _message_on_data(read, lossy))
    for cls in (_n.StreamReader, _n.VideoReader, _n.AudioReader):
        setattr(cls, "on_data", _slot_on_data)
    setattr(_n.KV, "on_data", _kv_on_data)

    setattr(_n.BroadcastWriter, "write_obj", _obj_writer("write"))
    setattr(_n.BroadcastReader, "read_obj", _obj_reader("read"))
    setattr(_n.BroadcastReader, "try_read_obj", _obj_reader("try_read"))
    setattr(_n.CommandWriter, "write_obj", _obj_writer("write"))
    setattr(_n.CommandReader, "read_obj", _obj_reader("read"))
    setattr(_n.CommandReader, "try_read_obj", _obj_reader("try_read"))
    setattr(_n.SpscProducer, "push_obj", _obj_writer("push"))
    setattr(_n.SpscConsumer, "pop_obj", _obj_reader("pop"))
    setattr(_n.SpscConsumer, "try_pop_obj", _obj_reader("try_pop"))
    setattr(_n.StreamWriter, "write_obj", _stream_write_obj)
    setattr(_n.StreamReader, "latest_obj", _stream_obj_reader("latest"))
    setattr(_n.StreamReader, "next_obj", _stream_obj_reader("next"))
    setattr(_n.KV, "get_obj", _kv_get_obj)
    setattr(_n.KV, "set_obj", _kv_set_obj)

    setattr(_n.Block, "read_lock", _read_lock)
    setattr(_n.Block, "write_lock", _write_lock)
    setattr(_n.VideoReader, "planes", _planes)
    setattr(_n.VideoWriter, "planes", _planes)
