// A writer killed at any point never makes a reader accept a torn or half-written record, and
// its role can be taken over.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/broadcast.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::message_codec;
using test::shared;
using test::unique_name;

std::string text(const std::uint8_t* p, std::size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }


// Writes ten complete messages, then hangs half-way through an eleventh.
SHMKIT_TEST_ROLE(broadcast_crash_mid_message) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    auto w = broadcast_writer::open(args.text(0).c_str());
    if (!w) return 1;
    for (int i = 0; i < 10; ++i) {
        if (w->write("complete", 8) != errc::ok) return 2;
    }
    auto slot = w->reserve(1000);
    if (!slot) return 3;
    std::memset(slot->data(), 'h', 500);  // half of it
    stage->store(1);
    for (;;) os::yield();  // killed here, mid-message
}

TEST(BroadcastCrash, WriterKilledMidMessagePublishesNothingAndIsTakenOver) {
    unique_name name("kill");
    broadcast_config config;
    config.capacity = 64u << 10;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    auto r = broadcast_reader::open(name.c_str());  // holds the segment (on Windows it vanishes with its last handle)
    ASSERT_TRUE(r);
    w->close();  // the role is free, the segment stays
    shared<std::atomic<int>> stage;
    child writer("broadcast_crash_mid_message", {name.c_str(), stage.name()});
    test::spin_until([&] { return stage->load() == 1; });
    EXPECT_EQ(writer.kill_and_wait(), test::killed_status);

    std::vector<std::uint8_t> buf(r->max_message());
    for (int i = 0; i < 10; ++i) {
        auto m = r->try_read(buf.data(), buf.size());
        ASSERT_TRUE(m) << to_string(m.error());
        EXPECT_EQ(text(buf.data(), m->size), "complete");
    }
    EXPECT_EQ(r->try_read(buf.data(), buf.size()).error(), errc::empty);  // never the half message
    EXPECT_FALSE(r->writer_alive());

    auto successor = broadcast_writer::open(name.c_str());
    ASSERT_TRUE(successor) << to_string(successor.error());
    EXPECT_TRUE(r->writer_alive());
    ASSERT_EQ(successor->write("successor", 9), errc::ok);
    auto m = r->try_read(buf.data(), buf.size());
    ASSERT_TRUE(m);
    EXPECT_EQ(text(buf.data(), m->size), "successor");
    EXPECT_EQ(m->seq, 10u);  // the abandoned message never had a sequence number: no gap
}

// Takes over the writer role and writes checkable messages of random sizes, counting them in
// `written`, until it is killed.
SHMKIT_TEST_ROLE(broadcast_crash_write_forever) {
    auto written = shared<std::atomic<std::uint64_t>>::open(args.text(1));
    auto w = broadcast_writer::open(args.text(0).c_str());
    if (!w) return 1;
    std::vector<std::uint8_t> out(2048);
    std::mt19937 sizes(os::self().pid);
    for (std::uint64_t i = w->messages_written();; ++i) {
        const std::size_t n = message_codec::fill(out.data(), 16 + sizes() % 2000, i);
        if (w->write(out.data(), n) != errc::ok) return 2;
        written->fetch_add(1);
    }
}

