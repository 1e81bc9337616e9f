#include "shmkit/broadcast.hpp"
#include "shmkit/detail/wait.hpp"

#include <cstring>

#include "ring_segment.hpp"

namespace shmkit {
namespace {

// Bounded retries for a reader racing a writer that keeps moving; beyond this the reader
// reports what it has instead of spinning (the writer would have to lap it 64 times in a row).
constexpr int max_attempts = 64;
// Sequence numbers stay below 2^63: skip() refuses to go past it, and a segment whose next_seq or
// a record's seq is beyond it is corrupt. Before skip() they could not get near (one per
// message); with it, one call could take next_seq to 2^64 - 1, and the next message would wrap it
// to 0, which the takeover rule (a header at head carrying next_seq or next_seq - 1) and every
// reader's "seq >= expected" would then misread.
constexpr std::uint64_t max_sequence = std::uint64_t{1} << 63;

errc map_layout(std::uint8_t* base, std::uint64_t size, detail::ring_layout* out) noexcept {
    return detail::map_ring_layout(base, size, {kind::broadcast, broadcast_ring_offset}, out);
}

broadcast_control* control_of(const detail::ring_layout& l) noexcept {
    return reinterpret_cast<broadcast_control*>(l.control);
}

using detail::plausible_position;
using detail::plausible_span;

}  // namespace

errc inspect_broadcast(const void* base, std::uint64_t size, broadcast_info* out) noexcept {
    detail::ring_layout l;
    errc e = map_layout(static_cast<std::uint8_t*>(const_cast<void*>(base)), size, &l);
    if (failed(e)) return e;
    const broadcast_control* c = control_of(l);
    out->capacity = l.geometry.capacity;
    out->max_message = l.geometry.max_message;
    out->head = c->head.load(order::acquire);
    out->tail = c->tail.load(order::acquire);
    out->messages = c->next_seq.load(order::acquire);
    out->abandoned = c->abandoned.load(order::relaxed);
    out->takeovers = c->takeovers.load(order::relaxed);
    out->waiters = c->wake.waiters.load(order::relaxed);
    out->writer = inspect_role(c->writer);
    return errc::ok;
}

// ---- writer --------------------------------------------------------------------------------

// Finishes a reservation: publishes it, or gives it up (the writer's one finish function for
// the reservation type every writer shares).
void broadcast_writer::finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept {
    auto& w = *static_cast<broadcast_writer*>(r.writer_);
    if (publish) {
        w.publish(w.reserved_pos_, used);
        return;
    }
    w.reserved_ = false;  // this process's copy of the writer may close or reserve again
    // In a child that inherited it across fork() the reservation is the parent's: the shared
    // state is left alone.
    if (!claimed_by_this_process(w.claimed_as_)) return;
    // Dropped without commit: nothing was published (head never moved), so readers cannot see
    // it. The eviction it caused stands; readers that were that far behind count those messages lost.
    w.control_->abandoned.fetch_add(1, order::relaxed);
}

void detail::broadcast_writer_state::drop() noexcept {
    if (control_ == nullptr) return;
    // A live reservation would point at a closed writer, unless it is a parent's that this
    // process inherited across fork() (then neither it nor this close touches shared state).
    SHMKIT_ASSERT(!reserved_ || !claimed_by_this_process(claimed_as_));
    release_role(control_->writer);
    control_ = nullptr;
    segment_.close();
}

std::uint64_t broadcast_writer::segment_size(const broadcast_config& config) noexcept {
    return detail::ring_segment_size({kind::broadcast, broadcast_ring_offset}, config.capacity);
}

result<broadcast_writer> broadcast_writer::create(const char* name, const broadcast_config& config,
                                                  const segment_options& options) noexcept {
    auto s = detail::create_ring_segment(name, {kind::broadcast, broadcast_ring_offset}, config.capacity,
                                         config.max_message, options);
    if (!s) return s.error();
    // The creator holds the writer role from the moment the segment becomes visible, so no
    // other process can claim it in between.
    reinterpret_cast<broadcast_control*>(s->base() + broadcast_control_offset)
        ->writer.store(this_process(), order::relaxed);
    if (const errc published = s->publish(); failed(published)) return published;
    return bind_to<broadcast_writer>(std::move(s), /*role_claimed=*/true);
}

result<broadcast_writer> broadcast_writer::open(const char* name, const segment_options& options) noexcept {
    return bind_to<broadcast_writer>(
        segment::open(name, kind::broadcast, ring_header_size, os::access::read_write, options), false);
}

result<broadcast_writer> broadcast_writer::format(void* memory, std::uint64_t size,
                                                  const broadcast_config& config) noexcept {
    const errc e = detail::format_ring_memory(memory, size, {kind::broadcast, broadcast_ring_offset}, config.max_message);
    if (failed(e)) return e;
    return attach(memory, size);
}

result<broadcast_writer> broadcast_writer::attach(void* memory, std::uint64_t size) noexcept {
    return bind_to<broadcast_writer>(memory, size, false);
}

errc broadcast_writer::bind(std::uint8_t* base, std::uint64_t size, bool role_claimed) noexcept {
    detail::ring_layout l;
    errc e = map_layout(base, size, &l);
    if (failed(e)) return e;
    broadcast_control* c = control_of(l);
    claim_kind how = claim_kind::fresh;
    if (!role_claimed) {
        e = claim_role(c->writer, &how);
        if (failed(e)) return e;
    }
    const std::uint64_t head = c->head.load(order::acquire);
    const std::uint64_t tail = c->tail.load(order::acquire);
    const std::uint64_t next_seq = c->next_seq.load(order::acquire);
    // next_seq is not bounded by head (skip() moves it on alone), only by max_sequence.
    if (!plausible_span(tail, head, l.ring.capacity()) || next_seq > max_sequence) {
        release_role(c->writer);
        return errc::invalid_layout;
    }
    adopt(base, l);
    claimed_as_ = this_process();
    head_ = head;
    tail_ = tail;
    next_seq_ = next_seq;
    if (how == claim_kind::took_over) {
        // A dead writer's last message is complete (and readers that keep up may already have
        // it) from the moment its header was stored. It may have died before storing next_seq
        // (the header at head carries seq == next_seq) or between next_seq and head (seq ==
        // next_seq - 1). Either way, finish publishing it rather than write over it.
        std::uint64_t settled = ring_.settled_head(head, next_seq, max_message_);
        if (settled == head) {
            settled = ring_.settled_head(head, next_seq + 1, max_message_);
            if (settled != head) {
                next_seq_ = next_seq + 1;
                control_->next_seq.store(next_seq_, order::release);
            }
        }
        if (settled != head) {
            head_ = settled;
            control_->head.store(settled, order::release);
        }
        control_->takeovers.fetch_add(1, order::relaxed);
        notify_all(control_->wake, barriers_);  // readers asleep on the message the dead writer never announced
    }
    // Release fence: this writer's first stores into space the previous writer freed must come
    // after the tail it stored, for readers' fence pairing (the eviction in reserve() may not run).
    fence(order::release);
    return errc::ok;
}

errc broadcast_writer::reserve_space(std::size_t size) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    SHMKIT_ASSERT(!reserved_);  // one reservation at a time
    if (size > max_message_) return errc::message_too_large;
    const std::uint64_t span = record_span(size);
    const std::uint64_t pad = ring_.pad_before(head_, span);
    const std::uint64_t record_pos = head_ + pad;
    // [head_, end) holds the pad, the record and the end marker after it.
    const std::uint64_t end = record_pos + span + record_header_size;
    if (end > ring_.capacity() && tail_ < end - ring_.capacity()) {
        // Evict whole records from the tail until [head_, end) is free, plus a batch of
        // capacity/16 bytes more (never past head_), so that tail moves once per batch rather
        // than once per message and readers' checks against it stay cache hits.
        std::uint64_t target = end - ring_.capacity() + ring_.capacity() / 16;
        if (target > head_) target = head_;
        std::uint64_t t = tail_;
        while (t < target) {
            const std::uint64_t step = ring_.checked_span(t, ring_.load_header(ring_.offset(t)), max_message_);
            if (step == 0) return errc::invalid_layout;
            t += step;
        }
        tail_ = t;
        control_->tail.store(t, order::relaxed);
        // Release fence: the new tail is ordered before every store into the space it frees.
        // A reader whose loads observe any of those stores, followed by its acquire fence, is
        // then guaranteed to observe this tail and discard what it read.
        fence(order::release);
    }
    reserved_ = true;
    reserved_pos_ = record_pos;
    return errc::ok;
}

