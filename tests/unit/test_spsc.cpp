#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/spsc.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::spin_until;
using test::unique_name;

std::string pop_string(spsc_consumer& c, errc* error = nullptr) {
    char buf[4096];
    auto m = c.try_pop(buf, sizeof buf);
    if (error) *error = m ? errc::ok : m.error();
    return m ? std::string(buf, m->size) : std::string();
}

struct Spsc : ::testing::Test {
    unique_name name{"spsc"};
    spsc_producer producer;
    spsc_consumer consumer;
    void SetUp() override {
        spsc_config config;
        config.capacity = 1000;  // not a power of two (rounded up to 1008)
        auto p = spsc_producer::create(name.c_str(), config);
        ASSERT_TRUE(p) << to_string(p.error());
        producer = std::move(p).value();
        auto c = spsc_consumer::open(name.c_str());
        ASSERT_TRUE(c) << to_string(c.error());
        consumer = std::move(c).value();
    }
};

TEST_F(Spsc, AnyCapacityIsRoundedToSixteenNotAPowerOfTwo) {
    EXPECT_EQ(producer.capacity(), 1008u);
    // A message may span the whole ring but its header (the producer waits for the ring to drain).
    EXPECT_EQ(producer.max_message(), largest_frame(1008));
    EXPECT_EQ(producer.max_message(), 1008u - 16u);
}

TEST_F(Spsc, BothEndsSeeHowFullTheRingIs) {
    EXPECT_TRUE(producer.is_empty() && consumer.is_empty());
    EXPECT_EQ(producer.used(), 0u);
    EXPECT_EQ(consumer.free(), 1008u);
    ASSERT_EQ(producer.try_push("hello", 5), errc::ok);  // a 16-byte header and 16 bytes of payload
    EXPECT_EQ(producer.used(), 32u);
    EXPECT_EQ(consumer.used(), 32u);
    EXPECT_EQ(consumer.free(), 1008u - 32u);
    EXPECT_FALSE(producer.is_empty() || producer.is_full());
    while (producer.try_push("", 0) == errc::ok) {
    }
    EXPECT_TRUE(producer.is_full());
    EXPECT_TRUE(consumer.is_full());
    EXPECT_EQ(consumer.used(), 1008u);
    EXPECT_EQ(pop_string(consumer), "hello");
    EXPECT_EQ(producer.used(), 1008u - 32u);  // space comes back as the consumer pops
    EXPECT_FALSE(producer.is_full());
    EXPECT_EQ(spsc_consumer{}.used(), 0u);
    EXPECT_FALSE(spsc_producer{}.is_full());
}

TEST_F(Spsc, MessagesArriveInOrderWithSequenceNumbers) {
    for (int i = 0; i < 5; ++i) ASSERT_EQ(producer.try_push(std::to_string(i).data(), 1), errc::ok);
    char buf[8];
    for (std::uint64_t i = 0; i < 5; ++i) {
        auto m = consumer.try_pop(buf, sizeof buf);
        ASSERT_TRUE(m);
        EXPECT_EQ(buf[0], static_cast<char>('0' + i));
        EXPECT_EQ(m->seq, i);
    }
    errc e;
    pop_string(consumer, &e);
    EXPECT_EQ(e, errc::empty);
}

TEST_F(Spsc, FullIsReportedAndNothingIsOverwritten) {
    std::vector<std::uint8_t> msg(100, 'x');
    int pushed = 0;
    while (producer.try_push(msg.data(), msg.size()) == errc::ok) ++pushed;
    EXPECT_EQ(producer.try_push(msg.data(), msg.size()), errc::full);
    EXPECT_EQ(pushed, 1008 / 128);  // 100-byte messages take 128-byte records
    std::vector<std::uint8_t> buf(200);
    ASSERT_TRUE(consumer.try_pop(buf.data(), buf.size()));
    EXPECT_EQ(producer.try_push(msg.data(), msg.size()), errc::ok);
    int popped = 0;
    while (consumer.try_pop(buf.data(), buf.size())) ++popped;
    EXPECT_EQ(popped, pushed);
}

