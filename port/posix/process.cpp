// Process identity and liveness. A pid alone is not enough: pids are recycled, so every
// identity also carries a token of the process start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot), and a recycled pid shows a different start time.
//
// Exit watches: a pidfd (Linux >= 5.3) becomes readable when its process has exited. One
// watcher thread per process, started on first use, waits on all of them with epoll and turns
// an exit into a notify of the word a lock waiter sleeps on, so lock waits need no periodic
// liveness checks.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "background_thread.hpp"
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

// This process's identity is computed once and kept in self_word (below): every lock, unlock,
// claim and role check asks for it, and getpid() is a system call. A forked child must not
// inherit it, so a child handler clears it.
pthread_once_t g_self_atfork = PTHREAD_ONCE_INIT;

void forget_self() noexcept { __atomic_store_n(&self_word, 0, __ATOMIC_RELAXED); }
// pthread_once, not a flag: a second thread must not compute (and cache) the identity before
// the first has registered the handler that makes a forked child forget it.
void register_forget_self() noexcept { pthread_atfork(nullptr, nullptr, forget_self); }

}  // namespace

std::uint64_t self_word = 0;

process_id self() noexcept {
    const std::uint64_t cached = __atomic_load_n(&self_word, __ATOMIC_RELAXED);
    if (cached != 0) return process_id{static_cast<std::uint32_t>(cached), static_cast<std::uint32_t>(cached >> 32)};
    pthread_once(&g_self_atfork, register_forget_self);
    const auto pid = static_cast<std::uint32_t>(::getpid());
    const proc_stat st = read_proc_stat(pid);
    const auto start = static_cast<std::uint32_t>(st.start_ticks);
    __atomic_store_n(&self_word, pid | (static_cast<std::uint64_t>(start) << 32), __ATOMIC_RELAXED);
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

// ---- exit watches ------------------------------------------------------------------------------

namespace {

#ifndef SYS_pidfd_open
constexpr long pidfd_open_syscall = 434;  // the same number on every Linux architecture
#else
constexpr long pidfd_open_syscall = SYS_pidfd_open;
#endif

struct watch_slot {
    int pidfd = -1;
    std::uint32_t* word = nullptr;   // null once fired
    std::uint32_t* fired = nullptr;
    std::uint32_t generation = 0;    // tells a stale epoll event from the slot's current watch
    bool in_use = false;
};
constexpr std::uint32_t max_watches = 256;
watch_slot g_watches[max_watches];
pthread_mutex_t g_watch_lock = PTHREAD_MUTEX_INITIALIZER;
int g_epoll = -1;          // the watcher thread's, created with it
int g_watch_support = 0;   // 0 unknown, 1 watching works, 2 the OS cannot (no pidfd or epoll)
pthread_once_t g_watch_atfork = PTHREAD_ONCE_INIT;

void fire(watch_slot& slot) noexcept {
    __atomic_store_n(slot.fired, 1u, __ATOMIC_RELEASE);
    // Release: `fired` is visible to a waiter that sees the bump.
    __atomic_fetch_add(slot.word, 1u, __ATOMIC_RELEASE);
    static_cast<void>(futex_wake_all(slot.word));
    if (g_epoll >= 0) ::epoll_ctl(g_epoll, EPOLL_CTL_DEL, slot.pidfd, nullptr);  // level-triggered: once is enough
    slot.word = nullptr;
}

void* watcher_main(void*) {
    epoll_event events[16];
    for (;;) {
        const int n = ::epoll_wait(g_epoll, events, 16, -1);
        if (n < 0 && errno == EINTR) continue;  // signals are blocked here, but ptrace can cause it
        if (n < 0) {
            // The application closed our descriptor (a closefrom, say): stop rather than spin.
            // Every current watch fires, so its waiter looks at its holder again, and from now
            // on lock waits poll their holders' liveness. The descriptor's number may already
            // be someone else's: forget it without closing it.
            pthread_mutex_lock(&g_watch_lock);
            __atomic_store_n(&g_watch_support, 2, __ATOMIC_RELAXED);
            g_epoll = -1;
            for (watch_slot& slot : g_watches) {
                if (slot.in_use && slot.word != nullptr) fire(slot);
            }
            pthread_mutex_unlock(&g_watch_lock);
            return nullptr;
        }
        pthread_mutex_lock(&g_watch_lock);
        for (int i = 0; i < n; ++i) {
            const auto index = static_cast<std::uint32_t>(events[i].data.u64);
            const auto generation = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
            if (index >= max_watches) continue;
            watch_slot& slot = g_watches[index];
            if (slot.in_use && slot.generation == generation && slot.word != nullptr) fire(slot);
        }
        pthread_mutex_unlock(&g_watch_lock);
    }
    return nullptr;
}

// A forked child has no watcher thread, and its copies of the parent's epoll and pidfd
// descriptors still refer to the parent's watches: it drops them and starts afresh. (The lock
// is held across fork, so the child never inherits it mid-update.)
void watch_prepare() noexcept { pthread_mutex_lock(&g_watch_lock); }
void watch_parent() noexcept { pthread_mutex_unlock(&g_watch_lock); }
void watch_child() noexcept {
    for (watch_slot& slot : g_watches) {
        if (slot.in_use) ::close(slot.pidfd);
        slot = watch_slot{};
    }
    if (g_epoll >= 0) ::close(g_epoll);
    g_epoll = -1;
    pthread_mutex_unlock(&g_watch_lock);
}

void register_watch_fork_handlers() noexcept { pthread_atfork(watch_prepare, watch_parent, watch_child); }

// With the lock held: the epoll instance and the watcher thread, once.
bool start_watcher() noexcept {
    if (g_epoll >= 0) return true;
    if (__atomic_load_n(&g_watch_support, __ATOMIC_RELAXED) == 2) return false;  // the watcher gave up
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return false;
    g_epoll = ep;
    pthread_t thread;
    if (start_background_thread(watcher_main, nullptr, &thread) != 0) {
        g_epoll = -1;
        ::close(ep);
        return false;
    }
    return true;
}

}  // namespace

errc watch_exit(process_id id, std::uint32_t* word, exit_watch* watch) noexcept {
    watch->fired = 0;
    watch->handle = -1;
    if (__atomic_load_n(&g_watch_support, __ATOMIC_RELAXED) == 2) return errc::unsupported;
    // Once, and before any watch exists (pthread_once makes a racing caller wait for it).
    pthread_once(&g_watch_atfork, register_watch_fork_handlers);
    const int pidfd = static_cast<int>(::syscall(pidfd_open_syscall, static_cast<pid_t>(id.pid), 0u));
    if (pidfd < 0) {
        if (errno == ESRCH) return errc::peer_dead;
        // ENOSYS (kernel < 5.3, an emulator), or a seccomp profile that denies it: poll instead.
        if (errno == ENOSYS || errno == EPERM) __atomic_store_n(&g_watch_support, 2, __ATOMIC_RELAXED);
        return errc::unsupported;
    }
    // The pid may have been recycled before we opened it: the descriptor is the process we
    // mean only if that process (its start time included) is alive now.
    if (!process_alive(id)) {
        ::close(pidfd);
        return errc::peer_dead;
    }
    pthread_mutex_lock(&g_watch_lock);
    errc e = errc::unsupported;  // out of watches, or no watcher thread: poll instead
    if (start_watcher()) {
        for (std::uint32_t i = 0; i < max_watches; ++i) {
            watch_slot& slot = g_watches[i];
            if (slot.in_use) continue;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i | (static_cast<std::uint64_t>(slot.generation + 1) << 32);
            if (::epoll_ctl(g_epoll, EPOLL_CTL_ADD, pidfd, &ev) != 0) break;
            slot.pidfd = pidfd;
            slot.word = word;
            slot.fired = &watch->fired;
            slot.generation += 1;
            slot.in_use = true;
            watch->handle = i;
            e = errc::ok;
            break;
        }
    }
    pthread_mutex_unlock(&g_watch_lock);
    if (failed(e)) ::close(pidfd);
    return e;
}

void unwatch_exit(exit_watch* watch) noexcept {
    if (watch->handle < 0) return;
    pthread_mutex_lock(&g_watch_lock);
    watch_slot& slot = g_watches[static_cast<std::size_t>(watch->handle)];
    if (slot.in_use && slot.fired == &watch->fired) {
        if (slot.word != nullptr && g_epoll >= 0) ::epoll_ctl(g_epoll, EPOLL_CTL_DEL, slot.pidfd, nullptr);
        ::close(slot.pidfd);
        slot.pidfd = -1;
        slot.word = nullptr;
        slot.fired = nullptr;
        slot.in_use = false;
    }
    pthread_mutex_unlock(&g_watch_lock);
    watch->handle = -1;
}

}  // namespace shmkit::os
