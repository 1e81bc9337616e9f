// One application on one "host" of the bridge tests (tests/bridge/hosts.sh): it writes or reads
// a segment on its host's own /dev/shm while shmkit-bridge carries the segment to the other
// host. Every message or frame carries its index and a checksum, so the reading side can tell
// intact, lost, reordered and corrupt data apart without knowing what the bridge did.
//
//   shmkit_bridge_peer bcast-write NAME COUNT SIZE [RATE_HZ] [--start-after S] [--linger S]
//   shmkit_bridge_peer bcast-read NAME COUNT TIMEOUT_S [--expect-all] [--exact-loss] [--idle S]
//   shmkit_bridge_peer audio-write NAME BUFFERS [RATE_HZ] [--start-after S] [--linger S]
//   shmkit_bridge_peer audio-read NAME COUNT TIMEOUT_S [--expect-all]
//   shmkit_bridge_peer video-write NAME FRAMES WIDTH HEIGHT [RATE_HZ] [--start-after S] [--linger S]
//   shmkit_bridge_peer video-read NAME MIN_FRAMES TIMEOUT_S WIDTH HEIGHT
//   shmkit_bridge_peer kv-create NAME KEY1,KEY2,...
//   shmkit_bridge_peer kv-set NAME KEY VALUE
//   shmkit_bridge_peer kv-expect NAME KEY VALUE TIMEOUT_S
//   shmkit_bridge_peer kv-get NAME KEY
//
// NAME is a segment name, "/cam" or "cam" (the "/" is added).
//
// Broadcast message i (SIZE >= 16 bytes): u64 i, u64 FNV-1a of bytes 16.., then bytes derived
// from i. Video frame i (rgb24): u64 i first, FNV-1a of everything before them in the last 8
// bytes, pixels derived from i between; video pts 1000*i, audio pts 7*i. u64s little-endian.
//
// The writers create their segment, wait --start-after seconds (default 0: the bridge may need
// to see the segment before data flows), write (RATE_HZ 0: as fast as possible), print one line,
// then keep the segment --linger seconds (default 5) or until SIGTERM/SIGINT, and unlink it.
// The readers retry opening until the segment exists (the importing bridge creates it).
//
// Exit status: 0 on success, 1 with a message on stderr otherwise, 2 on a usage error. Every
// subcommand prints one result line on stdout, the readers also when they fail.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shmkit/audio.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/video.hpp"

namespace {

using namespace shmkit;
using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_signal(int) { stop_requested = 1; }

int fail(const std::string& what, errc e) {
    std::fprintf(stderr, "shmkit_bridge_peer: %s: %s\n", what.c_str(), to_string(e));
    return 1;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "shmkit_bridge_peer: %s\n", what.c_str());
    return 1;
}

int usage() {
    std::fputs(
        "usage: shmkit_bridge_peer bcast-write NAME COUNT SIZE [RATE_HZ] [--start-after S] [--linger S]\n"
        "       shmkit_bridge_peer bcast-read NAME COUNT TIMEOUT_S [--expect-all] [--exact-loss] [--idle S]\n"
        "       shmkit_bridge_peer audio-write NAME BUFFERS [RATE_HZ] [--start-after S] [--linger S]\n"
        "       shmkit_bridge_peer audio-read NAME COUNT TIMEOUT_S [--expect-all]\n"
        "       shmkit_bridge_peer video-write NAME FRAMES WIDTH HEIGHT [RATE_HZ] [--start-after S] [--linger S]\n"
        "       shmkit_bridge_peer video-read NAME MIN_FRAMES TIMEOUT_S WIDTH HEIGHT\n"
        "       shmkit_bridge_peer kv-create NAME KEY1,KEY2,...\n"
        "       shmkit_bridge_peer kv-set NAME KEY VALUE\n"
        "       shmkit_bridge_peer kv-expect NAME KEY VALUE TIMEOUT_S\n"
        "       shmkit_bridge_peer kv-get NAME KEY\n",
        stderr);
    return 2;
}

// ---- command line: positional arguments, and the options anywhere among them.

