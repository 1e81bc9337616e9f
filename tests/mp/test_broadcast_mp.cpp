// Multi-process and multi-thread broadcast tests. The process variants exercise real shared
// memory between processes; the thread variants exist so ThreadSanitizer (which cannot see
// across processes) checks the same algorithms.
#include <memory>
#include <random>
#include <thread>
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

struct tally {
    std::uint64_t delivered = 0, lost = 0, overruns = 0, bad = 0;
};

// Reads until `total` messages are accounted for (delivered or reported lost), checking that
// every delivered message is intact and that sequence numbers and loss counts agree exactly.
// The slow reader's pause. Under wine the writer waits about a millisecond for each wake of
// the fast readers, so only a longer pause lets it lap the slow one there.
#if defined(_WIN32)
constexpr std::uint64_t slow_pause_ns = 20'000'000;
#else
constexpr std::uint64_t slow_pause_ns = 200'000;
#endif

tally consume(broadcast_reader& r, std::uint64_t total, std::uint32_t slow_every = 0) {
    tally t;
    std::vector<std::uint8_t> buf(r.max_message());
    std::uint64_t expected = 0;
    while (t.delivered + t.lost < total) {
        auto m = r.read(buf.data(), buf.size(), wait_forever);
        if (!m) {
            // stale: lapped again and again within one call; what was lost is reported with the
            // next message.
            if (m.error() == errc::stale) continue;
            ADD_FAILURE() << "read failed: " << to_string(m.error()) << " after " << t.delivered;
            ++t.bad;
            break;
        }
        // A lap is reported with the message it returns: the oldest intact one.
        if (m->lost != 0) {
            t.lost += m->lost;
            ++t.overruns;
            expected += m->lost;
        }
        if (r.lost() != m->lost) ++t.bad;
        std::uint64_t index;
        if (!message_codec::verify(buf.data(), m->size, &index) || index != expected || m->seq != expected) ++t.bad;
        expected = m->seq + 1;
        ++t.delivered;
        if (slow_every != 0 && t.delivered % slow_every == 0) os::sleep_ns(slow_pause_ns);
    }
    return t;
}

// Odd messages go through write() (copied in by atomic words), even ones through reserve()
// and a plain memcpy into the slot, as zero-copy applications do.
void produce(broadcast_writer& w, std::uint64_t total, std::uint32_t max_size, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::uint32_t> size(16, max_size);
    std::vector<std::uint8_t> buf(max_size);
    for (std::uint64_t i = 0; i < total; ++i) {
        const std::size_t n = message_codec::fill(buf.data(), size(rng), i);
        if (i % 2 == 1) {
            ASSERT_EQ(w.write(buf.data(), n), errc::ok);
        } else {
            auto slot = w.reserve(n);
            ASSERT_TRUE(slot);
            std::memcpy(slot->data(), buf.data(), n);
            slot->commit();
        }
    }
}

struct start_gate {
    std::atomic<int> ready{0};
    tally results[8];
};

// Reader `i` of run_processes: attaches, says so, and leaves its tally in the gate.
SHMKIT_TEST_ROLE(broadcast_mp_reader) {
    auto gate = shared<start_gate>::open(args.text(1));
    const auto i = args.value<int>(2);
    const auto total = args.value<std::uint64_t>(3);
    const auto slow_every = args.value<std::uint32_t>(4);
    auto r = broadcast_reader::open(args.text(0).c_str());
    if (!r) return 1;
    gate->ready.fetch_add(1);
    gate->results[i] = consume(*r, total, slow_every);
    return 0;
}

// Starts `readers` reader processes, waits until all are attached, then writes `total`
// random-size messages. Returns each reader's tally.
std::vector<tally> run_processes(const char* name, std::uint64_t capacity, int readers, std::uint64_t total,
                                 std::uint32_t max_size, std::uint32_t slow_every = 0) {
    broadcast_config config;
    config.capacity = capacity;
    auto w = broadcast_writer::create(name, config);
    EXPECT_TRUE(w) << to_string(w.error());
    if (!w) return {};
    shared<start_gate> gate;
    std::vector<std::unique_ptr<child>> children;
    for (int i = 0; i < readers; ++i) {
        const std::uint32_t slow = i == 0 ? slow_every : 0;
        children.push_back(std::make_unique<child>(
            "broadcast_mp_reader",
            std::initializer_list<std::string>{name, gate.name(), test::arg(i), test::arg(total), test::arg(slow)}));
    }
    test::spin_until([&] { return gate->ready.load() == readers; });
    produce(*w, total, max_size, 1234);
    std::vector<tally> out;
    for (int i = 0; i < readers; ++i) {
        EXPECT_EQ(children[static_cast<std::size_t>(i)]->wait(), 0) << "reader " << i;
        out.push_back(gate->results[i]);
    }
    return out;
}

TEST(BroadcastProcesses, OneWriterFourReadersEveryMessageInOrderNoneTorn) {
    unique_name name("mp4");
    constexpr std::uint64_t total = 100'000 / test::stress_divisor;
    // A ring larger than everything written (about 23 MiB of records for sizes 16..400), so
    // no reader can be lapped and all must arrive. 32 MiB fits Docker's 64 MB /dev/shm.
    const auto results = run_processes(name.c_str(), 32u << 20, 4, total, 400);
    ASSERT_EQ(results.size(), 4u);
    for (const tally& t : results) {
        EXPECT_EQ(t.bad, 0u);
        EXPECT_EQ(t.delivered, total);
        EXPECT_EQ(t.lost, 0u);
    }
}

