// ZeroMQ over ipc:// (a Unix socket in the run's scratch directory): a PAIR socket between
// leader and follower for round trips, frames and idle; PUB/SUB for the writer and its readers.
// Blocking waits are a plain zmq_recv(); busy ones loop on zmq_recv(ZMQ_DONTWAIT). Each
// process has its own context (with its I/O thread, pinned with the process). ZeroMQ copies:
// zmq_send copies the message in, zmq_recv copies it out, the socket carries it in between.
#include "peers.hpp"

#if defined(SHMKIT_PEERS_ZEROMQ)

#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "roles.hpp"

namespace shmkit::peers {
namespace {

std::string endpoint_path(const control& c) {
    return std::string(c.p.dir) + "/" + std::to_string(c.p.serial) + (c.p.what == kind::throughput ? ".pub" : ".pair");
}

class zeromq_link : public copies_only {
public:
    static constexpr bool zero_copy = false;

    zeromq_link(control& c, std::uint32_t index) : blocking_(c.p.blocking) {
        context_ = zmq_ctx_new();
        if (context_ == nullptr) fail(std::string("zmq_ctx_new: ") + zmq_strerror(errno));
        const bool broadcast = c.p.what == kind::throughput;
        socket_ = zmq_socket(context_, broadcast ? (index == 0 ? ZMQ_PUB : ZMQ_SUB) : ZMQ_PAIR);
        if (socket_ == nullptr) fail(std::string("zmq_socket: ") + zmq_strerror(errno));
        const int linger = 0;
        zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof linger);
        const std::string endpoint = "ipc://" + endpoint_path(c);
        if (index == 0) {
            if (zmq_bind(socket_, endpoint.c_str()) != 0) fail("zmq_bind " + endpoint + ": " + zmq_strerror(errno));
        } else {
            if (broadcast && zmq_setsockopt(socket_, ZMQ_SUBSCRIBE, "", 0) != 0) fail("ZMQ_SUBSCRIBE failed");
            // The endpoint exists once the leader has bound it; connect() retries by itself anyway.
            if (zmq_connect(socket_, endpoint.c_str()) != 0) fail("zmq_connect " + endpoint + ": " + zmq_strerror(errno));
        }
    }
    ~zeromq_link() {
        if (socket_ != nullptr) zmq_close(socket_);
        if (context_ != nullptr) zmq_ctx_term(context_);
    }
    zeromq_link(const zeromq_link&) = delete;
    zeromq_link& operator=(const zeromq_link&) = delete;
    void connected() {}

    void send(const void* data, std::size_t size) {
        while (zmq_send(socket_, data, size, 0) < 0) {
            if (errno != EINTR) fail(std::string("zmq_send: ") + zmq_strerror(errno));
        }
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        const int flags = blocking_ ? 0 : ZMQ_DONTWAIT;
        for (;;) {
            const int n = zmq_recv(socket_, buffer, capacity, flags);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno == EAGAIN) cpu_relax();
            else if (errno != EINTR) fail(std::string("zmq_recv: ") + zmq_strerror(errno));
        }
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        const int n = zmq_recv(socket_, buffer, capacity, ZMQ_DONTWAIT);
        if (n >= 0) return true;
        if (errno != EAGAIN && errno != EINTR) fail(std::string("zmq_recv: ") + zmq_strerror(errno));
        return false;
    }

private:
    bool blocking_;
    void* context_ = nullptr;
    void* socket_ = nullptr;
};

std::string prepare(control&) { return {}; }
void cleanup(control& c) { static_cast<void>(::unlink(endpoint_path(c).c_str())); }
int run_child(control& c, std::uint32_t index) { return run_roles<zeromq_link>(c, index); }
std::string version() {
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace

const system_ops zeromq_ops = {built_in, no_arena, prepare, cleanup, run_child, no_daemon, version};

}  // namespace shmkit::peers

#else  // libzmq not found at configure time

namespace shmkit::peers {
namespace {
const char* missing() { return "zeromq: not built in (install libzmq3-dev, then reconfigure)"; }
}  // namespace

const system_ops zeromq_ops = missing_system_ops<missing>();

}  // namespace shmkit::peers

#endif
