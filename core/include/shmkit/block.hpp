// block: a raw named block of shared bytes (pymembus memmap parity), with a cross-process
// reader-writer lock in its header for the code that needs one (the typed view in typed.hpp
// takes it on every call). Opening or mapping a block never touches a lock others hold.
// Layout: core/SPEC.md "block".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/detail/rwlock.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/block.hpp"

namespace shmkit {

struct block_config {
    std::uint64_t size = 4096;        // data bytes
    std::uint32_t reader_slots = 64;  // handles that may lock at the same time (1..4096)
};

struct block_options {
    os::access access = os::access::read_write;
    lock_options lock{};
    segment_options segment{};
};

struct block_info {
    std::uint64_t data_offset = 0, data_size = 0, recoveries = 0;
    std::uint32_t slot_count = 0, slots_in_use = 0, readers = 0;
    role_holder writer{};
};
errc inspect_block(const void* base, std::uint64_t size, block_info* out) noexcept;

namespace detail {
struct block_state {
    segment segment_;
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    bool writable_ = false;
    rwlock lock_;
    std::uint32_t slot_ = 0;
    std::uint64_t slot_owner_ = 0;  // the identity the slot was claimed with
    bool has_slot_ = false;
    lock_options lock_options_{};
    void drop() noexcept;  // gives up the lock slot and unmaps
};
}  // namespace detail

class block : public detail::handle<detail::block_state> {
public:
    static result<block> create(const char* name, const block_config& config = {},
                                const block_options& options = {}) noexcept;
    // Read-only (options.access): the data is mapped read-only, so a stray store faults and the
    // write calls return access_denied; locking still works if the object can be opened for
    // writing (only the lock pages are then writable), else lock calls return access_denied.
    static result<block> open(const char* name, const block_options& options = {}) noexcept;
    // Opens the block of that name, or creates it with `config` if there is none (pymembus's
    // `create`), in one call: of processes racing to do so, one creates and the others open its
    // block. size_mismatch if the block there has another data size (its reader slots are
    // whatever it was created with). invalid_argument for a read-only `options.access` or with
    // `segment.replace_existing` (to start afresh, create()).
    static result<block> open_or_create(const char* name, const block_config& config = {},
                                        const block_options& options = {}) noexcept;
    // Bytes a segment with this configuration occupies; 0 for one create() refuses.
    static std::uint64_t segment_size(const block_config& config) noexcept;
    static result<block> format(void* memory, std::uint64_t size, const block_config& config,
                                const block_options& options = {}) noexcept;
    static result<block> attach(void* memory, std::uint64_t size, const block_options& options = {}) noexcept;

    bool is_open() const noexcept { return data_ != nullptr; }
    bool writable() const noexcept { return writable_; }
    std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }

    // Bounds-checked copies (no locking): ok, out_of_range, access_denied.
    [[nodiscard]] errc write_at(std::size_t offset, const void* src, std::size_t n) noexcept;
    [[nodiscard]] errc read_at(std::size_t offset, void* dst, std::size_t n) const noexcept;

    // The lock: ok, owner_dead (acquired; a writer died holding it), lock_timeout, access_denied.
    [[nodiscard]] errc lock_shared(nanoseconds timeout = wait_forever) noexcept;
    void unlock_shared() noexcept;
    [[nodiscard]] errc lock(nanoseconds timeout = wait_forever) noexcept;
    void unlock() noexcept;
    // After owner_dead: called while holding the write lock once the data is repaired; until
    // then every locker is told owner_dead.
    void mark_consistent() noexcept;
    bool can_lock() const noexcept { return has_slot_; }

    // Snapshots of the lock, for monitoring (by the time the caller looks, they may have
    // changed; lock instead of deciding from them). 0 and false on a closed handle.
    // Read locks held by live processes, this handle's included.
    std::uint32_t reader_count() const noexcept;
    // Whether a live process holds the write lock or has claimed it and waits for the readers to
    // leave: new readers wait in both cases. A dead writer's lock does not count.
    bool is_write_locked() const noexcept;

private:
    friend handle;
    errc bind(std::uint8_t* base, std::uint64_t size, const block_options& options, bool lock_writable,
              bool data_writable) noexcept;
};

// RAII guards for block locks; check status() (ok or owner_dead means held). A typed_view made
// from a guard works under its lock (typed.hpp).
class shared_guard {
public:
    explicit shared_guard(block& b, nanoseconds timeout = wait_forever) noexcept : b_(&b), status_(b.lock_shared(timeout)) {}
    ~shared_guard() {
        if (held()) b_->unlock_shared();
    }
    shared_guard(const shared_guard&) = delete;
    shared_guard& operator=(const shared_guard&) = delete;
    errc status() const noexcept { return status_; }
    bool held() const noexcept { return status_ == errc::ok || status_ == errc::owner_dead; }
    block& guarded() const noexcept { return *b_; }

private:
    block* b_;
    errc status_;
};

class unique_guard {
public:
    explicit unique_guard(block& b, nanoseconds timeout = wait_forever) noexcept : b_(&b), status_(b.lock(timeout)) {}
    ~unique_guard() {
        if (held()) b_->unlock();
    }
    unique_guard(const unique_guard&) = delete;
    unique_guard& operator=(const unique_guard&) = delete;
    errc status() const noexcept { return status_; }
    bool held() const noexcept { return status_ == errc::ok || status_ == errc::owner_dead; }
    block& guarded() const noexcept { return *b_; }

private:
    block* b_;
    errc status_;
};

}  // namespace shmkit
