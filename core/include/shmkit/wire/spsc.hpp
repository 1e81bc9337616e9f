// spsc's control block (core/SPEC.md "spsc").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/wait.hpp"

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

}  // namespace shmkit