result<reservation> broadcast_writer::reserve(std::size_t size) noexcept {
    const errc e = reserve_space(size);
    if (failed(e)) return e;
    return reservation(this, &finish, ring_.at(ring_.offset(reserved_pos_) + record_header_size), size, claimed_as_);
}

void broadcast_writer::publish(std::uint64_t record_pos, std::size_t used) noexcept {
    const std::uint64_t end = record_pos + record_span(used);
    // Readers look for the next record at the position after the newest one, beyond head,
    // where the bytes still belong to an older lap and may be payload that looks like a header.
    // An end marker (a header word of zero) goes there first; every store below is ordered
    // after it by the release stores of the headers.
    ring_.store_end_marker(ring_.offset(end));
    ring_.store_message(head_, record_pos, used, next_seq_);
    ++next_seq_;
    head_ = end;
    reserved_ = false;
    // Release: the record (payload and header) is complete before next_seq says it exists.
    // byte_ring::settled_head() relies on this order to finish a publication cut short by a crash.
    control_->next_seq.store(next_seq_, order::release);
    // Release: a reader that loads the new head (acquire) sees the whole record.
    control_->head.store(head_, order::release);
    notify_all(control_->wake, barriers_);
}

errc broadcast_writer::skip(std::uint64_t count) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    // At most max_sequence - 1 after it, so the next publish() stores at most max_sequence.
    if (count >= max_sequence - next_seq_) return errc::invalid_argument;
    if (count == 0) return errc::ok;
    next_seq_ += count;
    // Release: a reader that attaches (start_at_head: head, next_seq (acquire), head) and sees the
    // new number also sees the current head, so it starts at head expecting it, and is told of no
    // loss (it happened before it came); with a relaxed store it could pair the new number with an
    // older head and start at the last message expecting a higher seq. One that attached before
    // finds the gap in the next message's seq. A reader whose acquire of the next header sees it
    // also sees this number or a later one: the gap check in try_read relies on that
    // (h.seq <= next_seq). skip() writes nothing into the ring, so the takeover rule (the header at
    // head, if any, carries next_seq or next_seq - 1) holds across it.
    control_->next_seq.store(next_seq_, order::release);
    return errc::ok;
}

