// The coordinator (run_benchmark), the children's entry point (child_main) and the plumbing
// both use.
#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "roudi.hpp"
#include "shmkit/os.hpp"

extern char** environ;

namespace shmkit::peers {

// ---- shared by both sides --------------------------------------------------------------------

const char* token(system_id s) noexcept {
    switch (s) {
    case system_id::floor: return "floor";
    case system_id::shmkit_broadcast: return "shmkit_broadcast";
    case system_id::shmkit_spsc: return "shmkit_spsc";
    case system_id::shmkit_channel: return "shmkit_channel";
    case system_id::iceoryx: return "iceoryx";
    case system_id::boost_mq: return "boost_mq";
    case system_id::zeromq: return "zeromq";
    }
    return "unknown";
}

bool parse_system(const char* text, system_id* out) noexcept {
    for (int i = 0; i <= static_cast<int>(system_id::zeromq); ++i) {
        if (std::strcmp(text, token(static_cast<system_id>(i))) == 0) {
            *out = static_cast<system_id>(i);
            return true;
        }
    }
    return false;
}

const system_ops& ops_of(system_id s) noexcept {
    switch (s) {
    case system_id::floor: return floor_ops;
    case system_id::shmkit_broadcast: return shmkit_broadcast_ops;
    case system_id::shmkit_spsc: return shmkit_spsc_ops;
    case system_id::shmkit_channel: return shmkit_channel_ops;
    case system_id::iceoryx: return iceoryx_ops;
    case system_id::boost_mq: return boost_mq_ops;
    case system_id::zeromq: return zeromq_ops;
    }
    return floor_ops;
}

void fail(const std::string& what) { throw failure(what); }

std::uint64_t now_ns() noexcept { return os::monotonic_ns(); }

double process_cpu_seconds() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

namespace {

constexpr std::uint64_t round_page(std::uint64_t n) { return (n + page_bytes - 1) / page_bytes * page_bytes; }

int cpu_count() { return static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN))); }

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % cpu_count(), &set);
    ::sched_setaffinity(0, sizeof set, &set);
}

// The fd number the control block has in a child.
constexpr int child_fd = 100;

// ---- what a signal handler may need -----------------------------------------------------------

constexpr int max_children = 1 + static_cast<int>(max_readers);
volatile pid_t g_children[max_children] = {};
char g_scratch[sizeof params::dir] = {};
char g_shm_names[2][96] = {};

}  // namespace

// ---- the child ---------------------------------------------------------------------------------

int child_main(int argc, char** argv) {
    // <exe> --shmkit-peers-child <system> <index> <coordinator pid>; the control block is child_fd.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a child never outlives the benchmark
    if (argc != 5) return 2;
    system_id s;
    if (!parse_system(argv[2], &s)) return 2;
    const auto index = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
    if (::getppid() != static_cast<pid_t>(std::strtol(argv[4], nullptr, 10))) return 3;
    struct stat st;
    if (::fstat(child_fd, &st) != 0) return 4;
    void* base = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, child_fd, 0);
    ::close(child_fd);
    if (base == MAP_FAILED) return 4;
    control& c = *static_cast<control*>(base);
    const int cpus = cpu_count();
    pin_to_cpu(index == 0 ? 0 : 1 + static_cast<int>(index - 1) % std::max(1, cpus - 1));
    try {
        return ops_of(s).run_child(c, index);
    } catch (const std::exception& e) {
        if (c.failed.exchange(1) == 0) std::snprintf(c.error, sizeof c.error, "%s: %s", token(s), e.what());
        return 1;
    }
}

// ---- the coordinator -----------------------------------------------------------------------------

