// The header every shmkit segment starts with, the creation handshake, and the owning
// handle of one mapped segment. Layout: core/SPEC.md "Segment header".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/copy.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/os.hpp"
#include "shmkit/wire/config.hpp"
#include "shmkit/wire/segment.hpp"

namespace shmkit {

const char* to_string(kind k) noexcept;  // "broadcast", ...; "unknown" for anything else

// Whether caller-given memory can hold a segment: not null, and 64-byte aligned (every layout's
// lines and atomics assume it).
inline bool usable_memory(const void* memory) noexcept {
    return memory != nullptr && reinterpret_cast<std::uintptr_t>(memory) % wire_line == 0;
}

// A kind's geometry, copied once out of shared memory (relaxed atomic words, see copy.hpp).
// The caller validates this copy and never reads the original again, so a peer rewriting the
// geometry meanwhile cannot make it use a value it did not check.
template <class Geometry>
Geometry geometry_snapshot(const std::uint8_t* base) noexcept {
    static_assert(sizeof(Geometry) == 64, "every kind's geometry is one 64-byte line");
    Geometry copy;
    copy_from_shared(&copy, base + geometry_offset, sizeof copy);
    return copy;
}
// Checks a name before it reaches the OS: one leading '/', 2..255 characters, no other '/'.
errc validate_name(const char* name) noexcept;

// The checksum over [0, header_size) of an initialised header (state and checksum read as 0).
std::uint32_t header_checksum(const void* base, std::uint32_t header_size) noexcept;

// FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3), as core/SPEC.md
// states it: the hash of kv key names and of stream schemas' field descriptions.
std::uint64_t fnv1a_64(const void* data, std::size_t size) noexcept;

// Validates a mapped segment's common header against the mapped size, in this order:
// too small -> invalid_layout; still being created -> not_ready; magic -> invalid_layout;
// version -> version_mismatch; kind -> wrong_kind; header_size -> invalid_layout;
// total_size vs mapped size -> size_mismatch; checksum -> invalid_layout; unknown flags ->
// invalid_layout; membarrier mode in a process that cannot issue membarrier -> unsupported.
// expected_kind 0 accepts any kind (tools). Kind geometry is validated by the kind itself.
errc validate_header(const void* base, std::uint64_t mapped_size, std::uint32_t expected_kind,
                     std::uint32_t expected_header_size) noexcept;

// For caller-given memory (and used by segment::create): fills the common header of a zeroed
// region, leaving it not ready; publish_header() then makes it ready (release).
// membarrier mode is chosen when this process can use it and `allow_membarrier` is set.
void format_header(void* base, kind k, std::uint32_t header_size, std::uint64_t total_size,
                   bool allow_membarrier = true) noexcept;
void publish_header(void* base) noexcept;

// The barrier mode of a validated segment.
barrier_mode barriers_of(const void* base) noexcept;

struct segment_options {
    std::uint32_t mode = 0600;       // permission bits of a created object
    bool replace_stale = true;       // create() may replace an unused segment whose creator died
    // create() removes whatever segment holds the name first, live or not, and creates afresh
    // (pymembus's `new`). Processes that have the old one mapped keep using it, alone.
    bool replace_existing = false;
    bool prefault = false;           // populate the pages at creation (fresh pages cost ~8x memcpy)
    // Back the whole segment with memory at creation, so that a full /dev/shm (Docker's 64 MB
    // default) fails create() with no_space. Without it, creating is a few syscalls whatever the
    // size (a 256 MiB reservation takes 50-120 ms), but a write to a page the system then cannot
    // back kills the writing process with SIGBUS. Windows charges the memory at creation either
    // way, at no such cost, and ignores it.
    bool reserve_memory = true;
    // Let the segment use membarrier-paired barriers when this process can (cheaper notifies and
    // read locks). Clear it if processes that cannot issue membarrier (qemu-user, a seccomp
    // profile that denies it) must attach; they are refused (unsupported) otherwise.
    bool allow_membarrier = true;
    // open(): how long to wait for a creator to finish. Not forever, unlike every call timeout: it
    // bounds a wait on a half-made segment another build or port may have named early, whose
    // creator can die holding it (then not_ready, and a later create() replaces it).
    std::uint64_t ready_wait_ns = 500'000'000;
    bool return_on_signal = false;  // open(): a signal ends that wait with `interrupted`
};

// Owns one mapped segment: unmaps on destruction. Move-only. A segment being created has no
// name until publish(), so creation that fails half-way (or a creator that dies) leaves nothing.
class segment {
public:
    segment() noexcept = default;
    segment(segment&& other) noexcept;
    segment& operator=(segment&& other) noexcept;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment();

    // Creates a zeroed segment with its common header filled in but not yet ready, and not yet
    // reachable by name. The caller writes its geometry and initial state, then calls publish().
    // already_exists at once if a segment of that name exists and may not be replaced.
    static result<segment> create(const char* name, kind k, std::uint32_t header_size,
                                  std::uint64_t total_size, const segment_options& options) noexcept;

    // Opens and validates the common header (see validate_header), waiting up to
    // options.ready_wait_ns for a segment that is still being created.
    static result<segment> open(const char* name, kind k, std::uint32_t header_size, os::access mode,
                                const segment_options& options = {}) noexcept;

    // Computes the checksum, marks the segment ready (release) and gives it its name: from now
    // on it may be attached. already_exists if the name was taken meanwhile by a segment that may
    // not be replaced (the segment stays unpublished and is discarded on close).
    [[nodiscard]] errc publish() noexcept;

    // Removes the name; processes that have it mapped keep their mapping.
    static errc remove(const char* name) noexcept;

    // Removes this segment's name if the name still refers to this segment: ok; not_found if it
    // was removed, or now names another segment; not_open without a named segment mapped.
    // Processes that have it mapped keep their mapping.
    [[nodiscard]] errc unlink() noexcept;

    // Removes `name` if its creator is dead and (unless `even_if_in_use`) nobody has it open.
    static errc remove_if_stale(const char* name, bool even_if_in_use) noexcept;

    bool is_open() const noexcept { return map_.address != nullptr; }
    bool writable() const noexcept { return map_.writable; }
    // Why a blocking read on this mapping may not sleep: access_denied for a read-only one (a
    // wait announces itself by writing to the segment), else ok (caller-given memory included).
    errc sleep_refusal() const noexcept { return is_open() && !writable() ? errc::access_denied : errc::ok; }
    std::uint8_t* base() const noexcept { return static_cast<std::uint8_t*>(map_.address); }
    std::uint64_t size() const noexcept { return map_.size; }
    segment_header* header() const noexcept { return reinterpret_cast<segment_header*>(map_.address); }
    const char* name() const noexcept { return name_; }

    void close() noexcept;

private:
    os::mapping map_{};
    bool published_ = true;
    bool replace_stale_ = true;
    bool replace_existing_ = false;
    char name_[256] = {};
};

// True if a segment is abandoned, judged from a snapshot of its first bytes: ready with a dead
// creator; or half-made (shmkit's magic, never made ready) and either held by no live process
// (`unused`: its creator would hold it until done) or made by a creator known to be dead.
// Objects without shmkit's magic are never stale: they are not ours to remove.
// Used by segment::create, segment::remove_if_stale and `shmkit gc`.
bool segment_is_stale(const os::object_snapshot& s) noexcept;

}  // namespace shmkit
