// broadcast across the bridge: every message, in order, with reliable QoS (keep-all, flow
// controlled by acknowledgements) or best-effort on request. A message's seq is its number in the
// exported segment, so the importer counts every gap as lost, wherever it happened: the
// exporter's reader lapped by the application, the network (best-effort), or a bridge that was
// down. It tells the local segment's readers (broadcast_writer::skip), so each reader's lost and
// total_lost() count every message it never got, wherever it was lost. Numbers already delivered
// (an exporter restarted and resending its ring) are passed over.
#include <cstring>
#include <vector>

#include "bridge_types.h"
#include "link.hpp"
#include "shmkit/broadcast.hpp"

namespace shmkit::bridge {
namespace {

constexpr std::uint32_t default_depth = 256;

// Reliable: keep-all, so every message arrives; the exporter waits for acknowledgements once
// Cyclone's writer history holds its high watermark of unacknowledged bytes, or `depth` messages
// if one is given (a window of a few hundred messages caps a link at that many per acknowledgement
// round trip: 256 gave 30 k messages/s here). Best-effort: keep-last `depth` (256 by default),
// nothing waits.
qos_ptr broadcast_qos(const link_config& config) {
    const bool reliable = config.qos.set ? config.qos.reliable : true;
    if (reliable) return make_qos(true, config.qos.depth, false, true);
    return make_qos(false, config.qos.depth ? config.qos.depth : default_depth, false);
}

}  // namespace

void export_broadcast(const link_config& config, const bridge_context& context, link_status& status) {
    broadcast_reader_options options;
    options.from_oldest = true;  // what the application wrote before the bridge attached goes too
    result<broadcast_reader> opened = broadcast_reader::open(config.segment.c_str(), options);
    if (!opened) {
        (void)open_failed(opened.error(), status);
        return;
    }
    broadcast_reader reader = std::move(*opened);
    announcement a;
    a.segment_kind = kind::broadcast;
    const described_segment described(config.segment);
    a.source = described.identity();
    a.capacity = described.number("capacity");
    a.max_message = static_cast<std::uint32_t>(reader.max_message());

    entity topic = make_topic(context.participant, &shmkit_bridge_Message_desc, config.topic);
    const qos_ptr q = broadcast_qos(config);
    entity writer = make_writer(context.participant, topic.get(), q.get());
    announce(context, config.topic, a);
    status.set_state("running");

    std::vector<std::uint8_t> buffer(reader.max_message());
    shmkit_bridge_Message m{};
    m.source = a.source;
    unsigned idle_turns = 0;
    while (!context.stopping()) {
        report_export(writer.get(), status);
        const result<message_info> got = reader.read(buffer.data(), buffer.size(), std::chrono::milliseconds(100));
        if (!got) {
            if (keep_reading(got.error(), config, a.source, &idle_turns, status)) continue;
            return;
        }
        status.lost += got->lost;
        m.seq = got->seq;
        m.data._length = m.data._maximum = static_cast<std::uint32_t>(got->size);
        m.data._buffer = buffer.data();
        const dds_return_t r = write_waiting(writer.get(), &m, context, !reader.poll());
        if (r == DDS_RETCODE_OK) ++status.samples;
    }
}

void import_broadcast(const link_config& config, const bridge_context& context, link_status& status,
                      announcement_watch& watch) {
    const announcement& a = watch.latest();
    broadcast_config bc;
    bc.capacity = a.capacity;
    bc.max_message = a.max_message;
    // A restarted bridge takes over the segment its previous run made (its readers carry on).
    result<broadcast_writer> made =
        open_or_create<broadcast_writer>([&] { return broadcast_writer::open(config.segment.c_str()); },
                                         [&] { return broadcast_writer::create(config.segment.c_str(), bc); });
    if (!made) return status.set_state(std::string("failed: making the segment: ") + to_string(made.error()));
    broadcast_writer writer = std::move(*made);
    if (writer.max_message() < a.max_message) {
        return status.set_state("failed: the local segment takes messages up to " + std::to_string(writer.max_message()) +
                                " bytes, the exported one up to " + std::to_string(a.max_message));
    }
    entity topic = make_topic(context.participant, &shmkit_bridge_Message_desc, config.topic);
    const qos_ptr q = broadcast_qos(config);
    // Where this import stands is kept by the segment itself: its sequence numbers follow the
    // exported ones (gaps are skipped) at a constant offset, fixed when the numbering starts (the
    // first message, or one of a segment the application made anew) and kept in the companion.
    // So the position is exactly what was published, also when the bridge is killed in the
    // middle of a message (its successor completes or drops that message by the core's takeover
    // rules), and it costs no write per message. A previous run's position holds only for the
    // same local segment.
    const std::uint64_t local_identity = segment_identity(config.segment);
    std::uint64_t position[3] = {};  // the exported segment's identity, the offset, the local identity
    bool started = status.saved_position(position, 3) && position[2] == local_identity;
    std::uint64_t& source = position[0];
    std::uint64_t& offset = position[1];
    position[2] = local_identity;
    // Each message is written into the segment on DDS's receiving thread, as it arrives.
    listened_reader<shmkit_bridge_Message> reader(context.participant, topic.get(), q.get(), [&](const shmkit_bridge_Message& m) {
        if (m.data._length > writer.max_message() || !watch.accepts(m.source)) {
            ++status.dropped;  // not something the exporter of this segment sends
            return;
        }
        if (!started || m.source != source) {
            // The first message, or one of a segment the application made anew: numbering
            // starts here (what went before this bridge joined is not lost to it). Unsigned
            // arithmetic: the offset may be "negative".
            started = true;
            source = m.source;
            offset = writer.messages_written() - m.seq;
            status.save_position(position, 3);
        }
        const std::uint64_t expected = writer.messages_written() - offset;
        if (m.seq < expected) return;  // delivered already (an exporter restarted and resent it)
        // Lost on the way: readers here learn it as they learn of a lap, in the next message's
        // lost and their total_lost().
        if (m.seq - expected > max_plausible_gap || (m.seq > expected && failed(writer.skip(m.seq - expected)))) {
            ++status.dropped;
            return;
        }
        status.lost += m.seq - expected;
        if (failed(writer.write(m.data._buffer, m.data._length))) {
            ++status.dropped;
            return;
        }
        ++status.samples;
    });
    status.set_state("running");
    report_until_stopped(reader.get(), context, status);
}

}  // namespace shmkit::bridge
