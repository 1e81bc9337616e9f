// The plumbing every slot kind (stream, video, audio) shares: create, open and validate a
// segment whose 128-byte kind area holds a `Meta` description, then hand the slots to
// slot_writer / slot_reader. A kind supplies Meta and `static errc check(const Meta&,
// std::uint64_t slot_capacity)`, which validates a description (from a caller or from a segment).
#pragma once

#include <cstring>

#include "shmkit/slot_ring.hpp"

namespace shmkit::detail {

// Maps a slot segment of kind `k` and copies its description out, validated by the kind's
// check(): invalid_layout if the segment holds a description the kind would not create.
template <class Kind, class Meta>
errc map_kind(std::uint8_t* base, std::uint64_t size, kind k, slot_layout* l, Meta* meta) noexcept {
    const errc e = map_slot_layout(base, size, k, l);
    if (failed(e)) return e;
    std::memcpy(meta, l->kind_meta, sizeof *meta);
    return failed(Kind::check(*meta, l->geometry.slot_capacity)) ? errc::invalid_layout : errc::ok;
}

// inspect_stream/video/audio: the slots' counters and the description, as stored (unchecked).
template <class Meta>
errc inspect_kind(const void* base, std::uint64_t size, kind k, slot_info* slots, Meta* meta) noexcept {
    const errc e = inspect_slots(base, size, k, slots);
    if (failed(e)) return e;
    std::memcpy(meta, static_cast<const std::uint8_t*>(base) + slot_kind_meta_offset, sizeof *meta);
    return errc::ok;
}

template <class Meta, kind K, class Derived>
class slot_kind_writer : public slot_writer {
    static_assert(sizeof(Meta) == slot_kind_header_size - slot_kind_meta_offset, "a kind description is 128 bytes");

public:
    const Meta& description() const noexcept { return meta_; }

    // Becomes the writer of an existing segment (busy while another writer lives).
    static result<Derived> open(const char* name, const segment_options& options = {}) noexcept {
        return bind_to<Derived>(segment::open(name, K, slot_kind_header_size, os::access::read_write, options), false);
    }
    // The same over caller-given memory (64-byte aligned) that holds a published segment of this
    // kind, such as one mapped from a DMA buffer: validated like a named one.
    static result<Derived> attach(void* memory, std::uint64_t size) noexcept {
        return bind_to<Derived>(memory, size, false);
    }

protected:
    // What a kind makes of its configuration: the description and the slots, or the error that
    // refuses the configuration. create(), format() and segment_size() all start from it.
    struct described {
        Meta meta{};
        slot_config slots{};
        errc error = errc::ok;
    };

    static result<Derived> create_kind(const char* name, const described& d, const segment_options& options) noexcept {
        if (failed(d.error)) return d.error;
        const Meta& meta = d.meta;
        const slot_config& config = d.slots;
        if (failed(Derived::check(meta, config.slot_capacity))) return errc::invalid_argument;
        return bind_to<Derived>(create_slot_segment(name, K, config, &meta, options), true);
    }

    // Caller-given memory: a published segment with this description, whose writer role this
    // handle then holds.
    static result<Derived> format_kind(void* memory, std::uint64_t size, const described& d) noexcept {
        if (failed(d.error)) return d.error;
        if (failed(Derived::check(d.meta, d.slots.slot_capacity))) return errc::invalid_argument;
        const errc e = format_slot_memory(memory, size, K, d.slots, &d.meta);
        if (failed(e)) return e;
        return attach(memory, size);
    }
    // 0 for a configuration refused outright.
    static std::uint64_t kind_segment_size(const described& d) noexcept {
        if (failed(d.error)) return 0;
        std::uint64_t data_offset;
        std::uint32_t alignment;
        return slot_segment_size(d.slots, &data_offset, &alignment);
    }

    friend handle;
    // The one binding step of create, open and attach (through bind_to).
    errc bind(std::uint8_t* base, std::uint64_t size, bool role_claimed) noexcept {
        slot_layout l;
        const errc e = map_kind<Derived>(base, size, K, &l, &meta_);
        if (failed(e)) return e;
        return bind_layout(l, role_claimed);
    }

    Meta meta_{};
};

template <class Meta, kind K, class Derived>
class slot_kind_reader : public slot_reader {
public:
    const Meta& description() const noexcept { return meta_; }

    // A reader of a segment of this kind in caller-given memory (64-byte aligned).
    static result<Derived> attach(void* memory, std::uint64_t size, const slot_reader_options& options = {}) noexcept {
        return bind_to<Derived>(memory, size, options);
    }

protected:
    static result<Derived> open_kind(const char* name, const slot_reader_options& options) noexcept {
        return bind_to<Derived>(segment::open(name, K, slot_kind_header_size,
                                              options.read_only ? os::access::read_only : os::access::read_write,
                                              options.segment),
                                options);
    }

    friend handle;
    // The one binding step of open and attach (through bind_to).
    errc bind(std::uint8_t* base, std::uint64_t size, const slot_reader_options& options) noexcept {
        slot_layout l;
        const errc e = map_kind<Derived>(base, size, K, &l, &meta_);
        if (failed(e)) return e;
        return bind_layout(l, options);
    }

    Meta meta_{};
};

}  // namespace shmkit::detail
