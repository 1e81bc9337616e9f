// spsc: a lock-free single-producer / single-consumer message queue. Variable-length messages,
// any capacity (a multiple of 16, not only powers of two), head and tail on separate 64-byte
// lines with each side caching the other's index, one memcpy per message, zero-copy on both
// sides (reserve/commit, peek/release), blocking forms that sleep in the kernel. Nothing is ever
// lost or overwritten: a full queue makes the producer wait or fail with `full`.
// Layout and algorithm: core/SPEC.md "spsc".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/atomic.hpp"
#include "shmkit/byte_ring.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/message.hpp"
#include "shmkit/role.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

struct spsc_control {
    // The producer's line: written on every push, read by the consumer when it runs dry.
    atomic_u64 head;       // position after the last pushed record
    atomic_u64 producer;   // the producer role
    atomic_u64 pushed;     // messages pushed (the next message's sequence number)
    atomic_u64 producer_takeovers;
    std::uint64_t reserved0[4];
    // The consumer's line: written on every pop, read by the producer when it runs out of room.
    atomic_u64 tail;       // position of the first record not yet consumed
    atomic_u64 consumer;   // the consumer role
    atomic_u64 popped;     // messages consumed
    atomic_u64 consumer_takeovers;
    std::uint64_t reserved1[4];
    wait_word data;        // the consumer sleeps here for data
    std::uint64_t reserved2[6];
    wait_word space;       // the producer sleeps here for room
    std::uint64_t reserved3[6];
};
static_assert(sizeof(spsc_control) == 256);
static_assert(offsetof(spsc_control, head) == 0);
static_assert(offsetof(spsc_control, producer) == 8);
static_assert(offsetof(spsc_control, pushed) == 16);
static_assert(offsetof(spsc_control, producer_takeovers) == 24);
static_assert(offsetof(spsc_control, reserved0) == 32);
static_assert(offsetof(spsc_control, tail) == 64);
static_assert(offsetof(spsc_control, consumer) == 72);
static_assert(offsetof(spsc_control, popped) == 80);
static_assert(offsetof(spsc_control, consumer_takeovers) == 88);
static_assert(offsetof(spsc_control, reserved1) == 96);
static_assert(offsetof(spsc_control, data) == 128);
static_assert(offsetof(spsc_control, reserved2) == 144);
static_assert(offsetof(spsc_control, space) == 192);
static_assert(offsetof(spsc_control, reserved3) == 208);

inline constexpr std::uint32_t spsc_ring_offset = 384;

struct spsc_config {
    std::uint64_t capacity = 1u << 20;  // ring bytes (rounded up to 16; at least 256)
    std::uint32_t max_message = 0;      // 0 = as large as allowed (about capacity/2)
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
// What both ends hold: the mapping, the layout and the role they claimed.
class spsc_end {
public:
    spsc_end() noexcept = default;
    spsc_end(spsc_end&& other) noexcept;
    spsc_end& operator=(spsc_end&& other) noexcept;
    spsc_end(const spsc_end&) = delete;
    spsc_end& operator=(const spsc_end&) = delete;
    ~spsc_end();

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t max_message() const noexcept { return max_message_; }
    std::uint64_t capacity() const noexcept { return ring_.capacity(); }
    void close() noexcept;

protected:
    errc bind(std::uint8_t* base, std::uint64_t size, bool producer_side, const spsc_options& options,
              bool role_claimed) noexcept;
    errc open_named(const char* name, bool producer_side, const spsc_options& options) noexcept;
    errc create_named(const char* name, const spsc_config& config, bool producer_side,
                      const spsc_options& options) noexcept;
    atomic_u64& role() const noexcept;
    // Makes an End (a producer or consumer) with `bind_end(end)`, one of the three above, then
    // lets it take up its private state from the shared positions (End::resume()).
    template <class End, class Bind>
    static result<End> make(Bind&& bind_end) noexcept;

    segment segment_;
    spsc_control* control_ = nullptr;
    byte_ring ring_;
    barrier_mode barriers_ = barrier_mode::fences;
    std::uint32_t max_message_ = 0;
    wait_options wait_{};
    std::uint64_t claimed_as_ = 0;  // the process holding this end's role through this handle
    bool producer_side_ = false;
};
}  // namespace detail

class spsc_producer : public detail::spsc_end {
public:
    class reservation {
    public:
        reservation() noexcept = default;
        reservation(reservation&& other) noexcept;
        reservation& operator=(reservation&& other) noexcept;
        reservation(const reservation&) = delete;
        reservation& operator=(const reservation&) = delete;
        ~reservation();
        std::uint8_t* data() const noexcept { return data_; }
        std::size_t size() const noexcept { return size_; }
        void commit(std::size_t used) noexcept;  // used <= size()
        void commit() noexcept { commit(size_); }

    private:
        friend class spsc_producer;
        // commit() without its process check, for the writer's own copying calls, which have just
        // made that check themselves (it costs a call into the port).
        void commit_unchecked(std::size_t used) noexcept;
        void drop() noexcept;  // uncommitted: what the destructor does
        spsc_producer* producer_ = nullptr;
        std::uint8_t* data_ = nullptr;
        std::size_t size_ = 0;
    };

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
    result<reservation> try_reserve(std::size_t size) noexcept;
    result<reservation> reserve(std::size_t size, nanoseconds timeout = wait_forever) noexcept;
    bool consumer_alive() const noexcept;

private:
    // deadline_ns 0: do not wait.
    result<reservation> reserve_at(std::size_t size, std::uint64_t deadline_ns) noexcept;
    errc push_at(const void* data, std::size_t size, std::uint64_t deadline_ns) noexcept;
    void publish(std::size_t used) noexcept;
    friend class detail::spsc_end;
    void resume() noexcept;
    std::uint64_t head_ = 0, cached_tail_ = 0, next_seq_ = 0;
    std::uint64_t reserved_pad_ = 0;
    bool reserved_ = false;
};

class spsc_consumer : public detail::spsc_end {
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
    friend class detail::spsc_end;
    void resume() noexcept;
    errc next(message_view* out) noexcept;
    void consume_peeked() noexcept;  // release() after its checks
    std::uint64_t tail_ = 0, cached_head_ = 0, expected_ = 0;
    std::uint64_t peeked_span_ = 0;
    std::uint32_t pending_size_ = 0;
};

}  // namespace shmkit
