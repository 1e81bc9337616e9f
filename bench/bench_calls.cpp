// Single-thread costs of the calls bench/bench_python.py times from Python, so that script can
// report the binding's own overhead per call (Python time minus these) in the same run.
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/video.hpp"

namespace shmkit::bench {
namespace {

// One 64-byte write and the read that takes it back.
void BM_Call_BroadcastWriteRead64(benchmark::State& state) {
    const std::string name = bench_segment_name("call-bc");
    broadcast_config c;
    c.capacity = 64 * 1024;
    auto w = broadcast_writer::create(name.c_str(), c);
    auto r = broadcast_reader::open(name.c_str());
    char msg[64] = {1}, out[64];
    for (auto _ : state) {
        static_cast<void>(w->write(msg, sizeof msg));
        benchmark::DoNotOptimize(r->try_read(out, sizeof out));
    }
    r = broadcast_reader{};
    w = broadcast_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Call_BroadcastWriteRead64);

void BM_Call_SpscPushPop64(benchmark::State& state) {
    const std::string name = bench_segment_name("call-q");
    spsc_config c;
    c.capacity = 64 * 1024;
    auto p = spsc_producer::create(name.c_str(), c);
    auto q = spsc_consumer::open(name.c_str());
    char msg[64] = {1}, out[64];
    for (auto _ : state) {
        static_cast<void>(p->try_push(msg, sizeof msg));
        benchmark::DoNotOptimize(q->try_pop(out, sizeof out));
    }
    q = spsc_consumer{};
    p = spsc_producer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Call_SpscPushPop64);

// The newest 1080p RGB24 frame in place, and the check that it stayed valid.
void BM_Call_VideoViewLatest1080p(benchmark::State& state) {
    const std::string name = bench_segment_name("call-vid");
    video_config c;
    c.width = 1920;
    c.height = 1080;
    c.format = pixel_format::rgb24;
    auto w = video_writer::create(name.c_str(), c);
    auto r = video_reader::open(name.c_str());
    std::vector<std::uint8_t> frame(w->description().frame_bytes, 3);
    static_cast<void>(w->write_frame(frame.data(), frame.size()));
    for (auto _ : state) {
        auto v = r->view_latest();
        benchmark::DoNotOptimize(v->data);
        benchmark::DoNotOptimize(v->valid());
    }
    r = video_reader{};
    w = video_writer{};
    static_cast<void>(segment::remove(name.c_str()));
}
BENCHMARK(BM_Call_VideoViewLatest1080p);

}  // namespace
}  // namespace shmkit::bench
