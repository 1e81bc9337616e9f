#include "shmkit/slot_ring.hpp"

#include <cstring>

#include "shmkit/detail/copy.hpp"
#include "shmkit/detail/sanitizers.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {
namespace {

// A reader retries a latest() copy this often before reporting stale: the writer would have
// to lap the whole ring this many times while one sample is copied.
constexpr int max_attempts = 16;

// The oldest of `committed` samples still intact: the writer may be writing sample `committed`
// right now, over sample committed - slot_count, so only the slot_count - 1 before it are kept.
constexpr std::uint64_t oldest_intact(std::uint64_t committed, std::uint64_t slot_count) noexcept {
    const std::uint64_t kept = slot_count - 1;
    return committed > kept ? committed - kept : 0;
}

std::uint64_t even(std::uint64_t index) noexcept { return 2 * index + 2; }
std::uint64_t odd(std::uint64_t index) noexcept { return 2 * index + 1; }

bool power_of_two(std::uint64_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

bool sample_view::valid() const noexcept {
    if (header == nullptr) return false;
    // Acquire fence: orders the caller's reads of the data before this re-check. If any of them
    // saw bytes of a newer sample, the writer's odd mark (stored before them, then a release
    // fence) is visible here, and the check fails.
    fence(order::acquire);
    return header->seq.load(order::relaxed) == seq;
}

namespace detail {

std::uint64_t slot_segment_size(const slot_config& config, std::uint64_t* data_offset, std::uint32_t* alignment) noexcept {
    *data_offset = 0;
    *alignment = 0;
    // Bounded first, so the products below are exact.
    if (config.slots < 2 || config.slots > max_slot_count || config.slot_capacity == 0 ||
        config.slot_capacity > max_segment_bytes) {
        return 0;
    }
    std::uint64_t align = 64;
    if (config.page_aligned) {
        align = os::page_size();
        if (align < 4096) align = 4096;
    }
    const std::uint64_t stride = round_up(config.slot_capacity == 0 ? 1 : config.slot_capacity, align);
    const std::uint64_t offset = round_up(slot_headers_offset + config.slots * sizeof(slot_header), align);
    if (stride > (max_segment_bytes - offset) / config.slots) return 0;
    *data_offset = offset;
    *alignment = static_cast<std::uint32_t>(align);
    return offset + config.slots * stride;
}

errc map_slot_layout(std::uint8_t* base, std::uint64_t size, kind k, slot_layout* out) noexcept {
    if (!usable_memory(base)) return errc::invalid_argument;
    errc e = validate_header(base, size, static_cast<std::uint32_t>(k), slot_kind_header_size);
    if (failed(e)) return e;
    const slot_geometry c = geometry_snapshot<slot_geometry>(base);
    const bool reserved_clear = c.reserved0 == 0 && c.reserved1[0] == 0 && c.reserved1[1] == 0;
    if (!reserved_clear || c.slot_count < 2 || c.slot_count > max_slot_count || c.slot_capacity == 0 ||
        !power_of_two(c.alignment) || c.alignment < 64 || c.alignment > (1u << 21) ||
        c.headers_offset != slot_headers_offset || c.data_offset % c.alignment != 0 ||
        c.data_offset < slot_headers_offset + c.slot_count * sizeof(slot_header) || c.data_offset > size ||
        c.slot_stride % c.alignment != 0 || c.slot_stride < c.slot_capacity ||
        (size - c.data_offset) / c.slot_count != c.slot_stride || (size - c.data_offset) % c.slot_count != 0) {
        return errc::invalid_layout;
    }
    out->geometry = c;
    out->control = reinterpret_cast<slot_control*>(base + slot_control_offset);
    out->headers = reinterpret_cast<slot_header*>(base + slot_headers_offset);
    out->data = base + c.data_offset;
    out->kind_meta = base + slot_kind_meta_offset;
    out->barriers = barriers_of(base);
    return errc::ok;
}

result<segment> create_slot_segment(const char* name, kind k, const slot_config& config, const void* meta,
                                    const segment_options& options) noexcept {
    std::uint64_t data_offset;
    std::uint32_t alignment;
    const std::uint64_t size = slot_segment_size(config, &data_offset, &alignment);
    if (size == 0) return errc::invalid_argument;
    auto s = segment::create(name, k, slot_kind_header_size, size, options);
    if (!s) return s.error();
    format_slot_layout(s->base(), size, config, data_offset, alignment, meta);
    // The creator holds the writer role from the moment the segment becomes visible.
    reinterpret_cast<slot_control*>(s->base() + slot_control_offset)->writer.store(this_process(), order::relaxed);
    if (const errc published = s->publish(); failed(published)) return published;
    return s;
}

void format_slot_layout(std::uint8_t* base, std::uint64_t size, const slot_config& config, std::uint64_t data_offset,
                        std::uint32_t alignment, const void* meta) noexcept {
    auto* g = reinterpret_cast<slot_geometry*>(base + geometry_offset);
    g->slot_count = config.slots;
    g->slot_capacity = config.slot_capacity;
    g->slot_stride = (size - data_offset) / config.slots;
    g->headers_offset = slot_headers_offset;
    g->data_offset = data_offset;
    g->alignment = alignment;
    std::memcpy(base + slot_kind_meta_offset, meta, slot_kind_header_size - slot_kind_meta_offset);
    reinterpret_cast<slot_control*>(base + slot_control_offset)->heartbeat_ns.store(os::monotonic_ns(), order::relaxed);
}

errc format_slot_memory(void* memory, std::uint64_t size, kind k, const slot_config& config, const void* meta) noexcept {
    std::uint64_t data_offset;
    std::uint32_t alignment;
    if (!usable_memory(memory) ||
        size != slot_segment_size(config, &data_offset, &alignment) || size == 0) {
        return errc::invalid_argument;
    }
    auto* base = static_cast<std::uint8_t*>(memory);
    // Header, control and slot headers start at zero (slot sequence 0: never written); the
    // data need not, nothing is read from a slot before it is written.
    std::memset(base, 0, data_offset);
    format_header(base, k, slot_kind_header_size, size);
    format_slot_layout(base, size, config, data_offset, alignment, meta);
    publish_header(base);
    return errc::ok;
}

errc inspect_slots(const void* base, std::uint64_t size, kind k, slot_info* out) noexcept {
    slot_layout l;
    const errc e = map_slot_layout(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, k, &l);
    if (failed(e)) return e;
    out->slots = l.geometry.slot_count;
    out->slot_capacity = l.geometry.slot_capacity;
    out->committed = l.control->committed.load(order::acquire);
    out->takeovers = l.control->takeovers.load(order::relaxed);
    out->abandoned = l.control->abandoned.load(order::relaxed);
    const std::uint64_t beat = l.control->heartbeat_ns.load(order::relaxed);
    const std::uint64_t now = os::monotonic_ns();
    out->heartbeat_age_ns = now > beat ? now - beat : 0;
    out->writer = inspect_role(l.control->writer);
    return errc::ok;
}

}  // namespace detail

// ---- writer --------------------------------------------------------------------------------

// Finishes a reservation (the writer's one finish function for the reservation type every
// writer shares): publishes the sample with its meta words, or gives the slot up.
void slot_writer::finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept {
    auto& w = *static_cast<slot_writer*>(r.writer_);
    if (publish) {
        w.publish(r.index_, used, r.meta);
    } else if (claimed_by_this_process(w.claimed_as_)) {
        w.abandon(r.index_);
    } else {
        // In a child that inherited it across fork() the reservation is the parent's: only this
        // process's copy of the writer forgets it, the shared state is left alone.
        w.reserved_ = false;
    }
}

void detail::slot_writer_state::drop() noexcept {
    if (control_ == nullptr) return;
    // A live reservation would point at a closed writer, unless it is a parent's that this
    // process inherited across fork() (then neither it nor this close touches shared state).
    SHMKIT_ASSERT(!reserved_ || !claimed_by_this_process(claimed_as_));
    release_role(control_->writer);
    control_ = nullptr;
    segment_.close();
}

errc slot_writer::bind_layout(const detail::slot_layout& l, bool role_claimed) noexcept {
    claim_kind how = claim_kind::fresh;
    if (!role_claimed) {
        const errc e = claim_role(l.control->writer, &how);
        if (failed(e)) return e;
    }
    adopt(l);
    claimed_as_ = this_process();
    next_ = control_->committed.load(order::acquire);
    if (how == claim_kind::took_over) {
        // A dead writer that finished sample next_ (even sequence stored) but died before
        // counting it: publish it rather than overwrite it.
        slot_header& h = headers_[next_ % geometry_.slot_count];
        if (h.seq.load(order::acquire) == even(next_)) {
            ++next_;
            control_->committed.store(next_, order::release);
        }
        control_->takeovers.fetch_add(1, order::relaxed);
        notify_all(control_->wake, barriers_);
    }
    control_->heartbeat_ns.store(os::monotonic_ns(), order::relaxed);
    // Release fence: our first stores into a slot come after the state the previous writer
    // left, for the readers' fence pairing (as in broadcast).
    fence(order::release);
    return errc::ok;
}

result<reservation> slot_writer::reserve() noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    const std::uint64_t index = reserve_slot();
    reservation r(this, &finish, data_ + (index % geometry_.slot_count) * geometry_.slot_stride,
                  static_cast<std::size_t>(geometry_.slot_capacity), claimed_as_);
    r.index_ = index;
    return r;
}

std::uint64_t slot_writer::reserve_slot() noexcept {
    SHMKIT_ASSERT(!reserved_);  // one reservation at a time
    const std::uint64_t index = next_;
    const std::uint64_t slot = index % geometry_.slot_count;
    headers_[slot].seq.store(odd(index), order::relaxed);
    // Release fence: the odd mark is ordered before every store into the slot (ours or the
    // application's, through the reservation). A reader whose loads saw any of them, followed
    // by its acquire fence, sees the odd mark on its re-check and discards what it read.
    fence(order::release);
    reserved_ = true;
    return index;
}

void slot_writer::publish(std::uint64_t index, std::size_t used, const std::uint64_t* meta) noexcept {
    slot_header& h = headers_[index % geometry_.slot_count];
    const std::uint64_t now = os::monotonic_ns();
    h.size.store(used, order::relaxed);
    h.timestamp_ns.store(now, order::relaxed);
    for (std::size_t i = 0; i < slot_meta_words; ++i) h.meta[i].store(meta ? meta[i] : 0, order::relaxed);
    // Release: the sample (data and header fields) is complete before the even mark says so.
    h.seq.store(even(index), order::release);
    next_ = index + 1;
    reserved_ = false;
    // Release: a reader that sees the new count (acquire) sees the even mark.
    control_->committed.store(next_, order::release);
    control_->heartbeat_ns.store(now, order::relaxed);
    notify_all(control_->wake, barriers_);
}

void slot_writer::abandon(std::uint64_t index) noexcept {
    // The slot's previous sample may already be partly overwritten: the slot holds nothing now.
    headers_[index % geometry_.slot_count].seq.store(0, order::release);
    reserved_ = false;
    control_->abandoned.fetch_add(1, order::relaxed);
}

errc slot_writer::write(const void* data, std::size_t size, const std::uint64_t* meta) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (size > geometry_.slot_capacity) return errc::message_too_large;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    const std::uint64_t index = reserve_slot();
    copy_to_shared(data_ + (index % geometry_.slot_count) * geometry_.slot_stride, data, size);
    publish(index, size, meta);
    return errc::ok;
}

