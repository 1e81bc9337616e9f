#include "shmkit/detail/wait.hpp"
#include "shmkit/spsc.hpp"

#include <cstring>

#include "lock_wait.hpp"
#include "ring_segment.hpp"

namespace shmkit {
namespace {

using detail::plausible_span;

}  // namespace

namespace {
// Where an end's control block ends: a channel's metadata line follows spsc's control block.
std::uint32_t control_end(kind k) noexcept { return k == kind::channel ? channel_metadata_offset : spsc_ring_offset; }
}  // namespace

namespace detail {
errc inspect_spsc_ring(const void* base, std::uint64_t size, kind k, spsc_info* out, ring_geometry* geometry) noexcept {
    detail::ring_layout l;
    const errc e = detail::map_ring_layout(static_cast<std::uint8_t*>(const_cast<void*>(base)), size,
                                           {k, control_end(k)}, &l);
    if (failed(e)) return e;
    const auto* c = reinterpret_cast<const spsc_control*>(l.control);
    out->capacity = l.geometry.capacity;
    out->max_message = l.geometry.max_message;
    out->head = c->head.load(order::acquire);
    out->tail = c->tail.load(order::acquire);
    out->pushed = c->pushed.load(order::relaxed);
    out->popped = c->popped.load(order::relaxed);
    out->producer_takeovers = c->producer_takeovers.load(order::relaxed);
    out->consumer_takeovers = c->consumer_takeovers.load(order::relaxed);
    out->producer = inspect_role(c->producer);
    out->consumer = inspect_role(c->consumer);
    if (geometry != nullptr) *geometry = l.geometry;
    return errc::ok;
}
}  // namespace detail

errc inspect_spsc(const void* base, std::uint64_t size, spsc_info* out) noexcept {
    return detail::inspect_spsc_ring(base, size, kind::spsc, out, nullptr);
}

// ---- the shared part of both ends -------------------------------------------------------

namespace detail {

atomic_u64& spsc_end_state::role() const noexcept { return producer_side_ ? control_->producer : control_->consumer; }
atomic_u64& spsc_end_state::peer_role() const noexcept {
    return producer_side_ ? control_->consumer : control_->producer;
}

void spsc_end_state::announce_role_change() noexcept {
    notify_all(control_->data, barriers_);
    notify_all(control_->space, barriers_);
}

void spsc_end_state::drop() noexcept {
    if (control_ == nullptr) return;
    release_role(role());
    if (settings_.liveness_period_ns != 0) announce_role_change();
    control_ = nullptr;
    segment_.close();
}

errc spsc_end_state::bind_end(std::uint8_t* base, std::uint64_t size, bool producer_side,
                              const spsc_end_settings& settings, bool role_claimed) noexcept {
    ring_layout l;
    errc e = map_ring_layout(base, size, {settings.k, control_end(settings.k)}, &l);
    if (failed(e)) return e;
    auto* c = reinterpret_cast<spsc_control*>(l.control);
    claim_kind how = claim_kind::fresh;
    atomic_u64& r = producer_side ? c->producer : c->consumer;
    if (!role_claimed) {
        e = claim_role(r, &how);
        if (failed(e)) return e;
    }
    const std::uint64_t head = c->head.load(order::acquire);
    const std::uint64_t tail = c->tail.load(order::acquire);
    if (!plausible_span(tail, head, l.ring.capacity())) {
        release_role(r);
        return errc::invalid_layout;
    }
    adopt(base, l);
    settings_ = settings;
    claimed_as_ = this_process();
    producer_side_ = producer_side;
    if (settings.k == kind::channel) {
        metadata_line_ = reinterpret_cast<channel_metadata_line*>(base + channel_metadata_line_offset);
        metadata_ = base + channel_metadata_offset;
        metadata_capacity_ = l.geometry.metadata_capacity;
    }
    if (how == claim_kind::took_over) {
        (producer_side ? c->producer_takeovers : c->consumer_takeovers).fetch_add(1, order::relaxed);
    }
    // Channels: the other end looks at its new peer. Any takeover: a peer asleep for room or data
    // that the dead holder stored but was killed before notifying looks again.
    if (settings.liveness_period_ns != 0 || how == claim_kind::took_over) announce_role_change();
    return errc::ok;
}

result<segment> spsc_end_state::open_segment(const char* name, kind k, const segment_options& options) noexcept {
    return segment::open(name, k, ring_header_size, os::access::read_write, options);
}

result<segment> spsc_end_state::create_segment(const char* name, kind k, const spsc_config& config,
                                               std::uint32_t metadata_capacity, bool producer_side,
                                               const segment_options& options) noexcept {
    auto s = create_ring_segment(name, {k, control_end(k), metadata_capacity}, config.capacity, config.max_message,
                                 options);
    if (!s) return s.error();
    // The creator holds its role from the moment the segment becomes visible.
    auto* c = reinterpret_cast<spsc_control*>(s->base() + ring_header_size);
    (producer_side ? c->producer : c->consumer).store(this_process(), order::relaxed);
    if (const errc published = s->publish(); failed(published)) return published;
    return s;
}

// An spsc end sleeps until ready() or the deadline: a dead peer's role is taken over by the
// next process to open that end, and the sleeper carries on with it.
//
// A channel end also ends its wait when the other end dies (peer_dead). A peer that dies never
// notifies, so the sleeper must look at it: first for at most one liveness period without more
// ado (the common case: the peer answers within it); after that, where the OS can watch a
// process's exit (wait_for_holder), the sleep stays idle until the peer exits, else it looks
// again once per period. A role that changes hands notifies both wait words
// (announce_role_change), so a sleeper that saw no peer, or a peer since replaced, looks again.
// A peer that closes its end cleanly is not dead: the sleeper waits for the next one. With no
// peer, the sleep is bounded by a period as well: a claimant killed between its claim and its
// notify would otherwise never wake us.
template <class Ready>
errc spsc_end_state::sleep_until(wait_word& w, Ready&& ready, std::uint64_t deadline_ns) noexcept {
    const std::uint64_t period = settings_.liveness_period_ns;
    if (period == 0) return wait_until(w, barriers_, ready, deadline_ns, settings_.wait);
    atomic_u64& peer = peer_role();
    bool first_period_over = false;
    lock_options o;
    o.liveness_period_ns = period;
    for (;;) {
        if (ready()) return errc::ok;
        const std::uint64_t holder = peer.load(order::acquire);
        const std::uint64_t now = os::monotonic_ns();
        // Looking at the peer costs a /proc read (OpenProcess on Windows), so a wait that may
        // last a whole period first sleeps without looking: a living peer usually answers
        // within it, and a dead one is still reported within the period. A wait whose deadline
        // comes sooner looks at once, so that a dead peer is never reported as a timeout.
        // The holder loaded, not the word again: one that closed its end meanwhile is not dead.
        const bool look = first_period_over || deadline_ns <= now || deadline_ns - now < period;
        if (holder != 0 && look && !os::process_alive(unpack_process(holder))) {
            // It may have published (or given room back) just before it died: that comes first.
            return ready() ? errc::ok : errc::peer_dead;
        }
        if (now >= deadline_ns) return errc::timeout;
        // Acquire: a changed holder is read again at the top of the loop.
        auto ready_or_new_peer = [&] { return ready() || peer.load(order::acquire) != holder; };
        errc e;
        if (holder == 0 || !first_period_over) {
            // No peer: a claim notifies us, but a claimant killed before its notify would not,
            // so this wait is bounded by a period too.
            first_period_over = holder != 0;
            e = wait_until(w, barriers_, ready_or_new_peer, look_again_at(now, deadline_ns, o), settings_.wait);
        } else {
            e = wait_for_holder(w, barriers_, holder, ready_or_new_peer, now, deadline_ns, o, settings_.wait);
        }
        if (e == errc::interrupted) return e;
    }
}

}  // namespace detail

// ---- producer --------------------------------------------------------------------------------

std::uint64_t spsc_producer::segment_size(const spsc_config& config) noexcept {
    return detail::ring_segment_size({kind::spsc, spsc_ring_offset}, config.capacity);
}

// Binds the producer end, then takes up its private state from the shared positions, finishing
// a publication that a dead producer left between its two publishing stores
// (byte_ring::settled_head).
errc spsc_producer::bind(std::uint8_t* base, std::uint64_t size, const detail::spsc_end_settings& settings,
                         bool role_claimed) noexcept {
    const errc e = bind_end(base, size, /*producer_side=*/true, settings, role_claimed);
    if (failed(e)) return e;
    next_seq_ = control_->pushed.load(order::acquire);
    head_ = control_->head.load(order::acquire);
    cached_tail_ = control_->tail.load(order::acquire);
    // Loaded again since bind_end checked them: a hostile process may have changed them.
    if (!plausible_span(cached_tail_, head_, ring_.capacity())) return errc::invalid_layout;
    const std::uint64_t settled = ring_.settled_head(head_, next_seq_, max_message_);
    if (settled != head_ && settled - cached_tail_ <= ring_.capacity()) {
        head_ = settled;
        control_->head.store(settled, order::release);
    }
    return errc::ok;
}

namespace {
detail::spsc_end_settings spsc_settings(const spsc_options& options) noexcept {
    detail::spsc_end_settings s;
    s.wait = options.wait;
    return s;
}
}  // namespace

result<spsc_producer> spsc_producer::create(const char* name, const spsc_config& config,
                                            const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(create_segment(name, kind::spsc, config, 0, true, options.segment),
                                  spsc_settings(options), true);
}

result<spsc_producer> spsc_producer::open(const char* name, const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(open_segment(name, kind::spsc, options.segment), spsc_settings(options), false);
}

result<spsc_producer> spsc_producer::format(void* memory, std::uint64_t size, const spsc_config& config,
                                            const spsc_options& options) noexcept {
    const errc e = detail::format_ring_memory(memory, size, {kind::spsc, spsc_ring_offset}, config.max_message);
    if (failed(e)) return e;
    return attach(memory, size, options);
}

result<spsc_producer> spsc_producer::attach(void* memory, std::uint64_t size, const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(memory, size, spsc_settings(options), false);
}

// Finishes a reservation (the producer's one finish function for the reservation type every
// writer shares): queues it, or gives it up (nothing was published).
void spsc_producer::finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept {
    auto& p = *static_cast<spsc_producer*>(r.writer_);
    if (publish) {
        p.publish(used);
    } else {
        p.reserved_ = false;
    }
}

errc spsc_producer::wait_for_room(std::uint64_t need, std::uint64_t deadline_ns) noexcept {
    const std::uint64_t capacity = ring_.capacity();
    // cached_tail_ came from shared memory: a corrupt one must not make room appear.
    if (cached_tail_ > head_ || head_ - cached_tail_ > capacity) return errc::invalid_layout;
    if (capacity - (head_ - cached_tail_) >= need) return errc::ok;
    // Acquire: the consumer has finished reading every record before the tail it stored.
    cached_tail_ = control_->tail.load(order::acquire);
    if (cached_tail_ > head_ || head_ - cached_tail_ > capacity) return errc::invalid_layout;  // corrupt tail
    if (capacity - (head_ - cached_tail_) >= need) return errc::ok;
    if (deadline_ns == 0) return errc::full;
    const errc e = sleep_until(control_->space,
        [&] {
            cached_tail_ = control_->tail.load(order::acquire);
            return capacity - (head_ - cached_tail_) >= need;
        },
        deadline_ns);
    if (failed(e)) return e;
    if (cached_tail_ > head_ || head_ - cached_tail_ > capacity) return errc::invalid_layout;
    return errc::ok;
}

errc spsc_producer::reserve_space(std::size_t size, std::uint64_t deadline_ns) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    SHMKIT_ASSERT(!reserved_);
    if (size > max_message_) return errc::message_too_large;
    const std::uint64_t span = record_span(size);
    std::uint64_t pad = ring_.pad_before(head_, span);
    if (pad + span > ring_.capacity()) {
        // A record of more than half the ring that does not fit before the end: it and its pad
        // never fit the ring together. The pad goes first, on its own, as soon as its bytes are
        // free; the record follows once the consumer has passed the pad, whose bytes the record
        // then reuses (the consumer stores tail as it skips a pad, so this never waits on a
        // consumer that waits for a message). Published like a message, with the sequence
        // number of the message after it, so the consumer checks it as it checks every pad.
        errc e = wait_for_room(pad, deadline_ns);
        if (failed(e)) return e;
        ring_.store_record(head_, record_type::pad, static_cast<std::uint32_t>(pad), next_seq_);
        head_ += pad;
        // Release: the pad header is complete before head counts it (settled_head does not
        // look at a lone pad: its sequence number is not pushed - 1, so a producer taking over
        // from one that died here writes the pad again).
        control_->head.store(head_, order::release);
        notify_all(control_->data, barriers_);
        pad = 0;
    }
    const errc e = wait_for_room(pad + span, deadline_ns);
    if (failed(e)) return e;
    reserved_ = true;
    reserved_pad_ = pad;
    return errc::ok;
}

