#include "dds.hpp"

namespace shmkit::bridge {

dds_entity_t check_entity(dds_entity_t result, const char* what) {
    if (result < 0) throw dds_failure(std::string(what) + ": " + dds_strretcode(result));
    return result;
}

entity make_participant(std::uint32_t domain, const std::string& interface) {
    // Batched writes: dds_write queues, dds_write_flush sends (write_waiting() flushes whenever an
    // exporter has nothing more queued locally), so a burst of small messages goes in full
    // packets instead of one packet each.
    dds_write_set_batch(true);
    if (!interface.empty()) {
        // This process's view of the domain: which interface to use (the name is checked by
        // finish_config(): nothing in it can break out of the attribute).
        const std::string xml = "<General><Interfaces><NetworkInterface name=\"" + interface +
                                "\"/></Interfaces></General>";
        const dds_entity_t d = dds_create_domain(domain, xml.c_str());
        if (d < 0 && d != DDS_RETCODE_PRECONDITION_NOT_MET) check_entity(d, "configuring the DDS domain");
    }
    return entity(check_entity(dds_create_participant(domain, nullptr, nullptr), "creating the DDS participant"));
}

qos_ptr make_qos(bool reliable, std::uint32_t depth, bool transient_local, bool keep_all) {
    qos_ptr owned(dds_create_qos());
    dds_qos_t* q = owned.get();
    dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_SECS(1));
    if (keep_all) {
        // Every sample: a writer with `depth` samples unacknowledged (0: as many as Cyclone's
        // writer history watermarks allow, in bytes) blocks in dds_write (up to the reliability's
        // max_blocking_time, then says timeout) instead of dropping the oldest.
        dds_qset_history(q, DDS_HISTORY_KEEP_ALL, 0);
        dds_qset_resource_limits(q, depth == 0 ? DDS_LENGTH_UNLIMITED : static_cast<int32_t>(depth), DDS_LENGTH_UNLIMITED,
                                 DDS_LENGTH_UNLIMITED);
    } else {
        dds_qset_history(q, DDS_HISTORY_KEEP_LAST, static_cast<int32_t>(depth));
    }
    dds_qset_durability(q, transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
    dds_qset_ignorelocal(q, DDS_IGNORELOCAL_PARTICIPANT);
    return owned;
}

entity make_topic(dds_entity_t participant, const dds_topic_descriptor_t* type, const std::string& name) {
    const dds_entity_t t = dds_create_topic(participant, type, name.c_str(), nullptr, nullptr);
    if (t < 0) throw dds_failure("creating DDS topic '" + name + "': " + dds_strretcode(t));
    return entity(t);
}

entity make_writer(dds_entity_t participant, dds_entity_t topic, const dds_qos_t* qos) {
    return entity(check_entity(dds_create_writer(participant, topic, qos, nullptr), "creating a DDS writer"));
}

entity make_reader(dds_entity_t participant, dds_entity_t topic, const dds_qos_t* qos) {
    return entity(check_entity(dds_create_reader(participant, topic, qos, nullptr), "creating a DDS reader"));
}

std::uint32_t matched_readers(dds_entity_t writer) {
    dds_publication_matched_status_t s;
    return dds_get_publication_matched_status(writer, &s) == DDS_RETCODE_OK ? s.current_count : 0;
}

std::uint32_t matched_writers(dds_entity_t reader) {
    dds_subscription_matched_status_t s;
    return dds_get_subscription_matched_status(reader, &s) == DDS_RETCODE_OK ? s.current_count : 0;
}

taker::taker(dds_entity_t reader) : reader_(reader) {
    const dds_entity_t participant = dds_get_participant(reader);
    waitset_ = entity(check_entity(dds_create_waitset(participant), "creating a DDS waitset"));
    const dds_entity_t data = check_entity(dds_create_readcondition(reader, DDS_ANY_STATE), "creating a read condition");
    check_entity(dds_waitset_attach(waitset_.get(), data, 0), "attaching a read condition");
}

bool taker::wait(dds_duration_t timeout) {
    return dds_waitset_wait(waitset_.get(), nullptr, 0, timeout) > 0;
}

}  // namespace shmkit::bridge
