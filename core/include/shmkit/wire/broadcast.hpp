// broadcast's control block (core/SPEC.md "broadcast").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

struct broadcast_control {
    // Line written by the writer on every message. Readers that keep up never touch it: they
    // find new records by their headers. It is read when attaching, resynchronising and waiting.
    atomic_u64 head;       // position after the last published record
    atomic_u64 next_seq;   // sequence number of the next message
    atomic_u64 writer;     // the writer role (role.hpp)
    atomic_u64 abandoned;  // reservations dropped without commit
    atomic_u64 takeovers;  // times the writer role was taken from a dead writer
    std::uint64_t reserved0[3];
    // Line written by the writer only when it evicts, in batches of capacity/16 bytes, so the
    // check every read makes against it is almost always a cache hit.
    atomic_u64 tail;       // position of the oldest record not being overwritten
    std::uint64_t reserved1[7];
    // Line written only by readers that go to sleep, so they never disturb the writer's lines.
    wait_word wake;
    std::uint64_t reserved2[6];
};
static_assert(sizeof(broadcast_control) == 192);
static_assert(offsetof(broadcast_control, head) == 0);
static_assert(offsetof(broadcast_control, next_seq) == 8);
static_assert(offsetof(broadcast_control, writer) == 16);
static_assert(offsetof(broadcast_control, abandoned) == 24);
static_assert(offsetof(broadcast_control, takeovers) == 32);
static_assert(offsetof(broadcast_control, reserved0) == 40);
static_assert(offsetof(broadcast_control, tail) == 64);
static_assert(offsetof(broadcast_control, reserved1) == 72);
static_assert(offsetof(broadcast_control, wake) == 128);
static_assert(offsetof(broadcast_control, reserved2) == 144);

inline constexpr std::uint32_t broadcast_control_offset = 128;
inline constexpr std::uint32_t broadcast_ring_offset = 320;

}  // namespace shmkit
