#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/audio.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;
using namespace std::chrono_literals;

stream_config floats(std::uint64_t slots = 4) {
    stream_config c;
    c.type = dtype::float32;
    c.ndim = 2;
    c.shape[0] = 16;
    c.shape[1] = 4;
    c.slots = slots;
    return c;
}

struct Stream : ::testing::Test {
    unique_name name{"stream"};
    stream_writer writer;
    void SetUp() override {
        auto w = stream_writer::create(name.c_str(), floats());
        ASSERT_TRUE(w) << to_string(w.error());
        writer = std::move(w).value();
    }
    stream_reader reader(stream_reader_options o = {}) {
        auto r = stream_reader::open(name.c_str(), o);
        EXPECT_TRUE(r) << to_string(r.error());
        return r ? std::move(r).value() : stream_reader{};
    }
    void write(float value) {
        float sample[64];
        for (float& f : sample) f = value;
        ASSERT_EQ(writer.write(sample, sizeof sample), errc::ok);
    }
};

TEST_F(Stream, ReaderDiscoversTypeAndShape) {
    auto r = reader();
    EXPECT_EQ(r.type(), dtype::float32);
    EXPECT_EQ(r.ndim(), 2u);
    EXPECT_EQ(r.shape()[0], 16u);
    EXPECT_EQ(r.shape()[1], 4u);
    EXPECT_EQ(r.sample_bytes(), 256u);
    EXPECT_STREQ(to_string(r.type()), "float32");
}

TEST_F(Stream, ReaderExpectingAnotherTypeOrShapeIsRefused) {
    stream_reader_options o;
    o.expect.type = dtype::float64;
    EXPECT_EQ(stream_reader::open(name.c_str(), o).error(), errc::wrong_kind);
    o.expect.type = dtype::float32;
    o.expect.ndim = 2;
    o.expect.shape[0] = 16;
    o.expect.shape[1] = 5;
    EXPECT_EQ(stream_reader::open(name.c_str(), o).error(), errc::size_mismatch);
    o.expect.shape[1] = 4;
    EXPECT_TRUE(stream_reader::open(name.c_str(), o));
}

TEST_F(Stream, LatestIsTheNewestAndNextIsEveryOne) {
    auto r = reader();
    float out[64];
    EXPECT_EQ(r.latest(out, sizeof out).error(), errc::empty);
    EXPECT_EQ(r.try_next(out, sizeof out).error(), errc::empty);
    write(1);
    write(2);
    auto l = r.latest(out, sizeof out);
    ASSERT_TRUE(l);
    EXPECT_EQ(out[63], 2.0f);
    EXPECT_EQ(l->index, 1u);
    auto n = r.try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(out[0], 1.0f);
    n = r.try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(out[0], 2.0f);
    EXPECT_EQ(r.try_next(out, sizeof out).error(), errc::empty);
    EXPECT_FALSE(r.fresh());
}

TEST_F(Stream, AReaderAskingForTheNewestStartsAtTheNewestSamplePresent) {
    stream_reader_options newest;
    newest.from_newest = true;
    auto on_empty = reader(newest);  // nothing present: it starts at the next new sample
    EXPECT_EQ(on_empty.next_index(), 0u);
    for (int i = 0; i < 6; ++i) write(static_cast<float>(i));  // laps the 4 slots
    auto late = reader(newest);
    EXPECT_EQ(late.next_index(), 5u);
    float buf[64];
    auto s = late.try_next(buf, sizeof buf);
    ASSERT_TRUE(s) << to_string(s.error());
    EXPECT_EQ(s->index, 5u);
    EXPECT_EQ(s->lost, 0u);
    EXPECT_EQ(buf[0], 5.0f);
    EXPECT_EQ(late.try_next(buf, sizeof buf).error(), errc::empty);
    write(6.0f);
    s = late.try_next(buf, sizeof buf);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->index, 6u);
    s = on_empty.try_next(buf, sizeof buf);  // lapped meanwhile: the oldest kept
    ASSERT_TRUE(s);
    EXPECT_EQ(s->index, 4u);
    stream_reader_options both = newest;
    both.from_oldest = true;
    EXPECT_EQ(stream_reader::open(name.c_str(), both).error(), errc::invalid_argument);
}

