// Process identity and liveness. A pid alone is not enough: pids are recycled, so every
// identity also carries a token of the process start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot), and a recycled pid shows a different start time.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

#include "shmkit/os.hpp"

namespace shmkit::os {

namespace {

struct proc_stat {
    bool exists = false;
    bool zombie = false;  // state Z or X
    std::uint64_t start_ticks = 0;
};

// Reads "<path>/stat" relative to a /proc directory descriptor. Relative rather than by
// absolute path: qemu-user intercepts a process's own "/proc/<pid>/stat" and reports an emulated
// start time (inherited across fork), which would then disagree with the real one every other
// process reads. The relative path gets the kernel's answer for ourselves and for everyone.
proc_stat read_stat_at(int dir, const char* path) noexcept {
    proc_stat result;
    const int fd = ::openat(dir, path, O_RDONLY | O_CLOEXEC);
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

proc_stat read_proc_stat(std::uint32_t pid) noexcept {
    const int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return proc_stat{};
    char path[32];
    std::snprintf(path, sizeof path, "%u/stat", pid);
    const proc_stat st = read_stat_at(proc, path);
    ::close(proc);
    return st;
}

// A process whose main thread has exited shows state Z while its other threads still run:
// it is dead only if every one of its threads is Z or X.
bool all_threads_exited(std::uint32_t pid) noexcept {
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%u/task", pid);
    DIR* dir = ::opendir(path);
    if (dir == nullptr) return true;  // gone entirely
    bool all_exited = true;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        char stat_path[NAME_MAX + 8];
        std::snprintf(stat_path, sizeof stat_path, "%s/stat", entry->d_name);
        const proc_stat t = read_stat_at(::dirfd(dir), stat_path);
        if (t.exists && !t.zombie) {
            all_exited = false;
            break;
        }
    }
    ::closedir(dir);
    return all_exited;
}

// This process's identity, computed once: every lock, unlock and claim asks for it, and
// getpid() is a system call. A forked child must not inherit it, so a child handler clears it.
std::uint64_t g_self_cache = 0;  // pid | start << 32, accessed atomically; 0 = not computed
int g_self_atfork = 0;

void forget_self() noexcept { __atomic_store_n(&g_self_cache, 0, __ATOMIC_RELAXED); }

}  // namespace

process_id self() noexcept {
    const std::uint64_t cached = __atomic_load_n(&g_self_cache, __ATOMIC_RELAXED);
    if (cached != 0) return process_id{static_cast<std::uint32_t>(cached), static_cast<std::uint32_t>(cached >> 32)};
    if (__atomic_exchange_n(&g_self_atfork, 1, __ATOMIC_ACQ_REL) == 0) pthread_atfork(nullptr, nullptr, forget_self);
    const auto pid = static_cast<std::uint32_t>(::getpid());
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
    if (id.start != 0 && static_cast<std::uint32_t>(st.start_ticks) != id.start) return false;  // pid recycled
    if (st.zombie) return !all_threads_exited(id.pid);
    return true;
}

}  // namespace shmkit::os
