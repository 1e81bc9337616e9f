// Process identity and liveness. A pid alone is not enough: pids are recycled, so every
// identity also carries a token of the process start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot), and a recycled pid shows a different start time.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "shmkit/os.hpp"

namespace shmkit::os {

namespace {

struct proc_stat {
    bool exists = false;
    bool zombie = false;  // exited but not yet reaped: dead for our purposes
    std::uint64_t start_ticks = 0;
};

proc_stat read_proc_stat(std::uint32_t pid) noexcept {
    proc_stat result;
    // Opened relative to /proc rather than by absolute path: qemu-user intercepts a process's
    // own "/proc/<pid>/stat" and reports an emulated start time (inherited across fork), which
    // would then disagree with the real one every other process reads. The relative path gets
    // the kernel's answer for ourselves and for everyone else alike.
    const int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return result;
    char path[32];
    std::snprintf(path, sizeof path, "%u/stat", pid);
    const int fd = ::openat(proc, path, O_RDONLY | O_CLOEXEC);
    ::close(proc);
    if (fd < 0) return result;
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return result;
    buf[n] = '\0';
    // The command name (field 2) is in parentheses and may itself contain ") ": parse from
    // the last ')'.
    const char* p = nullptr;
    for (ssize_t i = n - 1; i >= 0; --i) {
        if (buf[i] == ')') {
            p = buf + i + 1;
            break;
        }
    }
    if (p == nullptr) return result;
    result.exists = true;
    int field = 2;
    while (*p != '\0') {
        while (*p == ' ') ++p;
        ++field;
        if (field == 3) result.zombie = (*p == 'Z' || *p == 'X');
        if (field == 22) {
            std::uint64_t v = 0;
            while (*p >= '0' && *p <= '9') v = v * 10 + static_cast<std::uint64_t>(*p++ - '0');
            result.start_ticks = v;
            break;
        }
        while (*p != '\0' && *p != ' ') ++p;
    }
    return result;
}

// Cached per pid, so a forked child recomputes its own identity instead of inheriting ours.
std::uint64_t g_self_cache = 0;  // pid | start << 32, accessed atomically

}  // namespace

process_id self() noexcept {
    const auto pid = static_cast<std::uint32_t>(::getpid());
    const std::uint64_t cached = __atomic_load_n(&g_self_cache, __ATOMIC_RELAXED);
    if (cached != 0 && static_cast<std::uint32_t>(cached) == pid) {
        return process_id{pid, static_cast<std::uint32_t>(cached >> 32)};
    }
    const proc_stat st = read_proc_stat(pid);
    const auto start = static_cast<std::uint32_t>(st.start_ticks);
    __atomic_store_n(&g_self_cache, pid | (static_cast<std::uint64_t>(start) << 32), __ATOMIC_RELAXED);
    return process_id{pid, start};
}

bool process_alive(process_id id) noexcept {
    if (id.pid == 0) return false;
    const proc_stat st = read_proc_stat(id.pid);
    if (!st.exists) {
        // No /proc entry we can read: ask the kernel directly. EPERM means it exists.
        return ::kill(static_cast<pid_t>(id.pid), 0) == 0 || errno == EPERM;
    }
    if (st.zombie) return false;
    if (id.start != 0 && static_cast<std::uint32_t>(st.start_ticks) != id.start) return false;  // pid recycled
    return true;
}

}  // namespace shmkit::os
