// POSIX shared-memory objects (shm_open + mmap). Every open descriptor holds a shared flock on
// its object for as long as it is mapped: the kernel drops it when the process dies, so "can
// someone take an exclusive lock" is an exact, race-free answer to "is anyone still using it".
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "errno_map.hpp"
#include "shmkit/os.hpp"

namespace shmkit::os {

namespace {

errc map_fd(int fd, std::uint64_t size, bool writable, mapping* out) noexcept {
    if (size == 0) {  // a zero-length object is being created; report it without mapping
        out->address = nullptr;
        out->size = 0;
        out->writable = writable;
        out->handle = fd;
        return errc::ok;
    }
    if (size > static_cast<std::uint64_t>(SIZE_MAX)) return errc::size_mismatch;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(size), writable ? PROT_READ | PROT_WRITE : PROT_READ,
                     MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return fail_with_errno();
    out->address = p;
    out->size = size;
    out->writable = writable;
    out->handle = fd;
    return errc::ok;
}

}  // namespace

errc shm_create(const char* name, std::uint64_t size, const create_options& options, mapping* out) noexcept {
    *out = mapping{};
    if (size == 0 || size > static_cast<std::uint64_t>(LLONG_MAX)) return errc::invalid_argument;
    const int fd = ::shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(options.mode));
    if (fd < 0) return fail_with_errno();
    // The in-use mark first, so gc never mistakes an object being created for an abandoned one.
    // fchmod: exactly the mode asked for (shm_open's mode is reduced by the umask).
    if (::flock(fd, LOCK_SH) != 0 || ::fchmod(fd, static_cast<mode_t>(options.mode)) != 0 ||
        ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        const errc e = fail_with_errno();
        ::shm_unlink(name);
        ::close(fd);
        return e;
    }
    // Reserve the memory now: on a full /dev/shm (Docker's 64 MB default) this fails cleanly
    // with no_space, where a plain ftruncate would succeed and SIGBUS on first touch.
    const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
        errno = rc;
        const errc e = fail_with_errno();
        ::shm_unlink(name);
        ::close(fd);
        return e;
    }
    const errc e = map_fd(fd, size, true, out);
    if (failed(e)) {
        ::shm_unlink(name);
        ::close(fd);
    }
    return e;
}

errc shm_open(const char* name, access mode, mapping* out) noexcept {
    *out = mapping{};
    const bool writable = mode == access::read_write;
    const int fd = ::shm_open(name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
    if (fd < 0) return fail_with_errno();
    struct stat st;
    if (::flock(fd, LOCK_SH) != 0 || ::fstat(fd, &st) != 0) {
        const errc e = fail_with_errno();
        ::close(fd);
        return e;
    }
    const errc e = map_fd(fd, static_cast<std::uint64_t>(st.st_size), writable, out);
    if (failed(e)) ::close(fd);
    return e;
}

void shm_close(mapping* m) noexcept {
    if (m->address != nullptr) ::munmap(m->address, static_cast<std::size_t>(m->size));
    if (m->handle >= 0) ::close(static_cast<int>(m->handle));  // also drops the in-use lock
    *m = mapping{};
}

errc shm_unlink(const char* name) noexcept {
    return ::shm_unlink(name) == 0 ? errc::ok : fail_with_errno();
}

errc shm_remove_if_stale(const char* name, bool require_unused, stale_predicate is_stale,
                         void* context) noexcept {
    const int fd = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail_with_errno();
    // Holding LOCK_EX proves nobody has the object open through shmkit; an attacher arriving
    // now blocks in its LOCK_SH for the few microseconds until we are done.
    if (require_unused && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) return errc::busy;
        errno = err;
        return fail_with_errno();
    }
    struct stat held;
    if (::fstat(fd, &held) != 0) {
        const errc e = fail_with_errno();
        ::close(fd);
        return e;
    }
    mapping m;
    errc e = map_fd(fd, static_cast<std::uint64_t>(held.st_size), false, &m);
    if (failed(e)) {
        ::close(fd);
        return e;
    }
    const bool stale = is_stale(m, context);
    if (m.address != nullptr) ::munmap(m.address, static_cast<std::size_t>(m.size));
    e = errc::busy;
    if (stale) {
        // The name must still refer to the object we judged: compare inode numbers.
        const int again = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
        struct stat now;
        if (again >= 0 && ::fstat(again, &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev) {
            e = ::shm_unlink(name) == 0 ? errc::ok : fail_with_errno();
        }
        if (again >= 0) ::close(again);
    }
    ::close(fd);
    return e;
}

errc shm_list(name_visitor visit, void* context) noexcept {
    DIR* dir = ::opendir("/dev/shm");
    if (dir == nullptr) return fail_with_errno();
    char name[NAME_MAX + 2];
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN) continue;
        // POSIX semaphores live in the same directory as "sem.<name>"; they are not ours.
        if (std::strncmp(entry->d_name, "sem.", 4) == 0) continue;
        std::snprintf(name, sizeof name, "/%s", entry->d_name);
        visit(name, context);
    }
    ::closedir(dir);
    return errc::ok;
}

errc protect_read_only(void* address, std::uint64_t size) noexcept {
    return ::mprotect(address, static_cast<std::size_t>(size), PROT_READ) == 0 ? errc::ok : fail_with_errno();
}

std::uint64_t page_size() noexcept { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

void prefault(void* address, std::uint64_t size) noexcept {
#ifdef MADV_POPULATE_WRITE
    if (::madvise(address, static_cast<std::size_t>(size), MADV_POPULATE_WRITE) == 0) return;
#endif
    // Older kernels (JetPack 5's 5.10): touch one byte per page. The bytes are zero already.
    const long page = ::sysconf(_SC_PAGESIZE);
    auto* bytes = static_cast<volatile unsigned char*>(address);
    for (std::uint64_t i = 0; i < size; i += static_cast<std::uint64_t>(page)) bytes[i] = 0;
}

}  // namespace shmkit::os
