"""shmkit: shared-memory IPC between local processes, zero-copy into NumPy.

Primitives (each a class with create()/open() classmethods, a context manager and close();
attach() is an alias of open()):

- BroadcastWriter / BroadcastReader: one writer, many readers, every reader sees every message.
- CommandWriter / CommandReader: many writers, one reader (control paths).
- SpscProducer / SpscConsumer: a lock-free single-producer/single-consumer queue.
- ChannelWriter / ChannelReader: zero-copy frames up to the whole ring, a metadata block, peer
  death reported (WriterDead, ReaderDead); read() returns a Frame, valid until released.
- DuplexServer / DuplexClient: request/response over two channels (call, or several requests in
  flight matched by sequence number; a handler per request, optionally a worker pool).
- Block: a raw named block with a cross-process reader-writer lock; TypedView for typed access.
- StreamWriter / StreamReader: typed samples (dtype and shape stored in the segment), or
  messages with their Schema (a type name and field hash; pydantic models, dataclasses).
- VideoWriter / VideoReader, AudioWriter / AudioReader: zero-copy frame and PCM rings.
- KV: fixed-schema key/value state with lock-free reads and change epochs.
- select(): wait on several readers at once. Consumer: subclass it and override callback() to
  have each sample delivered on a background thread (start()/stop(), mode "next" or "latest").
- list_segments(), info(), remove(), remove_if_stale(), reap(): segment management.

Conventions: try_* calls never wait and return None (readers) or False (writers) when there is
nothing, as do latest(), view_latest() and view_next(); a call that takes a timeout (seconds,
None: forever) raises Timeout when it expires, for every value, 0 included; every error is a
shmkit.Error subclass (see shmkit._errors).
"""

from __future__ import annotations

from ._errors import (
    AccessDenied,
    AlreadyExists,
    AlreadySet,
    Busy,
    CallbackError,
    Closed,
    Empty,
    Error,
    Full,
    Interrupted,
    InvalidArgument,
    InvalidLayout,
    LockTimeout,
    MessageTooLarge,
    NoSpace,
    NotFound,
    NotReady,
    OSFailure,
    OutOfRange,
    OwnerDead,
    PeerDead,
    ReaderDead,
    ServerDead,
    SchemaMismatch,
    SizeMismatch,
    Stale,
    Timeout,
    Unsupported,
    VersionMismatch,
    WrongKind,
    WrongProcess,
    WriterDead,
)
from ._shmkit import (
    AudioReader,
    AudioWriter,
    Block,
    BroadcastReader,
    BroadcastWriter,
    ChannelReader,
    ChannelWriter,
    CommandReader,
    CommandWriter,
    DuplexClient,
    DuplexServer,
    Handle,
    KV,
    Reservation,
    SampleInfo,
    SampleView,
    SpscConsumer,
    SpscProducer,
    StreamReader,
    StreamWriter,
    TypedView,
    VideoReader,
    VideoWriter,
    fields_hash,
    info,
    list_segments,
    reap,
    remove,
    remove_if_stale,
    select,
    wait_slice,
    wire_format_version,
)
from . import _channel, _extensions, _shmkit
from ._channel import Frame
from ._extensions import Consumer, Schema, Subscription

__version__: str = _shmkit.__version__  # set once, in CMakeLists.txt's project()

_extensions.install()
_channel.install()

__all__ = [
    "AccessDenied", "AlreadyExists", "AlreadySet", "AudioReader", "AudioWriter", "Block", "BroadcastReader",
    "BroadcastWriter", "Busy", "CallbackError", "ChannelReader", "ChannelWriter", "Closed", "CommandReader",
    "CommandWriter", "Consumer", "DuplexClient", "DuplexServer", "Empty",
    "Error", "Frame", "Full", "Handle", "Interrupted", "InvalidArgument", "InvalidLayout", "KV", "LockTimeout",
    "MessageTooLarge", "NoSpace", "NotFound", "NotReady", "OSFailure", "OutOfRange",
    "OwnerDead", "PeerDead", "ReaderDead", "Reservation", "SampleInfo", "SampleView", "SchemaMismatch", "Schema",
    "ServerDead", "SizeMismatch", "SpscConsumer", "SpscProducer", "Stale", "StreamReader", "StreamWriter",
    "Subscription", "Timeout", "TypedView", "Unsupported", "VersionMismatch", "VideoReader", "VideoWriter",
    "WrongKind", "WrongProcess", "WriterDead", "fields_hash", "info", "list_segments", "reap", "remove",
    "remove_if_stale", "select",
    "wait_slice", "wire_format_version",
]
