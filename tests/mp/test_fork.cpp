// Handles on both sides of fork(). A handle that holds a role (broadcast writer, spsc producer
// and consumer, command reader, stream/video/audio writer) belongs to the process that opened
// it: in a child that inherited it, every call that would act in that role fails with
// wrong_process, so two processes never drive one role with two private copies of its state
// (which silently lost half the messages). Handles without a role work in both processes.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/detail/sanitizers.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "support.hpp"
#include "support/forked_child.hpp"

namespace shmkit {
namespace {

using namespace std::chrono_literals;
using test::forked_child;
using test::unique_name;

constexpr int messages = 2000;

broadcast_info info_of_broadcast(const char* name) {
    broadcast_info info;
    auto s = segment::open(name, kind::broadcast, ring_header_size, os::access::read_only);
    if (s) {
        EXPECT_EQ(inspect_broadcast(s->base(), s->size(), &info), errc::ok);
    }
    return info;
}

TEST(Fork, BroadcastWriterWorksOnlyInTheProcessThatOpenedIt) {
    unique_name name("fork-bc");
    broadcast_config config;
    config.capacity = 1 << 20;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    broadcast_reader_options from_oldest;
    from_oldest.from_oldest = true;
    auto r = broadcast_reader::open(name.c_str(), from_oldest);
    ASSERT_TRUE(r);
    forked_child writer_in_child([&] {
        for (int i = 0; i < messages; ++i) {
            if (w->write("child", 5) != errc::wrong_process) return 1;
        }
        if (w->reserve(5).error() != errc::wrong_process) return 2;
        w->close();  // gives up nothing: the role stays the parent's
        return 0;
    });
    for (int i = 0; i < messages; ++i) ASSERT_EQ(w->write("parent", 6), errc::ok);
    EXPECT_EQ(writer_in_child.wait(), 0);
    ASSERT_EQ(w->write("after", 5), errc::ok);  // still the writer after the child closed its copy
    std::string last;
    for (int i = 0; i <= messages; ++i) {
        errc e = errc::ok;
        last = test::read_string(*r, &e);
        ASSERT_EQ(e, errc::ok) << i;
        if (i < messages) {
            ASSERT_EQ(last, "parent");
        }
    }
    EXPECT_EQ(last, "after");
    EXPECT_EQ(r->total_lost(), 0u);
    EXPECT_EQ(test::read_string(*r), "");
}

TEST(Fork, BroadcastReaderWorksInBothProcesses) {
    unique_name name("fork-bcr");
    auto w = broadcast_writer::create(name.c_str());
    ASSERT_TRUE(w);
    auto r = broadcast_reader::open(name.c_str());
    ASSERT_TRUE(r);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(w->write(std::to_string(i).c_str(), std::to_string(i).size()), errc::ok);
    forked_child reader_in_child([&] {
        for (int i = 0; i < 10; ++i) {
            if (test::read_string(*r) != std::to_string(i)) return 1;  // its own copy of the position
        }
        return 0;
    });
    for (int i = 0; i < 10; ++i) EXPECT_EQ(test::read_string(*r), std::to_string(i));
    EXPECT_EQ(reader_in_child.wait(), 0);
}

TEST(Fork, SpscEndsWorkOnlyInTheProcessThatOpenedThem) {
    unique_name name("fork-spsc");
    spsc_config config;
    config.capacity = 1 << 20;
    auto p = spsc_producer::create(name.c_str(), config);
    ASSERT_TRUE(p);
    auto c = spsc_consumer::open(name.c_str());
    ASSERT_TRUE(c);
    ASSERT_EQ(p->try_push("first", 5), errc::ok);
    forked_child in_child([&] {
        for (int i = 0; i < messages; ++i) {
            if (p->try_push("child", 5) != errc::wrong_process) return 1;
        }
        if (p->push("child", 5, 1ms) != errc::wrong_process) return 2;
        if (p->try_reserve(5).error() != errc::wrong_process) return 3;
        char buf[16];
        if (c->try_pop(buf, sizeof buf).error() != errc::wrong_process) return 4;
        if (c->pop(buf, sizeof buf, 1ms).error() != errc::wrong_process) return 5;
        if (c->try_peek().error() != errc::wrong_process) return 6;
        c->release();  // nothing peeked here: must not consume the parent's message
        return 0;
    });
    for (int i = 0; i < messages; ++i) ASSERT_EQ(p->try_push("parent", 6), errc::ok);
    EXPECT_EQ(in_child.wait(), 0);
    char buf[16];
    auto m = c->try_pop(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(std::string(buf, m->size), "first");
    for (int i = 0; i < messages; ++i) {
        m = c->try_pop(buf, sizeof buf);
        ASSERT_TRUE(m) << i;
        ASSERT_EQ(std::string(buf, m->size), "parent");
        ASSERT_EQ(m->seq, static_cast<std::uint64_t>(i + 1));
    }
    EXPECT_EQ(c->try_pop(buf, sizeof buf).error(), errc::empty);
}

TEST(Fork, CommandReaderWorksOnlyInTheProcessThatOpenedItWritersEverywhere) {
    unique_name name("fork-cmd");
    auto r = command_reader::create(name.c_str());
    ASSERT_TRUE(r);
    auto w = command_writer::open(name.c_str());
    ASSERT_TRUE(w);
    forked_child in_child([&] {
        if (w->write("from child", 10, 1s) != errc::ok) return 1;  // writers have no role
        char buf[16];
        if (r->try_read(buf, sizeof buf).error() != errc::wrong_process) return 2;
        return 0;
    });
    EXPECT_EQ(in_child.wait(), 0);
    EXPECT_EQ(test::read_string(*r), "from child");
}

TEST(Fork, StreamWriterWorksOnlyInTheProcessThatOpenedIt) {
    unique_name name("fork-stream");
    stream_config config;
    config.type = dtype::uint64;
    config.shape[0] = 1;
    auto w = stream_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    auto r = stream_reader::open(name.c_str());
    ASSERT_TRUE(r);
    forked_child in_child([&] {
        const std::uint64_t v = 7;
        if (w->write(&v, sizeof v) != errc::wrong_process) return 1;
        if (w->reserve().error() != errc::wrong_process) return 2;
        w->heartbeat();  // does nothing here
        return 0;
    });
    EXPECT_EQ(in_child.wait(), 0);
    const std::uint64_t v = 1;
    ASSERT_EQ(w->write(&v, sizeof v), errc::ok);
    std::uint64_t got = 0;
    auto s = r->try_next(&got, sizeof got);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->index, 0u);
    EXPECT_EQ(got, 1u);
    EXPECT_EQ(r->try_next(&got, sizeof got).error(), errc::empty);
}

// A reservation made before fork() is the parent's: the child's copy, dropped, must not abandon
// it (a broadcast or slot reservation counted as abandoned, a command claim turned into a skip
// record the reader steps over, so the parent's commit is lost), and the parent's commit stands.
// Committing the child's copy is a contract violation, reported through the assert hook.
TEST(Fork, AReservationInheritedByAChildStaysTheParents) {
    unique_name bname("fork-res-bc"), sname("fork-res-stream"), cname("fork-res-cmd");
    auto bw = broadcast_writer::create(bname.c_str());
    ASSERT_TRUE(bw);
    broadcast_reader_options from_oldest;
    from_oldest.from_oldest = true;
    auto br = broadcast_reader::open(bname.c_str(), from_oldest);
    ASSERT_TRUE(br);
    stream_config config;
    config.type = dtype::uint64;
    config.shape[0] = 1;
    auto sw = stream_writer::create(sname.c_str(), config);
    ASSERT_TRUE(sw);
    auto sr = stream_reader::open(sname.c_str());
    ASSERT_TRUE(sr);
    auto cr = command_reader::create(cname.c_str());
    ASSERT_TRUE(cr);
    auto cw = command_writer::open(cname.c_str());
    ASSERT_TRUE(cw);

    auto bres = bw->reserve(6);
    ASSERT_TRUE(bres);
    auto sres = sw->reserve();
    ASSERT_TRUE(sres);
    auto cres = cw->try_reserve(6);
    ASSERT_TRUE(cres);
    forked_child closer([&] {  // closes its copies of the writers with the reservations outstanding
        bw->close();
        sw->close();
        cw->close();
        return 0;
    });
    ASSERT_EQ(closer.wait(), 0);
    forked_child dropper([&] {  // drops its copies of the reservations, then closes the writers
        { reservation gone = std::move(*bres); }
        { reservation gone = std::move(*sres); }
        { reservation gone = std::move(*cres); }
        bw->close();
        sw->close();
        cw->close();
        return 0;
    });
    ASSERT_EQ(dropper.wait(), 0);
    forked_child committer([&] {
        set_assert_handler([](const char*, const char*, int) { std::_Exit(42); });
        bres->commit();
        return 0;
    });
    EXPECT_EQ(committer.wait(), 42) << "committing an inherited reservation must reach the assert hook";

    std::memcpy(bres->data(), "parent", 6);
    bres->commit();
    const std::uint64_t v = 5;
    std::memcpy(sres->data(), &v, sizeof v);
    sres->commit();
    std::memcpy(cres->data(), "parent", 6);
    cres->commit();

    EXPECT_EQ(test::read_string(*br), "parent");
    EXPECT_EQ(info_of_broadcast(bname.c_str()).abandoned, 0u);
    std::uint64_t got = 0;
    auto sample = sr->try_next(&got, sizeof got);
    ASSERT_TRUE(sample);
    EXPECT_EQ(got, 5u);
    EXPECT_EQ(test::read_string(*cr), "parent");
}

TEST(Fork, BlockAndKvWorkInBothProcesses) {
    unique_name bname("fork-block"), kname("fork-kv");
    auto b = block::create(bname.c_str());
    ASSERT_TRUE(b);
    const char* keys[] = {"k"};
    auto kv = kv_store::create(kname.c_str(), keys, 1);
    ASSERT_TRUE(kv);
    forked_child in_child([&] {
        if (b->lock(1s) != errc::ok) return 1;  // its own identity: a lock of its own
        if (b->write_at(0, "c", 1) != errc::ok) return 2;
        b->unlock();
        if (kv->set("k", "child", 5) != errc::ok) return 3;
        return 0;
    });
    EXPECT_EQ(in_child.wait(), 0);
    char c = 0;
    ASSERT_EQ(b->lock(1s), errc::ok);
    ASSERT_EQ(b->read_at(0, &c, 1), errc::ok);
    b->unlock();
    EXPECT_EQ(c, 'c');
    char buf[16];
    auto v = kv->get("k", buf, sizeof buf);
    ASSERT_TRUE(v);
    EXPECT_EQ(std::string(buf, v->size), "child");
}

// A block handle inherited by a child: closing it there must not free the parent's reader
// slot, and locking through it takes a slot of the child's own.
TEST(Fork, AChildNeitherFreesNorUsesItsParentsBlockReaderSlot) {
    unique_name name("fork-block-slot");
    block_config config;
    config.size = 1000;
    config.reader_slots = 4;
    auto owner = block::create(name.c_str(), config);
    ASSERT_TRUE(owner);
    block_options quick_look;
    quick_look.lock.liveness_period_ns = 5'000'000;
    auto parent = block::open(name.c_str(), quick_look);
    ASSERT_TRUE(parent);
    ASSERT_EQ(parent->lock_shared(1s), errc::ok);
    forked_child closer([&] {
        parent->close();  // closing the inherited handle must not free the parent's slot
        return 0;
    });
    ASSERT_EQ(closer.wait(), 0);
    forked_child locker([&] {
        // Locking through the inherited handle takes a slot of the child's own. Were it counted
        // in the parent's (live) slot, dying with it held would block writers for good.
        if (parent->lock_shared(1s) != errc::ok) return 1;
        std::_Exit(0);
    });
    ASSERT_EQ(locker.wait(), 0);
    // Were the parent's slot freed, a new handle could claim it, zero its count, and a writer
    // would get in while the parent reads.
    auto late = block::open(name.c_str(), quick_look);
    EXPECT_TRUE(late);
    EXPECT_EQ(owner->lock(20ms), errc::lock_timeout);
    parent->unlock_shared();
    EXPECT_EQ(owner->lock(1s), errc::ok);
    owner->unlock();
}

// The identity self() keeps is the parent's until a forked child asks for its own.
TEST(Fork, AChildHasItsOwnIdentity) {
    const os::process_id parent = os::self();
    test::shared<os::process_id> id;
    forked_child c([&] {
        *id = os::self();
        return 0;
    });
    EXPECT_EQ(c.wait(), 0);
    EXPECT_NE(id->pid, parent.pid);
    EXPECT_EQ(id->pid, static_cast<std::uint32_t>(c.pid()));
}

// select() in a child forked after the parent used it, once per wait_any method: the parent's
// helper threads (the fallback for kernels without futex_waitv) did not come along.
class ForkSelect : public ::testing::TestWithParam<os::wait_any_method> {
protected:
    void SetUp() override {
        os::set_wait_any_method(GetParam());
        if (GetParam() == os::wait_any_method::futex_waitv &&
            os::wait_any_method_in_use() != os::wait_any_method::futex_waitv) {
            GTEST_SKIP() << "this kernel (or qemu-user) has no futex_waitv";
        }
    }
    void TearDown() override { os::set_wait_any_method(os::wait_any_method::automatic); }
};

TEST_P(ForkSelect, WorksInAForkedChildAfterTheParentUsedIt) {
#ifdef SHMKIT_TESTS_UNDER_EMULATOR
    GTEST_SKIP() << "qemu-user aborts (its own assertion in cpu_exec) when a child forked from a "
                    "multi-threaded process creates threads; native and sanitizer runs cover this";
#endif
#ifdef SHMKIT_TSAN
    GTEST_SKIP() << "ThreadSanitizer does not support starting threads after a multi-threaded fork; "
                    "the native, Clang and ASan runs cover this";
#endif
    unique_name bc_name("fork-sel-bc"), spsc_name("fork-sel-spsc"), cmd_name("fork-sel-cmd");
    auto bw = broadcast_writer::create(bc_name.c_str());
    auto br = broadcast_reader::open(bc_name.c_str());
    auto sp = spsc_producer::create(spsc_name.c_str());
    auto sc = spsc_consumer::open(spsc_name.c_str());
    auto cr = command_reader::create(cmd_name.c_str());
    ASSERT_TRUE(bw && br && sp && sc && cr);
    select_source sources[3] = {br->waitable(), sc->waitable(), cr->waitable()};
    EXPECT_EQ(select(sources, 3, 1ms).error(), errc::timeout);  // the parent's helpers exist now
    forked_child c([&] {
        ::alarm(10);  // a hang kills the child: the test fails instead of stalling
        auto r = select(sources, 3, 20ms);
        return (!r && r.error() == errc::timeout) ? 0 : 1;
    });
    EXPECT_EQ(c.wait(), 0);
}

INSTANTIATE_TEST_SUITE_P(Methods, ForkSelect,
                         ::testing::Values(os::wait_any_method::futex_waitv, os::wait_any_method::helper_threads),
                         [](const ::testing::TestParamInfo<os::wait_any_method>& p) {
                             return p.param == os::wait_any_method::futex_waitv ? std::string("futex_waitv")
                                                                                : std::string("helper_threads");
                         });

}  // namespace
}  // namespace shmkit
