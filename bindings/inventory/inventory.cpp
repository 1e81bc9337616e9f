// The segment inventory: what `shmkit ls/info/gc` and shmkit.list_segments()/info()/reap() show.
#include "inventory.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/os.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/channel.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/typed.hpp"
#include "shmkit/video.hpp"

#if defined(__linux__)
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace shmkit::inventory {
namespace {

// A private copy of a segment for inspection, read without mapping it (a segment another
// process truncates meanwhile is read short: its copy ends in zeros, never a SIGBUS) and without
// claiming a role, taking a lock or marking it in use.
struct inspected {
    std::string name;
    errc status = errc::ok;  // validate_header's verdict on the copy
    bool shmkit = false;     // carries shmkit's magic (even if otherwise invalid)
    os::object_snapshot snapshot{};

    // `whole`: copy everything the kind's inspect_*() reads (its header, control block, record or
    // slot headers, lock slots, kv entries), not only the segment header.
    inspected(std::string n, bool whole) : name(std::move(n)) {
        // Zeroed: an object shorter than this buffer leaves the rest unread, and
        // metadata_extent() looks up to 104 bytes in (a slot kind's data_offset).
        unsigned char first[sizeof(segment_header) + 64] = {};
        status = os::shm_peek(name.c_str(), first, sizeof first, &snapshot);
        if (failed(status)) return;
        shmkit = snapshot.copied >= sizeof(segment_header) && header_of(first).magic == wire_magic;
        // The checksummed header at least; with `whole`, the kind's metadata too.
        std::uint64_t extent = snapshot.copied;
        if (shmkit) {
            const std::uint64_t header_size = header_of(first).header_size;
            if (header_size > extent) extent = header_size < snapshot.size ? header_size : snapshot.size;
            if (whole && metadata_extent(first) > extent) extent = metadata_extent(first);
        }
        // The copy below is sized by this first look: an object that grows before the second
        // read must not make it read more (a header can claim any extent).
        if (extent > snapshot.size) extent = snapshot.size;
        // Zeroed, 64-byte aligned, as large as the object: the inspect_*() functions check the
        // geometry against the object's size. calloc gives large blocks as untouched zero pages,
        // so the part past `extent` (frame data, ring bytes) costs nothing.
        storage_.reset(static_cast<unsigned char*>(std::calloc(1, snapshot.size + wire_line)));
        if (!storage_) {
            status = errc::no_space;
            shmkit = false;  // nothing to show of it
            return;
        }
        base_ = storage_.get() + (wire_line - reinterpret_cast<std::uintptr_t>(storage_.get()) % wire_line) % wire_line;
        const std::uint64_t size = snapshot.size;
        const bool unused = snapshot.unused;
        status = os::shm_peek(name.c_str(), base_, extent, &snapshot);
        if (failed(status)) return;
        snapshot.size = size;  // validated against the size first seen: one that changed is corrupt
        snapshot.unused = unused;
        status = validate_header(base_, size, 0, 0);
    }

    // An image already in memory (describe_image): `size` bytes at `base`, not copied.
    inspected(std::string n, const void* base, std::uint64_t size, bool unused) : name(std::move(n)) {
        base_ = static_cast<unsigned char*>(const_cast<void*>(base));
        snapshot.bytes = base;
        snapshot.copied = size;
        snapshot.size = size;
        snapshot.unused = unused;
        shmkit = size >= sizeof(segment_header) && header_of(base_).magic == wire_magic;
        status = validate_header(base_, size, 0, 0);
    }

    const void* base() const { return base_; }
    std::uint64_t size() const { return snapshot.size; }
    const segment_header* header() const { return reinterpret_cast<const segment_header*>(base_); }
    os::process_id creator() const { return {header()->creator_pid, header()->creator_start}; }
    const char* kind_name() const {
        return status == errc::ok ? to_string(static_cast<kind>(header()->kind)) : "-";
    }
    const char* state() const {
        switch (status) {
            case errc::ok: return "ready";
            // Half-made: its creator holds it until it is done; nobody holding it means abandoned.
            case errc::not_ready: return snapshot.unused ? "abandoned" : "creating";
            case errc::version_mismatch: return "other-version";
            default: return "corrupt";
        }
    }

private:
    static segment_header header_of(const unsigned char* bytes) {
        segment_header h;
        std::memcpy(&h, bytes, sizeof h);
        return h;
    }
    // How much of the object the kind's inspect_*() reads: everything before the payload (ring
    // bytes, slot data, block data); all of a kv (its entries hold the key names).
    std::uint64_t metadata_extent(const unsigned char* first) const {
        const segment_header h = header_of(first);
        std::uint64_t data_offset = 0;  // block_geometry and slot_geometry: at +64 and +96
        switch (static_cast<kind>(h.kind)) {
            case kind::broadcast: return broadcast_ring_offset;
            case kind::spsc: return spsc_ring_offset;
            case kind::command: return command_ring_offset;
            case kind::block: std::memcpy(&data_offset, first + geometry_offset, 8); break;
            case kind::stream:
            case kind::video:
            case kind::audio:
                std::memcpy(&data_offset, first + geometry_offset + offsetof(slot_geometry, data_offset), 8);
                break;
            case kind::kv: return snapshot.size;
            case kind::channel:  // control block, metadata line and metadata block
                std::memcpy(&data_offset, first + geometry_offset + offsetof(ring_geometry, ring_offset), 8);
                break;
        }
        return data_offset < snapshot.size ? data_offset : snapshot.size;
    }

    struct free_deleter {
        void operator()(unsigned char* p) const { std::free(p); }
    };
    std::unique_ptr<unsigned char, free_deleter> storage_;
    unsigned char* base_ = nullptr;
};

class fields {
public:
    explicit fields(std::vector<field>* out) : out_(out) {}
    void text(const char* name, std::string value) {
        field f;
        f.name = name;
        f.kind = field::type::text;
        f.text = std::move(value);
        out_->push_back(std::move(f));
    }
    void number(const char* name, unsigned long long value) {
        field f;
        f.name = name;
        f.kind = field::type::number;
        f.number = value;
        out_->push_back(std::move(f));
    }
    void boolean(const char* name, bool value) {
        field f;
        f.name = name;
        f.kind = field::type::boolean;
        f.flag = value;
        out_->push_back(std::move(f));
    }
    void numbers(const char* name, std::vector<unsigned long long> values) {
        field f;
        f.name = name;
        f.kind = field::type::number_list;
        f.list = std::move(values);
        out_->push_back(std::move(f));
    }
    void role(const std::string& role, const role_holder& h) {
        field pid;
        pid.name = role + "_pid";
        if (h.held) {
            pid.kind = field::type::number;
            pid.number = h.process.pid;
        }
        out_->push_back(std::move(pid));
        boolean((role + "_alive").c_str(), h.held && h.alive);
    }
    void slots(const slot_info& q) {
        number("slots", q.slots);
        number("slot_capacity", q.slot_capacity);
        number("samples_committed", q.committed);
        number("abandoned_reservations", q.abandoned);
        number("writer_takeovers", q.takeovers);
        number("heartbeat_age_ms", q.heartbeat_age_ns / 1'000'000);
    }
    void invalid() { text("geometry", "invalid"); }

private:
    std::vector<field>* out_;
};

void describe_kind(const inspected& s, fields& f) {
    const void* base = s.base();
    const std::uint64_t size = s.size();
    switch (static_cast<kind>(s.header()->kind)) {
        case kind::broadcast: {
            broadcast_info b;
            if (failed(inspect_broadcast(base, size, &b))) return f.invalid();
            f.number("capacity", b.capacity);
            f.number("max_message", b.max_message);
            f.number("messages", b.messages);
            f.number("head", b.head);
            f.number("tail", b.tail);
            f.number("retained_bytes", b.head - b.tail);
            f.number("abandoned_reservations", b.abandoned);
            f.number("writer_takeovers", b.takeovers);
            f.number("blocked_readers", b.waiters);
            f.role("writer", b.writer);
            return;
        }
        case kind::spsc: {
            spsc_info q;
            if (failed(inspect_spsc(base, size, &q))) return f.invalid();
            f.number("capacity", q.capacity);
            f.number("max_message", q.max_message);
            f.number("pushed", q.pushed);
            f.number("popped", q.popped);
            f.number("queued_bytes", q.head - q.tail);
            f.number("producer_takeovers", q.producer_takeovers);
            f.number("consumer_takeovers", q.consumer_takeovers);
            f.role("producer", q.producer);
            f.role("consumer", q.consumer);
            return;
        }
        case kind::channel: {
            channel_info c;
            if (failed(inspect_channel(base, size, &c))) return f.invalid();
            f.number("capacity", c.ring.capacity);
            f.number("max_frame", c.ring.max_message);
            f.number("frames_written", c.ring.pushed);
            f.number("frames_released", c.ring.popped);
            f.number("queued_bytes", c.ring.head - c.ring.tail);
            f.number("metadata_capacity", c.metadata_capacity);
            if (c.metadata_set) f.number("metadata_size", c.metadata_size);
            f.number("writer_takeovers", c.ring.producer_takeovers);
            f.number("reader_takeovers", c.ring.consumer_takeovers);
            f.role("writer", c.ring.producer);
            f.role("reader", c.ring.consumer);
            return;
        }
        case kind::command: {
            command_info c;
            if (failed(inspect_command(base, size, &c))) return f.invalid();
            f.number("capacity", c.capacity);
            f.number("max_message", c.max_message);
            f.number("claims", c.claims);
            f.number("consumed", c.consumed);
            f.number("queued_bytes", c.head - c.tail);
            f.number("abandoned_claims", c.abandoned);
            f.number("claim_lock_recoveries", c.lock_recoveries);
            f.number("reader_takeovers", c.reader_takeovers);
            f.role("reader", c.reader);
            f.role("claim_lock_holder", c.claim_lock);
            return;
        }
        case kind::stream: {
            slot_info q;
            stream_meta m;
            if (failed(inspect_stream(base, size, &q, &m))) return f.invalid();
            f.text("dtype", to_string(static_cast<dtype>(m.dtype)));
            std::vector<unsigned long long> shape;
            for (std::uint32_t i = 0; i < m.ndim && i < max_stream_dims; ++i) shape.push_back(m.shape[i]);
            f.numbers("shape", std::move(shape));
            f.number("sample_bytes", m.sample_bytes);
            if (m.schema.name[0] != 0) {
                // As stored, unchecked: shown only if it is a terminated UTF-8 name.
                const auto length = static_cast<std::size_t>(
                    std::find(m.schema.name, m.schema.name + sizeof m.schema.name, '\0') - m.schema.name);
                const bool readable = length < sizeof m.schema.name && is_valid_utf8(m.schema.name, length);
                f.text("schema", readable ? std::string(m.schema.name, length) : std::string("(invalid)"));
                f.number("schema_hash", m.schema.hash);
            }
            f.slots(q);
            f.role("writer", q.writer);
            return;
        }
        case kind::video: {
            slot_info q;
            video_meta m;
            if (failed(inspect_video(base, size, &q, &m))) return f.invalid();
            f.number("width", m.width);
            f.number("height", m.height);
            f.number("stride", m.stride);
            f.text("pixel_format", to_string(static_cast<pixel_format>(m.pixel_format)));
            f.text("fps", std::to_string(m.fps_num) + "/" + std::to_string(m.fps_den));
            f.number("frame_bytes", m.frame_bytes);
            f.slots(q);
            f.role("writer", q.writer);
            return;
        }
        case kind::audio: {
            slot_info q;
            audio_meta m;
            if (failed(inspect_audio(base, size, &q, &m))) return f.invalid();
            f.number("channels", m.channels);
            f.text("sample_format", to_string(static_cast<sample_format>(m.sample_format)));
            f.number("sample_rate", m.sample_rate);
            f.number("frames_per_buffer", m.frames_per_buffer);
            f.slots(q);
            f.role("writer", q.writer);
            return;
        }
        case kind::kv: {
            kv_info k;
            if (failed(inspect_kv(base, size, &k))) return f.invalid();
            f.number("keys", k.key_count);
            f.number("max_key", k.max_key);
            f.number("max_value", k.max_value);
            f.number("epoch", k.epoch);
            f.number("key_lock_recoveries", k.recoveries);
            return;
        }
        case kind::block: {
            block_info b;
            if (failed(inspect_block(base, size, &b))) return f.invalid();
            f.number("data_offset", b.data_offset);
            f.number("data_size", b.data_size);
            f.number("reader_slots", b.slot_count);
            f.number("slots_in_use", b.slots_in_use);
            f.number("read_locks_held", b.readers);
            f.number("lock_recoveries", b.recoveries);
            f.role("writer", b.writer);
            return;
        }
    }
}

}  // namespace

errc list_names(std::vector<std::string>* out) {
    out->clear();
    const errc e = os::shm_list([](const char* n, void* ctx) { static_cast<std::vector<std::string>*>(ctx)->push_back(n); },
                                out);
    std::sort(out->begin(), out->end());
    return e;
}

errc list(bool include_foreign, std::vector<entry>* out) {
    out->clear();
    std::vector<std::string> names;
    const errc e = list_names(&names);
    for (const std::string& name : names) {
        inspected s(name, false);
        if (s.status == errc::not_found) continue;  // removed meanwhile
        if (!s.shmkit && !include_foreign) continue;
        entry row;
        row.name = name;
        row.shmkit = s.shmkit;
        row.kind = s.shmkit ? s.kind_name() : "-";
        row.state = s.shmkit ? s.state() : "foreign";
        row.size = s.size();
        if (s.shmkit) {  // mapped, with a whole header
            const os::process_id creator = s.creator();
            row.creator_pid = creator.pid;
            row.creator_alive = creator.pid != 0 && os::process_alive(creator);
        }
        out->push_back(std::move(row));
    }
    return e;
}

errc describe(const std::string& name, std::vector<field>* out) {
    out->clear();
    const errc valid_name = validate_name(name.c_str());
    if (failed(valid_name)) return valid_name;
    inspected s(name, true);
    if (s.base() == nullptr) return s.status == errc::ok ? errc::invalid_layout : s.status;
    if (!s.shmkit) return errc::invalid_layout;
    const errc e = detail::describe_image(s.name, s.base(), s.size(), s.snapshot.unused, out);
    bridge_link b;
    if (!out->empty() && !failed(bridge_of(name, &b))) {
        fields f(out);
        f.text("bridge", b.role);
        f.text("bridge_topic", b.topic);
        f.text("bridge_state", b.state);
        f.number("bridge_pid", b.pid);
        f.boolean("bridge_alive", b.alive);
        f.number("bridge_peers", b.peers);
        f.number("bridge_samples", b.samples);
        f.number("bridge_lost", b.lost);
        f.number("bridge_dropped", b.dropped);
    }
    return e;
}

errc bridge_of(const std::string& name, bridge_link* out) {
    *out = bridge_link{};
    const std::string companion = name + ".bridge";
    if (failed(validate_name(companion.c_str()))) return errc::not_found;
    kv_options options;
    options.segment.ready_wait_ns = 0;  // a companion being made is not there yet
    result<kv_store> store = kv_store::open(companion.c_str(), options);
    if (!store) return store.error() == errc::not_found ? errc::not_found : store.error();
    char buffer[256];
    const auto text = [&](const char* key, std::string* value) {
        const result<kv_value_info> v = store->get(key, buffer, sizeof buffer);
        if (v) value->assign(buffer, static_cast<std::size_t>(v->size));
        return v.ok();
    };
    const auto number = [&](const char* key) -> unsigned long long {
        std::string value;
        return text(key, &value) ? std::strtoull(value.c_str(), nullptr, 10) : 0;
    };
    if (!text("role", &out->role) || (out->role != "export" && out->role != "import")) return errc::not_found;
    text("topic", &out->topic);
    text("state", &out->state);
    out->pid = static_cast<unsigned>(number("pid"));
    out->alive = out->pid != 0 && os::process_alive(os::process_id{out->pid, 0});
    out->peers = number("peers");
    out->samples = number("samples");
    out->lost = number("lost");
    out->dropped = number("dropped");
    return errc::ok;
}

namespace detail {

errc describe_image(const std::string& name, const void* base, std::uint64_t size, bool unused,
                    std::vector<field>* out) {
    out->clear();
    const inspected s(name, base, size, unused);
    if (!s.shmkit) return errc::invalid_layout;
    fields f(out);
    const segment_header* h = s.header();
    const os::process_id creator = s.creator();
    f.text("name", s.name);
    f.text("kind", s.kind_name());
    f.text("state", s.state());
    f.number("format_version", h->format_version);
    f.number("size", s.size());
    f.number("header_size", h->header_size);
    f.number("creator_pid", creator.pid);
    f.number("creator_start", creator.start);
    f.boolean("creator_alive", os::process_alive(creator));
    if (s.status != errc::ok) return s.status;
    describe_kind(s, f);
    return errc::ok;
}

}  // namespace detail

errc reap(bool force, bool dry_run, std::vector<reaped>* out) {
    out->clear();
    std::vector<std::string> names;
    const errc listed = list_names(&names);
    for (const std::string& name : names) {
        bool candidate = false;
        {
            inspected s(name, false);
            candidate = s.shmkit && segment_is_stale(s.snapshot);
        }
        if (!candidate) continue;
        reaped r;
        r.name = name;
        if (dry_run) {
            // The same decision as a real removal (the exclusive in-use check included), with a
            // predicate that notes "stale" and answers "keep".
            bool would_remove = false;
            const errc e = os::shm_remove_if_stale(
                name.c_str(), !force,
                [](const os::object_snapshot& snapshot, void* context) {
                    *static_cast<bool*>(context) = segment_is_stale(snapshot);
                    return false;
                },
                &would_remove);
            r.outcome = would_remove ? errc::ok : e;
        } else {
            r.outcome = segment::remove_if_stale(name.c_str(), force);
        }
        if (r.outcome == errc::not_found) continue;  // someone else removed it meanwhile
        out->push_back(std::move(r));
    }
    return listed;
}

const char* const name_rules =
    "a segment name is an optional leading '/' and then 1 to 254 bytes (223 on Windows), none of them "
    "'/' or NUL, and not '.' or '..'";

std::string normalize_name(const std::string& name) {
    if (name.empty() || name[0] == '/') return name;
    return "/" + name;
}

std::string printable(const std::string& text) {
    if (is_valid_utf8(text.data(), text.size())) return text;
    std::string out;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char lead = bytes[i];
        const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        if (length != 0 && i + length <= text.size() && is_valid_utf8(bytes + i, length)) {
            out.append(text, i, length);
            i += length;
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", lead);
            out += escaped;
            ++i;
        }
    }
    return out;
}

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    return out;
}

