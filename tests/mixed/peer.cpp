// One side of the mixed 32/64-bit tests (tests/mixed/run.sh): the same program is built for
// the build machine (64-bit) and for a 32-bit target (armhf, run under qemu-user); one build
// creates a segment of every kind and writes contents both sides can predict, the other opens
// it by name and checks every byte, number and geometry field it reads back. Any difference
// between the two builds' layouts (an offset, a size, a field's width) shows up as a refused
// open or a wrong value.
//
//   shmkit_mixed_peer write KIND NAME    create NAME and fill it (duplex: serve the requests)
//   shmkit_mixed_peer verify KIND NAME   open NAME and check it (duplex: send the requests)
//   shmkit_mixed_peer remove KIND NAME   remove what write created (nothing there is fine)
//   shmkit_mixed_peer kinds              the kinds, one per line
//   shmkit_mixed_peer arch               "32-bit" or "64-bit"
//
// Exit status 0 only if everything checked was as written; 1 with a message otherwise; 2 on a
// usage error. Every value that could differ between 32 and 64 bits is chosen to: positions
// past a ring's wrap, 64-bit sequence numbers, timestamps and epochs, sizes that are not
// multiples of 8.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "shmkit/audio.hpp"
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/channel.hpp"
#include "shmkit/command.hpp"
#include "shmkit/duplex.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"

