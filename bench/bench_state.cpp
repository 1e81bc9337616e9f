// stream, video and kv: per-call costs beside the memcpy floor, and the stream writer's
// throughput as busy readers are added (the goal is flat).
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "shmkit/block.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"

namespace shmkit::bench {
namespace {

stream_config bytes_stream(std::uint64_t bytes) {
    stream_config c;
    c.type = dtype::uint8;
    c.ndim = 1;
    c.shape[0] = bytes;
    c.slots = 8;
    return c;
}

void BM_Stream_Write(benchmark::State& state) {
    const auto bytes = static_cast<std::uint64_t>(state.range(0));
    const std::string name = bench_segment_name("sw");
    auto w = stream_writer::create(name.c_str(), bytes_stream(bytes));
    std::vector<std::uint8_t> sample(bytes, 1);
    for (auto _ : state) static_cast<void>(w->write(sample.data(), sample.size()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["memcpy_ns"] = memcpy_floor_ns(bytes);
    w = stream_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Stream_Write)->Arg(256)->Arg(64 << 10);

void BM_Stream_Latest(benchmark::State& state) {
    const auto bytes = static_cast<std::uint64_t>(state.range(0));
    const std::string name = bench_segment_name("sl");
    auto w = stream_writer::create(name.c_str(), bytes_stream(bytes));
    auto r = stream_reader::open(name.c_str());
    std::vector<std::uint8_t> sample(bytes, 1), out(bytes);
    static_cast<void>(w->write(sample.data(), sample.size()));
    for (auto _ : state) {
        auto s = r->latest(out.data(), out.size());
        if (!s) std::abort();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["memcpy_ns"] = memcpy_floor_ns(bytes);
    r = stream_reader{};
    w = stream_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Stream_Latest)->Arg(256)->Arg(64 << 10);

// try_next(): each iteration the writer fills 7 of the 8 slots (untimed), then 7 try_next() calls are
// timed; the reported time is per try_next().
void BM_Stream_Next(benchmark::State& state) {
    const auto bytes = static_cast<std::uint64_t>(state.range(0));
    const std::string name = bench_segment_name("sn");
    auto w = stream_writer::create(name.c_str(), bytes_stream(bytes));
    auto r = stream_reader::open(name.c_str());
    std::vector<std::uint8_t> sample(bytes, 1), out(bytes);
    for (auto _ : state) {
        for (int i = 0; i < 7; ++i) static_cast<void>(w->write(sample.data(), sample.size()));
        const std::uint64_t start = os::monotonic_ns();
        for (int i = 0; i < 7; ++i) {
            if (!r->try_next(out.data(), out.size())) std::abort();
        }
        state.SetIterationTime(static_cast<double>(os::monotonic_ns() - start) * 1e-9 / 7);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["memcpy_ns"] = memcpy_floor_ns(bytes);
    r = stream_reader{};
    w = stream_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Stream_Next)->Arg(256)->Arg(64 << 10)->UseManualTime();

// 1080p RGB24: publish by filling the slot in place (zero-copy) vs copying a frame in, next to
// memcpy of the same 6 MB.
template <bool ZeroCopy>
void BM_Video_Publish1080p(benchmark::State& state) {
    const std::string name = bench_segment_name("vid");
    video_config c;
    c.width = 1920;
    c.height = 1080;
    c.format = pixel_format::rgb24;
    c.slots = 3;
    segment_options prefaulted;
    prefaulted.prefault = true;
    auto w = video_writer::create(name.c_str(), c, prefaulted);
    const std::size_t bytes = w->description().frame_bytes;
    std::vector<std::uint8_t> frame(bytes, 9);
    const std::uint64_t start = os::monotonic_ns();
    for (auto _ : state) {
        if (ZeroCopy) {
            auto slot = w->reserve_frame(1, 1);
            slot->data()[0] = 1;                    // the producer writes its pixels in place;
            slot->data()[bytes - 1] = 1;            // here: touch both ends
            slot->commit();
        } else {
            static_cast<void>(w->write_frame(frame.data(), frame.size(), 1, 1));
        }
    }
    const double per_frame = static_cast<double>(os::monotonic_ns() - start) / static_cast<double>(state.iterations());
    const double floor = memcpy_floor_ns(bytes);
    state.counters["memcpy_ns"] = floor;
    state.counters["ratio_to_memcpy"] = per_frame / floor;
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    w = video_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK_TEMPLATE(BM_Video_Publish1080p, true)->Name("BM_Video_Publish1080p_ZeroCopy")->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_Video_Publish1080p, false)->Name("BM_Video_Publish1080p_Copy")->Unit(benchmark::kMicrosecond);

void BM_Video_Latest1080p(benchmark::State& state) {
    const std::string name = bench_segment_name("vidr");
    video_config c;
    c.width = 1920;
    c.height = 1080;
    c.format = pixel_format::rgb24;
    auto w = video_writer::create(name.c_str(), c);
    auto r = video_reader::open(name.c_str());
    std::vector<std::uint8_t> frame(w->description().frame_bytes, 3), out(frame.size());
    static_cast<void>(w->write_frame(frame.data(), frame.size()));
    const std::uint64_t start = os::monotonic_ns();
    for (auto _ : state) benchmark::DoNotOptimize(r->latest(out.data(), out.size()));
    const double per_frame = static_cast<double>(os::monotonic_ns() - start) / static_cast<double>(state.iterations());
    state.counters["memcpy_ns"] = memcpy_floor_ns(frame.size());
    state.counters["ratio_to_memcpy"] = per_frame / state.counters["memcpy_ns"];
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * frame.size()));
    r = video_reader{};
    w = video_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Video_Latest1080p)->Unit(benchmark::kMicrosecond);

// Creating a 256 MiB block, with the default memory reservation (reserve:1) and without it
// (reserve:0, segment_options::reserve_memory = false), then removing it again (untimed).
void BM_Segment_Create256MiB(benchmark::State& state) {
    const std::string name = bench_segment_name("big");
    block_config c;
    c.size = 256u << 20;
    block_options o;
    o.segment.reserve_memory = state.range(0) == 1;
    for (auto _ : state) {
        auto b = block::create(name.c_str(), c, o);
        if (!b) {
            state.SkipWithError(to_string(b.error()));
            break;
        }
        state.PauseTiming();
        b = block{};
        static_cast<void>(segment::remove(name.c_str()));
        state.ResumeTiming();
    }
}
BENCHMARK(BM_Segment_Create256MiB)->ArgName("reserve")->Arg(0)->Arg(1)->Iterations(10)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Kv(benchmark::State& state) {
    const bool set = state.range(0) == 1;
    const std::string name = bench_segment_name("kv");
    const char* keys[] = {"mode", "count", "status", "gain"};
    auto kv = kv_store::create(name.c_str(), keys, 4);
    static_cast<void>(kv->set(2u, "ready", 5));
    char buf[64];
    for (auto _ : state) {
        if (set) static_cast<void>(kv->set(2u, "ready", 5));
        else benchmark::DoNotOptimize(kv->get(2u, buf, sizeof buf));
    }
    kv = kv_store{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Kv)->Arg(0)->Arg(1)->ArgName("set");

// Creating a store of N keys (names checked for duplicates, the segment made and published):
// the time per key stays flat as N grows (the duplicate check is linear, not pairwise).
void BM_Kv_Create(benchmark::State& state) {
    const auto n = static_cast<std::uint32_t>(state.range(0));
    std::vector<std::string> names(n);
    std::vector<const char*> keys(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        names[i] = "key-" + std::to_string(i);
        keys[i] = names[i].c_str();
    }
    kv_config config;
    config.max_key = 16;
    config.max_value = 8;
    const std::string name = bench_segment_name("kvc");
    for (auto _ : state) {
        auto kv = kv_store::create(name.c_str(), keys.data(), n, config);
        benchmark::DoNotOptimize(kv);
        state.PauseTiming();
        kv = kv_store{};
        static_cast<void>(segment::remove(name.c_str()));
        state.ResumeTiming();
    }
    state.counters["ns_per_key"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                                              benchmark::Counter::kInvert);
}
BENCHMARK(BM_Kv_Create)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Arg(200'000)->Unit(benchmark::kMillisecond);

// The stream writer's throughput (256 B samples) with 0..4 reader processes busy reading
// latest(), in the writer's own CPU time (as for broadcast).
double g_stream_no_readers = 0;

void BM_Stream_WriterWithReaders(benchmark::State& state) {
    const int readers = static_cast<int>(state.range(0));
    const std::string name = bench_segment_name("swr");
    auto w = stream_writer::create(name.c_str(), bytes_stream(256));
    struct flags {
        std::atomic<int> ready{0}, stop{0};
    };
    auto* f = shared_new<flags>();
    std::vector<std::uint8_t> sample(256, 1);
    double cpu = 0;
    {
        std::vector<std::unique_ptr<peer>> fleet;
        for (int i = 0; i < readers; ++i) {
            fleet.push_back(std::make_unique<peer>(-1, [&name, f] {
                auto r = stream_reader::open(name.c_str());
                std::uint8_t out[256];
                f->ready.fetch_add(1);
                while (f->stop.load(std::memory_order_relaxed) == 0) benchmark::DoNotOptimize(r->latest(out, sizeof out));
            }));
        }
        while (f->ready.load() != readers) cpu_relax();
        const double cpu_start = thread_cpu_seconds();
        for (auto _ : state) static_cast<void>(w->write(sample.data(), sample.size()));
        cpu = thread_cpu_seconds() - cpu_start;
        f->stop.store(1);
    }
    const double rate = static_cast<double>(state.iterations()) / cpu;
    report_ratio_to_no_readers(state, readers, rate, &g_stream_no_readers);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    shared_delete(f);
    w = stream_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Stream_WriterWithReaders)->Arg(0)->Arg(1)->Arg(2)->Arg(4)->MinTime(0.5);

}  // namespace
}  // namespace shmkit::bench
