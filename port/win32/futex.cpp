// Waiting on a word in shared memory, on Windows. WaitOnAddress does not cross processes, so a
// waiting thread parks in a slot of the session registry (registry.hpp) that names the word,
// and sleeps on its own auto-reset event, "Local\shmkit..wake.<pid>.<tid>"; a waker signals the
// event of every slot that names its word. The core calls futex_wake_all only when its wait word
// counts waiters (core/SPEC.md "Wait word"), so a notify nobody waits for makes no call here.
//
// No lost wake-up: the waiter stores its slot's key, then (full fence) re-reads the word; the
// waker has changed the word before it calls us, and (full fence) then reads the keys. Of two
// such Dekker pairs at least one side sees the other's store: either the waiter sees the new
// value and does not sleep, or the waker sees the key and signals the event, which stays set
// until the waiter's wait consumes it. A signal the waiter did not need (it saw the change
// first, or the key of another word hashed alike) leaves its event set: its next wait returns
// at once, and callers re-check their condition anyway.
//
// A slot whose owner died keeps its key; the waker finds its event gone (events die with their
// process) and frees the slot. When every slot is taken, a waiter polls its words once per
// millisecond instead: slower, never stuck.
#include <windows.h>

#include <cstdio>

#include "last_error.hpp"
#include "registry.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

std::uint64_t g_waits = 0;
std::uint64_t g_wakes = 0;
wait_any_method g_method = wait_any_method::automatic;

// The owner word of a slot being freed by a waker (no thread has this pid and tid).
constexpr std::uint64_t reclaiming = ~std::uint64_t{0};

std::uint64_t owner_word(DWORD pid, DWORD tid) noexcept { return pid | static_cast<std::uint64_t>(tid) << 32; }

void event_name(std::uint64_t owner, char (&out)[64]) noexcept {
    std::snprintf(out, sizeof out, "Local\\shmkit..wake.%lu.%lu", static_cast<unsigned long>(owner & 0xffffffffu),
                  static_cast<unsigned long>(owner >> 32));
}

// This thread's event, created on its first wait and kept until the process exits (it must
// exist whenever one of its slots holds a key).
HANDLE my_event() noexcept {
    static thread_local HANDLE event = nullptr;
    if (event == nullptr) {
        char name[64];
        event_name(owner_word(::GetCurrentProcessId(), ::GetCurrentThreadId()), name);
        event = ::CreateEventA(nullptr, FALSE, FALSE, name);
    }
    return event;
}

bool changed(const std::uint32_t* word, std::uint32_t expected) noexcept {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE) != expected;
}

DWORD milliseconds_left(std::uint64_t start, std::uint64_t timeout_ns) noexcept {
    if (timeout_ns == forever) return INFINITE;
    const std::uint64_t elapsed = monotonic_ns() - start;
    if (elapsed >= timeout_ns) return 0;
    const std::uint64_t ms = (timeout_ns - elapsed + 999'999) / 1'000'000;  // never early
    return ms >= INFINITE ? INFINITE - 1 : static_cast<DWORD>(ms);
}

// The slots one wait holds, released on every way out.
struct parked {
    win32_waiter_slot* slots[max_wait_any] = {};
    std::uint32_t count = 0;
    ~parked() {
        for (std::uint32_t i = 0; i < count; ++i) {
            slots[i]->key.store(0, order::relaxed);
            // Release: the next owner's key store cannot be overtaken by ours.
            slots[i]->owner.store(0, order::release);
        }
    }
};

// Claims a free slot for `owner`, or nullptr when all are taken.
win32_waiter_slot* claim_slot(win32_registry& r, std::uint64_t owner) noexcept {
    for (auto& slot : r.waiters) {
        std::uint64_t expected = 0;
        if (slot.owner.load(order::relaxed) == 0 && slot.owner.compare_exchange(expected, owner, order::acquire, order::relaxed)) {
            return &slot;
        }
    }
    return nullptr;
}

// Polls the words once per millisecond: the fallback when no slot is free.
errc poll(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
          std::uint64_t start, std::uint64_t timeout_ns) noexcept {
    for (;;) {
        for (std::uint32_t i = 0; i < count; ++i) {
            if (changed(words[i], expected[i])) return errc::ok;
        }
        if (milliseconds_left(start, timeout_ns) == 0) return errc::timeout;
        ::Sleep(1);
    }
}

}  // namespace

