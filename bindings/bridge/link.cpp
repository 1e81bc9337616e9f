#include "link.hpp"

#include <chrono>
#include <cstring>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "bridge_types.h"
#include "inventory.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::bridge {

std::string status_name(const std::string& segment) { return segment + ".bridge"; }

link_status::link_status(const link_config& config) {
    const std::string name = status_name(config.segment);
    kv_config kc;
    kc.max_key = 16;
    kc.max_value = 200;
    // A bridge killed and restarted finds its previous run's companion and takes it over.
    result<kv_store> s = open_or_create<kv_store>([&] { return kv_store::open(name.c_str()); },
                                                  [&] { return kv_store::create(name.c_str(), status_keys, status_key_count, kc); });
    if (!s) {
        std::fprintf(stderr, "shmkit-bridge: %s: status segment %s: %s\n", config.segment.c_str(), name.c_str(),
                     to_string(s.error()));
        return;
    }
    store_ = std::move(*s);
    set("role", config.dir == direction::export_ ? "export" : "import");
    set("topic", config.topic);
    set("pid", std::to_string(::getpid()));
    set_state("waiting");
    publish(true);
}

// The companion stays after the bridge (as an import's segment does): `shmkit info` shows the
// link stopped, and the next run takes over its position.
link_status::~link_status() {
    publish(true);
    set_state("stopped");
}

void link_status::set(const char* key, const std::string& value) {
    // Callers hold mutex_ (set_state, publish) or are the constructor.
    if (store_.is_open()) (void)store_.set(key, value.data(), value.size(), std::chrono::seconds(1));
}

void link_status::set_state(const std::string& state) {
    const std::lock_guard<std::mutex> hold(mutex_);
    state_ = state;
    set("state", state);
}

void link_status::publish(bool now_please) {
    // Counters are for people and tools: 20 updates a second are plenty, and each is a kv write.
    const std::lock_guard<std::mutex> hold(mutex_);
    const auto t = std::chrono::steady_clock::now();
    if (!now_please && t - published_ < std::chrono::milliseconds(50)) return;
    published_ = t;
    const std::uint64_t now[4] = {peers.load(), samples.load(), lost.load(), dropped.load()};
    const char* keys[4] = {"peers", "samples", "lost", "dropped"};
    for (int i = 0; i < 4; ++i) {
        if (now[i] == shown_[i]) continue;
        shown_[i] = now[i];
        set(keys[i], std::to_string(now[i]));
    }
}

void link_status::save_position(const std::uint64_t* words, std::size_t count) {
    const std::lock_guard<std::mutex> hold(mutex_);
    if (store_.is_open()) (void)store_.set("position", words, count * sizeof *words, std::chrono::seconds(1));
}

bool link_status::saved_position(std::uint64_t* words, std::size_t count) {
    const std::lock_guard<std::mutex> hold(mutex_);
    if (!store_.is_open()) return false;
    const result<kv_value_info> v = store_.get("position", words, count * sizeof *words);
    return v && v->size == count * sizeof *words;
}

std::uint64_t wall_clock_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