namespace {

struct child_process {
    pid_t pid = -1;
    int pidfd = -1;
    bool running = false;
    int status = 0;
};

std::string this_executable() {
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "/proc/self/exe";
    path[n] = '\0';
    return path;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
    return "ended oddly";
}

std::string spawn(child_process* out, int memfd, system_id s, std::uint32_t index, int slot) {
    const std::string exe = this_executable();
    const std::string index_text = std::to_string(index), parent = std::to_string(::getpid());
    const char* argv[] = {exe.c_str(), child_flag, token(s), index_text.c_str(), parent.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, memfd, child_fd);  // dup2 clears close-on-exec
    std::fflush(nullptr);
    pid_t pid;
    const int e = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (e != 0) return std::string("posix_spawn: ") + std::strerror(e);
    g_children[slot] = pid;
    out->pid = pid;
    out->running = true;
    out->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // -1 on old kernels: polled instead
    return {};
}

// Reaps the children that have exited, waiting up to timeout_ms for one to (without pidfds:
// polling every 5 ms). Returns how many still run.
int reap_some(std::vector<child_process>& children, int timeout_ms) {
    std::vector<pollfd> fds;
    bool all_pidfds = true;
    for (auto& ch : children) {
        if (!ch.running) continue;
        if (ch.pidfd >= 0) fds.push_back({ch.pidfd, POLLIN, 0});
        else all_pidfds = false;
    }
    if (!fds.empty() || !all_pidfds) {
        const int wait_ms = all_pidfds ? timeout_ms : std::min(timeout_ms, 5);
        static_cast<void>(::poll(fds.data(), fds.size(), wait_ms));
    }
    int running = 0;
    for (std::size_t i = 0; i < children.size(); ++i) {
        auto& ch = children[i];
        if (!ch.running) continue;
        int status;
        if (::waitpid(ch.pid, &status, WNOHANG) == ch.pid) {
            ch.running = false;
            ch.status = status;
            g_children[i] = 0;
            if (ch.pidfd >= 0) ::close(ch.pidfd);
            ch.pidfd = -1;
        } else {
            ++running;
        }
    }
    return running;
}

void kill_all(std::vector<child_process>& children) {
    for (auto& ch : children) {
        if (ch.running) ::kill(ch.pid, SIGKILL);
    }
    while (reap_some(children, 100) > 0) {
    }
}

// The first failure among the children that have exited: their own message if they left one.
std::string children_failure(const std::vector<child_process>& children, const control& c) {
    for (std::size_t i = 0; i < children.size(); ++i) {
        const auto& ch = children[i];
        if (ch.running || (WIFEXITED(ch.status) && WEXITSTATUS(ch.status) == 0)) continue;
        if (c.error[0] != '\0') return c.error;
        return "child " + std::to_string(i) + " " + describe_status(ch.status);
    }
    return {};
}

// Waits for every child, at most timeout_ns; the first to fail has the others killed.
std::string wait_all(std::vector<child_process>& children, const control& c, std::uint64_t timeout_ns) {
    const std::uint64_t deadline = now_ns() + timeout_ns;
    for (;;) {
        const int running = reap_some(children, 1000);
        std::string why = children_failure(children, c);
        if (!why.empty()) {
            kill_all(children);
            return why;
        }
        if (running == 0) return {};
        if (now_ns() > deadline) {
            kill_all(children);
            return "timed out after " + std::to_string(timeout_ns / 1'000'000'000u) + " s (children killed)";
        }
    }
}

double percentile(const std::vector<std::uint64_t>& sorted, double q) {
    if (sorted.empty()) return 0;
    // Nearest rank.
    std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::min(std::max<std::size_t>(rank, 1), sorted.size());
    return static_cast<double>(sorted[rank - 1]);
}

void latency_figures(outcome& out, std::vector<std::uint64_t> samples, const control& c) {
    std::sort(samples.begin(), samples.end());
    out.samples = samples.size();
    out.p50 = percentile(samples, 0.50);
    out.p90 = percentile(samples, 0.90);
    out.p99 = percentile(samples, 0.99);
    out.mean = c.batch_rounds > 0 ? static_cast<double>(c.batch_ns) / static_cast<double>(c.batch_rounds) : 0;
}

}  // namespace

outcome run_benchmark(system_id s, params p) {
    outcome out;
    const system_ops& ops = ops_of(s);
    if (const char* why = ops.unavailable()) {
        out.error = why;
        return out;
    }
    static std::uint64_t serial = 0;
    p.serial = ++serial;
    std::snprintf(p.name, sizeof p.name, "shmkit-peers-%d-%llu", static_cast<int>(::getpid()),
                  static_cast<unsigned long long>(p.serial));
    std::snprintf(p.dir, sizeof p.dir, "%s", scratch_dir());

    // The mapping: the control block, the two sample arrays, the system's arena.
    if (p.what == kind::frame) p.sample_slots = p.warmup + 2 * p.max_samples + 2;
    else if (p.what == kind::round_trip) p.sample_slots = p.max_samples;
    else p.sample_slots = 1;
    p.samples_offset = round_page(sizeof(control));
    p.ends_offset = p.samples_offset + round_page(p.sample_slots * sizeof(std::uint64_t));
    p.arena_offset = p.ends_offset + round_page(p.sample_slots * sizeof(std::uint64_t));
    p.arena_bytes = round_page(ops.arena_bytes(p));
    const std::uint64_t total = p.arena_offset + p.arena_bytes;

    int memfd = static_cast<int>(::syscall(SYS_memfd_create, "shmkit-peers", 1u /* MFD_CLOEXEC */));
    if (memfd == child_fd) {  // dup2 onto itself would keep close-on-exec
        const int moved = ::fcntl(memfd, F_DUPFD_CLOEXEC, child_fd + 1);
        ::close(memfd);
        memfd = moved;
    }
    if (memfd < 0 || ::ftruncate(memfd, static_cast<off_t>(total)) != 0) {
        out.error = std::string("memfd: ") + std::strerror(errno);
        if (memfd >= 0) ::close(memfd);
        return out;
    }
    void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (base == MAP_FAILED) {
        out.error = std::string("mmap: ") + std::strerror(errno);
        ::close(memfd);
        return out;
    }
    control& c = *new (base) control();
    c.p = p;

    out.error = ops.prepare(c);
    const std::uint32_t count = p.what == kind::throughput ? 1 + p.readers : 2;
    std::vector<child_process> children(count);
    if (out.error.empty()) {
        for (std::uint32_t i = 0; i < count && out.error.empty(); ++i) {
            out.error = spawn(&children[i], memfd, s, i, static_cast<int>(i));
        }
    }
    if (out.error.empty() && p.what == kind::idle) {
        // Both set up, the reader about to block.
        const std::uint64_t deadline = now_ns() + 60'000'000'000ull;
        while (c.ready.load() < 2 && out.error.empty()) {
            reap_some(children, 1);
            out.error = children_failure(children, c);
            if (now_ns() > deadline) out.error = "the idle reader did not come up within 60 s";
        }
        if (out.error.empty()) {
            // At rest once its threads' context switches have stopped changing for 200 ms (a
            // connection set up in the background, a first liveness look), at most 5 s.
            const std::uint64_t give_up = now_ns() + 5'000'000'000ull;
            std::uint64_t last = context_switches(children[1].pid), unchanged_since = now_ns();
            while (now_ns() - unchanged_since < 200'000'000 && now_ns() < give_up) {
                os::sleep_ns(20'000'000);
                const std::uint64_t v = context_switches(children[1].pid);
                if (v != last) {
                    last = v;
                    unchanged_since = now_ns();
                }
            }
            const int daemon = ops.daemon_pid();
            const std::uint64_t before = context_switches(children[1].pid);
            const std::uint64_t daemon_before = daemon > 0 ? context_switches(daemon) : 0;
            const std::uint64_t t0 = now_ns();
            os::sleep_ns(1'000'000'000);
            const std::uint64_t after = context_switches(children[1].pid);
            const std::uint64_t daemon_after = daemon > 0 ? context_switches(daemon) : 0;
            const double seconds = static_cast<double>(now_ns() - t0) * 1e-9;
            out.wakeups_per_s = static_cast<double>(after - before) / seconds;
            if (daemon > 0) out.daemon_wakeups_per_s = static_cast<double>(daemon_after - daemon_before) / seconds;
            out.wall_s = seconds;
        }
        c.go.store(1, order::release);
        static_cast<void>(os::futex_wake_all(&c.go.raw));
    }
    if (out.error.empty()) {
        out.error = wait_all(children, c, 120'000'000'000ull);
    } else {
        kill_all(children);
    }
    for (const auto& ch : children) {
        if (ch.pid > 0 && !(WIFEXITED(ch.status) && WEXITSTATUS(ch.status) == 0)) roudi::forget_app(ch.pid);
    }
    ops.cleanup(c);
    note_shm_names("", "");

    if (out.error.empty()) {
        switch (p.what) {
        case kind::round_trip: {
            const std::uint64_t* samples = sample_array(c);
            latency_figures(out, std::vector<std::uint64_t>(samples, samples + c.samples), c);
            break;
        }
        case kind::frame: {
            const std::uint64_t* starts = sample_array(c);
            const std::uint64_t* ends = end_array(c);
            std::vector<std::uint64_t> samples;
            for (std::uint64_t i = p.warmup; i < p.warmup + c.samples; ++i) samples.push_back(ends[i] - starts[i]);
            latency_figures(out, std::move(samples), c);
            break;
        }
        case kind::throughput: {
            out.written = c.written;
            out.wall_s = c.writer_wall_s;
            out.msgs_per_s = c.writer_cpu_s > 0 ? static_cast<double>(c.written) / c.writer_cpu_s : 0;
            out.msgs_per_s_wall = c.writer_wall_s > 0 ? static_cast<double>(c.written) / c.writer_wall_s : 0;
            double received = 0;
            for (std::uint32_t i = 0; i < p.readers; ++i) received += static_cast<double>(c.received[i].load());
            out.received_share = p.readers > 0 && c.written > 0
                                     ? received / p.readers / static_cast<double>(c.written) : 0;
            break;
        }
        case kind::idle:
            break;
        }
    }
    c.~control();
    ::munmap(base, total);
    ::close(memfd);
    return out;
}

// ---- files, signals, /proc ---------------------------------------------------------------------

void make_scratch_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/shmkit-peers-XXXXXX";
    if (pattern.size() >= sizeof g_scratch) pattern = "/tmp/shmkit-peers-XXXXXX";  // endpoints need short paths
    std::snprintf(g_scratch, sizeof g_scratch, "%s", pattern.c_str());
    if (::mkdtemp(g_scratch) == nullptr) {
        std::fprintf(stderr, "mkdtemp %s: %s\n", pattern.c_str(), std::strerror(errno));
        std::exit(1);
    }
}

const char* scratch_dir() noexcept { return g_scratch; }

void remove_scratch_dir() noexcept {
    if (g_scratch[0] == '\0') return;
    // getdents64 and unlinkat: usable from a signal handler, unlike readdir.
    const int dir = ::open(g_scratch, O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        alignas(8) char buf[4096];
        for (;;) {
            const long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                struct entry {
                    std::uint64_t ino;
                    std::int64_t off;
                    unsigned short reclen;
                    unsigned char type;
                    char name[1];
                };
                const auto* e = reinterpret_cast<const entry*>(buf + off);
                if (std::strcmp(e->name, ".") != 0 && std::strcmp(e->name, "..") != 0) ::unlinkat(dir, e->name, 0);
                off += e->reclen;
            }
        }
        ::close(dir);
    }
    ::rmdir(g_scratch);
    g_scratch[0] = '\0';
}

void note_shm_names(const char* first, const char* second) noexcept {
    std::snprintf(g_shm_names[0], sizeof g_shm_names[0], "%s", first);
    std::snprintf(g_shm_names[1], sizeof g_shm_names[1], "%s", second);
}

void emergency_cleanup() noexcept {
    for (int i = 0; i < max_children; ++i) {
        const pid_t pid = g_children[i];
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status;
            ::waitpid(pid, &status, 0);
            roudi::forget_app(pid);
        }
    }
    roudi::stop_from_signal();
    for (auto& name : g_shm_names) {
        if (name[0] != '\0') ::shm_unlink(name);
    }
    remove_scratch_dir();
}

