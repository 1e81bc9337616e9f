// Torn-read stress for the slot ring (stream and video) across processes and threads: a writer
// at full speed stamps every element of every sample with the sample's index, readers check
// every element of every sample they get. And writers killed mid-sample.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;

constexpr std::size_t elements = 64;  // 512-byte samples of u64

struct stress_state {
    std::atomic<int> ready{0};
    std::atomic<int> stop{0};
    std::atomic<std::uint64_t> reads{0}, bad{0}, overruns{0};
};

bool intact(const std::uint64_t* sample, std::size_t n, std::uint64_t index) {
    for (std::size_t i = 0; i < n; ++i) {
        if (sample[i] != index) return false;
    }
    return true;
}

// Alternates latest() and try_next() (and a zero-copy view) until `target` samples were read.
void read_until(slot_reader& r, std::uint64_t target, stress_state* st) {
    std::uint64_t buf[elements];
    std::uint64_t reads = 0, bad = 0, overruns = 0;
    // In-order reads: each sample is the one after the last, plus the number lost before it.
    std::uint64_t expected = r.next_index();
    const auto in_order = [&](const sample_info& info) {
        if (info.index != expected + info.lost) ++bad;
        if (info.lost != 0) ++overruns;
        expected = info.index + 1;
    };
    while (reads < target) {
        const int mode = static_cast<int>(reads % 3);
        if (mode == 2) {
            auto v = r.view_next();
            if (!v) continue;  // empty, or stale (lapped on every attempt)
            in_order(v->info);
            std::uint64_t copy[elements];
            std::memcpy(copy, v->data, sizeof copy);
            if (!v->valid()) continue;  // overwritten while we looked: the view says so
            ++reads;
            if (!intact(copy, elements, v->info.index)) ++bad;
            continue;
        }
        auto s = mode == 0 ? r.latest(buf, sizeof buf) : r.try_next(buf, sizeof buf);
        if (!s) continue;  // empty, or stale (the writer kept overwriting it)
        if (mode == 1) in_order(*s);
        ++reads;
        if (s->size != sizeof buf || !intact(buf, elements, s->index)) ++bad;
    }
    st->reads.fetch_add(reads);
    st->bad.fetch_add(bad);
    st->overruns.fetch_add(overruns);
}

void write_until_stopped(slot_writer& w, stress_state* st) {
    std::uint64_t sample[elements];
    for (std::uint64_t k = w.samples_written(); st->stop.load(std::memory_order_relaxed) == 0; k = w.samples_written()) {
        if (k % 2 == 0) {
            for (auto& e : sample) e = k;
            if (w.write(sample, sizeof sample) != errc::ok) return;
        } else {
            auto slot = w.reserve();  // zero-copy, filled with plain stores
            if (!slot) return;
            auto* p = reinterpret_cast<std::uint64_t*>(slot->data());
            for (std::size_t i = 0; i < elements; ++i) p[i] = k;
            slot->commit(sizeof sample);
        }
    }
}

stream_config u64_stream() {
    stream_config c;
    c.type = dtype::uint64;
    c.ndim = 1;
    c.shape[0] = elements;
    c.slots = 4;  // few slots: readers are overwritten under their feet all the time
    return c;
}

// Opens the stream, says it is ready, and reads `target` samples.
SHMKIT_TEST_ROLE(slots_mp_stream_reader) {
    auto r = stream_reader::open(args.text(0).c_str());
    if (!r) return 1;
    auto st = shared<stress_state>::open(args.text(1));
    st->ready.fetch_add(1);
    read_until(*r, args.value<std::uint64_t>(2), &*st);
    return 0;
}

