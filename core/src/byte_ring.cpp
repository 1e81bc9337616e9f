#include "shmkit/detail/byte_ring.hpp"

namespace shmkit {

errc init_ring_geometry(ring_geometry* g, kind k, std::uint64_t segment_size, std::uint32_t control_end,
                        std::uint32_t metadata_capacity, std::uint32_t max_message) noexcept {
    if (metadata_capacity % 64 != 0 || (metadata_capacity != 0 && k != kind::channel)) return errc::invalid_argument;
    const std::uint64_t ring_offset = std::uint64_t{control_end} + metadata_capacity;
    if (segment_size < ring_offset + min_ring_capacity) return errc::invalid_argument;
    const std::uint64_t capacity = segment_size - ring_offset;
    if (capacity % record_align != 0) return errc::invalid_argument;
    const std::uint32_t largest = largest_payload(k, capacity);
    if (max_message > largest) return errc::invalid_argument;
    g->capacity = capacity;
    g->ring_offset = ring_offset;
    g->max_message = max_message == 0 ? largest : max_message;
    g->metadata_capacity = metadata_capacity;
    return errc::ok;
}

errc validate_ring_geometry(const ring_geometry& g, kind k, std::uint64_t segment_size,
                            std::uint32_t control_end) noexcept {
    // Only a channel has a metadata block; its size decides where the ring starts.
    if (g.metadata_capacity % 64 != 0 || (g.metadata_capacity != 0 && k != kind::channel)) return errc::invalid_layout;
    const std::uint64_t ring_offset = std::uint64_t{control_end} + g.metadata_capacity;
    if (g.ring_offset != ring_offset || segment_size < ring_offset || g.capacity < min_ring_capacity ||
        g.capacity % record_align != 0 || g.capacity != segment_size - ring_offset ||
        g.max_message > largest_payload(k, g.capacity)) {
        return errc::invalid_layout;
    }
    for (std::uint64_t r : g.reserved1) {
        if (r != 0) return errc::invalid_layout;
    }
    return errc::ok;
}

}  // namespace shmkit
