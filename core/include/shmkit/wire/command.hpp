// command's control block (core/SPEC.md "command").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/robust_lock.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

struct command_control {
    // Writers' line, changed under `claim`.
    robust_lock claim;          // serialises claims (a few stores long)
    atomic_u64 head;            // position after the last claimed record
    atomic_u64 claims;          // records claimed so far
    atomic_u64 lock_recoveries; // claim locks taken from a dead writer
    std::uint64_t reserved0[2];
    // The reader's line.
    atomic_u64 tail;            // position of the first record not yet consumed
    atomic_u64 reader;          // the reader role
    atomic_u64 consumed;        // commands delivered
    atomic_u64 abandoned;       // claims skipped because their writer died
    atomic_u64 reader_takeovers;
    std::uint64_t reserved1[3];
    wait_word data;             // the reader sleeps here for committed commands
    std::uint64_t reserved2[6];
    wait_word space;            // writers sleep here for room
    std::uint64_t reserved3[6];
};
static_assert(sizeof(command_control) == 256);
static_assert(offsetof(command_control, claim) == 0);
static_assert(offsetof(command_control, head) == 24);
static_assert(offsetof(command_control, claims) == 32);
static_assert(offsetof(command_control, lock_recoveries) == 40);
static_assert(offsetof(command_control, reserved0) == 48);
static_assert(offsetof(command_control, tail) == 64);
static_assert(offsetof(command_control, reader) == 72);
static_assert(offsetof(command_control, consumed) == 80);
static_assert(offsetof(command_control, abandoned) == 88);
static_assert(offsetof(command_control, reader_takeovers) == 96);
static_assert(offsetof(command_control, reserved1) == 104);
static_assert(offsetof(command_control, data) == 128);
static_assert(offsetof(command_control, reserved2) == 144);
static_assert(offsetof(command_control, space) == 192);
static_assert(offsetof(command_control, reserved3) == 208);

inline constexpr std::uint32_t command_ring_offset = 384;

}  // namespace shmkit