TEST(SlotProcesses, StreamTornReadStressAMillionReads) {
    unique_name name("slot-mp");
    auto w = stream_writer::create(name.c_str(), u64_stream());
    ASSERT_TRUE(w);
    shared<stress_state> st;
    constexpr int readers = 2;
    constexpr std::uint64_t per_reader = 500'000;
    std::vector<std::unique_ptr<child>> children;
    for (int i = 0; i < readers; ++i) {
        const std::vector<std::string> args{name.c_str(), st.name(), test::arg(per_reader)};
        children.push_back(std::make_unique<child>("slots_mp_stream_reader", args));
    }
    test::spin_until([&] { return st->ready.load() == readers; });
    std::thread stopper([&] {
        for (auto& c : children) EXPECT_EQ(c->wait(), 0);
        st->stop.store(1);
    });
    write_until_stopped(*w, &*st);
    stopper.join();
    EXPECT_GE(st->reads.load(), readers * per_reader);
    EXPECT_EQ(st->bad.load(), 0u);
}

TEST(SlotThreads, StreamTornReadStress) {
    unique_name name("slot-th");
    auto w = stream_writer::create(name.c_str(), u64_stream());
    ASSERT_TRUE(w);
    stress_state st;
    std::vector<std::thread> threads;
    std::atomic<int> done{0};
    for (int i = 0; i < 2; ++i) {
        threads.emplace_back([&] {
            auto r = stream_reader::open(name.c_str());
            ASSERT_TRUE(r);
            read_until(*r, 200'000, &st);
            if (done.fetch_add(1) == 1) st.stop.store(1);
        });
    }
    write_until_stopped(*w, &st);
    for (auto& t : threads) t.join();
    EXPECT_EQ(st.bad.load(), 0u);
}

// The same for a video: reads a million frames.
SHMKIT_TEST_ROLE(slots_mp_video_reader) {
    auto r = video_reader::open(args.text(0).c_str());
    if (!r) return 1;
    auto st = shared<stress_state>::open(args.text(1));
    st->ready.store(1);
    read_until(*r, 1'000'000, &*st);
    return 0;
}

TEST(SlotProcesses, VideoTornReadStress) {
    unique_name name("video-mp");
    video_config c;
    c.width = 32;
    c.height = 16;
    c.format = pixel_format::gray8;  // 512-byte frames: the same stamping as the stream test
    c.slots = 3;
    auto w = video_writer::create(name.c_str(), c);
    ASSERT_TRUE(w) << to_string(w.error());
    shared<stress_state> st;
    child reader("slots_mp_video_reader", {name.c_str(), st.name()});
    test::spin_until([&] { return st->ready.load() == 1; });
    std::thread stopper([&] {
        EXPECT_EQ(reader.wait(), 0);
        st->stop.store(1);
    });
    write_until_stopped(*w, &*st);
    stopper.join();
    EXPECT_GE(st->reads.load(), 1'000'000u);
    EXPECT_EQ(st->bad.load(), 0u);
}

// Writes samples 0 to 4 into the stream, then half of sample 5, says so, and waits to be killed.
SHMKIT_TEST_ROLE(slots_mp_half_writer) {
    auto w = stream_writer::open(args.text(0).c_str());
    if (!w) return 1;
    auto half = shared<std::atomic<int>>::open(args.text(1));
    std::uint64_t s[elements];
    for (std::uint64_t k = 0; k < 5; ++k) {
        for (auto& e : s) e = k;
        if (w->write(s, sizeof s) != errc::ok) return 2;
    }
    auto slot = w->reserve();
    if (!slot) return 3;
    auto* p = reinterpret_cast<std::uint64_t*>(slot->data());
    for (std::size_t i = 0; i < elements / 2; ++i) p[i] = 5;  // half of sample 5
    half->store(1);
    for (;;) os::yield();
}

TEST(SlotCrash, WriterKilledMidSampleIsNeverSeenAndIsReplaced) {
    unique_name name("slot-kill");
    {
        auto w = stream_writer::create(name.c_str(), u64_stream());
        ASSERT_TRUE(w);
    }
    auto r = stream_reader::open(name.c_str());
    ASSERT_TRUE(r);
    shared<std::atomic<int>> half;
    child writer("slots_mp_half_writer", {name.c_str(), half.name()});
    test::spin_until([&] { return half->load() == 1; });
    EXPECT_EQ(writer.kill_and_wait(), test::killed_status);
    EXPECT_FALSE(r->writer_alive());
    std::uint64_t buf[elements];
    auto latest = r->latest(buf, sizeof buf);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->index, 4u);  // never the half-written sample 5
    EXPECT_TRUE(intact(buf, elements, 4));
    auto successor = stream_writer::open(name.c_str());
    ASSERT_TRUE(successor) << to_string(successor.error());
    EXPECT_TRUE(r->writer_alive());
    std::uint64_t s[elements];
    for (auto& e : s) e = 5;
    ASSERT_EQ(successor->write(s, sizeof s), errc::ok);
    latest = r->latest(buf, sizeof buf);
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->index, 5u);
    EXPECT_TRUE(intact(buf, elements, 5));
}

