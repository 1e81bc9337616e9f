// kv from several processes (and threads, for TSan): writers on different keys and on the same
// key, readers checking that no value is ever torn, epochs exact.
#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/kv.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::spin_until;
using test::unique_name;

// A value is (writer, n) repeated over a length that depends on n: any mix of two writes shows.
std::size_t make_value(std::uint8_t* out, std::uint32_t writer, std::uint32_t n) {
    const std::size_t words = 1 + n % 15;
    for (std::size_t i = 0; i < words; ++i) {
        std::memcpy(out + 8 * i, &writer, 4);
        std::memcpy(out + 8 * i + 4, &n, 4);
    }
    return words * 8;
}
bool consistent(const std::uint8_t* v, std::size_t size) {
    if (size == 0 || size % 8 != 0 || size > 120) return false;
    std::uint32_t w, n;
    std::memcpy(&w, v, 4);
    std::memcpy(&n, v + 4, 4);
    if (size != 8 * (1 + n % 15)) return false;
    for (std::size_t i = 8; i < size; i += 8) {
        if (std::memcmp(v + i, v, 8) != 0) return false;
    }
    return true;
}

struct counters {
    std::atomic<int> ready{0}, stop{0};
    std::atomic<std::uint64_t> reads{0}, bad{0}, stale{0};
};

void read_until(kv_store& kv, std::uint64_t target, counters* c) {
    std::uint8_t buf[128];
    std::uint64_t reads = 0, bad = 0, stale = 0;
    for (std::uint64_t i = 0; reads < target; ++i) {
        auto v = kv.get(static_cast<std::uint32_t>(i % kv.key_count()), buf, sizeof buf);
        if (!v) {
            if (v.error() == errc::stale) ++stale;
            else if (v.error() != errc::empty) ++bad;
            continue;
        }
        ++reads;
        if (!consistent(buf, v->size)) ++bad;
    }
    c->reads.fetch_add(reads);
    c->bad.fetch_add(bad);
    c->stale.fetch_add(stale);
}

// Writer `w` alternates between the shared key 0 and its own key 1 + w. It keeps going until
// the reader has its million reads: they overlap throughout.
SHMKIT_TEST_ROLE(kv_mp_writer) {
    auto k = kv_store::open(args.text(0).c_str());
    if (!k) return 1;
    auto c = shared<counters>::open(args.text(1));
    auto writes = shared<std::atomic<std::uint64_t>>::open(args.text(2));
    const auto w = args.value<std::uint32_t>(3);
    std::uint8_t buf[128];
    c->ready.fetch_add(1);
    for (std::uint32_t n = 0; c->stop.load(std::memory_order_relaxed) == 0 || n < 1000; ++n) {
        const std::uint32_t key = n % 2 == 0 ? 0 : 1 + w;
        if (k->set(key, buf, make_value(buf, w, n)) != errc::ok) return 2;
        writes->fetch_add(1);
    }
    return 0;
}

// Once the `writers` writers have started, reads a million values, then stops the writers.
SHMKIT_TEST_ROLE(kv_mp_reader) {
    auto k = kv_store::open(args.text(0).c_str());
    if (!k) return 1;
    auto c = shared<counters>::open(args.text(1));
    const auto writers = args.value<int>(2);
    spin_until([&] { return c->ready.load() == writers; });
    read_until(*k, 1'000'000, &*c);
    c->stop.store(1);
    return 0;
}

TEST(KvProcesses, WritersOnSharedAndOwnKeysReadersNeverSeeTornValues) {
    unique_name name("kv-mp");
    const char* keys[] = {"shared", "own0", "own1"};
    kv_config cfg;
    cfg.max_value = 128;
    auto kv = kv_store::create(name.c_str(), keys, 3, cfg);
    ASSERT_TRUE(kv);
    shared<counters> c;
    shared<std::atomic<std::uint64_t>> writes;
    constexpr int writers = 2;
    std::vector<std::unique_ptr<child>> children;
    for (int w = 0; w < writers; ++w) {
        const std::vector<std::string> args{name.c_str(), c.name(), writes.name(), test::arg(static_cast<std::uint32_t>(w))};
        children.push_back(std::make_unique<child>("kv_mp_writer", args));
    }
    child reader("kv_mp_reader", {name.c_str(), c.name(), test::arg(writers)});
    EXPECT_EQ(reader.wait(), 0);
    for (auto& ch : children) EXPECT_EQ(ch->wait(), 0);
    EXPECT_EQ(c->bad.load(), 0u);
    EXPECT_GE(c->reads.load(), 1'000'000u);
    EXPECT_EQ(kv->epoch(), writes->load());  // exactly one ticket per write
    std::uint32_t changed[3];
    std::uint64_t now;
    auto n = kv->changed_since(0, changed, 3, &now);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(now, writes->load());
}

