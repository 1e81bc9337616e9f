// A creator SIGKILLed at a random point of create(), for every kind, never wedges the name: the
// successor's create() succeeds every time, and nothing but its segment is left. (Before
// segments were named only once complete, a creator killed between creating the object and
// recording its identity left a name that nothing could reclaim.)
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;

#if defined(SHMKIT_TESTS_UNDER_EMULATOR)
constexpr int trials_per_kind = 12;
#else
constexpr int trials_per_kind = 40;
#endif

// Creates a segment of the kind under `name` (large enough that creating it takes a while:
// the page reservation dominates), or returns the error.
using creator = std::function<errc(const char* name)>;

template <class T>
errc error_of(const result<T>& r) {
    return r ? errc::ok : r.error();
}

struct kind_case {
    const char* kind;
    creator create;
};

std::vector<std::string> kv_names(int n) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.push_back("key-" + std::to_string(i));
    return names;
}

std::vector<kind_case> kinds() {
    static const std::vector<std::string> names = kv_names(20'000);
    return {
        {"broadcast", [](const char* n) { broadcast_config c; c.capacity = 8 << 20; return error_of(broadcast_writer::create(n, c)); }},
        {"spsc", [](const char* n) { spsc_config c; c.capacity = 8 << 20; return error_of(spsc_producer::create(n, c)); }},
        {"command", [](const char* n) { command_config c; c.capacity = 8 << 20; return error_of(command_reader::create(n, c)); }},
        {"block", [](const char* n) { block_config c; c.size = 8 << 20; return error_of(block::create(n, c)); }},
        {"kv", [](const char* n) {
             std::vector<const char*> keys;
             for (const std::string& s : names) keys.push_back(s.c_str());
             return error_of(kv_store::create(n, keys.data(), static_cast<std::uint32_t>(keys.size())));
         }},
        {"stream", [](const char* n) {
             stream_config c;
             c.type = dtype::uint8;
             c.shape[0] = 1 << 20;
             c.slots = 8;
             return error_of(stream_writer::create(n, c));
         }},
        {"video", [](const char* n) {
             video_config c;
             c.width = 1280;
             c.height = 720;
             c.format = pixel_format::rgb24;
             return error_of(video_writer::create(n, c));
         }},
        {"audio", [](const char* n) {
             audio_config c;
             c.buffer_us = 100'000;
             c.slots = 64;
             return error_of(audio_writer::create(n, c));
         }},
    };
}

// Creates kinds()[index] under `name` and waits to be killed, at any point of it: stage 1 just
// before create(), 2 after it succeeded, 3 after it failed.
SHMKIT_TEST_ROLE(create_crash_doomed_creator) {
    const kind_case k = kinds()[args.value<std::size_t>(0)];
    auto stage = shared<std::atomic<int>>::open(args.text(2));
    stage->store(1);
    const errc e = k.create(args.text(1).c_str());
    stage->store(e == errc::ok ? 2 : 3);
    for (;;) os::sleep_ns(1'000'000);  // killed here if not before
}


class CreateCrash : public ::testing::TestWithParam<int> {};

TEST_P(CreateCrash, SuccessorCreatesTheNameEveryTime) {
    const kind_case k = kinds()[static_cast<std::size_t>(GetParam())];
    unique_name name(k.kind);
    // How long one create takes here: kills are spread over that span and a little beyond.
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(k.create(name.c_str()), errc::ok);  // closed at once: the segment stays while its creator lives
    const auto span_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_EQ(segment::remove(name.c_str()), errc::ok);
    std::mt19937_64 rng(std::random_device{}());
    int inside = 0;
    for (int trial = 0; trial < trials_per_kind; ++trial) {
        shared<std::atomic<int>> stage;
        child doomed("create_crash_doomed_creator",
                     {test::arg(static_cast<std::size_t>(GetParam())), name.c_str(), stage.name()});
        test::spin_until([&] { return stage->load() != 0; });
        os::sleep_ns(rng() % (span_ns + span_ns / 4 + 1));
        if (stage->load() == 1) ++inside;
        EXPECT_EQ(doomed.kill_and_wait(), test::killed_status) << "the doomed creator crashed by itself";
        ASSERT_NE(stage->load(), 3) << "the doomed creator itself failed";
        // The successor: the name is free, or holds a segment whose creator is dead.
        const errc e = k.create(name.c_str());
        ASSERT_EQ(e, errc::ok) << k.kind << ": trial " << trial << ": " << to_string(e);
        ASSERT_EQ(segment::remove(name.c_str()), errc::ok);
        EXPECT_FALSE(test::shm_exists(name.c_str()));
    }
    std::printf("%s: %d of %d creators killed inside create()\n", k.kind, inside, trials_per_kind);
    RecordProperty("killed_inside_create", inside);
}

INSTANTIATE_TEST_SUITE_P(EveryKind, CreateCrash, ::testing::Range(0, 8), [](const ::testing::TestParamInfo<int>& p) {
    return std::string(kinds()[static_cast<std::size_t>(p.param)].kind);
});

}  // namespace
}  // namespace shmkit
