// The input format shared by the fuzz targets and the corpus generator: a few control bytes,
// then a segment image.
//
//   byte 0   bits 0-2: the kind (0 broadcast, 1 spsc, 2 command, 3 block, 4 kv, 5 stream,
//                      6 video, 7 audio)
//            bit 3:    raw (the image as given) rather than sealed (a valid common header is
//                      written over the image's first 64 bytes, see seal())
//            bits 4-7: options, per target
//   byte 1   who holds the roles (sealed only): two bits per role word of the kind
//   byte 2   who holds the other identity words (sealed only): lock owners, reader slots, claims
//   byte 3   what the writers do
//   4...     the segment image
//
// Sealing lets the fuzzer explore the geometry, the control block and the ring, slot or kv
// contents instead of failing the header checksum. Raw inputs exercise the header checks (and,
// from a valid seed, everything behind them until a mutation breaks the checksum).
#pragma once

#include <cstddef>
#include <cstdint>
#if defined(_WIN32)
#include <malloc.h>
#endif
#include <cstdlib>
#include <cstring>

#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/slot_ring.hpp"
#include "shmkit/spsc.hpp"

namespace shmkit::fuzz {

inline constexpr std::size_t prefix_size = 4;
inline constexpr std::uint8_t raw_bit = 0x08;

// Input kind index (byte 0, bits 0-2) to shmkit::kind.
inline constexpr kind kinds[8] = {kind::broadcast, kind::spsc,   kind::command, kind::block,
                                  kind::kv,        kind::stream, kind::video,   kind::audio};

inline std::uint8_t kind_index(kind k) {
    for (std::uint8_t i = 0; i < 8; ++i) {
        if (kinds[i] == k) return i;
    }
    return 0;
}

inline std::uint32_t header_size_of(kind k) {
    switch (k) {
        case kind::stream:
        case kind::video:
        case kind::audio: return slot_kind_header_size;
        default: return 128;  // segment_header + the ring, block or kv geometry
    }
}

struct input {
    kind k = kind::broadcast;
    bool raw = false;
    std::uint8_t options = 0;  // byte 0, bits 4-7
    std::uint8_t roles = 0;
    std::uint8_t others = 0;
    std::uint8_t script = 0;
    const std::uint8_t* image = nullptr;
    std::size_t image_size = 0;
};

inline bool parse(const std::uint8_t* data, std::size_t size, input* out) {
    if (size < prefix_size) return false;
    out->k = kinds[data[0] & 7];
    out->raw = (data[0] & raw_bit) != 0;
    out->options = static_cast<std::uint8_t>(data[0] >> 4);
    out->roles = data[1];
    out->others = data[2];
    out->script = data[3];
    out->image = data + prefix_size;
    out->image_size = size - prefix_size;
    return true;
}

// The image in memory of its own: 64-byte aligned (as every segment is) and exactly as long as
// the input, so that ASan reports any access past the segment's end.
class image {
public:
    image(const std::uint8_t* bytes, std::size_t size) : size_(size) {
#if defined(_WIN32)
        void* p = ::_aligned_malloc(size == 0 ? 1 : size, wire_line);
        if (p == nullptr) std::abort();
#else
        void* p = nullptr;
        if (posix_memalign(&p, wire_line, size == 0 ? 1 : size) != 0) std::abort();
#endif
        base_ = static_cast<std::uint8_t*>(p);
        if (size != 0) std::memcpy(base_, bytes, size);
    }
    ~image() {
#if defined(_WIN32)
        ::_aligned_free(base_);
#else
        std::free(base_);
#endif
    }
    image(const image&) = delete;
    image& operator=(const image&) = delete;

    std::uint8_t* base() const { return base_; }
    std::size_t size() const { return size_; }

