// Shared-memory objects on Windows: pagefile-backed file mappings named in the session
// namespace, "Local\shmkit.<name>" for a shmkit name "/<name>". SEC_COMMIT charges the whole
// size to the commit limit at creation, so an exhausted limit is no_space then, never a fault
// later. A mapping is named when it is created (Windows cannot name an existing one), so
// shm_link() has nothing to do and attachers may meet a half-made segment, which the core
// handles (core/SPEC.md "Creation"). An object lives while any process has a handle to it:
// the handle is the in-use mark, and an unused object is already gone.
//
// Windows sizes a section in whole pages (NtQuerySection reports the size rounded up), so the
// port keeps the exact size itself: the section has 8 more bytes, rounded up to a page, and its
// last 8 bytes hold the size the creator asked for (stored with release once the view exists;
// 0 until then). The core never sees them: the mapping it gets is exactly that size.
//
// Work in progress (issue 11): listing segments (a registry segment), and removing a name that
// a live process still holds, are not done yet; they say unsupported / busy.
#include <windows.h>

#include <cstdio>
#include <cstring>

#include "last_error.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {
namespace {

// "Local\shmkit.x" for "/x"; false if it does not fit (names are at most 255 characters).
bool object_name(const char* name, char (&out)[300]) noexcept {
    if (name == nullptr || name[0] != '/') return false;
    const int n = std::snprintf(out, sizeof out, "Local\\shmkit.%s", name + 1);
    return n > 0 && n < static_cast<int>(sizeof out);
}

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

// Maps the whole section (`section_bytes`) and hands out its first `size` bytes.
errc map_view(HANDLE h, access mode, std::uint64_t section_bytes, std::uint64_t size, mapping* out) noexcept {
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
    out->address = p;
    out->size = size;
    out->writable = mode == access::read_write;
    out->handle = reinterpret_cast<std::intptr_t>(h);
    return errc::ok;
}

}  // namespace

errc shm_create(const char* name, std::uint64_t size, const create_options&, mapping* out) noexcept {
    char full[300];
    if (!object_name(name, full) || size == 0) return errc::invalid_argument;
    const std::uint64_t section_bytes = section_bytes_for(size);
    HANDLE h = ::CreateFileMappingA(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE | SEC_COMMIT,
                                    static_cast<DWORD>(section_bytes >> 32), static_cast<DWORD>(section_bytes), full);
    if (h == nullptr) return fail_with_last_error();
    if (::GetLastError() == ERROR_ALREADY_EXISTS) {
        t_last_error = ERROR_ALREADY_EXISTS;
        ::CloseHandle(h);
        return errc::already_exists;
    }
    const errc e = map_view(h, access::read_write, section_bytes, size, out);
    if (e == errc::ok) __atomic_store_n(trailer(out->address, section_bytes), size, __ATOMIC_RELEASE);
    return e;
}

// Named at creation (see above).
errc shm_link(const mapping&, const char*) noexcept { return errc::ok; }

errc shm_open(const char* name, access mode, mapping* out) noexcept {
    char full[300];
    if (!object_name(name, full)) return errc::invalid_argument;
    const DWORD desired = mode == access::read_write ? (FILE_MAP_READ | FILE_MAP_WRITE) : FILE_MAP_READ;
    // SECTION_QUERY: NtQuerySection needs it to tell the size.
    HANDLE h = ::OpenFileMappingA(desired | SECTION_QUERY, FALSE, full);
    if (h == nullptr) return fail_with_last_error();
    std::uint64_t section_bytes = 0;
    if (!section_size(h, &section_bytes) || section_bytes < trailer_bytes) {
        t_last_error = ::GetLastError();
        ::CloseHandle(h);
        return errc::os_error;
    }
    return map_view(h, mode, section_bytes, 0, out);
}

void shm_close(mapping* m) noexcept {
    if (m->address != nullptr) ::UnmapViewOfFile(m->address);
    if (m->handle != -1) ::CloseHandle(reinterpret_cast<HANDLE>(m->handle));
    *m = mapping{};
}

// An object vanishes with its last handle: a name nobody holds is already gone (not_found);
// one a live process holds cannot be taken from it (busy).
errc shm_unlink(const char* name) noexcept {
    char full[300];
    if (!object_name(name, full)) return errc::invalid_argument;
    HANDLE h = ::OpenFileMappingA(FILE_MAP_READ, FALSE, full);
    if (h == nullptr) return fail_with_last_error();
    ::CloseHandle(h);
    return errc::busy;
}

errc shm_remove_if_stale(const char* name, bool, stale_predicate, void*) noexcept { return shm_unlink(name); }

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

errc shm_list(name_visitor, void*) noexcept { return errc::unsupported; }

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
