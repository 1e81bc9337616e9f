// Shared-memory objects on Windows: pagefile-backed file mappings (sections) in the session
// namespace. Windows cannot rename a section, nor take a name away from a section that
// processes still hold, so a shmkit name is an entry of the session registry (registry.hpp)
// that points at the current generation's section, "Local\shmkit.<name>#<generation>".
// Removing a name frees its entry: the holders keep their section, and the next create makes a
// new generation. A section lives while any process has a handle to it: the handle is the
// in-use mark, and an unused segment is already gone (its entry, left dangling, is freed by
// whoever meets it). SEC_COMMIT charges the whole size to the commit limit at creation, so an
// exhausted limit is no_space then, never a fault later. A section is named when it is created,
// so shm_link() has nothing to do and attachers may meet a half-made segment, which the core
// handles (core/SPEC.md "Creation").
//
// Windows sizes a section in whole pages (NtQuerySection reports the size rounded up), so the
// port keeps the exact size itself: the section has 8 more bytes, rounded up to a page, and its
// last 8 bytes hold the size the creator asked for (stored with release once the view exists;
// 0 until then). The core never sees them: the mapping it gets is exactly that size.
#include <windows.h>

#include <cstdio>
#include <cstring>

#include "last_error.hpp"
#include "registry.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

// The exact size of a section (a view's region is rounded up to pages): NtQuerySection, found
// at run time so that no DDK header is needed.
struct section_basic_information {
    void* base_address;
    ULONG allocation_attributes;
    LARGE_INTEGER maximum_size;
};
using nt_query_section_fn = LONG(WINAPI*)(HANDLE, int, void*, ULONG, ULONG*);

bool section_size(HANDLE section, std::uint64_t* size) noexcept {
    static const auto query = reinterpret_cast<nt_query_section_fn>(
        reinterpret_cast<void*>(::GetProcAddress(::GetModuleHandleA("ntdll.dll"), "NtQuerySection")));
    if (query == nullptr) return false;
    section_basic_information info{};
    if (query(section, 0 /* SectionBasicInformation */, &info, sizeof info, nullptr) < 0) return false;
    *size = static_cast<std::uint64_t>(info.maximum_size.QuadPart);
    return true;
}

constexpr std::uint64_t trailer_bytes = 8;

std::uint64_t section_bytes_for(std::uint64_t size) noexcept {
    SYSTEM_INFO info;
    ::GetSystemInfo(&info);
    const std::uint64_t page = info.dwPageSize;
    return (size + trailer_bytes + page - 1) / page * page;
}

std::uint64_t* trailer(void* view, std::uint64_t section_bytes) noexcept {
    return reinterpret_cast<std::uint64_t*>(static_cast<std::uint8_t*>(view) + section_bytes - trailer_bytes);
}

// Whether the section of `generation` still exists (some process holds it). Anything but a
// certain "not found" counts as existing.
bool section_exists(const char* name, std::uint64_t generation) noexcept {
    char full[300];
    win32::section_name(name, generation, full);
    HANDLE h = ::OpenFileMappingA(FILE_MAP_READ, FALSE, full);
    if (h != nullptr) {
        ::CloseHandle(h);
        return true;
    }
    return ::GetLastError() != ERROR_FILE_NOT_FOUND;
}

// Whether entry `e` (of `name`, at `generation`) still has its section; a dangling one (its
// section gone with its last holder) is freed. Under the lock.
bool still_live(win32_registry_entry& e, const char* name, std::uint64_t generation) noexcept {
    if (section_exists(name, generation)) return true;
    e.generation.store(0, order::release);
    return false;
}

// The entry of `name` whose section exists, under the lock; a dangling one is freed on the way.
win32_registry_entry* live_entry(win32_registry& r, const char* name) noexcept {
    win32_registry_entry* e = win32::find_entry(r, name);
    return e != nullptr && still_live(*e, name, e->generation.load(order::acquire)) ? e : nullptr;
}

