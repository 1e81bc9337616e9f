#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::read_string;
using test::unique_name;

errc write_string(broadcast_writer& w, const std::string& s) { return w.write(s.data(), s.size()); }

broadcast_info info_of(const char* name) {
    broadcast_info info;
    auto s = segment::open(name, kind::broadcast, ring_header_size, os::access::read_only);
    EXPECT_TRUE(s);
    if (s) {
        EXPECT_EQ(inspect_broadcast(s->base(), s->size(), &info), errc::ok);
    }
    return info;
}

struct Broadcast : ::testing::Test {
    unique_name name{"bc"};
    broadcast_writer writer;
    void SetUp() override {
        broadcast_config config;
        config.capacity = 4096;
        auto w = broadcast_writer::create(name.c_str(), config);
        ASSERT_TRUE(w) << to_string(w.error());
        writer = std::move(w).value();
    }
    broadcast_reader reader(broadcast_reader_options options = {}) {
        auto r = broadcast_reader::open(name.c_str(), options);
        EXPECT_TRUE(r) << to_string(r.error());
        return r ? std::move(r).value() : broadcast_reader{};
    }
};

TEST_F(Broadcast, EveryReaderSeesEveryMessageInOrder) {
    auto a = reader();
    auto b = reader();
    for (int i = 0; i < 10; ++i) ASSERT_EQ(write_string(writer, "msg" + std::to_string(i)), errc::ok);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(read_string(a), "msg" + std::to_string(i));
        EXPECT_EQ(read_string(b), "msg" + std::to_string(i));
    }
    errc e;
    read_string(a, &e);
    EXPECT_EQ(e, errc::empty);
    EXPECT_FALSE(a.poll());
    EXPECT_EQ(writer.messages_written(), 10u);
}

TEST_F(Broadcast, SequenceNumbersAndSizes) {
    auto r = reader();
    std::vector<std::uint8_t> payload(writer.max_message(), 0xAB);
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                             payload.size()}) {
        ASSERT_EQ(writer.write(payload.data(), size), errc::ok) << size;
    }
    std::vector<std::uint8_t> buf(payload.size());
    std::uint64_t seq = 0;
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                             payload.size()}) {
        auto m = r.try_read(buf.data(), buf.size());
        ASSERT_TRUE(m) << to_string(m.error());
        EXPECT_EQ(m->size, size);
        EXPECT_EQ(m->seq, seq++);
        EXPECT_EQ(std::memcmp(buf.data(), payload.data(), size), 0);
    }
}

TEST_F(Broadcast, TooLargeMessagesAreRefusedNotTruncated) {
    std::vector<std::uint8_t> big(writer.max_message() + 1);
    EXPECT_EQ(writer.write(big.data(), big.size()), errc::message_too_large);
    EXPECT_EQ(writer.reserve(big.size()).error(), errc::message_too_large);
    EXPECT_EQ(writer.messages_written(), 0u);
}

TEST_F(Broadcast, SmallReaderBufferConsumesNothing) {
    auto r = reader();
    ASSERT_EQ(write_string(writer, "0123456789"), errc::ok);
    char small[4];
    auto m = r.try_read(small, sizeof small);
    EXPECT_EQ(m.error(), errc::message_too_large);
    EXPECT_EQ(r.pending_size(), 10u);
    EXPECT_EQ(read_string(r), "0123456789");
}

TEST_F(Broadcast, LateReaderStartsAtTheNextMessageUnlessAskedForTheOldest) {
    ASSERT_EQ(write_string(writer, "before"), errc::ok);
    auto late = reader();
    broadcast_reader_options oldest;
    oldest.from_oldest = true;
    auto replay = reader(oldest);
    ASSERT_EQ(write_string(writer, "after"), errc::ok);
    EXPECT_EQ(read_string(late), "after");
    EXPECT_EQ(read_string(replay), "before");
    EXPECT_EQ(read_string(replay), "after");
}

