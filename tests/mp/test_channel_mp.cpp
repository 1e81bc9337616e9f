// channel between processes: frames of every size up to the limit, a writer or a reader that
// dies while the other is blocked (peer_dead, never a plain timeout), and the successor that
// takes the dead end's role over.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/channel.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::message_codec;
using test::unique_name;

constexpr std::uint64_t stress_frames = 20'000 / test::stress_divisor;

std::size_t stress_size(std::uint64_t i, std::size_t limit) { return 16 + (i * 7919) % (limit - 15); }

SHMKIT_TEST_ROLE(channel_stress_writer) {
    auto w = channel_writer::open(args.text(0).c_str());
    if (!w) return 9;
    const char format[] = "stress";
    if (w->set_metadata(format, sizeof format) != errc::ok) return 8;
    std::vector<std::uint8_t> bytes(w->max_frame());
    for (std::uint64_t i = 0; i < stress_frames; ++i) {
        const std::size_t size = stress_size(i, w->max_frame());
        if (i % 2 == 0) {
            message_codec::fill(bytes.data(), size, i);
            if (w->write(bytes.data(), size) != errc::ok) return 1;
        } else {
            auto slot = w->reserve(size);
            if (!slot) return 2;
            message_codec::fill(slot->data(), size, i);
            slot->commit();
        }
    }
    return 0;
}

TEST(ChannelProcesses, FramesOfEverySizeUpToTheWholeRingArriveIntactAndInOrder) {
    unique_name name("channel-mp");
    channel_config config;
    config.capacity = 8192;  // small: frames up to the whole ring wrap and wait on every other write
    config.metadata_size = 64;
    auto r = channel_reader::create(name.c_str(), config);
    ASSERT_TRUE(r);
    child writer("channel_stress_writer", {name.c_str()});
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < stress_frames; ++i) {
        auto f = r->read();
        ASSERT_TRUE(f) << to_string(f.error()) << " at frame " << i;
        std::uint64_t index = 0;
        if (f->seq != i || f->size != stress_size(i, r->max_frame()) ||
            !message_codec::verify(f->data, f->size, &index) || index != i) {
            ++bad;
        }
        r->release();
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(writer.wait(), 0);
    auto m = r->metadata();
    ASSERT_TRUE(m);
    EXPECT_STREQ(reinterpret_cast<const char*>(m->data), "stress");
}

// Writes `frames` frames, waits until the reader (process args 1) sleeps in a read, and dies
// holding the writer's role.
SHMKIT_TEST_ROLE(channel_writer_that_dies) {
    auto w = channel_writer::open(args.text(0).c_str());
    if (!w) return 9;
    const auto reader_pid = args.value<std::uint32_t>(1);
    const auto frames = args.value<std::uint64_t>(2);
    std::vector<std::uint8_t> bytes(100);
    for (std::uint64_t i = 0; i < frames; ++i) {
        message_codec::fill(bytes.data(), bytes.size(), i);
        if (w->write(bytes.data(), bytes.size()) != errc::ok) return 1;
    }
    while (!test::asleep(reader_pid)) {
    }
    std::_Exit(0);  // no close: the role stays with a dead process
}

TEST(ChannelProcesses, AReaderBlockedOnADeadWriterGetsPeerDeadAfterTheLastFrame) {
    unique_name name("channel-dead-writer");
    channel_config config;
    config.capacity = 4096;
    channel_options options;
    options.liveness_period_ns = 20'000'000;
    auto r = channel_reader::create(name.c_str(), config, options);
    ASSERT_TRUE(r);
    child writer("channel_writer_that_dies", {name.c_str(), test::arg(os::self().pid), test::arg(std::uint64_t{3})});
    for (std::uint64_t i = 0; i < 3; ++i) {  // every frame it sent is still delivered
        auto f = r->read();
        ASSERT_TRUE(f) << to_string(f.error());
        EXPECT_EQ(f->seq, i);
        r->release();
    }
    // Blocks until the writer dies, then says so (waiting forever: a plain wait never ends).
    EXPECT_EQ(r->read().error(), errc::peer_dead);
    EXPECT_EQ(writer.wait(), 0);
    EXPECT_FALSE(r->writer_connected());
    // A new writer takes the role over, and the frames carry on in sequence.
    auto successor = channel_writer::open(name.c_str());
    ASSERT_TRUE(successor) << to_string(successor.error());
    EXPECT_TRUE(r->writer_connected());
    ASSERT_EQ(successor->write("next", 4), errc::ok);
    auto f = r->read();
    ASSERT_TRUE(f) << to_string(f.error());
    EXPECT_EQ(f->seq, 3u);
    r->release();
}

// Reads one frame without releasing it, waits until the writer (process args 1) sleeps for
// room, and dies holding the reader's role and the frame.
SHMKIT_TEST_ROLE(channel_reader_that_dies) {
    auto r = channel_reader::open(args.text(0).c_str());
    if (!r) return 9;
    const auto writer_pid = args.value<std::uint32_t>(1);
    if (!r->read()) return 1;
    while (!test::asleep(writer_pid)) {
    }
    std::_Exit(0);
}

TEST(ChannelProcesses, AWriterBlockedOnADeadReaderGetsPeerDeadAndASuccessorReadsOn) {
    unique_name name("channel-dead-reader");
    channel_config config;
    config.capacity = 4096;
    channel_options options;
    options.liveness_period_ns = 20'000'000;
    auto w = channel_writer::create(name.c_str(), config, options);
    ASSERT_TRUE(w);
    std::vector<std::uint8_t> bytes(1000);
    std::uint64_t sent = 0;
    for (; w->try_write(bytes.data(), bytes.size()) == errc::ok; ++sent) {
    }
    child reader("channel_reader_that_dies", {name.c_str(), test::arg(os::self().pid)});
    // Full, and the reader holds the first frame: blocks until the reader dies, then says so.
    EXPECT_EQ(w->write(bytes.data(), bytes.size()), errc::peer_dead);
    EXPECT_EQ(reader.wait(), 0);
    EXPECT_FALSE(w->reader_connected());
    // The successor starts at the frame the dead reader held.
    auto successor = channel_reader::open(name.c_str());
    ASSERT_TRUE(successor) << to_string(successor.error());
    for (std::uint64_t i = 0; i < sent; ++i) {
        auto f = successor->try_read();
        ASSERT_TRUE(f) << to_string(f.error());
        EXPECT_EQ(f->seq, i);
        successor->release();
    }
    EXPECT_EQ(w->write(bytes.data(), bytes.size()), errc::ok);
}

}  // namespace
}  // namespace shmkit
