#include <string>

#include <gtest/gtest.h>

#include "shmkit/wait.hpp"
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
    EXPECT_EQ(w.waiters.load(order::relaxed), 0u);
}

TEST_P(Wait, ReadyConditionReturnsAtOnce) {
    wait_word w{};
    EXPECT_EQ(wait_until(w, mode, [] { return true; }, os::forever), errc::ok);
    EXPECT_EQ(w.waiters.load(order::relaxed), 0u);
}

TEST_P(Wait, TimesOutAndUnregisters) {
    wait_word w{};
    EXPECT_EQ(wait_until(w, mode, [] { return false; }, deadline_after(std::chrono::milliseconds(5))), errc::timeout);
    EXPECT_EQ(w.waiters.load(order::relaxed), 0u);
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

TEST_P(Wait, WakesAWaiterInAnotherProcess) {
    shared<cross_process_flag> s;
    child waiter([&] {
        s->waiting.store(1);
        const errc e = wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == 1; }, os::forever);
        return e == errc::ok ? 0 : 1;
    });
    test::spin_until([&] { return s->waiting.load() == 1; });
    s->flag.store(1, order::release);
    notify_all(s->w, mode);
    EXPECT_EQ(waiter.wait(), 0);
    EXPECT_EQ(s->w.waiters.load(order::relaxed), 0u);
}

TEST_P(Wait, ManyHandoffsNeverLoseAWakeup) {
    // Ping-pong 2000 times between two processes, both blocking: a single lost wake-up would
    // hang the test (caught by the ctest timeout).
    shared<cross_process_flag> s;
    constexpr std::uint32_t rounds = 2000;
    child other([&] {
        for (std::uint32_t i = 1; i <= rounds; i += 2) {
            if (wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == i; }, os::forever) != errc::ok) return 1;
            s->flag.store(i + 1, order::release);
            notify_all(s->w, mode);
        }
        return 0;
    });
    for (std::uint32_t i = 0; i < rounds; i += 2) {
        s->flag.store(i + 1, order::release);
        notify_all(s->w, mode);
        ASSERT_EQ(wait_until(s->w, mode, [&] { return s->flag.load(order::acquire) == i + 2; }, os::forever), errc::ok);
    }
    EXPECT_EQ(other.wait(), 0);
}

INSTANTIATE_TEST_SUITE_P(Barriers, Wait, ::testing::Values(barrier_mode::fences, barrier_mode::membarrier),
                         [](const ::testing::TestParamInfo<barrier_mode>& p) {
                             return p.param == barrier_mode::fences ? std::string("fences") : std::string("membarrier");
                         });

}  // namespace
}  // namespace shmkit
