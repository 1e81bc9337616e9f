// The block's reader-writer lock: its state line and one line per reader slot
// (core/SPEC.md "block").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

// One line per slot: readers in different processes never share a cache line.
struct rwlock_slot {
    atomic_u64 owner;    // process owning the slot (pid | start << 32), 0 = free
    atomic_u32 readers;  // read locks held through this slot
    std::uint32_t reserved0;
    std::uint64_t reserved1[6];
};
static_assert(sizeof(rwlock_slot) == 64);
static_assert(offsetof(rwlock_slot, owner) == 0);
static_assert(offsetof(rwlock_slot, readers) == 8);
static_assert(offsetof(rwlock_slot, reserved0) == 12);
static_assert(offsetof(rwlock_slot, reserved1) == 16);

struct rwlock_state {
    atomic_u64 writer;       // the writer holding the lock or waiting for readers to drain; 0 = none
    atomic_u64 recoveries;   // locks taken from dead writers
    wait_word readers_wake;  // readers wait here for the writer to leave
    wait_word writer_wake;   // writers wait here for readers to drain or the writer to leave
    atomic_u64 inconsistent; // nonzero from a writer's death until a writer calls mark_consistent()
    std::uint64_t reserved;
};
static_assert(sizeof(rwlock_state) == 64);
static_assert(offsetof(rwlock_state, writer) == 0);
static_assert(offsetof(rwlock_state, recoveries) == 8);
static_assert(offsetof(rwlock_state, readers_wake) == 16);
static_assert(offsetof(rwlock_state, writer_wake) == 32);
static_assert(offsetof(rwlock_state, inconsistent) == 48);
static_assert(offsetof(rwlock_state, reserved) == 56);

}  // namespace shmkit
