#include "shmkit/segment.hpp"

#include <cstring>

namespace shmkit {
namespace {

constexpr std::uint32_t common_header_size = sizeof(segment_header);


}  // namespace

const char* to_string(kind k) noexcept {
    switch (k) {
        case kind::broadcast: return "broadcast";
        case kind::command: return "command";
        case kind::spsc: return "spsc";
        case kind::block: return "block";
        case kind::kv: return "kv";
        case kind::stream: return "stream";
        case kind::video: return "video";
        case kind::audio: return "audio";
        case kind::channel: return "channel";
    }
    return "unknown";
}

errc validate_name(const char* name) noexcept {
    if (name == nullptr || name[0] != '/') return errc::invalid_argument;
    std::size_t length = 1;
    for (; name[length] != '\0'; ++length) {
        if (name[length] == '/' || length >= 255) return errc::invalid_argument;
    }
    if (length < 2) return errc::invalid_argument;
    if ((length == 2 && name[1] == '.') || (length == 3 && name[1] == '.' && name[2] == '.')) {
        return errc::invalid_argument;
    }
    return errc::ok;
}

std::uint32_t header_checksum(const void* base, std::uint32_t header_size) noexcept {
    const auto* bytes = static_cast<const std::uint8_t*>(base);
    std::uint32_t hash = 2166136261u;
    for (std::uint32_t i = 0; i < header_size; ++i) {
        const bool excluded = (i >= offsetof(segment_header, checksum) &&
                               i < offsetof(segment_header, checksum) + 4) ||
                              (i >= offsetof(segment_header, state) &&
                               i < offsetof(segment_header, state) + 4);
        hash = (hash ^ (excluded ? 0u : bytes[i])) * 16777619u;
    }
    return hash;
}

std::uint64_t fnv1a_64(const void* data, std::size_t size) noexcept {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ull;
    return hash;
}

errc validate_header(const void* base, std::uint64_t mapped_size, std::uint32_t expected_kind,
                     std::uint32_t expected_header_size) noexcept {
    if (mapped_size == 0) return errc::not_ready;  // created, not yet sized
    if (mapped_size < common_header_size) return errc::invalid_layout;
    const auto* h = static_cast<const segment_header*>(base);
    // Acquire: pairs with the creator's release store in publish(), so every other field
    // below is read as the creator finished writing it.
    const std::uint32_t state = h->state.load(order::acquire);
    if (state != segment_ready) {
        const std::uint64_t magic = load_shared(&h->magic, order::relaxed);
        if (state == segment_creating && (magic == 0 || magic == wire_magic)) return errc::not_ready;
        return errc::invalid_layout;
    }
    if (h->magic != wire_magic) return errc::invalid_layout;
    if (h->format_version != wire_format_version) return errc::version_mismatch;
    if (expected_kind != 0 && h->kind != expected_kind) return errc::wrong_kind;
    const std::uint32_t header_size = h->header_size;
    if (header_size < common_header_size || header_size % wire_line != 0 ||
        header_size > mapped_size ||
        (expected_header_size != 0 && header_size != expected_header_size)) {
        return errc::invalid_layout;
    }
    if (h->total_size != mapped_size) return errc::size_mismatch;
    if (h->checksum != header_checksum(base, header_size)) return errc::invalid_layout;
    if ((h->flags & ~segment_flag_membarrier) != 0) return errc::invalid_layout;
    // Peers of a membarrier-mode segment use compiler-only light barriers and rely on every
    // heavy side issuing membarrier: a process that cannot must stay out.
    if ((h->flags & segment_flag_membarrier) != 0 && !os::membarrier_usable()) return errc::unsupported;
    return errc::ok;
}

bool segment_is_stale(const os::object_snapshot& s) noexcept {
    if (s.copied < common_header_size) return false;  // too short to be a segment (or empty)
    // A private copy of the header: plain reads. Only processes that died or that hold no lock
    // on the object are judged, and the verdict is acted on under an exclusive lock.
    segment_header h;
    std::memcpy(&h, s.bytes, sizeof h);
    if (h.magic != wire_magic) return false;  // not ours
    const os::process_id creator{h.creator_pid, h.creator_start};
    const bool creator_dead = creator.pid != 0 && !os::process_alive(creator);
    // The state is an atomic in the segment; in the copy it is a plain word.
    std::uint32_t state;
    std::memcpy(&state, reinterpret_cast<const std::uint8_t*>(s.bytes) + offsetof(segment_header, state), sizeof state);
    if (state == segment_ready) return creator_dead;
    // Half-made: its creator holds an in-use mark on it until it is done, so one that no live
    // process holds was abandoned, whatever identity (if any) it got to record.
    return s.unused || creator_dead;
}

// ---- segment -------------------------------------------------------------------------------

segment::segment(segment&& other) noexcept
    : map_(other.map_),
      published_(other.published_),
      replace_stale_(other.replace_stale_),
      replace_existing_(other.replace_existing_) {
    std::memcpy(name_, other.name_, sizeof name_);
    other.map_ = os::mapping{};
    other.published_ = true;
}

segment& segment::operator=(segment&& other) noexcept {
    if (this != &other) {
        close();
        map_ = other.map_;
        published_ = other.published_;
        replace_stale_ = other.replace_stale_;
        replace_existing_ = other.replace_existing_;
        std::memcpy(name_, other.name_, sizeof name_);
        other.map_ = os::mapping{};
        other.published_ = true;
    }
    return *this;
}

segment::~segment() { close(); }

void segment::close() noexcept {
    if (map_.address == nullptr) return;
    // An unpublished segment has no name: unmapping it is all there is to discard it.
    os::shm_close(&map_);
    map_ = os::mapping{};
    published_ = true;
}

result<segment> segment::create(const char* name, kind k, std::uint32_t header_size,
                                std::uint64_t total_size, const segment_options& options) noexcept {
    if (failed(validate_name(name))) return errc::invalid_argument;
    if (header_size < common_header_size || header_size % wire_line != 0 || total_size < header_size ||
        total_size > max_segment_bytes) {
        return errc::invalid_argument;
    }
    // Fail before reserving memory if the name is taken by a segment we may not replace
    // (publish() decides for good: the name may be taken or freed meanwhile). One to be replaced
    // whatever it is stays until the new one is complete: publish() removes it.
    if (options.replace_stale && !options.replace_existing) {
        const errc removed = remove_if_stale(name, /*even_if_in_use=*/false);
        if (removed == errc::busy) return errc::already_exists;
    }
    os::create_options create_opts;
    create_opts.mode = options.mode;
    create_opts.reserve_memory = options.reserve_memory;
    segment s;
    errc e = os::shm_create(name, total_size, create_opts, &s.map_);
    // A port that names objects when creating them finds the name taken here rather than in
    // publish(): replacing removes the segment there and tries again (a few times at most: of
    // replacers racing each other, one ends up named).
    for (int retry = 0; e == errc::already_exists && options.replace_existing && retry < 4; ++retry) {
        static_cast<void>(remove(name));
        e = os::shm_create(name, total_size, create_opts, &s.map_);
    }
    if (failed(e)) return e;
    std::size_t n = 0;
    for (; name[n] != '\0'; ++n) s.name_[n] = name[n];
    s.name_[n] = '\0';
    s.published_ = false;
    s.replace_stale_ = options.replace_stale;
    s.replace_existing_ = options.replace_existing;

    format_header(s.map_.address, k, header_size, total_size, options.allow_membarrier);
    if (options.prefault) os::prefault(s.map_.address, total_size);
    return s;
}

errc segment::publish() noexcept {
    SHMKIT_ASSERT(is_open() && !published_);
    // Ready before it has a name: the first process to find it finds it complete.
    publish_header(map_.address);
    errc e = os::shm_link(map_, name_);
    if (replace_existing_) {
        // Whatever segment has the name goes (its users keep their mappings); a few times at
        // most, as in create().
        for (int retry = 0; e == errc::already_exists && retry < 4; ++retry) {
            static_cast<void>(remove(name_));
            e = os::shm_link(map_, name_);
        }
    } else if (e == errc::already_exists && replace_stale_ &&
               remove_if_stale(name_, /*even_if_in_use=*/false) == errc::ok) {
        e = os::shm_link(map_, name_);
    }
    if (failed(e)) return e;
    published_ = true;
    return errc::ok;
}

void format_header(void* base, kind k, std::uint32_t header_size, std::uint64_t total_size,
                   bool allow_membarrier) noexcept {
    auto* h = static_cast<segment_header*>(base);
    const os::process_id me = os::self();
    // Magic first, then the creator's identity (relaxed atomics: where a port names segments
    // when creating them, gc may read them before the segment is ready). The magic is what
    // makes a half-made object recognisably shmkit's, and so removable once nobody holds it;
    // only a creator killed before this one store leaves an all-zero object, which cannot be
    // told from someone else's and is left alone.
    store_shared(&h->magic, wire_magic, order::relaxed);
    store_shared(&h->creator_pid, me.pid, order::relaxed);
    store_shared(&h->creator_start, me.start, order::relaxed);
    h->format_version = wire_format_version;
    h->kind = static_cast<std::uint32_t>(k);
    h->header_size = header_size;
    h->total_size = total_size;
    h->flags = (allow_membarrier && os::membarrier_usable()) ? segment_flag_membarrier : 0;
}

barrier_mode barriers_of(const void* base) noexcept {
    // Read again after validate_header, which refused a membarrier-mode segment this process
    // cannot serve. A peer may have set the flag since: a process that cannot issue membarrier
    // then stays with fences (its notifies may be missed by that peer's readers, but its heavy
    // barriers never fail an assert).
    const std::uint32_t flags = static_cast<const segment_header*>(base)->flags;
    return (flags & segment_flag_membarrier) != 0 && os::membarrier_usable() ? barrier_mode::membarrier
                                                                              : barrier_mode::fences;
}

void publish_header(void* base) noexcept {
    auto* h = static_cast<segment_header*>(base);
    h->checksum = header_checksum(h, h->header_size);
    // Release: everything the creator wrote (header, geometry, initial state) happens-before
    // any attacher's acquire load of `state` that reads segment_ready.
    h->state.store(segment_ready, order::release);
}

result<segment> segment::open(const char* name, kind k, std::uint32_t header_size, os::access mode,
                              const segment_options& options) noexcept {
    if (failed(validate_name(name))) return errc::invalid_argument;
    const std::uint64_t deadline = os::monotonic_ns() + options.ready_wait_ns;
    for (;;) {
        segment s;
        errc e = os::shm_open(name, mode, &s.map_);
        if (failed(e)) return e;
        e = validate_header(s.map_.address, s.map_.size, static_cast<std::uint32_t>(k), header_size);
        if (e == errc::ok) {
            std::size_t n = 0;
            for (; name[n] != '\0'; ++n) s.name_[n] = name[n];
            s.name_[n] = '\0';
            return s;
        }
        if (e != errc::not_ready || os::monotonic_ns() >= deadline) return e;
        s.close();
        // A half-made segment (core/SPEC.md "Creation handshake"): its creator needs a moment;
        // a short sleep avoids spinning on one that was descheduled. This is the only
        // sleep-and-retry in shmkit and it is bounded.
        if (os::sleep_or_signal_ns(1'000'000) == errc::interrupted && options.return_on_signal) {
            return errc::interrupted;
        }
    }
}

errc segment::remove(const char* name) noexcept {
    if (failed(validate_name(name))) return errc::invalid_argument;
    return os::shm_unlink(name);
}

errc segment::unlink() noexcept {
    if (!is_open()) return errc::not_open;
    return os::shm_unlink_mapped(name_, map_);
}

errc segment::remove_if_stale(const char* name, bool even_if_in_use) noexcept {
    if (failed(validate_name(name))) return errc::invalid_argument;
    return os::shm_remove_if_stale(
        name, !even_if_in_use, [](const os::object_snapshot& s, void*) { return segment_is_stale(s); }, nullptr);
}

}  // namespace shmkit