// Opens the stream at the newest sample present and checks that its first in-order read is
// sample `index`, intact.
SHMKIT_TEST_ROLE(slots_mp_newest_reader) {
    stream_reader_options o;
    o.from_newest = true;
    auto r = stream_reader::open(args.text(0).c_str(), o);
    if (!r) return 1;
    const auto index = args.value<std::uint64_t>(1);
    std::uint64_t buf[elements];
    auto s = r->try_next(buf, sizeof buf);
    if (!s) return 2;
    if (s->index != index || s->lost != 0 || !intact(buf, elements, index)) return 3;
    return r->try_next(buf, sizeof buf).error() == errc::empty ? 0 : 4;
}

TEST(SlotProcesses, AReaderInAnotherProcessStartsAtTheNewestSamplePresent) {
    unique_name name("newest-slot-mp");
    auto w = stream_writer::create(name.c_str(), u64_stream());
    ASSERT_TRUE(w);
    std::uint64_t sample[elements];
    for (std::uint64_t k = 0; k < 7; ++k) {  // laps the 4 slots
        for (auto& e : sample) e = k;
        ASSERT_EQ(w->write(sample, sizeof sample), errc::ok);
    }
    child reader("slots_mp_newest_reader", {name.c_str(), test::arg(std::uint64_t{6})});
    EXPECT_EQ(reader.wait(), 0);
}

// Opens the stream expecting the schema named by arguments 1 and 2 (name, hash); exits with
// the errc it got (0: accepted).
SHMKIT_TEST_ROLE(slots_mp_schema_reader) {
    stream_reader_options o;
    o.expect.schema_name = args.text(1).c_str();
    o.expect.schema_hash = args.value<std::uint64_t>(2);
    auto r = stream_reader::open(args.text(0).c_str(), o);
    return static_cast<int>(r ? errc::ok : r.error());
}

TEST(SlotProcesses, AReaderOfAnotherSchemaIsRefusedAtAttach) {
    unique_name name("schema-mp");
    stream_config c;
    c.type = dtype::bytes;
    c.ndim = 0;
    c.max_bytes = 256;
    c.schema_name = "Status";
    c.schema_hash = 0x1234'5678'9ABC'DEF0ull;
    auto w = stream_writer::create(name.c_str(), c);
    ASSERT_TRUE(w) << to_string(w.error());
    child same("slots_mp_schema_reader", {name.c_str(), "Status", test::arg(c.schema_hash)});
    EXPECT_EQ(same.wait(), static_cast<int>(errc::ok));
    child other_fields("slots_mp_schema_reader", {name.c_str(), "Status", test::arg(c.schema_hash + 1)});
    EXPECT_EQ(other_fields.wait(), static_cast<int>(errc::schema_mismatch));
    child other_type("slots_mp_schema_reader", {name.c_str(), "Command", test::arg(c.schema_hash)});
    EXPECT_EQ(other_type.wait(), static_cast<int>(errc::schema_mismatch));
}

}  // namespace
}  // namespace shmkit
