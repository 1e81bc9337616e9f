// RouDi's lifetime (see roudi.hpp). Compiled in whether or not iceoryx is: without iceoryx
// nothing ever starts it.
#include "roudi.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "peers.hpp"

namespace shmkit::peers::roudi {
namespace {

volatile pid_t g_pid = 0;
char g_user_segment[160] = {};  // /dev/shm/<user>: RouDi's chunks
bool g_tried = false;
std::string g_refusal;
std::string g_log;

// Mempools for the benchmarks' chunks: 64 B messages (with their chunk header; enough for
// 4 subscribers' full queues of 256), 4 KiB messages and 1080p frames, few enough to keep the
// shared memory small (~26 MB of chunks).
constexpr const char* config_text =
    "[general]\n"
    "version = 1\n"
    "\n"
    "[[segment]]\n"
    "\n"
    "[[segment.mempool]]\n"
    "size = 128\n"
    "count = 4096\n"
    "\n"
    "[[segment.mempool]]\n"
    "size = 4352\n"
    "count = 64\n"
    "\n"
    "[[segment.mempool]]\n"
    "size = 6221056\n"
    "count = 4\n";

std::string find_on_path(const char* program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t from = 0;
    for (;;) {
        const std::size_t colon = dirs.find(':', from);
        std::string dir = dirs.substr(from, colon == std::string::npos ? std::string::npos : colon - from);
        if (dir.empty()) dir = ".";
        const std::string candidate = dir + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string::npos) return {};
        from = colon + 1;
    }
}

// A RouDi this benchmark did not start: its process, or the shared memory one leaves behind.
std::string other_roudi() {
    DIR* proc = ::opendir("/proc");
    if (proc != nullptr) {
        while (dirent* e = ::readdir(proc)) {
            char* end = nullptr;
            const long pid = std::strtol(e->d_name, &end, 10);
            if (pid <= 0 || *end != '\0') continue;
            std::ifstream comm(std::string("/proc/") + e->d_name + "/comm");
            std::string name;
            if (std::getline(comm, name) && name == "iox-roudi") {
                ::closedir(proc);
                return "iceoryx: another RouDi is running (pid " + std::to_string(pid) +
                       "); skipped so as not to disturb it";
            }
        }
        ::closedir(proc);
    }
    struct stat st;
    if (::stat("/dev/shm/iceoryx_mgmt", &st) == 0) {
        return "iceoryx: /dev/shm/iceoryx_mgmt exists but no RouDi runs (left by one that was killed?); "
               "skipped: remove it and /dev/shm/<user> when no iceoryx application runs";
    }
    return {};
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string last_line(const std::string& text) {
    std::string t = text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    const std::size_t nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Waits up to timeout_ms for RouDi to exit; true (and its status) once it has.
bool reap(int timeout_ms, int* status) {
    for (int waited = 0;; waited += 10) {
        const pid_t r = ::waitpid(g_pid, status, WNOHANG);
        if (r == g_pid) return true;
        if (r < 0 && errno == ECHILD) {
            *status = 0;
            return true;
        }
        if (waited >= timeout_ms) return false;
        ::usleep(10'000);
    }
}

// RouDi removes its shared memory and sockets when it stops cleanly. It does not when it is
// killed, nor when it aborts: iceoryx 2.0 asserts in its shutdown if an application that is
// still registered has died (a child killed after a failure or a signal, before RouDi's
// monitoring dropped it). Then they go by hand. Async-signal-safe.
void remove_leftovers() noexcept {
    ::unlink("/dev/shm/iceoryx_mgmt");
    if (g_user_segment[0] != '\0') ::unlink(g_user_segment);
    ::unlink("/tmp/roudi");
    ::unlink("/tmp/roudi.lock");
    ::unlink("/tmp/iox-unique-roudi.lock");
}

bool clean_exit(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

}  // namespace

std::string ensure(const char* dir) {
    if (g_pid != 0) {
        int status;
        if (::waitpid(g_pid, &status, WNOHANG) != g_pid) return {};
        // It died during the run: the applications would wait for it forever.
        g_pid = 0;
        if (!clean_exit(status)) remove_leftovers();
        return g_refusal = "iceoryx: iox-roudi exited during the run: " + last_line(read_file(g_log));
    }
    if (g_tried) return g_refusal;
    g_tried = true;
    const std::string program = find_on_path("iox-roudi");
    if (program.empty()) return g_refusal = "iceoryx: iox-roudi not on PATH (install the iceoryx package)";
    g_refusal = other_roudi();
    if (!g_refusal.empty()) return g_refusal;

    if (const passwd* pw = ::getpwuid(::geteuid())) {
        std::snprintf(g_user_segment, sizeof g_user_segment, "/dev/shm/%s", pw->pw_name);
    }
    const std::string config = std::string(dir) + "/roudi.toml";
    g_log = std::string(dir) + "/roudi.log";
    {
        std::ofstream out(config);
        out << config_text;
        if (!out) return g_refusal = "iceoryx: cannot write " + config;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return g_refusal = std::string("iceoryx: fork: ") + std::strerror(errno);
    if (pid == 0) {
        // RouDi goes when the benchmark goes, however it goes; SIGTERM lets it clean up.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(1);
        const int log = ::open(g_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log >= 0) {
            ::dup2(log, 1);
            ::dup2(log, 2);
        }
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, 0);
        // Nothing of the benchmark's (the control blocks' memfds) stays open in RouDi.
        for (int fd = 3; fd < 1024; ++fd) ::close(fd);
        ::execl(program.c_str(), "iox-roudi", "-c", config.c_str(), "-l", "warning", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    g_pid = pid;
    // Up when it says so (stdout: "RouDi is ready for clients").
    for (int waited = 0; waited < 20'000; waited += 10) {
        if (read_file(g_log).find("RouDi is ready for clients") != std::string::npos) return {};
        int status;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            g_pid = 0;
            return g_refusal = "iceoryx: iox-roudi exited at start: " + last_line(read_file(g_log));
        }
        ::usleep(10'000);
    }
    stop();
    return g_refusal = "iceoryx: iox-roudi did not become ready within 20 s";
}

int pid() noexcept { return g_pid; }

void stop() noexcept {
    if (g_pid == 0) return;
    ::kill(g_pid, SIGTERM);
    int status = 0;
    if (!reap(15'000, &status)) {
        std::fprintf(stderr, "iox-roudi did not stop within 15 s of SIGTERM: killed\n");
        ::kill(g_pid, SIGKILL);
        reap(5'000, &status);
    }
    if (!clean_exit(status)) {
        std::fprintf(stderr, "iox-roudi did not stop cleanly (%s); its files are removed by hand\n",
                     last_line(read_file(g_log)).c_str());
        remove_leftovers();
    }
    g_pid = 0;
}

void stop_from_signal() noexcept {
    const pid_t pid = g_pid;
    if (pid == 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!clean_exit(status)) remove_leftovers();
    g_pid = 0;
}

void app_name(pid_t pid, char* out, std::size_t size) noexcept {
    std::snprintf(out, size, "shmkit-peers-app-%d", static_cast<int>(pid));
}

void forget_app(pid_t pid) noexcept {
    // Built by hand: snprintf is not async-signal-safe.
    char path[64] = "/tmp/shmkit-peers-app-";
    std::size_t n = std::strlen(path);
    char digits[16];
    std::size_t d = 0;
    for (unsigned v = static_cast<unsigned>(pid); d == 0 || v != 0; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
    while (d > 0) path[n++] = digits[--d];
    path[n] = '\0';
    ::unlink(path);
    std::memcpy(path + n, ".lock", 6);
    ::unlink(path);
}

}  // namespace shmkit::peers::roudi
