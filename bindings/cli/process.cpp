// The demo's reader processes: this very executable started again with other arguments, the
// one OS-specific piece of the tool (POSIX posix_spawn, Windows CreateProcess).
#include "cli.hpp"

#include <cstdio>
#include <cstdlib>

#if defined(_WIN32)
#include <windows.h>
#else
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char** environ;
#endif

namespace shmkit::cli {

#if defined(_WIN32)

std::intptr_t start_self(const args& arguments) {
    wchar_t exe[MAX_PATH];
    const DWORD n = ::GetModuleFileNameW(nullptr, exe, MAX_PATH);
    if (n == 0 || n == MAX_PATH) return -1;
    // The arguments are the tool's own (names, numbers): no quotes or spaces to escape.
    std::wstring command = L"\"" + std::wstring(exe) + L"\"";
    for (const auto& a : arguments) command += L" " + std::wstring(a.begin(), a.end());
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(exe, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) return -1;
    ::CloseHandle(pi.hThread);
    return reinterpret_cast<std::intptr_t>(pi.hProcess);
}

std::intptr_t current_parent() { return 0; }
bool still_parent(std::intptr_t) { return true; }

int wait_for(std::intptr_t process) {
    const HANDLE h = reinterpret_cast<HANDLE>(process);
    ::WaitForSingleObject(h, INFINITE);
    DWORD code = 255;
    ::GetExitCodeProcess(h, &code);
    ::CloseHandle(h);
    return static_cast<int>(code);
}

#else

std::intptr_t start_self(const args& arguments) {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    std::vector<char*> argv{exe};
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_t pid;
    if (::posix_spawn(&pid, exe, nullptr, nullptr, argv.data(), environ) != 0) return -1;
    return pid;
}

std::intptr_t current_parent() { return ::getppid(); }
bool still_parent(std::intptr_t parent) { return ::getppid() == parent; }

int wait_for(std::intptr_t process) {
    int status = 0;
    while (::waitpid(static_cast<pid_t>(process), &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif

}  // namespace shmkit::cli
