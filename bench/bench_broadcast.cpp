// broadcast: cross-process round trip (busy-poll and blocking), writer throughput as readers
// are added, and wake-ups of idle blocked readers. Each result carries its ratio to a floor
// measured in the same run (floors.cpp).
#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "shmkit/broadcast.hpp"

namespace shmkit::bench {
namespace {

constexpr std::uint64_t ring_capacity = 1u << 20;
constexpr std::uint64_t ring_bytes = broadcast_ring_offset + ring_capacity;

// Two broadcast rings in one anonymous shared mapping: ping (parent -> child) and pong.
struct rings {
    alignas(4096) std::uint8_t ping[ring_bytes];
    alignas(4096) std::uint8_t pong[ring_bytes];
    std::atomic<int> ready{0};
};

template <bool Blocking>
result<message_info> receive(broadcast_reader& r, std::vector<std::uint8_t>& buf) {
    for (;;) {
        auto m = Blocking ? r.read(buf.data(), buf.size(), wait_forever) : r.try_read(buf.data(), buf.size());
        if (m || m.error() != errc::empty) return m;
        cpu_relax();
    }
}

// The peer echoes every message back until it receives an empty one.
// Blocking round trips measure the sleeping path itself: no spin before sleeping.
broadcast_reader_options no_spin() {
    broadcast_reader_options o;
    o.wait.spin = 0;
    return o;
}

template <bool Blocking>
void echo(rings* r) {
    auto in = broadcast_reader::attach(r->ping, ring_bytes, no_spin());
    auto out = broadcast_writer::attach(r->pong, ring_bytes);
    if (!in || !out) std::abort();
    std::vector<std::uint8_t> buf(in->max_message());
    r->ready.store(1);
    for (;;) {
        auto m = receive<Blocking>(*in, buf);
        if (!m || m->size == 0) return;
        static_cast<void>(out->write(buf.data(), m->size));
    }
}

template <bool Blocking>
void BM_Broadcast_RoundTrip(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    // Floors with the same payload moved each way, right before and right after our loop.
    const double floor_before = Blocking ? measure_futex_rtt_ns(size) : measure_atomic_rtt_ns(size);
    auto* r = shared_new<rings>();
    broadcast_config config;
    config.capacity = ring_capacity;
    auto ping = broadcast_writer::format(r->ping, ring_bytes, config);
    static_cast<void>(broadcast_writer::format(r->pong, ring_bytes, config));  // the peer writes pong
    std::uint64_t elapsed = 0;
    pin_to_cpu(0);
    {
        peer child(1, [r] { echo<Blocking>(r); });
        auto back = broadcast_reader::attach(r->pong, ring_bytes, no_spin());
        while (r->ready.load() == 0) cpu_relax();
        std::vector<std::uint8_t> msg(size, 7), buf(back->max_message());
        const std::uint64_t start = os::monotonic_ns();
        for (auto _ : state) {
            static_cast<void>(ping->write(msg.data(), msg.size()));
            benchmark::DoNotOptimize(receive<Blocking>(*back, buf));
        }
        elapsed = os::monotonic_ns() - start;
        static_cast<void>(ping->write("", 0));
    }
    unpin();
    ping = broadcast_writer{};
    shared_delete(r);
    const double floor = (floor_before + (Blocking ? measure_futex_rtt_ns(size) : measure_atomic_rtt_ns(size))) / 2;
    const double rtt = static_cast<double>(elapsed) / static_cast<double>(state.iterations());
    report_round_trip(state, rtt, floor);
}
BENCHMARK_TEMPLATE(BM_Broadcast_RoundTrip, false)->Name("BM_Broadcast_RoundTrip_BusyPoll")
    ->Arg(8)->Arg(64)->Arg(4096)->UseRealTime()->MinTime(0.5);
BENCHMARK_TEMPLATE(BM_Broadcast_RoundTrip, true)->Name("BM_Broadcast_RoundTrip_Blocking")
    ->Arg(8)->Arg(64)->Arg(4096)->UseRealTime()->MinTime(0.5);

// Writer throughput (64-byte messages) with 0..4 reader processes busy-reading the same ring.
// Measured in the writer's own CPU time, so the figure shows what readers cost the writer
// (cache-line traffic), not how the 2-core machine's scheduler shares the CPUs.
double g_throughput_no_readers = 0;

struct reader_fleet {
    alignas(4096) std::uint8_t ring[ring_bytes];
    std::atomic<int> attached{0};
    std::atomic<int> stop{0};
    std::atomic<std::uint64_t> received{0};
};

void BM_Broadcast_WriterThroughput(benchmark::State& state) {
    const int readers = static_cast<int>(state.range(0));
    auto* f = shared_new<reader_fleet>();
    broadcast_config config;
    config.capacity = ring_capacity;
    auto w = broadcast_writer::format(f->ring, ring_bytes, config);
    double cpu = 0;
    {
        std::vector<std::unique_ptr<peer>> fleet;
        for (int i = 0; i < readers; ++i) {
            fleet.push_back(std::make_unique<peer>(-1, [f] {
                auto r = broadcast_reader::attach(f->ring, ring_bytes);
                if (!r) std::abort();
                std::vector<std::uint8_t> buf(r->max_message());
                f->attached.fetch_add(1);
                std::uint64_t got = 0;
                while (f->stop.load(std::memory_order_relaxed) == 0) {
                    if (r->try_read(buf.data(), buf.size())) ++got;
                }
                f->received.fetch_add(got);
            }));
        }
        while (f->attached.load() != readers) cpu_relax();
        std::uint8_t msg[64] = {};
        const double cpu_start = thread_cpu_seconds();
        for (auto _ : state) static_cast<void>(w->write(msg, sizeof msg));
        cpu = thread_cpu_seconds() - cpu_start;
        f->stop.store(1);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    const double rate = static_cast<double>(state.iterations()) / cpu;
    report_ratio_to_no_readers(state, readers, rate, &g_throughput_no_readers);
    state.counters["readers_received"] = static_cast<double>(f->received.load());
    // What share of the messages written each reader received (the rest it was lapped past).
    if (readers > 0) {
        state.counters["received_share"] = static_cast<double>(f->received.load()) /
                                           (static_cast<double>(state.iterations()) * readers);
    }
    w = broadcast_writer{};
    shared_delete(f);
}
BENCHMARK(BM_Broadcast_WriterThroughput)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->MinTime(0.5);

// Blocked readers on an idle ring for one second: count how often the kernel scheduled them.
// The design target is zero (no polling, no periodic wake-ups).
std::uint64_t context_switches(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    std::uint64_t total = 0;
    while (std::getline(status, line)) {
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
            total += std::stoull(line.substr(line.find(':') + 1));
        }
    }
    return total;
}

void BM_Broadcast_IdleWakeups(benchmark::State& state) {
    auto* f = shared_new<reader_fleet>();
    auto w = broadcast_writer::format(f->ring, ring_bytes, broadcast_config{ring_capacity, 0});
    double wakeups_per_second = 0;
    for (auto _ : state) {
        std::vector<std::unique_ptr<peer>> fleet;
        for (int i = 0; i < 4; ++i) {
            fleet.push_back(std::make_unique<peer>(-1, [f] {
                auto r = broadcast_reader::attach(f->ring, ring_bytes);
                std::uint8_t buf[64];
                f->attached.fetch_add(1);
                static_cast<void>(r->read(buf, sizeof buf, wait_forever));  // until the final message
            }));
        }
        while (f->attached.load() != 4) cpu_relax();
        os::sleep_ns(100'000'000);  // let them settle into the kernel
        std::uint64_t before = 0, after = 0;
        for (auto& p : fleet) before += context_switches(p->pid());
        os::sleep_ns(1'000'000'000);
        for (auto& p : fleet) after += context_switches(p->pid());
        wakeups_per_second = static_cast<double>(after - before) / 4.0;
        static_cast<void>(w->write("bye", 3));
        f->attached.store(0);
    }
    state.counters["wakeups_per_reader_per_s"] = wakeups_per_second;
    w = broadcast_writer{};
    shared_delete(f);
}
BENCHMARK(BM_Broadcast_IdleWakeups)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace shmkit::bench
