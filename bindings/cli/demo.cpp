// `shmkit demo`: one writer and two reader processes on a broadcast segment for a few seconds;
// prints messages/s, latency percentiles and overruns, then removes the segment. The readers
// are this executable started again (`shmkit demo-reader`); they report through a small shared
// object of their own.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "cli.hpp"
#include "shmkit/broadcast.hpp"

namespace shmkit::cli {
namespace {

constexpr std::size_t max_samples = 1u << 20;

struct reader_result {
    std::uint64_t received = 0, lost = 0, overruns = 0, bad = 0, samples = 0;
    std::uint32_t latency_ns[max_samples];  // every message's latency until the array is full
};

struct shared_state {
    std::atomic<int> attached{0};
    std::atomic<int> done{0};
    reader_result readers[2];
};

struct options {
    double seconds = 3;
    std::size_t size = 64;
    double rate = 100000;  // messages per second; 0 = as fast as possible
    std::uint64_t capacity = 1u << 20;
    std::uint32_t spin = 0;
};

bool parse(args& a, options* o) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string& k = a[i];
        if (i + 1 >= a.size()) return false;
        const char* v = a[++i].c_str();
        char* end = nullptr;
        const double d = std::strtod(v, &end);
        // Finite and bounded, so that every conversion below is defined and the demo ends: a
        // NaN number of seconds never compared as elapsed, an infinite rate printed negative.
        if (end == v || *end != '\0' || !std::isfinite(d) || d < 0 || d > 1e12) {
            std::fprintf(stderr, "shmkit demo: %s wants a number from 0 to 1e12, not '%s'\n", k.c_str(), v);
            return false;
        }
        if (k == "--seconds") o->seconds = d;
        else if (k == "--size") o->size = static_cast<std::size_t>(d);
        else if (k == "--rate") o->rate = d;
        else if (k == "--capacity") o->capacity = static_cast<std::uint64_t>(d);
        else if (k == "--spin") o->spin = static_cast<std::uint32_t>(d);
        else return false;
    }
    return o->size >= 16;
}

// The readers' report: the object "<segment>-state", holding one shared_state.
class state_object {
public:
    bool create(const std::string& segment) {
        name_ = segment + "-state";
        if (os::shm_create(name_.c_str(), sizeof(shared_state), os::create_options{}, &m_) != errc::ok ||
            os::shm_link(m_, name_.c_str()) != errc::ok) {
            return false;
        }
        owner_ = true;
        state_ = new (m_.address) shared_state();
        return true;
    }
    bool open(const std::string& segment) {
        name_ = segment + "-state";
        if (os::shm_open(name_.c_str(), os::access::read_write, &m_) != errc::ok || m_.size < sizeof(shared_state)) return false;
        state_ = static_cast<shared_state*>(m_.address);
        return true;
    }
    ~state_object() {
        os::shm_close(&m_);
        if (owner_) static_cast<void>(os::shm_unlink(name_.c_str()));
    }
    shared_state* operator->() const { return state_; }

private:
    std::string name_;
    os::mapping m_{};
    shared_state* state_ = nullptr;
    bool owner_ = false;
};

int run_reader(const char* name, int index, std::uint32_t spin) {
    state_object st;
    if (!st.open(name) || index < 0 || index > 1) return 3;
    reader_result* out = &st->readers[index];
    broadcast_reader_options ro;
    ro.wait.spin = spin;
    auto r = broadcast_reader::open(name, ro);
    if (!r) return 3;
    st->attached.fetch_add(1);
    std::vector<std::uint8_t> buf(r->max_message());
    std::uint64_t expected = 0;
    bool first = true;
    for (;;) {
        auto m = r->read(buf.data(), buf.size(), std::chrono::milliseconds(50));
        const std::uint64_t now = os::monotonic_ns();
        if (!m) {
            if (m.error() == errc::stale) continue;  // lapped on every attempt: counted with the next message
            if (m.error() == errc::timeout && st->done.load() == 0) continue;
            if (m.error() == errc::timeout || m.error() == errc::empty) break;
            return 4;
        }
        if (m->lost != 0) {  // the writer lapped this reader: m is the oldest message it kept
            out->lost += m->lost;
            ++out->overruns;
            expected += m->lost;
        }
        std::uint64_t seq, sent;
        std::memcpy(&seq, buf.data(), 8);
        std::memcpy(&sent, buf.data() + 8, 8);
        if (first) expected = seq, first = false;
        if (seq != expected || m->seq != seq) ++out->bad;
        expected = seq + 1;
        ++out->received;
        if (out->samples < max_samples) out->latency_ns[out->samples++] = static_cast<std::uint32_t>(std::min<std::uint64_t>(now - sent, 0xFFFFFFFFu));
    }
    return 0;
}

std::string percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) return "-";
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    char buf[32];
    const double us = v[i] / 1000.0;
    std::snprintf(buf, sizeof buf, us < 100 ? "%.1f us" : "%.0f us", us);
    return buf;
}

}  // namespace

// demo-reader SEGMENT INDEX SPIN
int cmd_demo_reader(args a) {
    if (a.size() != 3) return exit_usage;
    return run_reader(a[0].c_str(), std::atoi(a[1].c_str()), static_cast<std::uint32_t>(std::strtoul(a[2].c_str(), nullptr, 10)));
}

