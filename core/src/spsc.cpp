#include "shmkit/detail/wait.hpp"
#include "shmkit/spsc.hpp"

#include <cstring>

#include "ring_segment.hpp"

namespace shmkit {
namespace {

using detail::plausible_span;

}  // namespace

errc inspect_spsc(const void* base, std::uint64_t size, spsc_info* out) noexcept {
    detail::ring_layout l;
    const errc e = detail::map_ring_layout(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, kind::spsc,
                                           spsc_ring_offset, &l);
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
    return errc::ok;
}

// ---- the shared part of both ends -------------------------------------------------------

namespace detail {

atomic_u64& spsc_end_state::role() const noexcept { return producer_side_ ? control_->producer : control_->consumer; }

void spsc_end_state::drop() noexcept {
    if (control_ == nullptr) return;
    release_role(role());
    control_ = nullptr;
    segment_.close();
}

errc spsc_end_state::bind_end(std::uint8_t* base, std::uint64_t size, bool producer_side, const spsc_options& options,
                              bool role_claimed) noexcept {
    ring_layout l;
    errc e = map_ring_layout(base, size, kind::spsc, spsc_ring_offset, &l);
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
    wait_ = options.wait;
    claimed_as_ = this_process();
    producer_side_ = producer_side;
    if (how == claim_kind::took_over) {
        (producer_side ? c->producer_takeovers : c->consumer_takeovers).fetch_add(1, order::relaxed);
    }
    return errc::ok;
}

result<segment> spsc_end_state::open_segment(const char* name, const spsc_options& options) noexcept {
    return segment::open(name, kind::spsc, ring_header_size, os::access::read_write, options.segment);
}

result<segment> spsc_end_state::create_segment(const char* name, const spsc_config& config, bool producer_side,
                                               const spsc_options& options) noexcept {
    auto s = create_ring_segment(name, kind::spsc, spsc_ring_offset, config.capacity, config.max_message,
                                 options.segment);
    if (!s) return s.error();
    // The creator holds its role from the moment the segment becomes visible.
    auto* c = reinterpret_cast<spsc_control*>(s->base() + ring_header_size);
    (producer_side ? c->producer : c->consumer).store(this_process(), order::relaxed);
    if (const errc published = s->publish(); failed(published)) return published;
    return s;
}

}  // namespace detail

// ---- producer --------------------------------------------------------------------------------

std::uint64_t spsc_producer::segment_size(const spsc_config& config) noexcept {
    return detail::ring_segment_size(spsc_ring_offset, config.capacity);
}

// Binds the producer end, then takes up its private state from the shared positions, finishing
// a publication that a dead producer left between its two publishing stores
// (byte_ring::settled_head).
errc spsc_producer::bind(std::uint8_t* base, std::uint64_t size, const spsc_options& options,
                         bool role_claimed) noexcept {
    const errc e = bind_end(base, size, /*producer_side=*/true, options, role_claimed);
    if (failed(e)) return e;
    next_seq_ = control_->pushed.load(order::acquire);
    head_ = control_->head.load(order::acquire);
    cached_tail_ = control_->tail.load(order::acquire);
    const std::uint64_t settled = ring_.settled_head(head_, next_seq_, max_message_);
    if (settled != head_ && settled - cached_tail_ <= ring_.capacity()) {
        head_ = settled;
        control_->head.store(settled, order::release);
    }
    return errc::ok;
}

result<spsc_producer> spsc_producer::create(const char* name, const spsc_config& config,
                                            const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(create_segment(name, config, true, options), options, true);
}

result<spsc_producer> spsc_producer::open(const char* name, const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(open_segment(name, options), options, false);
}

result<spsc_producer> spsc_producer::format(void* memory, std::uint64_t size, const spsc_config& config,
                                            const spsc_options& options) noexcept {
    const errc e = detail::format_ring_memory(memory, size, kind::spsc, spsc_ring_offset, config.max_message);
    if (failed(e)) return e;
    return attach(memory, size, options);
}

result<spsc_producer> spsc_producer::attach(void* memory, std::uint64_t size, const spsc_options& options) noexcept {
    return bind_to<spsc_producer>(memory, size, options, false);
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

errc spsc_producer::reserve_space(std::size_t size, std::uint64_t deadline_ns) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    SHMKIT_ASSERT(!reserved_);
    if (size > max_message_) return errc::message_too_large;
    const std::uint64_t span = record_span(size);
    const std::uint64_t pad = ring_.pad_before(head_, span);
    const std::uint64_t need = pad + span;
    const std::uint64_t capacity = ring_.capacity();
    if (capacity - (head_ - cached_tail_) < need) {
        // Acquire: the consumer has finished reading every record before the tail it stored.
        cached_tail_ = control_->tail.load(order::acquire);
        if (capacity - (head_ - cached_tail_) < need) {
            if (deadline_ns == 0) return errc::full;
            const errc e = wait_until(control_->space, barriers_,
                [&] {
                    cached_tail_ = control_->tail.load(order::acquire);
                    return capacity - (head_ - cached_tail_) >= need;
                },
                deadline_ns, wait_);
            if (failed(e)) return e;
        }
    }
    if (cached_tail_ > head_ || head_ - cached_tail_ > capacity) return errc::invalid_layout;  // corrupt tail
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

errc spsc_consumer::bind(std::uint8_t* base, std::uint64_t size, const spsc_options& options,
                         bool role_claimed) noexcept {
    const errc e = bind_end(base, size, /*producer_side=*/false, options, role_claimed);
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
    return bind_to<spsc_consumer>(create_segment(name, config, false, options), options, true);
}

result<spsc_consumer> spsc_consumer::open(const char* name, const spsc_options& options) noexcept {
    return bind_to<spsc_consumer>(open_segment(name, options), options, false);
}

result<spsc_consumer> spsc_consumer::attach(void* memory, std::uint64_t size, const spsc_options& options) noexcept {
    return bind_to<spsc_consumer>(memory, size, options, false);
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
        if (!poll()) return errc::empty;
        if (!plausible_span(tail_, cached_head_, ring_.capacity())) {
            return errc::invalid_layout;
        }
        const std::uint64_t offset = ring_.offset(tail_);
        const record_header h = ring_.load_header(offset);
        const std::uint64_t span = ring_.checked_span(tail_, h, max_message_);
        if (span == 0 || span > cached_head_ - tail_ ||
            (h.type != record_type::message && h.type != record_type::pad)) {
            return errc::invalid_layout;
        }
        if (expected_ != ~std::uint64_t{0} && h.seq != expected_) return errc::invalid_layout;
        if (h.type == record_type::pad) {
            tail_ += span;
            continue;  // the pad is consumed together with the message after it
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

result<message_view> spsc_consumer::peek(nanoseconds timeout) noexcept {
    return wait_for([this] { return try_peek(); }, [this] { return &control_->data; }, barriers_, [this] { return poll(); },
                    deadline_after(timeout), wait_);
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
                    [this] { return poll(); }, deadline_after(timeout), wait_);
}

select_source spsc_consumer::waitable() noexcept {
    if (control_ == nullptr) return {};
    return poll_source(control_->data, barriers_, this);
}

bool spsc_consumer::producer_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->producer).alive;
}

}  // namespace shmkit
