// spsc: a lock-free single-producer / single-consumer message queue. Variable-length messages,
// any capacity (a multiple of 16, not only powers of two), head and tail on separate 64-byte
// lines with each side caching the other's index, one memcpy per message, zero-copy on both
// sides (reserve/commit, peek/release), blocking forms that sleep in the kernel. Nothing is ever
// lost or overwritten: a full queue makes the producer wait or fail with `full`.
// Layout and algorithm: core/SPEC.md "spsc".
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/byte_ring.hpp"
#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/ring_mapping.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/message.hpp"
#include "shmkit/reservation.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/channel.hpp"
#include "shmkit/wire/spsc.hpp"

namespace shmkit {

struct spsc_config {
    std::uint64_t capacity = 1u << 20;  // ring bytes (rounded up to 16; at least 256)
    std::uint32_t max_message = 0;      // 0 = as large as allowed: largest_frame(capacity)
};

struct spsc_options {
    wait_options wait{};  // spin before sleeping in the blocking calls
    segment_options segment{};
};

struct spsc_info {
    std::uint64_t capacity = 0, head = 0, tail = 0, pushed = 0, popped = 0;
    std::uint64_t producer_takeovers = 0, consumer_takeovers = 0;
    std::uint32_t max_message = 0;
    role_holder producer{}, consumer{};
};
errc inspect_spsc(const void* base, std::uint64_t size, spsc_info* out) noexcept;
namespace detail {
// inspect_spsc for an spsc or a channel; fills `geometry` if not null.
errc inspect_spsc_ring(const void* base, std::uint64_t size, kind k, spsc_info* out, ring_geometry* geometry) noexcept;
}  // namespace detail

namespace detail {
// How an end waits and what kind of segment it maps (spsc, or a channel built on it).
struct spsc_end_settings {
    wait_options wait{};
    kind k = kind::spsc;
    // Channels: blocking calls report the other end's death (peer_dead), looking at it at least
    // once per period; 0 (spsc): they wait for a new peer instead.
    std::uint64_t liveness_period_ns = 0;
};

// What both ends hold: the mapping, the layout and the role they claimed.
struct spsc_end_state : ring_mapping<spsc_control> {
    spsc_end_settings settings_{};
    std::uint64_t claimed_as_ = 0;  // the process holding this end's role through this handle
    bool producer_side_ = false;
    // Channels: the metadata line and block (null in an spsc).
    channel_metadata_line* metadata_line_ = nullptr;
    std::uint8_t* metadata_ = nullptr;
    std::uint32_t metadata_capacity_ = 0;

    void drop() noexcept;  // gives up this end's role and unmaps
    atomic_u64& role() const noexcept;
    atomic_u64& peer_role() const noexcept;
    // Maps the layout and claims this end's role (already held by a creator: role_claimed).
    errc bind_end(std::uint8_t* base, std::uint64_t size, bool producer_side, const spsc_end_settings& settings,
                  bool role_claimed) noexcept;
    // A new published segment whose `producer_side` role the caller already holds.
    static result<segment> create_segment(const char* name, kind k, const spsc_config& config,
                                          std::uint32_t metadata_capacity, bool producer_side,
                                          const segment_options& options) noexcept;
    static result<segment> open_segment(const char* name, kind k, const segment_options& options) noexcept;
    // Sleeps on `w` until ready(), the deadline, or (channels) the death of the other end:
    // ok, timeout, peer_dead. Defined in spsc.cpp, the only place that sleeps.
    template <class Ready>
    errc sleep_until(wait_word& w, Ready&& ready, std::uint64_t deadline_ns) noexcept;
    // Channels: wakes the other end's sleepers after this end's role changed hands, so that
    // they look at the new holder (whose exit they then watch) or see it gone.
    void announce_role_change() noexcept;
};

struct spsc_producer_state : spsc_end_state {
    std::uint64_t head_ = 0, cached_tail_ = 0, next_seq_ = 0;
    std::uint64_t reserved_pad_ = 0;
    bool reserved_ = false;
    bool movable() const noexcept { return !reserved_; }  // a live reservation points here
};

struct spsc_consumer_state : spsc_end_state {
    std::uint64_t tail_ = 0, cached_head_ = 0, expected_ = 0;
    std::uint64_t peeked_span_ = 0;
    std::uint32_t pending_size_ = 0;
};

// The calls both ends have.
template <class State>
class spsc_end : public handle<State> {
public:
    bool is_open() const noexcept { return this->control_ != nullptr; }
    std::uint64_t max_message() const noexcept { return this->max_message_; }
    std::uint64_t capacity() const noexcept { return this->ring_.capacity(); }