errc broadcast_writer::write(const void* data, std::size_t size) noexcept {
    const errc e = reserve_space(size);
    if (failed(e)) return e;
    ring_.copy_in(ring_.offset(reserved_pos_) + record_header_size, data, size);
    publish(reserved_pos_, size);
    return errc::ok;
}

// ---- reader --------------------------------------------------------------------------------

result<broadcast_reader> broadcast_reader::open(const char* name,
                                                const broadcast_reader_options& options) noexcept {
    return bind_to<broadcast_reader>(segment::open(name, kind::broadcast, ring_header_size,
                                                   options.read_only ? os::access::read_only : os::access::read_write,
                                                   options.segment),
                                     options);
}

result<broadcast_reader> broadcast_reader::attach(void* memory, std::uint64_t size,
                                                  const broadcast_reader_options& options) noexcept {
    return bind_to<broadcast_reader>(memory, size, options);
}

errc broadcast_reader::bind(std::uint8_t* base, std::uint64_t size, const broadcast_reader_options& options) noexcept {
    detail::ring_layout l;
    errc e = map_layout(base, size, &l);
    if (failed(e)) return e;
    if (options.from_oldest && options.from_newest) return errc::invalid_argument;
    adopt(base, l);
    wait_ = options.wait;
    e = options.from_oldest ? start_at_oldest() : options.from_newest ? start_at_newest() : start_at_head();
    if (failed(e)) control_ = nullptr;
    return e;
}

errc broadcast_reader::start_at_head() noexcept {
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t head = control_->head.load(order::acquire);
        const std::uint64_t next_seq = control_->next_seq.load(order::acquire);
        if (control_->head.load(order::acquire) != head) continue;  // not a consistent pair
        if (!plausible_position(head)) return errc::invalid_layout;
        const std::uint64_t pos = ring_.settled_head(head, next_seq, max_message_);
        // Acquire fence: orders the header loads in settled_head before the tail check; if the
        // writer had started overwriting them, it advanced tail past `head` first.
        fence(order::acquire);
        if (control_->tail.load(order::relaxed) > head) continue;
        pos_ = pos;
        expected_ = next_seq;
        return errc::ok;
    }
    return errc::busy;
}

errc broadcast_reader::start_at_oldest() noexcept {
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t tail = control_->tail.load(order::acquire);
        const std::uint64_t head = control_->head.load(order::acquire);
        if (tail >= head) return start_at_head();
        if (!plausible_position(tail)) return errc::invalid_layout;
        const record_header h = ring_.load_header(ring_.offset(tail));
        // Acquire fence: the header was read before re-checking that tail did not move past it.
        fence(order::acquire);
        if (control_->tail.load(order::relaxed) != tail) continue;
        if (ring_.checked_span(tail, h, max_message_) == 0) return errc::invalid_layout;
        pos_ = tail;
        expected_ = h.seq;  // a pad carries the sequence number of the message after it
        return errc::ok;
    }
    return errc::busy;
}