struct args {
    std::vector<std::string> positional;
    double start_after = 0, linger = 5;
    double idle = 0;  // bcast-read: stop, content, after this long without a message (0: never)
    bool expect_all = false;
    bool exact_loss = false;
    bool bad = false;
};

bool parse_number(const std::string& s, double* out) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= 0)) return false;
    *out = v;
    return true;
}

bool parse_count(const std::string& s, std::uint64_t* out) {
    char* end = nullptr;
    if (s.empty() || s[0] == '-') return false;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (*end != '\0') return false;
    *out = v;
    return true;
}

args parse(int argc, char** argv) {
    args a;
    for (int k = 2; k < argc; ++k) {
        const std::string s = argv[k];
        if ((s == "--start-after" || s == "--linger" || s == "--idle") && k + 1 < argc) {
            double* v = s == "--linger" ? &a.linger : s == "--idle" ? &a.idle : &a.start_after;
            if (!parse_number(argv[++k], v)) a.bad = true;
        } else if (s == "--expect-all") {
            a.expect_all = true;
        } else if (s == "--exact-loss") {
            a.exact_loss = true;
        } else if (s.size() > 2 && s.compare(0, 2, "--") == 0) {
            a.bad = true;
        } else {
            a.positional.push_back(s);
        }
    }
    // The segment name: "/cam" or "cam" (the C++ API wants the "/").
    if (!a.positional.empty() && a.positional[0][0] != '/') a.positional[0].insert(0, 1, '/');
    return a;
}

nanoseconds seconds(double s) { return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(s)); }

// ---- contents

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
    std::uint64_t h = 14695981039346656037ull;
    for (std::size_t k = 0; k < size; ++k) {
        h ^= data[k];
        h *= 1099511628211ull;
    }
    return h;
}

void put_u64(std::uint8_t* p, std::uint64_t v) {
    for (int k = 0; k < 8; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}

std::uint64_t get_u64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= std::uint64_t{p[k]} << (8 * k);
    return v;
}

std::uint8_t pattern(std::uint64_t i, std::size_t k) {
    return static_cast<std::uint8_t>(i * 131 + k * 7 + (i >> 8) + (k >> 8));
}

void fill_message(std::uint8_t* m, std::size_t size, std::uint64_t i) {
    for (std::size_t k = 16; k < size; ++k) m[k] = pattern(i, k);
    put_u64(m, i);
    put_u64(m + 8, fnv1a(m + 16, size - 16));
}

// The index of an intact message, or false.
bool check_message(const std::uint8_t* m, std::size_t size, std::uint64_t* index) {
    if (size < 16 || get_u64(m + 8) != fnv1a(m + 16, size - 16)) return false;
    *index = get_u64(m);
    for (std::size_t k = 16; k < size; ++k) {
        if (m[k] != pattern(*index, k)) return false;
    }
    return true;
}

void fill_frame(std::uint8_t* f, std::size_t size, std::uint64_t i) {
    put_u64(f, i);
    for (std::size_t k = 8; k < size - 8; ++k) f[k] = pattern(i, k);
    put_u64(f + size - 8, fnv1a(f, size - 8));
}

bool check_frame(const std::uint8_t* f, std::size_t size, std::uint64_t* index) {
    if (size < 16 || get_u64(f + size - 8) != fnv1a(f, size - 8)) return false;
    *index = get_u64(f);
    for (std::size_t k = 8; k < size - 8; ++k) {
        if (f[k] != pattern(*index, k)) return false;
    }
    return true;
}

// ---- the writers' common steps

void install_signals() {
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
}

// Sleeps `s` seconds in short steps; false if a signal asked to stop meanwhile.
bool pause_for(double s) {
    const auto until = clock_type::now() + seconds(s);
    while (!stop_requested && clock_type::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return !stop_requested;
}

// Paces item i of a run at `rate` Hz (0: no pacing).
void pace(clock_type::time_point start, std::uint64_t i, double rate) {
    if (rate > 0) std::this_thread::sleep_until(start + seconds(static_cast<double>(i) / rate));
}

// Retries `open` while the segment does not exist yet (or is still being created).
template <class Open>
auto open_when_there(Open open, clock_type::time_point deadline) {
    auto r = open();
    while (!r && (r.error() == errc::not_found || r.error() == errc::not_ready) && clock_type::now() < deadline &&
           !stop_requested) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        r = open();
    }
    return r;
}

