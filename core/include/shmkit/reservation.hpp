// What reserve() returns on every writer (broadcast, spsc, command, stream, video, audio): space
// in shared memory to fill in place. commit() publishes it; destroyed, moved over or abandoned
// uncommitted, it publishes nothing. At most one per writer at a time (a command writer may hold
// several claims); the writer must stay where it is (not moved, not closed) until the
// reservation is finished.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/handle.hpp"
#include "shmkit/wire/slot_ring.hpp"  // slot_meta_words

namespace shmkit {

class broadcast_writer;
class spsc_producer;
class channel_writer;
class command_writer;
class slot_writer;

namespace detail {
struct reservation_state;
// How a writer kind finishes its reservations: publish `used` bytes, or (publish false) give
// the space up. One function per kind, so one reservation type serves every writer.
using finish_reservation = void (*)(reservation_state& r, std::size_t used, bool publish) noexcept;

struct reservation_state {
    void* writer_ = nullptr;  // null: finished or empty
    finish_reservation finish_ = nullptr;
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t index_ = 0;       // slot kinds: the sample's index
    std::uint64_t position_ = 0;    // where the writer placed it (the kind's own use)
    std::uint64_t claimed_as_ = 0;  // the process that reserved it (this_process())
    std::uint64_t meta[slot_meta_words] = {};
    // Uncommitted: gives the space up (the writer's finish, with publish false).
    void drop() noexcept {
        if (writer_ == nullptr) return;
        finish_(*this, 0, false);
        writer_ = nullptr;
    }
};
}  // namespace detail

class reservation : private detail::handle<detail::reservation_state> {
public:
    reservation() noexcept = default;

    std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    // Slot kinds (stream, video, audio): the sample's index, from 0 (0 for message kinds).
    std::uint64_t index() const noexcept { return index_; }
    bool is_open() const noexcept { return writer_ != nullptr; }
    // Slot kinds: per-sample fields (video pts, ...) stored with the sample at commit.
    using detail::reservation_state::meta;

    // Publishes the first `used` bytes (used <= size()). Only in the process that reserved it,
    // not in a child that inherited it across fork().
    void commit(std::size_t used) noexcept;
    void commit() noexcept { commit(size_); }
    // Gives the space up unpublished, as destruction does.
    void abandon() noexcept { close(); }

private:
    friend class broadcast_writer;
    friend class spsc_producer;
    friend class channel_writer;
    friend class command_writer;
    friend class slot_writer;
    reservation(void* writer, detail::finish_reservation finish, std::uint8_t* data, std::size_t size,
                std::uint64_t claimed_as) noexcept {
        writer_ = writer;
        finish_ = finish;
        data_ = data;
        size_ = size;
        claimed_as_ = claimed_as;
    }
};

}  // namespace shmkit