void slot_writer::heartbeat() noexcept {
    if (control_ != nullptr && claimed_by_this_process(claimed_as_)) control_->heartbeat_ns.store(os::monotonic_ns(), order::relaxed);
}

// ---- reader --------------------------------------------------------------------------------

errc slot_reader::bind_layout(const detail::slot_layout& l, const slot_reader_options& options) noexcept {
    if (options.from_oldest && options.from_newest) return errc::invalid_argument;
    adopt(l);
    wait_ = options.wait;
    const std::uint64_t committed = control_->committed.load(order::acquire);
    if (options.from_oldest) {
        next_ = oldest_intact(committed, geometry_.slot_count);
    } else if (options.from_newest && committed > 0) {
        next_ = committed - 1;
    } else {
        next_ = committed;
    }
    return errc::ok;
}

errc slot_reader::read_view(std::uint64_t index, sample_view* out) const noexcept {
    const slot_header& h = headers_[index % geometry_.slot_count];
    // Acquire: pairs with the writer's release of the even mark: the sample is complete.
    const std::uint64_t seq = h.seq.load(order::acquire);
    if (seq != even(index)) return errc::stale;  // not this sample any more (or not yet)
    SHMKIT_SPECULATIVE_READ_BEGIN();
    out->info.size = h.size.load(order::relaxed);
    out->info.timestamp_ns = h.timestamp_ns.load(order::relaxed);
    for (std::size_t i = 0; i < slot_meta_words; ++i) out->info.meta[i] = h.meta[i].load(order::relaxed);
    SHMKIT_SPECULATIVE_READ_END();
    out->info.index = index;
    out->data = data_ + (index % geometry_.slot_count) * geometry_.slot_stride;
    out->header = &h;
    out->seq = seq;
    if (out->info.size > geometry_.slot_capacity) {
        // Either torn (the writer has moved on) or corrupt: the re-check tells which.
        return out->valid() ? errc::invalid_layout : errc::stale;
    }
    return errc::ok;
}