TEST(KvThreads, WritersAndReadersNeverSeeTornValues) {
    unique_name name("kv-th");
    const char* keys[] = {"a", "b"};
    kv_config cfg;
    cfg.max_value = 128;
    auto kv = kv_store::create(name.c_str(), keys, 2, cfg);
    ASSERT_TRUE(kv);
    counters c;
    std::vector<std::thread> threads;
    for (std::uint32_t w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            auto k = kv_store::open(name.c_str());
            ASSERT_TRUE(k);
            std::uint8_t buf[128];
            for (std::uint32_t n = 0; n < 20'000; ++n) ASSERT_EQ(k->set(n % 2, buf, make_value(buf, w, n)), errc::ok);
        });
    }
    std::thread reader([&] {
        auto k = kv_store::open(name.c_str());
        ASSERT_TRUE(k);
        read_until(*k, 200'000, &c);
    });
    for (auto& t : threads) t.join();
    reader.join();
    EXPECT_EQ(c.bad.load(), 0u);
    EXPECT_EQ(kv->epoch(), 40'000u);
}

// changed_since() with values while two threads write: every value it gives is whole, each
// key's epochs only grow, and once the writers are done the next call gives each key's last
// value (nothing missed, a stale read included: the epoch it returns then reads it again). The
// writers keep going until the watcher has made its calls: they overlap throughout.
TEST(KvThreads, ChangedValuesAreNeverTornAndTheLastWriteIsNeverMissed) {
    unique_name name("kv-th-changed");
    const char* keys[] = {"a", "b"};
    kv_config cfg;
    cfg.max_value = 128;
    auto kv = kv_store::create(name.c_str(), keys, 2, cfg);
    ASSERT_TRUE(kv);
    std::atomic<int> started{0}, stop{0};
    std::uint32_t final_write[2] = {0, 0};  // each writer's last n, read after join()
    std::vector<std::thread> threads;
    for (std::uint32_t w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            auto k = kv_store::open(name.c_str());
            ASSERT_TRUE(k);
            std::uint8_t buf[128];
            started.fetch_add(1);
            for (std::uint32_t n = 0;; ++n) {
                ASSERT_EQ(k->set(w, buf, make_value(buf, w, n)), errc::ok);
                if (stop.load() != 0 && n >= 1000) {
                    final_write[w] = n;
                    return;
                }
            }
        });
    }
    auto k = kv_store::open(name.c_str());
    ASSERT_TRUE(k);
    std::uint8_t buf[128];
    std::uint64_t since = 0, bad = 0;
    std::uint64_t epochs[2] = {0, 0};
    std::uint32_t last[2] = {0, 0};
    const auto watch = [&] {
        auto n = k->changed_since(since, buf, sizeof buf, &since, [&](std::uint32_t index, const result<kv_value_info>& v) {
            if (!v) {
                if (v.error() != errc::stale) ++bad;  // stale: a writer held the key through every retry
                return;
            }
            std::uint32_t writer, seq;
            std::memcpy(&writer, buf, 4);
            std::memcpy(&seq, buf + 4, 4);
            if (!consistent(buf, v->size) || writer != index || v->epoch < epochs[index]) ++bad;
            epochs[index] = v->epoch;
            last[index] = seq;
        });
        if (!n) ++bad;
    };
    spin_until([&] { return started.load() == 2; });
    for (int i = 0; i < 20'000; ++i) watch();
    stop.store(1);
    for (auto& t : threads) t.join();
    watch();
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(last[0], final_write[0]);
    EXPECT_EQ(last[1], final_write[1]);
    EXPECT_EQ(since, kv->epoch());
}

}  // namespace
}  // namespace shmkit
