#include "shmkit/command.hpp"
#include "shmkit/detail/wait.hpp"

#include <cstring>

#include "ring_segment.hpp"

namespace shmkit {
namespace {

using detail::plausible_position;
using detail::plausible_span;

errc map_command(std::uint8_t* base, std::uint64_t size, detail::ring_layout* l) noexcept {
    return detail::map_ring_layout(base, size, {kind::command, command_ring_offset}, l);
}

}  // namespace

// ---- the shared part of writers and the reader -------------------------------------------

namespace detail {


result<segment> command_end_state::open_segment(const char* name, const command_options& options) noexcept {
    return segment::open(name, kind::command, ring_header_size, os::access::read_write, options.segment);
}

}  // namespace detail

errc inspect_command(const void* base, std::uint64_t size, command_info* out) noexcept {
    detail::ring_layout l;
    const errc e = map_command(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, &l);
    if (failed(e)) return e;
    const auto* c = reinterpret_cast<const command_control*>(l.control);
    out->capacity = l.geometry.capacity;
    out->max_message = l.geometry.max_message;
    out->head = c->head.load(order::acquire);
    out->tail = c->tail.load(order::acquire);
    out->claims = c->claims.load(order::relaxed);
    out->consumed = c->consumed.load(order::relaxed);
    out->abandoned = c->abandoned.load(order::relaxed);
    out->lock_recoveries = c->lock_recoveries.load(order::relaxed);
    out->reader_takeovers = c->reader_takeovers.load(order::relaxed);
    out->reader = inspect_role(c->reader);
    out->claim_lock = inspect_role(c->claim.owner);
    return errc::ok;
}

// ---- writer --------------------------------------------------------------------------------

// Finishes a reservation (the writer's one finish function for the reservation type every
// writer shares): commits the claim, or turns it into a skip record the reader steps over.
void command_writer::finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept {
    // In a child that inherited it across fork() the claim is the parent's: leave it be (commit
    // refuses that case before it gets here).
    if (!publish && !claimed_by_this_process(r.claimed_as_)) return;
    static_cast<command_writer*>(r.writer_)->finish_claim(r.position_, r.size_, used, publish);
}

errc command_writer::bind(std::uint8_t* base, std::uint64_t size, const command_options& options) noexcept {
    detail::ring_layout l;
    const errc e = map_command(base, size, &l);
    if (failed(e)) return e;
    adopt(base, l, options);
    return errc::ok;
}

result<command_writer> command_writer::open(const char* name, const command_options& options) noexcept {
    return bind_to<command_writer>(open_segment(name, options), options);
}

result<command_writer> command_writer::attach(void* memory, std::uint64_t size, const command_options& options) noexcept {
    return bind_to<command_writer>(memory, size, options);
}

errc command_writer::claim(std::size_t size, std::uint64_t deadline_ns, bool wait, std::uint64_t* claimed_pos) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (size > max_message_) return errc::message_too_large;
    const std::uint64_t span = record_span(size);
    const std::uint64_t capacity = ring_.capacity();
    const std::uint64_t me = this_process();
    for (;;) {
        errc e = detail::lock(control_->claim, barriers_, wait ? deadline_ns : 0, options_.lock);
        if (e == errc::owner_dead) {
            // The dead holder left every shared word in a consistent state (see SPEC.md):
            // nothing to repair, but count it.
            control_->lock_recoveries.fetch_add(1, order::relaxed);
        } else if (failed(e)) {
            return wait ? errc::timeout : e;
        }
        const std::uint64_t head = control_->head.load(order::relaxed);  // ours while we hold the lock
        // Acquire: the reader finished reading everything before the tail it stored.
        const std::uint64_t tail = control_->tail.load(order::acquire);
        if (!plausible_span(tail, head, capacity)) {
            detail::unlock(control_->claim, barriers_);
            return errc::invalid_layout;
        }
        const std::uint64_t pad = ring_.pad_before(head, span);
        if (capacity - (head - tail) >= pad + span) {
            const std::uint64_t pos = head + pad;
            // The claim header names this process, so the reader can tell when it has died.
            // Stored before head moves: a reader that sees the new head sees the claim.
            ring_.store_record(pos, record_type::claimed, static_cast<std::uint32_t>(size), me);
            if (pad != 0) ring_.store_record(head, record_type::pad, static_cast<std::uint32_t>(pad), 0);
            control_->head.store(pos + span, order::release);
            control_->claims.fetch_add(1, order::relaxed);
            detail::unlock(control_->claim, barriers_);
            *claimed_pos = pos;
            return errc::ok;
        }
        detail::unlock(control_->claim, barriers_);
        if (!wait) return errc::full;
        // Sleep until the reader frees space (tail moves), then claim again.
        e = wait_until(control_->space, barriers_, [&] { return control_->tail.load(order::acquire) != tail; }, deadline_ns,
                       options_.wait);
        if (failed(e)) return e;
    }
}

