// The hooks the model-checking build of the core calls (shmkit::model) and the OS port it runs
// on (shmkit::os), both over the Relacy race detector. See model.hpp.
// shmkit's headers before Relacy's, which defines `new` and `delete` as macros.
#include "shmkit/detail/atomic.hpp"
#include "shmkit/os.hpp"
//
#include "model.hpp"

#include <climits>
#include <cstdio>

namespace model_check {

world& current() {
    static world w;
    return w;
}

void die() {
    world& w = current();
    const auto pid = static_cast<std::uint32_t>(rl::thread_index()) + 1;
    w.dead[pid - 1]($).store(1, rl::mo_seq_cst);
    // As the port's watcher thread: `fired`, then a release bump of the word and a wake-up.
    for (exit_watch_slot& slot : w.watches) {
        if (!slot.used || slot.pid != pid || slot.word == nullptr) continue;
        // The waiter may unwatch while we are switched out below; its word outlives that.
        std::uint32_t* word = slot.word;
        __atomic_store_n(slot.fired, 1u, __ATOMIC_RELEASE);
        slot.word = nullptr;
        static_cast<void>(shmkit::model::read_modify_write(word, 4, shmkit::model::rmw::add, 1, shmkit::order::release,
                                                           __FILE__, __LINE__));
        static_cast<void>(shmkit::os::futex_wake_all(word));
    }
}

namespace {

rl::memory_order to_rl(shmkit::order o) {
    switch (o) {
        case shmkit::order::relaxed: return rl::mo_relaxed;
        case shmkit::order::acquire: return rl::mo_acquire;
        case shmkit::order::release: return rl::mo_release;
        case shmkit::order::acq_rel: return rl::mo_acq_rel;
        case shmkit::order::seq_cst: return rl::mo_seq_cst;
    }
    return rl::mo_seq_cst;
}

// A failed CAS's ordering (a load): never release or acq_rel.
rl::memory_order failure_order(shmkit::order o) {
    return o == shmkit::order::acquire || o == shmkit::order::seq_cst ? to_rl(o) : rl::mo_relaxed;
}

// The shadow of an address in the memory under test, or null: process-local memory, or any
// memory while a check sets its segment up (single-threaded, with plain stores too; the
// shadows take the result at the end). The builtins then serve it as in a normal build.
rl::atomic<std::uint64_t>* shadow_of(const void* address) {
    if (current().setting_up) return nullptr;
    const region& r = current().memory;
    const auto* p = static_cast<const std::uint8_t*>(address);
    if (r.base == nullptr || p < r.base || p >= r.base + r.size) return nullptr;
    const auto offset = static_cast<std::size_t>(p - r.base);
    RL_ASSERT(offset % 4 == 0);
    return &r.shadows[offset / 4];
}

std::uint64_t mask(unsigned size, std::uint64_t v) { return size == 4 ? v & 0xFFFF'FFFFu : v; }

// Keeps the plain bytes equal to the newest value, for the code that reads immutable fields
// (the segment header, geometry) with plain loads.
void write_through(void* address, unsigned size, std::uint64_t v) { std::memcpy(address, &v, size); }

rl::debug_info where(const char* file, int line) { return rl::debug_info("core", file, static_cast<unsigned>(line)); }

}  // namespace
}  // namespace model_check

namespace shmkit::model {

using namespace model_check;

std::uint64_t load(const void* address, unsigned size, order o, const char* file, int line) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(address);
    if (s == nullptr) {
        return size == 4 ? __atomic_load_n(static_cast<const std::uint32_t*>(address), __ATOMIC_SEQ_CST)
                         : __atomic_load_n(static_cast<const std::uint64_t*>(address), __ATOMIC_SEQ_CST);
    }
    return mask(size, (*s)(where(file, line)).load(to_rl(o)));
}

void store(void* address, unsigned size, std::uint64_t value, order o, const char* file, int line) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(address);
    if (s != nullptr) (*s)(where(file, line)).store(mask(size, value), to_rl(o));
    write_through(address, size, value);  // (plain, as a normal build's store, when not under test)
}

std::uint64_t read_modify_write(void* address, unsigned size, rmw op, std::uint64_t operand, order o, const char* file,
                                int line) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(address);
    const auto apply = [&](std::uint64_t old) {
        switch (op) {
            case rmw::exchange: return operand;
            case rmw::add: return old + operand;
            case rmw::sub: return old - operand;
            case rmw::bit_or: return old | operand;
        }
        return old;
    };
    if (s == nullptr) {  // not under test: a plain atomic read-modify-write
        std::uint64_t old = load(address, size, order::relaxed, file, line);
        while (!compare_exchange(address, size, &old, mask(size, apply(old)), order::seq_cst, order::seq_cst, file, line)) {
        }
        return old;
    }
    // A CAS loop: one atomic read-modify-write with ordering `o` when it succeeds, which also
    // wraps 4-byte fields at 2^32 as the hardware would.
    std::uint64_t old = (*s)(where(file, line)).load(rl::mo_relaxed);
    while (!(*s)(where(file, line)).compare_exchange_strong(old, mask(size, apply(old)), to_rl(o), rl::mo_relaxed)) {
    }
    write_through(address, size, mask(size, apply(old)));
    return old;
}