// Maps the whole section (`section_bytes`) and hands out its first `size` bytes.
errc map_view(HANDLE h, access mode, std::uint64_t section_bytes, std::uint64_t size, std::uint64_t generation,
              mapping* out) noexcept {
    const DWORD view_access = mode == access::read_write ? (FILE_MAP_READ | FILE_MAP_WRITE) : FILE_MAP_READ;
    void* p = ::MapViewOfFile(h, view_access, 0, 0, static_cast<SIZE_T>(section_bytes));
    if (p == nullptr) {
        const errc e = fail_with_last_error();
        ::CloseHandle(h);
        return e;
    }
    if (size == 0) {
        // An opener: the creator's exact size, or (0: it has not stored it yet) everything but
        // the trailer, in which the core then finds a segment still being created.
        const std::uint64_t stored = __atomic_load_n(trailer(p, section_bytes), __ATOMIC_ACQUIRE);
        size = stored != 0 && stored <= section_bytes - trailer_bytes ? stored : section_bytes - trailer_bytes;
    }
    if (!win32::remember_view(p, section_bytes, generation)) {  // this process maps too many
        ::UnmapViewOfFile(p);
        ::CloseHandle(h);
        t_last_error = ERROR_NOT_ENOUGH_MEMORY;
        return errc::no_space;
    }
    out->address = p;
    out->size = size;
    out->writable = mode == access::read_write;
    out->handle = reinterpret_cast<std::intptr_t>(h);
    return errc::ok;
}

// The entry's name as a C string, if it is one this port could have written (entries are
// shared memory: bounded before use).
bool entry_name(const win32_registry_entry& e, char (&out)[win32_registry_name_bytes + 1]) noexcept {
    const std::uint32_t n = e.name_length;
    if (n < 2 || n > win32_registry_name_bytes) return false;
    std::memcpy(out, e.name, n);
    out[n] = '\0';
    return win32::valid_name(out);
}

// The sections this process created and completed (shm_link), each kept open by one more
// handle until the name is removed, or (when the name has moved on to another generation) until
// a view of it closes, or until the process exits. So a segment outlives the creator's last
// close as long as the creator lives, as a POSIX object outlives its last close (there: until
// removed), and a process can close its writer and open the segment again. A fixed table: a
// process that created more live segments than this keeps only the first ones.
struct kept_section {
    std::uint64_t generation = 0;  // 0: free
    HANDLE handle = nullptr;
};
constexpr int max_kept = 1024;
kept_section g_kept[max_kept];
SRWLOCK g_kept_lock = SRWLOCK_INIT;

void keep(HANDLE section, std::uint64_t generation) noexcept {
    HANDLE copy = nullptr;
    const HANDLE self = ::GetCurrentProcess();
    if (!::DuplicateHandle(self, section, self, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS)) return;
    ::AcquireSRWLockExclusive(&g_kept_lock);
    for (auto& k : g_kept) {
        if (k.generation == 0) {
            k = kept_section{generation, copy};
            copy = nullptr;
            break;
        }
    }
    ::ReleaseSRWLockExclusive(&g_kept_lock);
    if (copy != nullptr) ::CloseHandle(copy);  // table full
}

void let_go(std::uint64_t generation) noexcept {
    HANDLE h = nullptr;
    ::AcquireSRWLockExclusive(&g_kept_lock);
    for (auto& k : g_kept) {
        if (k.generation == generation) {
            h = k.handle;
            k = kept_section{};
            break;
        }
    }
    ::ReleaseSRWLockExclusive(&g_kept_lock);
    if (h != nullptr) ::CloseHandle(h);
}

// Whether some entry still names this generation (a lock-free look: a wrong answer only lets a
// kept section go early, or keeps it until the process exits).
bool registered(std::uint64_t generation) noexcept {
    win32_registry* r = win32::registry();
    if (r == nullptr) return false;
    for (const auto& e : r->entries) {
        if (e.generation.load(order::relaxed) == generation) return true;
    }
    return false;
}

// Frees a live entry's name; this process lets its kept section go (the holders keep theirs).
void free_name(win32_registry_entry& e) noexcept {
    const std::uint64_t generation = e.generation.load(order::relaxed);
    e.generation.store(0, order::release);
    let_go(generation);
}

errc not_found_here() noexcept {
    t_last_error = ERROR_FILE_NOT_FOUND;
    return errc::not_found;
}

}  // namespace

