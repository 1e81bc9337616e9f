"""The exception hierarchy: one class per shmkit error code, all under shmkit.Error.

Every exception carries ``code``, the stable error name from the C++ library ("timeout",
"not_found", ...). Where a built-in exception means the same thing, the class also derives from
it, so ``except TimeoutError`` or ``except FileNotFoundError`` work too.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every shmkit error. ``code`` is the C++ errc name."""

    code: str = "error"


class InvalidArgument(Error, ValueError):
    """An argument is out of range (sizes, counts, names)."""


class NotFound(Error, FileNotFoundError):
    """No segment of that name."""


class AlreadyExists(Error, FileExistsError):
    """create() found a segment of that name it may not replace: its creator is alive, a live
    process has it open, or replace_stale is off (or a KV was given a key name twice)."""


class AccessDenied(Error, PermissionError):
    """OS permission, or a write through a read-only handle."""


class SizeMismatch(Error, ValueError):
    """A size or shape is not what the segment (or the caller) expects."""


class InvalidLayout(Error):
    """Not a shmkit segment, or a field failed validation (corrupt or hostile)."""


class VersionMismatch(InvalidLayout):
    """A shmkit segment of another wire-format version."""


class WrongKind(Error, TypeError):
    """A segment of another kind (a video ring opened as a stream), or another element type."""


class Closed(Error, ValueError):
    """The handle is closed (like I/O on a closed file)."""


class MessageTooLarge(Error, ValueError):
    """Larger than the segment's maximum, or than the caller's buffer."""


class Full(Error):
    """No room now."""


class Empty(Error):
    """Nothing to read now."""


class Timeout(Error, TimeoutError):
    """A blocking call's timeout expired."""


class LockTimeout(Timeout):
    """A lock was not acquired within its timeout."""


class PeerDead(Error):
    """The process on the other side is gone."""


class WriterDead(PeerDead):
    """The writer of a channel died (its reader has read every frame it sent)."""


class ReaderDead(PeerDead):
    """The reader of a channel died while the writer waited for room it held."""


class ServerDead(PeerDead):
    """The server of a duplex channel died while a request waited for its response."""


class OSFailure(Error, OSError):
    """An OS call failed for another reason; ``os_errno`` has errno when known."""

    os_errno: int = 0


class NotReady(Error):
    """The segment is still being created."""


class Busy(Error):
    """A single-holder role (a writer, a consumer) is held by a live process."""


class NoSpace(Error):
    """The OS could not back the segment with memory (/dev/shm full)."""


class Interrupted(Error, InterruptedError):
    """A wait was interrupted by a signal."""


class OwnerDead(Error):
    """A lock holder died mid-write: the data it protects may be inconsistent."""


class Stale(Error):
    """A lock-free read did not settle (the writer kept changing the value)."""


class OutOfRange(Error, IndexError):
    """An offset or length beyond the end of a block."""


class Unsupported(Error):
    """The segment needs something this process or OS lacks (e.g. membarrier)."""


class WrongProcess(Error):
    """The handle holds a role (writer, producer, consumer, reader) for the process that opened
    it, and this is another one: a child that inherited it across ``fork()``. Open a new handle
    in the child instead."""


class AlreadySet(Error):
    """Written once and already written (a channel's metadata block)."""


class SchemaMismatch(WrongKind):
    """A stream's message schema (type name and field hash) is not the one the reader asked for,
    or the stream has none."""


class CallbackError(Error):
    """An on_data() callback raised; ``__cause__`` is its exception."""


# Which class serves which C++ error code is not written here: the native module pairs them from
# the one list in core/include/shmkit/errc.hpp at import (it sets each class's ``code``, and
# refuses to load if a class is missing). ``shmkit._shmkit._error_codes`` lists the pairs.
