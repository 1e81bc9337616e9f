// Processes on Windows: identity is the pid plus a token of the process's creation time (its
// FILETIME in milliseconds, low 32 bits), so a recycled pid is not mistaken for the process
// that recorded it. Liveness asks the OS through a query-only handle; anything ambiguous (access
// denied, an unexpected error) counts as alive.
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

// Not yet: lock waiters re-check the holder's liveness once per liveness period instead
// (RegisterWaitForSingleObject on the holder's process handle is the planned watch).
errc watch_exit(process_id, std::uint32_t*, exit_watch*) noexcept { return errc::unsupported; }

void unwatch_exit(exit_watch*) noexcept {}

}  // namespace shmkit::os