bool pause_ms(const bridge_context& context, unsigned ms) {
    for (unsigned waited = 0; waited < ms && !context.stopping(); waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !context.stopping();
}

announcement_watch::announcement_watch(const link_config& config, const bridge_context& context)
    : topic_(config.topic),
      reader_(make_reader(context.participant, context.announce_topic, make_qos(true, 1, true).get())),
      take_(reader_.get()) {}

bool announcement_watch::poll(dds_duration_t timeout) {
    bool changed = false;
    take_.take<shmkit_bridge_Announce>(timeout, [&](const shmkit_bridge_Announce& s, const dds_sample_info_t&) {
        if (s.topic == nullptr || topic_ != s.topic) return;
        announcement& a = latest_;
        a.source = s.source;
        a.segment_kind = static_cast<kind>(s.kind);
        a.capacity = s.capacity;
        a.max_message = s.max_message;
        a.slots = s.slots;
        a.slot_capacity = s.slot_capacity;
        a.page_aligned = s.page_aligned;
        a.kind_meta.assign(reinterpret_cast<const char*>(s.kind_meta._buffer), s.kind_meta._length);
        a.max_key = s.max_key;
        a.max_value = s.max_value;
        a.keys.clear();
        for (std::uint32_t i = 0; i < s.keys._length; ++i) a.keys.emplace_back(s.keys._buffer[i] ? s.keys._buffer[i] : "");
        known_ = true;
        changed = true;
    });
    return changed;
}

bool announcement_watch::accepts(std::uint64_t source) {
    if (known_ && source == latest_.source) return true;
    poll(0);
    return known_ && source == latest_.source;
}

void announce(const bridge_context& context, const std::string& topic, const announcement& a) {
    shmkit_bridge_Announce s{};
    s.topic = const_cast<char*>(topic.c_str());
    s.source = a.source;
    s.kind = static_cast<std::uint32_t>(a.segment_kind);
    s.capacity = a.capacity;
    s.max_message = a.max_message;
    s.slots = a.slots;
    s.slot_capacity = a.slot_capacity;
    s.page_aligned = a.page_aligned;
    std::string meta = a.kind_meta;
    s.kind_meta._length = s.kind_meta._maximum = static_cast<std::uint32_t>(meta.size());
    s.kind_meta._buffer = reinterpret_cast<std::uint8_t*>(meta.data());
    s.max_key = a.max_key;
    s.max_value = a.max_value;
    std::vector<char*> keys;
    for (const std::string& k : a.keys) keys.push_back(const_cast<char*>(k.c_str()));
    s.keys._length = s.keys._maximum = static_cast<std::uint32_t>(keys.size());
    s.keys._buffer = keys.data();
    const dds_return_t r = dds_write(context.announce_writer, &s);
    dds_write_flush(context.announce_writer);
    if (r != DDS_RETCODE_OK) std::fprintf(stderr, "shmkit-bridge: announcing %s: %s\n", topic.c_str(), dds_strretcode(r));
}

described_segment::described_segment(const std::string& name) : status_(inventory::describe(name, &fields_)) {
    if (failed(status_)) return;
    struct stat st {};
    const std::uint64_t inode = ::stat(("/dev/shm" + name).c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
    identity_ = (number("creator_pid") | number("creator_start") << 32) ^ (inode * 0x9E3779B97F4A7C15ull);
}

std::string described_segment::text(const char* field) const {
    for (const inventory::field& f : fields_) {
        if (f.name == field) return f.text;
    }
    return {};
}

unsigned long long described_segment::number(const char* field) const {
    for (const inventory::field& f : fields_) {
        if (f.name == field) return f.number;
    }
    return 0;
}

void report_until_stopped(dds_entity_t reader, const bridge_context& context, link_status& status) {
    while (!context.stopping()) {
        status.peers = matched_writers(reader);
        status.publish();
        pause_ms(context, 50);
    }
}

void report_export(dds_entity_t writer, link_status& status) {
    if (!status.due()) return;
    status.peers = matched_readers(writer);
    status.publish();
}

namespace {

// The kind of the local segment `name` once it exists and is ready; 0 while it does not.
std::uint32_t local_kind(const std::string& name, std::string* problem) {
    const described_segment d(name);
    if (d.status() == errc::not_found) return 0;
    const std::string state = d.text("state");
    if (failed(d.status()) || state != "ready") {
        *problem = failed(d.status()) ? to_string(d.status()) : state;
        return 0;
    }
    const std::string kind_text = d.text("kind");
    for (std::uint32_t k = 1; k <= 9; ++k) {
        if (kind_text == to_string(static_cast<kind>(k))) return k;
    }
    *problem = "unknown kind " + kind_text;
    return 0;
}

}  // namespace

void run_link(const link_config& config, const bridge_context& context, link_status& status) {
    if (config.dir == direction::import_) {
        announcement_watch watch(config, context);
        while (!watch.known()) {
            if (context.stopping()) return;
            watch.poll(DDS_MSECS(100));
        }
        switch (watch.latest().segment_kind) {
            case kind::broadcast: return import_broadcast(config, context, status, watch);
            case kind::stream:
            case kind::video:
            case kind::audio: return import_slots(config, context, status, watch);
            case kind::kv: return import_kv(config, context, status, watch);
            default: status.set_state("failed: announced kind cannot be bridged"); return;
        }
    }
    // An export follows the segment by name: when the application replaces it (removes it and
    // makes a new one), the exporter returns with state "replaced" and starts over on the new one.
    while (!context.stopping()) {
        std::string problem, shown;
        bool said = false;
        std::uint32_t k = 0;
        while ((k = local_kind(config.segment, &problem)) == 0) {
            if (!said || problem != shown) {
                said = true;
                status.set_state("waiting: " + (problem.empty() ? std::string("no such segment") : problem));
                shown = problem;
            }
            if (!pause_ms(context, 100)) return;
        }
        switch (static_cast<kind>(k)) {
            case kind::broadcast: export_broadcast(config, context, status); break;
            case kind::stream:
            case kind::video:
            case kind::audio: export_slots(static_cast<kind>(k), config, context, status); break;
            case kind::kv: export_kv(config, context, status); break;
            default:
                return status.set_state(std::string("failed: a ") + to_string(static_cast<kind>(k)) +
                                        " segment cannot be bridged (broadcast, stream, video, audio and kv can)");
        }
        if (status.state() != replaced_state) return;
    }
}

bool keep_reading(errc e, const link_config& config, std::uint64_t identity, unsigned* idle_turns, link_status& status) {
    if (e == errc::timeout && replacement_due(config, identity, idle_turns, 10)) {
        status.set_state(replaced_state);
        return false;
    }
    if (e == errc::timeout || e == errc::stale || e == errc::empty) return true;
    status.set_state(std::string("failed: reading the segment: ") + to_string(e));
    return false;
}

bool open_failed(errc e, link_status& status) {
    // Gone or not finished between being found and being opened: wait for it again.
    if (e == errc::not_found || e == errc::not_ready) status.set_state(replaced_state);
    else status.set_state(std::string("failed: opening the segment: ") + to_string(e));
    return false;
}

dds_return_t write_waiting(dds_entity_t writer, const void* sample, const bridge_context& context, bool flush) {
    dds_return_t r;
    while ((r = dds_write(writer, sample)) == DDS_RETCODE_TIMEOUT && !context.stopping()) {
    }
    if (flush) dds_write_flush(writer);
    return r;
}

bool replacement_due(const link_config& config, std::uint64_t identity, unsigned* idle_turns, unsigned every) {
    if (++*idle_turns < every) return false;
    *idle_turns = 0;
    return segment_identity(config.segment) != identity;
}

}  // namespace shmkit::bridge
