// Slot kinds (stream, video, audio): a slot ring whose 128-byte kind area holds a description
// of the samples. A kind is one traits struct, and its writer and reader are
// slot_kind_writer<Kind> and slot_kind_reader<Kind>:
//
//   struct my_kind {
//       using meta = ...;            // the 128-byte description stored in the segment
//       using config = ...;          // what create() takes
//       using reader_options = ...;  // slot_reader_options, or the kind's extension of it
//       static constexpr kind id = kind::...;
//       // Its create: the description and slots of a configuration (or the error refusing it).
//       static slot_description<meta> describe(const config&) noexcept;
//       // A description fit to create or to read (from a caller or from a segment).
//       static errc check(const meta&, std::uint64_t slot_capacity) noexcept;
//       // What a reader insists on finding (ok: anything check() passed).
//       static errc accept(const meta&, const reader_options&) noexcept;
//       // The kind's own calls on its writer and reader (may be empty structs); they reach
//       // the handle with static_cast<const slot_kind_writer<my_kind>&>(*this).
//       struct writer_calls;
//       struct reader_calls;
//   };
#pragma once

#include <cstring>

#include "shmkit/slot_ring.hpp"

namespace shmkit {

template <class Meta>
struct slot_description {
    Meta meta{};
    slot_config slots{};
    errc error = errc::ok;  // the configuration is refused outright
};

namespace detail {
// Maps a slot segment of the kind and copies its description out, validated by the kind's
// check(): invalid_layout if the segment holds a description the kind would not create.
template <class Kind>
errc map_kind(std::uint8_t* base, std::uint64_t size, slot_layout* l, typename Kind::meta* meta) noexcept {
    const errc e = map_slot_layout(base, size, Kind::id, l);
    if (failed(e)) return e;
    std::memcpy(meta, l->kind_meta, sizeof *meta);
    return failed(Kind::check(*meta, l->geometry.slot_capacity)) ? errc::invalid_layout : errc::ok;
}

// inspect_stream/video/audio: the slots' counters and the description, as stored (unchecked).
template <class Kind>
errc inspect_kind(const void* base, std::uint64_t size, slot_info* slots, typename Kind::meta* meta) noexcept {
    const errc e = inspect_slots(base, size, Kind::id, slots);
    if (failed(e)) return e;
    std::memcpy(meta, static_cast<const std::uint8_t*>(base) + slot_kind_meta_offset, sizeof *meta);
    return errc::ok;
}
}  // namespace detail

template <class Kind>
class slot_kind_writer : public slot_writer, public Kind::writer_calls {
public:
    using meta_type = typename Kind::meta;
    using config_type = typename Kind::config;
    static_assert(sizeof(meta_type) == slot_kind_header_size - slot_kind_meta_offset, "a kind description is 128 bytes");

    const meta_type& description() const noexcept { return meta_; }

    // A new named segment with this configuration (invalid_argument: refused).
    static result<slot_kind_writer> create(const char* name, const config_type& config,
                                           const segment_options& options = {}) noexcept {
        const slot_description<meta_type> d = Kind::describe(config);
        if (const errc e = refusal(d); failed(e)) return e;
        return bind_to<slot_kind_writer>(detail::create_slot_segment(name, Kind::id, d.slots, &d.meta, options), true);
    }
    // Becomes the writer of an existing segment (busy while another writer lives).
    static result<slot_kind_writer> open(const char* name, const segment_options& options = {}) noexcept {
        return bind_to<slot_kind_writer>(
            segment::open(name, Kind::id, slot_kind_header_size, os::access::read_write, options), false);
    }
    // Caller-given memory (64-byte aligned; page-aligned with config.page_aligned) of exactly
    // segment_size(config) bytes: a published segment with this description, whose writer
    // role the handle then holds.
    static result<slot_kind_writer> format(void* memory, std::uint64_t size, const config_type& config) noexcept {
        const slot_description<meta_type> d = Kind::describe(config);
        if (const errc e = refusal(d); failed(e)) return e;
        const errc e = detail::format_slot_memory(memory, size, Kind::id, d.slots, &d.meta);
        if (failed(e)) return e;
        return attach(memory, size);
    }
    // Caller-given memory (64-byte aligned) that holds a published segment of this kind, such
    // as one mapped from a DMA buffer: validated like a named one.
    static result<slot_kind_writer> attach(void* memory, std::uint64_t size) noexcept {
        return bind_to<slot_kind_writer>(memory, size, false);
    }
    // Bytes a segment with this configuration occupies; 0 for one create() would refuse.
    static std::uint64_t segment_size(const config_type& config) noexcept {
        const slot_description<meta_type> d = Kind::describe(config);
        if (failed(refusal(d))) return 0;
        std::uint64_t data_offset;
        std::uint32_t alignment;
        return detail::slot_segment_size(d.slots, &data_offset, &alignment);
    }

private:
    friend handle;
    static errc refusal(const slot_description<meta_type>& d) noexcept {
        if (failed(d.error)) return d.error;
        return failed(Kind::check(d.meta, d.slots.slot_capacity)) ? errc::invalid_argument : errc::ok;
    }
    // The one binding step of create, open and attach (through bind_to).
    errc bind(std::uint8_t* base, std::uint64_t size, bool role_claimed) noexcept {
        detail::slot_layout l;
        const errc e = detail::map_kind<Kind>(base, size, &l, &meta_);
        if (failed(e)) return e;
        return bind_layout(l, role_claimed);
    }

    meta_type meta_{};
};

template <class Kind>
class slot_kind_reader : public slot_reader, public Kind::reader_calls {
public:
    using meta_type = typename Kind::meta;
    using options_type = typename Kind::reader_options;

    const meta_type& description() const noexcept { return meta_; }

    // A reader of a named segment of this kind; refused if it is not what options ask for.
    static result<slot_kind_reader> open(const char* name, const options_type& options = {}) noexcept {
        return bind_to<slot_kind_reader>(segment::open(name, Kind::id, slot_kind_header_size,
                                                       options.read_only ? os::access::read_only : os::access::read_write,
                                                       options.segment),
                                         options);
    }
    // The same over caller-given memory (64-byte aligned).
    static result<slot_kind_reader> attach(void* memory, std::uint64_t size, const options_type& options = {}) noexcept {
        return bind_to<slot_kind_reader>(memory, size, options);
    }

private:
    friend handle;
    // The one binding step of open and attach (through bind_to).
    errc bind(std::uint8_t* base, std::uint64_t size, const options_type& options) noexcept {
        detail::slot_layout l;
        errc e = detail::map_kind<Kind>(base, size, &l, &meta_);
        if (failed(e)) return e;
        e = Kind::accept(meta_, options);
        if (failed(e)) return e;
        return bind_layout(l, options);
    }

    meta_type meta_{};
};

}  // namespace shmkit
