// kv across the bridge: state, kept the same on both hosts. A kv link carries changes both ways
// whichever side exported it (the exporter has the segment; the importer makes one with the same
// keys from the announcement), with transient-local durability, so a bridge that starts late gets
// every current value.
//
// Conflicts (both hosts writing one key): last writer wins. Each change is stamped with the
// wall-clock time the bridge of its host saw it, and that bridge's random run id breaks ties;
// every bridge applies a value only if its (stamp, id) is higher than the key's last one, so all
// hosts settle on the same value. A value the bridge finds already in the segment at its first
// start, or left unchanged while it was down, is stamped 0: any stamped change elsewhere wins over
// it. Clocks should be synchronised (NTP/PTP) for "last" to mean what it says.
#include <cstring>
#include <string>
#include <vector>

#include "bridge_types.h"
#include "link.hpp"

namespace shmkit::bridge {
namespace {

struct stamp {
    std::uint64_t ns = 0, origin = 0;
    bool known = false;
    bool older_than(std::uint64_t other_ns, std::uint64_t other_origin) const {
        return !known || ns < other_ns || (ns == other_ns && origin < other_origin);
    }
};

void sync_kv(kv_store& store, const link_config& config, const bridge_context& context, link_status& status) {
    entity topic = make_topic(context.participant, &shmkit_bridge_KvEntry_desc, config.topic);
    const qos_ptr q = make_qos(config.qos.set ? config.qos.reliable : true, 1, true);
    entity writer = make_writer(context.participant, topic.get(), q.get());
    entity reader = make_reader(context.participant, topic.get(), q.get());
    taker take(reader.get());
    status.set_state("running");

    const std::uint32_t keys = store.key_count();
    std::vector<stamp> last(keys);
    std::vector<std::string> applied(keys);  // the value last taken from the other side, per key
    std::vector<bool> from_remote(keys, false);
    std::vector<std::uint8_t> buffer(store.max_value());
    const std::uint64_t identity = segment_identity(config.segment);
    unsigned idle_turns = 0;

    // Where the previous run stopped publishing, if it was this very segment: keys changed since
    // then get fresh stamps, the rest go out with stamp 0 (for late joiners; anything newer wins).
    std::uint64_t saved[2] = {};  // the segment's identity, the epoch published up to
    std::uint64_t since = status.saved_position(saved, 2) && saved[0] == identity ? saved[1] : 0;
    const auto publish = [&](std::uint32_t index, const void* value, std::size_t size, std::uint64_t ns) {
        std::size_t length = 0;
        const char* name = store.key_name(index, &length);
        std::string key(name, length);
        shmkit_bridge_KvEntry e{};
        e.key = key.data();
        e.stamp_ns = ns;
        e.origin = context.origin;
        e.value._length = e.value._maximum = static_cast<std::uint32_t>(size);
        e.value._buffer = static_cast<std::uint8_t*>(const_cast<void*>(value));
        if (write_waiting(writer.get(), &e, context, false) == DDS_RETCODE_OK) ++status.samples;
        last[index] = stamp{ns, context.origin, true};
    };
    std::uint64_t current = 0;
    for (std::uint32_t index = 0; index < keys; ++index) {
        const result<kv_value_info> v = store.get(index, buffer.data(), buffer.size());
        if (v && v->epoch <= since) publish(index, buffer.data(), v->size, 0);
    }

    while (!context.stopping()) {
        status.peers = matched_writers(reader.get());
        status.publish();
        // Local changes out. A change that is the value just taken from the other side is that
        // write coming back, not news.
        const result<std::uint32_t> changed = store.changed_since(
            since, buffer.data(), buffer.size(), &current, [&](std::uint32_t index, const result<kv_value_info>& v) {
                if (!v) return;
                const std::string value(reinterpret_cast<const char*>(buffer.data()), v->size);
                if (from_remote[index] && value == applied[index]) return;
                from_remote[index] = false;
                std::uint64_t ns = wall_clock_ns();
                if (last[index].known && ns <= last[index].ns) ns = last[index].ns + 1;  // a change is always newer
                publish(index, value.data(), value.size(), ns);
            });
        dds_write_flush(writer.get());  // what this turn published, in as few packets as fit
        if (changed) {
            since = current;
            const std::uint64_t position[2] = {identity, since};
            status.save_position(position, 2);
        }
        // Remote changes in.
        const int n = take.take<shmkit_bridge_KvEntry>(DDS_MSECS(5), [&](const shmkit_bridge_KvEntry& e,
                                                                      const dds_sample_info_t&) {
            result<std::uint32_t> index = e.key ? store.find(e.key) : result<std::uint32_t>(errc::not_found);
            if (!index || e.value._length > store.max_value()) {
                ++status.dropped;  // a key this schema lacks, or a value it cannot hold
                return;
            }
            if (!last[*index].older_than(e.stamp_ns, e.origin)) return;  // superseded here already
            if (failed(store.set(*index, e.value._buffer, e.value._length, std::chrono::seconds(1)))) {
                ++status.dropped;
                return;
            }
            last[*index] = stamp{e.stamp_ns, e.origin, true};
            applied[*index].assign(reinterpret_cast<const char*>(e.value._buffer), e.value._length);
            from_remote[*index] = true;
        });
        if (n < 0) return status.set_state(std::string("failed: taking from DDS: ") + dds_strretcode(n));
        if (n == 0 && replacement_due(config, identity, &idle_turns, 200)) return status.set_state(replaced_state);
    }
}

}  // namespace

void export_kv(const link_config& config, const bridge_context& context, link_status& status) {
    result<kv_store> opened = kv_store::open(config.segment.c_str());
    if (!opened) return status.set_state(std::string("failed: opening the segment: ") + to_string(opened.error()));
    announcement a;
    a.segment_kind = kind::kv;
    a.source = segment_identity(config.segment);
    a.max_key = static_cast<std::uint32_t>(described_number(config.segment, "max_key"));
    a.max_value = static_cast<std::uint32_t>(opened->max_value());
    for (std::uint32_t i = 0; i < opened->key_count(); ++i) {
        std::size_t length = 0;
        const char* name = opened->key_name(i, &length);
        a.keys.emplace_back(name, length);
    }
    announce(context, config.topic, a);
    sync_kv(*opened, config, context, status);
}

void import_kv(const link_config& config, const bridge_context& context, link_status& status,
               announcement_watch& watch) {
    const announcement& a = watch.latest();
    std::vector<const char*> keys;
    for (const std::string& k : a.keys) keys.push_back(k.c_str());
    kv_config kc;
    kc.max_key = a.max_key;
    kc.max_value = a.max_value;
    result<kv_store> made = open_or_create<kv_store>(
        [&] { return kv_store::open(config.segment.c_str()); },
        [&] { return kv_store::create(config.segment.c_str(), keys.data(), static_cast<std::uint32_t>(keys.size()), kc); });
    if (!made) return status.set_state(std::string("failed: making the segment: ") + to_string(made.error()));
    for (const std::string& k : a.keys) {
        if (!made->find(k.c_str())) return status.set_state("failed: a segment of that name exists without key " + k);
    }
    sync_kv(*made, config, context, status);
}

}  // namespace shmkit::bridge