errc slot_reader::copy_sample(std::uint64_t index, void* buffer, std::size_t capacity, sample_info* out) noexcept {
    sample_view v;
    const errc e = read_view(index, &v);
    if (failed(e)) return e;
    if (v.info.size > capacity) {
        pending_size_ = v.info.size;
        return errc::message_too_large;
    }
    copy_from_shared(buffer, v.data, static_cast<std::size_t>(v.info.size));
    if (!v.valid()) return errc::stale;  // overwritten while we copied: discard
    *out = v.info;
    return errc::ok;
}

void slot_reader::skip_lost(std::uint64_t count, bool lapped) noexcept {
    unreported_ += count;
    total_lost_ += count;
    if (lapped) ++overruns_;
    next_ += count;
}

namespace {
sample_info& info_of(sample_info& s) noexcept { return s; }
sample_info& info_of(sample_view& s) noexcept { return s.info; }
}  // namespace

// The loop behind latest() and view_latest(). `read(index, &sample)` returns stale when the
// writer overwrote the sample meanwhile; the newest is then tried again, a bounded number of times.
template <class Sample, class Read>
result<Sample> slot_reader::read_latest(Read read) noexcept {
    if (control_ == nullptr) return errc::not_open;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t committed = control_->committed.load(order::acquire);
        if (committed == 0) return errc::empty;
        Sample sample;
        const errc e = read(committed - 1, &sample);
        if (e == errc::ok) {
            last_seen_ = committed;
            return sample;
        }
        if (e != errc::stale) return e;
    }
    return errc::stale;
}

