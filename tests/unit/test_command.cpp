#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/command.hpp"
#include "shmkit/select.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::read_string;
using test::shared;
using test::unique_name;

command_options quick_liveness() {
    command_options o;
    o.liveness_period_ns = 10'000'000;
    return o;
}

struct Command : ::testing::Test {
    unique_name name{"cmd"};
    command_reader reader;
    void SetUp() override {
        command_config config;
        config.capacity = 4096;
        auto r = command_reader::create(name.c_str(), config, quick_liveness());
        ASSERT_TRUE(r) << to_string(r.error());
        reader = std::move(r).value();
    }
    command_writer writer() {
        auto w = command_writer::open(name.c_str());
        EXPECT_TRUE(w) << to_string(w.error());
        return w ? std::move(w).value() : command_writer{};
    }
};

TEST_F(Command, CommandsFromSeveralWritersArriveInClaimOrder) {
    auto a = writer();
    auto b = writer();
    ASSERT_EQ(a.try_write("a1", 2), errc::ok);
    ASSERT_EQ(b.try_write("b1", 2), errc::ok);
    ASSERT_EQ(a.try_write("a2", 2), errc::ok);
    EXPECT_EQ(read_string(reader), "a1");
    EXPECT_EQ(read_string(reader), "b1");
    EXPECT_EQ(read_string(reader), "a2");
    errc e;
    read_string(reader, &e);
    EXPECT_EQ(e, errc::empty);
}

TEST_F(Command, AClaimInProgressHoldsBackLaterCommandsUntilCommitted) {
    auto a = writer();
    auto b = writer();
    auto slot = a.try_reserve(16);
    ASSERT_TRUE(slot);
    ASSERT_EQ(b.try_write("second", 6), errc::ok);
    errc e;
    read_string(reader, &e);
    EXPECT_EQ(e, errc::empty);  // the first claim is still being filled
    EXPECT_FALSE(reader.poll());
    std::memcpy(slot->data(), "first", 5);
    slot->commit(5);  // shorter than claimed: the rest becomes a skip record
    EXPECT_TRUE(reader.poll());
    EXPECT_EQ(read_string(reader), "first");
    EXPECT_EQ(read_string(reader), "second");
}

TEST_F(Command, AbandonedReservationIsSkipped) {
    auto a = writer();
    { auto slot = a.try_reserve(100); }  // dropped on an error path
    ASSERT_EQ(a.try_write("after", 5), errc::ok);
    EXPECT_EQ(read_string(reader), "after");
    EXPECT_EQ(reader.abandoned(), 0u);  // not a dead writer: not counted
}

TEST_F(Command, FullWaitsAndTooLargeIsRefused) {
    auto a = writer();
    std::vector<std::uint8_t> big(a.max_message() + 1);
    EXPECT_EQ(a.try_write(big.data(), big.size()), errc::message_too_large);
    std::vector<std::uint8_t> msg(500);
    int n = 0;
    while (a.try_write(msg.data(), msg.size()) == errc::ok) ++n;
    EXPECT_EQ(n, 4096 / 528);
    EXPECT_EQ(a.try_write(msg.data(), msg.size()), errc::full);
    EXPECT_EQ(a.write(msg.data(), msg.size(), std::chrono::milliseconds(1)), errc::timeout);
    std::vector<std::uint8_t> buf(600);
    ASSERT_TRUE(reader.try_read(buf.data(), buf.size()));
    EXPECT_EQ(a.write(msg.data(), msg.size(), std::chrono::milliseconds(100)), errc::ok);
}

// Takes the reader role and dies holding it.
SHMKIT_TEST_ROLE(command_read_and_die) {
    auto r = command_reader::open(args.text(0).c_str());
    return r ? (std::_Exit(0), 0) : 1;  // dies holding the role
}