TEST_F(Broadcast, AReaderAskingForTheNewestStartsAtTheNewestMessagePresent) {
    broadcast_reader_options newest;
    newest.from_newest = true;
    auto on_empty = reader(newest);  // nothing present: it starts at the next new message
    ASSERT_EQ(write_string(writer, "first"), errc::ok);
    ASSERT_EQ(write_string(writer, "second"), errc::ok);
    EXPECT_EQ(read_string(on_empty), "first");
    auto late = reader(newest);
    EXPECT_EQ(late.next_seq(), 1u);
    EXPECT_EQ(read_string(late), "second");
    errc e;
    read_string(late, &e);
    EXPECT_EQ(e, errc::empty);
    ASSERT_EQ(write_string(writer, "third"), errc::ok);
    EXPECT_EQ(read_string(late), "third");
    broadcast_reader_options both = newest;
    both.from_oldest = true;
    EXPECT_EQ(broadcast_reader::open(name.c_str(), both).error(), errc::invalid_argument);
}

TEST_F(Broadcast, TheNewestMessageIsFoundAfterEveryWrapAndLap) {
    // Sizes that leave every possible remainder at the ring's end (pads before the newest
    // message), over many laps (the walk starts wherever the writer's tail is).
    broadcast_reader_options newest;
    newest.from_newest = true;
    std::vector<std::uint8_t> out(writer.max_message()), in(writer.max_message());
    for (std::uint64_t seq = 0; seq < 500; ++seq) {
        const std::size_t size = 16 + (static_cast<std::size_t>(seq) * 37) % 700;
        test::message_codec::fill(out.data(), size, seq);
        ASSERT_EQ(writer.write(out.data(), size), errc::ok);
        auto r = reader(newest);
        auto m = r.try_read(in.data(), in.size());
        ASSERT_TRUE(m) << to_string(m.error()) << " after message " << seq;
        std::uint64_t index;
        ASSERT_TRUE(test::message_codec::verify(in.data(), m->size, &index));
        EXPECT_EQ(index, seq);
        EXPECT_EQ(m->seq, seq);
        EXPECT_EQ(m->lost, 0u);
        EXPECT_EQ(r.try_read(in.data(), in.size()).error(), errc::empty);
    }
}

TEST_F(Broadcast, ALappedReadReturnsTheOldestIntactMessageWithExactlyHowManyWereLost) {
    auto r = reader();
    // Each 100-byte message takes a 128-byte record. The writer evicts in batches of
    // capacity/16 bytes, so the ring keeps at least (4096 - 256 - 128) / 128 = 29 records.
    std::vector<std::uint8_t> buf(100);
    constexpr std::uint64_t total = 100;
    for (std::uint64_t i = 0; i < total; ++i) {
        std::memcpy(buf.data(), &i, 8);
        ASSERT_EQ(writer.write(buf.data(), buf.size()), errc::ok);
    }
    const broadcast_info info = info_of(name.c_str());
    const std::uint64_t retained = (info.head - info.tail) / 128;
    EXPECT_GE(retained, (4096u - 4096u / 16 - 128) / 128);
    EXPECT_LE(retained, 4096u / 128);
    EXPECT_TRUE(r.poll());  // lapped: ready, the read returns at once
    // The read that finds the lap returns the oldest intact message in the same call, with the
    // number lost just before it; no error.
    for (std::uint64_t i = total - retained; i < total; ++i) {
        auto m = r.try_read(buf.data(), buf.size());
        ASSERT_TRUE(m) << to_string(m.error()) << " at " << i;
        std::uint64_t got;
        std::memcpy(&got, buf.data(), 8);
        EXPECT_EQ(got, i);
        EXPECT_EQ(m->seq, i);
        const std::uint64_t lost_before = i == total - retained ? total - retained : 0;
        EXPECT_EQ(m->lost, lost_before) << i;
        EXPECT_EQ(r.lost(), lost_before) << i;  // the message last returned
        EXPECT_EQ(r.overruns(), 1u);
        EXPECT_EQ(r.total_lost(), total - retained);
    }
    EXPECT_EQ(r.try_read(buf.data(), buf.size()).error(), errc::empty);
    EXPECT_EQ(r.total_lost(), total - retained);

    // Lapped again: the counts add up, and a blocking read (no wait needed) does the same.
    for (std::uint64_t i = 0; i < total; ++i) {
        std::memcpy(buf.data(), &i, 8);
        ASSERT_EQ(writer.write(buf.data(), buf.size()), errc::ok);
    }
    const broadcast_info again = info_of(name.c_str());
    const std::uint64_t kept = (again.head - again.tail) / 128;
    auto m = r.read(buf.data(), buf.size(), std::chrono::seconds(0));
    ASSERT_TRUE(m) << to_string(m.error());
    EXPECT_EQ(m->seq, 2 * total - kept);
    EXPECT_EQ(m->lost, total - kept);
    EXPECT_EQ(r.overruns(), 2u);
    EXPECT_EQ(r.total_lost(), total - retained + total - kept);
}