void command_writer::finish_claim(std::uint64_t pos, std::size_t reserved, std::size_t used, bool commit) noexcept {
    const std::uint64_t me = this_process();
    const std::uint64_t claimed_span = record_span(reserved);
    const std::uint64_t used_span = commit ? record_span(used) : claimed_span;
    if (used_span < claimed_span) {
        // Committed shorter than claimed: the rest of the claim becomes a skip record, stored
        // before the message so a reader that takes the message finds it.
        const std::uint64_t rest = pos + used_span;
        ring_.store_record(rest, record_type::skip,
                           static_cast<std::uint32_t>(claimed_span - used_span - record_header_size), me);
    }
    // Release (in store_record): the payload is complete before the reader can see `message`.
    ring_.store_record(pos, commit ? record_type::message : record_type::skip,
                       static_cast<std::uint32_t>(commit ? used : reserved), me);
    notify_all(control_->data, barriers_);
}

errc command_writer::write_at(const void* data, std::size_t size, std::uint64_t deadline_ns, bool wait) noexcept {
    std::uint64_t pos = 0;
    const errc e = claim(size, deadline_ns, wait, &pos);
    if (failed(e)) return e;
    copy_to_record(ring_.at(ring_.offset(pos) + record_header_size), data, size);
    finish_claim(pos, size, size, /*commit=*/true);
    return errc::ok;
}

errc command_writer::try_write(const void* data, std::size_t size) noexcept { return write_at(data, size, 0, false); }

errc command_writer::write(const void* data, std::size_t size, nanoseconds timeout) noexcept {
    return write_at(data, size, deadline_after(timeout), true);
}

result<reservation> command_writer::reserve_at(std::size_t size, std::uint64_t deadline_ns, bool wait) noexcept {
    std::uint64_t pos = 0;
    const errc e = claim(size, deadline_ns, wait, &pos);
    if (failed(e)) return e;
    reservation r(this, &finish, ring_.at(ring_.offset(pos) + record_header_size), size, this_process());
    r.position_ = pos;
    return r;
}

result<reservation> command_writer::try_reserve(std::size_t size) noexcept { return reserve_at(size, 0, false); }

result<reservation> command_writer::reserve(std::size_t size, nanoseconds timeout) noexcept {
    return reserve_at(size, deadline_after(timeout), true);
}

bool command_writer::reader_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->reader).alive;
}

// ---- reader --------------------------------------------------------------------------------

void detail::command_reader_state::drop() noexcept {
    if (control_ == nullptr) return;
    release_role(control_->reader);
    control_ = nullptr;
    segment_.close();
}

std::uint64_t command_reader::segment_size(const command_config& config) noexcept {
    return detail::ring_segment_size({kind::command, command_ring_offset}, config.capacity);
}

errc command_reader::bind(std::uint8_t* base, std::uint64_t size, const command_options& options,
                          bool role_claimed) noexcept {
    detail::ring_layout l;
    errc e = map_command(base, size, &l);
    if (failed(e)) return e;
    auto* c = reinterpret_cast<command_control*>(l.control);
    claim_kind how = claim_kind::fresh;
    if (!role_claimed) {
        e = claim_role(c->reader, &how);
        if (failed(e)) return e;
    }
    const std::uint64_t tail = c->tail.load(order::acquire);
    if (!plausible_position(tail)) {
        release_role(c->reader);
        return errc::invalid_layout;
    }
    if (how == claim_kind::took_over) c->reader_takeovers.fetch_add(1, order::relaxed);
    adopt(base, l, options);
    claimed_as_ = this_process();
    tail_ = tail;
    delivered_ = c->consumed.load(order::relaxed);
    return errc::ok;
}

result<command_reader> command_reader::create(const char* name, const command_config& config,
                                              const command_options& options) noexcept {
    auto s = detail::create_ring_segment(name, {kind::command, command_ring_offset}, config.capacity,
                                         config.max_message, options.segment);
    if (!s) return s.error();
    reinterpret_cast<command_control*>(s->base() + ring_header_size)
        ->reader.store(this_process(), order::relaxed);
    if (const errc published = s->publish(); failed(published)) return published;
    return bind_to<command_reader>(std::move(s), options, /*role_claimed=*/true);
}

result<command_reader> command_reader::open(const char* name, const command_options& options) noexcept {
    return bind_to<command_reader>(open_segment(name, options), options, false);
}

result<command_reader> command_reader::format(void* memory, std::uint64_t size, const command_config& config,
                                              const command_options& options) noexcept {
    const errc e = detail::format_ring_memory(memory, size, {kind::command, command_ring_offset}, config.max_message);
    if (failed(e)) return e;
    return attach(memory, size, options);
}

result<command_reader> command_reader::attach(void* memory, std::uint64_t size, const command_options& options) noexcept {
    return bind_to<command_reader>(memory, size, options, false);
}