// The loop behind try_next() (and so next()) and view_next(). A lap is not an error: the reader moves to the oldest
// sample kept and reads it in the same call, reporting how many were lost before it.
template <class Sample, class Read>
result<Sample> slot_reader::read_next(Read read) noexcept {
    if (control_ == nullptr) return errc::not_open;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t committed = control_->committed.load(order::acquire);
        if (next_ >= committed) return errc::empty;
        const std::uint64_t oldest = oldest_intact(committed, geometry_.slot_count);
        if (next_ < oldest) {
            skip_lost(oldest - next_, true);
            continue;
        }
        Sample sample;
        const errc e = read(next_, &sample);
        if (e == errc::ok) {
            ++next_;
            lost_ = unreported_;  // private state only: the fast path touches no more shared memory
            unreported_ = 0;
            info_of(sample).lost = lost_;
            return sample;
        }
        if (e != errc::stale) return e;
        // Committed, yet not readable. The slot's mark says why: 0 is a reservation of that slot
        // the writer dropped, which destroyed the sample (lost, not a lap); anything else is a
        // later sample's mark, a lap, which the next attempt's committed count measures. (A
        // second load of `committed` here could not tell them apart: the writer's later odd mark
        // is not ordered after its committed store, so that load may still show the old count.)
        if (headers_[next_ % geometry_.slot_count].seq.load(order::relaxed) == 0) skip_lost(1, false);
    }
    // Lapped on every attempt (a ring far too small for the rate); what was lost stays counted
    // for the next sample returned.
    return errc::stale;
}