result<reservation> spsc_producer::reserve_at(std::size_t size, std::uint64_t deadline_ns) noexcept {
    const errc e = reserve_space(size, deadline_ns);
    if (failed(e)) return e;
    return reservation(this, &finish, ring_.at(ring_.offset(head_ + reserved_pad_) + record_header_size), size,
                       claimed_as_);
}

void spsc_producer::publish(std::size_t used) noexcept {
    const std::uint64_t record_pos = head_ + reserved_pad_;
    ring_.store_message(head_, record_pos, used, next_seq_);
    ++next_seq_;
    head_ = record_pos + record_span(used);
    reserved_ = false;
    // Release, in this order (see byte_ring::settled_head): the record is complete before the
    // sequence number counts it, and before head lets the consumer read it.
    control_->pushed.store(next_seq_, order::release);
    control_->head.store(head_, order::release);
    notify_all(control_->data, barriers_);
}

namespace {
// reserve_at's deadline for a call that waits (0 there means "do not wait").
std::uint64_t waiting_deadline(nanoseconds timeout) noexcept {
    const std::uint64_t deadline = deadline_after(timeout);
    return deadline == 0 ? 1 : deadline;
}
}  // namespace

errc spsc_producer::push_at(const void* data, std::size_t size, std::uint64_t deadline_ns) noexcept {
    const errc e = reserve_space(size, deadline_ns);
    if (failed(e)) return e;
    copy_to_record(ring_.at(ring_.offset(head_ + reserved_pad_) + record_header_size), data, size);
    publish(size);
    return errc::ok;
}

