// Children on Windows: CreateProcess of this very binary; a hard kill is TerminateProcess.
#include <windows.h>
#include <winternl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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

// Every thread of the process in the Waiting state, from the system's process list.
bool asleep(std::uint32_t pid) {
    using query_fn = NTSTATUS(NTAPI*)(ULONG, PVOID, ULONG, PULONG);
    static const auto query = reinterpret_cast<query_fn>(
        reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation")));
    if (query == nullptr) return true;
    std::vector<unsigned char> buffer(1 << 20);
    ULONG needed = 0;
    while (query(5 /* SystemProcessInformation */, buffer.data(), static_cast<ULONG>(buffer.size()), &needed) != 0) {
        if (buffer.size() > (64u << 20)) return true;
        buffer.resize(buffer.size() * 2);
    }
    // SYSTEM_PROCESS_INFORMATION is followed by its SYSTEM_THREAD_INFORMATION array; winternl.h
    // declares only the part before it, so the thread records are read at their documented offsets.
    struct thread_record {
        LARGE_INTEGER times[3];
        ULONG wait_time;
        PVOID start_address;
        CLIENT_ID client_id;
        LONG priority;
        LONG base_priority;
        ULONG context_switches;
        ULONG state;  // 5: Waiting
        ULONG wait_reason;
    };
    for (std::size_t offset = 0;;) {
        const auto* p = reinterpret_cast<const SYSTEM_PROCESS_INFORMATION*>(buffer.data() + offset);
        if (static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p->UniqueProcessId)) == pid) {
            const auto* threads = reinterpret_cast<const thread_record*>(
                reinterpret_cast<const unsigned char*>(p) + 0x100 /* sizeof(SYSTEM_PROCESS_INFORMATION) on x64 */);
            if (p->NumberOfThreads == 0) return false;
            for (ULONG i = 0; i < p->NumberOfThreads; ++i) {
                if (threads[i].state != 5) return false;
            }
            return true;
        }
        if (p->NextEntryOffset == 0) return false;
        offset += p->NextEntryOffset;
    }
}

}  // namespace shmkit::test