TEST_F(Stream, TheWriterUnlinksItsNameAndReadersKeepReading) {
    auto r = reader();
    ASSERT_EQ(writer.unlink(), errc::ok);
    EXPECT_EQ(stream_reader::open(name.c_str()).error(), errc::not_found);
    write(1.0f);
    float buf[64];
    auto s = r.try_next(buf, sizeof buf);
    ASSERT_TRUE(s) << to_string(s.error());
    EXPECT_EQ(buf[0], 1.0f);
    EXPECT_EQ(writer.unlink(), errc::not_found);
    EXPECT_EQ(r.unlink(), errc::not_found);
    writer.close();
    EXPECT_EQ(writer.unlink(), errc::not_open);
}

TEST_F(Stream, LostCountsAreExact) {
    auto r = reader();  // starts at the next new sample: index 0
    for (int i = 0; i < 10; ++i) write(static_cast<float>(i));
    float out[64];
    EXPECT_TRUE(r.poll());  // lapped: ready, the read returns at once
    // 4 slots: the 3 newest samples are the ones guaranteed intact (the writer may be
    // overwriting the fourth), so 7 of the 10 are lost, reported with the first one returned.
    for (int i = 7; i < 10; ++i) {
        auto n = r.try_next(out, sizeof out);
        ASSERT_TRUE(n) << to_string(n.error());
        EXPECT_EQ(out[0], static_cast<float>(i));
        EXPECT_EQ(n->index, static_cast<std::uint64_t>(i));
        EXPECT_EQ(n->lost, i == 7 ? 7u : 0u);
        EXPECT_EQ(r.lost(), n->lost);
        EXPECT_EQ(r.overruns(), 1u);
    }
    EXPECT_EQ(r.try_next(out, sizeof out).error(), errc::empty);
    EXPECT_EQ(r.total_lost(), 7u);
    // latest() skips by design: it reports nothing lost and leaves the in-order counts alone.
    auto newest = r.latest(out, sizeof out);
    ASSERT_TRUE(newest);
    EXPECT_EQ(newest->lost, 0u);
    EXPECT_EQ(r.lost(), 0u);
    stream_reader_options so;
    so.from_oldest = true;
    auto late = reader(so);
    auto n = late.try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->index, 7u);
}

TEST_F(Stream, ZeroCopyNextCountsLostLikeNext) {
    auto r = reader();
    for (int i = 0; i < 10; ++i) write(static_cast<float>(i));
    for (int i = 7; i < 10; ++i) {
        auto v = r.view_next();
        ASSERT_TRUE(v) << to_string(v.error());
        EXPECT_EQ(v->info.index, static_cast<std::uint64_t>(i));
        EXPECT_EQ(reinterpret_cast<const float*>(v->data)[0], static_cast<float>(i));
        EXPECT_TRUE(v->valid());
        EXPECT_EQ(v->info.lost, i == 7 ? 7u : 0u);
        EXPECT_EQ(r.lost(), v->info.lost);
    }
    EXPECT_EQ(r.view_next().error(), errc::empty);
    EXPECT_EQ(r.total_lost(), 7u);
}

TEST_F(Stream, ZeroCopyViewKnowsWhenItWasOverwritten) {
    auto r = reader();
    write(5);
    auto v = r.view_latest();
    ASSERT_TRUE(v);
    EXPECT_EQ(reinterpret_cast<const float*>(v->data)[10], 5.0f);
    EXPECT_TRUE(v->valid());
    for (int i = 0; i < 4; ++i) write(6);  // laps the ring: slot 0 holds another sample now
    EXPECT_FALSE(v->valid());
}

TEST_F(Stream, ReservationCommitsInPlaceAndDroppedOnePublishesNothing) {
    auto r = reader();
    {
        auto slot = writer.reserve();
        ASSERT_TRUE(slot);
        reinterpret_cast<float*>(slot->data())[0] = 42;
        slot->commit();
    }
    { auto dropped = writer.reserve(); }
    float out[64];
    auto n = r.try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(out[0], 42.0f);
    EXPECT_EQ(r.try_next(out, sizeof out).error(), errc::empty);
    EXPECT_EQ(writer.samples_written(), 1u);
}

TEST_F(Stream, TooSmallBufferConsumesNothing) {
    auto r = reader();
    write(1);
    float small[2];
    EXPECT_EQ(r.try_next(small, sizeof small).error(), errc::message_too_large);
    EXPECT_EQ(r.pending_size(), 256u);
    float out[64];
    EXPECT_TRUE(r.try_next(out, sizeof out));
}