void remove_segment(const char* name) {
    const errc e = segment::remove(name);
    if (failed(e) && e != errc::not_found) std::fprintf(stderr, "shmkit_bridge_peer: remove %s: %s\n", name, to_string(e));
}

// The end of every writer: the result line is printed; the segment stays `linger` seconds (or
// until a signal) for the bridge to carry, then is removed.
int finish_writing(const char* name, bool complete, double linger) {
    std::fflush(stdout);
    static_cast<void>(pause_for(linger));
    remove_segment(name);
    return complete ? 0 : fail("stopped by a signal before writing everything");
}

// ---- broadcast

int bcast_write(const args& a) {
    std::uint64_t count = 0, size = 0;
    double rate = 0;
    if (a.positional.size() < 3 || a.positional.size() > 4 || !parse_count(a.positional[1], &count) ||
        !parse_count(a.positional[2], &size) || (a.positional.size() == 4 && !parse_number(a.positional[3], &rate))) {
        return usage();
    }
    if (size < 16) return fail("SIZE must be at least 16");
    const char* name = a.positional[0].c_str();
    broadcast_config c;
    c.capacity = 4u << 20;
    while (c.capacity / 2 < size + 64) c.capacity *= 2;  // max_message 0: about capacity / 2
    install_signals();
    auto w = broadcast_writer::create(name, c);
    if (!w) return fail("create broadcast", w.error());
    if (size > w->max_message()) {
        remove_segment(name);
        return fail("SIZE above the broadcast's max_message " + std::to_string(w->max_message()));
    }
    std::vector<std::uint8_t> m(static_cast<std::size_t>(size));
    std::uint64_t written = 0;
    if (pause_for(a.start_after)) {
        const auto start = clock_type::now();
        for (; written < count && !stop_requested; ++written) {
            pace(start, written, rate);
            fill_message(m.data(), m.size(), written);
            if (const errc e = w->write(m.data(), m.size()); failed(e)) {
                remove_segment(name);
                return fail("write", e);
            }
        }
    }
    std::printf("written=%llu size=%llu\n", static_cast<unsigned long long>(written), static_cast<unsigned long long>(size));
    return finish_writing(name, written == count, a.linger);
}

// The in-order readers' arguments, NAME COUNT TIMEOUT_S; false: a usage error.
struct reader_args {
    const char* name = nullptr;
    std::uint64_t count = 0;
    clock_type::time_point deadline{};
};
bool parse_reader(const args& a, reader_args* out) {
    double timeout_s = 0;
    if (a.positional.size() != 3 || !parse_count(a.positional[1], &out->count) ||
        !parse_number(a.positional[2], &timeout_s)) {
        return false;
    }
    out->name = a.positional[0].c_str();
    out->deadline = clock_type::now() + seconds(timeout_s);
    return true;
}

