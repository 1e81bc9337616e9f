// Record framing over a ring of bytes: the one mechanism under broadcast, command and spsc.
//
// Positions are absolute byte counts (u64, never wrap in practice); a position maps to
// (lap, offset) = (pos / capacity, pos % capacity). A record is a 16-byte header followed by its
// payload padded to 16 bytes, and never wraps: when it would not fit before the end of the ring,
// a pad record fills the rest and the record starts the next lap at offset 0. Because every
// record and the capacity are multiples of 16, at least one whole header always fits before the
// end, so there is no "too little room for a wrap marker" case. Layout: core/SPEC.md "Records".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/copy.hpp"
#include "shmkit/detail/divisor.hpp"
#include "shmkit/detail/sanitizers.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/wire/byte_ring.hpp"
#include "shmkit/wire/config.hpp"
#include "shmkit/wire/segment.hpp"

namespace shmkit {

// The largest payload a ring of `capacity` bytes accepts when writers never wait for the ring
// to drain (broadcast overwrites, command writers claim concurrently): a record of that size,
// the pad that may precede it and one more header always fit in half the ring, so a message
// that fits the limit always finds room once the ring drains, wherever the write position is.
constexpr std::uint32_t largest_message(std::uint64_t capacity) noexcept {
    const std::uint64_t max = capacity / 2 - 2 * record_header_size;
    return max > 0xFFFF'FFF0u ? 0xFFFF'FFF0u : static_cast<std::uint32_t>(max / record_align * record_align);
}

// The largest payload of a ring whose one writer may wait for its one reader (spsc, channel):
// a record spanning the whole ring. Such a record does not fit after the pad that precedes it
// at a wrap, so the writer publishes the pad on its own, waits until the reader has passed it
// (the pad's bytes are then free) and writes the record at the start of the next lap
// (spsc_producer::reserve_space).
constexpr std::uint32_t largest_frame(std::uint64_t capacity) noexcept {
    const std::uint64_t max = capacity - record_header_size;
    return max > 0xFFFF'FFF0u ? 0xFFFF'FFF0u : static_cast<std::uint32_t>(max / record_align * record_align);
}

// The largest payload a ring of kind `k` carries.
constexpr std::uint32_t largest_payload(kind k, std::uint64_t capacity) noexcept {
    return k == kind::spsc || k == kind::channel ? largest_frame(capacity) : largest_message(capacity);
}

// Capacity as stored: rounded up to 16, at least min_ring_capacity; 0 for a request beyond
// max_segment_bytes (callers refuse it).
constexpr std::uint64_t ring_capacity_for(std::uint64_t requested) noexcept {
    if (requested > max_segment_bytes) return 0;
    const std::uint64_t c = round_up(requested, record_align);
    return c < min_ring_capacity ? min_ring_capacity : c;
}

// Fills the geometry for a segment of kind `k` and `segment_size` bytes whose control block
// ends at `control_end`, followed by `metadata_capacity` bytes of metadata block (a multiple of
// 64; only channels have one) and the ring; max_message 0 means the largest allowed.
// invalid_argument if max_message is too large.
errc init_ring_geometry(ring_geometry* g, kind k, std::uint64_t segment_size, std::uint32_t control_end,
                        std::uint32_t metadata_capacity, std::uint32_t max_message) noexcept;

// Validates a stored geometry against the mapped size, the kind and where its control block ends.
errc validate_ring_geometry(const ring_geometry& g, kind k, std::uint64_t segment_size,
                            std::uint32_t control_end) noexcept;

// A view of the ring's bytes; the owner keeps it consistent with the segment's geometry.
class byte_ring {
public:
    byte_ring() noexcept = default;
    byte_ring(std::uint8_t* data, std::uint64_t capacity) noexcept
        : data_(data), capacity_(capacity), by_capacity_(capacity) {}

    std::uint64_t capacity() const noexcept { return capacity_; }
    // By multiplication, not a divide instruction: every record costs several (divisor.hpp).
    std::uint64_t offset(std::uint64_t pos) const noexcept { return by_capacity_.remainder(pos); }
    std::uint32_t lap(std::uint64_t pos) const noexcept {
        return static_cast<std::uint32_t>(by_capacity_.quotient(pos)) & lap_mask;
    }
    std::uint8_t* at(std::uint64_t offset) const noexcept { return data_ + offset; }

    // Bytes of padding needed before a record of `span` bytes can start at `pos`.
    std::uint64_t pad_before(std::uint64_t pos, std::uint64_t span) const noexcept {
        const std::uint64_t room = capacity_ - offset(pos);
        return room < span ? room : 0;
    }