// skip(): numbers the writer counts as lost reach readers as losses before the next message,
// like a lap's (lost, total_lost) but not as a lap (overruns).
TEST_F(Broadcast, SkippedNumbersAreLostBeforeTheNextMessage) {
    auto before = reader();
    ASSERT_EQ(write_string(writer, "a"), errc::ok);
    ASSERT_EQ(writer.skip(3), errc::ok);
    ASSERT_EQ(writer.skip(0), errc::ok);
    auto after = reader();  // attached after the skip: the loss happened before it came
    ASSERT_EQ(write_string(writer, "b"), errc::ok);
    ASSERT_EQ(write_string(writer, "c"), errc::ok);
    EXPECT_EQ(writer.messages_written(), 6u);

    std::vector<char> buf(64);
    auto a = before.try_read(buf.data(), buf.size());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->seq, 0u);
    EXPECT_EQ(a->lost, 0u);
    auto b = before.try_read(buf.data(), buf.size());
    ASSERT_TRUE(b) << to_string(b.error());
    EXPECT_EQ(std::string(buf.data(), b->size), "b");
    EXPECT_EQ(b->seq, 4u);
    EXPECT_EQ(b->lost, 3u);
    EXPECT_EQ(before.lost(), 3u);
    auto c = before.try_read(buf.data(), buf.size());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->seq, 5u);
    EXPECT_EQ(c->lost, 0u);
    EXPECT_EQ(before.total_lost(), 3u);
    EXPECT_EQ(before.overruns(), 0u);

    auto b2 = after.try_read(buf.data(), buf.size());
    ASSERT_TRUE(b2);
    EXPECT_EQ(b2->seq, 4u);
    EXPECT_EQ(b2->lost, 0u);
    EXPECT_EQ(after.total_lost(), 0u);

    // A reader asking for the newest after a skip with no message since starts at "c".
    ASSERT_EQ(writer.skip(2), errc::ok);
    broadcast_reader_options newest;
    newest.from_newest = true;
    auto n = reader(newest);
    auto got = n.try_read(buf.data(), buf.size());
    ASSERT_TRUE(got) << to_string(got.error());
    EXPECT_EQ(got->seq, 5u);
    ASSERT_EQ(write_string(writer, "d"), errc::ok);
    got = n.try_read(buf.data(), buf.size());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->seq, 8u);
    EXPECT_EQ(got->lost, 2u);

    // Numbers stay below 2^63: never near a wrap to 0.
    EXPECT_EQ(writer.skip(~std::uint64_t{0}), errc::invalid_argument);
    const std::uint64_t limit = std::uint64_t{1} << 63;
    EXPECT_EQ(writer.skip(limit - writer.messages_written()), errc::invalid_argument);
    EXPECT_EQ(writer.messages_written(), 9u);
    ASSERT_EQ(writer.skip(limit - 1 - writer.messages_written()), errc::ok);
    EXPECT_EQ(writer.skip(1), errc::invalid_argument);
    ASSERT_EQ(write_string(writer, "last"), errc::ok);  // carries 2^63 - 1
    got = n.try_read(buf.data(), buf.size());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->seq, limit - 1);
    EXPECT_EQ(got->lost, limit - 1 - 9);
}

