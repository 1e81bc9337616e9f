// Moving a handle (detail::handle): the source is left closed, the destination carries on
// exactly where the source was, and a move-assignment over an open handle first gives up what
// that handle held (its role), so another handle can claim it.
#include <gtest/gtest.h>

#include <utility>

#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using namespace std::chrono_literals;
using test::unique_name;

// Reads `count` messages with `read(buf, cap)` and checks they carry seq 0, 1, ...: the handle
// moved in between carried on where it was.
template <class Read>
void expect_seqs_from_zero(Read&& read, std::uint64_t count) {
    char buf[8];
    for (std::uint64_t seq = 0; seq < count; ++seq) {
        auto m = read(buf, sizeof buf);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->seq, seq);
    }
}

TEST(HandleMoves, BroadcastWriterAndReader) {
    unique_name a("mv-ba"), b("mv-bb");
    auto wa = broadcast_writer::create(a.c_str());
    auto wb = broadcast_writer::create(b.c_str());
    ASSERT_TRUE(wa && wb);
    broadcast_reader_options oldest;
    oldest.from_oldest = true;
    auto r = broadcast_reader::open(b.c_str(), oldest);
    ASSERT_TRUE(r);
    ASSERT_EQ(wb->write("0", 1), errc::ok);
    ASSERT_EQ(wb->write("1", 1), errc::ok);

    *wa = std::move(*wb);  // gives up a's writer role, takes b's
    EXPECT_FALSE(wb->is_open());
    EXPECT_EQ(wb->write("x", 1), errc::not_open);
    EXPECT_TRUE(broadcast_writer::open(a.c_str()));  // a's role was released
    EXPECT_EQ(broadcast_writer::open(b.c_str()).error(), errc::busy);
    EXPECT_EQ(wa->messages_written(), 2u);
    ASSERT_EQ(wa->write("2", 1), errc::ok);

    char buf[8];
    auto m = r->try_read(buf, sizeof buf);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->seq, 0u);
    broadcast_reader moved(std::move(*r));  // mid-stream: the next read continues
    EXPECT_FALSE(r->is_open());
    EXPECT_EQ(r->try_read(buf, sizeof buf).error(), errc::not_open);
    for (std::uint64_t seq = 1; seq <= 2; ++seq) {
        m = moved.try_read(buf, sizeof buf);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->seq, seq);
        EXPECT_EQ(buf[0], static_cast<char>('0' + seq));
    }
}

TEST(HandleMoves, SpscProducerKeepsItsPositions) {
    unique_name a("mv-sa"), b("mv-sb");
    auto pa = spsc_producer::create(a.c_str());
    auto pb = spsc_producer::create(b.c_str());
    ASSERT_TRUE(pa && pb);
    auto c = spsc_consumer::open(b.c_str());
    ASSERT_TRUE(c);
    ASSERT_EQ(pb->try_push("0", 1), errc::ok);
    *pa = std::move(*pb);
    EXPECT_FALSE(pb->is_open());
    EXPECT_EQ(pb->try_push("x", 1), errc::not_open);
    EXPECT_TRUE(spsc_producer::open(a.c_str()));  // a's producer role was released
    ASSERT_EQ(pa->try_push("1", 1), errc::ok);
    expect_seqs_from_zero([&](char* buf, std::size_t cap) { return c->try_pop(buf, cap); }, 2);
}

TEST(HandleMoves, CommandReaderReleasesItsRole) {
    unique_name a("mv-ca"), b("mv-cb");
    auto ra = command_reader::create(a.c_str());
    auto rb = command_reader::create(b.c_str());
    ASSERT_TRUE(ra && rb);
    auto w = command_writer::open(b.c_str());
    ASSERT_TRUE(w);
    ASSERT_EQ(w->try_write("0", 1), errc::ok);
    command_writer w2(std::move(*w));
    EXPECT_FALSE(w->is_open());
    ASSERT_EQ(w2.try_write("1", 1), errc::ok);
    *ra = std::move(*rb);
    EXPECT_FALSE(rb->is_open());
    EXPECT_TRUE(command_reader::open(a.c_str()));  // a's reader role was released
    expect_seqs_from_zero([&](char* buf, std::size_t cap) { return ra->try_read(buf, cap); }, 2);
}

TEST(HandleMoves, SlotWriterKeepsItsDescriptionAndCount) {
    unique_name a("mv-ta"), b("mv-tb");
    stream_config config;
    config.type = dtype::int32;
    config.shape[0] = 4;
    auto wa = stream_writer::create(a.c_str(), config);
    config.shape[0] = 2;
    auto wb = stream_writer::create(b.c_str(), config);
    ASSERT_TRUE(wa && wb);
    const std::int32_t sample[2] = {1, 2};
    ASSERT_EQ(wb->write(sample, sizeof sample), errc::ok);
    *wa = std::move(*wb);
    EXPECT_FALSE(wb->is_open());
    EXPECT_TRUE(stream_writer::open(a.c_str()));  // a's writer role was released
    EXPECT_EQ(wa->samples_written(), 1u);
    EXPECT_EQ(wa->description().shape[0], 2u);
    EXPECT_EQ(wa->write(sample, sizeof sample), errc::ok);
}

TEST(HandleMoves, BlockAndKv) {
    unique_name a("mv-blk"), k("mv-kv");
    auto b = block::create(a.c_str());
    ASSERT_TRUE(b);
    ASSERT_EQ(b->write_at(0, "x", 1), errc::ok);
    block moved(std::move(*b));
    EXPECT_FALSE(b->is_open());
    EXPECT_EQ(b->lock(0ns), errc::not_open);
    char c = 0;
    ASSERT_EQ(moved.read_at(0, &c, 1), errc::ok);
    EXPECT_EQ(c, 'x');
    EXPECT_EQ(moved.lock(1s), errc::ok);
    moved.unlock();

    const char* keys[] = {"k"};
    auto kv = kv_store::create(k.c_str(), keys, 1);
    ASSERT_TRUE(kv);
    ASSERT_EQ(kv->set("k", "v", 1), errc::ok);
    kv_store kv2;
    kv2 = std::move(*kv);
    EXPECT_FALSE(kv->is_open());
    char v = 0;
    auto got = kv2.get("k", &v, 1);
    ASSERT_TRUE(got);
    EXPECT_EQ(v, 'v');
}

// A live reservation points at its writer: moving the writer then is a contract violation (the
// reservation would commit through the moved-from handle), caught by the assert hook.
TEST(HandleMovesDeathTest, WriterWithALiveReservationDoesNotMove) {
    unique_name b("mv-db"), s("mv-ds"), t("mv-dt");
    auto bw = broadcast_writer::create(b.c_str());
    auto sp = spsc_producer::create(s.c_str());
    auto tw = stream_writer::create(t.c_str(), stream_config{});
    ASSERT_TRUE(bw && sp && tw);
    auto br = bw->reserve(8);
    auto sr = sp->try_reserve(8);
    auto tr = tw->reserve();
    ASSERT_TRUE(br && sr && tr);
    EXPECT_DEATH({ broadcast_writer moved(std::move(*bw)); }, "contract violated");
    EXPECT_DEATH({ broadcast_writer other; other = std::move(*bw); }, "contract violated");
    EXPECT_DEATH({ spsc_producer moved(std::move(*sp)); }, "contract violated");
    EXPECT_DEATH({ stream_writer moved(std::move(*tw)); }, "contract violated");
    br->commit();
    sr->commit();
    tr->commit();
    broadcast_writer moved(std::move(*bw));  // finished: free to move
    EXPECT_TRUE(moved.is_open());
}

}  // namespace
}  // namespace shmkit
