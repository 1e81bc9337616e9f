// Atomics for shared layouts. std::atomic<T> is not guaranteed to have T's size and
// alignment, and offsetof on it is only conditionally supported, so shared structs hold
// plain fixed-width integers wrapped here and touched only through the __atomic builtins.
// The wrapper is standard-layout and trivially copyable, so offsetof/sizeof pin it exactly.
#pragma once

#include <cstdint>
#include <type_traits>

#include "shmkit/config.hpp"

namespace shmkit {

enum class order : int {
    relaxed = __ATOMIC_RELAXED,
    acquire = __ATOMIC_ACQUIRE,
    release = __ATOMIC_RELEASE,
    acq_rel = __ATOMIC_ACQ_REL,
    seq_cst = __ATOMIC_SEQ_CST,
};

template <class T>
struct alignas(sizeof(T)) shm_atomic {
    static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8),
                  "shared atomics are u32 or u64");
    // A lock-based atomic would put a process-local lock around shared memory: useless.
    static_assert(__atomic_always_lock_free(sizeof(T), 0),
                  "this target cannot do lock-free atomics of this width in shared memory");

    T raw;  // never touched directly; only through the members below

    T load(order o) const noexcept { return __atomic_load_n(&raw, static_cast<int>(o)); }
    void store(T v, order o) noexcept { __atomic_store_n(&raw, v, static_cast<int>(o)); }
    T exchange(T v, order o) noexcept { return __atomic_exchange_n(&raw, v, static_cast<int>(o)); }
    T fetch_add(T v, order o) noexcept { return __atomic_fetch_add(&raw, v, static_cast<int>(o)); }
    T fetch_sub(T v, order o) noexcept { return __atomic_fetch_sub(&raw, v, static_cast<int>(o)); }
    T fetch_or(T v, order o) noexcept { return __atomic_fetch_or(&raw, v, static_cast<int>(o)); }
    // Strong CAS; on failure `expected` receives the current value.
    bool compare_exchange(T& expected, T desired, order success, order failure) noexcept {
        return __atomic_compare_exchange_n(&raw, &expected, desired, false,
                                           static_cast<int>(success), static_cast<int>(failure));
    }
};

using atomic_u32 = shm_atomic<std::uint32_t>;
using atomic_u64 = shm_atomic<std::uint64_t>;

static_assert(sizeof(atomic_u32) == 4 && alignof(atomic_u32) == 4);
static_assert(sizeof(atomic_u64) == 8 && alignof(atomic_u64) == 8);
static_assert(std::is_standard_layout_v<atomic_u64> && std::is_trivially_copyable_v<atomic_u64>);

// Every call site says why it needs its fence; see core/SPEC.md "Memory ordering".
inline void fence(order o) noexcept { __atomic_thread_fence(static_cast<int>(o)); }

// The two sides of a Dekker pair (a store, then a load of what the other side stored). The
// frequent side calls light_barrier(), the rare side heavy_barrier(); either way, at least one
// side's load sees the other side's store. How depends on the segment, whose creator records
// the mode every process attached to it uses (core/SPEC.md "Light and heavy barriers"):
//   fences:     a seq_cst fence on both sides;
//   membarrier: a compiler barrier on the light side, membarrier(GLOBAL_EXPEDITED) on the heavy.
enum class barrier_mode : std::uint8_t { fences = 0, membarrier = 1 };
void light_barrier(barrier_mode mode) noexcept;
void heavy_barrier(barrier_mode mode) noexcept;

// A cheap pause for spin loops (lets the sibling hyperthread run, saves power on ARM).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

}  // namespace shmkit
