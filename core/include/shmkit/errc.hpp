// Recoverable errors are values: one enum, a stable name for each, and a small result<T>.
#pragma once

#include <cstdint>
#include <utility>

#include "shmkit/assert.hpp"

namespace shmkit {

// The error codes, written once. Each entry: the code (its stable, lower-case name), the
// Python exception class the binding raises for it, and what it means (C++'s explain(), the
// Python message). The enum, to_string(), explain(), errc_count and the binding's exception
// table are generated from this list; the classes themselves (with their Python bases) are
// in bindings/python/shmkit/_errors.py, which the binding checks against it at import.
// Append only: the numeric values may appear in logs. (overrun, once between timeout and
// lock_timeout, was removed before the first release, when a lapped read stopped being an error;
// the codes after it moved down by one.)
#define SHMKIT_ERRC_LIST(X)                                                                                      \
    X(ok, Error, "no error")                                                                                     \
    X(invalid_argument, InvalidArgument, "an argument is out of range")                                          \
    X(not_found, NotFound, "no segment of that name")                                                            \
    X(already_exists, AlreadyExists,                                                                             \
      "a segment of that name exists that create() may not replace (its creator is alive, a live process has "   \
      "it open, or replace_stale is off); or a duplicate key")                                                  \
    X(access_denied, AccessDenied, "permission denied, or a write through a read-only handle")                   \
    X(size_mismatch, SizeMismatch, "the segment's size or shape is not what its header or the caller expects")   \
    X(invalid_layout, InvalidLayout, "not a valid shmkit segment (a field failed validation: corrupt or foreign)") \
    X(version_mismatch, VersionMismatch, "the segment has another wire-format version")                          \
    X(wrong_kind, WrongKind, "the segment is of another kind or element type")                                   \
    X(not_open, Closed, "the handle is closed (default-constructed, moved-from or closed)")                      \
    X(message_too_large, MessageTooLarge, "the message is larger than the maximum, or than the caller's buffer")  \
    X(full, Full, "no room now")                                                                                 \
    X(empty, Empty, "nothing to read now")                                                                       \
    X(timeout, Timeout, "timed out")                                                                             \
    X(lock_timeout, LockTimeout, "the lock was not acquired in time")                                            \
    X(peer_dead, PeerDead, "the process on the other side is gone")                                              \
    X(os_error, OSFailure, "an OS call failed (os::last_os_error() has errno)")                                  \
    X(not_ready, NotReady, "the segment is still being created")                                                 \
    X(busy, Busy, "the role (a writer, a consumer) is held by a live process")                                   \
    X(no_space, NoSpace, "the OS could not back the segment with memory (/dev/shm full?)")                       \
    X(interrupted, Interrupted, "interrupted by a signal")                                                       \
    X(owner_dead, OwnerDead, "the previous lock holder died holding it: the data may be inconsistent")           \
    X(stale, Stale, "the value kept changing while it was read; try again")                                      \
    X(out_of_range, OutOfRange, "offset or length beyond the end of a block")                                    \
    X(unsupported, Unsupported, "the segment needs something this process or OS lacks (e.g. membarrier)")        \
    X(wrong_process, WrongProcess,                                                                               \
      "the handle holds a role for the process that opened it and this is another (a child that inherited it "   \
      "across fork()): open a new handle in this process")                                                     \
    X(already_set, AlreadySet, "written once and already written (a channel's metadata block)")                 \
    X(schema_mismatch, SchemaMismatch,                                                                           \
      "the stream's message schema (type name and field hash) is not the one the reader expects")

// Every fallible call returns errc (or result<T>); ignoring one is a compile warning.
enum class [[nodiscard]] errc : std::uint8_t {
#define SHMKIT_ERRC_ENUMERATOR(code, python_class, meaning) code,
    SHMKIT_ERRC_LIST(SHMKIT_ERRC_ENUMERATOR)
#undef SHMKIT_ERRC_ENUMERATOR
};

// How many codes there are (the largest is errc_count - 1).
#define SHMKIT_ERRC_ONE(code, python_class, meaning) +1
inline constexpr int errc_count = 0 SHMKIT_ERRC_LIST(SHMKIT_ERRC_ONE);
#undef SHMKIT_ERRC_ONE

// Stable, lower-case name of each code ("ok", "invalid_argument", ...): safe to log and parse.
// "unknown" for a value that is no code.
const char* to_string(errc e) noexcept;
// What the code means, in a phrase ("an argument is out of range", ...).
const char* explain(errc e) noexcept;

inline constexpr bool failed(errc e) noexcept { return e != errc::ok; }

// A value or an error. T must be default-constructible and movable; this keeps the type
// trivial to reason about (no unions, no placement construction) at the price of a
// default-constructed T in the error case, which every shmkit handle supports cheaply.
template <class T>
class [[nodiscard]] result {
public:
    // Implicit by design, so `return value;` and `return errc::x;` both work. The T&& overload
    // lets `return local;` move a move-only handle in C++17.
    result(T&& value) noexcept : value_(std::move(value)), error_(errc::ok) {}       // NOLINT
    result(const T& value) noexcept : value_(value), error_(errc::ok) {}             // NOLINT
    result(errc error) noexcept : value_(), error_(error) {                           // NOLINT
        SHMKIT_ASSERT(error != errc::ok);
    }

    bool ok() const noexcept { return error_ == errc::ok; }
    explicit operator bool() const noexcept { return ok(); }
    errc error() const noexcept { return error_; }

    T& value() & noexcept {
        SHMKIT_ASSERT(ok());
        return value_;
    }
    const T& value() const& noexcept {
        SHMKIT_ASSERT(ok());
        return value_;
    }
    T&& value() && noexcept {
        SHMKIT_ASSERT(ok());
        return std::move(value_);
    }
    T* operator->() noexcept { return &value(); }
    const T* operator->() const noexcept { return &value(); }
    T& operator*() & noexcept { return value(); }
    T&& operator*() && noexcept { return std::move(*this).value(); }

private:
    T value_;
    errc error_;
};

}  // namespace shmkit
