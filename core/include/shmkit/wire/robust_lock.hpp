// A crash-robust mutex word in shared memory (core/SPEC.md "Robust lock").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/wire/wait.hpp"

namespace shmkit {

struct robust_lock {
    atomic_u64 owner;  // holder: pid | start token << 32; 0 = free
    wait_word wake;    // lockers sleeping until it is released
};
static_assert(sizeof(robust_lock) == 24);
static_assert(offsetof(robust_lock, owner) == 0);
static_assert(offsetof(robust_lock, wake) == 8);

}  // namespace shmkit
