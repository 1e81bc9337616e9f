// A reader killed while asleep in a blocking read leaves its announcement in the wait word.
// Writers must not pay a system call per message for it forever: the first notify that wakes
// nobody heals the count (core/SPEC.md "Wait word"). Counted with the port's wait statistics,
// not timed.
#include <functional>

#include <gtest/gtest.h>

#include "shmkit/broadcast.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;

constexpr int messages = 2000;

// Starts `role` (a reader that announces itself, then blocks in a read) on segment `name` in a
// child, waits until it sleeps in the kernel, and kills it there.
void kill_while_asleep(const char* role, const char* name) {
    shared<std::atomic<int>> started;
    child reader(role, {name, started.name()});
    test::spin_until([&] { return started->load() == 1 && test::asleep(reader.pid()); });
    EXPECT_EQ(reader.kill_and_wait(), test::killed_status);
}

std::uint64_t wakes_during(const std::function<void()>& work) {
    const os::wait_statistics before = os::wait_statistics_of_this_process();
    work();
    return os::wait_statistics_of_this_process().wakes - before.wakes;
}

SHMKIT_TEST_ROLE(dead_waiter_broadcast_read) {
    auto started = shared<std::atomic<int>>::open(args.text(1));
    auto r = broadcast_reader::open(args.text(0).c_str());
    if (!r) return 1;
    started->store(1);
    char buf[64];
    static_cast<void>(r->read(buf, sizeof buf));
    return 0;
}

TEST(DeadWaiter, BroadcastReaderKilledInReadCostsTheWriterOneWake) {
    unique_name name("dead-bc");
    auto w = broadcast_writer::create(name.c_str());
    ASSERT_TRUE(w);
    kill_while_asleep("dead_waiter_broadcast_read", name.c_str());
    const std::uint64_t wakes = wakes_during([&] {
        for (int i = 0; i < messages; ++i) ASSERT_EQ(w->write("x", 1), errc::ok);
    });
    EXPECT_LE(wakes, 2u);  // was one per message
}

SHMKIT_TEST_ROLE(dead_waiter_spsc_pop) {
    auto started = shared<std::atomic<int>>::open(args.text(1));
    auto c = spsc_consumer::open(args.text(0).c_str());
    if (!c) return 1;
    started->store(1);
    char buf[64];
    static_cast<void>(c->pop(buf, sizeof buf));
    return 0;
}

TEST(DeadWaiter, SpscConsumerKilledInPopCostsTheProducerOneWakeAndItsSuccessorWorks) {
    unique_name name("dead-spsc");
    spsc_config config;
    config.capacity = 1 << 20;
    auto p = spsc_producer::create(name.c_str(), config);
    ASSERT_TRUE(p);
    kill_while_asleep("dead_waiter_spsc_pop", name.c_str());
    const std::uint64_t wakes = wakes_during([&] {
        for (int i = 0; i < messages; ++i) ASSERT_EQ(p->try_push("x", 1), errc::ok);
    });
    EXPECT_LE(wakes, 2u);
    auto successor = spsc_consumer::open(name.c_str());  // takes the dead consumer's role over
    ASSERT_TRUE(successor);
    char buf[8];
    for (int i = 0; i < messages; ++i) ASSERT_TRUE(successor->try_pop(buf, sizeof buf)) << i;
}

SHMKIT_TEST_ROLE(dead_waiter_stream_next) {
    auto started = shared<std::atomic<int>>::open(args.text(1));
    auto r = stream_reader::open(args.text(0).c_str());
    if (!r) return 1;
    started->store(1);
    std::uint64_t v;
    static_cast<void>(r->next(&v, sizeof v));
    return 0;
}

TEST(DeadWaiter, StreamReaderKilledInWaitCostsTheWriterOneWake) {
    unique_name name("dead-stream");
    stream_config config;
    config.type = dtype::uint64;
    config.shape[0] = 1;
    auto w = stream_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    kill_while_asleep("dead_waiter_stream_next", name.c_str());
    const std::uint64_t wakes = wakes_during([&] {
        for (std::uint64_t i = 0; i < messages; ++i) ASSERT_EQ(w->write(&i, sizeof i), errc::ok);
    });
    EXPECT_LE(wakes, 2u);
}

}  // namespace
}  // namespace shmkit