TEST_F(Command, OneReaderIsEnforcedAndADeadOneReplaced) {
    EXPECT_EQ(command_reader::open(name.c_str()).error(), errc::busy);
    auto a = writer();
    EXPECT_TRUE(a.reader_alive());
    ASSERT_EQ(a.try_write("kept", 4), errc::ok);
    reader = command_reader{};
    child dying("command_read_and_die", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);
    EXPECT_FALSE(a.reader_alive());
    auto r = command_reader::open(name.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(read_string(*r), "kept");
}

// Claims room for a command, fills part of it, says so, and waits to be killed.
SHMKIT_TEST_ROLE(command_claim_and_hang) {
    auto claimed = shared<std::atomic<int>>::open(args.text(1));
    auto w = command_writer::open(args.text(0).c_str());
    if (!w) return 1;
    auto slot = w->try_reserve(64);
    if (!slot) return 2;
    std::memset(slot->data(), 'x', 32);
    claimed->store(1);
    for (;;) os::yield();  // killed holding an uncommitted claim
}

TEST_F(Command, WriterKilledBetweenClaimAndCommitIsSkippedAndCounted) {
    shared<std::atomic<int>> claimed;
    child victim("command_claim_and_hang", {name.c_str(), claimed.name()});
    test::spin_until([&] { return claimed->load() == 1; });
    auto a = writer();
    ASSERT_EQ(a.try_write("behind it", 9), errc::ok);
    EXPECT_EQ(victim.kill_and_wait(), test::killed_status);
    // The reader waits one liveness period on the claim, sees its writer dead, skips it.
    char buf[64];
    auto m = reader.read(buf, sizeof buf, wait_forever);
    ASSERT_TRUE(m) << to_string(m.error());
    EXPECT_EQ(std::string(buf, m->size), "behind it");
    EXPECT_EQ(reader.abandoned(), 1u);
}

// Leaves its identity behind and exits: a process id that is certainly dead once reaped.
SHMKIT_TEST_ROLE(command_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

TEST_F(Command, ClaimLockHeldByADeadWriterIsRecovered) {
    auto s = segment::open(name.c_str(), kind::command, 128, os::access::read_write);
    ASSERT_TRUE(s);
    auto* control = reinterpret_cast<command_control*>(s->base() + 128);
    shared<os::process_id> dead_id;
    child dead("command_record_identity", {dead_id.name()});
    ASSERT_EQ(dead.wait(), 0);
    control->claim.owner.store(pack_process(*dead_id), order::relaxed);  // died inside the lock
    auto a = writer();
    ASSERT_EQ(a.write("through", 7, std::chrono::seconds(10)), errc::ok);
    EXPECT_EQ(read_string(reader), "through");
    command_info info;
    ASSERT_EQ(inspect_command(s->base(), s->size(), &info), errc::ok);
    EXPECT_EQ(info.lock_recoveries, 1u);
    EXPECT_FALSE(info.claim_lock.held);
}

// Over caller-given memory, so a test can damage the control block.
struct CommandInMemory : ::testing::Test {
    alignas(64) std::uint8_t memory[command_ring_offset + 4096] = {};
    command_control* control() {  // it sits right before the ring
        return reinterpret_cast<command_control*>(memory + command_ring_offset - sizeof(command_control));
    }
    command_reader format(const command_options& options) {
        command_config config;
        config.capacity = 4096;
        auto r = command_reader::format(memory, sizeof memory, config, options);
        EXPECT_TRUE(r) << to_string(r.error());
        return r ? std::move(r).value() : command_reader{};
    }
};

TEST_F(CommandInMemory, ImpossibleHeadIsReportedAtOnceNotSleptOn) {
    auto r = format({});
    // Off a record boundary; more than a ring ahead of the tail.
    for (std::uint64_t head : {std::uint64_t{8}, std::uint64_t{8192}}) {
        control()->head.store(head, order::relaxed);
        EXPECT_TRUE(r.poll()) << head;
        const select_source s = r.waitable();
        auto ready = select(&s, 1, nanoseconds(0));  // a look, no sleep: ready now or never
        EXPECT_TRUE(ready) << head << ": " << to_string(ready.error());
        char buf[64];
        EXPECT_EQ(r.try_read(buf, sizeof buf).error(), errc::invalid_layout) << head;
    }
}

TEST_F(CommandInMemory, ZeroLivenessPeriodNeverMakesALiveClaimReady) {
    command_options never_recheck;
    never_recheck.liveness_period_ns = 0;
    auto r = format(never_recheck);
    auto w = command_writer::attach(memory, sizeof memory);
    ASSERT_TRUE(w);
    auto slot = w->try_reserve(16);  // pending at the front, its writer alive
    ASSERT_TRUE(slot);
    const select_source s = r.waitable();
    for (int look = 0; look < 3; ++look) EXPECT_EQ(select(&s, 1, nanoseconds(0)).error(), errc::timeout);
    slot->commit();
    EXPECT_EQ(*select(&s, 1, nanoseconds(0)), 0u);
}

// Sends one command, to a reader asleep in another process.
SHMKIT_TEST_ROLE(command_send_wake) {
    auto w = command_writer::open(args.text(0).c_str());
    return (w && w->write("wake", 4) == errc::ok) ? 0 : 1;
}

TEST_F(Command, BlockingReadWakesAcrossProcesses) {
    char buf[64];
    EXPECT_EQ(reader.read(buf, sizeof buf, std::chrono::milliseconds(1)).error(), errc::timeout);
    child sender("command_send_wake", {name.c_str()});
    auto m = reader.read(buf, sizeof buf, wait_forever);
    ASSERT_TRUE(m);
    EXPECT_EQ(std::string(buf, m->size), "wake");
    EXPECT_EQ(sender.wait(), 0);
}

}  // namespace
}  // namespace shmkit
