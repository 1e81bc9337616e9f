// ls, info, rm, gc: the segment-management commands.
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/audio.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/os.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::cli {
namespace {

// A segment mapped read-only for inspection.
struct inspected {
    std::string name;
    os::mapping map;
    errc status = errc::ok;  // validate_header's verdict
    bool shmkit = false;     // carries shmkit's magic (even if otherwise invalid)

    explicit inspected(std::string n) : name(std::move(n)) {
        status = os::shm_open(name.c_str(), os::access::read_only, &map);
        if (failed(status)) return;
        status = validate_header(map.address, map.size, 0, 0);
        const auto* h = static_cast<const segment_header*>(map.address);
        shmkit = map.size >= sizeof(segment_header) && __atomic_load_n(&h->magic, __ATOMIC_RELAXED) == wire_magic;
    }
    ~inspected() { os::shm_close(&map); }
    inspected(const inspected&) = delete;
    inspected& operator=(const inspected&) = delete;

    const segment_header* header() const { return static_cast<const segment_header*>(map.address); }
    os::process_id creator() const {
        return {__atomic_load_n(&header()->creator_pid, __ATOMIC_RELAXED),
                __atomic_load_n(&header()->creator_start, __ATOMIC_RELAXED)};
    }
    const char* kind_name() const {
        return status == errc::ok ? to_string(static_cast<kind>(header()->kind)) : "-";
    }
    const char* state() const {
        switch (status) {
            case errc::ok: return "ready";
            case errc::not_ready: return "creating";
            case errc::version_mismatch: return "other-version";
            default: return "corrupt";
        }
    }
};

std::vector<std::string> all_names() {
    std::vector<std::string> names;
    const errc e = os::shm_list([](const char* n, void* ctx) { static_cast<std::vector<std::string>*>(ctx)->push_back(n); },
                                &names);
    if (failed(e)) std::fprintf(stderr, "shmkit: cannot list shared memory: %s\n", to_string(e));
    std::sort(names.begin(), names.end());
    return names;
}

using field = std::pair<std::string, std::string>;  // name, JSON value

std::string num(unsigned long long v) { return std::to_string(v); }
std::string boolean(bool v) { return v ? "true" : "false"; }

void describe_slots(std::vector<field>& out, const slot_info& q) {
    out.emplace_back("slots", num(q.slots));
    out.emplace_back("slot_capacity", num(q.slot_capacity));
    out.emplace_back("samples_committed", num(q.committed));
    out.emplace_back("abandoned_reservations", num(q.abandoned));
    out.emplace_back("writer_takeovers", num(q.takeovers));
    out.emplace_back("heartbeat_age_ms", num(q.heartbeat_age_ns / 1'000'000));
}

void describe_role(std::vector<field>& out, const char* role, const role_holder& h) {
    out.emplace_back(std::string(role) + "_pid", h.held ? num(h.process.pid) : "null");
    out.emplace_back(std::string(role) + "_alive", boolean(h.held && h.alive));
}

std::vector<field> describe(const inspected& s) {
    std::vector<field> out;
    const segment_header* h = s.header();
    const os::process_id creator = s.creator();
    out.emplace_back("name", json_string(s.name));
    out.emplace_back("kind", json_string(s.kind_name()));
    out.emplace_back("state", json_string(s.state()));
    out.emplace_back("format_version", num(h->format_version));
    out.emplace_back("size", num(s.map.size));
    out.emplace_back("header_size", num(h->header_size));
    out.emplace_back("creator_pid", num(creator.pid));
    out.emplace_back("creator_alive", boolean(os::process_alive(creator)));
    if (s.status != errc::ok) return out;
    if (h->kind == static_cast<std::uint32_t>(kind::broadcast)) {
        broadcast_info b;
        if (inspect_broadcast(s.map.address, s.map.size, &b) == errc::ok) {
            out.emplace_back("capacity", num(b.capacity));
            out.emplace_back("max_message", num(b.max_message));
            out.emplace_back("messages", num(b.messages));
            out.emplace_back("head", num(b.head));
            out.emplace_back("tail", num(b.tail));
            out.emplace_back("retained_bytes", num(b.head - b.tail));
            out.emplace_back("abandoned_reservations", num(b.abandoned));
            out.emplace_back("writer_takeovers", num(b.takeovers));
            out.emplace_back("blocked_readers", num(b.waiters));
            describe_role(out, "writer", b.writer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::spsc)) {
        spsc_info q;
        if (inspect_spsc(s.map.address, s.map.size, &q) == errc::ok) {
            out.emplace_back("capacity", num(q.capacity));
            out.emplace_back("max_message", num(q.max_message));
            out.emplace_back("pushed", num(q.pushed));
            out.emplace_back("popped", num(q.popped));
            out.emplace_back("queued_bytes", num(q.head - q.tail));
            out.emplace_back("producer_takeovers", num(q.producer_takeovers));
            out.emplace_back("consumer_takeovers", num(q.consumer_takeovers));
            describe_role(out, "producer", q.producer);
            describe_role(out, "consumer", q.consumer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::command)) {
        command_info c;
        if (inspect_command(s.map.address, s.map.size, &c) == errc::ok) {
            out.emplace_back("capacity", num(c.capacity));
            out.emplace_back("max_message", num(c.max_message));
            out.emplace_back("claims", num(c.claims));
            out.emplace_back("consumed", num(c.consumed));
            out.emplace_back("queued_bytes", num(c.head - c.tail));
            out.emplace_back("abandoned_claims", num(c.abandoned));
            out.emplace_back("claim_lock_recoveries", num(c.lock_recoveries));
            out.emplace_back("reader_takeovers", num(c.reader_takeovers));
            describe_role(out, "reader", c.reader);
            describe_role(out, "claim_lock_holder", c.claim_lock);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::stream)) {
        slot_info q;
        stream_meta m;
        if (inspect_stream(s.map.address, s.map.size, &q, &m) == errc::ok) {
            out.emplace_back("dtype", json_string(to_string(static_cast<dtype>(m.dtype))));
            std::string shape = "[";
            for (std::uint32_t i = 0; i < m.ndim && i < max_stream_dims; ++i) shape += (i ? ", " : "") + num(m.shape[i]);
            out.emplace_back("shape", shape + "]");
            out.emplace_back("sample_bytes", num(m.sample_bytes));
            describe_slots(out, q);
            describe_role(out, "writer", q.writer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::video)) {
        slot_info q;
        video_meta m;
        if (inspect_video(s.map.address, s.map.size, &q, &m) == errc::ok) {
            out.emplace_back("width", num(m.width));
            out.emplace_back("height", num(m.height));
            out.emplace_back("stride", num(m.stride));
            out.emplace_back("pixel_format", json_string(to_string(static_cast<pixel_format>(m.pixel_format))));
            out.emplace_back("fps", json_string(num(m.fps_num) + "/" + num(m.fps_den)));
            out.emplace_back("frame_bytes", num(m.frame_bytes));
            describe_slots(out, q);
            describe_role(out, "writer", q.writer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::audio)) {
        slot_info q;
        audio_meta m;
        if (inspect_audio(s.map.address, s.map.size, &q, &m) == errc::ok) {
            out.emplace_back("channels", num(m.channels));
            out.emplace_back("sample_format", json_string(to_string(static_cast<sample_format>(m.sample_format))));
            out.emplace_back("sample_rate", num(m.sample_rate));
            out.emplace_back("frames_per_buffer", num(m.frames_per_buffer));
            describe_slots(out, q);
            describe_role(out, "writer", q.writer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::kv)) {
        kv_info k;
        if (inspect_kv(s.map.address, s.map.size, &k) == errc::ok) {
            out.emplace_back("keys", num(k.key_count));
            out.emplace_back("max_key", num(k.max_key));
            out.emplace_back("max_value", num(k.max_value));
            out.emplace_back("epoch", num(k.epoch));
            out.emplace_back("key_lock_recoveries", num(k.recoveries));
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    } else if (h->kind == static_cast<std::uint32_t>(kind::block)) {
        block_info b;
        if (inspect_block(s.map.address, s.map.size, &b) == errc::ok) {
            out.emplace_back("data_offset", num(b.data_offset));
            out.emplace_back("data_size", num(b.data_size));
            out.emplace_back("reader_slots", num(b.slot_count));
            out.emplace_back("slots_in_use", num(b.slots_in_use));
            out.emplace_back("read_locks_held", num(b.readers));
            out.emplace_back("lock_recoveries", num(b.recoveries));
            describe_role(out, "writer", b.writer);
        } else {
            out.emplace_back("geometry", json_string("invalid"));
        }
    }
    return out;
}

}  // namespace

int cmd_ls(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit ls [--json] [--all]\n\n"
                  "Lists shmkit segments in /dev/shm: name, kind, size, creator pid, whether the\n"
                  "creator is alive, and the state (ready, creating, corrupt, other-version).\n"
                  "--all also lists shared-memory objects that are not shmkit's.");
        return exit_ok;
    }
    const bool json = has_flag(a, "--json");
    const bool all = has_flag(a, "--all");
    if (!a.empty()) {
        std::fprintf(stderr, "shmkit ls: unexpected argument '%s'\n", a[0].c_str());
        return exit_usage;
    }
    if (json) std::fputs("[", stdout);
    else std::printf("%-32s %-10s %10s %8s %-5s %s\n", "NAME", "KIND", "SIZE", "CREATOR", "ALIVE", "STATE");
    bool first = true;
    for (const std::string& name : all_names()) {
        inspected s(name);
        if (!s.shmkit && !all) continue;
        const bool mapped = s.map.address != nullptr && s.map.size >= sizeof(segment_header);
        const os::process_id creator = s.shmkit && mapped ? s.creator() : os::process_id{};
        const bool alive = creator.pid != 0 && os::process_alive(creator);
        const char* state = s.shmkit ? s.state() : "foreign";
        if (json) {
            std::printf("%s\n  {\"name\": %s, \"kind\": %s, \"size\": %llu, \"creator_pid\": %u, \"alive\": %s, \"state\": %s}",
                        first ? "" : ",", json_string(name).c_str(), json_string(s.shmkit ? s.kind_name() : "-").c_str(),
                        static_cast<unsigned long long>(s.map.size), creator.pid, alive ? "true" : "false",
                        json_string(state).c_str());
        } else {
            std::printf("%-32s %-10s %10s %8u %-5s %s\n", name.c_str(), s.shmkit ? s.kind_name() : "-",
                        human_bytes(s.map.size).c_str(), creator.pid, alive ? "yes" : "no", state);
        }
        first = false;
    }
    if (json) std::puts(first ? "]" : "\n]");
    return exit_ok;
}

int cmd_info(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit info NAME [--json]\n\n"
                  "Prints the decoded segment header (kind, version, sizes, creator and whether it\n"
                  "is alive) and the kind's geometry and counters.");
        return exit_ok;
    }
    const bool json = has_flag(a, "--json");
    if (a.size() != 1) {
        std::fputs("usage: shmkit info NAME [--json]\n", stderr);
        return exit_usage;
    }
    if (failed(validate_name(a[0].c_str()))) {
        std::fprintf(stderr, "shmkit info: invalid name '%s' (one leading '/', no other)\n", a[0].c_str());
        return exit_usage;
    }
    inspected s(a[0]);
    if (s.map.address == nullptr) {
        std::fprintf(stderr, "shmkit info: %s: %s\n", a[0].c_str(),
                     s.status == errc::ok ? "empty object" : to_string(s.status));
        return exit_failed;
    }
    if (!s.shmkit) {
        std::fprintf(stderr, "shmkit info: %s: not a shmkit segment\n", a[0].c_str());
        return exit_failed;
    }
    const auto fields = describe(s);
    if (json) {
        std::fputs("{", stdout);
        for (std::size_t i = 0; i < fields.size(); ++i) {
            std::printf("%s\n  %s: %s", i ? "," : "", json_string(fields[i].first).c_str(), fields[i].second.c_str());
        }
        std::puts("\n}");
    } else {
        for (const auto& f : fields) {
            std::string v = f.second;
            if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
            std::printf("%-24s %s\n", f.first.c_str(), v.c_str());
        }
    }
    return s.status == errc::ok ? exit_ok : exit_failed;
}

int cmd_rm(args a) {
    if (wants_help(a) || a.empty()) {
        std::puts("usage: shmkit rm NAME...\n\n"
                  "Removes the named segments. Processes that have one mapped keep using it; new\n"
                  "attaches fail with not_found.");
        return a.empty() ? exit_usage : exit_ok;
    }
    int rc = exit_ok;
    for (const std::string& name : a) {
        const errc e = segment::remove(name.c_str());
        if (failed(e)) {
            std::fprintf(stderr, "shmkit rm: %s: %s\n", name.c_str(), to_string(e));
            rc = e == errc::invalid_argument ? exit_usage : exit_failed;
        }
    }
    return rc;
}

int cmd_gc(args a) {
    if (wants_help(a)) {
        std::puts("usage: shmkit gc [--force] [--dry-run]\n\n"
                  "Removes shmkit segments whose creator is dead (pid and process start time, so a\n"
                  "recycled pid does not count as alive) and which no live process has open. Every\n"
                  "attached process holds a shared lock on the object; gc takes an exclusive lock\n"
                  "without waiting, so it cannot succeed while anyone uses the segment, and it\n"
                  "re-checks that the name still refers to the same object before unlinking.\n"
                  "--force also removes segments of dead creators that live processes still have\n"
                  "open (they keep their mapping). --dry-run only lists what would be removed.");
        return exit_ok;
    }
    const bool force = has_flag(a, "--force");
    const bool dry = has_flag(a, "--dry-run");
    if (!a.empty()) {
        std::fprintf(stderr, "shmkit gc: unexpected argument '%s'\n", a[0].c_str());
        return exit_usage;
    }
    int removed = 0;
    int rc = exit_ok;
    for (const std::string& name : all_names()) {
        bool candidate = false;
        {
            inspected s(name);
            candidate = s.shmkit && segment_is_stale(s.map.address, s.map.size);
        }
        if (!candidate) continue;
        if (dry) {
            std::printf("would remove %s\n", name.c_str());
            continue;
        }
        const errc e = segment::remove_if_stale(name.c_str(), force);
        if (e == errc::ok) {
            std::printf("removed %s\n", name.c_str());
            ++removed;
        } else if (e == errc::busy) {
            std::printf("kept %s (still in use; --force removes it)\n", name.c_str());
        } else if (e != errc::not_found) {
            std::fprintf(stderr, "shmkit gc: %s: %s\n", name.c_str(), to_string(e));
            rc = exit_failed;
        }
    }
    if (!dry) std::printf("%d segment%s removed\n", removed, removed == 1 ? "" : "s");
    return rc;
}

}  // namespace shmkit::cli
