#if !defined(_WIN32)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/block.hpp"
#include "shmkit/detail/robust_lock.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/typed.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::spin_until;
using test::unique_name;

using namespace std::chrono_literals;

struct Block : ::testing::Test {
    unique_name name{"block"};
    block owner;
    void SetUp() override {
        block_config config;
        config.size = 1000;
        config.reader_slots = 4;
        auto b = block::create(name.c_str(), config);
        ASSERT_TRUE(b) << to_string(b.error());
        owner = std::move(b).value();
    }
    block open(os::access access = os::access::read_write) {
        block_options o;
        o.access = access;
        o.lock.liveness_period_ns = 5'000'000;
        auto b = block::open(name.c_str(), o);
        EXPECT_TRUE(b) << to_string(b.error());
        return b ? std::move(b).value() : block{};
    }
};

TEST_F(Block, RawBytesAreSharedAndBoundsChecked) {
    EXPECT_EQ(owner.size(), 1000u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(owner.data()) % 4096, 0u);  // page-aligned data
    auto other = open();
    ASSERT_EQ(owner.write_at(990, "0123456789", 10), errc::ok);
    char buf[10];
    ASSERT_EQ(other.read_at(990, buf, 10), errc::ok);
    EXPECT_EQ(std::string(buf, 10), "0123456789");
    EXPECT_EQ(owner.write_at(991, "0123456789", 10), errc::out_of_range);
    EXPECT_EQ(owner.read_at(1001, buf, 0), errc::out_of_range);
    EXPECT_EQ(owner.write_at(~std::size_t{0}, buf, 2), errc::out_of_range);
}

TEST_F(Block, ReadOnlyAttachRefusesWritesAndFaultsOnStrayStores) {
    auto ro = open(os::access::read_only);
    EXPECT_FALSE(ro.writable());
    EXPECT_EQ(ro.write_at(0, "x", 1), errc::access_denied);
    EXPECT_TRUE(ro.can_lock());  // the lock pages stay writable for it
    shared_guard g(ro, 1s);
    EXPECT_EQ(g.status(), errc::ok);
    EXPECT_DEATH({ ro.data()[0] = 1; }, "");
}

TEST_F(Block, ReadersShareWritersExclude) {
    auto a = open();
    auto b = open();
    ASSERT_EQ(a.lock_shared(1s), errc::ok);
    ASSERT_EQ(b.lock_shared(1s), errc::ok);         // many readers
    EXPECT_EQ(owner.lock(10ms), errc::lock_timeout);  // no writer while they read
    a.unlock_shared();
    b.unlock_shared();
    ASSERT_EQ(owner.lock(1s), errc::ok);
    EXPECT_EQ(a.lock_shared(10ms), errc::lock_timeout);  // no reader while it writes
    EXPECT_EQ(b.lock(10ms), errc::lock_timeout);
    owner.unlock();
    EXPECT_EQ(a.lock_shared(1s), errc::ok);
    a.unlock_shared();
}

// Announces itself (stage 1), takes the write lock, waiting up to a minute for the readers
// to leave, and says so (stage 2).
SHMKIT_TEST_ROLE(block_waiting_writer) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    auto w = block::open(args.text(0).c_str());
    if (!w) return 1;
    stage->store(1);
    const errc e = w->lock(60s);  // waits for the reader to leave
    if (e != errc::ok) return 2;
    stage->store(2);
    w->unlock();
    return 0;
}

TEST_F(Block, AWaitingWriterIsNotStarvedByNewReaders) {
    auto reader = open();
    ASSERT_EQ(reader.lock_shared(1s), errc::ok);
    shared<std::atomic<int>> stage;
    child writer("block_waiting_writer", {name.c_str(), stage.name()});
    test::spin_until([&] { return stage->load() == 1; });
    // Give the writer time to claim the lock and start waiting (no timing assertion: if it
    // has not claimed yet, the late reader simply gets in; we check the outcome only when the
    // writer is known to be waiting).
    auto late = open();
    for (int i = 0; i < 2000 && owner.lock_shared(0ns) == errc::ok; ++i) {
        owner.unlock_shared();
        os::sleep_ns(1'000'000);
    }
    EXPECT_EQ(late.lock_shared(20ms), errc::lock_timeout) << "a waiting writer must block new readers";
    reader.unlock_shared();
    EXPECT_EQ(writer.wait(), 0);
    EXPECT_EQ(stage->load(), 2);
}

SHMKIT_TEST_ROLE(block_die_holding_the_write_lock) {
    auto w = block::open(args.text(0).c_str());
    if (!w || w->lock(1s) != errc::ok) return 1;
    std::memset(w->data(), 0xEE, 10);  // half an update
    std::_Exit(0);                     // dies holding the write lock
}

