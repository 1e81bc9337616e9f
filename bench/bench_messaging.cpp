// spsc, command, the block's rwlock and select, each beside the floor it is judged against.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "harness.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"

namespace shmkit::bench {
namespace {

constexpr std::uint64_t transfer = 2'000'000;  // messages per timed transfer

// ---- the upper bound: a plain fixed-size SPSC of 64-byte slots ----------------------------
// rigtorp-style: power-of-two slots, indices on separate lines, each side caching the other's.
struct plain_spsc {
    static constexpr std::uint64_t slots = 1u << 14;
    alignas(64) std::atomic<std::uint64_t> head{0};
    alignas(64) std::atomic<std::uint64_t> tail{0};
    alignas(64) std::uint8_t data[slots][64];
};

double run_plain_spsc() {
    auto* q = shared_new<plain_spsc>();
    pin_to_cpu(0);
    std::uint64_t start = 0, end = 0;
    {
        peer producer(1, [q] {
            std::uint8_t msg[64] = {};
            std::uint64_t head = 0, cached_tail = 0;
            for (std::uint64_t i = 0; i < transfer; ++i) {
                while (head - cached_tail == plain_spsc::slots) cached_tail = q->tail.load(std::memory_order_acquire);
                std::memcpy(q->data[head % plain_spsc::slots], msg, 64);
                q->head.store(++head, std::memory_order_release);
            }
        });
        std::uint8_t out[64];
        std::uint64_t tail = 0, cached_head = 0;
        start = os::monotonic_ns();
        for (std::uint64_t i = 0; i < transfer; ++i) {
            while (cached_head == tail) cached_head = q->head.load(std::memory_order_acquire);
            std::memcpy(out, q->data[tail % plain_spsc::slots], 64);
            benchmark::DoNotOptimize(out);
            q->tail.store(++tail, std::memory_order_release);
        }
        end = os::monotonic_ns();
    }
    unpin();
    shared_delete(q);
    return static_cast<double>(transfer) / (static_cast<double>(end - start) * 1e-9);
}

void BM_Floor_PlainSpsc64(benchmark::State& state) {
    double rate = 0;
    for (auto _ : state) {
        rate = run_plain_spsc();
        state.SetIterationTime(static_cast<double>(transfer) / rate);
    }
    state.counters["msgs_per_s"] = rate;
}
BENCHMARK(BM_Floor_PlainSpsc64)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// ---- spsc ----------------------------------------------------------------------------------

struct spsc_region {
    static constexpr std::uint64_t capacity = 1u << 20;
    alignas(4096) std::uint8_t bytes[spsc_ring_offset + capacity];
};

double run_spsc() {
    auto* r = shared_new<spsc_region>();
    spsc_config config;
    config.capacity = spsc_region::capacity;
    { auto formatted = spsc_producer::format(r->bytes, sizeof r->bytes, config); }  // the producer role is released again
    auto consumer = spsc_consumer::attach(r->bytes, sizeof r->bytes);
    pin_to_cpu(0);
    std::uint64_t start = 0, end = 0;
    {
        peer producer(1, [r] {
            auto p = spsc_producer::attach(r->bytes, sizeof r->bytes);
            std::uint8_t msg[64] = {};
            for (std::uint64_t i = 0; i < transfer; ++i) {
                while (p->try_push(msg, sizeof msg) != errc::ok) cpu_relax();
            }
        });
        std::uint8_t out[64];
        start = os::monotonic_ns();
        for (std::uint64_t i = 0; i < transfer; ++i) {
            while (!consumer->try_pop(out, sizeof out)) cpu_relax();
        }
        end = os::monotonic_ns();
    }
    unpin();
    consumer = spsc_consumer{};
    shared_delete(r);
    return static_cast<double>(transfer) / (static_cast<double>(end - start) * 1e-9);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Each iteration runs the plain ring and then spsc, back to back, so that both see the same
// machine state; the figures are the medians over iterations, the ratio the median of the
// pairs' ratios (on a shared VM one transfer can take twice as long as the next).
void BM_Spsc_Throughput64(benchmark::State& state) {
    std::vector<double> rates, floors, ratios;
    for (auto _ : state) {
        const double floor = run_plain_spsc();
        const double rate = run_spsc();
        state.SetIterationTime(static_cast<double>(transfer) / rate);
        rates.push_back(rate);
        floors.push_back(floor);
        ratios.push_back(rate / floor);
    }
    state.counters["msgs_per_s"] = median(rates);
    state.counters["plain_spsc_msgs_per_s"] = median(floors);
    state.counters["ratio_to_plain_spsc"] = median(ratios);
}
BENCHMARK(BM_Spsc_Throughput64)->UseManualTime()->Iterations(7)->Unit(benchmark::kMillisecond);

// ---- command ---------------------------------------------------------------------------------

struct command_region {
    static constexpr std::uint64_t capacity = 256u << 10;
    alignas(4096) std::uint8_t bytes[command_ring_offset + capacity];
};

void BM_Command_Throughput64(benchmark::State& state) {
    const int writers = static_cast<int>(state.range(0));
    const std::uint64_t per_writer = 500'000 / static_cast<std::uint64_t>(writers);
    double rate = 0;
    for (auto _ : state) {
        auto* r = shared_new<command_region>();
        command_config config;
        config.capacity = command_region::capacity;
        auto reader = command_reader::format(r->bytes, sizeof r->bytes, config);
        std::uint64_t start = 0, end = 0;
        {
            std::vector<std::unique_ptr<peer>> fleet;
            for (int w = 0; w < writers; ++w) {
                fleet.push_back(std::make_unique<peer>(-1, [r, per_writer] {
                    auto cw = command_writer::attach(r->bytes, sizeof r->bytes);
                    std::uint8_t msg[64] = {};
                    for (std::uint64_t i = 0; i < per_writer; ++i) {
                        if (cw->write(msg, sizeof msg, wait_forever) != errc::ok) std::abort();
                    }
                }));
            }
            std::uint8_t out[64];
            start = os::monotonic_ns();
            for (std::uint64_t i = 0; i < per_writer * static_cast<std::uint64_t>(writers); ++i) {
                if (!reader->read(out, sizeof out, wait_forever)) std::abort();
            }
            end = os::monotonic_ns();
        }
        reader = command_reader{};
        shared_delete(r);
        const double seconds = static_cast<double>(end - start) * 1e-9;
        rate = static_cast<double>(per_writer * static_cast<std::uint64_t>(writers)) / seconds;
        state.SetIterationTime(seconds);
    }
    state.counters["msgs_per_s"] = rate;
}
BENCHMARK(BM_Command_Throughput64)->Arg(1)->Arg(2)->Arg(4)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// ---- the block's rwlock ----------------------------------------------------------------------

struct block_region {
    alignas(4096) std::uint8_t bytes[64u << 10];
};

void BM_Rwlock_UncontendedShared(benchmark::State& state) {
    auto* r = shared_new<block_region>();
    block_config config;
    config.size = 4096;
    auto b = block::format(r->bytes, block::segment_size(config), config);
    for (auto _ : state) {
        if (b->lock_shared() != errc::ok) std::abort();
        b->unlock_shared();
    }
    b = block{};
    shared_delete(r);
}
BENCHMARK(BM_Rwlock_UncontendedShared);

void BM_Rwlock_UncontendedExclusive(benchmark::State& state) {
    auto* r = shared_new<block_region>();
    block_config config;
    config.size = 4096;
    auto b = block::format(r->bytes, block::segment_size(config), config);
    for (auto _ : state) {
        if (b->lock() != errc::ok) std::abort();
        b->unlock();
    }
    b = block{};
    shared_delete(r);
}
BENCHMARK(BM_Rwlock_UncontendedExclusive);

// Read locks per second with 1 or 2 reader processes (one per core), each holding the lock
// while it reads 256 bytes of the block.
void BM_Rwlock_ContendedReads(benchmark::State& state) {
    const int readers = static_cast<int>(state.range(0));
    auto* r = shared_new<block_region>();
    struct counters {
        std::atomic<std::uint64_t> ops{0};
        std::atomic<int> stop{0};
        std::atomic<int> ready{0};
    };
    auto* c = shared_new<counters>();
    block_config config;
    config.size = 4096;
    const std::uint64_t size = block::segment_size(config);
    auto owner = block::format(r->bytes, size, config);
    double rate = 0;
    for (auto _ : state) {
        c->ops.store(0);
        c->stop.store(0);
        c->ready.store(0);
        std::uint64_t start = 0, end = 0;
        {
            std::vector<std::unique_ptr<peer>> fleet;
            for (int i = 0; i < readers; ++i) {
                fleet.push_back(std::make_unique<peer>(i, [r, c, size] {
                    auto b = block::attach(r->bytes, size);
                    std::uint8_t out[256];
                    std::uint64_t n = 0;
                    c->ready.fetch_add(1);
                    while (c->stop.load(std::memory_order_relaxed) == 0) {
                        if (b->lock_shared() != errc::ok) std::abort();
                        std::memcpy(out, b->data(), sizeof out);
                        benchmark::DoNotOptimize(out);
                        b->unlock_shared();
                        ++n;
                    }
                    c->ops.fetch_add(n);
                }));
            }
            while (c->ready.load() != readers) cpu_relax();
            start = os::monotonic_ns();
            os::sleep_ns(300'000'000);
            c->stop.store(1);
        }
        end = os::monotonic_ns();
        rate = static_cast<double>(c->ops.load()) / (static_cast<double>(end - start) * 1e-9);
        state.SetIterationTime(static_cast<double>(end - start) * 1e-9);
    }
    state.counters["read_locks_per_s"] = rate;
    owner = block{};
    shared_delete(c);
    shared_delete(r);
}
BENCHMARK(BM_Rwlock_ContendedReads)->Arg(1)->Arg(2)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

// ---- select ----------------------------------------------------------------------------------

// Round trip: the parent pushes on one spsc, the child is asleep in select() over three
// sources (a broadcast, a command and that spsc), wakes, pops and answers on a second spsc the
// parent blocks on. Compared with the futex ping-pong floor measured right around it.
struct select_region {
    alignas(4096) std::uint8_t ping[spsc_ring_offset + 65536];
    alignas(4096) std::uint8_t pong[spsc_ring_offset + 65536];
    alignas(4096) std::uint8_t bc[broadcast_ring_offset + 65536];
    alignas(4096) std::uint8_t cmd[command_ring_offset + 65536];
    std::atomic<int> ready{0};
};

void BM_Select_WakeRoundTrip(benchmark::State& state) {
    const bool fallback = state.range(0) == 1;
    os::set_wait_any_method(fallback ? os::wait_any_method::helper_threads : os::wait_any_method::automatic);
    if (!fallback && os::wait_any_method_in_use() != os::wait_any_method::futex_waitv) {
        state.SkipWithError("no futex_waitv on this kernel");
        for (auto _ : state) {
        }
        return;
    }
    const double floor_before = measure_futex_rtt_ns();
    auto* r = shared_new<select_region>();
    spsc_config sc;
    sc.capacity = 65536;
    { auto f = spsc_producer::format(r->ping, sizeof r->ping, sc); }
    { auto f = spsc_producer::format(r->pong, sizeof r->pong, sc); }
    broadcast_config bcfg;
    bcfg.capacity = 65536;
    { auto w = broadcast_writer::format(r->bc, sizeof r->bc, bcfg); }
    command_config ccfg;
    ccfg.capacity = 65536;
    static_cast<void>(command_reader::format(r->cmd, sizeof r->cmd, ccfg));
    std::uint64_t elapsed = 0;
    pin_to_cpu(0);
    {
        peer child(1, [r, fallback, &bcfg] {
            os::set_wait_any_method(fallback ? os::wait_any_method::helper_threads : os::wait_any_method::automatic);
            spsc_options no_spin;
            no_spin.wait.spin = 0;
            auto in = spsc_consumer::attach(r->ping, sizeof r->ping, no_spin);
            auto out = spsc_producer::attach(r->pong, sizeof r->pong);
            auto bcr = broadcast_reader::attach(r->bc, sizeof r->bc);
            auto cmd = command_reader::attach(r->cmd, sizeof r->cmd);
            select_source sources[3] = {bcr->waitable(), cmd->waitable(), in->waitable()};
            r->ready.store(1);
            std::uint8_t buf[64];
            for (;;) {
                auto which = select(sources, 3, wait_forever);
                if (!which || *which != 2) std::abort();
                auto m = in->try_pop(buf, sizeof buf);
                if (!m) continue;
                if (m->size == 0) return;
                static_cast<void>(out->try_push(buf, m->size));
            }
        });
        spsc_options no_spin;
        no_spin.wait.spin = 0;
        auto ping = spsc_producer::attach(r->ping, sizeof r->ping);
        auto pong = spsc_consumer::attach(r->pong, sizeof r->pong, no_spin);
        while (r->ready.load() == 0) cpu_relax();
        std::uint8_t msg[8] = {}, buf[64];
        const std::uint64_t start = os::monotonic_ns();
        for (auto _ : state) {
            static_cast<void>(ping->try_push(msg, sizeof msg));
            if (!pong->pop(buf, sizeof buf, wait_forever)) std::abort();
        }
        elapsed = os::monotonic_ns() - start;
        static_cast<void>(ping->try_push(msg, 0));
    }
    unpin();
    shared_delete(r);
    os::set_wait_any_method(os::wait_any_method::automatic);
    const double floor = (floor_before + measure_futex_rtt_ns()) / 2;
    const double rtt = static_cast<double>(elapsed) / static_cast<double>(state.iterations());
    report_round_trip(state, rtt, floor);
}
BENCHMARK(BM_Select_WakeRoundTrip)->Arg(0)->Arg(1)->ArgName("helper_threads")->UseRealTime()->MinTime(0.5)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace shmkit::bench