// Takes the writer role, writes one sample, and dies holding the role.
SHMKIT_TEST_ROLE(slots_write_and_die) {
    auto w = stream_writer::open(args.text(0).c_str());
    if (!w) return 1;
    float s[64] = {7};
    if (w->write(s, sizeof s) != errc::ok) return 2;
    std::_Exit(0);  // dies holding the role
}

TEST_F(Stream, IdleWriterIsAliveDeadOneIsNotAndIsTakenOver) {
    auto r = reader();
    EXPECT_TRUE(r.writer_alive());
    EXPECT_EQ(stream_writer::open(name.c_str()).error(), errc::busy);
    writer = stream_writer{};
    EXPECT_FALSE(r.writer_alive());  // closed
    child dead("slots_write_and_die", {name.c_str()});
    ASSERT_EQ(dead.wait(), 0);
    EXPECT_FALSE(r.writer_alive());
    auto w = stream_writer::open(name.c_str());
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_TRUE(r.writer_alive());
    EXPECT_EQ(w->samples_written(), 1u);
    os::sleep_ns(2'000'000);
    EXPECT_GE(r.heartbeat_age_ns(), 1'000'000u);
    w->heartbeat();
    EXPECT_LT(r.heartbeat_age_ns(), 1'000'000'000u);
}

// Leaves its identity behind and exits: a process id that is certainly dead once reaped.
SHMKIT_TEST_ROLE(slots_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

TEST_F(Stream, SampleFinishedButNotCountedIsAdoptedByTheNextWriter) {
    write(1);
    auto s = segment::open(name.c_str(), kind::stream, slot_kind_header_size, os::access::read_write);
    ASSERT_TRUE(s);
    auto* control = reinterpret_cast<slot_control*>(s->base() + slot_control_offset);
    write(2);
    control->committed.store(1, order::relaxed);  // killed between the even mark and the count
    shared<os::process_id> dead_id;
    child d("slots_record_identity", {dead_id.name()});
    ASSERT_EQ(d.wait(), 0);
    control->writer.store(pack_process(*dead_id), order::relaxed);
    writer = stream_writer{};
    auto w = stream_writer::open(name.c_str());
    ASSERT_TRUE(w);
    EXPECT_EQ(w->samples_written(), 2u);
    auto r = reader(stream_reader_options{{true}, {}});
    float out[64];
    ASSERT_TRUE(r.try_next(out, sizeof out));
    auto n = r.try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(out[0], 2.0f);
}

// Writes one sample a moment after opening, while the reader sleeps in next().
SHMKIT_TEST_ROLE(slots_write_later) {
    auto cw = stream_writer::open(args.text(0).c_str());
    if (!cw) return 1;
    os::sleep_ns(2'000'000);
    float s[64] = {3};
    return cw->write(s, sizeof s) == errc::ok ? 0 : 2;
}

TEST_F(Stream, BlockingReadsTimeOutAndWakeAcrossProcesses) {
    auto r = reader();
    float out[64];
    EXPECT_EQ(r.next(out, sizeof out, 1ms).error(), errc::timeout);
    EXPECT_EQ(r.wait_latest(out, sizeof out, 1ms).error(), errc::timeout);
    // A zero timeout is a timeout too; only the try_ form says empty.
    EXPECT_EQ(r.next(out, sizeof out, 0ms).error(), errc::timeout);
    EXPECT_EQ(r.wait_latest(out, sizeof out, 0ms).error(), errc::timeout);
    EXPECT_EQ(r.try_next(out, sizeof out).error(), errc::empty);
    writer = stream_writer{};
    child w("slots_write_later", {name.c_str()});
    auto n = r.next(out, sizeof out, wait_forever);
    ASSERT_TRUE(n) << to_string(n.error());
    EXPECT_EQ(out[0], 3.0f);
    EXPECT_EQ(w.wait(), 0);
}

TEST(StreamBytes, VariableSizeMessages) {
    unique_name name("stream-bytes");
    stream_config c;
    c.type = dtype::bytes;
    c.max_bytes = 100;
    c.slots = 3;
    auto w = stream_writer::create(name.c_str(), c);
    ASSERT_TRUE(w) << to_string(w.error());
    auto r = stream_reader::open(name.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->type(), dtype::bytes);
    ASSERT_EQ(w->write("\x81\xa1x\x01", 4), errc::ok);  // e.g. msgpack {"x": 1}
    char big[101] = {};
    EXPECT_EQ(w->write(big, sizeof big), errc::message_too_large);
    char out[100];
    auto n = r->try_next(out, sizeof out);
    ASSERT_TRUE(n);
    EXPECT_EQ(n->size, 4u);
    EXPECT_EQ(std::string(out, 4), std::string("\x81\xa1x\x01", 4));
}

TEST(StreamMemory, ReadersAndWritersAttachToCallerGivenMemory) {
    unique_name name("stream-memory");
    stream_config config;
    config.type = dtype::uint64;
    config.shape[0] = 1;
    {
        auto creator = stream_writer::create(name.c_str(), config);
        ASSERT_TRUE(creator);
    }  // the writer role is free again
    test::raw_mapping memory(name.c_str());
    auto w = stream_writer::attach(memory.base(), memory.size());
    ASSERT_TRUE(w) << to_string(w.error());
    auto r = stream_reader::attach(memory.base(), memory.size());
    ASSERT_TRUE(r) << to_string(r.error());
    stream_reader_options wrong;
    wrong.expect.type = dtype::float32;
    EXPECT_EQ(stream_reader::attach(memory.base(), memory.size(), wrong).error(), errc::wrong_kind);
    EXPECT_EQ(stream_writer::attach(memory.base(), memory.size()).error(), errc::busy);
    EXPECT_EQ(w->unlink(), errc::not_open);  // caller-given memory has no name
    const std::uint64_t v = 42;
    ASSERT_EQ(w->write(&v, sizeof v), errc::ok);
    std::uint64_t got = 0;
    ASSERT_TRUE(r->try_next(&got, sizeof got));
    EXPECT_EQ(got, 42u);
    EXPECT_EQ(video_reader::attach(memory.base(), memory.size()).error(), errc::wrong_kind);
    EXPECT_EQ(stream_reader::attach(memory.base() + 8, memory.size() - 8).error(), errc::invalid_argument);
}

TEST(SlotMemory, EveryKindFormatsCallerGivenMemory) {
    stream_config sc;
    sc.type = dtype::uint32;
    sc.shape[0] = 4;
    video_config vc;
    vc.width = 8;
    vc.height = 4;
    vc.page_aligned = false;
    audio_config ac;
    ac.buffer_us = 1000;
    const std::uint64_t sizes[] = {stream_writer::segment_size(sc), video_writer::segment_size(vc),
                                   audio_writer::segment_size(ac)};
    for (std::uint64_t size : sizes) ASSERT_GT(size, 0u);
    std::vector<std::uint8_t> storage(sizes[0] + sizes[1] + sizes[2] + 3 * 64);
    auto* p = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) / 64 * 64);
    auto sw = stream_writer::format(p, sizes[0], sc);
    ASSERT_TRUE(sw) << to_string(sw.error());
    const std::uint32_t sample[4] = {1, 2, 3, 4};
    ASSERT_EQ(sw->write(sample, sizeof sample), errc::ok);
    auto sr = stream_reader::attach(p, sizes[0]);
    ASSERT_TRUE(sr);
    std::uint32_t got[4];
    ASSERT_TRUE(sr->latest(got, sizeof got));
    EXPECT_EQ(got[3], 4u);
    EXPECT_EQ(stream_writer::format(p, sizes[0] - 64, sc).error(), errc::invalid_argument);
    EXPECT_EQ(stream_writer::format(p + 8, sizes[0], sc).error(), errc::invalid_argument);
    std::uint8_t* v = p + round_up(sizes[0], 64);
    auto vw = video_writer::format(v, sizes[1], vc);
    ASSERT_TRUE(vw) << to_string(vw.error());
    EXPECT_TRUE(video_reader::attach(v, sizes[1]));
    std::uint8_t* a = v + round_up(sizes[1], 64);
    auto aw = audio_writer::format(a, sizes[2], ac);
    ASSERT_TRUE(aw) << to_string(aw.error());
    EXPECT_TRUE(audio_reader::attach(a, sizes[2]));
    video_config bad = vc;
    bad.width = 0;
    EXPECT_EQ(video_writer::segment_size(bad), 0u);
}

