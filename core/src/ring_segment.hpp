// Private to the core: the create/format/map steps every ring kind (broadcast, spsc, command)
// shares. Each kind supplies its kind, where its ring starts and its control block's meaning.
#pragma once

#include <cstdint>

#include "shmkit/detail/byte_ring.hpp"
#include "shmkit/detail/ring_mapping.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::detail {

struct ring_layout {
    ring_geometry geometry{};          // a validated copy: never re-read from shared memory
    std::uint8_t* control = nullptr;   // at ring_header_size
    byte_ring ring;
};

template <class Control>
void ring_mapping<Control>::adopt(std::uint8_t* base, const ring_layout& l) noexcept {
    control_ = reinterpret_cast<Control*>(l.control);
    ring_ = l.ring;
    barriers_ = barriers_of(base);
    max_message_ = l.geometry.max_message;
}

// Positions are absolute byte counts; one off a record boundary would make atomic loads
// misaligned (a fault on ARM), and one near 2^64 would let position arithmetic wrap.
inline bool plausible_position(std::uint64_t pos) noexcept {
    return pos % record_align == 0 && pos < (std::uint64_t{1} << 62);
}

// Consumer position `tail` and producer position `head` as a ring of `capacity` bytes can hold
// them: in order, at most a ring apart, and both plausible positions.
inline bool plausible_span(std::uint64_t tail, std::uint64_t head, std::uint64_t capacity) noexcept {
    return tail <= head && head - tail <= capacity && plausible_position(head) && plausible_position(tail);
}

// Where a ring kind's parts lie: its control block ends at `control_end`, then come
// `metadata_capacity` bytes of metadata block (channels only; a multiple of 64) and the ring.
struct ring_shape {
    kind k;
    std::uint32_t control_end;
    std::uint32_t metadata_capacity = 0;
};

// 0 when `capacity` (or the whole) is beyond max_segment_bytes (create refuses it with
// invalid_argument).
inline std::uint64_t ring_segment_size(const ring_shape& shape, std::uint64_t capacity) noexcept {
    const std::uint64_t c = ring_capacity_for(capacity);
    const std::uint64_t size = std::uint64_t{shape.control_end} + shape.metadata_capacity + c;
    return c == 0 || size > max_segment_bytes ? 0 : size;
}

// A named segment with header and geometry written, not yet published: the caller initialises
// its control block (the memory is zero) and calls publish(). invalid_argument for a capacity
// or max_message the kind cannot have (largest_payload).
result<segment> create_ring_segment(const char* name, const ring_shape& shape, std::uint64_t capacity,
                                    std::uint32_t max_message, const segment_options& options) noexcept;

// The same over caller-given memory (64-byte aligned), published on success. The first ring
// header is zeroed so that reused memory holds no stale record where readers start.
errc format_ring_memory(void* memory, std::uint64_t size, const ring_shape& shape, std::uint32_t max_message) noexcept;

// Validates alignment, header and geometry (shape.metadata_capacity is ignored: the segment's
// own is validated); on success fills `out`.
errc map_ring_layout(std::uint8_t* base, std::uint64_t size, const ring_shape& shape, ring_layout* out) noexcept;

}  // namespace shmkit::detail
