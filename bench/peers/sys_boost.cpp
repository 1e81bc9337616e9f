// Boost.Interprocess message_queue: one queue per direction, created by the coordinator and
// opened by the children. Blocking waits are receive() (a process-shared mutex and condition
// variable in the queue's shared memory); busy ones loop on try_receive(). Messages are copied
// in by send() and out by receive(): the queue has no zero-copy calls, and it delivers each
// message to one receiver, so it has no broadcast figures.
#include "harness.hpp"
#include "peers.hpp"

#if defined(SHMKIT_PEERS_BOOST)

#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/version.hpp>
#include <memory>
#include <string>

#include "roles.hpp"

namespace shmkit::peers {
namespace {

namespace bip = boost::interprocess;

std::string queue_name(const control& c, const char* direction) { return std::string(c.p.name) + "-" + direction; }

// Largest message and depth of each queue.
std::size_t ping_message(const params& p) {
    return p.what == kind::frame ? frame_bytes : p.what == kind::round_trip ? p.bytes : 64;
}
std::size_t pong_message(const params& p) { return p.what == kind::round_trip ? p.bytes : 64; }
std::size_t depth(const params& p) { return p.what == kind::frame ? 2 : 8; }

class boost_mq_link : public copies_only {
public:
    static constexpr bool zero_copy = false;

    boost_mq_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        const bool answers = c.p.what == kind::round_trip || c.p.what == kind::frame;
        const std::string ping = queue_name(c, "ping"), pong = queue_name(c, "pong");
        if (index == 0 || answers) out_ = std::make_unique<bip::message_queue>(bip::open_only, (index == 0 ? ping : pong).c_str());
        if (index != 0 || answers) in_ = std::make_unique<bip::message_queue>(bip::open_only, (index == 0 ? pong : ping).c_str());
    }
    void connected() {}

    void send(const void* data, std::size_t size) {
        if (blocking_) return out_->send(data, size, 0);
        while (!out_->try_send(data, size, 0)) cpu_relax();
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        if (blocking_) {
            in_->receive(buffer, capacity, got, priority);
        } else {
            while (!in_->try_receive(buffer, capacity, got, priority)) cpu_relax();
        }
        return got;
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        return in_->try_receive(buffer, capacity, got, priority);
    }

private:
    bool blocking_;
    std::unique_ptr<bip::message_queue> out_, in_;
};


std::string prepare(control& c) {
    const std::string ping = queue_name(c, "ping"), pong = queue_name(c, "pong");
    note_shm_names(ping.c_str(), pong.c_str());
    try {
        bip::message_queue::remove(ping.c_str());
        bip::message_queue::remove(pong.c_str());
        bip::message_queue a(bip::create_only, ping.c_str(), depth(c.p), ping_message(c.p));
        bip::message_queue b(bip::create_only, pong.c_str(), depth(c.p), pong_message(c.p));
    } catch (const std::exception& e) {
        return std::string("boost_mq: creating the queues: ") + e.what();
    }
    return {};
}

void cleanup(control& c) {
    bip::message_queue::remove(queue_name(c, "ping").c_str());
    bip::message_queue::remove(queue_name(c, "pong").c_str());
}

int run_child(control& c, std::uint32_t index) { return run_roles<boost_mq_link>(c, index); }
std::string version() {
    return std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
           std::to_string(BOOST_VERSION % 100);
}

}  // namespace

const system_ops boost_mq_ops = {built_in, no_arena, prepare, cleanup, run_child, no_daemon, version};

}  // namespace shmkit::peers

#else  // Boost not found at configure time

namespace shmkit::peers {
namespace {
const char* missing() { return "boost_mq: not built in (install libboost-dev, then reconfigure)"; }
}  // namespace

const system_ops boost_mq_ops = missing_system_ops<missing>();

}  // namespace shmkit::peers

#endif