TEST(StreamConfig, BadDescriptionsAreRefused) {
    unique_name name("stream-bad");
    stream_config c = floats();
    c.ndim = 9;
    EXPECT_EQ(stream_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    c = floats();
    c.shape[1] = 0;
    EXPECT_EQ(stream_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    c = floats(1);
    EXPECT_EQ(stream_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    c = floats();
    c.type = static_cast<dtype>(99);
    EXPECT_EQ(stream_writer::create(name.c_str(), c).error(), errc::invalid_argument);
    // Sizes whose products would overflow are argument errors, not a corrupt-looking segment.
    stream_config bytes;
    bytes.type = dtype::bytes;
    bytes.ndim = 0;
    bytes.max_bytes = std::uint64_t{1} << 62;
    EXPECT_EQ(stream_writer::create(name.c_str(), bytes).error(), errc::invalid_argument);
    bytes.max_bytes = ~std::uint64_t{0};
    EXPECT_EQ(stream_writer::create(name.c_str(), bytes).error(), errc::invalid_argument);
    bytes.max_bytes = std::uint64_t{1} << 46;  // each slot fits; 8 of them exceed the limit
    EXPECT_EQ(stream_writer::create(name.c_str(), bytes).error(), errc::invalid_argument);
    EXPECT_EQ(element_size(dtype::complex128), 16u);
    EXPECT_STREQ(to_string(dtype::float16), "float16");
}

// ---- message schemas --------------------------------------------------------------------------

stream_config messages(const char* schema_name, std::uint64_t schema_hash) {
    stream_config c;
    c.type = dtype::bytes;
    c.ndim = 0;
    c.max_bytes = 512;
    c.schema_name = schema_name;
    c.schema_hash = schema_hash;
    return c;
}

std::uint64_t status_fields_hash() {
    const char fields[] = "gain:float,cam_on:bool";
    return fields_hash(fields, sizeof fields - 1);
}

errc open_expecting(const char* name, const char* schema_name, std::uint64_t schema_hash) {
    stream_reader_options o;
    o.expect.schema_name = schema_name;
    o.expect.schema_hash = schema_hash;
    auto r = stream_reader::open(name, o);
    return r ? errc::ok : r.error();
}

TEST(StreamSchema, ReadersSeeTheSchemaAndOneExpectingAnotherIsRefused) {
    unique_name name("stream-schema");
    const std::uint64_t hash = status_fields_hash();
    auto w = stream_writer::create(name.c_str(), messages("Status", hash));
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_STREQ(w->schema_name(), "Status");
    EXPECT_EQ(w->schema_hash(), hash);
    auto any = stream_reader::open(name.c_str());  // a reader that names no schema takes any
    ASSERT_TRUE(any) << to_string(any.error());
    EXPECT_STREQ(any->schema_name(), "Status");
    EXPECT_EQ(any->schema_hash(), hash);
    EXPECT_EQ(open_expecting(name.c_str(), "Status", hash), errc::ok);
    EXPECT_EQ(open_expecting(name.c_str(), "Status", hash ^ 1), errc::schema_mismatch);  // other fields
    EXPECT_EQ(open_expecting(name.c_str(), "Stat", hash), errc::schema_mismatch);        // a prefix
    EXPECT_EQ(open_expecting(name.c_str(), "StatusV2", hash), errc::schema_mismatch);
}

TEST(StreamSchema, AReaderExpectingASchemaRefusesAStreamWithout) {
    unique_name name("stream-no-schema");
    auto w = stream_writer::create(name.c_str(), messages(nullptr, 0));
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_STREQ(w->schema_name(), "");
    EXPECT_EQ(w->schema_hash(), 0u);
    EXPECT_EQ(open_expecting(name.c_str(), "Status", status_fields_hash()), errc::schema_mismatch);
    EXPECT_EQ(open_expecting(name.c_str(), nullptr, 0), errc::ok);
}

TEST(StreamSchema, SchemasNoStreamCanHoldAreRefused) {
    unique_name name("stream-bad-schema");
    const std::string longest(max_schema_name, 'n');
    const std::string too_long(max_schema_name + 1, 'n');
    EXPECT_EQ(stream_writer::create(name.c_str(), messages(too_long.c_str(), 1)).error(), errc::invalid_argument);
    EXPECT_EQ(stream_writer::create(name.c_str(), messages("", 1)).error(), errc::invalid_argument);
    EXPECT_EQ(stream_writer::create(name.c_str(), messages("\xc3\x28", 1)).error(), errc::invalid_argument);  // not UTF-8
    EXPECT_EQ(stream_writer::create(name.c_str(), messages(nullptr, 7)).error(), errc::invalid_argument);
    EXPECT_EQ(stream_writer::segment_size(messages(too_long.c_str(), 1)), 0u);
    auto w = stream_writer::create(name.c_str(), messages(longest.c_str(), 1));
    ASSERT_TRUE(w) << to_string(w.error());
    EXPECT_EQ(w->schema_name(), longest);
    EXPECT_EQ(open_expecting(name.c_str(), longest.c_str(), 1), errc::ok);
    EXPECT_EQ(open_expecting(name.c_str(), too_long.c_str(), 1), errc::invalid_argument);
    EXPECT_EQ(open_expecting(name.c_str(), "", 1), errc::invalid_argument);
}

TEST(StreamSchema, FieldsHashIsFnv1a64) {
    EXPECT_EQ(status_fields_hash(), 0x2e4c9e8604d92643ull);  // the Python tests pin the same value
    EXPECT_EQ(fields_hash("", 0), 0xcbf29ce484222325ull);
    EXPECT_EQ(fields_hash("a", 1), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(fields_hash("foobar", 6), 0x85944171f73967e8ull);
}

// The stored schema is part of the checksummed description, and is validated for itself: a
// hostile writer that reseals the header still cannot get a malformed one past a reader.
TEST(StreamSchema, ADamagedStoredSchemaIsRefused) {
    const stream_config config = messages("Status", 42);
    const std::uint64_t size = stream_writer::segment_size(config);
    ASSERT_GT(size, 0u);
    std::vector<std::uint8_t> storage(size + 64);
    auto* p = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) / 64 * 64);
    ASSERT_TRUE(stream_writer::format(p, size, config));
    auto* schema = reinterpret_cast<stream_schema*>(p + slot_kind_meta_offset + offsetof(stream_meta, schema));
    const stream_schema intact = *schema;
    const auto reseal = [&] {
        reinterpret_cast<segment_header*>(p)->checksum = header_checksum(p, slot_kind_header_size);
    };
    const auto reader_error = [&] {
        auto r = stream_reader::attach(p, size);
        return r ? errc::ok : r.error();
    };
    // A valid name, changed without resealing: the checksum covers the schema.
    std::memcpy(schema->name, "Statue", 6);
    EXPECT_EQ(reader_error(), errc::invalid_layout);
    reseal();
    auto renamed = stream_reader::attach(p, size);
    ASSERT_TRUE(renamed) << to_string(renamed.error());
    EXPECT_STREQ(renamed->schema_name(), "Statue");

    struct damage {
        const char* what;
        void (*apply)(stream_schema*);
    };
    const damage cases[] = {
        {"no terminator", [](stream_schema* s) { std::memset(s->name, 'A', sizeof s->name); }},
        {"bytes after the terminator", [](stream_schema* s) { s->name[sizeof s->name - 1] = 'X'; }},
        {"a hash without a name", [](stream_schema* s) { std::memset(s->name, 0, sizeof s->name); }},
        {"a name that is not UTF-8", [](stream_schema* s) { s->name[0] = static_cast<char>(0xC3); s->name[1] = '('; }},
    };
    for (const damage& d : cases) {
        *schema = intact;
        d.apply(schema);
        reseal();
        EXPECT_EQ(reader_error(), errc::invalid_layout) << d.what;
    }
}

TEST(Video, FrameGeometryOfEveryFormat) {
    struct expect {
        pixel_format f;
        std::uint64_t frame;
        std::uint32_t planes;
    };
    for (const expect& e : {expect{pixel_format::gray8, 640 * 480, 1}, expect{pixel_format::rgb24, 640 * 480 * 3, 1},
                            expect{pixel_format::bgra32, 640 * 480 * 4, 1}, expect{pixel_format::yuyv422, 640 * 480 * 2, 1},
                            expect{pixel_format::nv12, 640 * 480 * 3 / 2, 2}, expect{pixel_format::i420, 640 * 480 * 3 / 2, 3}}) {
        video_config c;
        c.format = e.f;
        video_meta m;
        ASSERT_EQ(video_geometry(c, &m), errc::ok) << to_string(e.f);
        EXPECT_EQ(m.frame_bytes, e.frame) << to_string(e.f);
        EXPECT_EQ(plane_count(e.f), e.planes);
    }
    video_config c;
    c.format = pixel_format::i420;
    video_meta m;
    ASSERT_EQ(video_geometry(c, &m), errc::ok);
    EXPECT_EQ(m.plane_offset[1], 640u * 480);
    EXPECT_EQ(m.plane_offset[2], 640u * 480 + 320 * 240);
    EXPECT_EQ(m.plane_stride[1], 320u);
    c.width = 641;  // 4:2:0 needs even dimensions
    EXPECT_EQ(video_geometry(c, &m), errc::invalid_argument);
    c.width = 640;
    c.format = pixel_format::rgb24;
    c.stride = 2000;  // padded rows
    ASSERT_EQ(video_geometry(c, &m), errc::ok);
    EXPECT_EQ(m.frame_bytes, 2000u * 480);
    c.stride = 1000;  // shorter than a row
    EXPECT_EQ(video_geometry(c, &m), errc::invalid_argument);
    EXPECT_STREQ(to_string(pixel_format::rgb24), "RGB24");
    EXPECT_STREQ(to_string(pixel_format::nv12), "NV12");
}

TEST(Video, FramesCarryPtsAndSequence) {
    unique_name name("video");
    video_config c;
    c.width = 64;
    c.height = 48;
    c.format = pixel_format::rgb24;
    auto w = video_writer::create(name.c_str(), c);
    ASSERT_TRUE(w) << to_string(w.error());
    auto r = video_reader::open(name.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->description().width, 64u);
    EXPECT_EQ(static_cast<pixel_format>(r->description().pixel_format), pixel_format::rgb24);
    {
        auto frame = w->reserve_frame(123456, 123000);
        ASSERT_TRUE(frame);
        std::memset(frame->data(), 0x7F, frame->size());
        frame->commit();
    }
    std::vector<std::uint8_t> pixels(64 * 48 * 3, 1);
    EXPECT_EQ(w->write_frame(pixels.data(), pixels.size() - 1), errc::size_mismatch);
    ASSERT_EQ(w->write_frame(pixels.data(), pixels.size(), 2, 3), errc::ok);
    std::vector<std::uint8_t> out(pixels.size());
    auto f = r->try_next(out.data(), out.size());  // attached before any frame: frame 0 is next
    ASSERT_TRUE(f) << to_string(f.error());
    EXPECT_EQ(f->index, 0u);
    EXPECT_EQ(video_pts(*f), 123456);
    EXPECT_EQ(audio_pts(*f), 123000);
    EXPECT_EQ(out[1000], 0x7F);
    f = r->try_next(out.data(), out.size());
    ASSERT_TRUE(f);
    EXPECT_EQ(f->index, 1u);
    EXPECT_EQ(video_pts(*f), 2);
    EXPECT_EQ(audio_pts(*f), 3);
    EXPECT_EQ(out[1000], 1);
    auto newest = r->view_latest();  // zero-copy
    ASSERT_TRUE(newest);
    EXPECT_EQ(newest->info.index, 1u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(newest->data) % 4096, 0u);  // page-aligned frames
    EXPECT_TRUE(newest->valid());
}

TEST(Audio, BuffersHoldTheDurationAskedFor) {
    unique_name name("audio");
    audio_config c;  // 2 x s16le at 48 kHz, 20 ms
    auto w = audio_writer::create(name.c_str(), c);
    ASSERT_TRUE(w) << to_string(w.error());
    auto r = audio_reader::open(name.c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->description().frames_per_buffer, 960u);
    EXPECT_EQ(r->description().buffer_bytes, 960u * 4);
    EXPECT_STREQ(to_string(static_cast<sample_format>(r->description().sample_format)), "S16LE");
    std::vector<std::int16_t> pcm(960 * 2, 5);
    ASSERT_EQ(w->write_buffer(pcm.data(), pcm.size() * 2, 777), errc::ok);
    EXPECT_EQ(w->write_buffer(pcm.data(), 3, 0), errc::size_mismatch);  // not whole frames
    std::vector<std::int16_t> out(960 * 2);
    auto b = r->try_next(out.data(), out.size() * 2);
    ASSERT_TRUE(b);
    EXPECT_EQ(buffer_pts(*b), 777);
    EXPECT_EQ(out[1919], 5);
    audio_config s24;
    s24.format = sample_format::s24le;
    s24.channels = 1;
    audio_meta m;
    ASSERT_EQ(audio_geometry(s24, &m), errc::ok);
    EXPECT_EQ(m.bytes_per_frame, 3u);
}

}  // namespace
}  // namespace shmkit