    // A word of the image, if it lies wholly inside it (little-endian, as on the wire).
    bool has(std::uint64_t offset, std::uint64_t bytes) const { return offset <= size_ && bytes <= size_ - offset; }
    std::uint64_t get64(std::uint64_t offset) const {
        std::uint64_t v = 0;
        if (has(offset, 8)) std::memcpy(&v, base_ + offset, 8);
        return v;
    }
    std::uint32_t get32(std::uint64_t offset) const {
        std::uint32_t v = 0;
        if (has(offset, 4)) std::memcpy(&v, base_ + offset, 4);
        return v;
    }
    void put64(std::uint64_t offset, std::uint64_t v) {
        if (has(offset, 8)) std::memcpy(base_ + offset, &v, 8);
    }

private:
    std::uint8_t* base_ = nullptr;
    std::size_t size_ = 0;
};

// Writes a valid, ready common header of kind `k` over the image's first 64 bytes: the size is
// the image's, the barrier mode fences, no creator; the checksum covers the kind's geometry as
// the input has it.
inline void seal(image& img, kind k) {
    if (img.size() < sizeof(segment_header)) return;
    segment_header h{};
    h.magic = wire_magic;
    h.format_version = wire_format_version;
    h.kind = static_cast<std::uint32_t>(k);
    h.header_size = header_size_of(k);
    h.total_size = img.size();
    h.flags = 0;
    std::memcpy(img.base(), &h, sizeof h);
    auto* header = reinterpret_cast<segment_header*>(img.base());
    if (img.size() >= h.header_size) header->checksum = header_checksum(img.base(), h.header_size);
    header->state.store(segment_ready, order::release);
}

// An identity word chosen by two bits: free, two processes that are certainly dead (a pid
// beyond the kernel's limit; this process's pid with another start time, as a recycled pid
// looks), or this process (a live holder: roles report busy, locks time out). Liveness checks
// read /proc, so pinning the words keeps runs deterministic and fast.
inline std::uint64_t identity(unsigned choice) {
    const std::uint64_t me = this_process();
    switch (choice & 3u) {
        case 0: return 0;
        case 1: return pack_process(os::process_id{0x7FFF'FFF0u, 1});  // above PID_MAX_LIMIT (2^22)
        case 2: return pack_process(os::process_id{static_cast<std::uint32_t>(me), static_cast<std::uint32_t>(me >> 32) + 1});
        default: return me;
    }
}

// Replaces every identity word the kind keeps in its control area (roles, lock owners, reader
// slots, claim records) with one chosen by the input. Only words inside the image are touched.
inline void pin_identities(image& img, kind k, std::uint8_t roles, std::uint8_t others) {
    unsigned role = 0;
    auto next_role = [&]() { return identity(roles >> (2 * (role++ % 4))); };
    unsigned other = 0;
    auto next_other = [&]() { return identity(others >> (2 * (other++ % 4))); };
    switch (k) {
        case kind::broadcast:
            img.put64(broadcast_control_offset + offsetof(broadcast_control, writer), next_role());
            break;
        case kind::spsc:
        case kind::channel:
            img.put64(128 + offsetof(spsc_control, producer), next_role());
            img.put64(128 + offsetof(spsc_control, consumer), next_role());
            break;
        case kind::command: {
            img.put64(128 + offsetof(command_control, reader), next_role());
            img.put64(128 + offsetof(command_control, claim), next_role());
            // Claims name their writer in word 1 of the record header. Every 16-byte step of the
            // ring that reads as a claim header gets a chosen identity.
            for (std::uint64_t at = command_ring_offset; img.has(at, 16); at += record_align) {
                if (((img.get64(at) >> 32) & 7u) == static_cast<std::uint32_t>(record_type::claimed)) {
                    img.put64(at + 8, next_other());
                }
            }
            break;
        }
        case kind::block: {
            img.put64(block_lock_offset + offsetof(rwlock_state, writer), next_role());
            const std::uint32_t slots = img.get32(64 + offsetof(block_geometry, slot_count));
            for (std::uint64_t i = 0; i < slots && i < block_max_slots; ++i) {
                img.put64(block_slots_offset + i * sizeof(rwlock_slot) + offsetof(rwlock_slot, owner), next_other());
            }
            break;
        }
        case kind::kv: {
            const std::uint32_t keys = img.get32(64 + offsetof(kv_geometry, key_count));
            const std::uint64_t stride = img.get64(64 + offsetof(kv_geometry, entry_stride));
            if (stride < sizeof(kv_entry) || stride % 8 != 0) break;
            for (std::uint64_t i = 0; i < keys; ++i) {
                const std::uint64_t at = kv_entries_offset + i * stride;
                if (!img.has(at, sizeof(kv_entry))) break;
                img.put64(at + offsetof(kv_entry, lock) + offsetof(robust_lock, owner), next_other());
            }
            break;
        }
        case kind::stream:
        case kind::video:
        case kind::audio:
            img.put64(slot_control_offset + offsetof(slot_control, writer), next_role());
            break;
    }
}

}  // namespace shmkit::fuzz
