// One bridged segment: an export (local segment -> DDS topic) or an import (DDS topic -> local
// segment), run on a thread of its own until the bridge stops. Every link publishes what it is
// doing in a companion kv segment, "<segment>.bridge", which `shmkit info`/`ls` read to show the
// segment as bridged, and which applications may read too (keys: status_keys).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "dds.hpp"
#include "inventory.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/wire/segment.hpp"

namespace shmkit::bridge {

// The companion segment's keys. Values are text: numbers in decimal.
//   role: "export" or "import"; topic; pid: the bridge's; state: "waiting" (for the local segment
//   or the remote announcement), "running", "replaced" (an export's segment went away; it waits
//   for the next), "stopped" (the bridge ended) or "failed: <reason>"; peers: matched remote
//   readers (export) or writers (import); samples: carried; lost: lost before reaching the
//   local segment (import: network gaps plus the exporter's own losses; export: the local
//   reader's); dropped: received but refused (malformed, oversize, not matching the segment).
//   position (binary: 64-bit numbers in the host's byte order): where the link stands, so that a
//   restarted bridge counts what it missed while down (broadcast import: the exported segment's
//   identity, the offset between its numbers and the local segment's, the local segment's
//   identity; stream/video/audio import: the exported segment's identity and the index expected
//   next; kv: the segment's identity and the epoch published up to).
inline constexpr const char* status_keys[] = {"role", "topic", "pid", "state", "peers", "samples", "lost", "dropped",
                                              "position"};
inline constexpr std::uint32_t status_key_count = sizeof status_keys / sizeof status_keys[0];
std::string status_name(const std::string& segment);

class link_status {
public:
    link_status(const link_config& config);
    ~link_status();
    std::atomic<std::uint64_t> samples{0}, lost{0}, dropped{0}, peers{0};
    void set_state(const std::string& state);
    const std::string& state() const { return state_; }
    // Writes the counters into the companion segment if they changed, at most every 50 ms
    // (called every loop turn; `now` forces it, at the end).
    void publish(bool now = false);
    // Whether publish() would write now: an exporter's loop asks before it looks up its peers
    // (a DDS status call), which it would otherwise make for every message.
    bool due() const { return std::chrono::steady_clock::now() - published_ >= std::chrono::milliseconds(50); }
    // A link's position (up to four 64-bit words, their meaning the link's): saved as it goes,
    // read back by the next run; saved_position() is false if none of that length was saved.
    void save_position(const std::uint64_t* words, std::size_t count);
    bool saved_position(std::uint64_t* words, std::size_t count);

private:
    void set(const char* key, const std::string& value);
    std::mutex mutex_;  // the link's thread and an import's DDS handler both write the companion
    kv_store store_;
    std::string state_;
    std::uint64_t shown_[4] = {~0ull, ~0ull, ~0ull, ~0ull};
    std::chrono::steady_clock::time_point published_{};
};

// What every link shares: the participant, this run's origin id, and the announcement topic.
struct bridge_context {
    dds_entity_t participant = 0;
    std::uint64_t origin = 0;  // random per run: breaks ties between kv writes of equal stamp
    dds_entity_t announce_topic = 0;
    dds_entity_t announce_writer = 0;
    const std::atomic<bool>* stop = nullptr;
    bool stopping() const { return stop->load(std::memory_order_relaxed); }
};

// What an exporter announces about its segment (the Announce sample, copied out of DDS's loan).
struct announcement {
    std::uint64_t source = 0;  // the exported segment's identity
    kind segment_kind{};
    std::uint64_t capacity = 0;  // broadcast
    std::uint32_t max_message = 0;
    std::uint64_t slots = 0, slot_capacity = 0;  // stream, video, audio
    bool page_aligned = false;
    std::string kind_meta;  // the 128-byte description
    std::uint32_t max_key = 0, max_value = 0;  // kv
    std::vector<std::string> keys;
};

// The announcements of one topic as they come (an importer's view of its exporter): the latest
// says which segment the topic carries now. A message or sample of another source is not from
// that exporter (or from a segment it no longer exports) and is dropped.
class announcement_watch {
public:
    announcement_watch(const link_config& config, const bridge_context& context);
    // Takes what arrived, waiting up to `timeout` for something; true if latest() changed.
    bool poll(dds_duration_t timeout);
    bool known() const { return known_; }
    const announcement& latest() const { return latest_; }
    // Whether `source` is the segment announced last (looking for a newer announcement first).
    bool accepts(std::uint64_t source);

private:
    std::string topic_;
    entity reader_;
    taker take_;
    announcement latest_;
    bool known_ = false;
};

// Publishes an announcement for `topic` (transient-local: late importers get it too).
void announce(const bridge_context& context, const std::string& topic, const announcement& a);

// The two halves of a link once the local side is known: an exporter runs over an open local
// segment, an importer over a local segment made (or opened) to match the announcement. Both run
// until the bridge stops, or return early with the status's state saying why.
void export_broadcast(const link_config&, const bridge_context&, link_status&);
void import_broadcast(const link_config&, const bridge_context&, link_status&, announcement_watch&);
void export_slots(kind, const link_config&, const bridge_context&, link_status&);
void import_slots(const link_config&, const bridge_context&, link_status&, announcement_watch&);
void export_kv(const link_config&, const bridge_context&, link_status&);
void import_kv(const link_config&, const bridge_context&, link_status&, announcement_watch&);

// An exporter's state when its segment was replaced under the same name (removed, or made anew):
// run_link starts the export over on whatever the name holds next.
inline constexpr const char* replaced_state = "replaced";
// Called by an exporter on idle turns: every `every`-th call, whether the name now holds another
// segment than `identity` (or none).
bool replacement_due(const link_config& config, std::uint64_t identity, unsigned* idle_turns, unsigned every);

// What an exporter does when a local read returned no sample: go on (true) after a timeout, a
// stale read or nothing there, unless the segment was replaced meanwhile; otherwise stop (false)
// with the state saying why.
bool keep_reading(errc e, const link_config& config, std::uint64_t identity, unsigned* idle_turns, link_status& status);

// An exporter's open() of its segment failed: a segment gone or not finished meanwhile sends the
// link back to waiting for it ("replaced"); anything else fails the link. Always false.
bool open_failed(errc e, link_status& status);

// dds_write, waiting on while a reliable writer's history is full (it returns timeout after the
// reliability's max_blocking_time) until the bridge stops: nothing is dropped at the exporter;
// the application's ring absorbs the wait, or laps the exporter's reader, which is counted.
// Writes are batched (make_participant): `flush` sends what was batched, which an exporter does
// whenever it has nothing more to send right now (so a lone message goes at once, and a burst
// goes in full packets).
dds_return_t write_waiting(dds_entity_t writer, const void* sample, const bridge_context& context, bool flush = true);

// A whole link: waits for its local segment (export) or the remote announcement (import), then
// runs the half for the segment's kind.
void run_link(const link_config&, const bridge_context&, link_status&);

// A local segment as the inventory decodes it, read once: its kind and state, the numbers an
// export announces, and its identity.
class described_segment {
public:
    explicit described_segment(const std::string& name);
    errc status() const { return status_; }  // not_found while there is none
    std::string text(const char* field) const;              // "" if absent
    unsigned long long number(const char* field) const;     // 0 if absent
    // The segment's identity: its creator (pid and start token) and the object's inode (the
    // creator alone does not tell a segment from the one the same process makes after removing
    // it, a camera daemon changing resolution); 0 if there is no such segment.
    std::uint64_t identity() const { return identity_; }

private:
    std::vector<inventory::field> fields_;  // before status_, which the constructor fills along with it
    errc status_;
    std::uint64_t identity_ = 0;
};
inline std::uint64_t segment_identity(const std::string& name) { return described_segment(name).identity(); }

// The gap between two numbers of one exported segment beyond which a sample is refused rather than
// taken as a loss: 2^40 messages is none a real exporter makes (a year at 30 000 a second), and
// one bad sample must not move a link past every real one to come.
inline constexpr std::uint64_t max_plausible_gap = std::uint64_t{1} << 40;

// An import's link thread once its DDS handler runs: it keeps the counters (peers: the matched
// exporters) until the bridge stops.
void report_until_stopped(dds_entity_t reader, const bridge_context& context, link_status& status);
// An exporter's counters, from its loop: the peers (a DDS status call) are looked up only when
// the counters are due, not for every message.
void report_export(dds_entity_t writer, link_status& status);

// What a link makes (its companion, an import's segment): a restarted bridge takes over what its
// previous run made, so it opens first (create() would replace an unused segment whose creator
// died, and with it the saved position and the continuity for readers that come back).
template <class Handle, class Open, class Create>
result<Handle> open_or_create(Open&& open, Create&& create) {
    result<Handle> r = open();
    if (r || r.error() != errc::not_found) return r;
    r = create();
    if (!r && r.error() == errc::already_exists) r = open();
    return r;
}

// Waits `ms` milliseconds unless the bridge is stopping; false if it is.
bool pause_ms(const bridge_context& context, unsigned ms);

std::uint64_t wall_clock_ns();

}  // namespace shmkit::bridge
