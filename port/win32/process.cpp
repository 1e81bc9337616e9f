// Processes on Windows: identity is the pid plus a token of the process's creation time (its
// FILETIME in milliseconds, low 32 bits), so a recycled pid is not mistaken for the process
// that recorded it. Liveness asks the OS through a query-only handle; anything ambiguous (access
// denied, an unexpected error) counts as alive. An exit watch is a thread-pool wait on the
// process handle, which Windows signals when the process exits.
#include <windows.h>

#include "last_error.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

// The creation-time token of an open process handle; 0 if Windows will not say.
std::uint32_t start_token(HANDLE process) noexcept {
    FILETIME created, exited, kernel, user;
    if (!::GetProcessTimes(process, &created, &exited, &kernel, &user)) return 0;
    const std::uint64_t t = (static_cast<std::uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
    return static_cast<std::uint32_t>(t / 10'000u);  // 100 ns units -> milliseconds
}

}  // namespace

std::uint64_t self_word = 0;

process_id self() noexcept {
    const std::uint64_t cached = __atomic_load_n(&self_word, __ATOMIC_RELAXED);
    if (cached != 0) return process_id{static_cast<std::uint32_t>(cached), static_cast<std::uint32_t>(cached >> 32)};
    const auto pid = static_cast<std::uint32_t>(::GetCurrentProcessId());
    const std::uint32_t start = start_token(::GetCurrentProcess());
    // Windows has no fork(): nothing can inherit this cache into another process.
    __atomic_store_n(&self_word, pid | (static_cast<std::uint64_t>(start) << 32), __ATOMIC_RELAXED);
    return process_id{pid, start};
}

bool process_alive(process_id id) noexcept {
    if (id.pid == 0) return false;
    HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, id.pid);
    if (h == nullptr) {
        // No such process: the pid is not in use. Anything else (access denied) is ambiguous.
        return ::GetLastError() != ERROR_INVALID_PARAMETER;
    }
    bool alive = true;
    // A handle keeps an exited process's object (and its pid) around: ask whether it has exited.
    if (::WaitForSingleObject(h, 0) == WAIT_OBJECT_0) {
        alive = false;
    } else if (id.start != 0) {
        const std::uint32_t start = start_token(h);
        if (start != 0 && start != id.start) alive = false;  // pid recycled
    }
    ::CloseHandle(h);
    return alive;
}

// ---- exit watches ----------------------------------------------------------------------------
// A thread-pool wait (RegisterWaitForSingleObject) on a handle to the process: Windows signals
// a process handle when the process exits. The slots are a fixed table (the port allocates
// nothing); a full table says unsupported and the waiter re-checks liveness periodically.
namespace {

struct watch_slot {
    HANDLE process = nullptr;
    HANDLE wait = nullptr;
    std::uint32_t* word = nullptr;
    std::uint32_t* fired = nullptr;
    bool in_use = false;
};
constexpr std::uint32_t max_watches = 128;
watch_slot g_watches[max_watches];
SRWLOCK g_watch_lock = SRWLOCK_INIT;

// Runs on a thread-pool thread once the process has exited. It takes no lock: unwatch_exit
// waits for it to finish (UnregisterWaitEx) outside the lock.
void CALLBACK on_exit(void* context, BOOLEAN) {
    auto* slot = static_cast<watch_slot*>(context);
    __atomic_store_n(slot->fired, 1u, __ATOMIC_RELEASE);
    __atomic_fetch_add(slot->word, 1u, __ATOMIC_RELEASE);
    futex_wake_all(slot->word);
}

}  // namespace

errc watch_exit(process_id id, std::uint32_t* word, exit_watch* watch) noexcept {
    watch->fired = 0;
    watch->handle = -1;
    HANDLE h = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, id.pid);
    if (h == nullptr) {
        if (::GetLastError() == ERROR_INVALID_PARAMETER) return errc::peer_dead;  // no such process
        t_last_error = ::GetLastError();
        return errc::unsupported;  // access denied: re-check liveness instead
    }
    // The pid may have been recycled: the handle is the process we mean only if its start
    // token matches and it has not exited.
    const std::uint32_t start = start_token(h);
    if (::WaitForSingleObject(h, 0) == WAIT_OBJECT_0 || (id.start != 0 && start != 0 && start != id.start)) {
        ::CloseHandle(h);
        return errc::peer_dead;
    }
    ::AcquireSRWLockExclusive(&g_watch_lock);
    errc e = errc::unsupported;  // out of watches: poll instead
    for (std::uint32_t i = 0; i < max_watches; ++i) {
        watch_slot& slot = g_watches[i];
        if (slot.in_use) continue;
        slot.process = h;
        slot.word = word;
        slot.fired = &watch->fired;
        if (!::RegisterWaitForSingleObject(&slot.wait, h, on_exit, &slot, INFINITE,
                                           WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD)) {
            t_last_error = ::GetLastError();
            slot = watch_slot{};
            break;
        }
        slot.in_use = true;
        watch->handle = static_cast<std::intptr_t>(i);
        e = errc::ok;
        break;
    }
    ::ReleaseSRWLockExclusive(&g_watch_lock);
    if (failed(e)) ::CloseHandle(h);
    return e;
}

void unwatch_exit(exit_watch* watch) noexcept {
    if (watch->handle < 0) return;
    watch_slot& slot = g_watches[static_cast<std::size_t>(watch->handle)];
    // Waits for a callback that is running to finish; none runs after this.
    ::UnregisterWaitEx(slot.wait, INVALID_HANDLE_VALUE);
    ::CloseHandle(slot.process);
    ::AcquireSRWLockExclusive(&g_watch_lock);
    slot = watch_slot{};
    ::ReleaseSRWLockExclusive(&g_watch_lock);
    watch->handle = -1;
}

}  // namespace shmkit::os
