// The Windows port's session registry (core/SPEC.md "Windows: names, registry and waits"): one
// well-known section that maps shmkit names to the generation-numbered sections that hold the
// segments, and parks the threads waiting on words of those segments. Zero-filled is a valid
// empty registry, so whoever maps it first needs no initialisation step that could be
// interrupted. Only port/win32 uses it; the layout is here so that it is pinned and specified
// like every other shared layout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"

namespace shmkit {

inline constexpr std::uint32_t win32_registry_entries = 1024;
inline constexpr std::uint32_t win32_registry_waiter_slots = 256;
inline constexpr std::uint32_t win32_registry_name_bytes = 224;

// One name. Written only under the registry mutex; `generation` is written last (release) and
// is the commit: 0 means the entry is free, whatever the other fields say.
struct win32_registry_entry {
    atomic_u64 generation;   // the section "Local\shmkit.<name>#<generation, 16 hex digits>"
    std::uint32_t name_length;  // bytes of `name` in use, 2..win32_registry_name_bytes
    std::uint32_t reserved;
    char name[win32_registry_name_bytes];  // "/x...", not NUL-terminated
};
static_assert(sizeof(win32_registry_entry) == 240);
static_assert(offsetof(win32_registry_entry, generation) == 0);
static_assert(offsetof(win32_registry_entry, name_length) == 8);
static_assert(offsetof(win32_registry_entry, reserved) == 12);
static_assert(offsetof(win32_registry_entry, name) == 16);

// A thread asleep (or about to sleep) on a word. `owner` is claimed by compare-exchange from 0;
// `key` names the word (nonzero while the thread waits on it; ignored in a free slot). The waker signals the owner's
// event "Local\shmkit..wake.<pid>.<tid>".
struct win32_waiter_slot {
    atomic_u64 owner;  // pid | tid << 32; 0: free
    atomic_u64 key;    // hash of (section generation, offset of the word); 0: not waiting
};
static_assert(sizeof(win32_waiter_slot) == 16);
static_assert(offsetof(win32_waiter_slot, owner) == 0);
static_assert(offsetof(win32_waiter_slot, key) == 8);

struct win32_registry {
    atomic_u64 last_generation;  // the last generation handed out; never reused
    std::uint64_t reserved[7];
    win32_waiter_slot waiters[win32_registry_waiter_slots];
    win32_registry_entry entries[win32_registry_entries];
};
static_assert(sizeof(win32_registry) == 64 + 16 * 256 + 240 * 1024);
static_assert(offsetof(win32_registry, last_generation) == 0);
static_assert(offsetof(win32_registry, reserved) == 8);
static_assert(offsetof(win32_registry, waiters) == 64);
static_assert(offsetof(win32_registry, entries) == 4160);

}  // namespace shmkit