TEST_F(Spsc, WrapsManyTimesWithEverySize) {
    std::vector<std::uint8_t> out(producer.max_message()), in(producer.max_message());
    for (std::uint64_t i = 0; i < 3000; ++i) {
        const std::size_t n = test::message_codec::fill(out.data(), 16 + (i * 29) % (producer.max_message() - 16), i);
        errc pushed = producer.try_push(out.data(), n);
        if (pushed == errc::full) {
            // A message of more than half the ring that does not fit before the end: its pad went
            // first, and the message fits once the consumer has skipped the pad.
            EXPECT_GT(record_span(n), producer.capacity() / 2) << i;
            EXPECT_EQ(consumer.try_pop(in.data(), in.size()).error(), errc::empty);
            pushed = producer.try_push(out.data(), n);
        }
        ASSERT_EQ(pushed, errc::ok) << i;
        auto m = consumer.try_pop(in.data(), in.size());
        ASSERT_TRUE(m) << to_string(m.error());
        std::uint64_t index;
        ASSERT_TRUE(test::message_codec::verify(in.data(), m->size, &index));
        EXPECT_EQ(index, i);
    }
}

TEST_F(Spsc, TooLargeIsRefusedAndSmallBuffersConsumeNothing) {
    std::vector<std::uint8_t> big(producer.max_message() + 1);
    EXPECT_EQ(producer.try_push(big.data(), big.size()), errc::message_too_large);
    ASSERT_EQ(producer.try_push("0123456789", 10), errc::ok);
    char small[4];
    EXPECT_EQ(consumer.try_pop(small, sizeof small).error(), errc::message_too_large);
    EXPECT_EQ(consumer.pending_size(), 10u);
    EXPECT_EQ(pop_string(consumer), "0123456789");
}

TEST_F(Spsc, ZeroCopyOnBothSides) {
    {
        auto slot = producer.try_reserve(64);
        ASSERT_TRUE(slot);
        std::memcpy(slot->data(), "in place", 8);
        slot->commit(8);
    }
    {
        auto dropped = producer.try_reserve(64);  // abandoned: publishes nothing
        ASSERT_TRUE(dropped);
    }
    auto v = consumer.try_peek();
    ASSERT_TRUE(v);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->data), v->size), "in place");
    auto again = consumer.try_peek();  // peeking does not consume
    ASSERT_TRUE(again);
    EXPECT_EQ(again->data, v->data);
    consumer.release();
    errc e;
    pop_string(consumer, &e);
    EXPECT_EQ(e, errc::empty);
}

// Becomes the consumer and, once told, pops one message to make room for a blocked push.
SHMKIT_TEST_ROLE(spsc_pop_when_told) {
    auto c = spsc_consumer::open(args.text(0).c_str());
    if (!c) return 1;
    auto go = shared<std::atomic<int>>::open(args.text(1));
    spin_until([&] { return go->load() != 0; });
    std::vector<std::uint8_t> b(200);
    return c->pop(b.data(), b.size(), wait_forever) ? 0 : 2;
}

TEST_F(Spsc, BlockingCallsTimeOutAndWakeAcrossProcesses) {
    char buf[64];
    EXPECT_EQ(consumer.pop(buf, sizeof buf, std::chrono::milliseconds(1)).error(), errc::timeout);
    std::vector<std::uint8_t> msg(100);
    while (producer.try_push(msg.data(), msg.size()) == errc::ok) {
    }
    EXPECT_EQ(producer.push(msg.data(), msg.size(), std::chrono::milliseconds(1)), errc::timeout);
    // A consumer in another process frees space while our push sleeps in the kernel.
    consumer = spsc_consumer{};
    shared<std::atomic<int>> go;
    child other("spsc_pop_when_told", {name.c_str(), go.name()});
    go->store(1);
    EXPECT_EQ(producer.push(msg.data(), msg.size(), wait_forever), errc::ok);
    EXPECT_EQ(other.wait(), 0);
}

TEST_F(Spsc, OneProducerAndOneConsumerAreEnforced) {
    EXPECT_EQ(spsc_producer::open(name.c_str()).error(), errc::busy);
    EXPECT_EQ(spsc_consumer::open(name.c_str()).error(), errc::busy);
    EXPECT_TRUE(producer.consumer_alive());
    EXPECT_TRUE(consumer.producer_alive());
    producer.close();
    EXPECT_FALSE(consumer.producer_alive());
    EXPECT_TRUE(spsc_producer::open(name.c_str()));
}

