// kv: fixed-schema key/value state (memkv parity, without its bugs). The owner creates N keys
// (unique names, a maximum key and value length); any process reads or writes any key. Reads
// are lock-free (a per-key seqlock) and never return a torn value; a read that cannot settle
// within its retry budget says so (stale). Values are bytes with an explicit length (embedded
// NULs kept); an oversize value is refused, never truncated. A global epoch and per-key epochs
// answer "which keys changed since epoch E", and a blocking wait returns on any change.
// Layout: core/SPEC.md "kv".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/robust_lock.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/kv.hpp"

namespace shmkit {

struct kv_config {
    std::uint32_t max_key = 32;
    std::uint32_t max_value = 256;
};

struct kv_options {
    std::uint32_t read_retries = 1000;   // seqlock retries before a read reports stale
    lock_options lock{};                 // a key's write lock
    wait_options wait{};
    segment_options segment{};
};

struct kv_value_info {
    std::uint64_t size = 0;
    std::uint64_t epoch = 0;  // ticket of the write that produced this value
};

struct kv_info {
    std::uint32_t key_count = 0, max_key = 0, max_value = 0;
    std::uint64_t epoch = 0, recoveries = 0;
};
errc inspect_kv(const void* base, std::uint64_t size, kv_info* out) noexcept;

namespace detail {
struct kv_store_state {
    segment segment_;
    kv_geometry geometry_{};
    kv_control* control_ = nullptr;
    std::uint8_t* entries_ = nullptr;
    barrier_mode barriers_ = barrier_mode::fences;
    kv_options options_{};
    std::size_t pending_size_ = 0;
    std::uint64_t* waiting_since_ = nullptr;  // select: the caller's epoch
    void drop() noexcept { segment_.close(); }
};
}  // namespace detail

class kv_store : public detail::handle<detail::kv_store_state> {
public:
    // Creates the store with `count` keys (NUL-terminated names): already_exists for a duplicate
    // name, invalid_argument for an empty or too long one.
    static result<kv_store> create(const char* name, const char* const* keys, std::uint32_t count,
                                   const kv_config& config = {}, const kv_options& options = {}) noexcept;
    static result<kv_store> open(const char* name, const kv_options& options = {}) noexcept;
    // The same in caller-given memory (64-byte aligned) of exactly segment_size() bytes (0: a
    // configuration create() would refuse).
    static result<kv_store> format(void* memory, std::uint64_t size, const char* const* keys, std::uint32_t count,
                                   const kv_config& config = {}, const kv_options& options = {}) noexcept;
    static std::uint64_t segment_size(const char* const* keys, std::uint32_t count, const kv_config& config = {}) noexcept;
    // A store in caller-given memory (64-byte aligned) that holds a published kv segment.
    static result<kv_store> attach(void* memory, std::uint64_t size, const kv_options& options = {}) noexcept;

    std::uint32_t key_count() const noexcept { return geometry_.key_count; }
    std::uint64_t max_value() const noexcept { return geometry_.max_value; }
    // The key's index: not_found.
    result<std::uint32_t> find(const char* key, std::size_t length) const noexcept;
    result<std::uint32_t> find(const char* key) const noexcept;
    // The name of key `index` (not NUL-terminated) and its length.
    const char* key_name(std::uint32_t index, std::size_t* length) const noexcept;

    // ok; message_too_large (refused, nothing written); out_of_range (bad index); lock_timeout
    // (another live writer of this key held its lock past `timeout`; forever by default, as every
    // wait). A key whose previous writer died mid-write is recovered and written (counted).
    [[nodiscard]] errc set(std::uint32_t index, const void* value, std::size_t size,
                           nanoseconds timeout = wait_forever) noexcept;
    [[nodiscard]] errc set(const char* key, const void* value, std::size_t size,
                           nanoseconds timeout = wait_forever) noexcept;
    // Lock-free: the value and its epoch; empty (never written); stale (did not settle);
    // message_too_large (see pending_size()).
    result<kv_value_info> get(std::uint32_t index, void* buffer, std::size_t capacity) noexcept;
    result<kv_value_info> get(const char* key, void* buffer, std::size_t capacity) noexcept;

    // The newest write's ticket.
    std::uint64_t epoch() const noexcept;
    // Indices of keys changed after `since` (and keys being written right now), up to `capacity`
    // of them, plus the epoch to pass next time. Never misses a change.
    result<std::uint32_t> changed_since(std::uint64_t since, std::uint32_t* indices, std::uint32_t capacity,
                                        std::uint64_t* current) const noexcept;
    // The same keys with their values: each changed key's value is read into `buffer` as get()
    // reads it (lock-free, the value with the epoch of its write), then `visit(index, value)` is
    // called with get()'s result (ok: the bytes are in `buffer`, which max_value() bytes always
    // suffice for; otherwise get()'s error for that key, such as stale, and the scan goes on).
    // Returns how many keys were visited, plus the epoch to pass next time: a value written
    // during the call may be newer than it, and is reported again next time. If any value could
    // not be read, that epoch is `since` itself, so the next call reads every key again: no
    // value is ever missed.
    template <class Visit>
    result<std::uint32_t> changed_since(std::uint64_t since, void* buffer, std::size_t capacity,
                                        std::uint64_t* current, Visit&& visit) noexcept {
        bool unread = false;
        auto n = for_each_changed(since, current, [&](std::uint32_t index) {
            const result<kv_value_info> value = get(index, buffer, capacity);
            unread = unread || !value;
            visit(index, value);
            return errc::ok;
        });
        if (n && unread) *current = since;
        return n;
    }
    // Waits until the epoch passes `since`.
    [[nodiscard]] errc wait_change(std::uint64_t since, nanoseconds timeout = wait_forever) noexcept;
    select_source waitable(std::uint64_t* since) noexcept;

    std::uint64_t pending_size() const noexcept { return pending_size_; }
    bool is_open() const noexcept { return control_ != nullptr; }

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, const kv_options& options) noexcept;
    // Whether key `index` is being written or was written after `since` (see changed_since).
    bool changed_after(std::uint32_t index, std::uint64_t since) const noexcept;
    // The one scan of both changed_since() forms: `on_changed(index)` for each changed key, in
    // index order; an error it returns ends the scan with that error.
    template <class OnChanged>
    result<std::uint32_t> for_each_changed(std::uint64_t since, std::uint64_t* current,
                                           OnChanged&& on_changed) const noexcept {
        if (control_ == nullptr) return errc::not_open;
        // Before the scan, acquire: every write whose ticket this includes marked its key odd
        // before taking it, so the scan sees that key odd or stamped (SPEC "kv").
        const std::uint64_t now = epoch();
        std::uint32_t n = 0;
        for (std::uint32_t i = 0; i < geometry_.key_count; ++i) {
            if (!changed_after(i, since)) continue;
            if (const errc e = on_changed(i); failed(e)) return e;
            ++n;
        }
        *current = now;
        return n;
    }
    kv_entry& entry(std::uint32_t index) const noexcept;
    std::uint8_t* key_bytes(std::uint32_t index) const noexcept;
    std::uint8_t* value_bytes(std::uint32_t index) const noexcept;
};

}  // namespace shmkit