// A record whose seq is above what the writer ever numbered is corruption, not a loss: a reader
// that meets one says invalid_layout rather than counting billions lost.
TEST_F(Broadcast, ASeqBeyondNextSeqIsCorruptNotALoss) {
    auto r = reader();
    ASSERT_EQ(write_string(writer, "a"), errc::ok);
    auto s = segment::open(name.c_str(), kind::broadcast, ring_header_size, os::access::read_write);
    ASSERT_TRUE(s);
    // The record's header at ring offset 0: word 1 holds its seq (core/SPEC.md "Records").
    auto* header = reinterpret_cast<atomic_u64*>(static_cast<std::uint8_t*>(s->base()) + broadcast_ring_offset);
    header[1].store(1000, order::relaxed);
    std::vector<char> buf(16);
    EXPECT_EQ(r.try_read(buf.data(), buf.size()).error(), errc::invalid_layout);
    // The same number once the writer did skip that far: a loss.
    auto r2 = reader();
    ASSERT_EQ(writer.skip(999), errc::ok);
    ASSERT_EQ(write_string(writer, "b"), errc::ok);
    auto m = r2.try_read(buf.data(), buf.size());
    ASSERT_TRUE(m) << to_string(m.error());
    EXPECT_EQ(m->seq, 1000u);
    EXPECT_EQ(m->lost, 999u);
}

// A skip just before a message that needs a pad at the end of the ring: the pad carries the
// skipped-to number, the loss is counted once.
TEST_F(Broadcast, SkippedNumbersBeforeAPadAreCountedOnce) {
    auto r = reader();
    std::vector<std::uint8_t> buf(496, 1);
    for (int i = 0; i < 7; ++i) ASSERT_EQ(writer.write(buf.data(), 496), errc::ok);
    ASSERT_EQ(writer.write(buf.data(), 400), errc::ok);  // 96 bytes left before the end
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(r.try_read(buf.data(), buf.size()));
    ASSERT_EQ(writer.skip(5), errc::ok);
    ASSERT_EQ(writer.write(buf.data(), 200), errc::ok);  // after a pad
    auto m = r.try_read(buf.data(), buf.size());
    ASSERT_TRUE(m) << to_string(m.error());
    EXPECT_EQ(m->seq, 13u);
    EXPECT_EQ(m->lost, 5u);
    EXPECT_EQ(r.total_lost(), 5u);
    // A lap after a skip still counts exactly: every number up to the oldest kept.
    ASSERT_EQ(writer.skip(10), errc::ok);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(writer.write(buf.data(), 496), errc::ok);
    m = r.try_read(buf.data(), buf.size());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->lost, m->seq - 14);
    EXPECT_EQ(r.total_lost(), 5 + m->seq - 14);
}

// A writer that opens the segment after another skipped (and closed) goes on from the
// skipped-to number. (A takeover from a dead writer: tests/mp/test_broadcast_crash.cpp.)
TEST_F(Broadcast, ANextWriterKeepsTheSkippedNumbers) {
    auto r = reader();
    ASSERT_EQ(writer.skip(7), errc::ok);
    writer.close();
    auto w = broadcast_writer::open(name.c_str());
    ASSERT_TRUE(w) << to_string(w.error());
    ASSERT_EQ(write_string(*w, "x"), errc::ok);
    std::vector<char> buf(16);
    auto m = r.try_read(buf.data(), buf.size());
    ASSERT_TRUE(m);
    EXPECT_EQ(m->seq, 7u);
    EXPECT_EQ(m->lost, 7u);
}

TEST_F(Broadcast, AbandonedReservationBeforeAWrapPublishesNoPad) {
    auto r = reader();
    // Records of 512 bytes (496 payload) x 7 = 3584, then one of 416 (400 payload), leave 96
    // bytes at the end of the 4096-byte ring.
    std::vector<std::uint8_t> buf(496, 1);
    for (int i = 0; i < 7; ++i) ASSERT_EQ(writer.write(buf.data(), 496), errc::ok);
    ASSERT_EQ(writer.write(buf.data(), 400), errc::ok);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(r.try_read(buf.data(), buf.size()));
    {
        auto big = writer.reserve(200);  // does not fit in the 96 bytes left: would need a pad
        ASSERT_TRUE(big);
        errc e;
        read_string(r, &e);  // a reader polling while the reservation is open
        EXPECT_EQ(e, errc::empty);
    }  // abandoned
    ASSERT_EQ(write_string(writer, "fits before the end"), errc::ok);  // 19 bytes: no pad needed
    EXPECT_EQ(read_string(r), "fits before the end");
}

