// spsc between processes (and threads, for TSan): a million checksummed messages through a
// small ring with both sides blocking, and producers killed mid-write.
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/spsc.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::message_codec;
using test::shared;
using test::unique_name;

// A million (a fifth of it in the Windows build, see stress_divisor).
constexpr std::uint64_t message_count = 1'000'000 / test::stress_divisor;

// Pushes `total` messages of random sizes 16..max_size, alternating copy and zero-copy pushes.
int produce(spsc_producer& p, std::uint64_t first, std::uint64_t total, std::uint32_t max_size) {
    std::mt19937 rng(static_cast<std::uint32_t>(first) + 17);
    std::vector<std::uint8_t> buf(max_size);
    for (std::uint64_t i = first; i < first + total; ++i) {
        const std::size_t n = message_codec::fill(buf.data(), 16 + rng() % (max_size - 15), i);
        if (i % 2 == 0) {
            if (p.push(buf.data(), n, wait_forever) != errc::ok) return 1;
        } else {
            auto slot = p.reserve(n, wait_forever);
            if (!slot) return 2;
            std::memcpy(slot->data(), buf.data(), n);
            slot->commit();
        }
    }
    return 0;
}

// Pops `total` messages, checking every checksum, index and sequence number.
std::uint64_t consume(spsc_consumer& c, std::uint64_t first, std::uint64_t total) {
    std::vector<std::uint8_t> buf(c.max_message());
    std::uint64_t bad = 0;
    for (std::uint64_t i = first; i < first + total; ++i) {
        auto m = (i % 3 == 0) ? c.pop(buf.data(), buf.size(), wait_forever) : result<message_info>(errc::empty);
        if (i % 3 != 0) {
            auto v = c.peek(wait_forever);  // zero-copy for two in three
            if (!v) return total;
            std::memcpy(buf.data(), v->data, v->size);
            m = message_info{v->size, v->seq};
            c.release();
        }
        std::uint64_t index;
        if (!m || !message_codec::verify(buf.data(), m->size, &index) || index != i || m->seq != i) ++bad;
    }
    return bad;
}

SHMKIT_TEST_ROLE(spsc_mp_producer) {
    auto p = spsc_producer::open(args.text(0).c_str());
    return p ? produce(*p, 0, message_count, 256) : 9;
}

TEST(SpscProcesses, AMillionMessagesArriveIntactAndInOrder) {
    unique_name name("spsc-mp");
    spsc_config config;
    config.capacity = 64u << 10;  // small: both sides block on full and empty over and over
    auto c = spsc_consumer::create(name.c_str(), config);
    ASSERT_TRUE(c);
    child producer("spsc_mp_producer", {name.c_str()});
    EXPECT_EQ(consume(*c, 0, message_count), 0u);
    EXPECT_EQ(producer.wait(), 0);
}

TEST(SpscThreads, AMillionMessagesArriveIntactAndInOrder) {
    spsc_config config;
    config.capacity = 16u << 10;
    const std::uint64_t size = spsc_producer::segment_size(config);
    std::vector<std::uint64_t> storage(size / 8 + 8);
    void* memory = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t{63});
    auto p = spsc_producer::format(memory, size, config);
    ASSERT_TRUE(p);
    auto c = spsc_consumer::attach(memory, size);
    ASSERT_TRUE(c);
    const std::uint64_t total = message_count / 4;  // TSan runs this too
    int produced = -1;
    std::thread t([&] { produced = produce(*p, 0, total, 200); });
    EXPECT_EQ(consume(*c, 0, total), 0u);
    t.join();
    EXPECT_EQ(produced, 0);
}

// Produces messages from `next` on until message `last`, which it leaves half written: it says
// so in `progress` and waits to be killed.
SHMKIT_TEST_ROLE(spsc_mp_killed_producer) {
    auto p = spsc_producer::open(args.text(0).c_str());
    if (!p) return 1;
    auto progress = shared<std::atomic<std::uint64_t>>::open(args.text(1));
    const auto next = args.value<std::uint64_t>(2);
    const auto last = args.value<std::uint64_t>(3);
    std::vector<std::uint8_t> buf(1024);
    for (std::uint64_t i = next;; ++i) {
        const std::size_t n = message_codec::fill(buf.data(), 16 + i % 1000, i);
        auto slot = p->reserve(n, wait_forever);
        if (!slot) return 2;
        std::memcpy(slot->data(), buf.data(), n / 2);  // half written...
        if (i == last) {
            progress->store(~std::uint64_t{0});
            for (;;) os::yield();  // ...and killed here
        }
        std::memcpy(slot->data() + n / 2, buf.data() + n / 2, n - n / 2);
        slot->commit();
        progress->store(i + 1);
    }
}

TEST(SpscCrash, ProducerKilledMidWriteIsReplacedWithoutATornMessage) {
    unique_name name("spsc-kill");
    auto c = spsc_consumer::create(name.c_str());
    ASSERT_TRUE(c);
    std::uint64_t next = 0;
    for (int round = 0; round < 10; ++round) {
        shared<std::atomic<std::uint64_t>> progress;
        const std::uint64_t expected = next + 100 + static_cast<std::uint64_t>(round) * 37;
        child producer("spsc_mp_killed_producer", {name.c_str(), progress.name(), test::arg(next), test::arg(expected)});
        test::spin_until([&] { return progress->load() == ~std::uint64_t{0}; });
        EXPECT_EQ(producer.kill_and_wait(), test::killed_status);
        EXPECT_FALSE(c->producer_alive());
        EXPECT_EQ(consume(*c, next, expected - next), 0u);
        std::vector<std::uint8_t> b(2048);
        EXPECT_EQ(c->try_pop(b.data(), b.size()).error(), errc::empty);  // never the half message
        next = expected;
    }
}

}  // namespace
}  // namespace shmkit