// The newest message present: the last record before where start_at_head() starts is a message
// (a pad only ever precedes one), but records link forwards only, so the reader walks from tail
// to that point and keeps the last message it passes.
errc broadcast_reader::start_at_newest() noexcept {
    const errc started = start_at_head();
    if (failed(started)) return started;
    const std::uint64_t end = pos_;
    // One record per 16 bytes at most, and tail lies at most a ring (plus the record an
    // interrupted publication left at head) before end: more steps mean a corrupt segment.
    const std::uint64_t max_steps = ring_.capacity() / record_align + 2;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t tail = control_->tail.load(order::acquire);
        if (tail >= end) return errc::ok;  // nothing kept before it: start at the next new one
        if (!plausible_position(tail)) return errc::invalid_layout;
        std::uint64_t pos = tail, newest = end, newest_seq = 0, steps = 0;
        bool lapped = false;
        while (pos < end) {
            if (++steps > max_steps) return errc::invalid_layout;
            const record_header h = ring_.load_header(ring_.offset(pos));
            // Acquire fence: the header was read before re-checking that tail did not move past it.
            fence(order::acquire);
            if (control_->tail.load(order::relaxed) > pos) {
                lapped = true;
                break;
            }
            const std::uint64_t span = ring_.checked_span(pos, h, max_message_);
            if (span == 0 || (h.type != record_type::message && h.type != record_type::pad)) {
                return errc::invalid_layout;
            }
            if (h.type == record_type::message) {
                newest = pos;
                newest_seq = h.seq;
            }
            pos += span;
        }
        if (lapped) continue;  // the writer evicted what we walked: walk again from the new tail
        // The newest message carries next_seq - 1, or less after a skip().
        if (pos != end || newest == end || newest_seq >= expected_) return errc::invalid_layout;
        pos_ = newest;
        expected_ = newest_seq;
        return errc::ok;
    }
    return errc::busy;
}

// The writer lapped us: move to the oldest intact record and count what was skipped (reported
// with the next message returned). ok; stale (lapped again on every attempt); invalid_layout.
errc broadcast_reader::resync_after_lap() noexcept {
    bool consistent = false;
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
        const std::uint64_t tail = control_->tail.load(order::acquire);
        const std::uint64_t head = control_->head.load(order::acquire);
        // tail can briefly appear ahead of head right after a writer takeover (its first
        // eviction and its head repair are separate stores): retry.
        if (tail > head || !plausible_position(tail) || !plausible_position(head)) continue;
        consistent = true;
        std::uint64_t first_seq;
        if (tail == head) {
            // Everything was evicted for a record not yet published. next_seq is read while head
            // stays unchanged, so it is either the sequence number of the message that will
            // appear at head or one more, if that message is complete but head not yet moved
            // past it (byte_ring::settled_head finds it; retry until head moves) -- or less, if
            // the writer skips numbers after this load: try_read counts that gap when it finds
            // the message.
            const std::uint64_t next_seq = control_->next_seq.load(order::acquire);
            if (control_->head.load(order::acquire) != head) continue;
            if (ring_.settled_head(head, next_seq, max_message_) != head) continue;
            first_seq = next_seq;
        } else {
            const record_header h = ring_.load_header(ring_.offset(tail));
            // Acquire fence: header loads before the re-check that tail did not move past them.
            fence(order::acquire);
            if (control_->tail.load(order::relaxed) != tail) continue;
            if (ring_.checked_span(tail, h, max_message_) == 0) return errc::invalid_layout;
            first_seq = h.seq;
            // As in try_read: no record carries a number beyond next_seq.
            if (first_seq > control_->next_seq.load(order::acquire)) return errc::invalid_layout;
        }
        if (first_seq < expected_) return errc::invalid_layout;
        unreported_ += first_seq - expected_;
        total_lost_ += first_seq - expected_;
        ++overruns_;
        pos_ = tail;
        expected_ = first_seq;
        return errc::ok;
    }
    // Still being lapped, or a tail that never made sense.
    return consistent ? errc::stale : errc::invalid_layout;
}

