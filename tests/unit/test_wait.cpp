#include <string>

#include <gtest/gtest.h>

#include "shmkit/detail/wait.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;

// Every test runs in both barrier modes (core/SPEC.md "Light and heavy barriers").
class Wait : public ::testing::TestWithParam<barrier_mode> {
protected:
    barrier_mode mode = GetParam();
    void SetUp() override {
        if (mode == barrier_mode::membarrier && !os::membarrier_usable()) {
            GTEST_SKIP() << "membarrier(GLOBAL_EXPEDITED) is not available here";
        }
    }
};

TEST_P(Wait, NotifyWithoutWaitersTouchesNothing) {
    wait_word w{};
    notify_all(w, mode);
    notify_all(w, mode);
    // The sequence only moves on the path that makes the wake syscall.
    EXPECT_EQ(w.sequence.load(order::relaxed), 0u);
    EXPECT_EQ(waiter_count(w.waiters.load(order::relaxed)), 0u);
}

TEST_P(Wait, ReadyConditionReturnsAtOnce) {
    wait_word w{};
    EXPECT_EQ(wait_until(w, mode, [] { return true; }, os::forever), errc::ok);
    EXPECT_EQ(waiter_count(w.waiters.load(order::relaxed)), 0u);
}

TEST_P(Wait, TimesOutAndUnregisters) {
    wait_word w{};
    EXPECT_EQ(wait_until(w, mode, [] { return false; }, deadline_after(std::chrono::milliseconds(5))), errc::timeout);
    EXPECT_EQ(waiter_count(w.waiters.load(order::relaxed)), 0u);
    EXPECT_EQ(wait_until(w, mode, [] { return false; }, deadline_after(nanoseconds(-1))), errc::timeout);
}

TEST_P(Wait, DeadlineSaturates) {
    EXPECT_EQ(deadline_after(wait_forever), os::forever);
    const std::uint64_t now = os::monotonic_ns();
    EXPECT_GE(deadline_after(nanoseconds(nanoseconds::max().count() - 1)), now);  // no wrap-around
}

struct cross_process_flag {
    wait_word w;
    atomic_u32 flag;
    std::atomic<int> waiting{0};
};

// The child's half of ping_pong: the even hand-offs.
SHMKIT_TEST_ROLE(wait_ping_pong) {
    auto s = shared<cross_process_flag>::open(args.text(0));
    const auto mode = args.value<barrier_mode>(1);
    const auto rounds = args.value<std::uint32_t>(2);
    const auto options = args.value<wait_options>(3);
    for (std::uint32_t i = 1; i <= rounds; i += 2) {
        if (wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == i; }, os::forever, options) != errc::ok) return 1;
        s->flag.store(i + 1, order::release);
        notify_all(s->w, mode);
    }
    return 0;
}

// `rounds` hand-offs of s->flag between this process and a child, each side blocking in
// wait_until (no timeout) until the other has moved it on.
void ping_pong(shared<cross_process_flag>& s, barrier_mode mode, std::uint32_t rounds, wait_options options = {}) {
    child other("wait_ping_pong", {s.name(), test::arg(mode), test::arg(rounds), test::arg(options)});
    for (std::uint32_t i = 0; i < rounds; i += 2) {
        s->flag.store(i + 1, order::release);
        notify_all(s->w, mode);
        ASSERT_EQ(wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == i + 2; }, os::forever, options), errc::ok);
    }
    EXPECT_EQ(other.wait(), 0);
}

// Announces itself, then blocks until s->flag is 1.
SHMKIT_TEST_ROLE(wait_for_flag) {
    auto s = shared<cross_process_flag>::open(args.text(0));
    const auto mode = args.value<barrier_mode>(1);
    s->waiting.store(1);
    const errc e = wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == 1; }, os::forever);
    return e == errc::ok ? 0 : 1;
}

TEST_P(Wait, WakesAWaiterInAnotherProcess) {
    shared<cross_process_flag> s;
    child waiter("wait_for_flag", {s.name(), test::arg(mode)});
    test::spin_until([&] { return s->waiting.load() == 1 && test::asleep(waiter.pid()); });  // a wake, not a spin
    s->flag.store(1, order::release);
    notify_all(s->w, mode);
    EXPECT_EQ(waiter.wait(), 0);
    EXPECT_EQ(waiter_count(s->w.waiters.load(order::relaxed)), 0u);
}

TEST_P(Wait, AWaiterKilledInItsSleepCostsOneWakeNotOnePerNotify) {
    shared<cross_process_flag> s;
    child waiter("wait_for_flag", {s.name(), test::arg(mode)});
    test::spin_until([&] { return s->waiting.load() == 1 && test::asleep(waiter.pid()); });
    ASSERT_EQ(waiter_count(s->w.waiters.load(order::relaxed)), 1u);
    EXPECT_EQ(waiter.kill_and_wait(), test::killed_status);  // its announcement stays behind
    const os::wait_statistics before = os::wait_statistics_of_this_process();
    for (int i = 0; i < 1000; ++i) notify_all(s->w, mode);
    const os::wait_statistics after = os::wait_statistics_of_this_process();
    // The first notify woke nobody and healed the count (its wake and the heal's); the other
    // 999 made no system call. Before heals, each of the 1000 made one.
    EXPECT_LE(after.wakes - before.wakes, 2u);
    EXPECT_EQ(waiter_count(s->w.waiters.load(order::relaxed)), 0u);
}

// Heals the word as fast as it can: stage 1 once it has healed, until the test sets stage 2.
SHMKIT_TEST_ROLE(wait_healer) {
    auto s = shared<cross_process_flag>::open(args.text(0));
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    heal_waiters(s->w);
    stage->store(1);
    while (stage->load() != 2) heal_waiters(s->w);
    return 0;
}

TEST_P(Wait, HealsNeverLoseALiveWaitersWakeup) {
    // The ping-pong below while a third process heals the word as fast as it can: every heal
    // discards both waiters' announcements, which they must notice and redo before sleeping.
    // A waiter that slept uncounted would miss its notify and hang the test (ctest timeout).
    shared<cross_process_flag> s;
    shared<std::atomic<int>> stage;
    child healer("wait_healer", {s.name(), stage.name()});
    test::spin_until([&] { return stage->load() == 1; });  // healing before the first hand-off
    wait_options sleep_at_once;
    sleep_at_once.spin = 0;
    ping_pong(s, mode, 2000, sleep_at_once);
    stage->store(2);
    EXPECT_EQ(healer.wait(), 0);
    EXPECT_GT(waiter_epoch(s->w.waiters.load(order::relaxed)), 0u);  // it did heal
}

TEST_P(Wait, ManyHandoffsNeverLoseAWakeup) {
    // Ping-pong 2000 times between two processes, both blocking: a single lost wake-up would
    // hang the test (caught by the ctest timeout).
    shared<cross_process_flag> s;
    ping_pong(s, mode, 2000);
}

INSTANTIATE_TEST_SUITE_P(Barriers, Wait, ::testing::Values(barrier_mode::fences, barrier_mode::membarrier),
                         [](const ::testing::TestParamInfo<barrier_mode>& p) {
                             return p.param == barrier_mode::fences ? std::string("fences") : std::string("membarrier");
                         });

}  // namespace
}  // namespace shmkit
