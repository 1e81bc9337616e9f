// `shmkit demo`: one writer and two reader processes on a broadcast segment for a few seconds;
// prints messages/s, latency percentiles and overruns, then removes the segment.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
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
        if (end == v || *end != '\0' || d < 0) return false;
        if (k == "--seconds") o->seconds = d;
        else if (k == "--size") o->size = static_cast<std::size_t>(d);
        else if (k == "--rate") o->rate = d;
        else if (k == "--capacity") o->capacity = static_cast<std::uint64_t>(d);
        else if (k == "--spin") o->spin = static_cast<std::uint32_t>(d);
        else return false;
    }
    return o->size >= 16;
}

void run_reader(const char* name, const options& o, shared_state* st, reader_result* out) {
    broadcast_reader_options ro;
    ro.wait.spin = o.spin;
    auto r = broadcast_reader::open(name, ro);
    if (!r) _exit(3);
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
            _exit(4);
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
    _exit(0);
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

int cmd_demo(args a) {
    options o;
    if (wants_help(a)) {
        std::puts("usage: shmkit demo [--seconds 3] [--size 64] [--rate 100000] [--capacity 1048576] [--spin 0]\n\n"
                  "Creates a broadcast segment, forks two reader processes that block in read(), and\n"
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
    const std::string name = "/shmkit-demo-" + std::to_string(::getpid());
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
    void* mem = ::mmap(nullptr, sizeof(shared_state), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return exit_failed;
    auto* st = new (mem) shared_state();
    pid_t pids[2];
    for (int i = 0; i < 2; ++i) {
        std::fflush(nullptr);
        pids[i] = ::fork();
        if (pids[i] == 0) run_reader(name.c_str(), o, st, &st->readers[i]);
    }
    while (st->attached.load() != 2) os::yield();

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
    for (pid_t p : pids) {
        int status = 0;
        ::waitpid(p, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = exit_failed;
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
    ::munmap(mem, sizeof(shared_state));
    std::printf("segment %s removed; %s\n", name.c_str(), rc == exit_ok ? "ok" : "FAILED");
    return rc;
}

}  // namespace shmkit::cli
