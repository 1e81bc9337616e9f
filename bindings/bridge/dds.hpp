// The little of Cyclone DDS's C API the bridge uses, made safe to hold: entities deleted when
// their owner goes, QoS built from a qos_choice, and a take loop that returns loans.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <dds/dds.h>

#include "config.hpp"

namespace shmkit::bridge {

// A DDS entity, deleted (with its children) when the owner goes.
class entity {
public:
    entity() = default;
    explicit entity(dds_entity_t id) : id_(id) {}
    entity(entity&& other) noexcept : id_(other.id_) { other.id_ = 0; }
    entity& operator=(entity&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = other.id_;
            other.id_ = 0;
        }
        return *this;
    }
    entity(const entity&) = delete;
    entity& operator=(const entity&) = delete;
    ~entity() { reset(); }
    dds_entity_t get() const { return id_; }
    void reset() {
        if (id_ > 0) dds_delete(id_);
        id_ = 0;
    }

private:
    dds_entity_t id_ = 0;
};

// Thrown when a DDS call made while setting up fails (a running link logs and goes on instead).
struct dds_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// `result` if it is an entity, else a dds_failure naming `what` and Cyclone's reason.
dds_entity_t check_entity(dds_entity_t result, const char* what);

// The participant of `domain`. With an `interface`, the domain is configured to use it, and that
// configuration replaces CYCLONEDDS_URI's; without one, Cyclone reads CYCLONEDDS_URI as usual.
entity make_participant(std::uint32_t domain, const std::string& interface);

// QoS for a link's data: reliable or best-effort, volatile or transient-local, keep-last `depth`
// or keep-all with at most `depth` samples held. A reader never receives what this participant's
// own writers publish (kv links both write and read one topic).
struct qos_deleter {
    void operator()(dds_qos_t* q) const { dds_delete_qos(q); }
};
using qos_ptr = std::unique_ptr<dds_qos_t, qos_deleter>;
qos_ptr make_qos(bool reliable, std::uint32_t depth, bool transient_local, bool keep_all = false);

entity make_topic(dds_entity_t participant, const dds_topic_descriptor_t* type, const std::string& name);
entity make_writer(dds_entity_t participant, dds_entity_t topic, const dds_qos_t* qos);
entity make_reader(dds_entity_t participant, dds_entity_t topic, const dds_qos_t* qos);

// Readers the writer is matched with right now (0 on error).
std::uint32_t matched_readers(dds_entity_t writer);
std::uint32_t matched_writers(dds_entity_t reader);

// Takes up to take_batch_size samples from `reader` on loan, calls visit(const T&, const
// dds_sample_info_t&) for each valid one, and returns the loan. The number taken, or a negative
// DDS return code.
inline constexpr int take_batch_size = 64;
template <class T, class Visit>
int take_batch(dds_entity_t reader, Visit&& visit) {
    constexpr int batch = take_batch_size;
    void* samples[batch] = {};
    dds_sample_info_t infos[batch];
    const dds_return_t n = dds_take(reader, samples, infos, batch, batch);
    if (n <= 0) return n;
    for (dds_return_t i = 0; i < n; ++i) {
        if (infos[i].valid_data) visit(*static_cast<const T*>(samples[i]), infos[i]);
    }
    dds_return_loan(reader, samples, n);
    return n;
}

// Waits up to `timeout` for data on `reader`, then takes what is there (take_batch). Returns the
// number of samples taken, or a negative DDS return code.
class taker {
public:
    explicit taker(dds_entity_t reader);
    template <class T, class Visit>
    int take(dds_duration_t timeout, Visit&& visit) {
        if (!wait(timeout)) return 0;
        return take_batch<T>(reader_, visit);
    }

private:
    bool wait(dds_duration_t timeout);
    dds_entity_t reader_;
    entity waitset_;
};

// A reader whose samples are handled as they arrive, on Cyclone's receiving thread (a
// data-available listener). A thread waiting for them instead would add a wake-up between the
// network and the handler, tens of microseconds each way; ddsperf's pong answers from the
// receiving thread the same way. The handler must not block for long. Deleting the reader (the
// destructor) waits for a handler that is running, so what the handler refers to must outlive
// this object: declare it after them.
template <class T>
class listened_reader {
public:
    using handler = std::function<void(const T&)>;
    listened_reader(dds_entity_t participant, dds_entity_t topic, const dds_qos_t* qos, handler h)
        : handler_(std::move(h)) {
        dds_listener_t* listener = dds_create_listener(this);
        dds_lset_data_available(listener, &on_data);
        const dds_entity_t r = dds_create_reader(participant, topic, qos, listener);
        dds_delete_listener(listener);
        reader_ = entity(check_entity(r, "creating a DDS reader"));
    }
    listened_reader(const listened_reader&) = delete;
    listened_reader& operator=(const listened_reader&) = delete;
    dds_entity_t get() const { return reader_.get(); }

private:
    static void on_data(dds_entity_t reader, void* arg) {
        auto* self = static_cast<listened_reader*>(arg);
        // Until a batch comes back short: everything that arrived is handled in this call.
        while (take_batch<T>(reader, [self](const T& sample, const dds_sample_info_t&) {
                   // Nothing may unwind through Cyclone's C frames: a handler that throws (out of
                   // memory) loses that sample, said on stderr.
                   try {
                       self->handler_(sample);
                   } catch (const std::exception& e) {
                       std::fprintf(stderr, "shmkit-bridge: a sample was lost: %s\n", e.what());
                   }
               }) == take_batch_size) {
        }
    }
    handler handler_;
    entity reader_;  // last: deleted first
};

}  // namespace shmkit::bridge