result<sample_info> slot_reader::latest(void* buffer, std::size_t capacity) noexcept {
    return read_latest<sample_info>(
        [&](std::uint64_t index, sample_info* out) { return copy_sample(index, buffer, capacity, out); });
}

result<sample_info> slot_reader::try_next(void* buffer, std::size_t capacity) noexcept {
    return read_next<sample_info>(
        [&](std::uint64_t index, sample_info* out) { return copy_sample(index, buffer, capacity, out); });
}

result<sample_view> slot_reader::view_latest() noexcept {
    return read_latest<sample_view>([this](std::uint64_t index, sample_view* out) { return read_view(index, out); });
}

result<sample_view> slot_reader::view_next() noexcept {
    return read_next<sample_view>([this](std::uint64_t index, sample_view* out) { return read_view(index, out); });
}

bool slot_reader::poll() const noexcept {
    return control_ != nullptr && control_->committed.load(order::acquire) > next_;
}

bool slot_reader::fresh() const noexcept {
    return control_ != nullptr && control_->committed.load(order::acquire) > last_seen_;
}

result<sample_info> slot_reader::next(void* buffer, std::size_t capacity, nanoseconds timeout) noexcept {
    return wait_for([&] { return try_next(buffer, capacity); }, [this] { return &control_->wake; }, barriers_,
                    [this] { return poll(); }, deadline_after(timeout), wait_, [this] { return segment_.sleep_refusal(); });
}

result<sample_info> slot_reader::wait_latest(void* buffer, std::size_t capacity, nanoseconds timeout) noexcept {
    const auto attempt = [&]() -> result<sample_info> {
        if (control_ == nullptr) return errc::not_open;
        if (!fresh()) return errc::empty;  // nothing newer than the last sample this reader saw
        return latest(buffer, capacity);
    };
    return wait_for(attempt, [this] { return &control_->wake; }, barriers_, [this] { return fresh(); },
                    deadline_after(timeout), wait_, [this] { return segment_.sleep_refusal(); });
}

select_source slot_reader::waitable() noexcept {
    if (control_ == nullptr) return {};
    select_source source = poll_source(control_->wake, barriers_, this);
    source.refusal = segment_.sleep_refusal();
    return source;
}

bool slot_reader::writer_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->writer).alive;
}

std::uint64_t slot_reader::heartbeat_age_ns() const noexcept {
    if (control_ == nullptr) return 0;
    const std::uint64_t beat = control_->heartbeat_ns.load(order::relaxed);
    const std::uint64_t now = os::monotonic_ns();
    return now > beat ? now - beat : 0;
}

}  // namespace shmkit
