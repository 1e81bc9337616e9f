// block's geometry (core/SPEC.md "block"); its lock is wire/rwlock.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"

namespace shmkit {

struct block_geometry {
    std::uint64_t data_offset;  // where the data starts: a multiple of the creator's page size (>= 4096)
    std::uint64_t data_size;    // bytes of data
    std::uint32_t slot_count;   // reader slots after the lock state
    std::uint32_t reserved0;
    std::uint64_t reserved1[5];
};
static_assert(sizeof(block_geometry) == 64);
static_assert(offsetof(block_geometry, data_offset) == 0);
static_assert(offsetof(block_geometry, data_size) == 8);
static_assert(offsetof(block_geometry, slot_count) == 16);
static_assert(offsetof(block_geometry, reserved0) == 20);
static_assert(offsetof(block_geometry, reserved1) == 24);

inline constexpr std::uint32_t block_header_size = 128;    // segment_header + block_geometry
inline constexpr std::uint32_t block_lock_offset = 128;    // rwlock_state
inline constexpr std::uint32_t block_slots_offset = 192;   // rwlock_slot[slot_count]
inline constexpr std::uint32_t block_max_slots = 4096;

}  // namespace shmkit
