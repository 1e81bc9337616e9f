// Wait/wake on 32-bit words in shared memory: Linux futexes (shared, not FUTEX_PRIVATE,
// because the waiter and the waker are different processes).
//
// Every wait uses FUTEX_WAIT_BITSET with bit 0, and notifiers wake all bits. That leaves
// bits 1..31 for futex_wait_any's helper threads: each also listens on one of them, so the
// selecting thread can cancel its helpers without waking the ordinary waiters on those words.
// The bits are not unique across processes (there are 31), and futex_waitv waiters match any
// bit, so a cancellation may wake another process's select: a harmless spurious wake-up.
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "background_thread.hpp"
#include "errno_map.hpp"
#include "shmkit/os.hpp"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449  // the same number on every Linux architecture
#endif

namespace shmkit::os {
namespace {

constexpr std::uint32_t normal_bit = 1;

// wait_statistics_of_this_process(); a forked child inherits its parent's counts.
std::uint64_t g_waits = 0, g_wakes = 0;
void count_wait() noexcept { __atomic_fetch_add(&g_waits, 1, __ATOMIC_RELAXED); }

timespec absolute_deadline(std::uint64_t timeout_ns) noexcept {
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const std::uint64_t at = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
                             static_cast<std::uint64_t>(now.tv_nsec) + timeout_ns;
    timespec ts;
    ts.tv_sec = static_cast<time_t>(at / 1'000'000'000u);
    ts.tv_nsec = static_cast<long>(at % 1'000'000'000u);
    return ts;
}

// The kernel's struct __kernel_timespec, 64-bit fields on every architecture: what futex_waitv
// and futex_time64 read. glibc's timespec is the same only where long is 64-bit; on a 32-bit
// target (armhf, i686) its tv_nsec is 32-bit, and so is its tv_sec unless the program is built
// with 64-bit time_t, and the kernel would read past it.
struct kernel_timespec {
    std::int64_t tv_sec;
    std::int64_t tv_nsec;
};
static_assert(sizeof(kernel_timespec) == 16);

kernel_timespec to_kernel(const timespec& t) noexcept {
    return kernel_timespec{static_cast<std::int64_t>(t.tv_sec), static_cast<std::int64_t>(t.tv_nsec)};
}

// FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (nullptr: forever).
errc wait_bitset(const std::uint32_t* word, std::uint32_t expected, const timespec* deadline,
                 std::uint32_t bits, int flags = 0) noexcept {
    long rc;
#if defined(SYS_futex_time64)
    if (sizeof(deadline->tv_sec) != sizeof(long)) {
        // A 32-bit target built with 64-bit time_t: SYS_futex reads a 32-bit timespec there, so
        // the deadline goes to futex_time64 (Linux 5.1 and later) in the kernel's own layout.
        kernel_timespec k{};
        if (deadline != nullptr) k = to_kernel(*deadline);
        rc = ::syscall(SYS_futex_time64, word, FUTEX_WAIT_BITSET | flags, expected, deadline != nullptr ? &k : nullptr,
                       nullptr, bits);
    } else
#endif
    {
        // 64-bit targets, and 32-bit ones with a 32-bit time_t: glibc's timespec is SYS_futex's.
        rc = ::syscall(SYS_futex, word, FUTEX_WAIT_BITSET | flags, expected, deadline, nullptr, bits);
    }
    if (rc == 0) return errc::ok;
    switch (errno) {
        case EAGAIN: return errc::ok;  // the word had already changed: the caller re-checks
        case ETIMEDOUT: return errc::timeout;
        case EINTR: return errc::interrupted;
        default: return fail_with_errno();
    }
}

void wake_bitset(const std::uint32_t* word, std::uint32_t bits, int flags = 0) noexcept {
    ::syscall(SYS_futex, word, FUTEX_WAKE_BITSET | flags, INT_MAX, nullptr, nullptr, bits);
}

// ---- futex_waitv ----------------------------------------------------------------------------

struct waitv_entry {  // struct futex_waitv
    std::uint64_t val;
    std::uint64_t uaddr;
    std::uint32_t flags;
    std::uint32_t reserved;
};
constexpr std::uint32_t futex2_size_u32 = 0x02;  // FUTEX2_SIZE_U32, shared (not FUTEX2_PRIVATE)

// 0 unknown, 1 supported, 2 not supported (ENOSYS: kernel < 5.16, or qemu-user)
int g_waitv_support = 0;
std::uint8_t g_method = static_cast<std::uint8_t>(wait_any_method::automatic);  // a wait_any_method

errc wait_any_waitv(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                    std::uint64_t timeout_ns) noexcept {
    waitv_entry entries[max_wait_any];
    for (std::uint32_t i = 0; i < count; ++i) {
        entries[i].val = expected[i];
        entries[i].uaddr = reinterpret_cast<std::uintptr_t>(words[i]);
        entries[i].flags = futex2_size_u32;
        entries[i].reserved = 0;
    }
    kernel_timespec deadline;
    const kernel_timespec* dl = nullptr;
    if (timeout_ns != forever) {
        deadline = to_kernel(absolute_deadline(timeout_ns));
        dl = &deadline;
    }
    const long rc = ::syscall(SYS_futex_waitv, entries, count, 0, dl, CLOCK_MONOTONIC);
    if (rc >= 0) return errc::ok;
    switch (errno) {
        case EAGAIN: return errc::ok;
        case ETIMEDOUT: return errc::timeout;
        case EINTR: return errc::interrupted;
        default:
            // ENOSYS, or a seccomp filter that denies it: stop using it, fall back to helpers.
            __atomic_store_n(&g_waitv_support, 2, __ATOMIC_RELAXED);
            return errc::not_found;
    }
}

bool waitv_supported() noexcept {
    int s = __atomic_load_n(&g_waitv_support, __ATOMIC_RELAXED);
    if (s == 0) {
        // Probe with a real wait that must return at once with EAGAIN (the value differs):
        // anything else (ENOSYS, a seccomp EPERM, ...) means we cannot rely on it.
        std::uint32_t word = 1;
        waitv_entry probe{0, reinterpret_cast<std::uintptr_t>(&word), futex2_size_u32, 0};
        const kernel_timespec past{0, 0};
        const long rc = ::syscall(SYS_futex_waitv, &probe, 1, 0, &past, CLOCK_MONOTONIC);
        s = (rc < 0 && errno == EAGAIN) ? 1 : 2;
        __atomic_store_n(&g_waitv_support, s, __ATOMIC_RELAXED);
    }
    return s == 1;
}

// ---- helper threads -------------------------------------------------------------------------

// A pool of helper threads, grown on demand and reused, each able to block on one word.
struct helper {
    pthread_t thread;
    std::uint32_t state;  // private futex: idle -> assigned -> finished -> idle
    std::uint32_t bit;    // its private wake bit (one of 1..31)
    // The job, valid while assigned.
    const std::uint32_t* word;
    std::uint32_t expected;
    bool has_deadline;
    timespec deadline;
    std::uint32_t* doorbell;  // the selecting thread sleeps on this (private futex)
};
constexpr std::uint32_t idle = 0, assigned = 1, finished = 2;

helper g_helpers[max_wait_any];
std::uint32_t g_helper_count = 0;
bool g_helper_busy[max_wait_any];
pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;

// fork copies the pool's bookkeeping but not its threads: the child starts with an empty pool
// (and the lock is held across the fork so the child never inherits it locked mid-update).
void pool_prepare() noexcept { pthread_mutex_lock(&g_pool_lock); }
void pool_parent() noexcept { pthread_mutex_unlock(&g_pool_lock); }
void pool_child() noexcept {
    g_helper_count = 0;
    for (bool& b : g_helper_busy) b = false;
    pthread_mutex_unlock(&g_pool_lock);
}
int g_atfork_installed = 0;

void* helper_main(void* arg) {
    auto* h = static_cast<helper*>(arg);
    for (;;) {
        // Sleep until assigned, waiting on whatever value we saw (finished, then idle), never
        // spinning: on a pinned core a spinning helper would starve the thread it serves.
        for (std::uint32_t s; (s = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE)) != assigned;) {
            static_cast<void>(wait_bitset(&h->state, s, nullptr, FUTEX_BITSET_MATCH_ANY, FUTEX_PRIVATE_FLAG));
        }
        if (__atomic_load_n(h->doorbell, __ATOMIC_ACQUIRE) == 0) {
            static_cast<void>(wait_bitset(h->word, h->expected, h->has_deadline ? &h->deadline : nullptr,
                                          normal_bit | h->bit));
        }
        // Ring the doorbell (whatever woke us: a change, a notify, the deadline or a cancel).
        __atomic_store_n(h->doorbell, 1u, __ATOMIC_RELEASE);
        ::syscall(SYS_futex, h->doorbell, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, nullptr, nullptr, 0);
        __atomic_store_n(&h->state, finished, __ATOMIC_RELEASE);
        ::syscall(SYS_futex, &h->state, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, nullptr, nullptr, 0);
    }
    return nullptr;
}

// Takes `count` idle helpers (creating threads as needed); false if threads cannot be made.
bool take_helpers(std::uint32_t count, std::uint32_t* out) noexcept {
    if (__atomic_exchange_n(&g_atfork_installed, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_atfork(pool_prepare, pool_parent, pool_child);
    }
    pthread_mutex_lock(&g_pool_lock);
    std::uint32_t got = 0;
    for (std::uint32_t i = 0; i < g_helper_count && got < count; ++i) {
        if (!g_helper_busy[i]) {
            g_helper_busy[i] = true;
            out[got++] = i;
        }
    }
    while (got < count && g_helper_count < max_wait_any) {
        helper& h = g_helpers[g_helper_count];
        h.state = idle;
        h.bit = 1u << (1 + g_helper_count % 31);
        if (start_background_thread(helper_main, &h, &h.thread) != 0) break;
        g_helper_busy[g_helper_count] = true;
        out[got++] = g_helper_count++;
    }
    const bool ok = got == count;
    if (!ok) {
        for (std::uint32_t i = 0; i < got; ++i) g_helper_busy[out[i]] = false;
    }
    pthread_mutex_unlock(&g_pool_lock);
    return ok;
}

void give_back(const std::uint32_t* ids, std::uint32_t count) noexcept {
    pthread_mutex_lock(&g_pool_lock);
    for (std::uint32_t i = 0; i < count; ++i) g_helper_busy[ids[i]] = false;
    pthread_mutex_unlock(&g_pool_lock);
}

errc wait_any_helpers(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                      std::uint64_t timeout_ns) noexcept {
    std::uint32_t ids[max_wait_any];
    if (!take_helpers(count, ids)) {
        t_last_errno = EAGAIN;
        return errc::os_error;
    }
    std::uint32_t doorbell = 0;
    timespec deadline{};
    if (timeout_ns != forever) deadline = absolute_deadline(timeout_ns);
    for (std::uint32_t i = 0; i < count; ++i) {
        helper& h = g_helpers[ids[i]];
        h.word = words[i];
        h.expected = expected[i];
        h.has_deadline = timeout_ns != forever;
        h.deadline = deadline;
        h.doorbell = &doorbell;
        __atomic_store_n(&h.state, assigned, __ATOMIC_RELEASE);
        ::syscall(SYS_futex, &h.state, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, nullptr, nullptr, 0);
    }
    errc result = errc::ok;
    // Helpers ring by the deadline at the latest; the deadline here too is belt and braces.
    while (__atomic_load_n(&doorbell, __ATOMIC_ACQUIRE) == 0) {
        const errc e = wait_bitset(&doorbell, 0, timeout_ns == forever ? nullptr : &deadline, FUTEX_BITSET_MATCH_ANY,
                                   FUTEX_PRIVATE_FLAG);
        if (e == errc::timeout) break;
    }
    if (timeout_ns != forever) {
        timespec now;
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
            result = errc::timeout;
        }
    }
    // Cancel the helpers still blocked: a wake on their private bit reaches nobody else. One
    // that had not reached its futex_wait yet sees the doorbell rung and does not sleep; one
    // caught between that check and the syscall misses this wake, so we wake again every
    // 200 us until it reports back (this only happens when select returns).
    for (std::uint32_t i = 0; i < count; ++i) {
        helper& h = g_helpers[ids[i]];
        while (__atomic_load_n(&h.state, __ATOMIC_ACQUIRE) != finished) {
            wake_bitset(h.word, h.bit);
            const timespec soon = absolute_deadline(200'000);
            static_cast<void>(wait_bitset(&h.state, assigned, &soon, FUTEX_BITSET_MATCH_ANY, FUTEX_PRIVATE_FLAG));
        }
        __atomic_store_n(&h.state, idle, __ATOMIC_RELEASE);
    }
    give_back(ids, count);
    return result;
}

}  // namespace

errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    count_wait();
    if (timeout_ns == forever) return wait_bitset(word, expected, nullptr, normal_bit);
    const timespec deadline = absolute_deadline(timeout_ns);
    return wait_bitset(word, expected, &deadline, normal_bit);
}

std::uint32_t futex_wake_all(const std::uint32_t* word) noexcept {
    __atomic_fetch_add(&g_wakes, 1, __ATOMIC_RELAXED);
    const long woken = ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
    return woken < 0 ? wake_count_unknown : static_cast<std::uint32_t>(woken);
}

wait_statistics wait_statistics_of_this_process() noexcept {
    wait_statistics s;
    s.waits = __atomic_load_n(&g_waits, __ATOMIC_RELAXED);
    s.wakes = __atomic_load_n(&g_wakes, __ATOMIC_RELAXED);
    return s;
}

errc futex_wait_any(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                    std::uint64_t timeout_ns) noexcept {
    if (count == 0 || count > max_wait_any) return errc::invalid_argument;
    if (count == 1) return futex_wait(words[0], expected[0], timeout_ns);
    count_wait();
    const auto m = static_cast<wait_any_method>(__atomic_load_n(&g_method, __ATOMIC_RELAXED));
    if (m != wait_any_method::helper_threads && waitv_supported()) {
        const errc e = wait_any_waitv(words, expected, count, timeout_ns);
        if (e != errc::not_found) return e;
    }
    return wait_any_helpers(words, expected, count, timeout_ns);
}

void set_wait_any_method(wait_any_method method) noexcept {
    __atomic_store_n(&g_method, static_cast<std::uint8_t>(method), __ATOMIC_RELAXED);
}

wait_any_method wait_any_method_in_use() noexcept {
    const auto m = static_cast<wait_any_method>(__atomic_load_n(&g_method, __ATOMIC_RELAXED));
    if (m == wait_any_method::helper_threads) return m;
    return waitv_supported() ? wait_any_method::futex_waitv : wait_any_method::helper_threads;
}

}  // namespace shmkit::os
