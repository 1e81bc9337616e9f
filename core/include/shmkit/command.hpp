// command: many writers, one reader (control paths: UI -> capture process). Writers claim
// space under a short robust lock, fill it without holding anything, and commit; the reader
// takes commands in claim order (a command whose write returned before another's began
// arrives first). A writer killed between claiming and committing never wedges the channel:
// once the reader has waited one liveness period on that claim and sees its writer dead, it
// skips it and counts it (`abandoned`, shown by `shmkit info`). A writer killed while holding
// the claim lock is recovered the same way. Layout and algorithm: core/SPEC.md "command".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/byte_ring.hpp"
#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/ring_mapping.hpp"
#include "shmkit/detail/robust_lock.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/message.hpp"
#include "shmkit/reservation.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/command.hpp"

namespace shmkit {

struct command_config {
    std::uint64_t capacity = 64u << 10;  // ring bytes (rounded up to 16; at least 256)
    std::uint32_t max_message = 0;       // 0 = as large as allowed (about capacity/2)
};

struct command_options {
    wait_options wait{};
    lock_options lock{};                              // the claim lock
    std::uint64_t liveness_period_ns = 100'000'000;   // reader: how long a claim may stay
                                                      // uncommitted before its writer is checked
    segment_options segment{};
};

struct command_info {
    std::uint64_t capacity = 0, head = 0, tail = 0, claims = 0, consumed = 0, abandoned = 0;
    std::uint64_t lock_recoveries = 0, reader_takeovers = 0;
    std::uint32_t max_message = 0;
    role_holder reader{}, claim_lock{};
};
errc inspect_command(const void* base, std::uint64_t size, command_info* out) noexcept;

namespace detail {
struct ring_layout;

// What the writers and the reader hold alike: the mapping and the validated geometry.
struct command_end_state : ring_mapping<command_control> {
    command_options options_{};

    // Takes up a layout mapped (and validated) by map_ring_layout, and the options.
    void adopt(std::uint8_t* base, const ring_layout& l, const command_options& options) noexcept {
        ring_mapping::adopt(base, l);
        options_ = options;
    }
    static result<segment> open_segment(const char* name, const command_options& options) noexcept;
};

struct command_writer_state : command_end_state {
    void drop() noexcept { segment_.close(); }  // writers hold no role
};

struct command_reader_state : command_end_state {
    std::uint64_t claimed_as_ = 0;  // the process holding the reader role through this handle
    std::uint64_t tail_ = 0;
    std::uint64_t delivered_ = 0;
    std::uint64_t pending_pos_ = ~std::uint64_t{0};  // position of a claim we are waiting on
    std::uint64_t pending_since_ = 0;                // when we first saw it uncommitted
    std::uint32_t pending_size_ = 0;
    void drop() noexcept;  // gives up the reader role and unmaps
};

// The calls the writers and the reader both have.
template <class State>
class command_end : public handle<State> {
public:
    bool is_open() const noexcept { return this->control_ != nullptr; }
    std::uint64_t max_message() const noexcept { return this->max_message_; }
};
}  // namespace detail

class command_writer : public detail::command_end<detail::command_writer_state> {
public:
    static result<command_writer> open(const char* name, const command_options& options = {}) noexcept;
    static result<command_writer> attach(void* memory, std::uint64_t size, const command_options& options = {}) noexcept;

    // ok, full, message_too_large, lock_timeout.
    [[nodiscard]] errc try_write(const void* data, std::size_t size) noexcept;
    // Waits up to `timeout` for room (and for the claim lock): ok, timeout, message_too_large.
    [[nodiscard]] errc write(const void* data, std::size_t size, nanoseconds timeout = wait_forever) noexcept;
    // Zero-copy: a claim of `size` bytes in place. Dropped uncommitted, it becomes a skip record
    // the reader steps over.
    result<reservation> try_reserve(std::size_t size) noexcept;
    result<reservation> reserve(std::size_t size, nanoseconds timeout = wait_forever) noexcept;

    bool reader_alive() const noexcept;

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, const command_options& options) noexcept;
    // Claims `size` bytes at *pos for this process.
    errc claim(std::size_t size, std::uint64_t deadline_ns, bool wait, std::uint64_t* pos) noexcept;
    result<reservation> reserve_at(std::size_t size, std::uint64_t deadline_ns, bool wait) noexcept;
    errc write_at(const void* data, std::size_t size, std::uint64_t deadline_ns, bool wait) noexcept;
    void finish_claim(std::uint64_t pos, std::size_t reserved, std::size_t used, bool commit) noexcept;
    static void finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
};

class command_reader : public detail::command_end<detail::command_reader_state> {
public:
    // Bytes a segment with this configuration occupies; 0 for a capacity beyond max_segment_bytes.
    static std::uint64_t segment_size(const command_config& config) noexcept;
    static result<command_reader> create(const char* name, const command_config& config = {},
                                         const command_options& options = {}) noexcept;
    static result<command_reader> open(const char* name, const command_options& options = {}) noexcept;
    static result<command_reader> format(void* memory, std::uint64_t size, const command_config& config,
                                         const command_options& options = {}) noexcept;
    static result<command_reader> attach(void* memory, std::uint64_t size, const command_options& options = {}) noexcept;

    // The next command: empty (none committed yet); message_too_large (see pending_size(),
    // nothing consumed); invalid_layout. message_info::seq counts commands delivered.
    result<message_info> try_read(void* buffer, std::size_t capacity) noexcept;
    result<message_info> read(void* buffer, std::size_t capacity, nanoseconds timeout = wait_forever) noexcept;
    // A committed command (or an abandoned claim to skip) is at the front, or the segment's
    // positions are corrupt (try_read then reports invalid_layout).
    bool poll() const noexcept;
    // How long a wait may sleep before the front claim's writer must be checked (0: no limit).
    std::uint64_t recheck_after_ns() const noexcept;

    std::uint64_t pending_size() const noexcept { return pending_size_; }
    std::uint64_t abandoned() const noexcept;
    // For select(): ready when poll() is; while a claim is pending, asks to be looked at once
    // per liveness period (its writer may have died).
    select_source waitable() noexcept;

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, const command_options& options, bool role_claimed) noexcept;
    void advance(std::uint64_t span) noexcept;
    // What is at the front: nothing, a record to take (a message, or one to skip), or a claim
    // a writer is still filling.
    enum class front { none, ready, claimed };
    front front_state() const noexcept;
    // For the uncommitted claim at the front: starts its clock when first seen, and says
    // whether it has been pending a whole liveness period (time to check its writer).
    bool claim_overdue(std::uint64_t now) noexcept;
};

}  // namespace shmkit
