// broadcast: one writer, any number of readers (no registration, no limit). Every reader sees
// every message in order unless the writer laps it; then its next read returns the oldest
// message still intact, with the number lost just before it (message_info::lost). The writer never waits
// for readers and never reads anything they write except the waiter count, so its cost does not
// grow with their number. Layout and algorithm: core/SPEC.md "broadcast".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/byte_ring.hpp"
#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/ring_mapping.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/message.hpp"
#include "shmkit/reader_options.hpp"
#include "shmkit/reservation.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/broadcast.hpp"

namespace shmkit {

// ---- wire layout ---------------------------------------------------------------------------

// ---- configuration and results -----------------------------------------------------------

struct broadcast_config {
    std::uint64_t capacity = 1u << 20;  // ring bytes (rounded up to 16; at least 256)
    std::uint32_t max_message = 0;      // largest payload; 0 = as large as allowed (about capacity/2)
};

using broadcast_reader_options = reader_options;

// Decoded state for tools (`shmkit info`).
struct broadcast_info {
    std::uint64_t capacity = 0;
    std::uint32_t max_message = 0;
    std::uint64_t head = 0, tail = 0, messages = 0, abandoned = 0, takeovers = 0;
    std::uint32_t waiters = 0;
    role_holder writer{};
};
errc inspect_broadcast(const void* base, std::uint64_t size, broadcast_info* out) noexcept;

// ---- writer --------------------------------------------------------------------------------

namespace detail {
struct broadcast_writer_state : ring_mapping<broadcast_control> {
    std::uint64_t claimed_as_ = 0;  // the process holding the writer role through this handle
    // Private copies of the shared positions: only this writer changes them.
    std::uint64_t head_ = 0, tail_ = 0, next_seq_ = 0;
    // Where the reserved record starts: head_, or the next lap's start when a pad (written only
    // at commit) fills [head_, reserved_pos_).
    std::uint64_t reserved_pos_ = 0;
    bool reserved_ = false;
    void drop() noexcept;  // gives up the writer role and unmaps
    bool movable() const noexcept { return !reserved_; }  // a live reservation points here
};
}  // namespace detail

class broadcast_writer : public detail::handle<detail::broadcast_writer_state> {
public:
    // Bytes a segment with this configuration occupies (for caller-given memory); 0 for a
    // capacity beyond max_segment_bytes.
    static std::uint64_t segment_size(const broadcast_config& config) noexcept;

    // A new named segment; fails with already_exists if a live one has the name.
    static result<broadcast_writer> create(const char* name, const broadcast_config& config = {},
                                           const segment_options& options = {}) noexcept;
    // Becomes the writer of an existing segment: busy while another writer lives; a dead
    // writer's role is taken over and a message it left half-published is completed.
    static result<broadcast_writer> open(const char* name, const segment_options& options = {}) noexcept;
    // Caller-given memory: format() initialises `size` bytes; attach() claims formatted memory.
    static result<broadcast_writer> format(void* memory, std::uint64_t size,
                                           const broadcast_config& config) noexcept;
    static result<broadcast_writer> attach(void* memory, std::uint64_t size) noexcept;

    // Copies one message in and publishes it. message_too_large above max_message();
    // wrong_process in a child that inherited the writer across fork().
    [[nodiscard]] errc write(const void* data, std::size_t size) noexcept;
    // A zero-copy slot of `size` bytes (message_too_large above max_message(); wrong_process).
    // It is published by its commit(); dropped uncommitted, nothing is.
    result<reservation> reserve(std::size_t size) noexcept;
    // Counts `count` messages as lost before the next one this writer publishes, as if readers
    // had been lapped over them: a reader reading in order gets them in that message's
    // message_info::lost and in total_lost() (not in overruns(), which counts laps). For a writer
    // that forwards messages from elsewhere and learns some never arrived (the DDS bridge).
    // invalid_argument if the sequence numbers would pass 2^64 - 1; wrong_process.
    [[nodiscard]] errc skip(std::uint64_t count) noexcept;

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t max_message() const noexcept { return max_message_; }
    // Sequence numbers used: messages published plus those skip() counted as lost.
    std::uint64_t messages_written() const noexcept { return next_seq_; }

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, bool role_claimed) noexcept;
    // Makes room for a record of `size` bytes at reserved_pos_ (evicting old ones).
    errc reserve_space(std::size_t size) noexcept;
    void publish(std::uint64_t record_pos, std::size_t used) noexcept;
    static void finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
};

// ---- reader --------------------------------------------------------------------------------

namespace detail {
struct broadcast_reader_state : ring_mapping<broadcast_control> {
    wait_options wait_{};
    std::uint64_t pos_ = 0, expected_ = 0;
    std::uint64_t lost_ = 0, total_lost_ = 0, overruns_ = 0;
    std::uint64_t unreported_ = 0;  // lost since the message last returned: the next one's `lost`
    std::uint32_t pending_size_ = 0;
    void drop() noexcept { segment_.close(); }
};
}  // namespace detail

class broadcast_reader : public detail::handle<detail::broadcast_reader_state> {
public:
    static result<broadcast_reader> open(const char* name,
                                         const broadcast_reader_options& options = {}) noexcept;
    static result<broadcast_reader> attach(void* memory, std::uint64_t size,
                                           const broadcast_reader_options& options = {}) noexcept;

    // Copies the next message into buffer. If the writer lapped this reader, that is the oldest
    // message still intact, and its message_info::lost says how many were lost just before it.
    // Errors: empty (nothing new); message_too_large (buffer smaller than pending_size();
    // nothing is consumed); stale (the writer lapped this reader again and again within the
    // call, a ring far too small for the rate: try again); invalid_layout (the segment is corrupt).
    result<message_info> try_read(void* buffer, std::size_t capacity) noexcept;
    // As try_read, but waits up to `timeout` for a message (timeout: nothing arrived).
    result<message_info> read(void* buffer, std::size_t capacity, nanoseconds timeout = wait_forever) noexcept;
    // True if try_read would return something other than `empty` (a lapped reader is ready: its
    // read returns the oldest intact message).
    bool poll() const noexcept;
    // Waits up to `timeout` until poll() is true, without consuming anything.
    [[nodiscard]] errc wait(nanoseconds timeout = wait_forever) noexcept;

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t max_message() const noexcept { return max_message_; }
    // Messages lost just before the message last returned (its message_info::lost).
    std::uint64_t lost() const noexcept { return lost_; }
    // Messages lost since attach (laps, and what the writer's skip() counted), and how many
    // times the writer lapped this reader (both count a lap when a read finds it, before the
    // message it returns).
    std::uint64_t total_lost() const noexcept { return total_lost_; }
    std::uint64_t overruns() const noexcept { return overruns_; }
    std::uint64_t pending_size() const noexcept { return pending_size_; }
    std::uint64_t next_seq() const noexcept { return expected_; }   // seq the next message will carry
    bool writer_alive() const noexcept;
    // For select(): ready when poll() is.
    select_source waitable() noexcept;

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, const broadcast_reader_options& options) noexcept;
    errc start_at_head() noexcept;
    errc start_at_oldest() noexcept;
    errc start_at_newest() noexcept;
    errc resync_after_lap() noexcept;
};

}  // namespace shmkit
