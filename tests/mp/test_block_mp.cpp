// block's lock under contention between processes (and threads, for TSan): readers never see
// a half-made update, writers never lose one, and a writer killed mid-update is reported. The
// typed view's several-value operations are seen whole from another process, and processes
// racing to open-or-create one block all end up with it.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/block.hpp"
#include "shmkit/typed.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;

// The protected state: two counters that every update increments together.
struct pair_state {
    std::uint64_t a, b;
};

int hammer(block& blk, int updates, int reads) {
    auto* p = reinterpret_cast<volatile pair_state*>(blk.data());
    for (int i = 0; i < updates; ++i) {
        unique_guard g(blk);
        if (g.status() != errc::ok) return 1;
        p->a = p->a + 1;
        p->b = p->b + 1;
    }
    for (int i = 0; i < reads; ++i) {
        shared_guard g(blk);
        if (g.status() != errc::ok) return 2;
        if (p->a != p->b) return 3;  // a torn update
    }
    return 0;
}

// One of the contending processes: updates and reads through a handle of its own, once every
// process is ready (each starts tens of milliseconds apart, longer than its work takes).
SHMKIT_TEST_ROLE(block_hammer) {
    const auto updates = args.value<int>(1);
    auto ready = shared<std::atomic<int>>::open(args.text(2));
    const auto procs = args.value<int>(3);
    auto b = block::open(args.text(0).c_str());
    if (!b) return 9;
    ready->fetch_add(1);
    test::spin_until([&] { return ready->load() == procs; });
    for (int round = 0; round < 10; ++round) {
        const int rc = hammer(*b, updates / 10, 50);
        if (rc != 0) return rc;
    }
    return 0;
}

TEST(BlockProcesses, ContendingReadersAndWritersKeepTheInvariant) {
    unique_name name("blk-mp");
    block_config config;
    config.size = sizeof(pair_state);
    auto owner = block::create(name.c_str(), config);
    ASSERT_TRUE(owner);
    constexpr int procs = 4, updates = 2000;
    shared<std::atomic<int>> ready;
    const std::vector<std::string> hammer_args{name.c_str(), test::arg(updates), ready.name(), test::arg(procs)};
    std::vector<std::unique_ptr<child>> children;
    for (int i = 0; i < procs; ++i) children.push_back(std::make_unique<child>("block_hammer", hammer_args));
    for (auto& c : children) EXPECT_EQ(c->wait(), 0);
    auto* p = reinterpret_cast<pair_state*>(owner->data());
    EXPECT_EQ(p->a, static_cast<std::uint64_t>(procs * updates));
    EXPECT_EQ(p->b, p->a);
}

TEST(BlockThreads, ContendingReadersAndWritersKeepTheInvariant) {
    block_config config;
    config.size = sizeof(pair_state);
    const std::uint64_t size = block::segment_size(config);
    std::vector<std::uint8_t> storage(size + 4096);
    void* memory = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 4095) & ~std::uintptr_t{4095});
    auto owner = block::format(memory, size, config);
    ASSERT_TRUE(owner);
    constexpr int threads = 4, updates = 1000;
    std::vector<int> rc(threads, -1);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back([&, i] {
            auto b = block::attach(memory, size);
            rc[static_cast<std::size_t>(i)] = b ? hammer(*b, updates, 200) : 9;
        });
    }
    for (auto& t : pool) t.join();
    for (int r : rc) EXPECT_EQ(r, 0);
    auto* p = reinterpret_cast<pair_state*>(owner->data());
    EXPECT_EQ(p->a, static_cast<std::uint64_t>(threads * updates));
}

// Takes the write lock, breaks the invariant, and waits to be killed before restoring it.
SHMKIT_TEST_ROLE(block_writer_killed_mid_update) {
    auto inside = shared<std::atomic<int>>::open(args.text(1));
    auto b = block::open(args.text(0).c_str());
    if (!b || b->lock(std::chrono::seconds(5)) != errc::ok) return 1;
    auto* p = reinterpret_cast<volatile pair_state*>(b->data());
    p->a = p->a + 1;  // the invariant is broken from here...
    inside->store(1);
    for (;;) os::yield();  // ...and the writer is killed before restoring it
}

TEST(BlockCrash, WriterKilledMidUpdateIsReportedToTheNextLocker) {
    unique_name name("blk-kill");
    block_config config;
    config.size = sizeof(pair_state);
    auto owner = block::create(name.c_str(), config);
    ASSERT_TRUE(owner);
    shared<std::atomic<int>> inside;
    child writer("block_writer_killed_mid_update", {name.c_str(), inside.name()});
    test::spin_until([&] { return inside->load() == 1; });
    EXPECT_EQ(writer.kill_and_wait(), test::killed_status);
    shared_guard g(*owner, std::chrono::seconds(5));
    EXPECT_EQ(g.status(), errc::owner_dead);
    auto* p = reinterpret_cast<pair_state*>(owner->data());
    EXPECT_NE(p->a, p->b);  // exactly the inconsistency the caller was warned about
}

// ---- typed updates of several values ----------------------------------------------------------

// One update: every field holds the same round number (the string as 8 decimal digits).
constexpr std::size_t mixed_numbers = 8;

// The string field of `round`: its 8 last decimal digits (empty for round 0, the block as created).
std::string round_digits(std::int64_t round) {
    if (round == 0) return {};
    char digits[24];
    std::snprintf(digits, sizeof digits, "%08lld", static_cast<long long>(round % 100'000'000));
    return digits;
}

struct mixed_progress {
    std::atomic<int> started;
    std::atomic<int> done;
};

