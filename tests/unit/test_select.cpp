#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::spin_until;
using test::unique_name;
using namespace std::chrono_literals;

// Runs every test once per wait_any method: futex_waitv (where the kernel has it) and the
// helper-thread fallback that older kernels use.
class Select : public ::testing::TestWithParam<os::wait_any_method> {
protected:
    unique_name bc_name{"sel-bc"}, spsc_name{"sel-spsc"}, cmd_name{"sel-cmd"};
    broadcast_writer bw;
    broadcast_reader br;
    spsc_producer sp;
    spsc_consumer sc;
    command_reader cr;
    select_source sources[3];

    void SetUp() override {
        os::set_wait_any_method(GetParam());
        if (GetParam() == os::wait_any_method::futex_waitv &&
            os::wait_any_method_in_use() != os::wait_any_method::futex_waitv) {
            GTEST_SKIP() << "this kernel (or qemu-user) has no futex_waitv";
        }
        bw = std::move(broadcast_writer::create(bc_name.c_str())).value();
        br = std::move(broadcast_reader::open(bc_name.c_str())).value();
        sp = std::move(spsc_producer::create(spsc_name.c_str())).value();
        sc = std::move(spsc_consumer::open(spsc_name.c_str())).value();
        command_options o;
        o.liveness_period_ns = 10'000'000;
        cr = std::move(command_reader::create(cmd_name.c_str(), {}, o)).value();
        sources[0] = br.waitable();
        sources[1] = sc.waitable();
        sources[2] = cr.waitable();
    }
    void TearDown() override { os::set_wait_any_method(os::wait_any_method::automatic); }
};

TEST_P(Select, ReportsWhichSourceIsReady) {
    EXPECT_EQ(select(sources, 3, 0ns).error(), errc::timeout);
    ASSERT_EQ(sp.try_push("x", 1), errc::ok);
    EXPECT_EQ(*select(sources, 3, 0ns), 1u);
    char buf[8];
    ASSERT_TRUE(sc.try_pop(buf, sizeof buf));
    ASSERT_EQ(bw.write("y", 1), errc::ok);
    EXPECT_EQ(*select(sources, 3, 0ns), 0u);
    ASSERT_TRUE(br.try_read(buf, sizeof buf));
    EXPECT_EQ(select(sources, 3, 1ms).error(), errc::timeout);
}

// Writes one message to source `which` (0: the broadcast, 1: the spsc ring, 2: the command
// ring, named by the next three arguments) once the test says go.
SHMKIT_TEST_ROLE(select_write_to_one_source) {
    auto go = shared<std::atomic<int>>::open(args.text(4));
    const auto which = args.value<std::size_t>(0);
    spin_until([&] { return go->load() != 0; });
    os::sleep_ns(2'000'000);  // let the parent fall asleep in select
    if (which == 0) {
        auto w = broadcast_writer::open(args.text(1).c_str());
        return (w && w->write("b", 1) == errc::ok) ? 0 : 1;
    }
    if (which == 1) {
        auto w = spsc_producer::open(args.text(2).c_str());
        return (w && w->try_push("s", 1) == errc::ok) ? 0 : 2;
    }
    auto w = command_writer::open(args.text(3).c_str());
    return (w && w->write("c", 1) == errc::ok) ? 0 : 3;
}

TEST_P(Select, SleepsUntilAnotherProcessWritesToAnySource) {
    bw.close();  // the writer roles go to the child processes
    sp.close();
    for (std::size_t which = 0; which < 3; ++which) {
        shared<std::atomic<int>> go;
        child writer("select_write_to_one_source",
                     {test::arg(which), bc_name.c_str(), spsc_name.c_str(), cmd_name.c_str(), go.name()});
        go->store(1);
        auto r = select(sources, 3, wait_forever);
        ASSERT_TRUE(r) << to_string(r.error());
        EXPECT_EQ(*r, which);
        EXPECT_EQ(writer.wait(), 0);
        char buf[8];
        static_cast<void>(br.try_read(buf, sizeof buf));
        static_cast<void>(sc.try_pop(buf, sizeof buf));
        static_cast<void>(cr.try_read(buf, sizeof buf));
    }
}

TEST_P(Select, TimesOutWithoutEarlyReturns) {
    EXPECT_EQ(select(sources, 3, 20ms).error(), errc::timeout);
    // The waiter counts are back to zero: notifiers are free of syscalls again.
    EXPECT_EQ(waiter_count(sources[0].word->waiters.load(order::relaxed)), 0u);
    EXPECT_EQ(waiter_count(sources[1].word->waiters.load(order::relaxed)), 0u);
    EXPECT_EQ(waiter_count(sources[2].word->waiters.load(order::relaxed)), 0u);
}

// Claims room in the command ring and waits to be killed with the claim open.
SHMKIT_TEST_ROLE(select_abandon_command_claim) {
    auto claimed = shared<std::atomic<int>>::open(args.text(1));
    auto w = command_writer::open(args.text(0).c_str());
    if (!w) return 1;
    auto slot = w->try_reserve(8);
    claimed->store(1);
    for (;;) os::yield();
}

TEST_P(Select, ACommandClaimAbandonedByADeadWriterWakesTheSelect) {
    shared<std::atomic<int>> claimed;
    child victim("select_abandon_command_claim", {cmd_name.c_str(), claimed.name()});
    test::spin_until([&] { return claimed->load() == 1; });
    EXPECT_EQ(victim.kill_and_wait(), test::killed_status);
    auto w = command_writer::open(cmd_name.c_str());
    ASSERT_TRUE(w);
    ASSERT_EQ(w->try_write("after", 5), errc::ok);
    // select wakes once per liveness period to let the reader look at the dead claim.
    char buf[8];
    for (;;) {
        auto r = select(&sources[2], 1, 10s);
        ASSERT_TRUE(r) << to_string(r.error());
        auto m = cr.try_read(buf, sizeof buf);
        if (m) {
            EXPECT_EQ(std::string(buf, m->size), "after");
            break;
        }
        ASSERT_EQ(m.error(), errc::empty);
    }
    EXPECT_EQ(cr.abandoned(), 1u);
}

TEST_P(Select, RefusesBadArguments) {
    EXPECT_EQ(select(nullptr, 0, 0ns).error(), errc::invalid_argument);
    select_source none;  // what a closed handle's waitable() gives
    EXPECT_EQ(select(&none, 1, 0ns).error(), errc::not_open);
    wait_word word{};
    select_source no_check;
    no_check.word = &word;
    EXPECT_EQ(select(&no_check, 1, 0ns).error(), errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Methods, Select,
                         ::testing::Values(os::wait_any_method::futex_waitv, os::wait_any_method::helper_threads),
                         [](const ::testing::TestParamInfo<os::wait_any_method>& p) {
                             return p.param == os::wait_any_method::futex_waitv ? std::string("futex_waitv")
                                                                                : std::string("helper_threads");
                         });

}  // namespace
}  // namespace shmkit
