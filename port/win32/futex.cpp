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
// A slot whose owner died keeps its owner; a waker that finds the owner's event gone (an event
// dies with its thread's handle, closed at thread exit, and with its process) frees the slot
// with one compare-exchange from that owner, and so does a waiter that finds every slot taken.
// If they are all taken by live threads, the waiter polls its words once per timer tick
// instead: slower, never stuck. A word outside every segment this process mapped (caller-given
// memory) has a key only this process computes, so such a wait also re-checks its word every
// 50 ms: wakes from other processes cannot find it.
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

std::uint64_t owner_word(DWORD pid, DWORD tid) noexcept { return pid | static_cast<std::uint64_t>(tid) << 32; }

void event_name(std::uint64_t owner, char (&out)[64]) noexcept {
    std::snprintf(out, sizeof out, "Local\\shmkit..wake.%lu.%lu", static_cast<unsigned long>(owner & 0xffffffffu),
                  static_cast<unsigned long>(owner >> 32));
}

// This thread's event, created on its first wait and closed when the thread exits (a thread
// holds no slot then), so that "event gone" means "thread gone".
struct thread_event {
    HANDLE handle = nullptr;
    ~thread_event() {
        if (handle != nullptr) ::CloseHandle(handle);
    }
};

HANDLE my_event() noexcept {
    static thread_local thread_event event;
    if (event.handle == nullptr) {
        char name[64];
        event_name(owner_word(::GetCurrentProcessId(), ::GetCurrentThreadId()), name);
        event.handle = ::CreateEventA(nullptr, FALSE, FALSE, name);
    }
    return event.handle;
}

// Whether the thread that owns `owner` is certainly gone: its event no longer exists. Anything
// else (it exists, access denied, out of resources) counts as alive.
bool owner_gone(std::uint64_t owner, HANDLE* event_out) noexcept {
    char name[64];
    event_name(owner, name);
    HANDLE h = ::OpenEventA(EVENT_MODIFY_STATE, FALSE, name);
    if (event_out != nullptr) *event_out = h;
    else if (h != nullptr) ::CloseHandle(h);
    return h == nullptr && ::GetLastError() == ERROR_FILE_NOT_FOUND;
}

// Frees the slot of a gone owner: one compare-exchange, so a slot that a live thread claimed
// meanwhile is left alone. Its stale key needs no clearing: wakers skip free slots, and the
// next owner stores its own key.
void free_if_still(win32_waiter_slot& slot, std::uint64_t owner) noexcept {
    std::uint64_t expected = owner;
    static_cast<void>(slot.owner.compare_exchange(expected, 0, order::release, order::relaxed));
}

// Whether any words[i] no longer holds expected[i].
bool any_changed(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count) noexcept {
    for (std::uint32_t i = 0; i < count; ++i) {
        if (__atomic_load_n(words[i], __ATOMIC_ACQUIRE) != expected[i]) return true;
    }
    return false;
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
    void release() noexcept {
        for (std::uint32_t i = 0; i < count; ++i) {
            slots[i]->key.store(0, order::relaxed);
            // Release: the next owner's key store cannot be overtaken by ours.
            slots[i]->owner.store(0, order::release);
        }
        count = 0;
    }
    ~parked() { release(); }
};

win32_waiter_slot* try_claim(win32_registry& r, std::uint64_t owner) noexcept {
    for (auto& slot : r.waiters) {
        std::uint64_t expected = 0;
        if (slot.owner.load(order::relaxed) == 0 && slot.owner.compare_exchange(expected, owner, order::acquire, order::relaxed)) {
            return &slot;
        }
    }
    return nullptr;
}

// Claims a free slot for `owner`; when all are taken, frees those of gone threads (killed
// waiters, including one killed between its claim and its key) and tries again. nullptr when
// live threads hold them all.
win32_waiter_slot* claim_slot(win32_registry& r, std::uint64_t owner) noexcept {
    if (win32_waiter_slot* slot = try_claim(r, owner)) return slot;
    for (auto& slot : r.waiters) {
        const std::uint64_t o = slot.owner.load(order::relaxed);
        if (o != 0 && o != owner && owner_gone(o, nullptr)) free_if_still(slot, o);
    }
    return try_claim(r, owner);
}

// Polls the words once per timer tick: the fallback when no slot is free.
errc poll(const std::uint32_t* const* words, const std::uint32_t* expected, std::uint32_t count,
          std::uint64_t start, std::uint64_t timeout_ns) noexcept {
    for (;;) {
        if (any_changed(words, expected, count)) return errc::ok;
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
    if (count == 0 || count > max_wait_any) return errc::invalid_argument;
    const std::uint64_t start = monotonic_ns();
    win32_registry* r = win32::registry();
    const HANDLE event = my_event();
    if (r == nullptr || event == nullptr) return poll(words, expected, count, start, timeout_ns);
    const std::uint64_t owner = owner_word(::GetCurrentProcessId(), ::GetCurrentThreadId());
    parked p;
    bool every_key_shared = true;
    for (std::uint32_t i = 0; i < count; ++i) {
        win32_waiter_slot* slot = claim_slot(*r, owner);
        if (slot == nullptr) {
            p.release();  // others may need them more than a poll does
            return poll(words, expected, count, start, timeout_ns);
        }
        p.slots[p.count++] = slot;
        bool shared = false;
        // Release: a waker that reads this key also reads the owner claimed before it.
        slot->key.store(win32::word_key(words[i], &shared), order::release);
        every_key_shared = every_key_shared && shared;
    }
    // The waiter's half of the Dekker pair (see the top of this file): keys, then the words.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (any_changed(words, expected, count)) return errc::ok;
    for (;;) {
        DWORD ms = milliseconds_left(start, timeout_ns);
        const bool recheck = !every_key_shared && ms > 50;
        if (recheck) ms = 50;
        const DWORD r_wait = ::WaitForSingleObject(event, ms);
        if (r_wait == WAIT_OBJECT_0) return errc::ok;
        if (r_wait != WAIT_TIMEOUT) return fail_with_last_error();
        if (!recheck) return errc::timeout;
        if (any_changed(words, expected, count)) return errc::ok;
    }
}

std::uint32_t futex_wake_all(const std::uint32_t* word) noexcept {
    __atomic_fetch_add(&g_wakes, 1, __ATOMIC_RELAXED);
    win32_registry* r = win32::registry();
    if (r == nullptr) return 0;
    bool shared = false;
    const std::uint64_t key = win32::word_key(word, &shared);
    // The waker's half of the Dekker pair: the caller's change of the word, then the keys.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    std::uint32_t woken = 0;
    for (auto& slot : r->waiters) {
        if (slot.key.load(order::acquire) != key) continue;
        const std::uint64_t owner = slot.owner.load(order::relaxed);
        if (owner == 0) continue;
        HANDLE h = nullptr;
        if (owner_gone(owner, &h)) {
            free_if_still(slot, owner);
            continue;
        }
        // An event this process may not open (access denied, out of resources) counts as woken:
        // reporting nobody would let the core heal the waiter count away, and a waiter it did
        // not reach would then sleep through every later notify.
        if (h != nullptr) {
            ::SetEvent(h);
            ::CloseHandle(h);
        }
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
