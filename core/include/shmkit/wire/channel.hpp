// channel's control block (core/SPEC.md "channel"): spsc's, then the metadata line.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/spsc.hpp"

namespace shmkit {

// The metadata block's state, written once by the writer after the block's bytes (release).
struct channel_metadata_line {
    atomic_u64 metadata;  // 0: not written; else channel_metadata_written | size (bits 0..31)
    std::uint64_t reserved0[7];
};
static_assert(sizeof(channel_metadata_line) == 64);
static_assert(offsetof(channel_metadata_line, metadata) == 0);
static_assert(offsetof(channel_metadata_line, reserved0) == 8);

inline constexpr std::uint64_t channel_metadata_written = std::uint64_t{1} << 32;

// spsc's control block at ring_header_size (128), the metadata line after it, then the
// metadata block (ring_geometry::metadata_capacity bytes) and the ring.
inline constexpr std::uint32_t channel_metadata_line_offset = spsc_ring_offset;  // 384
inline constexpr std::uint32_t channel_metadata_offset = channel_metadata_line_offset + 64;  // 448

}  // namespace shmkit
