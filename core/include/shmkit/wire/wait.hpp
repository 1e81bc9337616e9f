// The shared word every blocking wait sleeps on (core/SPEC.md "Wait words").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"

namespace shmkit {

struct wait_word {
    atomic_u32 sequence;     // the futex word: bumped by every notify that has someone to wake
    std::uint32_t reserved;  // 0
    atomic_u64 waiters;      // bits 0..31: waits between announcing and leaving; 32..63: epoch
};
static_assert(sizeof(wait_word) == 16);
static_assert(offsetof(wait_word, sequence) == 0);
static_assert(offsetof(wait_word, reserved) == 4);
static_assert(offsetof(wait_word, waiters) == 8);

}  // namespace shmkit