// Takes the consumer role, pops one message, peeks at the next, and dies without releasing it.
SHMKIT_TEST_ROLE(spsc_consume_and_die) {
    auto c = spsc_consumer::open(args.text(0).c_str());
    if (!c) return 1;
    char b[16];
    if (!c->try_pop(b, sizeof b)) return 2;  // "first": consumed
    if (!c->try_peek()) return 3;            // "second": seen, not released
    std::_Exit(0);
}

TEST_F(Spsc, DeadConsumerIsReplacedAndUnreleasedMessageIsDeliveredAgain) {
    ASSERT_EQ(producer.try_push("first", 5), errc::ok);
    ASSERT_EQ(producer.try_push("second", 6), errc::ok);
    consumer = spsc_consumer{};
    child dying("spsc_consume_and_die", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);
    EXPECT_FALSE(producer.consumer_alive());
    auto c = spsc_consumer::open(name.c_str());
    ASSERT_TRUE(c) << to_string(c.error());
    EXPECT_EQ(pop_string(*c), "second");
    spsc_info info;
    auto s = segment::open(name.c_str(), kind::spsc, 128, os::access::read_only);
    ASSERT_TRUE(s);
    ASSERT_EQ(inspect_spsc(s->base(), s->size(), &info), errc::ok);
    EXPECT_EQ(info.consumer_takeovers, 1u);
    EXPECT_EQ(info.popped, 2u);
}

TEST_F(Spsc, ConsumerMayCreateAndProducerAttach) {
    unique_name other("spsc-c");
    auto c = spsc_consumer::create(other.c_str());
    ASSERT_TRUE(c);
    auto p = spsc_producer::open(other.c_str());
    ASSERT_TRUE(p);
    ASSERT_EQ(p->try_push("hi", 2), errc::ok);
    EXPECT_EQ(pop_string(*c), "hi");
}

// Leaves its identity behind and exits: a process id that is certainly dead once reaped.
SHMKIT_TEST_ROLE(spsc_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

TEST(SpscMemory, InterruptedPublicationIsCompletedByTheNextProducer) {
    spsc_config config;
    config.capacity = 1024;
    const std::uint64_t size = spsc_producer::segment_size(config);
    alignas(64) static std::uint8_t memory[2048];
    auto p = spsc_producer::format(memory, size, config);
    ASSERT_TRUE(p);
    auto c = spsc_consumer::attach(memory, size);
    ASSERT_TRUE(c);
    ASSERT_EQ(p->try_push("one", 3), errc::ok);
    auto* control = reinterpret_cast<spsc_control*>(memory + 128);
    const std::uint64_t head_before = control->head.load(order::relaxed);
    ASSERT_EQ(p->try_push("two", 3), errc::ok);
    control->head.store(head_before, order::relaxed);  // killed between `pushed` and `head`
    shared<os::process_id> dead_id;
    child dead("spsc_record_identity", {dead_id.name()});
    ASSERT_EQ(dead.wait(), 0);
    control->producer.store(pack_process(*dead_id), order::relaxed);
    p = spsc_producer{};
    auto next = spsc_producer::attach(memory, size);
    ASSERT_TRUE(next) << to_string(next.error());
    ASSERT_EQ(next->try_push("three", 5), errc::ok);
    for (const char* want : {"one", "two", "three"}) EXPECT_EQ(pop_string(*c), want);
}

TEST(SpscMemory, MisalignedOrCorruptPositionsAreRefused) {
    spsc_config config;
    config.capacity = 1024;
    const std::uint64_t size = spsc_producer::segment_size(config);
    alignas(64) static std::uint8_t memory[4096];
    ASSERT_TRUE(spsc_producer::format(memory, size, config));
    auto* control = reinterpret_cast<spsc_control*>(memory + 128);
    control->producer.store(0, order::relaxed);
    control->tail.store(8, order::relaxed);  // off a record boundary
    EXPECT_EQ(spsc_consumer::attach(memory, size).error(), errc::invalid_layout);
    control->tail.store(0, order::relaxed);
    control->head.store(4096, order::relaxed);  // more than the ring ahead
    EXPECT_EQ(spsc_producer::attach(memory, size).error(), errc::invalid_layout);
    control->head.store(0, order::relaxed);
    EXPECT_EQ(spsc_consumer::attach(memory + 16, size).error(), errc::invalid_argument);
}

}  // namespace
}  // namespace shmkit
