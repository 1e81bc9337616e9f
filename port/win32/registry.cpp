// The session registry of the Windows port; see registry.hpp and core/SPEC.md.
#include "registry.hpp"

#include <windows.h>

#include <cstdio>
#include <cstring>

#include "last_error.hpp"

namespace shmkit::os::win32 {
namespace {

// The layout's version is in the names: another build with another layout never shares them.
constexpr char registry_section[] = "Local\\shmkit..registry.1";
constexpr char registry_mutex[] = "Local\\shmkit..registry.1.lock";

win32_registry* g_registry = nullptr;
HANDLE g_mutex = nullptr;
INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;

// Creates or opens both: CreateFileMapping and CreateMutex open what exists, atomically, and a
// new section reads as zero, which is an empty registry.
BOOL CALLBACK open_registry(PINIT_ONCE, PVOID, PVOID*) {
    HANDLE section = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT, 0,
                                          sizeof(win32_registry), registry_section);
    if (section == nullptr) {
        t_last_error = ::GetLastError();
        return TRUE;
    }
    void* view = ::MapViewOfFile(section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(win32_registry));
    HANDLE mutex = ::CreateMutexA(nullptr, FALSE, registry_mutex);
    if (view == nullptr || mutex == nullptr) {
        t_last_error = ::GetLastError();
        if (view != nullptr) ::UnmapViewOfFile(view);
        if (mutex != nullptr) ::CloseHandle(mutex);
        ::CloseHandle(section);
        return TRUE;
    }
    // The section handle stays open for the life of the process: the registry lives while any
    // shmkit process does.
    g_mutex = mutex;
    g_registry = static_cast<win32_registry*>(view);
    return TRUE;
}

// The views of this process: a fixed table (mapping more than this many segments at once fails
// with no_space), so that every word in a segment has a key that other processes agree on.
struct view {
    const unsigned char* base;
    std::uint64_t size;
    std::uint64_t generation;
};
constexpr int max_views = 1024;
view g_views[max_views];
SRWLOCK g_views_lock = SRWLOCK_INIT;

std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

}  // namespace

win32_registry* registry() noexcept {
    ::InitOnceExecuteOnce(&g_once, open_registry, nullptr, nullptr);
    return g_registry;
}

registry_lock::registry_lock() noexcept {
    if (registry() == nullptr) return;
    // Bounded: a holder that is stopped (suspended, in a debugger) makes registry calls fail
    // with busy instead of blocking every create, open and remove of the session.
    const DWORD r = ::WaitForSingleObject(g_mutex, 5000);
    held_ = r == WAIT_OBJECT_0 || r == WAIT_ABANDONED;
    if (r == WAIT_TIMEOUT) ::SetLastError(ERROR_BUSY);
}

registry_lock::~registry_lock() {
    if (held_) ::ReleaseMutex(g_mutex);
}

bool valid_name(const char* name) noexcept {
    if (name == nullptr || name[0] != '/') return false;
    const std::size_t n = std::strlen(name);
    return n >= 2 && n <= win32_registry_name_bytes && std::strchr(name + 1, '/') == nullptr &&
           std::strchr(name, '\\') == nullptr;  // a backslash would be a path in the object namespace
}

void section_name(const char* name, std::uint64_t generation, char (&out)[300]) noexcept {
    std::snprintf(out, sizeof out, "Local\\shmkit.%s#%016llx", name + 1, static_cast<unsigned long long>(generation));
}

// Entries are read under the lock but still bounded: another build, or a hostile process,
// may have written anything into the section.
win32_registry_entry* find_entry(win32_registry& r, const char* name) noexcept {
    const std::size_t n = std::strlen(name);
    for (auto& e : r.entries) {
        if (e.generation.load(order::acquire) == 0) continue;
        if (e.name_length == n && n <= win32_registry_name_bytes && std::memcmp(e.name, name, n) == 0) return &e;
    }
    return nullptr;
}

win32_registry_entry* free_entry(win32_registry& r) noexcept {
    for (auto& e : r.entries) {
        if (e.generation.load(order::relaxed) == 0) return &e;
    }
    return nullptr;
}

void commit_entry(win32_registry_entry& e, const char* name, std::uint64_t generation) noexcept {
    const std::size_t n = std::strlen(name);
    std::memcpy(e.name, name, n);
    e.name_length = static_cast<std::uint32_t>(n);
    // Release: a reader that sees the generation sees the name it belongs to. A holder killed
    // before this store leaves the entry free.
    e.generation.store(generation, order::release);
}

bool remember_view(const void* base, std::uint64_t size, std::uint64_t generation) noexcept {
    bool remembered = false;
    ::AcquireSRWLockExclusive(&g_views_lock);
    for (auto& v : g_views) {
        if (v.base == nullptr) {
            v = view{static_cast<const unsigned char*>(base), size, generation};
            remembered = true;
            break;
        }
    }
    ::ReleaseSRWLockExclusive(&g_views_lock);
    return remembered;
}

std::uint64_t forget_view(const void* base) noexcept {
    std::uint64_t generation = 0;
    ::AcquireSRWLockExclusive(&g_views_lock);
    for (auto& v : g_views) {
        if (v.base == base) {
            generation = v.generation;
            v = view{};
        }
    }
    ::ReleaseSRWLockExclusive(&g_views_lock);
    return generation;
}

std::uint64_t view_generation(const void* base) noexcept {
    std::uint64_t generation = 0;
    ::AcquireSRWLockShared(&g_views_lock);
    for (const auto& v : g_views) {
        if (v.base != nullptr && v.base == base) generation = v.generation;
    }
    ::ReleaseSRWLockShared(&g_views_lock);
    return generation;
}

std::uint64_t word_key(const void* word, bool* shared) noexcept {
    const auto* p = static_cast<const unsigned char*>(word);
    std::uint64_t key = 0;
    ::AcquireSRWLockShared(&g_views_lock);
    for (const auto& v : g_views) {
        if (v.base != nullptr && p >= v.base && p < v.base + v.size) {
            key = mix(v.generation * 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(p - v.base));
            break;
        }
    }
    ::ReleaseSRWLockShared(&g_views_lock);
    *shared = key != 0;
    if (key == 0) key = mix(reinterpret_cast<std::uintptr_t>(word) ^ 0x5555555555555555ull) ^ ::GetCurrentProcessId();
    return key == 0 ? 1 : key;
}

}  // namespace shmkit::os::win32