void command_reader::advance(std::uint64_t span) noexcept {
    tail_ += span;
    pending_pos_ = ~std::uint64_t{0};
    // Release: we are done with the record before writers may claim its space again.
    control_->tail.store(tail_, order::release);
    notify_all(control_->space, barriers_);
}

result<message_info> command_reader::try_read(void* buffer, std::size_t capacity) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    for (;;) {
        // Acquire: a claim header stored before head moved is visible below.
        const std::uint64_t head = control_->head.load(order::acquire);
        if (tail_ == head) return errc::empty;
        if (!plausible_span(tail_, head, ring_.capacity())) return errc::invalid_layout;
        const std::uint64_t offset = ring_.offset(tail_);
        // Acquire on the header word: pairs with the writer's release at commit, so the payload
        // is complete when we see `message`.
        const record_header h = ring_.load_header(offset);
        const std::uint64_t span = ring_.checked_span(tail_, h, max_message_);
        if (span == 0 || span > head - tail_) return errc::invalid_layout;
        switch (h.type) {
            case record_type::pad:
            case record_type::skip:
                advance(span);
                continue;
            case record_type::claimed: {
                // A writer is still filling it. Only once it has been pending a whole liveness
                // period do we look at the writer; a healthy one commits within microseconds.
                const std::uint64_t now = os::monotonic_ns();
                if (!claim_overdue(now)) return errc::empty;
                if (os::process_alive(unpack_process(h.seq))) {
                    pending_since_ = now;
                    return errc::empty;
                }
                // The writer may have committed just before it exited: look again (acquire) and
                // skip only a claim that is still uncommitted.
                if (ring_.load_header(offset).type != record_type::claimed) continue;
                // Its writer is dead: the claim will never be committed. Skip it, count it.
                control_->abandoned.fetch_add(1, order::relaxed);
                advance(span);
                continue;
            }
            case record_type::message:
                break;
            default:
                return errc::invalid_layout;
        }
        if (h.size > capacity) {
            pending_size_ = h.size;
            return errc::message_too_large;
        }
        copy_from_record(buffer, ring_.at(offset + record_header_size), h.size);
        const message_info info{h.size, delivered_++};
        control_->consumed.store(control_->consumed.load(order::relaxed) + 1, order::relaxed);  // only we write it
        advance(span);
        return info;
    }
}

command_reader::front command_reader::front_state() const noexcept {
    if (control_ == nullptr) return front::none;
    // Acquire: a claim header stored before head moved is visible below.
    const std::uint64_t head = control_->head.load(order::acquire);
    if (head == tail_) return front::none;
    // A head no ring can have: try_read reports invalid_layout at once, rather than a wait
    // sleeping on a corrupt segment until its deadline.
    if (!plausible_span(tail_, head, ring_.capacity())) return front::ready;
    return ring_.load_header(ring_.offset(tail_)).type == record_type::claimed ? front::claimed : front::ready;
}

bool command_reader::claim_overdue(std::uint64_t now) noexcept {
    if (pending_pos_ != tail_) {
        pending_pos_ = tail_;
        pending_since_ = now;
        return false;
    }
    return now - pending_since_ >= options_.liveness_period_ns;
}

bool command_reader::poll() const noexcept { return front_state() == front::ready; }

std::uint64_t command_reader::recheck_after_ns() const noexcept {
    return front_state() == front::claimed ? options_.liveness_period_ns : 0;
}

result<message_info> command_reader::read(void* buffer, std::size_t capacity, nanoseconds timeout) noexcept {
    // Sleeps until a command is committed; while a claim is pending, wakes once per liveness
    // period to check its writer (a dead writer never notifies).
    return wait_for([&] { return try_read(buffer, capacity); }, [this] { return &control_->data; }, barriers_,
                    [this] { return poll(); }, deadline_after(timeout), options_.wait, [] { return errc::ok; },
                    [this] { return recheck_after_ns(); });
}

select_source command_reader::waitable() noexcept {
    if (control_ == nullptr) return {};
    select_source s;
    s.word = &control_->data;
    s.barriers = barriers_;
    s.ready = [](void* self) {
        auto* r = static_cast<command_reader*>(self);
        switch (r->front_state()) {
            case front::ready: return true;
            case front::none: return false;
            case front::claimed:
                // Once it has been pending a liveness period, report ready so the caller's
                // try_read looks at its writer (and skips it if dead). A period of 0 never
                // rechecks (as recheck_after_ns() says), rather than spinning select().
                return r->options_.liveness_period_ns != 0 && r->claim_overdue(os::monotonic_ns());
        }
        return false;
    };
    s.context = this;
    s.recheck_after_ns = [](void* self) { return static_cast<command_reader*>(self)->recheck_after_ns(); };
    return s;
}

std::uint64_t command_reader::abandoned() const noexcept {
    return control_ == nullptr ? 0 : control_->abandoned.load(order::relaxed);
}

}  // namespace shmkit
