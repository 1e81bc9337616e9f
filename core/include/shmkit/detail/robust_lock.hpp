// A mutex in shared memory that survives its holder's death. The holder is recorded (pid and
// start time); a locker that finds the holder dead takes the lock over and is told so with
// owner_dead, because the data it protects may be half-updated (like EOWNERDEAD). Lockers
// sleep in the kernel, idle while the holder lives: the holder's exit wakes them (os::
// watch_exit), or, where the OS cannot watch processes, they look at the holder once per
// liveness period. Ownership is per process: threads of one process share an identity, so it
// must not be locked recursively.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/wire/robust_lock.hpp"

namespace shmkit {

struct lock_options {
    // How often a blocked locker re-checks the holder where the OS cannot wake it at the
    // holder's exit (os::watch_exit unsupported).
    std::uint64_t liveness_period_ns = 100'000'000;
    std::uint32_t spin = 64;                         // tries before sleeping
};

namespace detail {
// The core's own use of the lock (command's claim lock, kv's key locks); applications lock a
// block through the block handle.

// ok; owner_dead (acquired from a dead holder: repair or discard the protected data);
// lock_timeout (not acquired by the deadline, on the monotonic clock).
errc lock(robust_lock& l, barrier_mode mode, std::uint64_t deadline_ns, const lock_options& options = {}) noexcept;

// ok, owner_dead, or busy (held by a live process). Never sleeps; may check liveness.
errc try_lock(robust_lock& l) noexcept;

void unlock(robust_lock& l, barrier_mode mode) noexcept;
}  // namespace detail

}  // namespace shmkit