TEST_F(Block, WriterThatDiedHoldingTheLockIsRecoveredAndReported) {
    child dying("block_die_holding_the_write_lock", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);
    auto r = open();
    EXPECT_EQ(r.lock_shared(5s), errc::owner_dead);  // told the data may be inconsistent
    r.unlock_shared();
    EXPECT_EQ(r.lock_shared(5s), errc::owner_dead);  // ...and told again: a reader cannot repair it
    r.unlock_shared();
    EXPECT_EQ(owner.lock(5s), errc::owner_dead);  // the writer that repairs it
    std::memset(owner.data(), 0, 10);
    owner.mark_consistent();
    owner.unlock();
    EXPECT_EQ(r.lock_shared(5s), errc::ok);  // from now on, consistent
    r.unlock_shared();
    block_info info;
    auto s = segment::open(name.c_str(), kind::block, block_header_size, os::access::read_only);
    ASSERT_TRUE(s);
    ASSERT_EQ(inspect_block(s->base(), s->size(), &info), errc::ok);
    EXPECT_EQ(info.recoveries, 1u);
}

SHMKIT_TEST_ROLE(block_die_holding_a_read_lock) {
    auto r = block::open(args.text(0).c_str());
    if (!r || r->lock_shared(1s) != errc::ok) return 1;
    std::_Exit(0);  // dies holding a read lock
}

TEST_F(Block, ReaderThatDiedHoldingTheLockDoesNotBlockWriters) {
    child dying("block_die_holding_a_read_lock", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);
    EXPECT_EQ(owner.lock(5s), errc::ok);
    owner.unlock();
}

#if !defined(_WIN32)
// Takes the write lock in a second thread (stage 1), ends its main thread alone, and lets the
// lock go when told (stage 2), saying so (stage 3) as it exits.
SHMKIT_TEST_ROLE(block_hold_the_lock_past_the_main_thread) {
    auto opened = block::open(args.text(0).c_str());
    if (!opened) return 1;
    // On the heap: nothing of the main thread's may be used once it has ended.
    auto* b = new block(std::move(opened).value());
    auto* stage = new shared<std::atomic<int>>(shared<std::atomic<int>>::open(args.text(1)));
    std::thread([b, stage] {
        if (b->lock(std::chrono::seconds(5)) != errc::ok) std::_Exit(2);
        (*stage)->store(1);
        spin_until([&] { return (*stage)->load() == 2; });
        b->unlock();
        (*stage)->store(3);
        std::_Exit(0);
    }).detach();
    // The main thread ends (the raw exit syscall: no unwinding, no exit handlers); the worker
    // keeps the process alive.
    ::syscall(SYS_exit, 0);
    return 9;
}
#endif

TEST_F(Block, AProcessWhoseMainThreadExitedStillHoldsItsLock) {
#if defined(_WIN32)
    GTEST_SKIP() << "about POSIX liveness checks, which see such a process as a zombie in /proc; "
                    "a Windows process lives until its last thread exits";
#else
    // The main thread exits (the process shows as a zombie in /proc) while another thread holds
    // the write lock: the process is alive and its lock must not be taken.
    shared<std::atomic<int>> stage;
    child holder("block_hold_the_lock_past_the_main_thread", {name.c_str(), stage.name()});
    test::spin_until([&] { return stage->load() == 1; });
    os::sleep_ns(20'000'000);  // let the main thread finish exiting
    EXPECT_EQ(owner.lock(50ms), errc::lock_timeout) << "a live process's lock was taken";
    stage->store(2);
    test::spin_until([&] { return stage->load() == 3; });
    EXPECT_EQ(holder.wait(), 0);
    EXPECT_EQ(owner.lock(1s), errc::ok);
    owner.unlock();
#endif
}

// Whether this OS lets a lock waiter sleep until the holder exits (else it polls the holder's
// liveness once per liveness period, and the tests below that need it skip).
bool exit_watches_available() {
    os::exit_watch w;
    std::uint32_t word = 0;
    const errc e = os::watch_exit(os::self(), &word, &w);
    os::unwatch_exit(&w);
    return e == errc::ok;
}

// Takes the lock (exclusive or shared) and keeps it: the handle is leaked.
bool take_and_keep(const char* name, bool exclusive) {
    auto b = block::open(name);
    if (!b) return false;
    const errc e = exclusive ? b->lock(1s) : b->lock_shared(1s);
    if (e != errc::ok && e != errc::owner_dead) return false;  // a previous holder died with it
    new block(std::move(b).value());
    return true;
}

