// `shmkit demo`: one writer and two reader processes on a broadcast segment for a few seconds;
// prints messages/s, latency percentiles and overruns, then removes the segment. The readers
// are this executable started again (`shmkit demo-reader`); they report through a small shared
// object of their own. SIGINT or SIGTERM (Ctrl-C) stops the demo early: the readers exit and the
// segments are removed all the same.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
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
    double size = 64;
    double rate = 100000;  // messages per second; 0 = as fast as possible
    double capacity = 1u << 20;
    double spin = 0;
};

// Every option is a finite number in [0, 1e12], so that every conversion below is defined and the
// demo ends: a NaN number of seconds never compared as elapsed, an infinite rate printed negative.
std::string bounded_number(std::string& text) {
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !std::isfinite(d) || d < 0 || d > 1e12) {
        return "wants a number from 0 to 1e12, not '" + text + "'";
    }
    return {};
}

// The signal that asked the demo (or a reader) to stop, or 0.
volatile std::sig_atomic_t stop_signal = 0;
extern "C" void on_stop_signal(int signal) { stop_signal = signal; }
void catch_stop_signals() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
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
    const std::intptr_t parent = current_parent();
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
    while (stop_signal == 0) {
        auto m = r->read(buf.data(), buf.size(), std::chrono::milliseconds(50));
        const std::uint64_t now = os::monotonic_ns();
        if (!m) {
            if (m.error() == errc::stale || m.error() == errc::interrupted) continue;  // lapped on every attempt: counted with the next message
            if (m.error() == errc::timeout && st->done.load() == 0) {
                if (!still_parent(parent)) break;  // the writer died without a word
                continue;
            }
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

int run_demo(const options& o);

}  // namespace

void add_demo_reader(CLI::App& app, int* status) {
    // demo-reader SEGMENT INDEX SPIN
    CLI::App* cmd = app.add_subcommand("demo-reader", "")->group("");  // hidden
    struct arguments {
        std::string segment;
        int index = 0;
        std::uint32_t spin = 0;
    };
    auto a = std::make_shared<arguments>();
    cmd->add_option("SEGMENT", a->segment)->required();
    cmd->add_option("INDEX", a->index)->required();
    cmd->add_option("SPIN", a->spin)->required();
    cmd->callback([a, status] {
        catch_stop_signals();
        *status = run_reader(a->segment.c_str(), a->index, a->spin);
    });
}

void add_demo(CLI::App& app, int* status) {
    CLI::App* cmd = add_command(
        app, "demo", "demo [--seconds 3] [--size 64] [--rate 100000] [--capacity 1048576] [--spin 0]",
        "A writer and two reader processes; prints rates and latency",
        "Creates a broadcast segment, starts two reader processes that block in read(), and\n"
        "writes --size byte messages at --rate messages/s (0: as fast as possible) for\n"
        "--seconds. Prints the writer's rate, each reader's received/lost counts, overruns,\n"
        "torn or out-of-order messages (always 0) and latency percentiles (writer's send to\n"
        "reader's receive, monotonic clock), then removes the segment. Every option is a\n"
        "number from 0 to 1e12 (--size at least 16). SIGINT or SIGTERM (Ctrl-C) ends it early:\n"
        "the readers exit, the segment is removed and the exit status is 128 + the signal.");
    auto o = std::make_shared<options>();
    const CLI::Validator number(bounded_number, "0..1e12");
    cmd->add_option("--seconds", o->seconds, "How long to write")->check(number)->capture_default_str();
    cmd->add_option("--size", o->size, "Message size in bytes (at least 16)")->check(number)->capture_default_str();
    cmd->add_option("--rate", o->rate, "Messages per second (0: as fast as possible)")->check(number)->capture_default_str();
    cmd->add_option("--capacity", o->capacity, "Ring capacity in bytes")->check(number)->capture_default_str();
    cmd->add_option("--spin", o->spin, "Reader spins before blocking")->check(number)->capture_default_str();
    cmd->callback([o, status] {
        if (o->size < 16) {
            std::fputs("shmkit demo: --size: wants at least 16 (a message carries its sequence and send time)\n", stderr);
            *status = exit_usage;
            return;
        }
        *status = run_demo(*o);
    });
}

namespace {

// Tells the first `started` readers to finish and waits for them: whether all exited with 0.
bool end_readers(state_object& st, const std::intptr_t* readers, int started) {
    st->done.store(1);
    bool all_ok = true;
    for (int i = 0; i < started; ++i) all_ok = wait_for(readers[i]) == 0 && all_ok;
    return all_ok;
}

int run_demo(const options& o) {
    catch_stop_signals();
    const std::string name = "/shmkit-demo-" + std::to_string(os::self().pid);
    const auto size = static_cast<std::size_t>(o.size);
    broadcast_config config;
    config.capacity = static_cast<std::uint64_t>(o.capacity);
    auto w = broadcast_writer::create(name.c_str(), config);
    if (!w) {
        std::fprintf(stderr, "shmkit demo: create %s: %s\n", name.c_str(), to_string(w.error()));
        return exit_failed;
    }
    // Whichever way this function returns, the segment goes (the state object removes itself).
    struct remover {
        const std::string& name;
        broadcast_writer& w;
        bool done = false;
        void now() {
            if (done) return;
            w = broadcast_writer{};
            static_cast<void>(segment::remove(name.c_str()));
            done = true;
        }
        ~remover() { now(); }
    } remove_segment{name, *w};
    if (size > w->max_message()) {
        std::fprintf(stderr, "shmkit demo: --size above the ring's max message (%llu)\n",
                     static_cast<unsigned long long>(w->max_message()));
        return exit_usage;
    }
    state_object st;
    if (!st.create(name)) {
        std::fprintf(stderr, "shmkit demo: cannot create %s-state\n", name.c_str());
        return exit_failed;
    }
    std::intptr_t readers[2];
    for (int i = 0; i < 2; ++i) {
        readers[i] = start_self({"demo-reader", name, std::to_string(i), std::to_string(static_cast<std::uint32_t>(o.spin))});
        if (readers[i] == -1) {
            std::fprintf(stderr, "shmkit demo: cannot start a reader process\n");
            static_cast<void>(end_readers(st, readers, i));
            return exit_failed;
        }
    }
    // Stopped by a signal: the readers end, the segment goes, 128 + the signal.
    const auto stop_early = [&] {
        const int signal = stop_signal;
        static_cast<void>(end_readers(st, readers, 2));
        remove_segment.now();
        std::printf("stopped by signal %d; segment %s removed\n", signal, name.c_str());
        return 128 + signal;
    };
    // A reader that cannot attach exits at once; ten seconds is ample for one that can.
    const std::uint64_t attach_deadline = os::monotonic_ns() + 10'000'000'000ull;
    while (st->attached.load() != 2) {
        if (stop_signal != 0) return stop_early();
        if (os::monotonic_ns() > attach_deadline) {
            std::fprintf(stderr, "shmkit demo: the readers did not attach\n");
            static_cast<void>(end_readers(st, readers, 2));
            return exit_failed;
        }
        os::yield();
    }

    std::printf("shmkit demo: 1 writer -> 2 readers on %s (%s ring), %zu-byte messages, %s for %.1f s\n",
                name.c_str(), human_bytes(config.capacity).c_str(), size,
                o.rate > 0 ? (std::to_string(static_cast<long long>(o.rate)) + " msg/s").c_str() : "full speed",
                o.seconds);
    std::fflush(stdout);
    std::vector<std::uint8_t> msg(size, 0x5A);
    const std::uint64_t start = os::monotonic_ns();
    const auto duration = static_cast<std::uint64_t>(o.seconds * 1e9);
    const double interval = o.rate > 0 ? 1e9 / o.rate : 0;
    std::uint64_t sent = 0;
    while (stop_signal == 0) {
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
    if (stop_signal != 0) return stop_early();
    const double elapsed = static_cast<double>(os::monotonic_ns() - start) / 1e9;
    int rc = end_readers(st, readers, 2) ? exit_ok : exit_failed;
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
    remove_segment.now();
    std::printf("segment %s removed; %s\n", name.c_str(), rc == exit_ok ? "ok" : "FAILED");
    return rc;
}

}  // namespace

}  // namespace shmkit::cli
