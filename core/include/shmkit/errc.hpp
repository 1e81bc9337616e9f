// Recoverable errors are values: one enum, a stable name for each, and a small result<T>.
#pragma once

#include <cstdint>
#include <utility>

#include "shmkit/assert.hpp"

namespace shmkit {

// Every fallible call returns errc (or result<T>); ignoring one is a compile warning.
enum class [[nodiscard]] errc : std::uint8_t {
    ok = 0,
    invalid_argument,   // a caller-supplied value is out of range
    not_found,          // no segment of that name
    already_exists,     // create() found a segment of that name it may not replace (its creator is
                        // alive, a live process has it open, or replace_stale is off); a duplicate key
    access_denied,      // OS permission, or a write through a read-only attach
    size_mismatch,      // the object's size disagrees with its header, or with what the caller expects
    invalid_layout,     // not a shmkit segment, or a field failed validation (corrupt or hostile)
    version_mismatch,   // a shmkit segment of another wire-format version
    wrong_kind,         // a shmkit segment of another kind, or another element type
    not_open,           // the handle is empty (default-constructed, moved-from or closed)
    message_too_large,  // larger than the segment's maximum, or than the caller's buffer
    full,               // no room now (try_ forms)
    empty,              // nothing to read now (try_ forms)
    timeout,            // a blocking call's timeout expired
    overrun,            // the writer lapped this reader; lost() says how many messages
    lock_timeout,       // a lock was not acquired within its timeout
    peer_dead,          // the process on the other side is gone
    os_error,           // an OS call failed for another reason (os::last_os_error() has errno)
    not_ready,          // the segment is still being created
    busy,               // a single-holder role (e.g. the writer) is held by a live process
    no_space,           // the OS could not back the segment with memory (/dev/shm full)
    interrupted,        // a wait was interrupted by a signal
    owner_dead,         // acquired, but the previous holder died holding it: data may be inconsistent
    stale,              // a lock-free read did not settle within its retry limit
    out_of_range,       // an offset or length beyond the end of a block
    unsupported,        // the segment needs something this process or OS lacks (e.g. membarrier)
    wrong_process,      // the handle holds a role for the process that opened it; this one is
                        // another (a child that inherited it across fork()): open a new handle
};

// Stable, lower-case name of each code ("ok", "invalid_argument", ...): safe to log and parse.
const char* to_string(errc e) noexcept;

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