    // How full the ring is now, as this end sees it (a snapshot, for monitoring and flow
    // decisions): bytes in use by messages not yet consumed, their record headers and any wrap
    // padding; 0 on a closed handle. A ring whose positions were corrupted reads as full.
    std::uint64_t used() const noexcept {
        if (this->control_ == nullptr) return 0;
        std::uint64_t head, tail;
        if constexpr (std::is_same_v<State, spsc_producer_state>) {
            head = this->head_;
            tail = this->control_->tail.load(order::acquire);
        } else {
            head = this->control_->head.load(order::acquire);
            tail = this->tail_;
        }
        return head >= tail && head - tail <= capacity() ? head - tail : capacity();
    }
    std::uint64_t free() const noexcept { return capacity() - used(); }
    bool is_empty() const noexcept { return used() == 0; }
    // No room now for another message, not even an empty one.
    bool is_full() const noexcept { return this->control_ != nullptr && free() < record_span(0); }
};
}  // namespace detail

class spsc_producer : public detail::spsc_end<detail::spsc_producer_state> {
public:
    // Bytes a segment with this configuration occupies; 0 for a capacity beyond max_segment_bytes.
    static std::uint64_t segment_size(const spsc_config& config) noexcept;
    static result<spsc_producer> create(const char* name, const spsc_config& config = {},
                                        const spsc_options& options = {}) noexcept;
    static result<spsc_producer> open(const char* name, const spsc_options& options = {}) noexcept;
    static result<spsc_producer> format(void* memory, std::uint64_t size, const spsc_config& config,
                                        const spsc_options& options = {}) noexcept;
    static result<spsc_producer> attach(void* memory, std::uint64_t size, const spsc_options& options = {}) noexcept;

    // ok, full (no room now), message_too_large.
    [[nodiscard]] errc try_push(const void* data, std::size_t size) noexcept;
    // Waits up to `timeout` for room: ok, timeout, message_too_large.
    [[nodiscard]] errc push(const void* data, std::size_t size, nanoseconds timeout = wait_forever) noexcept;
    // Zero-copy: room for `size` bytes in place, queued by its commit().
    result<reservation> try_reserve(std::size_t size) noexcept;
    result<reservation> reserve(std::size_t size, nanoseconds timeout = wait_forever) noexcept;
    bool consumer_alive() const noexcept;

private:
    friend handle;
    friend class channel_writer;
    errc bind(std::uint8_t* base, std::uint64_t size, const detail::spsc_end_settings& settings,
              bool role_claimed) noexcept;
    // Makes room for `size` bytes at head_ + reserved_pad_. deadline_ns 0: do not wait.
    errc reserve_space(std::size_t size, std::uint64_t deadline_ns) noexcept;
    // Waits until `need` bytes from head_ are free (refreshing cached_tail_): ok, full (deadline_ns
    // 0), timeout, peer_dead (channels).
    errc wait_for_room(std::uint64_t need, std::uint64_t deadline_ns) noexcept;
    result<reservation> reserve_at(std::size_t size, std::uint64_t deadline_ns) noexcept;
    errc push_at(const void* data, std::size_t size, std::uint64_t deadline_ns) noexcept;
    void publish(std::size_t used) noexcept;
    static void finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
};

class spsc_consumer : public detail::spsc_end<detail::spsc_consumer_state> {
public:
    static result<spsc_consumer> create(const char* name, const spsc_config& config = {},
                                        const spsc_options& options = {}) noexcept;
    static result<spsc_consumer> open(const char* name, const spsc_options& options = {}) noexcept;
    static result<spsc_consumer> attach(void* memory, std::uint64_t size, const spsc_options& options = {}) noexcept;

    // Copies the next message out and consumes it: empty; message_too_large (see pending_size(),
    // nothing consumed); invalid_layout.
    result<message_info> try_pop(void* buffer, std::size_t capacity) noexcept;
    result<message_info> pop(void* buffer, std::size_t capacity, nanoseconds timeout = wait_forever) noexcept;
    // Zero-copy: the next message in place; release() consumes it.
    result<message_view> try_peek() noexcept;
    result<message_view> peek(nanoseconds timeout = wait_forever) noexcept;
    void release() noexcept;
    bool poll() noexcept;  // a message is waiting
    std::uint64_t pending_size() const noexcept { return pending_size_; }
    bool producer_alive() const noexcept;
    select_source waitable() noexcept;  // for select(): ready when poll() is

private:
    friend handle;
    friend class channel_reader;
    errc bind(std::uint8_t* base, std::uint64_t size, const detail::spsc_end_settings& settings,
              bool role_claimed) noexcept;
    errc next(message_view* out) noexcept;
    // peek() for a channel: the wait reports the writer's death.
    result<message_view> peek_until(std::uint64_t deadline_ns) noexcept;
    void consume_peeked() noexcept;  // release() after its checks
};

}  // namespace shmkit
