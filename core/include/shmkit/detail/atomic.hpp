// Atomics for shared layouts. std::atomic<T> is not guaranteed to have T's size and
// alignment, and offsetof on it is only conditionally supported, so shared structs hold
// plain fixed-width integers wrapped here and touched only through the __atomic builtins.
// The wrapper is standard-layout and trivially copyable, so offsetof/sizeof pin it exactly.
//
// Every atomic access to shared memory in the core goes through this header: shm_atomic's
// members, load_shared/store_shared for fields that are plain integers in a layout (record
// headers, geometry read back from a segment, copied payload words), and fence(). That is what
// makes the core model-checkable: built with SHMKIT_MODEL_CHECK, each of them calls a hook
// (namespace shmkit::model, implemented by tests/model over the Relacy race detector), which
// simulates the C++ memory model, relaxed and acquire/release behaviour included, over many
// thread schedules. The layouts are the same in both builds.
#pragma once

#include <cstdint>
#include <type_traits>

#include "shmkit/wire/config.hpp"

namespace shmkit {

enum class order : int {
    relaxed = __ATOMIC_RELAXED,
    acquire = __ATOMIC_ACQUIRE,
    release = __ATOMIC_RELEASE,
    acq_rel = __ATOMIC_ACQ_REL,
    seq_cst = __ATOMIC_SEQ_CST,
};

#if defined(SHMKIT_MODEL_CHECK)
// The model checker's side (tests/model/model_port.cpp). `file` and `line` name the core's
// call site in the checker's reports. Addresses outside the memory under test fall through to
// the real builtins.
namespace model {
enum class rmw : int { exchange, add, sub, bit_or };
std::uint64_t load(const void* address, unsigned size, order o, const char* file, int line) noexcept;
void store(void* address, unsigned size, std::uint64_t value, order o, const char* file, int line) noexcept;
std::uint64_t read_modify_write(void* address, unsigned size, rmw op, std::uint64_t operand, order o, const char* file,
                                int line) noexcept;
bool compare_exchange(void* address, unsigned size, std::uint64_t* expected, std::uint64_t desired, order success,
                      order failure, const char* file, int line) noexcept;
void fence(order o, const char* file, int line) noexcept;
}  // namespace model
// The call site, for the checker's reports (a default argument evaluated where the call is).
#define SHMKIT_CALL_SITE , const char *file = __builtin_FILE(), int line = __builtin_LINE()
#define SHMKIT_PASS_CALL_SITE , file, line
#else
#define SHMKIT_CALL_SITE
#define SHMKIT_PASS_CALL_SITE
#endif

// An atomic load or store of a fixed-width integer field in shared memory.
template <class T>
inline T load_shared(const T* address, order o SHMKIT_CALL_SITE) noexcept {
    static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "shared atomics are u32 or u64");
#if defined(SHMKIT_MODEL_CHECK)
    return static_cast<T>(model::load(address, sizeof(T), o SHMKIT_PASS_CALL_SITE));
#else
    return __atomic_load_n(address, static_cast<int>(o));
#endif
}

template <class T>
inline void store_shared(T* address, T value, order o SHMKIT_CALL_SITE) noexcept {
    static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8), "shared atomics are u32 or u64");
#if defined(SHMKIT_MODEL_CHECK)
    model::store(address, sizeof(T), value, o SHMKIT_PASS_CALL_SITE);
#else
    __atomic_store_n(address, value, static_cast<int>(o));
#endif
}

template <class T>
struct alignas(sizeof(T)) shm_atomic {
    static_assert(std::is_unsigned_v<T> && (sizeof(T) == 4 || sizeof(T) == 8),
                  "shared atomics are u32 or u64");
    // A lock-based atomic would put a process-local lock around shared memory: useless.
    static_assert(__atomic_always_lock_free(sizeof(T), 0),
                  "this target cannot do lock-free atomics of this width in shared memory");

    T raw;  // never touched directly; only through the members below

#if defined(SHMKIT_MODEL_CHECK)
    T load(order o SHMKIT_CALL_SITE) const noexcept { return load_shared(&raw, o SHMKIT_PASS_CALL_SITE); }
    void store(T v, order o SHMKIT_CALL_SITE) noexcept { store_shared(&raw, v, o SHMKIT_PASS_CALL_SITE); }
    T exchange(T v, order o SHMKIT_CALL_SITE) noexcept { return rmw(model::rmw::exchange, v, o SHMKIT_PASS_CALL_SITE); }
    T fetch_add(T v, order o SHMKIT_CALL_SITE) noexcept { return rmw(model::rmw::add, v, o SHMKIT_PASS_CALL_SITE); }
    T fetch_sub(T v, order o SHMKIT_CALL_SITE) noexcept { return rmw(model::rmw::sub, v, o SHMKIT_PASS_CALL_SITE); }
    T fetch_or(T v, order o SHMKIT_CALL_SITE) noexcept { return rmw(model::rmw::bit_or, v, o SHMKIT_PASS_CALL_SITE); }
    bool compare_exchange(T& expected, T desired, order success, order failure SHMKIT_CALL_SITE) noexcept {
        std::uint64_t e = expected;
        const bool ok = model::compare_exchange(&raw, sizeof(T), &e, desired, success, failure SHMKIT_PASS_CALL_SITE);
        expected = static_cast<T>(e);
        return ok;
    }

private:
    T rmw(model::rmw op, T v, order o, const char* file, int line) noexcept {
        return static_cast<T>(model::read_modify_write(&raw, sizeof(T), op, v, o, file, line));
    }

public:
#else
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
#endif
};

using atomic_u32 = shm_atomic<std::uint32_t>;
using atomic_u64 = shm_atomic<std::uint64_t>;

static_assert(sizeof(atomic_u32) == 4 && alignof(atomic_u32) == 4);
static_assert(sizeof(atomic_u64) == 8 && alignof(atomic_u64) == 8);
static_assert(std::is_standard_layout_v<atomic_u64> && std::is_trivially_copyable_v<atomic_u64>);

// Every call site says why it needs its fence; see core/SPEC.md "Memory ordering".
inline void fence(order o SHMKIT_CALL_SITE) noexcept {
#if defined(SHMKIT_MODEL_CHECK)
    model::fence(o SHMKIT_PASS_CALL_SITE);
#else
    __atomic_thread_fence(static_cast<int>(o));
#endif
}

// The two sides of a Dekker pair (a store, then a load of what the other side stored). The
// frequent side calls light_barrier(), the rare side heavy_barrier(); either way, at least one
// side's load sees the other side's store. How depends on the segment, whose creator records
// the mode every process attached to it uses (core/SPEC.md "Light and heavy barriers"):
//   fences:     a seq_cst fence on both sides;
//   membarrier: a compiler barrier on the light side, membarrier(GLOBAL_EXPEDITED) on the heavy.
enum class barrier_mode : std::uint8_t { fences = 0, membarrier = 1 };
void light_barrier(barrier_mode mode) noexcept;
void heavy_barrier(barrier_mode mode) noexcept;

// A hint that `address` will be read soon: the CPU fetches its line in the background. No
// effect on what any load returns, so it needs no ordering argument.
inline void prefetch(const void* address) noexcept {
#if defined(__GNUC__)
    __builtin_prefetch(address, 0, 3);
#else
    static_cast<void>(address);
#endif
}

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