int bcast_read(const args& a) {
    reader_args ra;
    if (!parse_reader(a, &ra)) return usage();
    const char* name = ra.name;
    const std::uint64_t count = ra.count;
    const auto deadline = ra.deadline;
    broadcast_reader_options o;
    o.from_oldest = true;
    auto r = open_when_there([&] { return broadcast_reader::open(name, o); }, deadline);
    if (!r) return fail("open broadcast", r.error());

    std::vector<std::uint8_t> buf(static_cast<std::size_t>(r->max_message()));
    std::uint64_t received = 0, corrupt = 0, first = 0, last = 0;
    bool in_order = true, timed_out = false;
    std::string problem;
    // Accounted for: every index up to the last one seen (received, or lost locally, over the
    // network or by the exporter: gaps), and the corrupt ones.
    auto accounted = [&] {
        const std::uint64_t upto = received == 0 ? 0 : last + 1;
        const std::uint64_t seen = received + r->total_lost() + corrupt;
        return upto + corrupt > seen ? upto + corrupt : seen;
    };
    // --idle: the newest messages of an overload may be lost with nothing after them to tell.
    auto last_message = clock_type::now();
    while (accounted() < count) {
        const auto now = clock_type::now();
        if (a.idle > 0 && received > 0 && now - last_message >= seconds(a.idle)) break;
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        const auto step = std::min<clock_type::duration>(deadline - now, std::chrono::milliseconds(100));
        auto m = r->read(buf.data(), buf.size(), std::chrono::duration_cast<nanoseconds>(step));
        if (!m) {
            if (m.error() == errc::timeout || m.error() == errc::stale) continue;
            return fail("read", m.error());
        }
        last_message = clock_type::now();
        std::uint64_t i = 0;
        if (!check_message(buf.data(), static_cast<std::size_t>(m->size), &i)) {
            if (corrupt++ == 0) problem = "message seq " + std::to_string(m->seq) + " is corrupt";
            continue;
        }
        if (received > 0 && i <= last) {
            if (in_order) problem = "index " + std::to_string(i) + " after " + std::to_string(last);
            in_order = false;
        }
        if (received == 0) first = i;
        if (received == 0 || i > last) last = i;
        ++received;
    }
    const std::uint64_t upto = received == 0 ? 0 : last + 1;
    const std::uint64_t lost = upto > received + corrupt ? upto - received - corrupt : 0;
    if (received == 0) {
        std::printf("received=0 lost=%llu first=none last=none in_order=%d corrupt=%llu\n",
                    static_cast<unsigned long long>(r->total_lost()), in_order ? 1 : 0,
                    static_cast<unsigned long long>(corrupt));
    } else {
        std::printf("received=%llu lost=%llu first=%llu last=%llu in_order=%d corrupt=%llu total_lost=%llu\n",
                    static_cast<unsigned long long>(received), static_cast<unsigned long long>(lost),
                    static_cast<unsigned long long>(first), static_cast<unsigned long long>(last), in_order ? 1 : 0,
                    static_cast<unsigned long long>(corrupt), static_cast<unsigned long long>(r->total_lost()));
    }
    std::fflush(stdout);
    if (!problem.empty()) return fail(problem);
    if (timed_out) return fail("timed out with " + std::to_string(accounted()) + " of " + std::to_string(count) + " accounted for");
    // --exact-loss: the reader was told of every message missing between the first and the last
    // it got (lost here, on the network or at the exporter: the importing bridge skips them).
    if (a.exact_loss && received > 0 && r->total_lost() != last - first + 1 - received - corrupt) {
        return fail("--exact-loss: " + std::to_string(last - first + 1 - received - corrupt) +
                    " missing between the first and last received, the reader counted " +
                    std::to_string(r->total_lost()) + " lost");
    }
    if (a.expect_all && (received != count || first != 0 || last + 1 != count)) {
        return fail("--expect-all: not exactly indices 0.." + std::to_string(count - 1));
    }
    return 0;
}

// ---- audio: S16LE stereo at 48 kHz, 10 ms buffers (480 frames); buffer i holds samples
// (i * 7 + k) & 0x7fff for k = 0.., pts 100 * i.

constexpr std::size_t audio_buffer_bytes = 480 * 2 * 2;

void fill_audio(std::uint8_t* b, std::uint64_t i) {
    for (std::size_t k = 0; k < audio_buffer_bytes / 2; ++k) {
        const auto v = static_cast<std::uint16_t>((i * 7 + k) & 0x7fff);
        b[2 * k] = static_cast<std::uint8_t>(v & 0xff);
        b[2 * k + 1] = static_cast<std::uint8_t>(v >> 8);
    }
}