TEST(BroadcastMemory, StalePayloadAfterTheNewestRecordIsNeverTakenForAHeader) {
    // Readers look for the next record past the newest one, where the bytes belong to an older
    // lap. Plant a perfect forged header there (right lap, right sequence number) inside an old
    // payload and check that a caught-up reader still reports empty.
    broadcast_config config;
    config.capacity = 1024;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[2048];
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w);
    auto r = broadcast_reader::attach(memory, size);
    ASSERT_TRUE(r);
    // Message 0 at offset 0 (a 496-byte record); at offset 32 its payload holds the forged
    // header of "message 4, lap 1, 8 bytes".
    std::uint8_t a[480] = {};
    const std::uint64_t forged_w0 = 8u | (std::uint64_t{1} << 32) | (std::uint64_t{1} << 35);
    const std::uint64_t forged_seq = 4;
    std::memcpy(a + 16, &forged_w0, 8);
    std::memcpy(a + 24, &forged_seq, 8);
    ASSERT_EQ(w->write(a, sizeof a), errc::ok);   // 0: [0, 496)
    ASSERT_EQ(w->write(a, sizeof a), errc::ok);   // 1: [496, 992)
    ASSERT_EQ(w->write(a, 0), errc::ok);          // 2: [992, 1008)
    char buf[480];
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(r->try_read(buf, sizeof buf));
    ASSERT_EQ(w->write(a, 8), errc::ok);          // 3: pad [1008, 1024), then [1024, 1056)
    auto m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->seq, 3u);
    // The reader is now at 1056, offset 32: exactly where the forged header was planted.
    EXPECT_EQ(r->try_read(buf, sizeof buf).error(), errc::empty);
}

TEST(BroadcastMemory, ReformattedMemoryShowsNoStaleMessage) {
    broadcast_config config;
    config.capacity = 1024;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[2048];
    {
        auto w = broadcast_writer::format(memory, size, config);
        ASSERT_TRUE(w);
        ASSERT_EQ(w->write("old message from a previous run", 31), errc::ok);
    }
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w);
    auto r = broadcast_reader::attach(memory, size);
    ASSERT_TRUE(r);
    char buf[64];
    EXPECT_EQ(r->try_read(buf, sizeof buf).error(), errc::empty);
    ASSERT_EQ(w->write("new", 3), errc::ok);
    auto m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(std::string(buf, m->size), "new");
    EXPECT_EQ(m->seq, 0u);
}

