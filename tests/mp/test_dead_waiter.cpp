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
#include "support/forked_child.hpp"

namespace shmkit {
namespace {

using test::forked_child;
using test::shared;
using test::unique_name;

constexpr int messages = 2000;

// Starts `blocked_read` in a child, waits until it sleeps in the kernel, and kills it there.
template <class Read>
void kill_while_asleep(Read&& blocked_read) {
    shared<std::atomic<int>> started;
    forked_child reader([&] {
        started->store(1);
        blocked_read();
        return 0;
    });
    test::spin_until([&] { return started->load() == 1 && test::asleep(reader.pid()); });
    EXPECT_EQ(reader.kill_and_wait(), 128 + SIGKILL);
}

std::uint64_t wakes_during(const std::function<void()>& work) {
    const os::wait_statistics before = os::wait_statistics_of_this_process();
    work();
    return os::wait_statistics_of_this_process().wakes - before.wakes;
}

TEST(DeadWaiter, BroadcastReaderKilledInReadCostsTheWriterOneWake) {
    unique_name name("dead-bc");
    auto w = broadcast_writer::create(name.c_str());
    ASSERT_TRUE(w);
    kill_while_asleep([&] {
        auto r = broadcast_reader::open(name.c_str());
        char buf[64];
        if (r) static_cast<void>(r->read(buf, sizeof buf));
    });
    const std::uint64_t wakes = wakes_during([&] {
        for (int i = 0; i < messages; ++i) ASSERT_EQ(w->write("x", 1), errc::ok);
    });
    EXPECT_LE(wakes, 2u);  // was one per message
}

TEST(DeadWaiter, SpscConsumerKilledInPopCostsTheProducerOneWakeAndItsSuccessorWorks) {
    unique_name name("dead-spsc");
    spsc_config config;
    config.capacity = 1 << 20;
    auto p = spsc_producer::create(name.c_str(), config);
    ASSERT_TRUE(p);
    kill_while_asleep([&] {
        auto c = spsc_consumer::open(name.c_str());
        char buf[64];
        if (c) static_cast<void>(c->pop(buf, sizeof buf));
    });
    const std::uint64_t wakes = wakes_during([&] {
        for (int i = 0; i < messages; ++i) ASSERT_EQ(p->try_push("x", 1), errc::ok);
    });
    EXPECT_LE(wakes, 2u);
    auto successor = spsc_consumer::open(name.c_str());  // takes the dead consumer's role over
    ASSERT_TRUE(successor);
    char buf[8];
    for (int i = 0; i < messages; ++i) ASSERT_TRUE(successor->try_pop(buf, sizeof buf)) << i;
}

TEST(DeadWaiter, StreamReaderKilledInWaitCostsTheWriterOneWake) {
    unique_name name("dead-stream");
    stream_config config;
    config.type = dtype::uint64;
    config.shape[0] = 1;
    auto w = stream_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    kill_while_asleep([&] {
        auto r = stream_reader::open(name.c_str());
        std::uint64_t v;
        if (r) static_cast<void>(r->next(&v, sizeof v));
    });
    const std::uint64_t wakes = wakes_during([&] {
        for (std::uint64_t i = 0; i < messages; ++i) ASSERT_EQ(w->write(&i, sizeof i), errc::ok);
    });
    EXPECT_LE(wakes, 2u);
}

}  // namespace
}  // namespace shmkit