bool compare_exchange(void* address, unsigned size, std::uint64_t* expected, std::uint64_t desired, order success,
                      order failure, const char* file, int line) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(address);
    if (s == nullptr) {
        if (size == 4) {
            auto e32 = static_cast<std::uint32_t>(*expected);
            const bool ok = __atomic_compare_exchange_n(static_cast<std::uint32_t*>(address), &e32,
                                                        static_cast<std::uint32_t>(desired), false, __ATOMIC_SEQ_CST,
                                                        __ATOMIC_SEQ_CST);
            *expected = e32;
            return ok;
        }
        return __atomic_compare_exchange_n(static_cast<std::uint64_t*>(address), expected, desired, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    std::uint64_t e = mask(size, *expected);
    const bool ok = (*s)(where(file, line)).compare_exchange_strong(e, mask(size, desired), to_rl(success),
                                                                    failure_order(failure));
    if (ok) write_through(address, size, desired);
    *expected = e;
    return ok;
}

void fence(order o, const char* file, int line) noexcept { rl::atomic_thread_fence(to_rl(o), where(file, line)); }

}  // namespace shmkit::model

// ---- the OS, as the model sees it ------------------------------------------------------------

namespace shmkit::os {

using namespace model_check;

errc shm_create(const char*, std::uint64_t, const create_options&, mapping* out) noexcept {
    *out = mapping{};
    return errc::unsupported;
}
errc shm_link(const mapping&, const char*) noexcept { return errc::unsupported; }
errc shm_open(const char*, access, mapping* out) noexcept {
    *out = mapping{};
    return errc::unsupported;
}
void shm_close(mapping* m) noexcept { *m = mapping{}; }
errc shm_unlink(const char*) noexcept { return errc::unsupported; }
errc shm_unlink_mapped(const char*, const mapping&) noexcept { return errc::unsupported; }
errc shm_remove_if_stale(const char*, bool, stale_predicate, void*) noexcept { return errc::unsupported; }
errc shm_peek(const char*, void*, std::uint64_t, object_snapshot* out) noexcept {
    *out = object_snapshot{};
    return errc::unsupported;
}
errc shm_list(name_visitor, void*) noexcept { return errc::unsupported; }
void prefault(void*, std::uint64_t) noexcept {}
errc protect_read_only(void*, std::uint64_t) noexcept { return errc::unsupported; }
std::uint64_t page_size() noexcept { return 4096; }

// The kernel's futex, as Relacy models it for its own futex: a full fence, the comparison and
// the sleep done without a preemption in between, and a wake that orders the waker before
// the woken. A wait with a timeout may end at any point.
errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(word);
    RL_ASSERT(s != nullptr);
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    std::uint64_t seen;
    {
        rl::preemption_disabler pd(c);
        seen = (*s)($).load(rl::mo_acquire) & 0xFFFF'FFFFu;
    }
    if (seen != expected) return errc::ok;
    switch (s->wait(c, timeout_ns != forever, true, $)) {
        case rl::unpark_reason_timeout: return errc::timeout;
        default: return errc::ok;  // woken, or spuriously: the caller re-checks
    }
}

std::uint32_t futex_wake_all(const std::uint32_t* word) noexcept {
    rl::atomic<std::uint64_t>* s = shadow_of(word);
    RL_ASSERT(s != nullptr);
    rl::context& c = rl::ctx();
    c.sched();
    c.atomic_thread_fence_seq_cst();
    return static_cast<std::uint32_t>(s->wake(c, max_processes, $));
}

errc futex_wait_any(const std::uint32_t* const*, const std::uint32_t*, std::uint32_t, std::uint64_t) noexcept {
    return errc::unsupported;  // select() is not modelled
}
wait_statistics wait_statistics_of_this_process() noexcept { return {}; }
void set_wait_any_method(wait_any_method) noexcept {}
wait_any_method wait_any_method_in_use() noexcept { return wait_any_method::helper_threads; }

bool membarrier_usable() noexcept { return false; }  // segments use the fences mode
errc heavy_membarrier() noexcept { return errc::unsupported; }

std::uint64_t monotonic_ns() noexcept { return current().clock_ns += 1000; }
void sleep_ns(std::uint64_t) noexcept { rl::yield(1, $); }
errc sleep_or_signal_ns(std::uint64_t) noexcept {
    rl::yield(1, $);
    return errc::ok;
}
void yield() noexcept { rl::yield(1, $); }

// Never cached: every model thread is a process of its own.
std::uint64_t self_word = 0;

// Thread i is process i + 1; the setup in before() is a process of its own (number 99), which
// is never alive afterwards.
process_id self() noexcept {
    if (current().setting_up) return process_id{99, 1};
    return process_id{static_cast<std::uint32_t>(rl::thread_index()) + 1, 1};
}
bool process_alive(process_id id) noexcept {
    if (id.pid == 0 || id.pid > max_processes || id.start != 1) return false;
    return current().dead[id.pid - 1]($).load(rl::mo_seq_cst) == 0;
}

errc watch_exit(process_id id, std::uint32_t* word, exit_watch* watch) noexcept {
    *watch = exit_watch{};
    if (!process_alive(id)) return errc::peer_dead;
    world& w = current();
    for (std::size_t i = 0; i < sizeof w.watches / sizeof w.watches[0]; ++i) {
        exit_watch_slot& slot = w.watches[i];
        if (slot.used) continue;
        slot = exit_watch_slot{true, id.pid, word, &watch->fired};
        watch->handle = static_cast<std::intptr_t>(i);
        return errc::ok;
    }
    return errc::unsupported;
}
void unwatch_exit(exit_watch* watch) noexcept {
    if (watch->handle >= 0) current().watches[watch->handle] = exit_watch_slot{};
    watch->handle = -1;
}

int last_os_error() noexcept { return 0; }
void report_assert(const char* expression, const char* file, int line) noexcept {
    std::fprintf(stderr, "shmkit: contract violated: %s (%s:%d)\n", expression, file, line);
    RL_ASSERT(false);
}

}  // namespace shmkit::os
