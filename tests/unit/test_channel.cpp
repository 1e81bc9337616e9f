// channel within one process: frames up to the whole ring, back-pressure, the metadata block,
// connection state. Between processes (peer death, takeover, stress): tests/mp/test_channel_mp.cpp.
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/channel.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::message_codec;
using test::unique_name;

struct Channel : ::testing::Test {
    unique_name name{"channel"};
    channel_reader reader;
    channel_writer writer;
    void open(std::uint64_t capacity, std::uint32_t metadata_size = 0) {
        channel_config config;
        config.capacity = capacity;
        config.metadata_size = metadata_size;
        auto r = channel_reader::create(name.c_str(), config);
        ASSERT_TRUE(r) << to_string(r.error());
        reader = std::move(r).value();
        auto w = channel_writer::open(name.c_str());
        ASSERT_TRUE(w) << to_string(w.error());
        writer = std::move(w).value();
    }
    // Writes frame `index` of `size` bytes; what try_write says.
    errc try_frame(std::uint64_t index, std::size_t size) {
        std::vector<std::uint8_t> bytes(size);
        message_codec::fill(bytes.data(), size, index);
        return writer.try_write(bytes.data(), size);
    }
    // Reads, checks and releases the next frame: its index, or ~0 if there was none or it was bad.
    std::uint64_t take_frame(std::size_t expected_size) {
        auto f = reader.try_read();
        if (!f) return ~std::uint64_t{0};
        std::uint64_t index = 0;
        const bool good = f->size == expected_size && message_codec::verify(f->data, f->size, &index);
        reader.release();
        return good ? index : ~std::uint64_t{0};
    }
};

TEST_F(Channel, AFrameMaySpanTheWholeRingButItsHeader) {
    open(1024);
    EXPECT_EQ(writer.max_frame(), 1024u - 16u);
    EXPECT_EQ(reader.max_frame(), 1024u - 16u);
    // At offset 0 it fits at once.
    ASSERT_EQ(try_frame(0, 1008), errc::ok);
    EXPECT_EQ(take_frame(1008), 0u);
}

TEST_F(Channel, AFrameLargerThanHalfTheRingWrapsOnceTheReaderHasPassedThePad) {
    open(1024);
    ASSERT_EQ(try_frame(0, 600), errc::ok);  // 616 bytes: the next large frame cannot fit before the end
    EXPECT_EQ(take_frame(600), 0u);
    // 408 bytes of pad and 1024 of frame never fit together: the pad goes first, alone, and
    // the frame has to wait until the reader has skipped it.
    EXPECT_EQ(try_frame(1, 1008), errc::full);
    EXPECT_FALSE(reader.try_read());  // skips the pad, gives its bytes back
    ASSERT_EQ(try_frame(1, 1008), errc::ok);
    EXPECT_EQ(take_frame(1008), 1u);
    // And again, from an odd position, with sizes around half the ring.
    for (std::uint64_t i = 2; i < 200; ++i) {
        const std::size_t size = 16 + (i * 379) % (writer.max_frame() - 15);
        errc e = try_frame(i, size);
        if (e == errc::full) {
            EXPECT_FALSE(reader.try_read());
            e = try_frame(i, size);
        }
        ASSERT_EQ(e, errc::ok) << "frame " << i << " of " << size << " bytes";
        ASSERT_EQ(take_frame(size), i);
    }
}

TEST_F(Channel, AFrameBeyondTheLimitIsRefused) {
    open(1024);
    std::vector<std::uint8_t> big(writer.max_frame() + 1);
    EXPECT_EQ(writer.try_write(big.data(), big.size()), errc::message_too_large);
    EXPECT_EQ(writer.try_reserve(big.size()).error(), errc::message_too_large);
    // A configured limit above what the ring carries is refused at creation.
    unique_name other("channel-limit");
    channel_config config;
    config.capacity = 1024;
    config.max_frame = 1024 - 15;
    EXPECT_EQ(channel_writer::create(other.c_str(), config).error(), errc::invalid_argument);
    config.max_frame = 1024 - 16;
    EXPECT_TRUE(channel_writer::create(other.c_str(), config));
}

TEST_F(Channel, SpaceComesBackOnlyOnRelease) {
    open(1024);
    ASSERT_EQ(try_frame(0, 400), errc::ok);
    ASSERT_EQ(try_frame(1, 400), errc::ok);
    EXPECT_EQ(try_frame(2, 400), errc::full);
    auto f = reader.try_read();
    ASSERT_TRUE(f);
    // Read but not released: the writer still has no room, and a blocking write times out.
    std::vector<std::uint8_t> bytes(400);
    EXPECT_EQ(writer.write(bytes.data(), bytes.size(), std::chrono::milliseconds(20)), errc::timeout);
    reader.release();
    EXPECT_EQ(try_frame(2, 400), errc::ok);
    EXPECT_EQ(take_frame(400), 1u);
    EXPECT_EQ(take_frame(400), 2u);
}

