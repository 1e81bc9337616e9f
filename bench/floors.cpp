// The physical floors: what two processes on two cores cost with nothing of shmkit's in the
// way. Every shmkit result is reported as a ratio to the matching floor from the same run, so
// the figures mean something on a noisy shared machine.
#include <cstring>
#include <map>
#include <vector>

#include "harness.hpp"
#include "shmkit/detail/atomic.hpp"
#include "shmkit/os.hpp"

namespace shmkit::bench {
namespace {

struct alignas(64) ping_line {
    atomic_u32 word;  // odd: ping outstanding, even: answered
    std::uint8_t pad[60];
    alignas(64) std::uint8_t ping[8192];  // payload each way, for the floors with data
    alignas(64) std::uint8_t pong[8192];
};

std::map<std::size_t, double> g_memcpy_floor;

// One round trip = the parent makes the word odd, the child makes it even again. With
// `bytes` > 0 each side also memcpys that many bytes into shared memory before flipping the
// word and out of it after seeing the flip: the least any cross-process transfer can cost.
template <bool Blocking>
double run_pingpong(std::uint64_t rounds, std::size_t bytes = 0) {
    auto* line = shared_new<ping_line>();
    pin_to_cpu(0);
    static std::uint8_t scratch[8192];
    peer child(1, [&] {
        std::uint32_t seen = 0;
        for (;;) {
            std::uint32_t v = line->word.load(order::acquire);
            while (v == seen) {
                if (Blocking) static_cast<void>(os::futex_wait(&line->word.raw, seen, os::forever));
                else cpu_relax();
                v = line->word.load(order::acquire);
            }
            if (v == 0xFFFFFFFFu) return;
            if (bytes != 0) {
                std::memcpy(scratch, line->ping, bytes);
                std::memcpy(line->pong, scratch, bytes);
            }
            line->word.store(v + 1, order::release);
            if (Blocking) os::futex_wake_all(&line->word.raw);
            seen = v + 1;
        }
    });
    const std::uint64_t start = os::monotonic_ns();
    std::uint32_t v = 0;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        if (bytes != 0) std::memcpy(line->ping, scratch, bytes);
        line->word.store(++v, order::release);
        if (Blocking) os::futex_wake_all(&line->word.raw);
        ++v;
        while (line->word.load(order::acquire) != v) {
            if (Blocking) static_cast<void>(os::futex_wait(&line->word.raw, v - 1, os::forever));
            else cpu_relax();
        }
        if (bytes != 0) {
            std::memcpy(scratch, line->pong, bytes);
            benchmark::ClobberMemory();
        }
    }
    const double ns = static_cast<double>(os::monotonic_ns() - start) / static_cast<double>(rounds);
    line->word.store(0xFFFFFFFFu, order::release);
    os::futex_wake_all(&line->word.raw);
    unpin();
    return ns;
}

void BM_Floor_AtomicPingPong(benchmark::State& state) {
    double ns = 0;
    for (auto _ : state) {
        ns = run_pingpong<false>(1'000'000);
        state.SetIterationTime(ns * 1e-9);
    }
    state.counters["rtt_ns"] = ns;
}
BENCHMARK(BM_Floor_AtomicPingPong)->UseManualTime()->Iterations(1)->Unit(benchmark::kNanosecond);

void BM_Floor_AtomicPingPongWithCopies(benchmark::State& state) {
    double ns = 0;
    for (auto _ : state) {
        ns = run_pingpong<false>(200'000, static_cast<std::size_t>(state.range(0)));
        state.SetIterationTime(ns * 1e-9);
    }
    state.counters["rtt_ns"] = ns;
}
BENCHMARK(BM_Floor_AtomicPingPongWithCopies)->Arg(8)->Arg(64)->Arg(4096)->UseManualTime()->Iterations(1);

void BM_Floor_FutexPingPong(benchmark::State& state) {
    double ns = 0;
    for (auto _ : state) {
        ns = run_pingpong<true>(20'000);
        state.SetIterationTime(ns * 1e-9);
    }
    state.counters["rtt_ns"] = ns;
}
BENCHMARK(BM_Floor_FutexPingPong)->UseManualTime()->Iterations(1)->Unit(benchmark::kMicrosecond);

void BM_Floor_Memcpy(benchmark::State& state) {
    const auto bytes = static_cast<std::size_t>(state.range(0));
    std::vector<std::uint8_t> src(bytes, 1), dst(bytes);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), bytes);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_Floor_Memcpy)->Arg(8)->Arg(64)->Arg(4096)->Arg(6220800);

}  // namespace

double measure_atomic_rtt_ns(std::size_t bytes) { return run_pingpong<false>(50'000, bytes); }
double measure_futex_rtt_ns(std::size_t bytes) { return run_pingpong<true>(2'000, bytes); }
double memcpy_floor_ns(std::size_t bytes) {
    auto it = g_memcpy_floor.find(bytes);
    if (it != g_memcpy_floor.end()) return it->second;
    std::vector<std::uint8_t> src(bytes, 1), dst(bytes);
    double best = 1e18;
    for (int round = 0; round < 5; ++round) {
        const std::uint64_t reps = bytes > (1u << 20) ? 50 : 100'000;
        const std::uint64_t start = os::monotonic_ns();
        for (std::uint64_t i = 0; i < reps; ++i) {
            std::memcpy(dst.data(), src.data(), bytes);
            benchmark::DoNotOptimize(dst.data());
            benchmark::ClobberMemory();
        }
        best = std::min(best, static_cast<double>(os::monotonic_ns() - start) / static_cast<double>(reps));
    }
    g_memcpy_floor[bytes] = best;
    return best;
}

}  // namespace shmkit::bench
