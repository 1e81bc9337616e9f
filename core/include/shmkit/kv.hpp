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

#include "shmkit/atomic.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/robust_lock.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

struct kv_geometry {
    std::uint32_t key_count;
    std::uint32_t max_key;       // bytes of a key name
    std::uint32_t max_value;     // bytes of a value
    std::uint32_t reserved0;
    std::uint64_t entry_stride;  // bytes per entry, a multiple of 64
    std::uint64_t entries_offset;
    std::uint64_t reserved1[4];
};
static_assert(sizeof(kv_geometry) == 64);
static_assert(offsetof(kv_geometry, key_count) == 0);
static_assert(offsetof(kv_geometry, max_key) == 4);
static_assert(offsetof(kv_geometry, max_value) == 8);
static_assert(offsetof(kv_geometry, reserved0) == 12);
static_assert(offsetof(kv_geometry, entry_stride) == 16);
static_assert(offsetof(kv_geometry, entries_offset) == 24);
static_assert(offsetof(kv_geometry, reserved1) == 32);

struct kv_control {
    atomic_u64 epoch;       // bumped by every write: the ticket of the newest write
    atomic_u64 recoveries;  // key locks taken from a writer that died
    std::uint64_t reserved0[6];
    wait_word wake;         // processes waiting for any change
    std::uint64_t reserved1[6];
};
static_assert(sizeof(kv_control) == 128);
static_assert(offsetof(kv_control, epoch) == 0);
static_assert(offsetof(kv_control, recoveries) == 8);
static_assert(offsetof(kv_control, reserved0) == 16);
static_assert(offsetof(kv_control, wake) == 64);
static_assert(offsetof(kv_control, reserved1) == 80);

// One per key, a multiple of 64 bytes; every atomic naturally aligned whatever the key and
// value sizes. Key bytes at +64, value bytes at +64 + round_up(max_key, 8).
// Name lookup is a chained hash table written by the creator: a key named N is found by
// following `bucket` of entry kv_name_hash(N) % key_count, then `next_in_bucket`.
struct kv_entry {
    robust_lock lock;        // serialises writers of this key
    atomic_u64 seq;          // even: stable; odd: being written
    atomic_u64 epoch;        // ticket of the last write to this key (0: never written)
    atomic_u32 value_length;
    std::uint32_t key_length;      // immutable
    std::uint32_t bucket;          // immutable: 1 + index of the first key of bucket #index; 0: none
    std::uint32_t next_in_bucket;  // immutable: 1 + index of the next key of this key's bucket; 0: last
    std::uint64_t reserved;
};
static_assert(sizeof(kv_entry) == 64);
static_assert(offsetof(kv_entry, lock) == 0);
static_assert(offsetof(kv_entry, seq) == 24);
static_assert(offsetof(kv_entry, epoch) == 32);
static_assert(offsetof(kv_entry, value_length) == 40);
static_assert(offsetof(kv_entry, key_length) == 44);
static_assert(offsetof(kv_entry, bucket) == 48);
static_assert(offsetof(kv_entry, next_in_bucket) == 52);
static_assert(offsetof(kv_entry, reserved) == 56);

// The hash of a key name that places it in the lookup table (FNV-1a, 64-bit): part of the wire
// format, every process must compute the same.
std::uint64_t kv_name_hash(const void* name, std::size_t length) noexcept;

inline constexpr std::uint32_t kv_header_size = 128;
inline constexpr std::uint32_t kv_control_offset = 128;
inline constexpr std::uint32_t kv_entries_offset = 256;

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

class kv_store {
public:
    kv_store() noexcept = default;
    kv_store(kv_store&& other) noexcept;
    kv_store& operator=(kv_store&& other) noexcept;
    kv_store(const kv_store&) = delete;
    kv_store& operator=(const kv_store&) = delete;
    ~kv_store() = default;

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
    // Waits until the epoch passes `since`.
    [[nodiscard]] errc wait_change(std::uint64_t since, nanoseconds timeout = wait_forever) noexcept;
    select_source waitable(std::uint64_t* since) noexcept;

    std::uint64_t pending_size() const noexcept { return pending_size_; }
    bool is_open() const noexcept { return control_ != nullptr; }
    void close() noexcept;

private:
    errc bind(std::uint8_t* base, std::uint64_t size) noexcept;
    static result<kv_store> from_segment(segment&& s, const kv_options& options) noexcept;
    kv_entry& entry(std::uint32_t index) const noexcept;
    std::uint8_t* key_bytes(std::uint32_t index) const noexcept;
    std::uint8_t* value_bytes(std::uint32_t index) const noexcept;

    segment segment_;
    kv_geometry geometry_{};
    kv_control* control_ = nullptr;
    std::uint8_t* entries_ = nullptr;
    barrier_mode barriers_ = barrier_mode::fences;
    kv_options options_{};
    std::size_t pending_size_ = 0;
    std::uint64_t* waiting_since_ = nullptr;  // select: the caller's epoch
};

}  // namespace shmkit
