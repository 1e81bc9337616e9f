// Helpers shared by the test suites: unique names, cleanup, fork-based children.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "shmkit/os.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::test {

// A name no other test (or concurrent ctest process) uses; removed again on destruction.
class unique_name {
public:
    explicit unique_name(const char* tag) {
        static std::atomic<int> counter{0};
        name_ = "/shmkit-test-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter++);
        static_cast<void>(segment::remove(name_.c_str()));
    }
    ~unique_name() { static_cast<void>(segment::remove(name_.c_str())); }
    const char* c_str() const { return name_.c_str(); }

private:
    std::string name_;
};

// Whether a shared-memory object of that name exists (shmkit's or not).
inline bool shm_exists(const char* name) {
    struct stat st;
    return ::stat((std::string("/dev/shm") + name).c_str(), &st) == 0;
}

// A half-made segment under `name`, made the way a creator that names its segment before
// finishing it would (a port that can only name objects when creating them, or another build):
// created exclusively, held in use, header filled in (with or without the creator's identity)
// but not ready. finish() makes it ready; let_go() drops the in-use mark, as the creator's
// death would.
class half_made {
public:
    half_made(const char* name, std::uint64_t size, kind k, std::uint32_t header_size, bool with_identity = true)
        : size_(size) {
        fd_ = ::shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (fd_ < 0 || ::flock(fd_, LOCK_SH) != 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
        base_ = static_cast<std::uint8_t*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
        if (base_ == MAP_FAILED) std::abort();
        format_header(base_, k, header_size, size);
        if (!with_identity) {
            auto* h = reinterpret_cast<segment_header*>(base_);
            h->creator_pid = 0;
            h->creator_start = 0;
        }
    }
    ~half_made() {
        ::munmap(base_, size_);
        ::close(fd_);
    }
    half_made(const half_made&) = delete;
    half_made& operator=(const half_made&) = delete;
    std::uint8_t* base() const { return base_; }
    void finish() { publish_header(base_); }
    void let_go() { ::flock(fd_, LOCK_UN); }

private:
    int fd_ = -1;
    std::uint64_t size_;
    std::uint8_t* base_ = nullptr;
};

// A shared-memory object mapped read-write behind shmkit's back, as caller-given memory.
class raw_mapping {
public:
    explicit raw_mapping(const char* name) {
        const int fd = ::shm_open(name, O_RDWR, 0);
        if (fd < 0) std::abort();
        size_ = static_cast<std::size_t>(::lseek(fd, 0, SEEK_END));
        base_ = static_cast<std::uint8_t*>(::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ::close(fd);
        if (base_ == MAP_FAILED) std::abort();
    }
    ~raw_mapping() { ::munmap(base_, size_); }
    raw_mapping(const raw_mapping&) = delete;
    raw_mapping& operator=(const raw_mapping&) = delete;
    std::uint8_t* base() const { return base_; }
    std::size_t size() const { return size_; }

private:
    std::uint8_t* base_ = nullptr;
    std::size_t size_ = 0;
};

// Anonymous shared memory for parent/child handshakes in fork tests.
template <class T>
class shared {
public:
    shared() {
        void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) std::abort();
        value_ = new (p) T();
    }
    ~shared() {
        value_->~T();
        ::munmap(value_, sizeof(T));
    }
    shared(const shared&) = delete;
    shared& operator=(const shared&) = delete;
    T* operator->() const { return value_; }
    T& operator*() const { return *value_; }

private:
    T* value_;
};

// A forked child running `body`; its exit code is body's return value. A child never returns
// into GoogleTest: an assertion failure inside it becomes a nonzero exit code.
class child {
public:
    explicit child(const std::function<int()>& body) {
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            int code = 99;
            code = body();
            std::fflush(nullptr);
            ::_exit(code);
        }
    }
    ~child() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int status;
            ::waitpid(pid_, &status, 0);
        }
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const { return pid_; }
    // SIGKILLs the child (a crash at whatever it is doing) and reaps it: 128 + SIGKILL unless
    // it had already exited.
    int kill_and_wait() {
        ::kill(pid_, SIGKILL);
        return wait();
    }
    // Exit code, or 128 + signal number. Waits for as long as the child runs: a hung child is
    // caught by the ctest timeout, not by a timing assertion here.
    int wait() {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return 255;
    }

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

// Whether process `pid` is asleep (state S in /proc/<pid>/stat): a child blocked in a wait.
inline bool asleep(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    const char* close = std::strrchr(buf, ')');
    return n > 0 && close != nullptr && close[1] == ' ' && close[2] == 'S';
}

// Waits (yielding) until pred() holds; for handshakes with children, never for timing.
template <class Pred>
void spin_until(Pred pred) {
    while (!pred()) os::yield();
}

// The next message of a reader with try_read(buffer, capacity) (broadcast, command) as a
// string; "" with *error set when there is none.
template <class Reader>
std::string read_string(Reader& r, errc* error = nullptr) {
    char buf[4096];
    auto m = r.try_read(buf, sizeof buf);
    if (error) *error = m ? errc::ok : m.error();
    return m ? std::string(buf, m->size) : std::string();
}

inline std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// Deterministic test-message contents: [u64 index][u64 checksum of the rest][bytes...].
// Any torn, stale or misplaced message fails verify().
struct message_codec {
    static std::size_t fill(std::uint8_t* out, std::size_t size, std::uint64_t index) {
        if (size < 16) size = 16;
        std::uint64_t x = index * 0x9E3779B97F4A7C15ull + 1;
        for (std::size_t i = 16; i < size; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out[i] = static_cast<std::uint8_t>(x);
        }
        const std::uint64_t sum = fnv1a(out + 16, size - 16, index);
        std::memcpy(out, &index, 8);
        std::memcpy(out + 8, &sum, 8);
        return size;
    }
    static bool verify(const std::uint8_t* in, std::size_t size, std::uint64_t* index) {
        if (size < 16) return false;
        std::uint64_t sum;
        std::memcpy(index, in, 8);
        std::memcpy(&sum, in + 8, 8);
        return sum == fnv1a(in + 16, size - 16, *index);
    }
};

}  // namespace shmkit::test