errc spsc_producer::try_push(const void* data, std::size_t size) noexcept { return push_at(data, size, 0); }

errc spsc_producer::push(const void* data, std::size_t size, nanoseconds timeout) noexcept {
    return push_at(data, size, waiting_deadline(timeout));
}

result<reservation> spsc_producer::try_reserve(std::size_t size) noexcept { return reserve_at(size, 0); }

result<reservation> spsc_producer::reserve(std::size_t size, nanoseconds timeout) noexcept {
    return reserve_at(size, waiting_deadline(timeout));
}

bool spsc_producer::consumer_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->consumer).alive;
}

// ---- consumer --------------------------------------------------------------------------------

errc spsc_consumer::bind(std::uint8_t* base, std::uint64_t size, const detail::spsc_end_settings& settings,
                         bool role_claimed) noexcept {
    const errc e = bind_end(base, size, /*producer_side=*/false, settings, role_claimed);
    if (failed(e)) return e;
    tail_ = control_->tail.load(order::acquire);
    cached_head_ = tail_;
    // The sequence number to expect is taken from the first record: a consumer that died
    // after reading a message but before storing tail leaves it to be delivered again.
    expected_ = ~std::uint64_t{0};
    return errc::ok;
}

result<spsc_consumer> spsc_consumer::create(const char* name, const spsc_config& config,
                                            const spsc_options& options) noexcept {
    return bind_to<spsc_consumer>(create_segment(name, kind::spsc, config, 0, false, options.segment),
                                  spsc_settings(options), true);
}