TEST(BroadcastProcesses, LappedReadersNeverSeeATornRecordAndLossIsExact) {
    unique_name name("lap");
    constexpr std::uint64_t total = 100'000 / test::stress_divisor;
    // A 16 KiB ring and messages up to 2 KiB: readers are lapped constantly; reader 0 is slow.
    const auto results = run_processes(name.c_str(), 16u << 10, 3, total, 2048, /*slow_every=*/64);
    ASSERT_EQ(results.size(), 3u);
    for (const tally& t : results) {
        EXPECT_EQ(t.bad, 0u);
        EXPECT_EQ(t.delivered + t.lost, total);
    }
    EXPECT_GT(results[0].overruns, 0u) << "the slow reader must have been lapped";
    EXPECT_GT(results[0].lost, 0u);
}

// First attaches at the newest message while the writer waits, which must be message
// `newest`; then says how that went (`gate`: 1 as expected, 2 not) and attaches `attaches` more
// times while the writer keeps writing into a small ring (so the walk to the newest is often
// lapped): each first message must then be intact and no older than `newest`.
SHMKIT_TEST_ROLE(broadcast_mp_newest_reader) {
    broadcast_reader_options o;
    o.from_newest = true;
    const auto newest = args.value<std::uint64_t>(1);
    auto gate = shared<std::atomic<int>>::open(args.text(2));
    const auto attaches = args.value<int>(3);
    std::vector<std::uint8_t> buf(4096);
    // 0, or why the first message read after attaching is not what it must be.
    const auto attach_and_read = [&](bool writer_waiting) -> int {
        auto r = broadcast_reader::open(args.text(0).c_str(), o);
        if (!r) return 10 + static_cast<int>(r.error());
        if (r->next_seq() < newest) return 2;
        // While the writer waits the newest message is there: it is read without waiting.
        auto m = writer_waiting ? r->try_read(buf.data(), buf.size()) : r->read(buf.data(), buf.size(), wait_forever);
        if (!m && m.error() == errc::stale && !writer_waiting) return 0;  // lapped again and again
        if (!m) return 40 + static_cast<int>(m.error());
        std::uint64_t index;
        if (!message_codec::verify(buf.data(), m->size, &index) || index != m->seq) return 3;
        if (writer_waiting && (m->seq != newest || m->lost != 0)) return 4;
        return m->seq < newest ? 5 : 0;
    };
    const int first = attach_and_read(true);
    gate->store(first == 0 ? 1 : 2);
    if (first != 0) return first;
    for (int i = 0; i < attaches; ++i) {
        if (const int e = attach_and_read(false); e != 0) return e;
    }
    return 0;
}

TEST(BroadcastProcesses, AReaderAttachingAtTheNewestGetsItAlsoWhileTheWriterWrites) {
    unique_name name("newest-mp");
    broadcast_config config;
    config.capacity = 8u << 10;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w) << to_string(w.error());
    constexpr std::uint64_t before = 100;  // many laps of the ring, random sizes (pads)
    produce(*w, before, 700, 99);
    shared<std::atomic<int>> gate;
    child reader("broadcast_mp_newest_reader", {name.c_str(), test::arg(before - 1), gate.name(),
                                                test::arg(static_cast<int>(200 / test::stress_divisor))});
    test::spin_until([&] { return gate->load() != 0; });
    std::atomic<int> done{0};
    std::thread waiter([&] {
        EXPECT_EQ(reader.wait(), 0);
        done.store(1);
    });
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> size(16, 700);
    std::vector<std::uint8_t> buf(700);
    for (std::uint64_t i = before; done.load() == 0; ++i) {
        ASSERT_EQ(w->write(buf.data(), message_codec::fill(buf.data(), size(rng), i)), errc::ok);
    }
    waiter.join();
}

TEST(BroadcastThreads, LappedReadersNeverSeeATornRecord) {
    broadcast_config config;
    config.capacity = 8u << 10;
    const std::uint64_t size = broadcast_writer::segment_size(config);
    std::vector<std::uint64_t> storage(size / 8 + 8);
    void* memory = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t{63});
    auto w = broadcast_writer::format(memory, size, config);
    ASSERT_TRUE(w);
    constexpr std::uint64_t total = 50'000 / test::stress_divisor;
    std::vector<tally> results(3);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (std::size_t i = 0; i < results.size(); ++i) {
        threads.emplace_back([&, i] {
            auto r = broadcast_reader::attach(memory, size);
            ASSERT_TRUE(r);
            ready.fetch_add(1);
            results[i] = consume(*r, total, i == 0 ? 16 : 0);
        });
    }
    while (ready.load() != static_cast<int>(results.size())) std::this_thread::yield();
    produce(*w, total, 1024, 99);
    for (auto& t : threads) t.join();
    for (const tally& t : results) {
        EXPECT_EQ(t.bad, 0u);
        EXPECT_EQ(t.delivered + t.lost, total);
    }
}

}  // namespace
}  // namespace shmkit