    // Acquire on word 0: pairs with store_header's release, so a reader that sees a header
    // also sees the payload written before it (and word 1, written just before word 0).
    // A speculative read (sanitizers.hpp): the caller validates it against tail.
    record_header load_header(std::uint64_t offset) const noexcept {
        const auto* words = reinterpret_cast<const std::uint64_t*>(data_ + offset);
        SHMKIT_SPECULATIVE_READ_BEGIN();
        const std::uint64_t w0 = load_shared(words, order::acquire);
        record_header h;
        h.size = static_cast<std::uint32_t>(w0);
        h.type = static_cast<record_type>((w0 >> 32) & 7u);
        h.lap = static_cast<std::uint32_t>(w0 >> 35);
        h.seq = load_shared(words + 1, order::relaxed);
        SHMKIT_SPECULATIVE_READ_END();
        return h;
    }

    void store_header(std::uint64_t offset, const record_header& h) noexcept {
        auto* words = reinterpret_cast<std::uint64_t*>(data_ + offset);
        const std::uint64_t w0 = h.size | (static_cast<std::uint64_t>(h.type) << 32) |
                                 (static_cast<std::uint64_t>(h.lap & lap_mask) << 35);
        store_shared(words + 1, h.seq, order::relaxed);
        // Release: publishes the payload (and word 1) to any reader that loads word 0.
        store_shared(words, w0, order::release);
    }

    // The header of a record at position `pos` (its lap tag taken from `pos`).
    void store_record(std::uint64_t pos, record_type type, std::uint32_t size, std::uint64_t word1) noexcept {
        record_header h;
        h.size = size;
        h.type = type;
        h.lap = lap(pos);
        h.seq = word1;
        store_header(offset(pos), h);
    }

    // Publishes a message of `size` bytes at `record_pos`, after a pad from `pad_pos` when the
    // message starts the next lap (pad_pos < record_pos); both records carry `seq`. The pad goes
    // after the message header, so a reader that skips the pad finds the message. Writers store
    // the pad here, at publication, not when they reserve: a pad published for a reservation
    // that is then abandoned would send readers past space that a smaller next record fills.
    void store_message(std::uint64_t pad_pos, std::uint64_t record_pos, std::size_t size, std::uint64_t seq) noexcept {
        store_record(record_pos, record_type::message, static_cast<std::uint32_t>(size), seq);
        if (record_pos != pad_pos) {
            store_record(pad_pos, record_type::pad, static_cast<std::uint32_t>(record_pos - pad_pos), seq);
        }
    }

    // Marks `offset` as "no record here yet" (header word 0 = 0, type none). Relaxed: the
    // release store of the header published after it orders it for readers.
    void store_end_marker(std::uint64_t offset) noexcept {
        store_shared(reinterpret_cast<std::uint64_t*>(data_ + offset), std::uint64_t{0}, order::relaxed);
    }

    // Checks a header read at `pos` against the geometry: it must belong to this lap and fit
    // before the end of the ring. Returns the record's span, or 0 if the header is invalid.
    std::uint64_t checked_span(std::uint64_t pos, const record_header& h,
                               std::uint32_t max_payload) const noexcept {
        if (h.lap != lap(pos)) return 0;
        const std::uint64_t room = capacity_ - offset(pos);
        if (h.type == record_type::pad) return (h.size == room) ? room : 0;
        if (h.type == record_type::none || h.type > record_type::skip || h.size > max_payload) return 0;
        const std::uint64_t span = record_span(h.size);
        return span <= room ? span : 0;
    }

    // Writers publish a message by storing the next sequence number and then head. Between those
    // two stores the record at `head` (after a pad, if there is one) is complete but head does
    // not include it yet. Given head and next_seq read together, this returns the position
    // after such a record, else head. The lap tag tells the record from stale bytes of an older
    // lap at the same offset. Used by a writer taking over from a dead one, and by readers
    // attaching while a publication is in flight.
    std::uint64_t settled_head(std::uint64_t head, std::uint64_t next_seq, std::uint32_t max_message) const noexcept {
        if (next_seq == 0) return head;
        std::uint64_t pos = head;
        record_header h = load_header(offset(pos));
        if (h.type == record_type::pad && h.seq == next_seq - 1) {
            const std::uint64_t span = checked_span(pos, h, max_message);
            if (span == 0) return head;
            pos += span;
            h = load_header(offset(pos));
        }
        if (h.type != record_type::message || h.seq != next_seq - 1) return head;
        const std::uint64_t span = checked_span(pos, h, max_message);
        return span == 0 ? head : pos + span;
    }

    void copy_out(void* dst, std::uint64_t payload_offset, std::size_t size) const noexcept {
        copy_from_shared(dst, data_ + payload_offset, size);
    }
    void copy_in(std::uint64_t payload_offset, const void* src, std::size_t size) noexcept {
        copy_to_shared(data_ + payload_offset, src, size);
    }

private:
    std::uint8_t* data_ = nullptr;
    std::uint64_t capacity_ = 1;
    detail::divisor by_capacity_;
};

}  // namespace shmkit