// Takes the lock (exclusive or shared: argument 2) and holds it until told to exit (stage 2;
// it exits holding it), or until killed. Stage 1 once it holds it, -1 if it could not.
SHMKIT_TEST_ROLE(block_hold_the_lock) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    if (!take_and_keep(args.text(0).c_str(), args.value<bool>(2))) {
        stage->store(-1);
        return 1;
    }
    stage->store(1);
    spin_until([&] { return stage->load() == 2; });
    std::fflush(nullptr);
    std::_Exit(0);  // exits holding it (no leak report for the handle it keeps on purpose)
}

// A child holding the lock from construction on (block_hold_the_lock).
struct holder_child {
    shared<std::atomic<int>> stage;
    child process;
    holder_child(const char* name, bool exclusive)
        : process("block_hold_the_lock", {name, stage.name(), test::arg(exclusive)}) {
        spin_until([&] { return stage->load() != 0; });
        EXPECT_EQ(stage->load(), 1) << "the holder could not take the lock";
    }
};

// Opens the block with the given options, announces itself (stage 1) and takes the lock
// (exclusive or shared) with no timeout. Its exit code is the errc, 255 if it could not open.
SHMKIT_TEST_ROLE(block_lock_without_timeout) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    auto b = block::open(args.text(0).c_str(), args.value<block_options>(2));
    if (!b) return 255;
    const bool exclusive = args.value<bool>(3);
    stage->store(1);
    return static_cast<int>(exclusive ? b->lock() : b->lock_shared());
}

TEST_F(Block, WaitingForALiveHolderIsIdle) {
    if (!exit_watches_available()) GTEST_SKIP() << "no exit watches here: lock waits poll the holder";
    // A liveness period of 5 ms used to mean 200 wake-ups a second while the holder lived.
    for (const bool exclusive : {true, false}) {
        holder_child h(name.c_str(), true);
        auto waiter = open();  // liveness period 5 ms
        const os::wait_statistics before = os::wait_statistics_of_this_process();
        EXPECT_EQ(exclusive ? waiter.lock(300ms) : waiter.lock_shared(300ms), errc::lock_timeout);
        const os::wait_statistics after = os::wait_statistics_of_this_process();
        EXPECT_LE(after.waits - before.waits, 2u) << (exclusive ? "lock" : "lock_shared");  // was ~60
        h.stage->store(2);
        EXPECT_EQ(h.process.wait(), 0);  // exits holding it: the next round's holder takes it over
    }
}

TEST_F(Block, ADeadHolderIsNoticedAtItsDeathNotAfterALivenessPeriod) {
    if (!exit_watches_available()) GTEST_SKIP() << "no exit watches here: lock waits poll the holder";
    block_options patient;
    patient.lock.liveness_period_ns = 3'600'000'000'000;  // an hour: only the exit watch can help
    for (const bool exclusive : {true, false}) {
        holder_child h(name.c_str(), true);
        // No timeout: only the holder's exit can end the locker's wait (a hang would fail the test).
        shared<std::atomic<int>> locking;
        child locker("block_lock_without_timeout",
                     {name.c_str(), locking.name(), test::arg(patient), test::arg(exclusive)});
        spin_until([&] { return locking->load() == 1 && test::asleep(locker.pid()); });
        EXPECT_EQ(h.process.kill_and_wait(), test::killed_status);
        EXPECT_EQ(locker.wait(), static_cast<int>(errc::owner_dead)) << (exclusive ? "lock" : "lock_shared");
        ASSERT_EQ(owner.lock(1s), errc::owner_dead);  // repair for the next round
        owner.mark_consistent();
        owner.unlock();
    }
}

TEST_F(Block, AWriterWaitingForADeadReadersLockIsWokenAtItsDeath) {
    if (!exit_watches_available()) GTEST_SKIP() << "no exit watches here: lock waits poll the holder";
    block_options patient;
    patient.lock.liveness_period_ns = 3'600'000'000'000;
    holder_child h(name.c_str(), false);
    shared<std::atomic<int>> locking;  // the writer: no timeout, as above
    child locker("block_lock_without_timeout", {name.c_str(), locking.name(), test::arg(patient), test::arg(true)});
    spin_until([&] { return locking->load() == 1 && test::asleep(locker.pid()); });
    EXPECT_EQ(h.process.kill_and_wait(), test::killed_status);
    EXPECT_EQ(locker.wait(), static_cast<int>(errc::ok));
}

