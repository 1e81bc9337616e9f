// iceoryx (iceoryx_posh 2.x): an untyped publisher and subscriber per direction, with
// loan/publish and take/release. Each child initialises its own runtime under a unique name
// (its pid) once it has started: the children are re-executed, never forked, see peers.hpp.
// Blocking waits use a WaitSet on the subscriber's HAS_DATA state; busy ones poll take().
// Messages are copied into the loaned chunk and out of the taken one, as the other systems copy
// theirs; frames use the chunks in place. Publisher and subscriber keep iceoryx's defaults
// (subscriber queue of 256, the oldest chunk dropped when it is full: the writer never waits).
#include "peers.hpp"

#if defined(SHMKIT_PEERS_ICEORYX)

#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "iceoryx_versions.hpp"
#include "roles.hpp"
#include "roudi.hpp"

namespace shmkit::peers {
namespace {

class iceoryx_link {
public:
    static constexpr bool zero_copy = true;

    iceoryx_link(control& c, std::uint32_t index) : blocking_(c.p.blocking), what_(c.p.what) {
        iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn, iox::log::LogLevelOutput::kHideLogLevel);
        char app[64];
        roudi::app_name(::getpid(), app, sizeof app);
        iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, std::string(app)));
        const iox::capro::IdString_t instance(iox::cxx::TruncateToCapacity, std::string(c.p.name));
        const bool answers = what_ == kind::round_trip || what_ == kind::frame;
        const char* out = index == 0 ? "ping" : "pong";
        const char* in = index == 0 ? "pong" : "ping";
        if (index == 0 || answers) {
            publisher_.emplace(iox::capro::ServiceDescription{"shmkit-peers", instance,
                                                              iox::capro::IdString_t(iox::cxx::TruncateToCapacity, out)});
        }
        if (index != 0 || answers) {
            subscriber_.emplace(iox::capro::ServiceDescription{"shmkit-peers", instance,
                                                               iox::capro::IdString_t(iox::cxx::TruncateToCapacity, in)});
            if (blocking_) {
                waitset_.emplace();
                if (waitset_->attachState(*subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error()) {
                    fail("WaitSet::attachState failed");
                }
            }
        }
    }

    // Subscribed, and (when someone answers) someone subscribed to us: discovery runs in RouDi.
    void connected() {
        const std::uint64_t deadline = now_ns() + 30'000'000'000ull;
        while ((subscriber_ && subscriber_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) ||
               (publisher_ && what_ != kind::throughput && !publisher_->hasSubscribers())) {
            if (now_ns() > deadline) fail("publisher and subscriber not connected within 30 s");
            ::usleep(1000);
        }
    }

    void send(const void* data, std::size_t size) {
        void* chunk = loan(size);
        std::memcpy(chunk, data, size);
        publisher_->publish(chunk);
    }
    std::size_t receive(void* buffer, std::size_t capacity) {
        std::size_t size = 0;
        const std::uint8_t* chunk = take(&size);
        std::memcpy(buffer, chunk, size < capacity ? size : capacity);
        release();
        return size;
    }
    bool try_receive(void* buffer, std::size_t capacity) {
        auto r = subscriber_->take();
        if (r.has_error()) {
            if (r.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) fail("take failed");
            return false;
        }
        const void* chunk = r.value();
        const std::size_t size = iox::mepoo::ChunkHeader::fromUserPayload(chunk)->userPayloadSize();
        std::memcpy(buffer, chunk, size < capacity ? size : capacity);
        subscriber_->release(chunk);
        return true;
    }

    std::uint8_t* loan(std::size_t size) {
        auto r = publisher_->loan(static_cast<std::uint32_t>(size));
        if (r.has_error()) fail("loan of " + std::to_string(size) + " bytes failed (mempools exhausted?)");
        loaned_ = r.value();
        return static_cast<std::uint8_t*>(loaned_);
    }
    void publish(std::size_t /*size*/) { publisher_->publish(loaned_); }
    const std::uint8_t* take(std::size_t* size) {
        for (;;) {
            auto r = subscriber_->take();
            if (!r.has_error()) {
                taken_ = r.value();
                *size = iox::mepoo::ChunkHeader::fromUserPayload(taken_)->userPayloadSize();
                return static_cast<const std::uint8_t*>(taken_);
            }
            if (r.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) fail("take failed");
            if (blocking_) static_cast<void>(waitset_->wait());
            else cpu_relax();
        }
    }
    void release() { subscriber_->release(taken_); }

private:
    bool blocking_;
    kind what_;
    std::optional<iox::popo::UntypedPublisher> publisher_;
    std::optional<iox::popo::UntypedSubscriber> subscriber_;
    std::optional<iox::popo::WaitSet<>> waitset_;  // last: destroyed (detached) first
    void* loaned_ = nullptr;
    const void* taken_ = nullptr;
};

std::string prepare(control& c) { return roudi::ensure(c.p.dir); }
int run_child(control& c, std::uint32_t index) { return run_roles<iceoryx_link>(c, index); }
int daemon_pid() { return roudi::pid(); }
std::string version() { return ICEORYX_LATEST_RELEASE_VERSION; }

}  // namespace

const system_ops iceoryx_ops = {built_in, no_arena, prepare, no_cleanup, run_child, daemon_pid, version};

}  // namespace shmkit::peers

#else  // iceoryx not found at configure time: its benchmarks skip, saying how to get it

namespace shmkit::peers {
namespace {
const char* missing() { return "iceoryx: not built in (install iceoryx libiceoryx-posh-dev, then reconfigure)"; }
}  // namespace

const system_ops iceoryx_ops = missing_system_ops<missing>();

}  // namespace shmkit::peers

#endif