#if defined(__linux__)

namespace {

bool all_digits(const char* s) {
    if (*s == '\0') return false;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return false;
    }
    return true;
}

// 1: some line of /proc/<pid>/maps maps the object; 0: none; -1: unreadable (permissions);
// -2: the process has no memory (a kernel thread or a zombie).
int maps_object(const std::string& proc, dev_t device, ino_t inode) {
    std::FILE* f = std::fopen((proc + "/maps").c_str(), "r");
    if (f == nullptr) return -1;
    char line[4096];
    int found = 0;
    bool read_any = false;
    while (found == 0 && std::fgets(line, sizeof line, f) != nullptr) {
        read_any = true;
        // address perms offset major:minor inode [path]
        unsigned major_id = 0, minor_id = 0;
        unsigned long long ino = 0;
        if (std::sscanf(line, "%*s %*s %*s %x:%x %llu", &major_id, &minor_id, &ino) == 3 && ino == inode &&
            major_id == major(device) && minor_id == minor(device)) {
            found = 1;
        }
    }
    const bool failed_read = std::ferror(f) != 0;
    std::fclose(f);
    if (failed_read) return -1;
    // No memory at all: a kernel thread or a zombie, which holds nothing.
    return read_any ? found : -2;
}

// 1: some fd of the process is the object; 0: none; -1: the fd folder is unreadable.
int holds_object(const std::string& proc, dev_t device, ino_t inode) {
    const std::string folder = proc + "/fd";
    DIR* d = ::opendir(folder.c_str());
    if (d == nullptr) return -1;
    int found = 0;
    while (const dirent* e = ::readdir(d)) {
        if (!all_digits(e->d_name)) continue;
        struct stat st;
        if (::stat((folder + "/" + e->d_name).c_str(), &st) == 0 && st.st_dev == device && st.st_ino == inode) {
            found = 1;
            break;
        }
    }
    ::closedir(d);
    return found;
}

}  // namespace