result<spsc_consumer> spsc_consumer::open(const char* name, const spsc_options& options) noexcept {
    return bind_to<spsc_consumer>(open_segment(name, kind::spsc, options.segment), spsc_settings(options), false);
}

result<spsc_consumer> spsc_consumer::attach(void* memory, std::uint64_t size, const spsc_options& options) noexcept {
    return bind_to<spsc_consumer>(memory, size, spsc_settings(options), false);
}

bool spsc_consumer::poll() noexcept {
    if (control_ == nullptr) return false;
    if (cached_head_ != tail_) return true;
    // Acquire: every record before the head the producer stored is complete.
    cached_head_ = control_->head.load(order::acquire);
    return cached_head_ != tail_;
}

// Locates the next message (skipping pads) without consuming it.
errc spsc_consumer::next(message_view* out) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    for (;;) {
        const std::uint64_t offset = ring_.offset(tail_);
        if (cached_head_ == tail_) {
            // A consumer that has caught up would take two cache misses one after the other
            // once a record arrives: head's line, then the record's. Prefetching the record's
            // line first lets the two miss together. Only a prefetch: the header itself must be
            // read after head (below), because one read earlier may be a header that a producer
            // wrote before it died, which its successor replaced at the same place with the same
            // lap and sequence number but another size.
            prefetch(ring_.at(offset));
            if (!poll()) return errc::empty;
        }
        if (!plausible_span(tail_, cached_head_, ring_.capacity())) {
            return errc::invalid_layout;
        }
        const record_header h = ring_.load_header(offset);
        const std::uint64_t span = ring_.checked_span(tail_, h, max_message_);
        if (span == 0 || span > cached_head_ - tail_ ||
            (h.type != record_type::message && h.type != record_type::pad)) {
            return errc::invalid_layout;
        }
        if (expected_ != ~std::uint64_t{0} && h.seq != expected_) return errc::invalid_layout;
        if (h.type == record_type::pad) {
            // Consumed at once: a producer writing a record of more than half the ring waits
            // for the pad's bytes (reserve_space) before it writes the message after it.
            // Release: nothing was read from the pad but its header.
            tail_ += span;
            control_->tail.store(tail_, order::release);
            notify_all(control_->space, barriers_);
            continue;
        }
        out->data = ring_.at(offset + record_header_size);
        out->size = h.size;
        out->seq = h.seq;
        peeked_span_ = span;
        return errc::ok;
    }
}

