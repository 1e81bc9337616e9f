// A cross-process reader-writer lock that survives the death of any holder. Many readers or
// one writer; a writer that arrives blocks new readers, so a stream of readers cannot starve
// it. Every handle that may lock owns a reader slot recording its process and how many read
// locks it holds, so a writer can discount the read locks of processes that died. A lock
// taken from a dead writer reports owner_dead (the data may be half-updated). Waiters sleep
// in the kernel, idle while the holder they wait for lives, woken at its exit (as for
// robust_lock); nothing spins.
// Layout: core/SPEC.md "block".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/robust_lock.hpp"  // lock_options
#include "shmkit/detail/wait.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/wire/rwlock.hpp"

namespace shmkit {

// A view of one lock and its slot table in shared memory.
class rwlock {
public:
    rwlock() noexcept = default;
    rwlock(rwlock_state* state, rwlock_slot* slots, std::uint32_t slot_count, barrier_mode mode) noexcept
        : state_(state), slots_(slots), slot_count_(slot_count), mode_(mode) {}

    // Takes a free slot (or one whose process died) for this process: ok, or full. The slot is
    // this process's: `*owner` receives the identity it was claimed with.
    errc claim_slot(std::uint32_t* index, std::uint64_t* owner) noexcept;
    // Gives the slot back if `owner` still holds it (a forked child cannot free its parent's).
    void release_slot(std::uint32_t index, std::uint64_t owner) noexcept;

    // ok; owner_dead (acquired, but a writer died holding the lock and no writer has since
    // called mark_consistent(): every locker is told until one does); lock_timeout.
    errc lock_shared(std::uint32_t slot, std::uint64_t deadline_ns, const lock_options& options = {}) noexcept;
    void unlock_shared(std::uint32_t slot) noexcept;
    errc lock(std::uint64_t deadline_ns, const lock_options& options = {}) noexcept;
    void unlock() noexcept;
    // Called by a writer (holding the lock) that has repaired or re-initialised the data.
    void mark_consistent() noexcept;

    std::uint32_t slot_count() const noexcept { return slot_count_; }
    std::uint32_t readers() const noexcept;  // read locks held by live processes
    // Whether a live process holds the write lock or has claimed it and waits for the readers to
    // leave (new readers wait in both cases). A dead writer's claim does not count: the next
    // locker takes it over.
    bool write_locked() const noexcept;

private:
    // Takes the writer word from the dead `holder`, marking the data inconsistent: false if
    // another contender got there first or the word no longer holds `holder`.
    bool take_from_dead_writer(std::uint64_t holder) noexcept;
    // take_from_dead_writer(), then unlock: busy if someone else took it.
    errc recover_dead_writer(std::uint64_t holder) noexcept;
    errc acquired() const noexcept;

    rwlock_state* state_ = nullptr;
    rwlock_slot* slots_ = nullptr;
    std::uint32_t slot_count_ = 0;
    barrier_mode mode_ = barrier_mode::fences;
};

}  // namespace shmkit