errc shm_create(const char* name, std::uint64_t size, const create_options&, mapping* out) noexcept {
    *out = mapping{};
    if (!win32::valid_name(name) || size == 0) return errc::invalid_argument;
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    win32::registry_lock lock;
    if (!lock.held()) return fail_with_last_error();
    if (live_entry(*r, name) != nullptr) {
        t_last_error = ERROR_ALREADY_EXISTS;
        return errc::already_exists;
    }
    win32_registry_entry* e = win32::free_entry(*r);
    if (e == nullptr) {
        // Full: free the entries whose sections are gone (their processes exited without
        // removing them), then look again.
        for (auto& entry : r->entries) {
            const std::uint64_t g = entry.generation.load(order::acquire);
            char other[win32_registry_name_bytes + 1];
            if (g != 0 && entry_name(entry, other)) static_cast<void>(still_live(entry, other, g));
        }
        e = win32::free_entry(*r);
    }
    if (e == nullptr) {
        t_last_error = ERROR_OUT_OF_STRUCTURES;
        return errc::no_space;  // the registry is full
    }
    // A generation is never handed out twice, so no holder of a removed name's section is
    // mistaken for the new one.
    std::uint64_t generation = r->last_generation.fetch_add(1, order::relaxed) + 1;
    if (generation == 0) generation = r->last_generation.fetch_add(1, order::relaxed) + 1;  // 0 means free
    char full[300];
    win32::section_name(name, generation, full);
    const std::uint64_t section_bytes = section_bytes_for(size);
    HANDLE h = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT,
                                    static_cast<DWORD>(section_bytes >> 32), static_cast<DWORD>(section_bytes), full);
    if (h == nullptr) return fail_with_last_error();
    if (::GetLastError() == ERROR_ALREADY_EXISTS) {  // made behind the registry's back
        t_last_error = ERROR_ALREADY_EXISTS;
        ::CloseHandle(h);
        return errc::already_exists;
    }
    const errc mapped = map_view(h, access::read_write, section_bytes, size, generation, out);
    if (mapped != errc::ok) return mapped;
    __atomic_store_n(trailer(out->address, section_bytes), size, __ATOMIC_RELEASE);
    // The name is taken from here on; a creator that dies before this leaves nothing behind.
    win32::commit_entry(*e, name, generation);
    return errc::ok;
}

// Named at creation (see above); from here on the segment is complete, and kept while this
// process lives (see keep()). A creator that fails before this leaves nothing once it closes.
errc shm_link(const mapping& m, const char*) noexcept {
    const std::uint64_t generation = win32::view_generation(m.address);
    if (generation != 0 && m.handle != -1) keep(reinterpret_cast<HANDLE>(m.handle), generation);
    return errc::ok;
}

errc shm_open(const char* name, access mode, mapping* out) noexcept {
    *out = mapping{};
    if (!win32::valid_name(name)) return errc::invalid_argument;
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    HANDLE h = nullptr;
    std::uint64_t generation = 0;
    {
        win32::registry_lock lock;
        if (!lock.held()) return fail_with_last_error();
        win32_registry_entry* e = win32::find_entry(*r, name);
        if (e == nullptr) return not_found_here();
        generation = e->generation.load(order::acquire);
        char full[300];
        win32::section_name(name, generation, full);
        const DWORD desired = mode == access::read_write ? (FILE_MAP_READ | FILE_MAP_WRITE) : FILE_MAP_READ;
        // SECTION_QUERY: NtQuerySection needs it to tell the size.
        h = ::OpenFileMappingA(desired | SECTION_QUERY, FALSE, full);
        if (h == nullptr) {
            const errc failure = fail_with_last_error();
            if (failure == errc::not_found) e->generation.store(0, order::release);  // dangling
            return failure;
        }
    }
    std::uint64_t section_bytes = 0;
    if (!section_size(h, &section_bytes) || section_bytes < trailer_bytes) {
        t_last_error = ::GetLastError();
        ::CloseHandle(h);
        return errc::os_error;
    }
    return map_view(h, mode, section_bytes, 0, generation, out);
}