TEST(BroadcastCrash, WritersKilledAtRandomPointsNeverTearARecord) {
    unique_name name("randkill");
    broadcast_config config;
    config.capacity = 32u << 10;  // small: the writer wraps and evicts constantly
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    auto r = broadcast_reader::open(name.c_str());  // holds the segment (on Windows it vanishes with its last handle)
    ASSERT_TRUE(r);
    w->close();
    shared<std::atomic<std::uint64_t>> written;  // messages each writer has published
    std::mt19937 rng(7);
    std::vector<std::uint8_t> buf(r->max_message());
    std::uint64_t expected_seq = 0, delivered = 0, lost = 0;
    auto drain = [&] {
        for (;;) {
            auto m = r->try_read(buf.data(), buf.size());
            if (!m) {
                ASSERT_EQ(m.error(), errc::empty);
                return;
            }
            lost += m->lost;  // a lap: this is the oldest intact message, m->lost were lost before it
            expected_seq += m->lost;
            std::uint64_t index;
            ASSERT_TRUE(message_codec::verify(buf.data(), m->size, &index)) << "torn record at seq " << m->seq;
            ASSERT_EQ(m->seq, expected_seq);
            ++expected_seq;
            ++delivered;
        }
    };
    for (int round = 0; round < 25; ++round) {
        written->store(0);
        child writer("broadcast_crash_write_forever", {name.c_str(), written.name()});
        // Let it run a random amount (until it has written a random number of messages), then
        // kill it wherever it happens to be.
        const std::uint64_t target = rng() % 5000;
        while (written->load() < target) drain();
        EXPECT_EQ(writer.kill_and_wait(), test::killed_status);
        drain();
    }
    EXPECT_GT(delivered, 0u);
    EXPECT_GT(lost + delivered, 0u);
}

// Leaves its identity behind and exits: a process id that is certainly dead once reaped.
SHMKIT_TEST_ROLE(broadcast_crash_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

// The one window a crash can leave half-done: the writer stored next_seq but not head. The
// message is complete, so a successor must publish it, and a reader that attaches meanwhile
// must neither skip nor duplicate it. Reproduced deterministically by rolling head back.
// died_before_next_seq: the writer stored the message header (readers that keep up can take
// the message from then on) but neither next_seq nor head.
// `skipped`: the writer skip()ped that many numbers just before the interrupted message.
void check_interrupted_publication(const std::vector<std::size_t>& fillers, bool died_before_next_seq = false,
                                   std::uint64_t skipped = 0) {
    broadcast_config config;
    config.capacity = 1024;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[4096];
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w);
    auto early = broadcast_reader::attach(memory, size);
    ASSERT_TRUE(early);
    char buf[512];
    for (std::size_t n : fillers) {
        std::vector<std::uint8_t> filler(n, 'f');
        ASSERT_EQ(w->write(filler.data(), filler.size()), errc::ok);
        ASSERT_TRUE(early->try_read(buf, sizeof buf));
    }
    if (skipped != 0) {
        ASSERT_EQ(w->skip(skipped), errc::ok);
    }
    const std::uint64_t seq = fillers.size() + skipped;
    auto* control = reinterpret_cast<broadcast_control*>(memory + broadcast_control_offset);
    const std::uint64_t head_before = control->head.load(order::relaxed);
    ASSERT_EQ(w->write("interrupted", 11), errc::ok);
    if (died_before_next_seq) {
        // A reader that keeps up consumes it by its header before the writer "dies".
        auto m = early->try_read(buf, sizeof buf);
        ASSERT_TRUE(m);
        EXPECT_EQ(std::string(buf, m->size), "interrupted");
        EXPECT_EQ(m->seq, seq);
        EXPECT_EQ(m->lost, skipped);
        control->next_seq.store(seq, order::relaxed);
    }
    // Undo the last store(s) of publish(): the state of a writer killed part-way through.
    control->head.store(head_before, order::relaxed);
    // Hand the role to a dead process, as if this writer had been killed.
    shared<os::process_id> dead_id;
    child dead("broadcast_crash_record_identity", {dead_id.name()});
    ASSERT_EQ(dead.wait(), 0);
    control->writer.store(pack_process(*dead_id), order::relaxed);
    w = broadcast_writer{};  // its close() sees the role is no longer ours and leaves it

    auto late = broadcast_reader::attach(memory, size);  // attaches inside the window
    ASSERT_TRUE(late);
    EXPECT_EQ(late->next_seq(), died_before_next_seq ? seq : seq + 1);

    auto successor = broadcast_writer::attach(memory, size);
    ASSERT_TRUE(successor) << to_string(successor.error());
    EXPECT_GT(control->head.load(order::relaxed), head_before) << "the successor publishes it";
    ASSERT_EQ(successor->write("after", 5), errc::ok);

    if (!died_before_next_seq) {
        auto m = early->try_read(buf, sizeof buf);
        ASSERT_TRUE(m) << to_string(m.error());
        EXPECT_EQ(std::string(buf, m->size), "interrupted");
        EXPECT_EQ(m->seq, seq);
        EXPECT_EQ(m->lost, skipped);
    } else {
        // The late reader started at the old head: the message is visible there by its header.
        auto m = late->try_read(buf, sizeof buf);
        ASSERT_TRUE(m) << to_string(m.error());
        EXPECT_EQ(std::string(buf, m->size), "interrupted");
        EXPECT_EQ(m->seq, seq);
    }
    for (broadcast_reader* r : {&*early, &*late}) {
        auto m = r->try_read(buf, sizeof buf);
        ASSERT_TRUE(m) << to_string(m.error());
        EXPECT_EQ(std::string(buf, m->size), "after");
        EXPECT_EQ(m->seq, seq + 1);
        EXPECT_EQ(r->try_read(buf, sizeof buf).error(), errc::empty);
    }
}

