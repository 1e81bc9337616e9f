#include "shmkit/block.hpp"

#include <cstring>

#include "shmkit/detail/role.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {
namespace {

constexpr std::uint64_t min_page = 4096;

std::uint64_t layout_page() noexcept {
    const std::uint64_t page = os::page_size();
    return page > min_page ? page : min_page;
}

std::uint64_t data_offset_for(std::uint32_t slots) noexcept {
    return round_up(block_slots_offset + std::uint64_t{slots} * sizeof(rwlock_slot), layout_page());
}

struct layout {
    block_geometry geometry{};  // a validated copy
    rwlock_state* state = nullptr;
    rwlock_slot* slots = nullptr;
};

errc map_layout(std::uint8_t* base, std::uint64_t size, layout* out) noexcept {
    if (!usable_memory(base)) return errc::invalid_argument;
    errc e = validate_header(base, size, static_cast<std::uint32_t>(kind::block), block_header_size);
    if (failed(e)) return e;
    const block_geometry c = geometry_snapshot<block_geometry>(base);
    bool reserved_clear = c.reserved0 == 0;
    for (int i = 0; i < 5; ++i) reserved_clear = reserved_clear && c.reserved1[i] == 0;
    if (!reserved_clear || c.slot_count == 0 || c.slot_count > block_max_slots || c.data_offset % min_page != 0 ||
        c.data_offset < block_slots_offset + std::uint64_t{c.slot_count} * sizeof(rwlock_slot) ||
        c.data_offset > size || c.data_size != size - c.data_offset || c.data_size == 0) {
        return errc::invalid_layout;
    }
    out->geometry = c;
    out->state = reinterpret_cast<rwlock_state*>(base + block_lock_offset);
    out->slots = reinterpret_cast<rwlock_slot*>(base + block_slots_offset);
    return errc::ok;
}

void format_geometry(std::uint8_t* base, const block_config& config) noexcept {
    auto* g = reinterpret_cast<block_geometry*>(base + geometry_offset);
    g->data_offset = data_offset_for(config.reader_slots);
    g->data_size = config.size;
    g->slot_count = config.reader_slots;
}

bool valid_config(const block_config& c) noexcept {
    return c.size != 0 && c.size <= max_segment_bytes && c.reader_slots != 0 && c.reader_slots <= block_max_slots;
}

}  // namespace

errc inspect_block(const void* base, std::uint64_t size, block_info* out) noexcept {
    layout l;
    const errc e = map_layout(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, &l);
    if (failed(e)) return e;
    out->data_offset = l.geometry.data_offset;
    out->data_size = l.geometry.data_size;
    out->slot_count = l.geometry.slot_count;
    out->recoveries = l.state->recoveries.load(order::relaxed);
    out->writer = inspect_role(l.state->writer);
    rwlock view(l.state, l.slots, l.geometry.slot_count, barriers_of(base));
    out->readers = view.readers();
    for (std::uint32_t i = 0; i < l.geometry.slot_count; ++i) {
        if (inspect_role(l.slots[i].owner).alive) ++out->slots_in_use;
    }
    return errc::ok;
}

void detail::block_state::drop() noexcept {
    if (has_slot_) lock_.release_slot(slot_, slot_owner_);
    has_slot_ = false;
    data_ = nullptr;
    size_ = 0;
    segment_.close();
}

std::uint64_t block::segment_size(const block_config& config) noexcept {
    if (!valid_config(config)) return 0;
    return data_offset_for(config.reader_slots) + config.size;
}

errc block::bind(std::uint8_t* base, std::uint64_t size, const block_options& options, bool lock_writable,
                 bool data_writable) noexcept {
    layout l;
    errc e = map_layout(base, size, &l);
    if (failed(e)) return e;
    lock_ = rwlock(l.state, l.slots, l.geometry.slot_count, barriers_of(base));
    if (lock_writable) {
        e = lock_.claim_slot(&slot_, &slot_owner_);
        if (failed(e)) return e;
        has_slot_ = true;
    }
    data_ = base + l.geometry.data_offset;
    size_ = static_cast<std::size_t>(l.geometry.data_size);
    writable_ = data_writable;
    lock_options_ = options.lock;
    return errc::ok;
}

result<block> block::create(const char* name, const block_config& config, const block_options& options) noexcept {
    if (!valid_config(config)) return errc::invalid_argument;
    auto s = segment::create(name, kind::block, block_header_size, segment_size(config), options.segment);
    if (!s) return s.error();
    format_geometry(s->base(), config);
    if (const errc published = s->publish(); failed(published)) return published;
    return bind_to<block>(std::move(s), options, true, true);
}