void spsc_consumer::release() noexcept {
    // Closed (the peeked message went with the mapping), or another process (nothing was peeked).
    if (control_ == nullptr || !claimed_by_this_process(claimed_as_)) return;
    consume_peeked();
}

void spsc_consumer::consume_peeked() noexcept {
    SHMKIT_ASSERT(peeked_span_ != 0);  // release() without a peeked message
    tail_ += peeked_span_;
    peeked_span_ = 0;
    ++expected_;
    // Statistics: only the consumer writes `popped`, so a plain atomic store will do.
    control_->popped.store(control_->popped.load(order::relaxed) + 1, order::relaxed);
    // Release: we are done reading the record before the producer may overwrite it.
    control_->tail.store(tail_, order::release);
    notify_all(control_->space, barriers_);
}

result<message_view> spsc_consumer::try_peek() noexcept {
    message_view v;
    const errc e = next(&v);
    if (failed(e)) return e;
    expected_ = v.seq;
    return v;
}

result<message_view> spsc_consumer::peek_until(std::uint64_t deadline_ns) noexcept {
    for (;;) {
        auto r = try_peek();
        if (r.ok() || r.error() != errc::empty) return r;
        if (deadline_ns == no_wait) return errc::timeout;
        const errc e = sleep_until(control_->data, [this] { return poll(); }, deadline_ns);
        if (failed(e)) return e;
    }
}

result<message_view> spsc_consumer::peek(nanoseconds timeout) noexcept {
    return wait_for([this] { return try_peek(); }, [this] { return &control_->data; }, barriers_, [this] { return poll(); },
                    deadline_after(timeout), settings_.wait);
}

result<message_info> spsc_consumer::try_pop(void* buffer, std::size_t capacity) noexcept {
    auto v = try_peek();
    if (!v) return v.error();
    if (v->size > capacity) {
        pending_size_ = v->size;
        peeked_span_ = 0;
        return errc::message_too_large;
    }
    copy_from_record(buffer, v->data, v->size);
    const message_info info{v->size, v->seq};
    consume_peeked();  // try_peek() made the process check
    return info;
}

result<message_info> spsc_consumer::pop(void* buffer, std::size_t capacity, nanoseconds timeout) noexcept {
    return wait_for([&] { return try_pop(buffer, capacity); }, [this] { return &control_->data; }, barriers_,
                    [this] { return poll(); }, deadline_after(timeout), settings_.wait);
}

select_source spsc_consumer::waitable() noexcept {
    if (control_ == nullptr) return {};
    return poll_source(control_->data, barriers_, this);
}

bool spsc_consumer::producer_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->producer).alive;
}

}  // namespace shmkit
