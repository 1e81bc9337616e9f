// The ring kinds' record framing and geometry (core/SPEC.md "Records", "Ring geometry").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/wire/config.hpp"

namespace shmkit {

inline constexpr std::uint32_t record_align = 16;
inline constexpr std::uint32_t record_header_size = 16;

// none: nothing written here yet (an end marker is a header word of zero).
// message: a complete record. pad: fills the rest of the lap. claimed: space a command writer
// has claimed and is still filling. skip: a record with nothing in it (an abandoned claim, or
// the unused tail of a claim committed shorter than claimed).
enum class record_type : std::uint32_t { none = 0, message = 1, pad = 2, claimed = 3, skip = 4 };

// In shared memory as two little-endian u64 words, each read and written atomically:
//   word 0: bits 0..31 size, bits 32..34 type, bits 35..63 lap (low 29 bits of pos / capacity)
//   word 1: sequence number (command rings: the claiming writer's identity)
// The lap lets a reader tell the record at its position from a stale one a lap behind.
struct record_header {
    std::uint32_t size = 0;  // message: payload bytes; pad: bytes from the pad to the ring's end
    record_type type = record_type::none;
    std::uint32_t lap = 0;
    std::uint64_t seq = 0;
};

inline constexpr std::uint32_t lap_mask = (1u << 29) - 1;

// Bytes a record with `payload` bytes occupies.
constexpr std::uint64_t record_span(std::uint64_t payload) noexcept {
    return record_header_size + round_up(payload, record_align);
}

// The immutable geometry every ring kind (broadcast, spsc, command) stores right after the
// segment header; covered by the header checksum.
struct ring_geometry {
    std::uint64_t capacity;     // ring bytes, multiple of 16, at least min_ring_capacity
    std::uint64_t ring_offset;  // from the segment start; fixed per kind
    std::uint32_t max_message;  // largest payload, at most largest_payload(kind, capacity)
    std::uint32_t metadata_capacity;  // bytes of metadata block before the ring (channel; else 0)
    std::uint64_t reserved1[5];
};
static_assert(sizeof(ring_geometry) == 64);
static_assert(offsetof(ring_geometry, capacity) == 0);
static_assert(offsetof(ring_geometry, ring_offset) == 8);
static_assert(offsetof(ring_geometry, max_message) == 16);
static_assert(offsetof(ring_geometry, metadata_capacity) == 20);
static_assert(offsetof(ring_geometry, reserved1) == 24);

// A ring kind's header (broadcast, spsc, command): the segment header and the ring geometry
// (at geometry_offset). Its control block follows.
inline constexpr std::uint32_t ring_header_size = 128;
static_assert(ring_header_size == 64 + sizeof(ring_geometry));  // 64: the segment header
inline constexpr std::uint64_t min_ring_capacity = 256;

}  // namespace shmkit