int audio_write(const args& a) {
    std::uint64_t buffers = 0;
    double rate = 0;
    if (a.positional.size() < 2 || a.positional.size() > 3 || !parse_count(a.positional[1], &buffers) ||
        (a.positional.size() == 3 && !parse_number(a.positional[2], &rate))) {
        return usage();
    }
    const char* name = a.positional[0].c_str();
    audio_config c;
    c.channels = 2;
    c.format = sample_format::s16le;
    c.sample_rate = 48000;
    c.buffer_us = 10000;
    c.slots = 16;
    install_signals();
    auto w = audio_writer::create(name, c);
    if (!w) return fail("create audio", w.error());
    std::vector<std::uint8_t> b(audio_buffer_bytes);
    std::uint64_t written = 0;
    if (pause_for(a.start_after)) {
        const auto start = clock_type::now();
        for (; written < buffers && !stop_requested; ++written) {
            pace(start, written, rate);
            fill_audio(b.data(), written);
            if (const errc e = w->write_buffer(b.data(), b.size(), 100 * static_cast<std::int64_t>(written)); failed(e)) {
                remove_segment(name);
                return fail("write_buffer", e);
            }
        }
    }
    std::printf("buffers_written=%llu\n", static_cast<unsigned long long>(written));
    return finish_writing(name, written == buffers, a.linger);
}

// Every buffer in order (next()): the description as written, each buffer's samples and pts;
// succeeds once COUNT buffers were received or counted lost, with --expect-all only if none was
// lost.
int audio_read(const args& a) {
    reader_args ra;
    if (!parse_reader(a, &ra)) return usage();
    const char* name = ra.name;
    const std::uint64_t count = ra.count;
    const auto deadline = ra.deadline;
    slot_reader_options o;
    o.from_oldest = true;
    auto r = open_when_there([&] { return audio_reader::open(name, o); }, deadline);
    if (!r) return fail("open audio", r.error());
    const audio_meta& d = r->description();
    if (d.channels != 2 || d.sample_format != static_cast<std::uint32_t>(sample_format::s16le) ||
        d.sample_rate != 48000 || d.buffer_bytes != audio_buffer_bytes) {
        return fail("description: " + std::to_string(d.channels) + " channels, " +
                    to_string(static_cast<sample_format>(d.sample_format)) + " at " + std::to_string(d.sample_rate) +
                    ", " + std::to_string(d.buffer_bytes) + " bytes a buffer");
    }
    std::vector<std::uint8_t> b(audio_buffer_bytes), want(audio_buffer_bytes);
    std::uint64_t received = 0, lost = 0, next = 0;
    std::string problem;
    while (received + lost < count && problem.empty()) {
        const auto now = clock_type::now();
        if (now >= deadline) break;
        const auto step = std::min<clock_type::duration>(deadline - now, std::chrono::milliseconds(100));
        auto s = r->next(b.data(), b.size(), std::chrono::duration_cast<nanoseconds>(step));
        if (!s) {
            if (s.error() == errc::timeout || s.error() == errc::stale) continue;
            return fail("next", s.error());
        }
        const std::int64_t pts = buffer_pts(*s);
        const auto i = static_cast<std::uint64_t>(pts / 100);
        fill_audio(want.data(), i);
        lost += s->lost;
        if (pts < 0 || pts % 100 != 0 || i < next || s->size != b.size() || b != want) {
            problem = "buffer with pts " + std::to_string(pts) + " (expected " + std::to_string(next * 100) +
                      " or later) is not what was written";
        }
        next = i + 1;
        ++received;
    }
    std::printf("buffers=%llu lost=%llu\n", static_cast<unsigned long long>(received), static_cast<unsigned long long>(lost));
    std::fflush(stdout);
    if (!problem.empty()) return fail(problem);
    if (received + lost < count) return fail("timed out");
    if (a.expect_all && (received != count || lost != 0)) return fail("--expect-all: buffers were lost");
    return 0;
}

// ---- video

