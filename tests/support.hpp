// Helpers shared by the test suites: unique names, cleanup, children, handshake memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "shmkit/os.hpp"
#include "shmkit/segment.hpp"
#include "support/child.hpp"
#include "support/shared.hpp"

namespace shmkit::test {

// How many times fewer messages the multi-process stress tests move in this build. Under wine
// every wake of a sleeping reader is a round trip to the wine server (about a millisecond), so
// the Windows build moves a fifth as many; the checks are the same.
#if defined(_WIN32)
inline constexpr std::uint64_t stress_divisor = 5;
#else
inline constexpr std::uint64_t stress_divisor = 1;
#endif

// A name no other test (or concurrent ctest process) uses; removed again on destruction.
class unique_name {
public:
    explicit unique_name(const char* tag) {
        name_ = unique_object_name(tag);
        static_cast<void>(segment::remove(name_.c_str()));
    }
    ~unique_name() { static_cast<void>(segment::remove(name_.c_str())); }
    const char* c_str() const { return name_.c_str(); }

private:
    std::string name_;
};

// Whether a shared-memory object of that name exists (shmkit's or not).
inline bool shm_exists(const char* name) {
    char byte;
    os::object_snapshot snapshot;
    return os::shm_peek(name, &byte, 1, &snapshot) != errc::not_found;
}

// A half-made segment under `name`, made the way a creator that names its segment before
// finishing it would (a port that can only name objects when creating them, or another build):
// created exclusively, held in use, header filled in (with or without the creator's identity)
// but not ready. finish() makes it ready; let_go() drops the in-use mark, as the creator's
// death would (POSIX only: on Windows an object vanishes with its last handle).
class half_made {
public:
    half_made(const char* name, std::uint64_t size, kind k, std::uint32_t header_size, bool with_identity = true) {
        if (os::shm_create(name, size, os::create_options{}, &mapping_) != errc::ok ||
            os::shm_link(mapping_, name) != errc::ok) {
            std::abort();
        }
        base_ = static_cast<std::uint8_t*>(mapping_.address);
        format_header(base_, k, header_size, size);
        if (!with_identity) {
            auto* h = reinterpret_cast<segment_header*>(base_);
            h->creator_pid = 0;
            h->creator_start = 0;
        }
    }
    ~half_made() { os::shm_close(&mapping_); }
    half_made(const half_made&) = delete;
    half_made& operator=(const half_made&) = delete;
    std::uint8_t* base() const { return base_; }
    void finish() { publish_header(base_); }
#if !defined(_WIN32)
    void let_go();
#endif

private:
    os::mapping mapping_{};
    std::uint8_t* base_ = nullptr;
};

// A shared-memory object mapped read-write behind shmkit's back, as caller-given memory.
class raw_mapping {
public:
    explicit raw_mapping(const char* name) {
        if (os::shm_open(name, os::access::read_write, &mapping_) != errc::ok) std::abort();
    }
    ~raw_mapping() { os::shm_close(&mapping_); }
    raw_mapping(const raw_mapping&) = delete;
    raw_mapping& operator=(const raw_mapping&) = delete;
    std::uint8_t* base() const { return static_cast<std::uint8_t*>(mapping_.address); }
    std::size_t size() const { return static_cast<std::size_t>(mapping_.size); }

private:
    os::mapping mapping_{};
};

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