errc futex_wait(const std::uint32_t* word, std::uint32_t expected, std::uint64_t timeout_ns) noexcept {
    return futex_wait_any(&word, &expected, 1, timeout_ns);
}

errc futex_wait_any(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
                    std::uint64_t timeout_ns) noexcept {
    __atomic_fetch_add(&g_waits, 1, __ATOMIC_RELAXED);
    if (count > max_wait_any) return errc::invalid_argument;
    const std::uint64_t start = monotonic_ns();
    win32_registry* r = win32::registry();
    const HANDLE event = my_event();
    if (r == nullptr || event == nullptr) return poll(words, expected, count, start, timeout_ns);
    const std::uint64_t owner = owner_word(::GetCurrentProcessId(), ::GetCurrentThreadId());
    parked p;
    for (std::uint32_t i = 0; i < count; ++i) {
        win32_waiter_slot* slot = claim_slot(*r, owner);
        if (slot == nullptr) return poll(words, expected, count, start, timeout_ns);
        p.slots[p.count++] = slot;
        // Release: a waker that reads this key also reads the owner claimed before it.
        slot->key.store(win32::word_key(words[i]), order::release);
    }
    // The waiter's half of the Dekker pair (see the top of this file): keys, then the words.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (std::uint32_t i = 0; i < count; ++i) {
        if (changed(words[i], expected[i])) return errc::ok;
    }
    const DWORD r_wait = ::WaitForSingleObject(event, milliseconds_left(start, timeout_ns));
    if (r_wait == WAIT_OBJECT_0) return errc::ok;
    if (r_wait == WAIT_TIMEOUT) return errc::timeout;
    return fail_with_last_error();
}

std::uint32_t futex_wake_all(const std::uint32_t* word) noexcept {
    __atomic_fetch_add(&g_wakes, 1, __ATOMIC_RELAXED);
    win32_registry* r = win32::registry();
    if (r == nullptr) return 0;
    const std::uint64_t key = win32::word_key(word);
    // The waker's half of the Dekker pair: the caller's change of the word, then the keys.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    std::uint32_t woken = 0;
    for (auto& slot : r->waiters) {
        if (slot.key.load(order::acquire) != key) continue;
        const std::uint64_t owner = slot.owner.load(order::relaxed);
        if (owner == 0 || owner == reclaiming) continue;
        char name[64];
        event_name(owner, name);
        HANDLE h = ::OpenEventA(EVENT_MODIFY_STATE, FALSE, name);
        if (h == nullptr) {
            // Its thread's process is gone: free the slot. Only the waker whose compare-exchange
            // takes it from the dead owner touches it, so no other waker can clear the key of a
            // live waiter that claimed the slot meanwhile.
            std::uint64_t expected = owner;
            if (::GetLastError() == ERROR_FILE_NOT_FOUND &&
                slot.owner.compare_exchange(expected, reclaiming, order::acquire, order::relaxed)) {
                slot.key.store(0, order::relaxed);
                slot.owner.store(0, order::release);
            }
            continue;
        }
        ::SetEvent(h);
        ::CloseHandle(h);
        ++woken;
    }
    return woken;
}

wait_statistics wait_statistics_of_this_process() noexcept {
    wait_statistics s;
    s.waits = __atomic_load_n(&g_waits, __ATOMIC_RELAXED);
    s.wakes = __atomic_load_n(&g_wakes, __ATOMIC_RELAXED);
    return s;
}

// One way only: every slot of a wait shares the thread's event.
void set_wait_any_method(wait_any_method method) noexcept { g_method = method; }
wait_any_method wait_any_method_in_use() noexcept { return g_method; }

}  // namespace shmkit::os