TEST_F(Channel, ZeroCopyFramesAreContiguousAndCarryTheirSequence) {
    open(4096);
    for (std::uint64_t i = 0; i < 50; ++i) {
        const std::size_t size = 100 + (i * 997) % 3900;
        auto slot = writer.try_reserve(size);
        if (!slot) {
            ASSERT_EQ(slot.error(), errc::full);
            EXPECT_FALSE(reader.try_read());  // past a pad
            slot = writer.try_reserve(size);
        }
        ASSERT_TRUE(slot) << to_string(slot.error());
        message_codec::fill(slot->data(), size, i);
        slot->commit();
        auto f = reader.try_read();
        ASSERT_TRUE(f);
        EXPECT_EQ(f->seq, i);
        std::uint64_t index = 0;
        EXPECT_TRUE(message_codec::verify(f->data, f->size, &index));
        EXPECT_EQ(index, i);
        reader.release();
    }
}

TEST_F(Channel, TheMetadataBlockIsWrittenOnce) {
    open(1024, 100);
    EXPECT_EQ(writer.metadata_capacity(), 128u);  // rounded up to 64
    EXPECT_EQ(reader.metadata().error(), errc::empty);
    std::vector<std::uint8_t> too_big(129, 7);
    EXPECT_EQ(writer.set_metadata(too_big.data(), too_big.size()), errc::message_too_large);
    const char format[] = "1920x1080 rgb24";
    ASSERT_EQ(writer.set_metadata(format, sizeof format), errc::ok);
    EXPECT_EQ(writer.set_metadata("other", 5), errc::already_set);
    auto m = reader.metadata();
    ASSERT_TRUE(m);
    ASSERT_EQ(m->size, sizeof format);
    EXPECT_EQ(std::memcmp(m->data, format, sizeof format), 0);
    // A writer that takes the role over later finds it set too.
    writer.close();
    auto again = channel_writer::open(name.c_str());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->set_metadata("other", 5), errc::already_set);
}

TEST_F(Channel, EachEndKnowsWhetherTheOtherIsConnected) {
    channel_config config;
    config.capacity = 1024;
    auto r = channel_reader::create(name.c_str(), config);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->writer_connected());
    {
        auto w = channel_writer::open(name.c_str());
        ASSERT_TRUE(w);
        EXPECT_TRUE(r->writer_connected());
        EXPECT_TRUE(w->reader_connected());
        // One writer at a time.
        EXPECT_EQ(channel_writer::open(name.c_str()).error(), errc::busy);
    }
    EXPECT_FALSE(r->writer_connected());
    // A writer that closed is not dead: a blocking read waits for the next one.
    EXPECT_EQ(r->read(std::chrono::milliseconds(20)).error(), errc::timeout);
    // And the kinds do not mix.
    EXPECT_EQ(spsc_consumer::open(name.c_str()).error(), errc::wrong_kind);
}

TEST_F(Channel, ABlockedReaderWakesForAFrame) {
    open(1 << 16);
    std::thread t([&] {
        std::vector<std::uint8_t> bytes(5000);
        message_codec::fill(bytes.data(), bytes.size(), 0);
        // Most likely after the reader went to sleep (it passes either way; the cross-process
        // wake tests wait until the sleeper is asleep).
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(writer.write(bytes.data(), bytes.size()), errc::ok);
    });
    auto f = reader.read();
    ASSERT_TRUE(f) << to_string(f.error());
    EXPECT_EQ(f->size, 5000u);
    reader.release();
    t.join();
}

TEST(ChannelThreads, FramesOfEverySizeUpToTheLimitArriveIntactAndInOrder) {
    unique_name name("channel-threads");
    channel_config config;
    config.capacity = 4096;
    auto r = channel_reader::create(name.c_str(), config);
    ASSERT_TRUE(r);
    auto w = channel_writer::open(name.c_str());
    ASSERT_TRUE(w);
    const std::uint64_t frames = 20'000 / test::stress_divisor;
    const std::size_t limit = w->max_frame();
    std::thread writer([&] {
        std::vector<std::uint8_t> bytes(limit);
        for (std::uint64_t i = 0; i < frames; ++i) {
            const std::size_t size = 16 + (i * 7919) % (limit - 15);
            if (i % 2 == 0) {
                message_codec::fill(bytes.data(), size, i);
                ASSERT_EQ(w->write(bytes.data(), size), errc::ok);
            } else {
                auto slot = w->reserve(size);
                ASSERT_TRUE(slot);
                message_codec::fill(slot->data(), size, i);
                slot->commit();
            }
        }
    });
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < frames; ++i) {
        auto f = r->read();
        ASSERT_TRUE(f) << to_string(f.error());
        std::uint64_t index = 0;
        if (f->seq != i || f->size != 16 + (i * 7919) % (limit - 15) || !message_codec::verify(f->data, f->size, &index) ||
            index != i) {
            ++bad;
        }
        r->release();
    }
    writer.join();
    EXPECT_EQ(bad, 0u);
}

}  // namespace
}  // namespace shmkit