void shm_close(mapping* m) noexcept {
    if (m->address != nullptr) {
        const std::uint64_t generation = win32::forget_view(m->address);
        ::UnmapViewOfFile(m->address);
        // A kept section whose name was removed (by another process) is let go now.
        if (generation != 0 && !registered(generation)) let_go(generation);
    }
    if (m->handle != -1) ::CloseHandle(reinterpret_cast<HANDLE>(m->handle));
    *m = mapping{};
}

// Frees the name; the holders keep their section (see above).
errc shm_unlink(const char* name) noexcept {
    if (!win32::valid_name(name)) return errc::invalid_argument;
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    win32::registry_lock lock;
    if (!lock.held()) return fail_with_last_error();
    win32_registry_entry* e = live_entry(*r, name);
    if (e == nullptr) return not_found_here();
    free_name(*e);
    return errc::ok;
}

// Frees the name if its entry still points at the generation `m` maps, under the registry lock
// (so no create or remove of the name runs meanwhile).
errc shm_unlink_mapped(const char* name, const mapping& m) noexcept {
    if (!win32::valid_name(name)) return errc::invalid_argument;
    const std::uint64_t mine = win32::view_generation(m.address);
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    win32::registry_lock lock;
    if (!lock.held()) return fail_with_last_error();
    win32_registry_entry* e = live_entry(*r, name);
    if (e == nullptr || mine == 0 || e->generation.load(order::acquire) != mine) return not_found_here();
    free_name(*e);
    return errc::ok;
}

// A section that exists is held by some process (an unused one is gone), so require_unused
// always means busy; without it, the predicate decides, under the registry lock so that no
// create or remove of the name runs meanwhile.
errc shm_remove_if_stale(const char* name, bool require_unused, stale_predicate is_stale, void* context) noexcept {
    if (!win32::valid_name(name)) return errc::invalid_argument;
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    win32::registry_lock lock;  // recursive: shm_peek below takes it again
    if (!lock.held()) return fail_with_last_error();
    win32_registry_entry* e = live_entry(*r, name);
    if (e == nullptr) return not_found_here();
    if (require_unused) return errc::busy;
    unsigned char copy[4096];
    object_snapshot s;
    const errc peeked = shm_peek(name, copy, sizeof copy, &s);
    if (failed(peeked)) return peeked;
    if (!is_stale(s, context)) return errc::busy;
    free_name(*e);
    return errc::ok;
}

errc shm_peek(const char* name, void* buffer, std::uint64_t capacity, object_snapshot* out) noexcept {
    mapping m;
    const errc e = shm_open(name, access::read_only, &m);
    if (failed(e)) return e;
    // A section cannot shrink under its views, so copying from the mapping cannot fault.
    const std::uint64_t n = capacity < m.size ? capacity : m.size;
    std::memcpy(buffer, m.address, static_cast<std::size_t>(n));
    out->bytes = buffer;
    out->copied = n;
    out->size = m.size;
    out->unused = false;  // this very peek holds it; whether others do is not known
    shm_close(&m);
    return errc::ok;
}

// The registry's live entries, visited under its lock (recursive, so the visitor may open or
// peek them).
errc shm_list(name_visitor visit, void* context) noexcept {
    win32_registry* r = win32::registry();
    if (r == nullptr) return errc::os_error;
    win32::registry_lock lock;
    if (!lock.held()) return fail_with_last_error();
    for (auto& e : r->entries) {
        const std::uint64_t generation = e.generation.load(order::acquire);
        if (generation == 0) continue;
        char name[win32_registry_name_bytes + 1];
        if (!entry_name(e, name)) continue;  // not written by this port
        if (still_live(e, name, generation)) visit(name, context);
    }
    return errc::ok;
}

void prefault(void*, std::uint64_t) noexcept {}

errc protect_read_only(void* address, std::uint64_t size) noexcept {
    DWORD old = 0;
    if (!::VirtualProtect(address, static_cast<SIZE_T>(size), PAGE_READONLY, &old)) return fail_with_last_error();
    return errc::ok;
}

std::uint64_t page_size() noexcept {
    SYSTEM_INFO info;
    ::GetSystemInfo(&info);
    return info.dwPageSize;
}

}  // namespace shmkit::os