int video_write(const args& a) {
    std::uint64_t frames = 0, width = 0, height = 0;
    double rate = 0;
    if (a.positional.size() < 4 || a.positional.size() > 5 || !parse_count(a.positional[1], &frames) ||
        !parse_count(a.positional[2], &width) || !parse_count(a.positional[3], &height) ||
        (a.positional.size() == 5 && !parse_number(a.positional[4], &rate))) {
        return usage();
    }
    const char* name = a.positional[0].c_str();
    video_config c;
    c.width = static_cast<std::uint32_t>(width);
    c.height = static_cast<std::uint32_t>(height);
    c.format = pixel_format::rgb24;
    c.slots = 4;
    install_signals();
    auto w = video_writer::create(name, c);
    if (!w) return fail("create video", w.error());
    const std::size_t size = static_cast<std::size_t>(w->description().frame_bytes);
    if (size < 16) {
        remove_segment(name);
        return fail("a frame of fewer than 16 bytes");
    }
    std::vector<std::uint8_t> f(size);
    std::uint64_t written = 0;
    if (pause_for(a.start_after)) {
        const auto start = clock_type::now();
        for (; written < frames && !stop_requested; ++written) {
            pace(start, written, rate);
            fill_frame(f.data(), size, written);
            const auto i = static_cast<std::int64_t>(written);
            if (const errc e = w->write_frame(f.data(), size, 1000 * i, 7 * i); failed(e)) {
                remove_segment(name);
                return fail("write_frame", e);
            }
        }
    }
    std::printf("frames_written=%llu frame_bytes=%zu\n", static_cast<unsigned long long>(written), size);
    return finish_writing(name, written == frames, a.linger);
}

int video_read(const args& a) {
    std::uint64_t min_frames = 0, width = 0, height = 0;
    double timeout_s = 0;
    if (a.positional.size() != 5 || !parse_count(a.positional[1], &min_frames) ||
        !parse_number(a.positional[2], &timeout_s) || !parse_count(a.positional[3], &width) ||
        !parse_count(a.positional[4], &height)) {
        return usage();
    }
    const char* name = a.positional[0].c_str();
    const auto deadline = clock_type::now() + seconds(timeout_s);
    auto r = open_when_there([&] { return video_reader::open(name); }, deadline);
    if (!r) return fail("open video", r.error());
    const video_meta& d = r->description();
    if (d.width != width || d.height != height || d.pixel_format != static_cast<std::uint32_t>(pixel_format::rgb24) ||
        d.stride != width * 3) {
        return fail("description " + std::to_string(d.width) + "x" + std::to_string(d.height) + " stride " +
                    std::to_string(d.stride) + " format " + to_string(static_cast<pixel_format>(d.pixel_format)) +
                    ", not " + std::to_string(width) + "x" + std::to_string(height) + " RGB24");
    }
    const std::size_t size = static_cast<std::size_t>(d.frame_bytes);
    std::vector<std::uint8_t> f(size);
    std::set<std::uint64_t> seen;
    std::uint64_t corrupt = 0;
    std::string problem;
    while (seen.size() < min_frames && problem.empty()) {
        const auto now = clock_type::now();
        if (now >= deadline) break;
        const auto step = std::min<clock_type::duration>(deadline - now, std::chrono::milliseconds(100));
        auto s = r->wait_latest(f.data(), f.size(), std::chrono::duration_cast<nanoseconds>(step));
        if (!s) {
            if (s.error() == errc::timeout || s.error() == errc::stale) continue;
            return fail("wait_latest", s.error());
        }
        std::uint64_t i = 0;
        if (s->size != size || !check_frame(f.data(), size, &i)) {
            ++corrupt;
            problem = "sample " + std::to_string(s->index) + " is corrupt";
        } else if (video_pts(*s) != 1000 * static_cast<std::int64_t>(i) || audio_pts(*s) != 7 * static_cast<std::int64_t>(i)) {
            ++corrupt;
            problem = "frame " + std::to_string(i) + " has pts " + std::to_string(video_pts(*s)) + " audio pts " +
                      std::to_string(audio_pts(*s));
        } else {
            seen.insert(i);
        }
    }
    std::printf("frames=%zu corrupt=%llu\n", seen.size(), static_cast<unsigned long long>(corrupt));
    std::fflush(stdout);
    if (!problem.empty()) return fail(problem);
    if (seen.size() < min_frames) return fail("timed out before " + std::to_string(min_frames) + " intact frames");
    return 0;
}

