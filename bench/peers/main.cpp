// shmkit_bench_peers: every measurement × system as Peers/<measurement>/<system>, in a fixed
// order (within a measurement: shmkit_broadcast, or for frames shmkit_channel, first, then the
// floor, then the other shmkit systems and the peers).
//
// Ratios refer to figures from the same run. Each measurement of each system is made once per
// run and kept: a benchmark that needs a figure it has not reported yet (the reference system
// needs the floor, which is registered after it; or one left out by --benchmark_filter) has it
// measured then, and the benchmark that owns that figure later reports the same measurement
// instead of making another. So every system of a measurement is divided by the same floor and
// reference numbers, whatever the filter. Repetitions measure again.
//
// The time column is the p50 (latency), the writer's window (throughput) or the idle window.
//
// Flags besides Google Benchmark's: --peers_quick (a few hundred samples: for smoke tests only).
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness.hpp"
#include "peers.hpp"
#include "roudi.hpp"

namespace shmkit::peers {
namespace {

struct measurement {
    std::string token;
    kind what;
    std::uint32_t bytes;
    bool blocking;
    bool zero_copy;
    std::uint32_t readers;
    std::vector<system_id> systems;  // in registration order
};

bool g_quick = false;

std::vector<measurement> measurements() {
    using s = system_id;
    const std::vector<system_id> round_trips = {s::shmkit_broadcast, s::floor, s::shmkit_spsc, s::shmkit_channel,
                                                s::iceoryx, s::boost_mq, s::zeromq};
    const std::vector<system_id> frames = {s::shmkit_channel, s::floor, s::iceoryx, s::boost_mq, s::zeromq};
    const std::vector<system_id> broadcasts = {s::shmkit_broadcast, s::iceoryx, s::zeromq, s::boost_mq};
    std::vector<measurement> all = {
        {"busy_poll_rtt_64B", kind::round_trip, 64, false, false, 1, round_trips},
        {"busy_poll_rtt_4KiB", kind::round_trip, 4096, false, false, 1, round_trips},
        {"blocking_rtt_64B", kind::round_trip, 64, true, false, 1, round_trips},
        {"blocking_rtt_4KiB", kind::round_trip, 4096, true, false, 1, round_trips},
        {"frame_1080p_zero_copy", kind::frame, static_cast<std::uint32_t>(frame_bytes), false, true, 1, frames},
        {"frame_1080p_copy", kind::frame, static_cast<std::uint32_t>(frame_bytes), false, false, 1, frames},
    };
    for (std::uint32_t readers : {0u, 1u, 2u, 4u}) {
        all.push_back({"writer_throughput_" + std::to_string(readers) + "_readers", kind::throughput, 64, false, false,
                       readers, broadcasts});
    }
    all.push_back({"idle_wakeups", kind::idle, 64, true, false, 1, round_trips});
    return all;
}

// Registered, but not something the system can do: skipped with the reason.
const char* not_applicable(const measurement& m, system_id s) {
    if (m.what == kind::frame && m.zero_copy && s == system_id::boost_mq) {
        return "boost_mq: copy only (message_queue has no zero-copy calls)";
    }
    if (m.what == kind::frame && m.zero_copy && s == system_id::zeromq) {
        return "zeromq: copy only (ipc:// carries the bytes through a socket)";
    }
    if (m.what == kind::throughput && s == system_id::boost_mq) {
        return "boost_mq: a message queue hands each message to one receiver, not to every reader: "
               "it has no broadcast, so no writer-with-N-readers figure";
    }
    return nullptr;
}

params params_for(const measurement& m) {
    params p;
    p.what = m.what;
    p.blocking = m.blocking;
    p.zero_copy = m.zero_copy;
    p.bytes = m.bytes;
    p.readers = m.readers;
    switch (m.what) {
    case kind::round_trip:
        p.warmup = g_quick ? 100 : 2000;
        p.min_samples = g_quick ? 200 : 20'000;
        p.max_samples = g_quick ? 1000 : 100'000;
        p.sample_budget_ns = g_quick ? 10'000'000 : 300'000'000;
        break;
    case kind::frame:
        p.warmup = g_quick ? 3 : 10;
        p.min_samples = g_quick ? 5 : 100;
        p.max_samples = g_quick ? 20 : 1000;
        p.sample_budget_ns = g_quick ? 10'000'000 : 300'000'000;
        break;
    case kind::throughput:
        p.duration_ns = g_quick ? 50'000'000 : 500'000'000;
        break;
    case kind::idle:
        break;
    }
    return p;
}

struct kept {
    outcome result;
    bool reported = false;
};
std::map<std::string, kept> g_kept;

// The figures of `s` in `m`: kept from earlier in this run, else measured now. `own`: for the
// benchmark that reports them (which measures again if it reported them already: a repetition).
outcome obtain(const measurement& m, system_id s, bool own) {
    const std::string key = m.token + "/" + token(s);
    auto it = g_kept.find(key);
    if (it == g_kept.end() || (own && it->second.reported)) {
        kept fresh;
        if (const char* why = not_applicable(m, s)) fresh.result.error = why;
        else fresh.result = run_benchmark(s, params_for(m));
        it = g_kept.insert_or_assign(key, fresh).first;
    }
    if (own) it->second.reported = true;
    return it->second.result;
}

bool has(const measurement& m, system_id s) { return std::find(m.systems.begin(), m.systems.end(), s) != m.systems.end(); }

// shmkit_broadcast if the measurement has it, else its first shmkit_* system.
system_id reference_of(const measurement& m) {
    if (has(m, system_id::shmkit_broadcast)) return system_id::shmkit_broadcast;
    for (system_id s : m.systems) {
        if (std::strncmp(token(s), "shmkit_", 7) == 0) return s;
    }
    return system_id::shmkit_broadcast;
}

bool skipped(benchmark::State& state, const outcome& r) {
    if (r.error.empty()) return false;
    state.SkipWithError(r.error.c_str());
    for (auto _ : state) {
    }
    return true;
}

void latency(benchmark::State& state, const measurement& m, system_id s) {
    const outcome r = obtain(m, s, true);
    if (skipped(state, r)) return;
    for (auto _ : state) state.SetIterationTime(r.p50 * 1e-9);
    state.counters["p50_ns"] = r.p50;
    state.counters["p90_ns"] = r.p90;
    state.counters["p99_ns"] = r.p99;
    state.counters["mean_ns"] = r.mean;
    state.counters["samples"] = static_cast<double>(r.samples);
    if (has(m, system_id::floor)) {
        const outcome floor = s == system_id::floor ? r : obtain(m, system_id::floor, false);
        if (floor.error.empty() && floor.p50 > 0) {
            state.counters["floor_p50_ns"] = floor.p50;
            state.counters["ratio_to_floor"] = r.p50 / floor.p50;
        }
    }
    const system_id ref = reference_of(m);
    const outcome reference = s == ref ? r : obtain(m, ref, false);
    if (reference.error.empty() && reference.p50 > 0) state.counters["ratio_to_shmkit"] = r.p50 / reference.p50;
}

void throughput(benchmark::State& state, const measurement& m, system_id s) {
    const outcome r = obtain(m, s, true);
    if (skipped(state, r)) return;
    for (auto _ : state) state.SetIterationTime(r.wall_s);
    state.counters["msgs_per_s"] = r.msgs_per_s;
    state.counters["msgs_per_s_wall"] = r.msgs_per_s_wall;
    state.counters["received_share"] = r.received_share;
    state.counters["written"] = static_cast<double>(r.written);
    const system_id ref = reference_of(m);
    const outcome reference = s == ref ? r : obtain(m, ref, false);
    if (reference.error.empty() && reference.msgs_per_s > 0) state.counters["ratio_to_shmkit"] = r.msgs_per_s / reference.msgs_per_s;
}

void idle(benchmark::State& state, const measurement& m, system_id s) {
    const outcome r = obtain(m, s, true);
    if (skipped(state, r)) return;
    for (auto _ : state) state.SetIterationTime(r.wall_s);
    state.counters["wakeups_per_s"] = r.wakeups_per_s;
    if (r.daemon_wakeups_per_s >= 0) state.counters["daemon_wakeups_per_s"] = r.daemon_wakeups_per_s;
}

void register_all() {
    static const std::vector<measurement> all = measurements();
    for (const measurement& m : all) {
        for (system_id s : m.systems) {
            const std::string name = "Peers/" + m.token + "/" + token(s);
            const measurement* mp = &m;
            benchmark::internal::Benchmark* b = nullptr;
            switch (m.what) {
            case kind::round_trip:
            case kind::frame:
                b = benchmark::RegisterBenchmark(name.c_str(), [mp, s](benchmark::State& st) { latency(st, *mp, s); });
                b->Unit(m.what == kind::frame || m.blocking ? benchmark::kMicrosecond : benchmark::kNanosecond);
                break;
            case kind::throughput:
                b = benchmark::RegisterBenchmark(name.c_str(), [mp, s](benchmark::State& st) { throughput(st, *mp, s); });
                b->Unit(benchmark::kMillisecond);
                break;
            case kind::idle:
                b = benchmark::RegisterBenchmark(name.c_str(), [mp, s](benchmark::State& st) { idle(st, *mp, s); });
                b->Unit(benchmark::kMillisecond);
                break;
            }
            b->UseManualTime()->Iterations(1);
        }
    }
}

extern "C" void on_fatal_signal(int sig) {
    emergency_cleanup();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

}  // namespace
}  // namespace shmkit::peers

int main(int argc, char** argv) {
    using namespace shmkit::peers;
    if (argc >= 2 && std::strcmp(argv[1], child_flag) == 0) return child_main(argc, argv);

    int kept_args = 0;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--peers_quick") == 0) g_quick = true;
        else argv[kept_args++] = argv[i];
    }
    argc = kept_args;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    make_scratch_dir();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT}) ::signal(sig, on_fatal_signal);

    benchmark::AddCustomContext("cpu_model", cpu_model());
    benchmark::AddCustomContext("kernel", kernel_release());
    benchmark::AddCustomContext("iceoryx_version", ops_of(system_id::iceoryx).version());
    benchmark::AddCustomContext("boost_version", ops_of(system_id::boost_mq).version());
    benchmark::AddCustomContext("zeromq_version", ops_of(system_id::zeromq).version());
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    shmkit::peers::roudi::stop();
    remove_scratch_dir();
    return 0;
}
