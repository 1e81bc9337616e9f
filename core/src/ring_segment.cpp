#include "ring_segment.hpp"

#include <cstring>

namespace shmkit::detail {

result<segment> create_ring_segment(const char* name, const ring_shape& shape, std::uint64_t capacity,
                                    std::uint32_t max_message, const segment_options& options) noexcept {
    const std::uint64_t size = ring_segment_size(shape, capacity);
    if (size == 0 || max_message > largest_payload(shape.k, ring_capacity_for(capacity))) return errc::invalid_argument;
    auto s = segment::create(name, shape.k, ring_header_size, size, options);
    if (!s) return s.error();
    const errc e = init_ring_geometry(reinterpret_cast<ring_geometry*>(s->base() + geometry_offset), shape.k, size,
                                      shape.control_end, shape.metadata_capacity, max_message);
    if (failed(e)) return e;
    return s;
}

errc format_ring_memory(void* memory, std::uint64_t size, const ring_shape& shape, std::uint32_t max_message) noexcept {
    const std::uint64_t ring_offset = std::uint64_t{shape.control_end} + shape.metadata_capacity;
    if (!usable_memory(memory) || size < ring_offset + min_ring_capacity || size > max_segment_bytes ||
        (size - ring_offset) % record_align != 0) {
        return errc::invalid_argument;
    }
    auto* base = static_cast<std::uint8_t*>(memory);
    std::memset(base, 0, ring_offset + record_header_size);
    format_header(base, shape.k, ring_header_size, size);
    const errc e = init_ring_geometry(reinterpret_cast<ring_geometry*>(base + geometry_offset), shape.k, size,
                                      shape.control_end, shape.metadata_capacity, max_message);
    if (failed(e)) return e;
    publish_header(base);
    return errc::ok;
}

errc map_ring_layout(std::uint8_t* base, std::uint64_t size, const ring_shape& shape, ring_layout* out) noexcept {
    // Atomic loads in the layout need natural alignment; ARM faults otherwise.
    if (!usable_memory(base)) return errc::invalid_argument;
    errc e = validate_header(base, size, static_cast<std::uint32_t>(shape.k), ring_header_size);
    if (failed(e)) return e;
    const ring_geometry copy = geometry_snapshot<ring_geometry>(base);
    e = validate_ring_geometry(copy, shape.k, size, shape.control_end);
    if (failed(e)) return e;
    out->geometry = copy;
    out->control = base + ring_header_size;
    out->ring = byte_ring(base + copy.ring_offset, copy.capacity);
    return errc::ok;
}

}  // namespace shmkit::detail
