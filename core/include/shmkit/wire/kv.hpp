// kv's geometry, control block and entries (core/SPEC.md "kv").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/robust_lock.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

struct kv_geometry {
    std::uint32_t key_count;
    std::uint32_t max_key;       // bytes of a key name
    std::uint32_t max_value;     // bytes of a value
    std::uint32_t reserved0;
    std::uint64_t entry_stride;  // bytes per entry, a multiple of 64
    std::uint64_t entries_offset;
    std::uint64_t reserved1[4];
};
static_assert(sizeof(kv_geometry) == 64);
static_assert(offsetof(kv_geometry, key_count) == 0);
static_assert(offsetof(kv_geometry, max_key) == 4);
static_assert(offsetof(kv_geometry, max_value) == 8);
static_assert(offsetof(kv_geometry, reserved0) == 12);
static_assert(offsetof(kv_geometry, entry_stride) == 16);
static_assert(offsetof(kv_geometry, entries_offset) == 24);
static_assert(offsetof(kv_geometry, reserved1) == 32);

struct kv_control {
    atomic_u64 epoch;       // bumped by every write: the ticket of the newest write
    atomic_u64 recoveries;  // key locks taken from a writer that died
    std::uint64_t reserved0[6];
    wait_word wake;         // processes waiting for any change
    std::uint64_t reserved1[6];
};
static_assert(sizeof(kv_control) == 128);
static_assert(offsetof(kv_control, epoch) == 0);
static_assert(offsetof(kv_control, recoveries) == 8);
static_assert(offsetof(kv_control, reserved0) == 16);
static_assert(offsetof(kv_control, wake) == 64);
static_assert(offsetof(kv_control, reserved1) == 80);

// One per key, a multiple of 64 bytes; every atomic naturally aligned whatever the key and
// value sizes. Key bytes at +64, value bytes at +64 + round_up(max_key, 8).
// Name lookup is a chained hash table written by the creator: a key named N is found by
// following `bucket` of entry kv_name_hash(N) % key_count, then `next_in_bucket`.
struct kv_entry {
    robust_lock lock;        // serialises writers of this key
    atomic_u64 seq;          // even: stable; odd: being written
    atomic_u64 epoch;        // ticket of the last write to this key (0: never written)
    atomic_u32 value_length;
    std::uint32_t key_length;      // immutable
    std::uint32_t bucket;          // immutable: 1 + index of the first key of bucket #index; 0: none
    std::uint32_t next_in_bucket;  // immutable: 1 + index of the next key of this key's bucket; 0: last
    std::uint64_t reserved;
};
static_assert(sizeof(kv_entry) == 64);
static_assert(offsetof(kv_entry, lock) == 0);
static_assert(offsetof(kv_entry, seq) == 24);
static_assert(offsetof(kv_entry, epoch) == 32);
static_assert(offsetof(kv_entry, value_length) == 40);
static_assert(offsetof(kv_entry, key_length) == 44);
static_assert(offsetof(kv_entry, bucket) == 48);
static_assert(offsetof(kv_entry, next_in_bucket) == 52);
static_assert(offsetof(kv_entry, reserved) == 56);

// The hash of a key name that places it in the lookup table (FNV-1a, 64-bit): part of the wire
// format, every process must compute the same.
std::uint64_t kv_name_hash(const void* name, std::size_t length) noexcept;

inline constexpr std::uint32_t kv_header_size = 128;
inline constexpr std::uint32_t kv_control_offset = 128;
inline constexpr std::uint32_t kv_entries_offset = 256;

}  // namespace shmkit
