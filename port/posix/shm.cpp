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

// Where glibc's shm_open keeps its objects; shm_create and shm_list use it directly.
constexpr char shm_directory[] = "/dev/shm";

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
    static_cast<void>(name);  // named later, by shm_link
    *out = mapping{};
    if (size == 0 || size > static_cast<std::uint64_t>(LLONG_MAX)) return errc::invalid_argument;
    // An unnamed object in the shared-memory file system (Linux >= 3.11, tmpfs): no process can
    // open it until shm_link() gives it its name, and if we die first the kernel frees it.
    const int fd = ::open(shm_directory, O_TMPFILE | O_RDWR | O_CLOEXEC, static_cast<mode_t>(options.mode));
    if (fd < 0) return fail_with_errno();
    // The in-use mark first: gc must see it from the moment the object has a name.
    // fchmod: exactly the mode asked for (the mode given to open is reduced by the umask).
    if (::flock(fd, LOCK_SH) != 0 || ::fchmod(fd, static_cast<mode_t>(options.mode)) != 0 ||
        ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        const errc e = fail_with_errno();
        ::close(fd);
        return e;
    }
    // Reserve the memory now: on a full /dev/shm (Docker's 64 MB default) this fails cleanly
    // with no_space, where a plain ftruncate would succeed and SIGBUS on first touch.
    const int rc = options.reserve_memory ? ::posix_fallocate(fd, 0, static_cast<off_t>(size)) : 0;
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
        errno = rc;
        const errc e = fail_with_errno();
        ::close(fd);
        return e;
    }
    const errc e = map_fd(fd, size, true, out);
    if (failed(e)) ::close(fd);
    return e;
}

errc shm_link(const mapping& m, const char* name) noexcept {
    char path[sizeof shm_directory + NAME_MAX + 2];
    if (std::snprintf(path, sizeof path, "%s%s", shm_directory, name) >= static_cast<int>(sizeof path)) {
        return errc::invalid_argument;
    }
    const int fd = static_cast<int>(m.handle);
    // linkat fails with EEXIST rather than replace anything: the name appears atomically, with
    // the object complete. Through /proc/self/fd (no privilege needed), else AT_EMPTY_PATH
    // (needs CAP_DAC_READ_SEARCH) where /proc is not mounted.
    char self[48];
    std::snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (::linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) return errc::ok;
    if (errno == ENOENT && ::linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) return errc::ok;
    return fail_with_errno();
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

errc shm_unlink_mapped(const char* name, const mapping& m) noexcept {
    struct stat mine, named;
    if (m.handle < 0) return errc::invalid_argument;
    if (::fstat(static_cast<int>(m.handle), &mine) != 0) return fail_with_errno();
    const int fd = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail_with_errno();
    // The same object: the same inode (the name could be removed and linked again in between,
    // a window as narrow as shm_remove_if_stale's).
    const bool same = ::fstat(fd, &named) == 0 && named.st_ino == mine.st_ino && named.st_dev == mine.st_dev;
    ::close(fd);
    if (!same) {
        errno = ENOENT;
        return fail_with_errno();
    }
    return ::shm_unlink(name) == 0 ? errc::ok : fail_with_errno();
}

namespace {

// Fills `out` with the size of the object behind `fd` and up to `capacity` of its first bytes,
// read with pread (never a fault, whatever happens to the object meanwhile).
errc snapshot_fd(int fd, void* buffer, std::uint64_t capacity, object_snapshot* out) noexcept {
    struct stat st;
    if (::fstat(fd, &st) != 0) return fail_with_errno();
    out->size = static_cast<std::uint64_t>(st.st_size);
    out->bytes = buffer;
    out->copied = 0;
    // Never more than the size reported: a caller sizes its buffer from an earlier look, and
    // the object may have grown since.
    if (capacity > out->size) capacity = out->size;
    auto* bytes = static_cast<unsigned char*>(buffer);
    while (out->copied < capacity) {
        const ssize_t n = ::pread(fd, bytes + out->copied, static_cast<std::size_t>(capacity - out->copied),
                                  static_cast<off_t>(out->copied));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_with_errno();
        if (n == 0) break;  // the end (or the object shrank under us)
        out->copied += static_cast<std::uint64_t>(n);
    }
    return errc::ok;
}

// LOCK_EX without waiting on a descriptor of our own: true if we got it (nobody has the object
// open through shmkit), false with errno = EWOULDBLOCK if someone does.
bool lock_exclusive(int fd) noexcept { return ::flock(fd, LOCK_EX | LOCK_NB) == 0; }

// The same for a decision that must not be spoiled by a tool looking: shm_peek holds LOCK_EX for
// a few microseconds to learn whether the object is in use, and a create() or gc meeting that
// moment would take the object for in use. A few short retries (about a millisecond in all,
// paid only when the object really is in use) see past it.
bool lock_exclusive_past_peeks(int fd) noexcept {
    for (int attempt = 0;; ++attempt) {
        if (lock_exclusive(fd)) return true;
        if (errno != EWOULDBLOCK || attempt == 4) return false;
        sleep_ns(250'000);
    }
}

}  // namespace

errc shm_remove_if_stale(const char* name, bool require_unused, stale_predicate is_stale,
                         void* context) noexcept {
    const int fd = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail_with_errno();
    // Holding LOCK_EX proves nobody has the object open through shmkit; an attacher arriving
    // now blocks in its LOCK_SH for the few microseconds until we are done.
    if (require_unused && !lock_exclusive_past_peeks(fd)) {
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) return errc::busy;
        errno = err;
        return fail_with_errno();
    }
    unsigned char header[256];
    object_snapshot snapshot;
    errc e = snapshot_fd(fd, header, sizeof header, &snapshot);
    if (failed(e)) {
        ::close(fd);
        return e;
    }
    snapshot.unused = require_unused;
    e = errc::busy;
    if (is_stale(snapshot, context)) {
        // The name must still refer to the object we judged: compare inode numbers.
        struct stat held, now;
        const int again = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
        if (again >= 0 && ::fstat(fd, &held) == 0 && ::fstat(again, &now) == 0 && now.st_ino == held.st_ino &&
            now.st_dev == held.st_dev) {
            e = ::shm_unlink(name) == 0 ? errc::ok : fail_with_errno();
        }
        if (again >= 0) ::close(again);
    }
    ::close(fd);
    return e;
}

errc shm_peek(const char* name, void* buffer, std::uint64_t capacity, object_snapshot* out) noexcept {
    *out = object_snapshot{};
    const int fd = ::shm_open(name, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fail_with_errno();
    // The in-use question first, and let go at once: an attacher's LOCK_SH waits meanwhile.
    out->unused = lock_exclusive(fd);
    if (out->unused) ::flock(fd, LOCK_UN);
    const errc e = snapshot_fd(fd, buffer, capacity, out);
    ::close(fd);
    return e;
}

errc shm_list(name_visitor visit, void* context) noexcept {
    DIR* dir = ::opendir(shm_directory);
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
