#include "shmkit/detail/byte_ring.hpp"

namespace shmkit {

errc init_ring_geometry(ring_geometry* g, std::uint64_t segment_size, std::uint32_t ring_offset,
                        std::uint32_t max_message) noexcept {
    if (segment_size < ring_offset + min_ring_capacity) return errc::invalid_argument;
    const std::uint64_t capacity = segment_size - ring_offset;
    if (capacity % record_align != 0) return errc::invalid_argument;
    const std::uint32_t largest = largest_message(capacity);
    if (max_message > largest) return errc::invalid_argument;
    g->capacity = capacity;
    g->ring_offset = ring_offset;
    g->max_message = max_message == 0 ? largest : max_message;
    return errc::ok;
}

errc validate_ring_geometry(const ring_geometry& g, std::uint64_t segment_size, std::uint32_t ring_offset) noexcept {
    if (g.ring_offset != ring_offset || segment_size < ring_offset || g.capacity < min_ring_capacity ||
        g.capacity % record_align != 0 || g.capacity != segment_size - ring_offset ||
        g.max_message > largest_message(g.capacity) || g.reserved0 != 0) {
        return errc::invalid_layout;
    }
    for (std::uint64_t r : g.reserved1) {
        if (r != 0) return errc::invalid_layout;
    }
    return errc::ok;
}

}  // namespace shmkit