int cmd_demo(args a) {
    options o;
    if (wants_help(a)) {
        std::puts("usage: shmkit demo [--seconds 3] [--size 64] [--rate 100000] [--capacity 1048576] [--spin 0]\n\n"
                  "Creates a broadcast segment, starts two reader processes that block in read(), and\n"
                  "writes --size byte messages at --rate messages/s (0: as fast as possible) for\n"
                  "--seconds. Prints the writer's rate, each reader's received/lost counts, overruns,\n"
                  "torn or out-of-order messages (always 0) and latency percentiles (writer's send to\n"
                  "reader's receive, monotonic clock), then removes the segment.");
        return exit_ok;
    }
    if (!parse(a, &o)) {
        std::fputs("shmkit demo: bad options (see shmkit demo --help)\n", stderr);
        return exit_usage;
    }
    const std::string name = "/shmkit-demo-" + std::to_string(os::self().pid);
    broadcast_config config;
    config.capacity = o.capacity;
    auto w = broadcast_writer::create(name.c_str(), config);
    if (!w) {
        std::fprintf(stderr, "shmkit demo: create %s: %s\n", name.c_str(), to_string(w.error()));
        return exit_failed;
    }
    if (o.size > w->max_message()) {
        std::fprintf(stderr, "shmkit demo: --size above the ring's max message (%llu)\n",
                     static_cast<unsigned long long>(w->max_message()));
        static_cast<void>(segment::remove(name.c_str()));
        return exit_usage;
    }
    state_object st;
    if (!st.create(name)) {
        std::fprintf(stderr, "shmkit demo: cannot create %s-state\n", name.c_str());
        static_cast<void>(segment::remove(name.c_str()));
        return exit_failed;
    }
    std::intptr_t readers[2];
    for (int i = 0; i < 2; ++i) {
        readers[i] = start_self({"demo-reader", name, std::to_string(i), std::to_string(o.spin)});
        if (readers[i] == -1) {
            std::fprintf(stderr, "shmkit demo: cannot start a reader process\n");
            return exit_failed;
        }
    }
    // A reader that cannot attach exits at once; ten seconds is ample for one that can.
    const std::uint64_t attach_deadline = os::monotonic_ns() + 10'000'000'000ull;
    while (st->attached.load() != 2) {
        if (os::monotonic_ns() > attach_deadline) {
            std::fprintf(stderr, "shmkit demo: the readers did not attach\n");
            st->done.store(1);
            static_cast<void>(segment::remove(name.c_str()));
            return exit_failed;
        }
        os::yield();
    }

    std::printf("shmkit demo: 1 writer -> 2 readers on %s (%s ring), %zu-byte messages, %s for %.1f s\n",
                name.c_str(), human_bytes(config.capacity).c_str(), o.size,
                o.rate > 0 ? (std::to_string(static_cast<long long>(o.rate)) + " msg/s").c_str() : "full speed",
                o.seconds);
    std::fflush(stdout);
    std::vector<std::uint8_t> msg(o.size, 0x5A);
    const std::uint64_t start = os::monotonic_ns();
    const auto duration = static_cast<std::uint64_t>(o.seconds * 1e9);
    const double interval = o.rate > 0 ? 1e9 / o.rate : 0;
    std::uint64_t sent = 0;
    for (;;) {
        const std::uint64_t now = os::monotonic_ns();
        if (now - start >= duration) break;
        if (interval > 0 && static_cast<double>(now - start) < static_cast<double>(sent) * interval) {
            cpu_relax();
            continue;
        }
        std::memcpy(msg.data(), &sent, 8);
        std::memcpy(msg.data() + 8, &now, 8);
        if (w->write(msg.data(), msg.size()) != errc::ok) break;
        ++sent;
    }
    const double elapsed = static_cast<double>(os::monotonic_ns() - start) / 1e9;
    st->done.store(1);
    int rc = exit_ok;
    for (std::intptr_t p : readers) {
        if (wait_for(p) != 0) rc = exit_failed;
    }
    std::printf("writer   %12llu messages  %10.0f msg/s\n", static_cast<unsigned long long>(sent),
                static_cast<double>(sent) / elapsed);
    for (int i = 0; i < 2; ++i) {
        reader_result& r = st->readers[i];
        std::vector<std::uint32_t> lat(r.latency_ns, r.latency_ns + r.samples);
        std::printf("reader %d %12llu received %10llu lost in %llu overruns, %llu torn/out of order; "
                    "latency p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
                    i + 1, static_cast<unsigned long long>(r.received), static_cast<unsigned long long>(r.lost),
                    static_cast<unsigned long long>(r.overruns), static_cast<unsigned long long>(r.bad),
                    percentile(lat, 0.5).c_str(), percentile(lat, 0.9).c_str(), percentile(lat, 0.99).c_str(),
                    percentile(lat, 0.999).c_str(), percentile(lat, 1.0).c_str());
        if (r.bad != 0 || r.received + r.lost != sent) rc = exit_failed;
    }
    w = broadcast_writer{};
    static_cast<void>(segment::remove(name.c_str()));
    std::printf("segment %s removed; %s\n", name.c_str(), rc == exit_ok ? "ok" : "FAILED");
    return rc;
}

}  // namespace shmkit::cli