// Writes rounds 1..n at offset 0, alternating the two ways of making one update of several
// values: write_mixed (one call), and single-value calls through a view made from a unique_guard.
SHMKIT_TEST_ROLE(block_mixed_writer) {
    auto progress = shared<mixed_progress>::open(args.text(1));
    const auto rounds = args.value<std::int64_t>(2);
    auto b = block::open(args.text(0).c_str());
    if (!b) return 9;
    typed_view per_call(*b);
    progress->started.store(1);
    for (std::int64_t round = 1; round <= rounds; ++round) {
        const std::string digits = round_digits(round);
        const typed_item text = typed_item::string(digits.data(), digits.size());
        const double f = static_cast<double>(round);
        if (round % 2 == 1) {
            const errc e = per_call.write_mixed_at(0, round, round, round, round, text, f, round, round, round, round);
            if (e != errc::ok) return 1;
        } else {
            unique_guard g(*b);
            if (g.status() != errc::ok) return 2;
            typed_view v(g);
            for (std::size_t i = 0; i < mixed_numbers / 2; ++i) {
                if (v.write(round) != errc::ok) return 3;
            }
            if (v.write_mixed(text, f) != errc::ok) return 3;
            for (std::size_t i = 0; i < mixed_numbers / 2; ++i) {
                if (v.write(round) != errc::ok) return 3;
            }
        }
    }
    progress->done.store(1);
    return 0;
}

TEST(BlockProcesses, SeveralValuesWrittenAsOneUpdateAreReadWhole) {
    unique_name name("blk-mixed");
    block_config config;
    config.size = 256;
    auto owner = block::create(name.c_str(), config);
    ASSERT_TRUE(owner);
    typed_view reader(*owner);
    const std::int64_t rounds = 20'000 / static_cast<std::int64_t>(test::stress_divisor);
    shared<mixed_progress> progress;
    child writer("block_mixed_writer", {name.c_str(), progress.name(), test::arg(rounds)});
    test::spin_until([&] { return progress->started.load() == 1; });
    std::uint64_t torn = 0, reads = 0;
    std::int64_t last = 0;
    for (bool finished = false; !finished;) {
        finished = progress->done.load() == 1;  // one more read once the writer is done
        std::int64_t n[mixed_numbers];
        char digits[9] = {};
        typed_string_out text{digits, 8};
        double f = -1;
        ASSERT_EQ(reader.read_mixed_at(0, n[0], n[1], n[2], n[3], text, f, n[4], n[5], n[6], n[7]), errc::ok)
            << "read " << reads;
        ++reads;
        // Whole: every field from one round (round 0: the block as created, all zero).
        bool whole = f == static_cast<double>(n[0]) && std::string(digits, text.size) == round_digits(n[0]);
        for (std::int64_t v : n) whole = whole && v == n[0];
        if (!whole) ++torn;
        EXPECT_GE(n[0], last) << "an older update after a newer one";
        last = n[0];
    }
    EXPECT_EQ(writer.wait(), 0);
    EXPECT_EQ(torn, 0u) << "of " << reads << " reads, some saw part of an update";
    EXPECT_EQ(last, rounds);
}

// ---- open_or_create ------------------------------------------------------------------------------

struct race_gate {
    std::atomic<int> ready;     // racers at the start line
    std::atomic<int> finished;  // racers that counted themselves in the block, or failed to
    std::atomic<int> leave;     // set once the test has opened the block (Windows)
};

// Adds one to the count at the start of the block: 0, or what went wrong.
int count_in(block& b) {
    if (b.lock() != errc::ok) return 2;
    std::int64_t count = 0;
    int rc = b.read_at(0, &count, sizeof count) == errc::ok ? 0 : 3;
    ++count;
    if (rc == 0 && b.write_at(0, &count, sizeof count) != errc::ok) rc = 3;
    b.unlock();
    return rc;
}

// Waits for every racer, then opens or creates the block, counts itself in it and exits. A racer
// that exits leaves its block stale if it created it: one still between its open and its create
// must not replace it. On Windows, where a segment goes with its last handle, it keeps the block
// open until the test has opened it too. Its exit code: 0, 10 + the errc of open_or_create, or
// count_in()'s.
SHMKIT_TEST_ROLE(block_open_or_create_racer) {
    auto gate = shared<race_gate>::open(args.text(1));
    const auto racers = args.value<int>(2);
    gate->ready.fetch_add(1);
    test::spin_until([&] { return gate->ready.load() == racers; });
    block_config config;
    config.size = 64;
    auto b = block::open_or_create(args.text(0).c_str(), config);
    const int rc = b ? count_in(*b) : 10 + static_cast<int>(b.error());
    gate->finished.fetch_add(1);
#if defined(_WIN32)
    test::spin_until([&] { return gate->leave.load() == 1; });
#endif
    return rc;
}

TEST(BlockProcesses, RacingOpenOrCreateShareOneBlock) {
    constexpr int racers = 4, rounds = 5;
    for (int round = 0; round < rounds; ++round) {
        unique_name name("blk-ooc");
        shared<race_gate> gate;
        const std::vector<std::string> racer_args{name.c_str(), gate.name(), test::arg(racers)};
        std::vector<std::unique_ptr<child>> children;
        for (int i = 0; i < racers; ++i) children.push_back(std::make_unique<child>("block_open_or_create_racer", racer_args));
        test::spin_until([&] { return gate->finished.load() == racers; });
        auto b = block::open(name.c_str());
        gate->leave.store(1);
        for (auto& c : children) EXPECT_EQ(c->wait(), 0) << "round " << round;
        ASSERT_TRUE(b);
        std::int64_t count = 0;
        ASSERT_EQ(b->read_at(0, &count, sizeof count), errc::ok);
        EXPECT_EQ(count, racers) << "the racers did not all count in one block";
    }
}

}  // namespace
}  // namespace shmkit