// Takes the robust lock (stage 1) and holds it until killed.
SHMKIT_TEST_ROLE(block_robust_lock_holder) {
    auto l = shared<robust_lock>::open(args.text(0));
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    if (detail::lock(*l, barrier_mode::fences, os::forever) != errc::ok) return 1;
    stage->store(1);
    for (;;) os::sleep_ns(1'000'000'000);  // holds it until killed
}

// Announces itself (stage 1) and takes the robust lock with the given options and no timeout.
// Its exit code is the errc.
SHMKIT_TEST_ROLE(block_robust_lock_without_timeout) {
    auto l = shared<robust_lock>::open(args.text(0));
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    const auto options = args.value<lock_options>(2);
    stage->store(1);
    return static_cast<int>(detail::lock(*l, barrier_mode::fences, os::forever, options));
}

// The robust lock under command's claims and kv's keys waits the same way.
TEST(RobustLock, WaitingForALiveHolderIsIdleAndItsDeathEndsTheWait) {
    if (!exit_watches_available()) GTEST_SKIP() << "no exit watches here: lock waits poll the holder";
    shared<robust_lock> l;
    shared<std::atomic<int>> stage;
    child holder("block_robust_lock_holder", {l.name(), stage.name()});
    spin_until([&] { return stage->load() == 1; });
    lock_options quick_look;
    quick_look.liveness_period_ns = 5'000'000;  // used to mean 200 wake-ups a second
    const os::wait_statistics before = os::wait_statistics_of_this_process();
    EXPECT_EQ(detail::lock(*l, barrier_mode::fences, deadline_after(300ms), quick_look), errc::lock_timeout);
    EXPECT_LE(os::wait_statistics_of_this_process().waits - before.waits, 2u) << "futex waits while the holder lived";
    lock_options patient;
    patient.liveness_period_ns = 3'600'000'000'000;
    shared<std::atomic<int>> locking;
    child locker("block_robust_lock_without_timeout", {l.name(), locking.name(), test::arg(patient)});
    spin_until([&] { return locking->load() == 1 && test::asleep(locker.pid()); });
    EXPECT_EQ(holder.kill_and_wait(), test::killed_status);
    EXPECT_EQ(locker.wait(), static_cast<int>(errc::owner_dead));  // no timeout: a hang fails the test
}

TEST_F(Block, ReaderCountAndWriteLockSeeEveryHandle) {
    auto a = open();
    auto b = open();
    EXPECT_EQ(owner.reader_count(), 0u);
    EXPECT_FALSE(owner.is_write_locked());
    ASSERT_EQ(a.lock_shared(1s), errc::ok);
    ASSERT_EQ(b.lock_shared(1s), errc::ok);
    ASSERT_EQ(b.lock_shared(1s), errc::ok);  // two through one handle count twice
    EXPECT_EQ(owner.reader_count(), 3u);
    EXPECT_EQ(a.reader_count(), 3u);
    EXPECT_FALSE(owner.is_write_locked());
    a.unlock_shared();
    b.unlock_shared();
    b.unlock_shared();
    EXPECT_EQ(owner.reader_count(), 0u);
    ASSERT_EQ(a.lock(1s), errc::ok);
    EXPECT_TRUE(owner.is_write_locked());
    EXPECT_TRUE(a.is_write_locked());
    EXPECT_EQ(owner.reader_count(), 0u);
    a.unlock();
    EXPECT_FALSE(owner.is_write_locked());
    auto ro = open(os::access::read_only);  // lock pages mapped for it: it can look too
    EXPECT_FALSE(ro.is_write_locked());
    block closed;
    EXPECT_EQ(closed.reader_count(), 0u);
    EXPECT_FALSE(closed.is_write_locked());
}

TEST_F(Block, ReaderCountAndWriteLockSeeOtherProcessesAndForgetTheDead) {
    {
        holder_child reader(name.c_str(), false);
        EXPECT_EQ(owner.reader_count(), 1u);
        EXPECT_FALSE(owner.is_write_locked());
        reader.stage->store(2);
        EXPECT_EQ(reader.process.wait(), 0);  // exits holding its read lock
        EXPECT_EQ(owner.reader_count(), 0u) << "the read lock of a process that died still counts";
    }
    {
        holder_child writer(name.c_str(), true);
        EXPECT_TRUE(owner.is_write_locked());
        EXPECT_EQ(owner.reader_count(), 0u);
        EXPECT_EQ(writer.process.kill_and_wait(), test::killed_status);
        EXPECT_FALSE(owner.is_write_locked()) << "the write lock of a process that died still counts";
    }
}

TEST_F(Block, CreateReplacingRemovesWhateverHoldsTheName) {
    ASSERT_EQ(owner.write_at(0, "old", 3), errc::ok);
    block_config config;
    config.size = 2000;
    config.reader_slots = 4;
    EXPECT_EQ(block::create(name.c_str(), config).error(), errc::already_exists);  // alive and open
    block_options replace;
    replace.segment.replace_existing = true;
    auto fresh = block::create(name.c_str(), config, replace);
    ASSERT_TRUE(fresh) << to_string(fresh.error());
    EXPECT_EQ(fresh->size(), 2000u);
    char buf[3];
    ASSERT_EQ(fresh->read_at(0, buf, 3), errc::ok);
    EXPECT_EQ(std::string(buf, 3), std::string(3, '\0'));  // a new block
    ASSERT_EQ(owner.read_at(0, buf, 3), errc::ok);
    EXPECT_EQ(std::string(buf, 3), "old");  // the old handle keeps its block, alone
    auto later = open();
    EXPECT_EQ(later.size(), 2000u);  // the name is the new block's
    // With nothing there, it is a plain create.
    fresh->close();
    owner.close();
    ASSERT_EQ(segment::remove(name.c_str()), errc::ok);
    EXPECT_TRUE(block::create(name.c_str(), config, replace));
}

TEST(BlockOpenOrCreate, CreatesWhenAbsentAndOpensWhatIsThere) {
    unique_name name("block-ooc");
    block_config config;
    config.size = 512;
    auto made = block::open_or_create(name.c_str(), config);
    ASSERT_TRUE(made) << to_string(made.error());
    EXPECT_EQ(made->size(), 512u);
    ASSERT_EQ(made->write_at(0, "kept", 4), errc::ok);
    auto again = block::open_or_create(name.c_str(), config);  // there now: opened, not replaced
    ASSERT_TRUE(again) << to_string(again.error());
    char buf[4];
    ASSERT_EQ(again->read_at(0, buf, 4), errc::ok);
    EXPECT_EQ(std::string(buf, 4), "kept");
    block_config other = config;
    other.size = 1024;
    EXPECT_EQ(block::open_or_create(name.c_str(), other).error(), errc::size_mismatch);
    block_options read_only;
    read_only.access = os::access::read_only;
    EXPECT_EQ(block::open_or_create(name.c_str(), config, read_only).error(), errc::invalid_argument);
    block_options replace;
    replace.segment.replace_existing = true;
    EXPECT_EQ(block::open_or_create(name.c_str(), config, replace).error(), errc::invalid_argument);
    config.size = 0;
    EXPECT_EQ(block::open_or_create(name.c_str(), config).error(), errc::invalid_argument);
}

TEST_F(Block, OpeningNeverResetsALockOthersHold) {
    ASSERT_EQ(owner.lock(1s), errc::ok);
    auto late = open();  // opening and mapping while the lock is held
    EXPECT_EQ(late.lock_shared(10ms), errc::lock_timeout);
    owner.unlock();
    EXPECT_EQ(late.lock_shared(1s), errc::ok);
    late.unlock_shared();
}

// Opens the block and dies with the handle open: its reader slot is left behind.
SHMKIT_TEST_ROLE(block_open_and_die) {
    auto b = block::open(args.text(0).c_str());
    if (!b) return 1;
    std::_Exit(0);
}

TEST_F(Block, ReaderSlotsAreLimitedAndReclaimed) {
    // The owner uses one of 4 slots.
    auto a = open();
    auto b = open();
    auto c = open();
    block_options o;
    EXPECT_EQ(block::open(name.c_str(), o).error(), errc::full);
    c = block{};
    EXPECT_TRUE(block::open(name.c_str(), o));
    child dying("block_open_and_die", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);  // a dead process's slot is reclaimed
    EXPECT_TRUE(block::open(name.c_str(), o));
}

TEST_F(Block, TypedViewRoundTripsEveryType) {
    typed_view w(owner);
    ASSERT_EQ(w.write(true), errc::ok);
    ASSERT_EQ(w.write(std::int32_t{-7}), errc::ok);
    ASSERT_EQ(w.write(std::uint32_t{7}), errc::ok);
    ASSERT_EQ(w.write(-(std::int64_t{1} << 40)), errc::ok);
    ASSERT_EQ(w.write(std::uint64_t{1} << 63), errc::ok);
    ASSERT_EQ(w.write(1.5f), errc::ok);
    ASSERT_EQ(w.write(3.14159), errc::ok);
    const std::string text = "héllo, wörld";
    ASSERT_EQ(w.write_string(text.data(), text.size()), errc::ok);
    const std::uint8_t bytes[] = {0, 1, 0, 255};
    ASSERT_EQ(w.write_bytes(bytes, sizeof bytes), errc::ok);
    const double scores[] = {0.92, 0.87, 0.95};
    ASSERT_EQ(w.write_list(scores, 3), errc::ok);
    const bool flags[] = {true, false, true};
    ASSERT_EQ(w.write_list(flags, 3), errc::ok);
    ASSERT_EQ(w.write_at<std::uint32_t>(900, 0xABCD), errc::ok);

    auto other = open();
    typed_view r(other);
    EXPECT_EQ(*r.read<bool>(), true);
    EXPECT_EQ(*r.read<std::int32_t>(), -7);
    EXPECT_EQ(*r.read<std::uint32_t>(), 7u);
    EXPECT_EQ(*r.read<std::int64_t>(), -(std::int64_t{1} << 40));
    EXPECT_EQ(*r.read<std::uint64_t>(), std::uint64_t{1} << 63);
    EXPECT_EQ(*r.read<float>(), 1.5f);
    EXPECT_EQ(*r.read<double>(), 3.14159);
    char out[64];
    EXPECT_EQ(*r.peek_length(), text.size());
    char tiny[4];
    const std::size_t before = r.position();
    EXPECT_EQ(r.read_string(tiny, sizeof tiny).error(), errc::message_too_large);
    EXPECT_EQ(r.position(), before);  // nothing consumed
    auto n = r.read_string(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(std::string(out, *n), text);
    std::uint8_t got[8];
    n = r.read_bytes(got, sizeof got);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 4u);
    EXPECT_EQ(std::memcmp(got, bytes, 4), 0);
    double s[3];
    ASSERT_EQ(*r.read_list(s, 3), 3u);
    EXPECT_EQ(s[1], 0.87);
    bool f[3];
    ASSERT_EQ(*r.read_list(f, 3), 3u);
    EXPECT_TRUE(f[0] && !f[1] && f[2]);
    EXPECT_EQ(*r.read_at<std::uint32_t>(900), 0xABCDu);
}

TEST_F(Block, TypedViewRefusesOutOfRangeAndBadText) {
    typed_view w(owner);
    ASSERT_EQ(w.seek(996), errc::ok);
    EXPECT_EQ(w.write(std::uint64_t{1}), errc::out_of_range);
    EXPECT_EQ(w.position(), 996u);  // nothing moved
    EXPECT_EQ(w.write(std::uint32_t{1}), errc::ok);
    EXPECT_EQ(w.write(false), errc::out_of_range);
    EXPECT_EQ(w.seek(1001), errc::out_of_range);
    EXPECT_EQ(w.write_at<std::uint32_t>(998, 1), errc::out_of_range);
    ASSERT_EQ(w.seek(0), errc::ok);
    const char bad[] = {'a', static_cast<char>(0xC3)};  // truncated UTF-8
    EXPECT_EQ(w.write_string(bad, sizeof bad), errc::invalid_argument);
    ASSERT_EQ(w.write_bytes(bad, sizeof bad), errc::ok);  // bytes are bytes
    ASSERT_EQ(w.seek(0), errc::ok);
    char out[8];
    EXPECT_EQ(w.read_string(out, sizeof out).error(), errc::invalid_layout);  // not text
    // A hostile length prefix never reads past the end.
    ASSERT_EQ(w.write(std::uint32_t{0xFFFFFFF0u}), errc::ok);
    ASSERT_EQ(w.seek(0), errc::ok);
    EXPECT_EQ(w.read_bytes(out, sizeof out).error(), errc::out_of_range);
    std::uint32_t list[4];
    EXPECT_EQ(w.read_list(list, 4).error(), errc::message_too_large);
    auto ro = open(os::access::read_only);
    typed_view r(ro);
    EXPECT_EQ(r.write(std::uint32_t{1}), errc::access_denied);
}

TEST_F(Block, TypedViewRoundTripsU8AndRewinds) {
    typed_view w(owner);
    ASSERT_EQ(w.write(std::uint8_t{200}), errc::ok);
    ASSERT_EQ(w.write(std::uint8_t{7}), errc::ok);
    EXPECT_EQ(w.tell(), 2u);
    EXPECT_EQ(w.tell(), w.position());
    ASSERT_EQ(w.seek(), errc::ok);  // back to the start
    EXPECT_EQ(*w.read<std::uint8_t>(), 200);
    EXPECT_EQ(*w.read<std::uint8_t>(), 7);
    std::uint8_t raw[2];
    ASSERT_EQ(owner.read_at(0, raw, 2), errc::ok);
    EXPECT_EQ(raw[0], 200);
    EXPECT_EQ(raw[1], 7);
}

TEST_F(Block, WriteMixedWritesEachEncodingInTurn) {
    typed_view w(owner);
    ASSERT_EQ(w.seek(4), errc::ok);
    const char* label = "héllo";
    const std::uint8_t blob[] = {1, 2, 3};
    ASSERT_EQ(w.write_mixed(std::int64_t{-42}, 0.5, true, std::uint8_t{9}, typed_item::string(label, std::strlen(label)),
                            typed_item::bytes(blob, sizeof blob), typed_item::string(nullptr, 0)),
              errc::ok);
    const std::size_t encoded = 8 + 8 + 1 + 1 + (4 + std::strlen(label)) + (4 + 3) + 4;
    EXPECT_EQ(w.position(), 4 + encoded);
    // The same bytes as the one-at-a-time calls make.
    auto other = open();
    typed_view r(other);
    ASSERT_EQ(r.seek(4), errc::ok);
    EXPECT_EQ(*r.read<std::int64_t>(), -42);
    EXPECT_EQ(*r.read<double>(), 0.5);
    EXPECT_EQ(*r.read<bool>(), true);
    EXPECT_EQ(*r.read<std::uint8_t>(), 9);
    char text[16];
    ASSERT_EQ(*r.read_string(text, sizeof text), std::strlen(label));
    // And read back as one operation.
    std::int64_t i = 0;
    double f = 0;
    bool b = false;
    std::uint8_t u = 0;
    typed_string_out s{text, sizeof text};
    std::uint8_t got[8];
    typed_bytes_out bytes{got, sizeof got};
    typed_string_out empty{text, sizeof text};
    ASSERT_EQ(r.read_mixed_at(4, i, f, b, u, s, bytes, empty), errc::ok);
    EXPECT_EQ(i, -42);
    EXPECT_EQ(f, 0.5);
    EXPECT_TRUE(b);
    EXPECT_EQ(u, 9);
    EXPECT_EQ(std::string(text, s.size), label);
    ASSERT_EQ(bytes.size, 3u);
    EXPECT_EQ(std::memcmp(got, blob, 3), 0);
    EXPECT_EQ(empty.size, 0u);
    EXPECT_EQ(r.position(), 4u + 8 + 8 + 1 + 1 + 4 + std::strlen(label));  // _at left the cursor alone
    // typed_item from a run-time list, as the Python binding builds it.
    const typed_item items[] = {std::int32_t{5}, typed_item::string("ab", 2)};
    ASSERT_EQ(w.write_items(items, 2), errc::ok);
    EXPECT_EQ(items[0].encoded_size(), 4u);
    EXPECT_EQ(items[1].encoded_size(), 6u);
}

TEST_F(Block, WriteMixedIsAllOrNothing) {
    typed_view w(owner);
    ASSERT_EQ(w.seek(990), errc::ok);
    // 8 + 1 + (4 + 2) = 15 bytes at 990: 5 too many. Nothing is written, the cursor stays.
    EXPECT_EQ(w.write_mixed(std::int64_t{-1}, true, typed_item::string("ab", 2)), errc::out_of_range);
    EXPECT_EQ(w.position(), 990u);
    char tail[10];
    ASSERT_EQ(owner.read_at(990, tail, 10), errc::ok);
    EXPECT_EQ(std::string(tail, 10), std::string(10, '\0'));
    // A string that is not UTF-8 is refused before anything is written, wherever it comes.
    ASSERT_EQ(w.seek(0), errc::ok);
    const char bad[] = {'a', static_cast<char>(0xC3)};
    EXPECT_EQ(w.write_mixed(std::int64_t{-1}, typed_item::string(bad, sizeof bad)), errc::invalid_argument);
    EXPECT_EQ(w.position(), 0u);
    char head[8];
    ASSERT_EQ(owner.read_at(0, head, 8), errc::ok);
    EXPECT_EQ(std::string(head, 8), std::string(8, '\0'));
    EXPECT_EQ(w.write_mixed(typed_item::bytes(bad, sizeof bad)), errc::ok);  // bytes are bytes
    EXPECT_EQ(w.write_mixed_at(996, std::int32_t{1}), errc::ok);  // exactly to the end
    EXPECT_EQ(w.write_mixed_at(997, std::int32_t{1}), errc::out_of_range);
    auto ro = open(os::access::read_only);
    typed_view r(ro);
    EXPECT_EQ(r.write_mixed(true), errc::access_denied);
}

TEST_F(Block, ReadMixedMovesNothingWhenAValueIsRefused) {
    typed_view v(owner);
    ASSERT_EQ(v.write_mixed(std::int32_t{1}, typed_item::string("abcdef", 6)), errc::ok);
    ASSERT_EQ(v.seek(0), errc::ok);
    std::int32_t n = 0;
    char small[4];
    typed_string_out s{small, sizeof small};
    EXPECT_EQ(v.read_mixed(n, s), errc::message_too_large);  // the second does not fit
    EXPECT_EQ(v.position(), 0u);
    bool b = false;
    ASSERT_EQ(v.seek(3), errc::ok);
    EXPECT_EQ(v.read_mixed(b, b), errc::invalid_layout);  // 0 is a bool, 6 (the length's low byte) is not
    EXPECT_EQ(v.position(), 3u);
    ASSERT_EQ(v.seek(996), errc::ok);
    std::int64_t wide = 0;
    EXPECT_EQ(v.read_mixed(wide), errc::out_of_range);
    EXPECT_EQ(v.position(), 996u);
}

TEST_F(Block, ZeroClearsTheWholeBlockAndKeepsTheCursor) {
    std::vector<std::uint8_t> ones(1000, 0xFF);
    ASSERT_EQ(owner.write_at(0, ones.data(), ones.size()), errc::ok);
    typed_view v(owner);
    ASSERT_EQ(v.seek(17), errc::ok);
    ASSERT_EQ(v.zero(), errc::ok);
    EXPECT_EQ(v.position(), 17u);
    std::vector<std::uint8_t> back(1000, 1);
    ASSERT_EQ(owner.read_at(0, back.data(), back.size()), errc::ok);
    EXPECT_EQ(back, std::vector<std::uint8_t>(1000, 0));
    auto ro = open(os::access::read_only);
    typed_view r(ro);
    EXPECT_EQ(r.zero(), errc::access_denied);
}

TEST_F(Block, AViewMadeFromAGuardUsesItsLock) {
    auto other = open();
    {
        unique_guard g(owner, 1s);
        ASSERT_EQ(g.status(), errc::ok);
        typed_view v(g);
        EXPECT_EQ(v.locking(), typed_locking::under_write_lock);
        // None of these relocks (the lock is not recursive: relocking would wait for ourselves).
        ASSERT_EQ(v.write(std::int32_t{7}), errc::ok);
        ASSERT_EQ(v.write_mixed(std::int64_t{8}, typed_item::string("x", 1)), errc::ok);
        ASSERT_EQ(v.seek(0), errc::ok);
        EXPECT_EQ(*v.read<std::int32_t>(), 7);
        EXPECT_FALSE(v.inconsistent());
        EXPECT_TRUE(owner.is_write_locked());  // held by the guard throughout
        EXPECT_EQ(other.lock_shared(10ms), errc::lock_timeout);
    }
    EXPECT_FALSE(owner.is_write_locked());
    {
        shared_guard g(other, 1s);
        ASSERT_EQ(g.status(), errc::ok);
        typed_view v(g);
        EXPECT_EQ(v.locking(), typed_locking::under_read_lock);
        std::int32_t a = 0;
        std::int64_t b = 0;
        ASSERT_EQ(v.read_mixed(a, b), errc::ok);
        EXPECT_EQ(a, 7);
        EXPECT_EQ(b, 8);
        EXPECT_EQ(owner.reader_count(), 1u);  // the guard's read lock
        EXPECT_DEATH({ static_cast<void>(v.write(std::int32_t{1})); }, "under_read_lock");
    }
    typed_view per_call(owner);
    EXPECT_EQ(per_call.locking(), typed_locking::per_call);
}

TEST_F(Block, AViewMadeFromAGuardTakenFromADeadWriterIsInconsistent) {
    child dying("block_die_holding_the_write_lock", {name.c_str()});
    ASSERT_EQ(dying.wait(), 0);
    unique_guard g(owner, 5s);
    ASSERT_EQ(g.status(), errc::owner_dead);
    typed_view v(g);
    EXPECT_TRUE(v.inconsistent());
    ASSERT_EQ(v.zero(), errc::ok);  // the repair
    owner.mark_consistent();
}

TEST(Utf8, Validation) {
    auto ok = [](const char* s) { return is_valid_utf8(s, std::strlen(s)); };
    EXPECT_TRUE(ok("plain"));
    EXPECT_TRUE(ok("\xC3\xA9"));
    EXPECT_TRUE(ok("\xF0\x9F\x98\x80"));
    EXPECT_FALSE(ok("\xC0\xAF"));          // overlong
    EXPECT_FALSE(ok("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(ok("\xF4\x90\x80\x80"));  // > U+10FFFF
    EXPECT_FALSE(ok("\x80"));
    EXPECT_FALSE(ok("\xE2\x82"));
}

}  // namespace
}  // namespace shmkit