TEST(BroadcastConfig, CapacitiesThatWouldOverflowAreArgumentErrors) {
    unique_name name("bc-huge");
    broadcast_config c;
    c.capacity = ~std::uint64_t{0};  // rounding up to 16 used to wrap to a 256-byte ring
    EXPECT_EQ(broadcast_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    EXPECT_EQ(broadcast_writer::segment_size(c), 0u);
    c.capacity = max_segment_bytes + 1;
    EXPECT_EQ(broadcast_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    spsc_config s;
    s.capacity = ~std::uint64_t{0};
    EXPECT_EQ(spsc_producer::create(name.c_str(), s).error(), errc::invalid_argument);
    command_config k;
    k.capacity = ~std::uint64_t{0} - 8;
    EXPECT_EQ(command_reader::create(name.c_str(), k).error(), errc::invalid_argument);
    block_config b;
    b.size = ~std::uint64_t{0};
    EXPECT_EQ(block::create(name.c_str(), b).error(), errc::invalid_argument);
    EXPECT_EQ(block::segment_size(b), 0u);
}

TEST(BroadcastMemory, MisalignedMemoryIsRefused) {
    broadcast_config config;
    config.capacity = 1024;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[4096];
    ASSERT_TRUE(broadcast_writer::format(memory, size, config));
    // The same valid bytes at an address that is not 64-byte aligned: atomics there would be
    // misaligned (SIGBUS on ARM), so attaching is refused.
    std::memmove(memory + 8, memory, size);
    EXPECT_EQ(broadcast_reader::attach(memory + 8, size).error(), errc::invalid_argument);
    EXPECT_EQ(broadcast_writer::attach(memory + 8, size).error(), errc::invalid_argument);
    EXPECT_EQ(broadcast_writer::format(memory + 8, size, config).error(), errc::invalid_argument);
}

TEST_F(Broadcast, WrapsWithPadRecordsAtEveryOffset) {
    auto r = reader();
    // Sizes that leave every possible remainder at the ring's end, many laps.
    std::vector<std::uint8_t> out(writer.max_message()), in(writer.max_message());
    std::uint64_t seq = 0;
    for (int round = 0; round < 2000; ++round) {
        const std::size_t size = (static_cast<std::size_t>(round) * 37) % 700;
        test::message_codec::fill(out.data(), size < 16 ? 16 : size, seq);
        ASSERT_EQ(writer.write(out.data(), size < 16 ? 16 : size), errc::ok);
        auto m = r.try_read(in.data(), in.size());
        ASSERT_TRUE(m) << to_string(m.error()) << " round " << round;
        std::uint64_t index;
        ASSERT_TRUE(test::message_codec::verify(in.data(), m->size, &index));
        EXPECT_EQ(index, seq);
        EXPECT_EQ(m->seq, seq);
        ++seq;
    }
}

TEST_F(Broadcast, ReservationCommitsInPlace) {
    auto r = reader();
    {
        auto slot = writer.reserve(64);
        ASSERT_TRUE(slot);
        std::memcpy(slot->data(), "zero-copy", 9);
        slot->commit(9);  // a shorter commit than reserved
    }
    EXPECT_EQ(read_string(r), "zero-copy");
}

TEST_F(Broadcast, AbandonedReservationPublishesNothing) {
    auto r = reader();
    {
        auto slot = writer.reserve(64);
        ASSERT_TRUE(slot);
        std::memset(slot->data(), 'x', 64);
    }  // dropped on an error path
    errc e;
    read_string(r, &e);
    EXPECT_EQ(e, errc::empty);
    ASSERT_EQ(write_string(writer, "next"), errc::ok);
    EXPECT_EQ(read_string(r), "next");
    const broadcast_info info = info_of(name.c_str());
    EXPECT_EQ(info.abandoned, 1u);
    EXPECT_EQ(info.messages, 1u);
}

TEST_F(Broadcast, SecondWriterIsRefusedWhileTheFirstLives) {
    EXPECT_EQ(broadcast_writer::open(name.c_str()).error(), errc::busy);
    writer.close();
    auto second = broadcast_writer::open(name.c_str());
    EXPECT_TRUE(second) << to_string(second.error());
}

// Takes the writer role, writes one message, and dies holding the role.
SHMKIT_TEST_ROLE(broadcast_write_and_die) {
    auto w = broadcast_writer::open(args.text(0).c_str());
    if (!w) return 1;
    if (write_string(*w, "from the first writer") != errc::ok) return 2;
    std::_Exit(0);  // dies holding the role
}

TEST_F(Broadcast, DeadWritersRoleIsTakenOver) {
    auto r = reader();  // holds the segment: on Windows it vanishes with its last handle
    writer.close();
    child dead("broadcast_write_and_die", {name.c_str()});
    ASSERT_EQ(dead.wait(), 0);
    EXPECT_FALSE(r.writer_alive());
    auto w = broadcast_writer::open(name.c_str());
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_TRUE(r.writer_alive());
    ASSERT_EQ(write_string(*w, "from the second writer"), errc::ok);
    EXPECT_EQ(read_string(r), "from the first writer");
    EXPECT_EQ(read_string(r), "from the second writer");
}

// Opens a reader, says so, and sleeps in read() until the test writes "now".
SHMKIT_TEST_ROLE(broadcast_blocked_reader) {
    auto cr = broadcast_reader::open(args.text(0).c_str());
    if (!cr) return 1;
    auto ready = test::shared<std::atomic<int>>::open(args.text(1));
    ready->store(1);
    char b[64];
    auto m = cr->read(b, sizeof b, wait_forever);  // sleeps in the kernel until we write
    return (m && std::string(b, m->size) == "now") ? 0 : 2;
}

TEST_F(Broadcast, BlockingReadTimesOutAndWakesOnData) {
    auto r = reader();
    char buf[64];
    EXPECT_EQ(r.read(buf, sizeof buf, std::chrono::milliseconds(1)).error(), errc::timeout);
    EXPECT_EQ(r.wait(std::chrono::milliseconds(1)), errc::timeout);
    test::shared<std::atomic<int>> ready;
    child blocked_reader("broadcast_blocked_reader", {name.c_str(), ready.name()});
    test::spin_until([&] { return ready->load() == 1 && test::asleep(blocked_reader.pid()); });
    ASSERT_EQ(write_string(writer, "now"), errc::ok);
    EXPECT_EQ(blocked_reader.wait(), 0);
    auto m = r.read(buf, sizeof buf, wait_forever);
    ASSERT_TRUE(m);
    EXPECT_EQ(std::string(buf, m->size), "now");
}

TEST_F(Broadcast, ReadOnlyReaderCanReadButNotBlock) {
    broadcast_reader_options ro;
    ro.read_only = true;
    auto r = reader(ro);
    ASSERT_EQ(write_string(writer, "visible"), errc::ok);
    EXPECT_EQ(read_string(r), "visible");
    char buf[16];
    // Refused before any sleep, so a long timeout returns at once; a zero timeout needs no sleep
    // and, as anywhere, expires: timeout.
    EXPECT_EQ(r.read(buf, sizeof buf, std::chrono::seconds(10)).error(), errc::access_denied);
    EXPECT_EQ(r.read(buf, sizeof buf, std::chrono::seconds(0)).error(), errc::timeout);
    EXPECT_EQ(r.try_read(buf, sizeof buf).error(), errc::empty);
    EXPECT_EQ(broadcast_writer::open(name.c_str()).error(), errc::busy);
    // Which of the two is decided by the timeout asked for, not by the clock when the refusal
    // comes: a 1 ns timeout has always passed by then, yet it asked to wait.
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(r.read(buf, sizeof buf, std::chrono::nanoseconds(1)).error(), errc::access_denied) << i;
    }
    // wait() and select() follow the same rule; select() does not announce itself on the
    // read-only mapping (the store would fault).
    EXPECT_EQ(r.wait(std::chrono::seconds(0)), errc::timeout);
    EXPECT_EQ(r.wait(std::chrono::seconds(10)), errc::access_denied);
    const select_source source = r.waitable();
    EXPECT_EQ(select(&source, 1, std::chrono::seconds(0)).error(), errc::timeout);
    EXPECT_EQ(select(&source, 1, std::chrono::seconds(10)).error(), errc::access_denied);
    ASSERT_EQ(write_string(writer, "ready"), errc::ok);
    auto ready = select(&source, 1, std::chrono::seconds(10));
    ASSERT_TRUE(ready);
    EXPECT_EQ(*ready, 0u);
}

TEST_F(Broadcast, ClosedHandlesSayNotOpen) {
    broadcast_reader none;
    char buf[8];
    EXPECT_EQ(none.try_read(buf, sizeof buf).error(), errc::not_open);
    broadcast_writer moved = std::move(writer);
    EXPECT_EQ(writer.write("x", 1), errc::not_open);
    EXPECT_EQ(moved.write("x", 1), errc::ok);
}

TEST(BroadcastMemory, WorksOverCallerGivenMemory) {
    broadcast_config config;
    config.capacity = 1024;
    config.max_message = 100;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[2048];
    ASSERT_LE(size, sizeof memory);
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_EQ(w->max_message(), 100u);
    auto r = broadcast_reader::attach(memory, size);
    ASSERT_TRUE(r);
    ASSERT_EQ(w->write("hello", 5), errc::ok);
    char buf[100];
    auto m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(std::string(buf, m->size), "hello");
    broadcast_info info;
    ASSERT_EQ(inspect_broadcast(memory, size, &info), errc::ok);
    EXPECT_EQ(info.messages, 1u);
    EXPECT_TRUE(info.writer.held);
    EXPECT_TRUE(info.writer.alive);
    EXPECT_EQ(broadcast_writer::format(memory, size, broadcast_config{1024, 600}).error(), errc::invalid_argument);
}

}  // namespace
}  // namespace shmkit
