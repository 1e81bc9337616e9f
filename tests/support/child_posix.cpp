// Children on POSIX: posix_spawn of this very binary (through the emulator the build runs the
// tests under, if any: a qemu-user process cannot exec a foreign binary by itself).
#include <signal.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "support/child.hpp"

extern char** environ;

namespace shmkit::test {

namespace {
std::string this_executable() {
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) std::abort();
    path[n] = '\0';
    return path;
}

int status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}
}  // namespace

void child::start(const char* role, const std::vector<std::string>& args) {
    std::vector<std::string> argv;
#ifdef SHMKIT_TEST_EMULATOR
    // The emulator and its options, "|" between them.
    std::string emulator = SHMKIT_TEST_EMULATOR;
    for (std::size_t from = 0;;) {
        const std::size_t semicolon = emulator.find('|', from);
        argv.push_back(emulator.substr(from, semicolon - from));
        if (semicolon == std::string::npos) break;
        from = semicolon + 1;
    }
#endif
    argv.push_back(this_executable());
    for (auto& a : role_command_line(role, args)) argv.push_back(a);
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_t pid;
    const int e = ::posix_spawn(&pid, c_argv[0], nullptr, nullptr, c_argv.data(), environ);
    if (e != 0) {
        std::fprintf(stderr, "posix_spawn %s: %s\n", c_argv[0], std::strerror(e));
        std::abort();
    }
    pid_ = static_cast<std::uint32_t>(pid);
}

child::~child() {
    if (pid_ != 0 && !reaped_) static_cast<void>(kill_and_wait());
}

int child::kill_and_wait() {
    ::kill(static_cast<pid_t>(pid_), SIGKILL);
    return wait();
}

int child::wait() {
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid_), &status, 0) < 0) {
        if (errno != EINTR) std::abort();  // not our child: a bug in the test
    }
    reaped_ = true;
    return status_of(status);
}

void child::wait_without_reaping() {
    siginfo_t info;
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0) {
        if (errno != EINTR) std::abort();
    }
}

void prepare_role_process() {
#if defined(__linux__)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

bool asleep(std::uint32_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    const char* close = std::strrchr(buf, ')');
    return n > 0 && close != nullptr && close[1] == ' ' && close[2] == 'S';
}

}  // namespace shmkit::test
