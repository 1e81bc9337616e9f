// The C++ side of the cross-language tests (tests/test_xlang.py): writes or reads N messages,
// samples or frames with contents both sides can predict, and exits 0 only if everything it
// read was exactly what the Python side wrote.
//
//   shmkit_xlang <kind>-write NAME N     kind: broadcast, spsc, stream, video, status
//   shmkit_xlang <kind>-read NAME N
//
// Message i is "msg-<i>"; stream sample i is float32[4] {i, i+0.5, i+1, i+1.5}; video frame i
// is 64x48 RGB24 with every byte (i * 7 + row) % 256 and pts i * 1000. A status stream stores
// the schema of test_xlang.py's Status (name "Status", fields "gain:float,cam_on:bool"), and its
// message i is the msgpack map {"gain": i + 0.5, "cam_on": i odd}.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "shmkit/broadcast.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
#include "shmkit/video.hpp"

namespace {

using namespace shmkit;
constexpr auto timeout = std::chrono::seconds(10);
constexpr std::uint32_t width = 64, height = 48;

int fail(const char* what, errc e) {
    std::fprintf(stderr, "shmkit_xlang: %s: %s\n", what, to_string(e));
    return 1;
}

std::string message(int i) { return "msg-" + std::to_string(i); }

void stream_sample(int i, float* out) {
    for (int k = 0; k < 4; ++k) out[k] = static_cast<float>(i) + 0.5f * static_cast<float>(k);
}

constexpr char status_fields[] = "gain:float,cam_on:bool";

std::vector<std::uint8_t> status_message(int i) {
    std::vector<std::uint8_t> m{0x82, 0xa4, 'g', 'a', 'i', 'n', 0xcb};  // map of 2; "gain"; float 64
    const double gain = i + 0.5;
    std::uint64_t bits;
    std::memcpy(&bits, &gain, sizeof bits);
    for (int k = 7; k >= 0; --k) m.push_back(static_cast<std::uint8_t>(bits >> (8 * k)));  // big-endian
    const std::uint8_t key[] = {0xa6, 'c', 'a', 'm', '_', 'o', 'n'};  // "cam_on"
    m.insert(m.end(), key, key + sizeof key);
    m.push_back(i % 2 == 1 ? 0xc3 : 0xc2);  // true, false
    return m;
}

void video_frame(int i, std::vector<std::uint8_t>& frame) {
    frame.resize(std::size_t{width} * height * 3);
    for (std::uint32_t row = 0; row < height; ++row) {
        std::memset(frame.data() + std::size_t{row} * width * 3, static_cast<int>((i * 7 + row) % 256), width * 3);
    }
}

int broadcast_write(const char* name, int n) {
    broadcast_config c;
    c.capacity = 64 * 1024;
    auto w = broadcast_writer::create(name, c);
    if (!w) return fail("create", w.error());
    for (int i = 0; i < n; ++i) {
        const std::string m = message(i);
        if (failed(w->write(m.data(), m.size()))) return fail("write", errc::invalid_argument);
    }
    return 0;
}

int broadcast_read(const char* name, int n) {
    broadcast_reader_options o;
    o.from_oldest = true;
    auto r = broadcast_reader::open(name, o);
    if (!r) return fail("open", r.error());
    char buf[256];
    for (int i = 0; i < n; ++i) {
        auto m = r->read(buf, sizeof buf, timeout);
        if (!m) return fail("read", m.error());
        if (std::string(buf, m->size) != message(i) || m->seq != static_cast<std::uint64_t>(i)) {
            std::fprintf(stderr, "shmkit_xlang: message %d is '%.*s'\n", i, static_cast<int>(m->size), buf);
            return 1;
        }
    }
    return 0;
}

int spsc_write(const char* name, int n) {
    spsc_config c;
    c.capacity = 64 * 1024;
    auto p = spsc_producer::create(name, c);
    if (!p) return fail("create", p.error());
    for (int i = 0; i < n; ++i) {
        const std::string m = message(i);
        const errc e = p->push(m.data(), m.size(), timeout);
        if (failed(e)) return fail("push", e);
    }
    return 0;
}

int spsc_read(const char* name, int n) {
    auto c = spsc_consumer::open(name);
    if (!c) return fail("open", c.error());
    char buf[256];
    for (int i = 0; i < n; ++i) {
        auto m = c->pop(buf, sizeof buf, timeout);
        if (!m) return fail("pop", m.error());
        if (std::string(buf, m->size) != message(i)) {
            std::fprintf(stderr, "shmkit_xlang: message %d is '%.*s'\n", i, static_cast<int>(m->size), buf);
            return 1;
        }
    }
    return 0;
}

int stream_write(const char* name, int n) {
    stream_config c;
    c.type = dtype::float32;
    c.ndim = 1;
    c.shape[0] = 4;
    c.slots = static_cast<std::uint64_t>(n + 1);  // the newest slots - 1 samples stay readable
    auto w = stream_writer::create(name, c);
    if (!w) return fail("create", w.error());
    for (int i = 0; i < n; ++i) {
        float s[4];
        stream_sample(i, s);
        const errc e = w->write(s, sizeof s);
        if (failed(e)) return fail("write", e);
    }
    return 0;
}

int stream_read(const char* name, int n) {
    stream_reader_options o;
    o.from_oldest = true;
    o.expect.type = dtype::float32;
    o.expect.ndim = 1;
    o.expect.shape[0] = 4;
    auto r = stream_reader::open(name, o);
    if (!r) return fail("open", r.error());
    for (int i = 0; i < n; ++i) {
        float got[4], want[4];
        auto s = r->next(got, sizeof got, timeout);
        if (!s) return fail("next", s.error());
        stream_sample(i, want);
        if (s->size != sizeof got || std::memcmp(got, want, sizeof got) != 0 || s->index != static_cast<std::uint64_t>(i)) {
            std::fprintf(stderr, "shmkit_xlang: sample %d differs\n", i);
            return 1;
        }
    }
    return 0;
}

int status_write(const char* name, int n) {
    stream_config c;
    c.type = dtype::bytes;
    c.ndim = 0;
    c.max_bytes = 64;
    c.slots = static_cast<std::uint64_t>(n + 1);
    c.schema_name = "Status";
    c.schema_hash = fields_hash(status_fields, sizeof status_fields - 1);
    auto w = stream_writer::create(name, c);
    if (!w) return fail("create", w.error());
    for (int i = 0; i < n; ++i) {
        const std::vector<std::uint8_t> m = status_message(i);
        const errc e = w->write(m.data(), m.size());
        if (failed(e)) return fail("write", e);
    }
    return 0;
}

int status_read(const char* name, int n) {
    stream_reader_options o;
    o.from_oldest = true;
    o.expect.schema_name = "Status";
    o.expect.schema_hash = fields_hash(status_fields, sizeof status_fields - 1);
    auto r = stream_reader::open(name, o);
    if (!r) return fail("open", r.error());
    for (int i = 0; i < n; ++i) {
        std::uint8_t got[64];
        auto s = r->next(got, sizeof got, timeout);
        if (!s) return fail("next", s.error());
        const std::vector<std::uint8_t> want = status_message(i);
        if (s->size != want.size() || std::memcmp(got, want.data(), want.size()) != 0) {
            std::fprintf(stderr, "shmkit_xlang: status message %d differs\n", i);
            return 1;
        }
    }
    return 0;
}

int video_write(const char* name, int n) {
    video_config c;
    c.width = width;
    c.height = height;
    c.format = pixel_format::rgb24;
    c.slots = static_cast<std::uint64_t>(n + 1);  // the newest slots - 1 samples stay readable
    auto w = video_writer::create(name, c);
    if (!w) return fail("create", w.error());
    std::vector<std::uint8_t> frame;
    for (int i = 0; i < n; ++i) {
        video_frame(i, frame);
        const errc e = w->write_frame(frame.data(), frame.size(), i * 1000, 0);
        if (failed(e)) return fail("write", e);
    }
    return 0;
}

int video_read(const char* name, int n) {
    slot_reader_options o;
    o.from_oldest = true;
    auto r = video_reader::open(name, o);
    if (!r) return fail("open", r.error());
    if (r->description().width != width || r->description().height != height) return fail("geometry", errc::size_mismatch);
    std::vector<std::uint8_t> got(std::size_t{width} * height * 3), want;
    for (int i = 0; i < n; ++i) {
        auto s = r->next(got.data(), got.size(), timeout);
        if (!s) return fail("next", s.error());
        video_frame(i, want);
        if (got != want || video_pts(*s) != i * 1000) {
            std::fprintf(stderr, "shmkit_xlang: frame %d differs (pts %lld)\n", i, static_cast<long long>(video_pts(*s)));
            return 1;
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fputs("usage: shmkit_xlang <broadcast|spsc|stream|video|status>-<write|read> NAME N\n", stderr);
        return 2;
    }
    const std::string op = argv[1];
    const char* name = argv[2];
    const int n = std::atoi(argv[3]);
    if (op == "broadcast-write") return broadcast_write(name, n);
    if (op == "broadcast-read") return broadcast_read(name, n);
    if (op == "spsc-write") return spsc_write(name, n);
    if (op == "spsc-read") return spsc_read(name, n);
    if (op == "stream-write") return stream_write(name, n);
    if (op == "stream-read") return stream_read(name, n);
    if (op == "status-write") return status_write(name, n);
    if (op == "status-read") return status_read(name, n);
    if (op == "video-write") return video_write(name, n);
    if (op == "video-read") return video_read(name, n);
    std::fprintf(stderr, "shmkit_xlang: unknown operation '%s'\n", op.c_str());
    return 2;
}