std::uint64_t context_switches(pid_t pid) {
    std::uint64_t total = 0;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(tasks.c_str());
    if (d == nullptr) return 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream status(tasks + "/" + e->d_name + "/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
                total += std::stoull(line.substr(line.find(':') + 1));
            }
        }
    }
    ::closedir(d);
    return total;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line, implementer, part, hardware;
    auto value = [](const std::string& l) {
        std::string v = l.substr(l.find(':') + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
    };
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) return value(line);
        if (line.rfind("CPU implementer", 0) == 0 && implementer.empty()) implementer = value(line);
        if (line.rfind("CPU part", 0) == 0 && part.empty()) part = value(line);
        if (line.rfind("Hardware", 0) == 0 && hardware.empty()) hardware = value(line);
    }
    // aarch64 has no "model name": the device tree's model, else the implementer and part codes.
    std::ifstream dt("/proc/device-tree/model");
    std::string model;
    if (std::getline(dt, model, '\0') && !model.empty()) return model;
    if (!hardware.empty()) return hardware;
    if (!implementer.empty()) return "CPU implementer " + implementer + " part " + part;
    return "unknown";
}

std::string kernel_release() {
    utsname u;
    return ::uname(&u) == 0 ? u.release : "unknown";
}

}  // namespace shmkit::peers
