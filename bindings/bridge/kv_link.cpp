// kv across the bridge: state, kept the same on both hosts. A kv link carries changes both ways
// whichever side exported it (the exporter has the segment; the importer makes one with the same
// keys from the announcement), with transient-local durability, so a bridge that starts late gets
// every current value.
//
// Conflicts (both hosts writing one key): last writer wins. Each change is stamped with the
// wall-clock time the bridge of its host saw it, and that bridge's random run id breaks ties;
// every bridge applies a value only if its (stamp, id) is higher than the key's last one, so all
// hosts settle on the same value; a bridge publishes the winner again, so the value a late joiner
// gets is the settled one. A value the bridge finds already in the segment at its first start, or
// left unchanged while it was down, is stamped 0: any stamped change elsewhere wins over it.
// Clocks should be synchronised (NTP/PTP) for "last" to mean what it says; a stamp more than ten
// minutes ahead of this host's clock is refused.
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

// What the link knows of one key: the stamp of the value it holds, and the epoch (the store's
// ticket) of the last value it published or took from the other side, so that it publishes each
// local write once and never echoes what it took.
struct key_state {
    stamp last;
    std::uint64_t handled_epoch = 0;
};

// A stamp further ahead of this host's clock than this is refused: it would win every conflict
// for as long (a clock set years ahead, or a hostile sample).
constexpr std::uint64_t max_clock_lead_ns = 600ull * 1000000000ull;

void sync_kv(kv_store& store, const link_config& config, const bridge_context& context, link_status& status) {
    entity topic = make_topic(context.participant, &shmkit_bridge_KvEntry_desc, config.topic);
    // Reliable always (state has no catch-up for an update lost on the way). The writer keeps the
    // last value per key for late joiners; the reader keeps several, so that of two writes from
    // elsewhere arriving together the newer wins here too.
    entity writer = make_writer(context.participant, topic.get(), make_qos(true, 1, true).get());
    entity reader = make_reader(context.participant, topic.get(), make_qos(true, 16, true).get());
    taker take(reader.get());
    status.set_state("running");

    const std::uint32_t keys = store.key_count();
    std::vector<key_state> state(keys);
    std::vector<std::uint8_t> buffer(store.max_value());
    const std::uint64_t identity = segment_identity(config.segment);
    unsigned idle_turns = 0;

    const auto publish = [&](std::uint32_t index, const void* value, std::size_t size, stamp s) {
        std::size_t length = 0;
        const char* name = store.key_name(index, &length);
        std::string key(name, length);
        shmkit_bridge_KvEntry e{};
        e.key = key.data();
        e.stamp_ns = s.ns;
        e.origin = s.origin;
        e.value._length = e.value._maximum = static_cast<std::uint32_t>(size);
        e.value._buffer = static_cast<std::uint8_t*>(const_cast<void*>(value));
        if (write_waiting(writer.get(), &e, context, false) == DDS_RETCODE_OK) ++status.samples;
        state[index].last = s;
    };
    // A local write: stamped now (and after the key's last stamp: a change is always newer).
    const auto publish_local = [&](std::uint32_t index, const void* value, std::size_t size, std::uint64_t epoch) {
        const stamp& last = state[index].last;
        std::uint64_t ns = wall_clock_ns();
        if (last.known && ns <= last.ns) ns = last.ns + 1;
        publish(index, value, size, stamp{ns, context.origin, true});
        state[index].handled_epoch = epoch;
    };

    // Where the previous run stopped publishing, if it was this very segment: keys written since
    // get fresh stamps (below, as changes); the rest go out now with stamp 0, for late joiners, so
    // that any stamped write elsewhere wins over them. At a first start, every value present is
    // such a value.
    std::uint64_t saved[2] = {};  // the segment's identity, the epoch published up to
    std::uint64_t since = status.saved_position(saved, 2) && saved[0] == identity ? saved[1] : store.epoch();
    for (std::uint32_t index = 0; index < keys; ++index) {
        const result<kv_value_info> v = store.get(index, buffer.data(), buffer.size());
        if (v && v->epoch <= since) {
            publish(index, buffer.data(), v->size, stamp{0, context.origin, true});
            state[index].handled_epoch = v->epoch;
        }
    }

    std::uint64_t current = 0;
    while (!context.stopping()) {
        status.peers = matched_writers(reader.get());
        status.publish();
        // Local writes out (once each; a value this link took from elsewhere is not one).
        const result<std::uint32_t> changed = store.changed_since(
            since, buffer.data(), buffer.size(), &current, [&](std::uint32_t index, const result<kv_value_info>& v) {
                if (v && v->epoch != state[index].handled_epoch) publish_local(index, buffer.data(), v->size, v->epoch);
            });
        if (changed) {
            since = current;
            const std::uint64_t position[2] = {identity, since};
            status.save_position(position, 2);
        }
        // Writes from elsewhere in. A winner is published again by this bridge too, so that its
        // writer's history (what late joiners get) holds the value every host settled on.
        const int n = take.take<shmkit_bridge_KvEntry>(DDS_MSECS(5), [&](const shmkit_bridge_KvEntry& e,
                                                                      const dds_sample_info_t&) {
            result<std::uint32_t> found = e.key ? store.find(e.key) : result<std::uint32_t>(errc::not_found);
            if (!found || e.value._length > store.max_value() || e.stamp_ns > wall_clock_ns() + max_clock_lead_ns) {
                ++status.dropped;  // a key this schema lacks, a value it cannot hold, a stamp from the future
                return;
            }
            const std::uint32_t index = *found;
            // A local write this link has not published yet (made since the scan above) is
            // published first: it is compared as the later write it may be, never overwritten unseen.
            const result<kv_value_info> local = store.get(index, buffer.data(), buffer.size());
            if (local && local->epoch != state[index].handled_epoch) {
                publish_local(index, buffer.data(), local->size, local->epoch);
            }
            if (!state[index].last.older_than(e.stamp_ns, e.origin)) return;  // superseded here already
            if (failed(store.set(index, e.value._buffer, e.value._length, std::chrono::seconds(1)))) {
                ++status.dropped;
                return;
            }
            // The epoch of that write, to know it when the scan finds it (unless a local write
            // came in between: then the scan publishes that one).
            const result<kv_value_info> mine = store.get(index, buffer.data(), buffer.size());
            if (mine && mine->size == e.value._length && std::memcmp(buffer.data(), e.value._buffer, e.value._length) == 0) {
                state[index].handled_epoch = mine->epoch;
            }
            publish(index, e.value._buffer, e.value._length, stamp{e.stamp_ns, e.origin, true});
        });
        dds_write_flush(writer.get());  // what this turn published, in as few packets as fit
        if (n < 0) return status.set_state(std::string("failed: taking from DDS: ") + dds_strretcode(n));
        if (n == 0 && replacement_due(config, identity, &idle_turns, 200)) return status.set_state(replaced_state);
    }
}

}  // namespace

void export_kv(const link_config& config, const bridge_context& context, link_status& status) {
    result<kv_store> opened = kv_store::open(config.segment.c_str());
    if (!opened) {
        (void)open_failed(opened.error(), status);
        return;
    }
    announcement a;
    a.segment_kind = kind::kv;
    const described_segment described(config.segment);
    a.source = described.identity();
    a.max_key = static_cast<std::uint32_t>(described.number("max_key"));
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
