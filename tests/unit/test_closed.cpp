// Every public method of every handle, called on a default-constructed handle and on one that
// was opened and then closed: each returns not_open (or an empty, false or zero answer) and
// none dereferences the mapping it no longer has.
#include <gtest/gtest.h>

#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/select.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/typed.hpp"
#include "shmkit/video.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using namespace std::chrono_literals;
using test::unique_name;

template <class T>
errc error_of(const result<T>& r) {
    return r ? errc::ok : r.error();
}

// A select over a closed handle's source reports not_open instead of sleeping on nothing.
void expect_unselectable(select_source s) {
    EXPECT_EQ(s.word, nullptr);
    EXPECT_EQ(error_of(select(&s, 1, 0ns)), errc::not_open);
}

void check_broadcast_writer(broadcast_writer& w) {
    const char byte = 1;
    EXPECT_FALSE(w.is_open());
    EXPECT_EQ(w.write(&byte, 1), errc::not_open);
    EXPECT_EQ(error_of(w.reserve(1)), errc::not_open);
    w.close();
}

void check_broadcast_reader(broadcast_reader& r) {
    char buf[16];
    EXPECT_FALSE(r.is_open());
    EXPECT_EQ(error_of(r.try_read(buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(r.read(buf, sizeof buf, 0ns)), errc::not_open);
    EXPECT_EQ(error_of(r.read(buf, sizeof buf, 1ms)), errc::not_open);
    EXPECT_FALSE(r.poll());
    EXPECT_EQ(r.wait(0ns), errc::not_open);
    EXPECT_EQ(r.wait(1ms), errc::not_open);
    EXPECT_FALSE(r.writer_alive());
    expect_unselectable(r.waitable());
    r.close();
}

void check_spsc_producer(spsc_producer& p) {
    const char byte = 1;
    EXPECT_FALSE(p.is_open());
    EXPECT_EQ(p.try_push(&byte, 1), errc::not_open);
    EXPECT_EQ(p.push(&byte, 1, 1ms), errc::not_open);
    EXPECT_EQ(error_of(p.try_reserve(1)), errc::not_open);
    EXPECT_EQ(error_of(p.reserve(1, 1ms)), errc::not_open);
    EXPECT_FALSE(p.consumer_alive());
    p.close();
}

void check_spsc_consumer(spsc_consumer& c) {
    char buf[16];
    EXPECT_FALSE(c.is_open());
    EXPECT_EQ(error_of(c.try_pop(buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(c.pop(buf, sizeof buf, 1ms)), errc::not_open);
    EXPECT_EQ(error_of(c.try_peek()), errc::not_open);
    EXPECT_EQ(error_of(c.peek(1ms)), errc::not_open);
    c.release();  // nothing to release
    EXPECT_FALSE(c.poll());
    EXPECT_FALSE(c.producer_alive());
    expect_unselectable(c.waitable());
    c.close();
}

void check_command_writer(command_writer& w) {
    const char byte = 1;
    EXPECT_FALSE(w.is_open());
    EXPECT_EQ(w.try_write(&byte, 1), errc::not_open);
    EXPECT_EQ(w.write(&byte, 1, 1ms), errc::not_open);
    EXPECT_EQ(error_of(w.try_reserve(1)), errc::not_open);
    EXPECT_EQ(error_of(w.reserve(1, 1ms)), errc::not_open);
    EXPECT_FALSE(w.reader_alive());
    w.close();
}

void check_command_reader(command_reader& r) {
    char buf[16];
    EXPECT_FALSE(r.is_open());
    EXPECT_EQ(error_of(r.try_read(buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(r.read(buf, sizeof buf, 1ms)), errc::not_open);
    EXPECT_FALSE(r.poll());
    EXPECT_EQ(r.recheck_after_ns(), 0u);
    EXPECT_EQ(r.abandoned(), 0u);
    expect_unselectable(r.waitable());
    r.close();
}

void check_block(block& b) {
    char buf[16] = {};
    EXPECT_FALSE(b.is_open());
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(b.size(), 0u);
    EXPECT_FALSE(b.can_lock());
    EXPECT_EQ(b.write_at(0, buf, 1), errc::not_open);
    EXPECT_EQ(b.read_at(0, buf, 1), errc::not_open);
    EXPECT_EQ(b.lock_shared(1ms), errc::not_open);
    EXPECT_EQ(b.lock(1ms), errc::not_open);
    b.unlock_shared();  // no lock is held: nothing happens
    b.unlock();
    b.mark_consistent();
    {
        shared_guard g(b, 1ms);
        EXPECT_EQ(g.status(), errc::not_open);
    }
    {
        unique_guard g(b, 1ms);
        EXPECT_EQ(g.status(), errc::not_open);
    }
    typed_view v(b, 1ms);
    EXPECT_EQ(v.write<std::uint32_t>(1), errc::not_open);
    EXPECT_EQ(error_of(v.read<std::uint32_t>()), errc::not_open);
    b.close();
}

template <class Writer>
void check_slot_writer(Writer& w) {
    const char byte = 1;
    EXPECT_FALSE(w.is_open());
    EXPECT_EQ(error_of(w.reserve()), errc::not_open);
    EXPECT_EQ(w.write(&byte, 1), errc::not_open);
    w.heartbeat();
    w.close();
}

template <class Reader>
void check_slot_reader(Reader& r) {
    char buf[16];
    EXPECT_FALSE(r.is_open());
    EXPECT_EQ(error_of(r.latest(buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(r.try_next(buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(r.wait_latest(buf, sizeof buf, 1ms)), errc::not_open);
    EXPECT_EQ(error_of(r.next(buf, sizeof buf, 1ms)), errc::not_open);
    EXPECT_EQ(error_of(r.view_latest()), errc::not_open);
    EXPECT_EQ(error_of(r.view_next()), errc::not_open);
    EXPECT_FALSE(r.poll());
    EXPECT_FALSE(r.fresh());
    EXPECT_FALSE(r.writer_alive());
    EXPECT_EQ(r.heartbeat_age_ns(), 0u);
    expect_unselectable(r.waitable());
    r.close();
}

void check_kv(kv_store& kv) {
    char buf[16];
    std::size_t length = 0;
    std::uint64_t epoch = 0;
    std::uint32_t indices[4];
    EXPECT_FALSE(kv.is_open());
    EXPECT_EQ(error_of(kv.find("k")), errc::not_open);
    EXPECT_EQ(kv.key_name(0, &length), nullptr);
    EXPECT_EQ(kv.set(0u, "v", 1), errc::not_open);
    EXPECT_EQ(kv.set("k", "v", 1), errc::not_open);
    EXPECT_EQ(error_of(kv.get(0u, buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(error_of(kv.get("k", buf, sizeof buf)), errc::not_open);
    EXPECT_EQ(kv.epoch(), 0u);
    EXPECT_EQ(error_of(kv.changed_since(0, indices, 4, &epoch)), errc::not_open);
    int visits = 0;
    EXPECT_EQ(error_of(kv.changed_since(0, buf, sizeof buf, &epoch, [&](std::uint32_t, const result<kv_value_info>&) { ++visits; })),
              errc::not_open);
    EXPECT_EQ(visits, 0);
    EXPECT_EQ(kv.wait_change(0, 1ms), errc::not_open);
    expect_unselectable(kv.waitable(&epoch));
    kv.close();
}

TEST(ClosedHandles, DefaultConstructed) {
    broadcast_writer bw;
    check_broadcast_writer(bw);
    broadcast_reader br;
    check_broadcast_reader(br);
    spsc_producer sp;
    check_spsc_producer(sp);
    spsc_consumer sc;
    check_spsc_consumer(sc);
    command_writer cw;
    check_command_writer(cw);
    command_reader cr;
    check_command_reader(cr);
    block b;
    check_block(b);
    stream_writer stw;
    check_slot_writer(stw);
    stream_reader str;
    check_slot_reader(str);
    video_writer vw;
    check_slot_writer(vw);
    EXPECT_EQ(error_of(vw.reserve_frame()), errc::not_open);
    EXPECT_EQ(vw.write_frame("x", 1), errc::not_open);
    video_reader vr;
    check_slot_reader(vr);
    audio_writer aw;
    check_slot_writer(aw);
    EXPECT_EQ(error_of(aw.reserve_buffer()), errc::not_open);
    EXPECT_EQ(aw.write_buffer("x", 1), errc::not_open);
    audio_reader ar;
    check_slot_reader(ar);
    kv_store kv;
    check_kv(kv);
}

TEST(ClosedHandles, OpenedThenClosed) {
    unique_name bn("closed-b"), sn("closed-s"), cn("closed-c"), kn("closed-blk"), tn("closed-st"), vn("closed-v"),
        an("closed-a"), kvn("closed-kv");
    {
        auto w = broadcast_writer::create(bn.c_str());
        ASSERT_TRUE(w);
        auto r = broadcast_reader::open(bn.c_str());
        ASSERT_TRUE(r);
        ASSERT_EQ(w->write("x", 1), errc::ok);
        w->close();
        r->close();
        check_broadcast_writer(*w);
        check_broadcast_reader(*r);
    }
    {
        auto p = spsc_producer::create(sn.c_str());
        ASSERT_TRUE(p);
        auto c = spsc_consumer::open(sn.c_str());
        ASSERT_TRUE(c);
        ASSERT_EQ(p->try_push("x", 1), errc::ok);
        ASSERT_TRUE(c->try_peek());  // closed with a message peeked: release() must not touch it
        p->close();
        c->close();
        check_spsc_producer(*p);
        check_spsc_consumer(*c);
    }
    {
        auto r = command_reader::create(cn.c_str());
        ASSERT_TRUE(r);
        auto w = command_writer::open(cn.c_str());
        ASSERT_TRUE(w);
        w->close();
        r->close();
        check_command_writer(*w);
        check_command_reader(*r);
    }
    {
        auto b = block::create(kn.c_str());
        ASSERT_TRUE(b);
        ASSERT_EQ(b->lock_shared(), errc::ok);
        b->close();  // closed holding a read lock: the lock goes with the handle
        check_block(*b);
        auto again = block::open(kn.c_str());
        ASSERT_TRUE(again);
        EXPECT_EQ(again->lock(1s), errc::ok);
        again->unlock();
    }
    {
        stream_config config;
        auto w = stream_writer::create(tn.c_str(), config);
        ASSERT_TRUE(w);
        auto r = stream_reader::open(tn.c_str());
        ASSERT_TRUE(r);
        w->close();
        r->close();
        check_slot_writer(*w);
        check_slot_reader(*r);
    }
    {
        video_config config;
        config.width = 16;
        config.height = 16;
        auto w = video_writer::create(vn.c_str(), config);
        ASSERT_TRUE(w);
        auto r = video_reader::open(vn.c_str());
        ASSERT_TRUE(r);
        w->close();
        r->close();
        check_slot_writer(*w);
        EXPECT_EQ(error_of(w->reserve_frame()), errc::not_open);
        EXPECT_EQ(w->write_frame("x", 1), errc::not_open);
        check_slot_reader(*r);
    }
    {
        audio_config config;
        auto w = audio_writer::create(an.c_str(), config);
        ASSERT_TRUE(w);
        auto r = audio_reader::open(an.c_str());
        ASSERT_TRUE(r);
        w->close();
        r->close();
        check_slot_writer(*w);
        EXPECT_EQ(error_of(w->reserve_buffer()), errc::not_open);
        EXPECT_EQ(w->write_buffer("x", 1), errc::not_open);
        check_slot_reader(*r);
    }
    {
        const char* keys[] = {"k"};
        auto kv = kv_store::create(kvn.c_str(), keys, 1);
        ASSERT_TRUE(kv);
        kv->close();
        check_kv(*kv);
    }
}

}  // namespace
}  // namespace shmkit
