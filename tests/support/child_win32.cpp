// Children on Windows: CreateProcess of this very binary; a hard kill is TerminateProcess.
#include <windows.h>
#include <winternl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "shmkit/wire/win32_registry.hpp"
#include "support/child.hpp"

namespace shmkit::test {
namespace {
// One argument, quoted the way CommandLineToArgvW and the C runtime split them.
std::wstring quoted(const std::string& a) {
    std::wstring out = L"\"";
    std::size_t backslashes = 0;
    for (char c : a) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        if (c == '"') backslashes = 2 * backslashes + 1;
        out.append(backslashes, L'\\');
        backslashes = 0;
        out += static_cast<wchar_t>(static_cast<unsigned char>(c));
    }
    out.append(2 * backslashes, L'\\');
    return out + L"\"";
}
}  // namespace

void child::start(const char* role, const std::vector<std::string>& args) {
    wchar_t exe[MAX_PATH];
    const DWORD n = ::GetModuleFileNameW(nullptr, exe, MAX_PATH);
    if (n == 0 || n == MAX_PATH) std::abort();
    std::wstring command = L"\"" + std::wstring(exe) + L"\"";
    for (auto& a : role_command_line(role, args)) command += L" " + quoted(a);
    std::fflush(nullptr);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(exe, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) {
        std::fprintf(stderr, "CreateProcess failed: %lu\n", ::GetLastError());
        std::abort();
    }
    ::CloseHandle(pi.hThread);
    handle_ = reinterpret_cast<std::intptr_t>(pi.hProcess);
    pid_ = pi.dwProcessId;
}

child::~child() {
    if (handle_ != -1 && !reaped_) static_cast<void>(kill_and_wait());
}

int child::kill_and_wait() {
    ::TerminateProcess(reinterpret_cast<HANDLE>(handle_), killed_status);
    return wait();
}

int child::wait() {
    const HANDLE h = reinterpret_cast<HANDLE>(handle_);
    ::WaitForSingleObject(h, INFINITE);
    DWORD code = 255;
    ::GetExitCodeProcess(h, &code);
    ::CloseHandle(h);
    reaped_ = true;
    return static_cast<int>(code);
}

void child::wait_without_reaping() { ::WaitForSingleObject(reinterpret_cast<HANDLE>(handle_), INFINITE); }

void prepare_role_process() {}

namespace {
// Whether a thread of `pid` holds a waiter slot of the port's registry with a key: it parked
// on a word and is asleep, or about to be (core/SPEC.md "Windows: names, registry and waits").
bool parked(std::uint32_t pid) {
    HANDLE h = ::OpenFileMappingA(FILE_MAP_READ, FALSE, "Local\\shmkit..registry.1");
    if (h == nullptr) return false;
    const auto* r = static_cast<const win32_registry*>(::MapViewOfFile(h, FILE_MAP_READ, 0, 0, sizeof(win32_registry)));
    bool found = false;
    if (r != nullptr) {
        for (const auto& slot : r->waiters) {
            const std::uint64_t owner = __atomic_load_n(&slot.owner.raw, __ATOMIC_ACQUIRE);
            if (static_cast<std::uint32_t>(owner) == pid &&
                __atomic_load_n(&slot.key.raw, __ATOMIC_ACQUIRE) != 0) {
                found = true;
            }
        }
        ::UnmapViewOfFile(r);
    }
    ::CloseHandle(h);
    return found;
}

// The scheduler states of the process's threads: 1 every thread Waiting, 0 some thread not,
// -1 not known (wine reports every thread as state 0).
int all_threads_waiting(std::uint32_t pid) {
    using query_fn = NTSTATUS(NTAPI*)(ULONG, PVOID, ULONG, PULONG);
    static const auto query = reinterpret_cast<query_fn>(
        reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation")));
    if (query == nullptr) return -1;
    std::vector<unsigned char> buffer(1 << 20);
    ULONG needed = 0;
    while (query(5 /* SystemProcessInformation */, buffer.data(), static_cast<ULONG>(buffer.size()), &needed) != 0) {
        if (buffer.size() > (64u << 20)) return -1;
        buffer.resize(buffer.size() * 2);
    }
    // SYSTEM_PROCESS_INFORMATION (0x100 bytes on x64) is followed by its threads' records
    // (0x50 bytes each, the state at 0x44); winternl.h declares neither, so offsets are used.
    for (std::size_t offset = 0;;) {
        const auto* p = reinterpret_cast<const SYSTEM_PROCESS_INFORMATION*>(buffer.data() + offset);
        if (static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p->UniqueProcessId)) == pid) {
            const auto* threads = reinterpret_cast<const unsigned char*>(p) + 0x100;
            bool all_zero = true, all_waiting = true;
            for (ULONG i = 0; i < p->NumberOfThreads; ++i) {
                ULONG state;
                std::memcpy(&state, threads + i * 0x50 + 0x44, sizeof state);
                all_zero = all_zero && state == 0;
                all_waiting = all_waiting && state == 5;
            }
            if (all_zero) return -1;
            return all_waiting ? 1 : 0;
        }
        if (p->NextEntryOffset == 0) return 0;
        offset += p->NextEntryOffset;
    }
}
}  // namespace

// Parked on a word, and (where Windows says) every thread waiting.
bool asleep(std::uint32_t pid) { return parked(pid) && all_threads_waiting(pid) != 0; }

}  // namespace shmkit::test
