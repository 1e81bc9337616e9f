// The header every shmkit segment starts with (core/SPEC.md "Segment header").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/config.hpp"

namespace shmkit {

enum class kind : std::uint32_t {
    broadcast = 1,
    command = 2,
    spsc = 3,
    block = 4,
    kv = 5,
    stream = 6,
    video = 7,
    audio = 8,
    channel = 9,
};

// Written by the creator; immutable once `state` reads ready, except `state` itself.
struct segment_header {
    std::uint64_t magic;           // wire_magic
    std::uint32_t format_version;  // wire_format_version
    std::uint32_t kind;            // shmkit::kind
    std::uint32_t header_size;     // this header + the kind's immutable geometry, multiple of 64
    std::uint32_t checksum;        // FNV-1a over [0, header_size) with state and checksum as 0
    std::uint64_t total_size;      // bytes of the whole object
    std::uint32_t creator_pid;
    std::uint32_t creator_start;   // start-time token of the creator (os::process_id)
    atomic_u32 state;              // segment_creating, then segment_ready, published last
    std::uint32_t flags;           // segment_flag_* (unknown bits are refused)
    std::uint64_t reserved1[2];
};
static_assert(sizeof(segment_header) == 64);
static_assert(offsetof(segment_header, magic) == 0);
static_assert(offsetof(segment_header, format_version) == 8);
static_assert(offsetof(segment_header, kind) == 12);
static_assert(offsetof(segment_header, header_size) == 16);
static_assert(offsetof(segment_header, checksum) == 20);
static_assert(offsetof(segment_header, total_size) == 24);
static_assert(offsetof(segment_header, creator_pid) == 32);
static_assert(offsetof(segment_header, creator_start) == 36);
static_assert(offsetof(segment_header, state) == 40);
static_assert(offsetof(segment_header, flags) == 44);
static_assert(offsetof(segment_header, reserved1) == 48);

// Processes attached to this segment pair light barriers with membarrier (barrier_mode).
inline constexpr std::uint32_t segment_flag_membarrier = 1;

inline constexpr std::uint32_t segment_creating = 0;
inline constexpr std::uint32_t segment_ready = 0x59444552;  // "REDY": a lone bit flip cannot forge it

// Where every kind's immutable geometry starts: right after the segment header.
inline constexpr std::uint32_t geometry_offset = sizeof(segment_header);

}  // namespace shmkit