// ---- kv

int kv_create(const args& a) {
    if (a.positional.size() != 2) return usage();
    std::vector<std::string> keys;
    std::string list = a.positional[1];
    for (std::size_t from = 0;;) {
        const std::size_t comma = list.find(',', from);
        keys.push_back(list.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    std::vector<const char*> names;
    for (const std::string& k : keys) names.push_back(k.c_str());
    kv_config c;
    c.max_value = 256;
    auto s = kv_store::create(a.positional[0].c_str(), names.data(), static_cast<std::uint32_t>(names.size()), c);
    if (!s) return fail("create kv", s.error());
    std::printf("created keys=%zu\n", names.size());
    return 0;  // the store stays: segments outlive their handles until removed
}

int kv_set(const args& a) {
    if (a.positional.size() != 3) return usage();
    auto s = kv_store::open(a.positional[0].c_str());
    if (!s) return fail("open kv", s.error());
    const std::string& key = a.positional[1];
    const std::string& value = a.positional[2];
    if (const errc e = s->set(key.c_str(), value.data(), value.size(), std::chrono::seconds(10)); failed(e)) {
        return fail("set " + key, e);
    }
    std::printf("set %s=%s\n", key.c_str(), value.c_str());
    return 0;
}

int kv_expect(const args& a) {
    double timeout_s = 0;
    if (a.positional.size() != 4 || !parse_number(a.positional[3], &timeout_s)) return usage();
    const std::string& key = a.positional[1];
    const std::string& want = a.positional[2];
    const auto deadline = clock_type::now() + seconds(timeout_s);
    auto s = open_when_there([&] { return kv_store::open(a.positional[0].c_str()); }, deadline);
    if (!s) return fail("open kv", s.error());
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(s->max_value()) + 1);
    std::string got = "(never written)";
    for (;;) {
        // The epoch before the read: a write after it ends the wait below.
        const std::uint64_t since = s->epoch();
        auto v = s->get(key.c_str(), buf.data(), buf.size());
        if (v) {
            got.assign(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(v->size));
            if (got == want) {
                std::printf("%s=%s\n", key.c_str(), got.c_str());
                return 0;
            }
        } else if (v.error() != errc::empty && v.error() != errc::stale) {
            return fail("get " + key, v.error());
        }
        const auto now = clock_type::now();
        if (now >= deadline) break;
        const errc e = s->wait_change(since, std::chrono::duration_cast<nanoseconds>(deadline - now));
        if (failed(e) && e != errc::timeout) return fail("wait_change", e);
    }
    std::printf("%s=%s\n", key.c_str(), got.c_str());
    return fail("timed out: " + key + " is " + got + ", not " + want);
}

// Prints the value of KEY (exit 1 if never written).
int kv_get(const args& a) {
    if (a.positional.size() != 2) return usage();
    auto s = kv_store::open(a.positional[0].c_str());
    if (!s) return fail("open kv", s.error());
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(s->max_value()));
    auto v = s->get(a.positional[1].c_str(), buf.data(), buf.size());
    if (!v) return fail("get " + a.positional[1], v.error());
    std::printf("%.*s\n", static_cast<int>(v->size), reinterpret_cast<const char*>(buf.data()));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const args a = parse(argc, argv);
    if (a.bad) return usage();
    const std::string cmd = argv[1];
    if (a.exact_loss && cmd != "bcast-read") return usage();
    if (a.expect_all && cmd != "bcast-read" && cmd != "audio-read") return usage();
    if (cmd == "bcast-write") return bcast_write(a);
    if (cmd == "bcast-read") return bcast_read(a);
    if (cmd == "audio-write") return audio_write(a);
    if (cmd == "audio-read") return audio_read(a);
    if (cmd == "video-write") return video_write(a);
    if (cmd == "video-read") return video_read(a);
    if (cmd == "kv-create") return kv_create(a);
    if (cmd == "kv-set") return kv_set(a);
    if (cmd == "kv-expect") return kv_expect(a);
    if (cmd == "kv-get") return kv_get(a);
    return usage();
}