TEST(BroadcastCrash, InterruptedPublicationIsCompletedBySuccessor) { check_interrupted_publication({100}); }

TEST(BroadcastCrash, MessageVisibleBeforeNextSeqIsAdoptedBySuccessor) {
    check_interrupted_publication({100}, /*died_before_next_seq=*/true);
}

TEST(BroadcastCrash, MessageVisibleBehindAPadBeforeNextSeqIsAdoptedBySuccessor) {
    check_interrupted_publication({480, 480, 0}, /*died_before_next_seq=*/true);
}

// The same windows after a skip(): the successor finds the message by the skipped-to number, and
// readers are told of the skipped ones exactly once.
TEST(BroadcastCrash, InterruptedPublicationAfterASkipIsCompletedBySuccessor) {
    check_interrupted_publication({100}, false, 5);
}

TEST(BroadcastCrash, MessageVisibleBeforeNextSeqAfterASkipIsAdoptedBySuccessor) {
    check_interrupted_publication({100}, true, 5);
}

TEST(BroadcastCrash, InterruptedPublicationAfterASkipAndAPadIsCompletedBySuccessor) {
    check_interrupted_publication({480, 480, 0}, false, 7);
}

// A writer killed right after skip(), before any message: its successor (a takeover) goes on
// from the skipped-to number.
TEST(BroadcastCrash, ASuccessorAfterADeadWritersSkipKeepsItsNumbers) {
    broadcast_config config;
    config.capacity = 1024;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    alignas(64) static std::uint8_t memory[4096];
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w);
    auto r = broadcast_reader::attach(memory, size);
    ASSERT_TRUE(r);
    ASSERT_EQ(w->write("a", 1), errc::ok);
    ASSERT_EQ(w->skip(5), errc::ok);
    auto* control = reinterpret_cast<broadcast_control*>(memory + broadcast_control_offset);
    shared<os::process_id> dead_id;
    child dead("broadcast_crash_record_identity", {dead_id.name()});
    ASSERT_EQ(dead.wait(), 0);
    control->writer.store(pack_process(*dead_id), order::relaxed);
    w = broadcast_writer{};
    const std::uint64_t takeovers = control->takeovers.load(order::relaxed);
    auto successor = broadcast_writer::attach(memory, size);
    ASSERT_TRUE(successor) << to_string(successor.error());
    EXPECT_EQ(control->takeovers.load(order::relaxed), takeovers + 1);  // a takeover, not a fresh claim
    ASSERT_EQ(successor->write("b", 1), errc::ok);
    char buf[16];
    auto m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->seq, 0u);
    m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m) << to_string(m.error());
    EXPECT_EQ(m->seq, 6u);
    EXPECT_EQ(m->lost, 5u);
}

TEST(BroadcastCrash, InterruptedPublicationAfterAPadIsCompletedBySuccessor) {
    // Records of 496 + 496 + 16 bytes leave 16 bytes at the end of the 1024-byte ring: the
    // next record needs 32, so it goes to the next lap behind a pad record.
    check_interrupted_publication({480, 480, 0});
}

}  // namespace
}  // namespace shmkit