errc users_of(const std::string& name, users_report* out) {
    *out = users_report{};
    if (failed(validate_name(name.c_str()))) return errc::invalid_argument;
    struct stat object;
    if (::stat(("/dev/shm" + name).c_str(), &object) != 0) return errno == ENOENT ? errc::not_found : errc::os_error;
    out->available = true;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return errc::os_error;
    const unsigned self = static_cast<unsigned>(::getpid());
    while (const dirent* e = ::readdir(proc)) {
        if (!all_digits(e->d_name)) continue;
        const unsigned pid = static_cast<unsigned>(std::strtoul(e->d_name, nullptr, 10));
        if (pid == self) continue;
        const std::string folder = std::string("/proc/") + e->d_name;
        const int mapped = maps_object(folder, object.st_dev, object.st_ino);
        if (mapped == -2) continue;
        const int open = holds_object(folder, object.st_dev, object.st_ino);
        if (open <= 0 && mapped <= 0) {
            // Unreadable and not found through the other: counted, unless the process is gone.
            if ((open < 0 || mapped < 0) && ::access(folder.c_str(), F_OK) == 0) ++out->inaccessible;
            continue;
        }
        user u;
        u.pid = pid;
        u.open = open > 0;
        u.mapped = mapped > 0;
        if (std::FILE* f = std::fopen((folder + "/comm").c_str(), "r")) {
            char comm[64] = {};
            if (std::fgets(comm, sizeof comm, f) != nullptr) u.command.assign(comm, std::strcspn(comm, "\n"));
            std::fclose(f);
        }
        out->users.push_back(std::move(u));
    }
    ::closedir(proc);
    std::sort(out->users.begin(), out->users.end(), [](const user& a, const user& b) { return a.pid < b.pid; });
    return errc::ok;
}

#else

errc users_of(const std::string& name, users_report* out) {
    *out = users_report{};  // not available: Windows has no per-process view of a section's users
    if (failed(validate_name(name.c_str()))) return errc::invalid_argument;
    return errc::ok;
}

#endif

}  // namespace shmkit::inventory