namespace {

using namespace shmkit;
constexpr auto timeout = std::chrono::seconds(20);

const char* arch() { return sizeof(void*) == 4 ? "32-bit" : "64-bit"; }

int fail(const char* kind, const char* what, errc e) {
    std::fprintf(stderr, "shmkit_mixed_peer (%s) %s: %s: %s\n", arch(), kind, what, to_string(e));
    return 1;
}

int mismatch(const char* kind, const std::string& what) {
    std::fprintf(stderr, "shmkit_mixed_peer (%s) %s: %s\n", arch(), kind, what.c_str());
    return 1;
}

// Message i of a stream of `seed`: 1 to `max` bytes, the first 8 the little-endian u64
// `seed << 40 | i` when there is room, the rest a pattern of (seed, i, offset).
std::vector<std::uint8_t> payload(std::uint64_t seed, std::uint64_t i, std::size_t max) {
    const std::size_t size = 1 + static_cast<std::size_t>((i * 37 + seed * 11) % max);
    std::vector<std::uint8_t> m(size);
    const std::uint64_t word = seed << 40 | i;
    for (std::size_t k = 0; k < size; ++k) {
        m[k] = k < 8 ? static_cast<std::uint8_t>(word >> (8 * k))
                     : static_cast<std::uint8_t>(seed * 131 + i * 31 + k * 7 + (i >> 8));
    }
    return m;
}

bool same(const std::vector<std::uint8_t>& want, const void* got, std::uint64_t size) {
    return size == want.size() && std::memcmp(want.data(), got, want.size()) == 0;
}

// ---- broadcast: a 4 KiB ring lapped many times; the reader gets the tail, in order.

constexpr std::uint64_t broadcast_count = 5000;

int broadcast_write(const char* name) {
    broadcast_config c;
    c.capacity = 4096;
    c.max_message = 200;
    auto w = broadcast_writer::create(name, c);
    if (!w) return fail("broadcast", "create", w.error());
    for (std::uint64_t i = 0; i < broadcast_count; ++i) {
        const auto m = payload(1, i, 200);
        if (const errc e = w->write(m.data(), m.size()); failed(e)) return fail("broadcast", "write", e);
    }
    return 0;
}

int broadcast_verify(const char* name) {
    broadcast_reader_options o;
    o.from_oldest = true;
    auto r = broadcast_reader::open(name, o);
    if (!r) return fail("broadcast", "open", r.error());
    std::uint8_t buf[256];
    std::uint64_t expect = 0, read = 0;
    for (;;) {
        auto m = r->try_read(buf, sizeof buf);
        if (!m) {
            if (m.error() == errc::empty) break;
            return fail("broadcast", "read", m.error());
        }
        if (read == 0) expect = m->seq;  // the oldest still in the ring
        if (m->seq != expect) return mismatch("broadcast", "message " + std::to_string(m->seq) + " out of order");
        if (!same(payload(1, m->seq, 200), buf, m->size)) {
            return mismatch("broadcast", "message " + std::to_string(m->seq) + " differs");
        }
        ++expect;
        ++read;
    }
    // 5000 messages of 1..200 bytes through 4 KiB: the ring wrapped many times, and the newest
    // dozens are still there.
    if (expect != broadcast_count || read < 10 || read == broadcast_count) {
        return mismatch("broadcast", "read " + std::to_string(read) + " messages ending before " + std::to_string(expect));
    }
    std::printf("broadcast: %llu messages checked (seq %llu..%llu)\n", static_cast<unsigned long long>(read),
                static_cast<unsigned long long>(expect - read), static_cast<unsigned long long>(expect - 1));
    return 0;
}

// ---- spsc and channel: the writer first moves the ring's positions past several wraps (with
// a consumer of its own, closed again), then leaves messages that straddle the wrap point for
// the other side.

constexpr std::uint64_t ring_capacity = 1024;
constexpr std::uint64_t ring_warmup = 1000;  // messages pushed and popped by the writer itself
constexpr std::uint64_t ring_left = 12;      // left for the other side (at most 60 bytes each)

int spsc_write(const char* name) {
    spsc_config c;
    c.capacity = ring_capacity;
    auto p = spsc_producer::create(name, c);
    if (!p) return fail("spsc", "create", p.error());
    {
        auto own = spsc_consumer::open(name);
        if (!own) return fail("spsc", "open own consumer", own.error());
        std::uint8_t buf[128];
        for (std::uint64_t i = 0; i < ring_warmup; ++i) {
            const auto m = payload(2, i, 60);
            if (const errc e = p->push(m.data(), m.size(), timeout); failed(e)) return fail("spsc", "push", e);
            auto got = own->pop(buf, sizeof buf, timeout);
            if (!got || !same(m, buf, got->size)) return mismatch("spsc", "own consumer read back a wrong message");
        }
    }
    for (std::uint64_t i = ring_warmup; i < ring_warmup + ring_left; ++i) {
        const auto m = payload(2, i, 60);
        const errc e = p->push(m.data(), m.size(), timeout);
        if (failed(e)) return fail("spsc", "push", e);
    }
    return 0;
}

int spsc_verify(const char* name) {
    auto c = spsc_consumer::open(name);
    if (!c) return fail("spsc", "open", c.error());
    std::uint8_t buf[128];
    for (std::uint64_t i = ring_warmup; i < ring_warmup + ring_left; ++i) {
        auto m = c->pop(buf, sizeof buf, timeout);
        if (!m) return fail("spsc", "pop", m.error());
        if (!same(payload(2, i, 60), buf, m->size)) return mismatch("spsc", "message " + std::to_string(i) + " differs");
    }
    auto more = c->try_pop(buf, sizeof buf);
    if (more || more.error() != errc::empty) return mismatch("spsc", "a message beyond the last one written");
    std::printf("spsc: %llu messages checked across the wrap\n", static_cast<unsigned long long>(ring_left));
    return 0;
}

const char channel_meta[] = "camera=front;fps=30;bayer=rggb";

int channel_write(const char* name) {
    channel_config c;
    c.capacity = ring_capacity;
    c.metadata_size = 100;
    auto w = channel_writer::create(name, c);
    if (!w) return fail("channel", "create", w.error());
    if (const errc e = w->set_metadata(channel_meta, sizeof channel_meta); failed(e)) return fail("channel", "metadata", e);
    {
        auto own = channel_reader::open(name);
        if (!own) return fail("channel", "open own reader", own.error());
        for (std::uint64_t i = 0; i < ring_warmup; ++i) {
            const auto m = payload(3, i, 60);
            if (const errc e = w->write(m.data(), m.size(), timeout); failed(e)) return fail("channel", "write", e);
            auto got = own->read(timeout);
            if (!got || !same(m, got->data, got->size)) return mismatch("channel", "own reader read back a wrong frame");
            own->release();
        }
    }
    for (std::uint64_t i = ring_warmup; i < ring_warmup + ring_left; ++i) {
        const auto m = payload(3, i, 60);
        const errc e = w->write(m.data(), m.size(), timeout);
        if (failed(e)) return fail("channel", "write", e);
    }
    return 0;
}

int channel_verify(const char* name) {
    auto r = channel_reader::open(name);
    if (!r) return fail("channel", "open", r.error());
    auto meta = r->metadata();
    if (!meta) return fail("channel", "metadata", meta.error());
    if (meta->size != sizeof channel_meta || std::memcmp(meta->data, channel_meta, sizeof channel_meta) != 0) {
        return mismatch("channel", "metadata differs");
    }
    if (r->metadata_capacity() != 128) return mismatch("channel", "metadata capacity " + std::to_string(r->metadata_capacity()));
    for (std::uint64_t i = ring_warmup; i < ring_warmup + ring_left; ++i) {
        auto m = r->read(timeout);
        if (!m) return fail("channel", "read", m.error());
        if (m->seq != i) return mismatch("channel", "frame " + std::to_string(i) + " has seq " + std::to_string(m->seq));
        if (!same(payload(3, i, 60), m->data, m->size)) return mismatch("channel", "frame " + std::to_string(i) + " differs");
        r->release();
    }
    std::printf("channel: metadata and %llu frames checked across the wrap\n", static_cast<unsigned long long>(ring_left));
    return 0;
}

// ---- command: the reader's role is created (and given up) by the writing side, which then
// writes as a command writer; the verifying side takes the reader's role over.

constexpr std::uint64_t command_count = 40;

int command_write(const char* name) {
    command_config c;
    c.capacity = 8192;
    {
        auto r = command_reader::create(name, c);
        if (!r) return fail("command", "create", r.error());
    }
    auto w = command_writer::open(name);
    if (!w) return fail("command", "open writer", w.error());
    for (std::uint64_t i = 0; i < command_count; ++i) {
        const auto m = payload(4, i, 150);
        const errc e = w->write(m.data(), m.size(), timeout);
        if (failed(e)) return fail("command", "write", e);
    }
    return 0;
}

int command_verify(const char* name) {
    auto r = command_reader::open(name);
    if (!r) return fail("command", "open", r.error());
    std::uint8_t buf[256];
    for (std::uint64_t i = 0; i < command_count; ++i) {
        auto m = r->read(buf, sizeof buf, timeout);
        if (!m) return fail("command", "read", m.error());
        if (!same(payload(4, i, 150), buf, m->size)) return mismatch("command", "message " + std::to_string(i) + " differs");
    }
    std::printf("command: %llu messages checked\n", static_cast<unsigned long long>(command_count));
    return 0;
}

// ---- block: an odd-sized data area filled under the write lock, read under a read lock.

constexpr std::size_t block_size = 5003;

int block_write(const char* name) {
    block_config c;
    c.size = block_size;
    c.reader_slots = 5;
    auto b = block::create(name, c);
    if (!b) return fail("block", "create", b.error());
    unique_guard g(*b);
    if (!g.held()) return fail("block", "lock", g.status());
    for (std::size_t k = 0; k < block_size; ++k) b->data()[k] = static_cast<std::uint8_t>(k * 13 + (k >> 7));
    return 0;
}

int block_verify(const char* name) {
    auto b = block::open(name);
    if (!b) return fail("block", "open", b.error());
    if (b->size() != block_size) return mismatch("block", "size " + std::to_string(b->size()));
    shared_guard g(*b);
    if (!g.held()) return fail("block", "lock_shared", g.status());
    if (b->reader_count() != 1) return mismatch("block", "reader count " + std::to_string(b->reader_count()));
    for (std::size_t k = 0; k < block_size; ++k) {
        if (b->data()[k] != static_cast<std::uint8_t>(k * 13 + (k >> 7))) return mismatch("block", "byte " + std::to_string(k));
    }
    std::printf("block: %zu bytes checked under a read lock\n", block_size);
    return 0;
}

// ---- kv: keys of several lengths, values written once or several times; the epochs and the
// changed keys must agree.

const char* const kv_keys[] = {"a", "exposure_us", "gain", "white_balance.red", "white_balance.blue", "serial"};
constexpr std::uint32_t kv_key_count = sizeof kv_keys / sizeof kv_keys[0];

std::vector<std::uint8_t> kv_value(std::uint32_t key, std::uint32_t round) { return payload(6 + key, round, 77); }
// Key k is written k times (key 0 never), round by round.
std::uint32_t kv_writes(std::uint32_t key) { return key; }

int kv_write(const char* name) {
    kv_config c;
    c.max_key = 24;
    c.max_value = 77;
    auto s = kv_store::create(name, kv_keys, kv_key_count, c);
    if (!s) return fail("kv", "create", s.error());
    for (std::uint32_t round = 0; round < kv_key_count; ++round) {
        for (std::uint32_t key = 0; key < kv_key_count; ++key) {
            if (round >= kv_writes(key)) continue;
            const auto v = kv_value(key, round);
            const errc e = s->set(kv_keys[key], v.data(), v.size());
            if (failed(e)) return fail("kv", "set", e);
        }
    }
    return 0;
}

int kv_verify(const char* name) {
    auto s = kv_store::open(name);
    if (!s) return fail("kv", "open", s.error());
    if (s->key_count() != kv_key_count || s->max_value() != 77) return mismatch("kv", "geometry differs");
    std::uint64_t writes = 0;
    for (std::uint32_t key = 0; key < kv_key_count; ++key) writes += kv_writes(key);
    if (s->epoch() != writes) return mismatch("kv", "epoch " + std::to_string(s->epoch()) + ", not " + std::to_string(writes));
    std::uint8_t buf[128];
    for (std::uint32_t key = 0; key < kv_key_count; ++key) {
        std::size_t length = 0;
        const char* stored = s->key_name(key, &length);
        if (length != std::strlen(kv_keys[key]) || std::memcmp(stored, kv_keys[key], length) != 0) {
            return mismatch("kv", std::string("key ") + kv_keys[key] + " stored differently");
        }
        auto v = s->get(kv_keys[key], buf, sizeof buf);
        if (kv_writes(key) == 0) {
            if (v || v.error() != errc::empty) return mismatch("kv", std::string("key ") + kv_keys[key] + " not empty");
            continue;
        }
        if (!v) return fail("kv", "get", v.error());
        if (!same(kv_value(key, kv_writes(key) - 1), buf, v->size)) {
            return mismatch("kv", std::string("value of ") + kv_keys[key] + " differs");
        }
    }
    std::uint32_t changed[kv_key_count];
    std::uint64_t current = 0;
    // The last 3 writes: round 3 wrote keys 4 and 5, round 4 key 5 again.
    auto n = s->changed_since(writes - 3, changed, kv_key_count, &current);
    if (!n) return fail("kv", "changed_since", n.error());
    if (current != writes || *n != 2 || changed[0] + changed[1] != 9 || (changed[0] != 4 && changed[0] != 5)) {
        return mismatch("kv", "changed_since gave " + std::to_string(*n) + " keys");
    }
    std::printf("kv: %u keys, %llu writes checked\n", kv_key_count, static_cast<unsigned long long>(writes));
    return 0;
}

// ---- stream, video, audio: rings of 8 slots written 20 times (so the reader gets the newest
// 7, starting past a wrap), with 64-bit timestamps.

constexpr std::uint64_t slot_count = 8;
constexpr std::uint64_t slot_writes = 20;
constexpr std::int64_t pts_base = std::int64_t{1} << 40;

// Reads samples from the oldest on and checks them with check(index, data, info).
template <class Reader, class Check>
int read_slots(const char* kind, Reader& r, std::size_t sample_bytes, Check check) {
    std::vector<std::uint8_t> got(sample_bytes);
    for (std::uint64_t i = slot_writes - (slot_count - 1); i < slot_writes; ++i) {
        auto s = r.try_next(got.data(), got.size());
        if (!s) return fail(kind, "next", s.error());
        if (s->index != i) return mismatch(kind, "sample " + std::to_string(s->index) + ", not " + std::to_string(i));
        if (s->size != sample_bytes) return mismatch(kind, "sample " + std::to_string(i) + " size " + std::to_string(s->size));
        if (!check(i, got.data(), *s)) return mismatch(kind, "sample " + std::to_string(i) + " differs");
    }
    auto more = r.try_next(got.data(), got.size());
    if (more || more.error() != errc::empty) return mismatch(kind, "a sample beyond the last one written");
    std::printf("%s: %llu samples checked\n", kind, static_cast<unsigned long long>(slot_count - 1));
    return 0;
}

void stream_sample(std::uint64_t i, double* out) {
    for (int k = 0; k < 3; ++k) out[k] = static_cast<double>(i) * 1.5 + static_cast<double>(k) + 1e12;
}

int stream_write(const char* name) {
    stream_config c;
    c.type = dtype::float64;
    c.ndim = 1;
    c.shape[0] = 3;
    c.slots = slot_count;
    c.schema_name = "Pose";
    c.schema_hash = 0x0123456789abcdefull;
    auto w = stream_writer::create(name, c);
    if (!w) return fail("stream", "create", w.error());
    for (std::uint64_t i = 0; i < slot_writes; ++i) {
        double s[3];
        stream_sample(i, s);
        const errc e = w->write(s, sizeof s);
        if (failed(e)) return fail("stream", "write", e);
    }
    return 0;
}

int stream_verify(const char* name) {
    stream_reader_options o;
    o.from_oldest = true;
    o.expect.type = dtype::float64;
    o.expect.ndim = 1;
    o.expect.shape[0] = 3;
    o.expect.schema_name = "Pose";
    o.expect.schema_hash = 0x0123456789abcdefull;
    auto r = stream_reader::open(name, o);
    if (!r) return fail("stream", "open", r.error());
    return read_slots("stream", *r, 3 * sizeof(double), [](std::uint64_t i, const std::uint8_t* data, const sample_info&) {
        double want[3];
        stream_sample(i, want);
        return std::memcmp(data, want, sizeof want) == 0;
    });
}

constexpr std::uint32_t video_width = 34, video_height = 10;  // NV12: 34 x 10 luma + 17 x 5 chroma pairs

std::vector<std::uint8_t> video_frame(std::uint64_t i, std::size_t size) {
    std::vector<std::uint8_t> f(size);
    for (std::size_t k = 0; k < size; ++k) f[k] = static_cast<std::uint8_t>(i * 7 + k * 3 + (k >> 5));
    return f;
}

int video_write(const char* name) {
    video_config c;
    c.width = video_width;
    c.height = video_height;
    c.format = pixel_format::nv12;
    c.stride = 40;
    c.fps_num = 30000;
    c.fps_den = 1001;
    c.slots = slot_count;
    auto w = video_writer::create(name, c);
    if (!w) return fail("video", "create", w.error());
    const std::size_t size = static_cast<std::size_t>(w->description().frame_bytes);
    for (std::uint64_t i = 0; i < slot_writes; ++i) {
        const auto f = video_frame(i, size);
        const errc e = w->write_frame(f.data(), f.size(), pts_base + static_cast<std::int64_t>(i) * 33367,
                                      -pts_base - static_cast<std::int64_t>(i));
        if (failed(e)) return fail("video", "write", e);
    }
    return 0;
}

int video_verify(const char* name) {
    slot_reader_options o;
    o.from_oldest = true;
    auto r = video_reader::open(name, o);
    if (!r) return fail("video", "open", r.error());
    const video_meta& d = r->description();
    if (d.width != video_width || d.height != video_height || d.stride != 40 || d.fps_num != 30000 || d.fps_den != 1001 ||
        d.pixel_format != static_cast<std::uint32_t>(pixel_format::nv12)) {
        return mismatch("video", "description differs");
    }
    const std::size_t size = static_cast<std::size_t>(d.frame_bytes);
    return read_slots("video", *r, size, [size](std::uint64_t i, const std::uint8_t* data, const sample_info& s) {
        const auto want = video_frame(i, size);
        return std::memcmp(data, want.data(), size) == 0 &&
               video_pts(s) == pts_base + static_cast<std::int64_t>(i) * 33367 &&
               static_cast<std::int64_t>(s.meta[1]) == -pts_base - static_cast<std::int64_t>(i);
    });
}

std::vector<std::uint8_t> audio_buffer(std::uint64_t i, std::size_t size) {
    std::vector<std::uint8_t> b(size);
    for (std::size_t k = 0; k < size; ++k) b[k] = static_cast<std::uint8_t>(i * 5 + k * 11);
    return b;
}

int audio_write(const char* name) {
    audio_config c;
    c.channels = 3;
    c.format = sample_format::s24le;
    c.sample_rate = 44100;
    c.buffer_us = 2000;  // 88.2 frames: rounded as the kind rounds
    c.slots = slot_count;
    auto w = audio_writer::create(name, c);
    if (!w) return fail("audio", "create", w.error());
    const std::size_t size = static_cast<std::size_t>(w->description().buffer_bytes);
    for (std::uint64_t i = 0; i < slot_writes; ++i) {
        const auto b = audio_buffer(i, size);
        const errc e = w->write_buffer(b.data(), b.size(), pts_base + static_cast<std::int64_t>(i) * 2000);
        if (failed(e)) return fail("audio", "write", e);
    }
    return 0;
}

int audio_verify(const char* name) {
    slot_reader_options o;
    o.from_oldest = true;
    auto r = audio_reader::open(name, o);
    if (!r) return fail("audio", "open", r.error());
    const audio_meta& d = r->description();
    if (d.channels != 3 || d.sample_rate != 44100 || d.sample_format != static_cast<std::uint32_t>(sample_format::s24le)) {
        return mismatch("audio", "description differs");
    }
    const std::size_t size = static_cast<std::size_t>(d.buffer_bytes);
    return read_slots("audio", *r, size, [size](std::uint64_t i, const std::uint8_t* data, const sample_info& s) {
        const auto want = audio_buffer(i, size);
        return std::memcmp(data, want.data(), size) == 0 && buffer_pts(s) == pts_base + static_cast<std::int64_t>(i) * 2000;
    });
}

// ---- duplex: both sides at once. The writing side is the server (it creates both channels and
// answers each request with its bytes reversed, behind the request's own sequence number); the
// verifying side is the client, with several requests in flight.

constexpr std::uint64_t duplex_calls = 60;

int duplex_write(const char* name) {
    duplex_config c;
    c.request_capacity = 2048;
    c.response_capacity = 1024;
    auto s = duplex_server::create(name, c);
    if (!s) return fail("duplex", "create", s.error());
    for (std::uint64_t i = 0; i < duplex_calls; ++i) {
        const errc e = s->serve_one(
            [](const message_view& request, duplex_response& out) {
                std::uint8_t reply[256];
                const std::size_t n = static_cast<std::size_t>(request.size);
                for (std::size_t k = 0; k < n && k < sizeof reply - 8; ++k) reply[8 + k] = request.data[n - 1 - k];
                for (int k = 0; k < 8; ++k) reply[k] = static_cast<std::uint8_t>(request.seq >> (8 * k));
                out.write(reply, 8 + n);
            },
            timeout);
        if (failed(e)) return fail("duplex", "serve", e);
    }
    return 0;
}

int duplex_verify(const char* name) {
    // The server creates the segments: wait for them.
    result<duplex_client> c = errc::not_found;
    for (int tries = 0; tries < 400; ++tries) {
        c = duplex_client::open(name);
        if (c || (c.error() != errc::not_found && c.error() != errc::not_ready)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!c) return fail("duplex", "open", c.error());
    std::uint64_t sent = 0, received = 0, first = 0;
    while (received < duplex_calls) {
        // Up to three requests in flight.
        while (sent < duplex_calls && sent - received < 3) {
            const auto m = payload(7, sent, 120);
            auto seq = c->send_request(m.data(), m.size(), timeout);
            if (!seq) return fail("duplex", "send", seq.error());
            if (sent == 0) first = *seq;
            if (*seq != first + sent) return mismatch("duplex", "request seq " + std::to_string(*seq));
            ++sent;
        }
        auto r = c->receive_response(timeout);
        if (!r) return fail("duplex", "receive", r.error());
        const auto m = payload(7, received, 120);
        std::uint64_t echoed = 0;
        for (int k = 0; k < 8 && k < static_cast<int>(r->size); ++k) echoed |= std::uint64_t{r->data[k]} << (8 * k);
        bool ok = r->size == 8 + m.size() && r->seq == first + received && echoed == r->seq;
        for (std::size_t k = 0; ok && k < m.size(); ++k) ok = r->data[8 + k] == m[m.size() - 1 - k];
        c->release_response();
        if (!ok) return mismatch("duplex", "response " + std::to_string(received) + " differs");
        ++received;
    }
    std::printf("duplex: %llu calls checked\n", static_cast<unsigned long long>(duplex_calls));
    return 0;
}

int remove(const char* kind, const char* name) {
    if (std::strcmp(kind, "duplex") != 0) {
        const errc e = segment::remove(name);
        return failed(e) && e != errc::not_found ? fail(kind, "remove", e) : 0;
    }
    detail::duplex_names names;
    if (const errc e = names.make(name); failed(e)) return fail("duplex", "names", e);
    static_cast<void>(segment::remove(names.request));
    static_cast<void>(segment::remove(names.response));
    return 0;
}

struct kind_entry {
    const char* name;
    int (*write)(const char*);
    int (*verify)(const char*);
};

const kind_entry kinds[] = {
    {"broadcast", broadcast_write, broadcast_verify}, {"spsc", spsc_write, spsc_verify},
    {"channel", channel_write, channel_verify},       {"command", command_write, command_verify},
    {"block", block_write, block_verify},             {"kv", kv_write, kv_verify},
    {"stream", stream_write, stream_verify},          {"video", video_write, video_verify},
    {"audio", audio_write, audio_verify},             {"duplex", duplex_write, duplex_verify},
};

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "kinds") == 0) {
        for (const kind_entry& k : kinds) std::printf("%s\n", k.name);
        return 0;
    }
    if (argc == 2 && std::strcmp(argv[1], "arch") == 0) {
        std::printf("%s\n", arch());
        return 0;
    }
    if (argc != 4) {
        std::fputs("usage: shmkit_mixed_peer write|verify|remove KIND NAME\n       shmkit_mixed_peer kinds|arch\n", stderr);
        return 2;
    }
    for (const kind_entry& k : kinds) {
        if (std::strcmp(argv[2], k.name) != 0) continue;
        if (std::strcmp(argv[1], "write") == 0) return k.write(argv[3]);
        if (std::strcmp(argv[1], "verify") == 0) return k.verify(argv[3]);
        if (std::strcmp(argv[1], "remove") == 0) return remove(k.name, argv[3]);
        break;
    }
    std::fprintf(stderr, "shmkit_mixed_peer: unknown role or kind: %s %s\n", argv[1], argv[2]);
    return 2;
}