result<block> block::open(const char* name, const block_options& options) noexcept {
    const bool read_only = options.access == os::access::read_only;
    // Even a read-only handle opens read-write if it may, to take locks: only its data pages
    // are then made read-only.
    auto s = segment::open(name, kind::block, block_header_size, os::access::read_write, options.segment);
    bool lock_writable = true;
    if (!s && s.error() == errc::access_denied && read_only) {
        s = segment::open(name, kind::block, block_header_size, os::access::read_only, options.segment);
        lock_writable = false;
    }
    auto b = bind_to<block>(std::move(s), options, lock_writable, !read_only);
    if (b && read_only && lock_writable) {
        const std::uint64_t offset = static_cast<std::uint64_t>(b->data_ - b->segment_.base());
        if (offset % os::page_size() == 0) {
            const errc e = os::protect_read_only(b->data_, b->size_);
            if (failed(e)) return e;
        }
    }
    return b;
}

result<block> block::open_or_create(const char* name, const block_config& config,
                                    const block_options& options) noexcept {
    if (!valid_config(config) || options.access != os::access::read_write || options.segment.replace_existing) {
        return errc::invalid_argument;
    }
    // Open first, so that a block that is there is used as it is, however it came to be there
    // (its creator may have exited: a stale block is still a block). Between a failed open and
    // a create, another process may create it (and even exit, leaving it stale: it must not be
    // replaced then either), or remove it: a few rounds settle it.
    block_options creating = options;
    creating.segment.replace_stale = false;
    errc e = errc::not_found;
    for (int round = 0; round < 4; ++round) {
        auto opened = open(name, options);
        if (opened) {
            if (opened->size() != config.size) return errc::size_mismatch;
            return opened;
        }
        if (opened.error() != errc::not_found) return opened.error();
        auto created = create(name, config, creating);
        if (created || created.error() != errc::already_exists) return created;
        e = created.error();
    }
    return e;
}

result<block> block::format(void* memory, std::uint64_t size, const block_config& config,
                            const block_options& options) noexcept {
    if (!valid_config(config) || !usable_memory(memory) ||
        size != segment_size(config)) {
        return errc::invalid_argument;
    }
    auto* base = static_cast<std::uint8_t*>(memory);
    std::memset(base, 0, data_offset_for(config.reader_slots));
    format_header(base, kind::block, block_header_size, size);
    format_geometry(base, config);
    publish_header(base);
    return attach(memory, size, options);
}

result<block> block::attach(void* memory, std::uint64_t size, const block_options& options) noexcept {
    return bind_to<block>(memory, size, options, true, options.access == os::access::read_write);
}

errc block::write_at(std::size_t offset, const void* src, std::size_t n) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!writable_) return errc::access_denied;
    if (offset > size_ || n > size_ - offset) return errc::out_of_range;
    if (n != 0) std::memcpy(data_ + offset, src, n);
    return errc::ok;
}

errc block::read_at(std::size_t offset, void* dst, std::size_t n) const noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (offset > size_ || n > size_ - offset) return errc::out_of_range;
    if (n != 0) std::memcpy(dst, data_ + offset, n);
    return errc::ok;
}

errc block::lock_shared(nanoseconds timeout) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!has_slot_) return errc::access_denied;
    if (slot_owner_ != this_process()) {
        // A handle inherited across fork: the slot is the parent's. Take one of our own.
        const errc e = lock_.claim_slot(&slot_, &slot_owner_);
        if (failed(e)) return e;
    }
    return lock_.lock_shared(slot_, deadline_after(timeout), lock_options_);
}

void block::unlock_shared() noexcept {
    if (!has_slot_) return;  // closed (its locks went with it), or never able to lock
    lock_.unlock_shared(slot_);
}

errc block::lock(nanoseconds timeout) noexcept {
    if (data_ == nullptr) return errc::not_open;
    if (!has_slot_) return errc::access_denied;
    return lock_.lock(deadline_after(timeout), lock_options_);
}

void block::unlock() noexcept {
    if (has_slot_) lock_.unlock();
}

void block::mark_consistent() noexcept {
    if (has_slot_) lock_.mark_consistent();
}

std::uint32_t block::reader_count() const noexcept { return data_ == nullptr ? 0 : lock_.readers(); }

bool block::is_write_locked() const noexcept { return data_ != nullptr && lock_.write_locked(); }

}  // namespace shmkit
