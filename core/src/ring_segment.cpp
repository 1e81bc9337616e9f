#include "ring_segment.hpp"

#include <cstring>

namespace shmkit::detail {

result<segment> create_ring_segment(const char* name, kind k, std::uint32_t ring_offset, std::uint64_t capacity,
                                    std::uint32_t max_message, const segment_options& options) noexcept {
    const std::uint64_t size = ring_segment_size(ring_offset, capacity);
    if (size == 0 || max_message > largest_message(size - ring_offset)) return errc::invalid_argument;
    auto s = segment::create(name, k, ring_header_size, size, options);
    if (!s) return s.error();
    const errc e = init_ring_geometry(reinterpret_cast<ring_geometry*>(s->base() + geometry_offset), size,
                                      ring_offset, max_message);
    if (failed(e)) return e;
    return s;
}

errc format_ring_memory(void* memory, std::uint64_t size, kind k, std::uint32_t ring_offset,
                        std::uint32_t max_message) noexcept {
    if (!usable_memory(memory) ||
        size < ring_offset + min_ring_capacity || size > max_segment_bytes || (size - ring_offset) % record_align != 0) {
        return errc::invalid_argument;
    }
    auto* base = static_cast<std::uint8_t*>(memory);
    std::memset(base, 0, ring_offset + record_header_size);
    format_header(base, k, ring_header_size, size);
    const errc e = init_ring_geometry(reinterpret_cast<ring_geometry*>(base + geometry_offset), size,
                                      ring_offset, max_message);
    if (failed(e)) return e;
    publish_header(base);
    return errc::ok;
}

errc map_ring_layout(std::uint8_t* base, std::uint64_t size, kind k, std::uint32_t ring_offset,
                     ring_layout* out) noexcept {
    // Atomic loads in the layout need natural alignment; ARM faults otherwise.
    if (!usable_memory(base)) return errc::invalid_argument;
    errc e = validate_header(base, size, static_cast<std::uint32_t>(k), ring_header_size);
    if (failed(e)) return e;
    const ring_geometry copy = geometry_snapshot<ring_geometry>(base);
    e = validate_ring_geometry(copy, size, ring_offset);
    if (failed(e)) return e;
    out->geometry = copy;
    out->control = base + ring_header_size;
    out->ring = byte_ring(base + ring_offset, copy.capacity);
    return errc::ok;
}

}  // namespace shmkit::detail