result<message_info> broadcast_reader::try_read(void* buffer, std::size_t capacity) noexcept {
    if (control_ == nullptr) return errc::not_open;
    // A lap is not an error: the read moves to the oldest intact record and goes on from there,
    // so it returns that message in this call with the number lost before it. Both loops are
    // bounded: laps (the writer overtaking us again while we catch up) and pads in a row (a
    // writer makes at most one before each message; a resync may land on one, so the count
    // starts again after each).
    int laps = 0, pads = 0;
    const auto lapped = [&]() -> errc {
        if (++laps > max_attempts) return errc::stale;
        pads = 0;
        return resync_after_lap();
    };
    for (;;) {
        // A reader that keeps up finds the next record by its header alone (the writer stores
        // it with release after the payload), without touching the writer's head line.
        const std::uint64_t offset = ring_.offset(pos_);
        const record_header h = ring_.load_header(offset);
        // Acquire fence: orders the header loads before the tail check. The writer advances tail
        // (then a release fence) before overwriting anything, so if these loads saw new bytes,
        // the tail load below sees the new tail and we discard them.
        fence(order::acquire);
        if (control_->tail.load(order::relaxed) > pos_) {
            const errc e = lapped();
            if (failed(e)) return e;
            continue;
        }
        if (h.lap != ring_.lap(pos_) || h.type == record_type::none) return errc::empty;  // not written yet
        const std::uint64_t span = ring_.checked_span(pos_, h, max_message_);
        if (span == 0 || h.seq < expected_ || (h.type != record_type::message && h.type != record_type::pad)) {
            return errc::invalid_layout;
        }
        if (h.seq != expected_) {
            // Numbers the writer skipped (skip()): lost just before this record's message. The
            // header is intact (the tail check above came after its loads). A real gap is never
            // beyond next_seq, which skip() stored (release) before this header was (release),
            // and this load is ordered after the header's acquire: bytes that only look like a
            // header with a larger seq are corrupt, not a loss.
            if (h.seq > control_->next_seq.load(order::acquire)) return errc::invalid_layout;
            unreported_ += h.seq - expected_;
            total_lost_ += h.seq - expected_;
            expected_ = h.seq;
        }
        if (h.type == record_type::pad) {
            // A chain of pads with no message: not something a writer makes.
            if (++pads > max_attempts) return errc::invalid_layout;
            pos_ += span;
            continue;
        }
        if (h.size > capacity) {
            pending_size_ = h.size;
            return errc::message_too_large;
        }
        ring_.copy_out(buffer, offset + record_header_size, h.size);
        // Acquire fence: same pairing for the payload loads; a lap during the copy is caught here.
        fence(order::acquire);
        if (control_->tail.load(order::relaxed) > pos_) {
            const errc e = lapped();
            if (failed(e)) return e;
            continue;
        }
        pos_ += span;
        expected_ = h.seq + 1;
        lost_ = unreported_;  // private state only: the fast path touches no more shared memory
        unreported_ = 0;
        return message_info{h.size, h.seq, lost_};
    }
}

bool broadcast_reader::poll() const noexcept {
    return control_ != nullptr && control_->head.load(order::acquire) > pos_;
}

errc broadcast_reader::wait(nanoseconds timeout) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (poll()) return errc::ok;
    const std::uint64_t deadline = deadline_after(timeout);
    // As wait_for: a call that asked not to wait times out like any other; one that would have
    // to sleep on a read-only mapping is refused.
    const errc refused = segment_.sleep_refusal();
    if (failed(refused)) return deadline == no_wait ? errc::timeout : refused;
    return wait_until(control_->wake, barriers_, [this] { return poll(); }, deadline, wait_);
}

result<message_info> broadcast_reader::read(void* buffer, std::size_t capacity, nanoseconds timeout) noexcept {
    const auto attempt = [&]() -> result<message_info> {
        if (control_ == nullptr) return errc::not_open;
        // Acquire: every record before this head is visible to the try_read that follows.
        const std::uint64_t head_seen = control_->head.load(order::acquire);
        auto r = try_read(buffer, capacity);
        // head already covered our position, yet no record was there: the segment is
        // inconsistent. Report it instead of sleeping on a wait condition that stays true.
        if (!r.ok() && r.error() == errc::empty && head_seen > pos_) return errc::invalid_layout;
        return r;
    };
    return wait_for(attempt, [this] { return &control_->wake; }, barriers_, [this] { return poll(); },
                    deadline_after(timeout), wait_, [this] { return segment_.sleep_refusal(); });
}

select_source broadcast_reader::waitable() noexcept {
    if (control_ == nullptr) return {};
    select_source source = poll_source(control_->wake, barriers_, this);
    source.refusal = segment_.sleep_refusal();
    return source;
}

bool broadcast_reader::writer_alive() const noexcept {
    return control_ != nullptr && inspect_role(control_->writer).alive;
}

}  // namespace shmkit
