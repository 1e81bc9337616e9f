// The slot ring under stream, video and audio: geometry, control block, slot headers
// (core/SPEC.md "Slot rings").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

// Words of per-sample fields a slot kind stores with each sample (video: pts, ...).
inline constexpr std::size_t slot_meta_words = 5;

struct slot_geometry {
    std::uint64_t slot_count;      // N (2..65536)
    std::uint64_t slot_capacity;   // data bytes a slot can hold
    std::uint64_t slot_stride;     // bytes from one slot's data to the next (multiple of alignment)
    std::uint64_t headers_offset;  // slot_header[N], from the segment start
    std::uint64_t data_offset;     // slot 0's data, a multiple of alignment
    std::uint32_t alignment;       // 64, or the page size for DMA
    std::uint32_t reserved0;
    std::uint64_t reserved1[2];
};
static_assert(sizeof(slot_geometry) == 64);
static_assert(offsetof(slot_geometry, slot_count) == 0);
static_assert(offsetof(slot_geometry, slot_capacity) == 8);
static_assert(offsetof(slot_geometry, slot_stride) == 16);
static_assert(offsetof(slot_geometry, headers_offset) == 24);
static_assert(offsetof(slot_geometry, data_offset) == 32);
static_assert(offsetof(slot_geometry, alignment) == 40);
static_assert(offsetof(slot_geometry, reserved0) == 44);
static_assert(offsetof(slot_geometry, reserved1) == 48);

struct slot_control {
    // The writer's line.
    atomic_u64 committed;     // samples committed; the newest is committed - 1
    atomic_u64 writer;        // the writer role
    atomic_u64 heartbeat_ns;  // the writer's monotonic clock at its last commit or heartbeat()
    atomic_u64 takeovers;
    atomic_u64 abandoned;     // reservations dropped without commit
    std::uint64_t reserved0[3];
    // Readers sleeping for a new sample.
    wait_word wake;
    std::uint64_t reserved1[6];
};
static_assert(sizeof(slot_control) == 128);
static_assert(offsetof(slot_control, committed) == 0);
static_assert(offsetof(slot_control, writer) == 8);
static_assert(offsetof(slot_control, heartbeat_ns) == 16);
static_assert(offsetof(slot_control, takeovers) == 24);
static_assert(offsetof(slot_control, abandoned) == 32);
static_assert(offsetof(slot_control, reserved0) == 40);
static_assert(offsetof(slot_control, wake) == 64);
static_assert(offsetof(slot_control, reserved1) == 80);

// One per slot, one line each. Every field is written between the odd and the even store of
// `seq`, so a reader that sees the same even value before and after has a consistent sample.
struct slot_header {
    atomic_u64 seq;        // 0 never written; 2s+1 while sample s is written; 2s+2 holds sample s
    atomic_u64 size;       // bytes of the sample
    atomic_u64 timestamp_ns;  // the writer's monotonic clock at commit
    atomic_u64 meta[slot_meta_words];  // the kind's per-sample fields (video: pts, ...)
};
static_assert(sizeof(slot_header) == 64);
static_assert(offsetof(slot_header, seq) == 0);
static_assert(offsetof(slot_header, size) == 8);
static_assert(offsetof(slot_header, timestamp_ns) == 16);
static_assert(offsetof(slot_header, meta) == 24);

// Every slot kind: segment_header (64) + slot_geometry (64) + the kind's description (128).
inline constexpr std::uint32_t slot_kind_header_size = 256;
inline constexpr std::uint32_t slot_kind_meta_offset = 128;
inline constexpr std::uint32_t slot_control_offset = 256;
inline constexpr std::uint32_t slot_headers_offset = 384;
inline constexpr std::uint64_t max_slot_count = 65536;

}  // namespace shmkit
