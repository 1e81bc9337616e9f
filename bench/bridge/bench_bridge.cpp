// shmkit_bench_bridge: the programs `make bench-bridge` (bench/bridge/run.sh) runs on the two
// hosts, or on one host for the local shared-memory path. Each prints one JSON object on stdout.
//
//   ping OUT IN COUNT WARMUP SIZE        round trips, one in flight: write OUT, wait for the echo on IN
//   echo IN OUT                          every message of IN written to OUT, until SIGTERM
//   flood NAME SECONDS SIZE --go FILE    write NAME as fast as it goes for SECONDS (after FILE exists)
//   count NAME IDLE_S TIMEOUT_S          read NAME; messages/s between the first and last received
//   vsrc NAME ACK SECONDS PINGS --go FILE [--rate HZ]   1080p RGB24 frames: SECONDS at HZ (0 or
//                                        none: unpaced), then PINGS frame round trips (each frame's
//                                        index comes back on ACK)
//   vsink NAME ACK                       read NAME (latest); count, one-way latency, ack the pings
//   peers NAME MIN TIMEOUT_S             wait until kv NAME's "peers" is at least MIN (a link's
//                                        companion segment: its DDS endpoints matched)
//   kv NAME KEY                          print a kv value (a link's counters), or nothing
//
// Times are CLOCK_MONOTONIC (steady_clock). The two hosts are network namespaces on one machine
// and share that clock, so a frame's one-way latency is its arrival time minus the send time it
// carries.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "shmkit/broadcast.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/video.hpp"

namespace {

using namespace shmkit;
using clock_type = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_signal(int) { stop_requested = 1; }

void install_signals() {
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
}

int fail(const std::string& what, errc e) {
    std::fprintf(stderr, "shmkit_bench_bridge: %s: %s\n", what.c_str(), to_string(e));
    return 1;
}

int fail(const std::string& what) {
    std::fprintf(stderr, "shmkit_bench_bridge: %s\n", what.c_str());
    return 1;
}

int usage() {
    std::fputs(
        "usage: shmkit_bench_bridge ping OUT IN COUNT WARMUP SIZE\n"
        "       shmkit_bench_bridge echo IN OUT\n"
        "       shmkit_bench_bridge flood NAME SECONDS SIZE [--go FILE]\n"
        "       shmkit_bench_bridge count NAME IDLE_S TIMEOUT_S\n"
        "       shmkit_bench_bridge vsrc NAME ACK SECONDS PINGS [--go FILE] [--rate HZ]\n"
        "       shmkit_bench_bridge vsink NAME ACK\n"
        "       shmkit_bench_bridge peers NAME MIN TIMEOUT_S\n"
        "       shmkit_bench_bridge kv NAME KEY\n",
        stderr);
    return 2;
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count());
}

nanoseconds seconds(double s) { return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(s)); }

bool parse_number(const char* s, double* out) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v >= 0)) return false;
    *out = v;
    return true;
}

bool parse_count(const char* s, std::uint64_t* out) {
    char* end = nullptr;
    if (*s == '\0' || *s == '-') return false;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (*end != '\0') return false;
    *out = v;
    return true;
}

void put_u64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
std::uint64_t get_u64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return v;
}

// Retries `open` while the segment does not exist yet (or is still being created).
template <class Open>
auto open_when_there(Open open, double timeout_s) {
    const auto deadline = clock_type::now() + seconds(timeout_s);
    auto r = open();
    while (!r && (r.error() == errc::not_found || r.error() == errc::not_ready) && clock_type::now() < deadline &&
           !stop_requested) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        r = open();
    }
    return r;
}

void remove_segment(const std::string& name) {
    const errc e = segment::remove(name.c_str());
    if (failed(e) && e != errc::not_found) std::fprintf(stderr, "shmkit_bench_bridge: remove %s: %s\n", name.c_str(), to_string(e));
}

// Waits until FILE exists (the driver's start signal; /tmp is shared by the hosts).
bool wait_for_file(const std::string& file, double timeout_s) {
    if (file.empty()) return true;
    const auto deadline = clock_type::now() + seconds(timeout_s);
    struct stat st {};
    while (::stat(file.c_str(), &st) != 0) {
        if (stop_requested || clock_type::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

struct stats {
    double median_ns = 0, p99_ns = 0, mean_ns = 0, min_ns = 0, max_ns = 0;
};

stats summarize(std::vector<std::uint64_t> v) {
    stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    s.median_ns = n % 2 ? static_cast<double>(v[n / 2]) : (static_cast<double>(v[n / 2 - 1]) + static_cast<double>(v[n / 2])) / 2;
    const auto p99 = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n)));
    s.p99_ns = static_cast<double>(v[std::min(n - 1, p99 == 0 ? 0 : p99 - 1)]);
    double sum = 0;
    for (const std::uint64_t x : v) sum += static_cast<double>(x);
    s.mean_ns = sum / static_cast<double>(n);
    s.min_ns = static_cast<double>(v.front());
    s.max_ns = static_cast<double>(v.back());
    return s;
}

void print_stats(const char* prefix, const stats& s) {
    std::printf("\"%smedian_ns\": %.0f, \"%sp99_ns\": %.0f, \"%smean_ns\": %.0f, \"%smin_ns\": %.0f, \"%smax_ns\": %.0f",
                prefix, s.median_ns, prefix, s.p99_ns, prefix, s.mean_ns, prefix, s.min_ns, prefix, s.max_ns);
}

// The writer of a broadcast for messages of `size` bytes (a 1 MiB ring, or larger for large ones).
result<broadcast_writer> make_broadcast(const std::string& name, std::size_t size) {
    broadcast_config c;
    c.capacity = 1u << 20;
    while (c.capacity / 2 < size + 64) c.capacity *= 2;
    return broadcast_writer::create(name.c_str(), c);
}

// ---- 64 B round trips ---------------------------------------------------------------------------

// A message: [index][send time][padding]. The echo sends it back unchanged.
int ping(const std::string& out_name, const std::string& in_name, std::uint64_t count, std::uint64_t warmup,
         std::uint64_t size) {
    if (size < 16) return fail("SIZE must be at least 16");
    install_signals();
    auto out = make_broadcast(out_name, static_cast<std::size_t>(size));
    if (!out) return fail("create " + out_name, out.error());
    auto in = open_when_there([&] { return broadcast_reader::open(in_name.c_str()); }, 60);
    if (!in) {
        remove_segment(out_name);
        return fail("open " + in_name, in.error());
    }
    std::vector<std::uint8_t> m(static_cast<std::size_t>(size), 0x5a), buf(static_cast<std::size_t>(in->max_message()));
    std::uint64_t index = 0, timeouts = 0;
    // Sends message `index` and waits up to `timeout` for it to come back (older echoes are
    // passed over). The round trip in ns, or 0 on timeout.
    auto round_trip = [&](nanoseconds timeout) -> result<std::uint64_t> {
        const std::uint64_t i = ++index;
        const std::uint64_t t0 = now_ns();
        put_u64(m.data(), i);
        put_u64(m.data() + 8, t0);
        if (const errc e = out->write(m.data(), m.size()); failed(e)) return e;
        const std::uint64_t deadline = t0 + static_cast<std::uint64_t>(timeout.count());
        for (;;) {
            const std::uint64_t t = now_ns();
            if (t >= deadline || stop_requested) return std::uint64_t{0};
            auto got = in->read(buf.data(), buf.size(), nanoseconds(deadline - t));
            if (!got) {
                if (got.error() == errc::timeout || got.error() == errc::stale) continue;
                return got.error();
            }
            if (got->size >= 16 && get_u64(buf.data()) == i) return now_ns() - t0;
        }
    };
    // Until the first echo: the links may still be matching (what is written before is lost).
    bool connected = false;
    const auto give_up = clock_type::now() + std::chrono::seconds(30);
    while (!connected && clock_type::now() < give_up && !stop_requested) {
        auto r = round_trip(std::chrono::milliseconds(200));
        if (!r) {
            remove_segment(out_name);
            return fail("round trip", r.error());
        }
        connected = *r != 0;
    }
    if (!connected) {
        remove_segment(out_name);
        return fail("no echo from " + in_name + " within 30 s");
    }
    std::vector<std::uint64_t> rtts;
    rtts.reserve(static_cast<std::size_t>(count));
    const std::uint64_t start = now_ns();
    for (std::uint64_t k = 0; k < warmup + count && !stop_requested; ++k) {
        auto r = round_trip(std::chrono::seconds(1));
        if (!r) {
            remove_segment(out_name);
            return fail("round trip", r.error());
        }
        if (*r == 0) {
            if (++timeouts > 20) break;
            continue;
        }
        if (k >= warmup) rtts.push_back(*r);
    }
    const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    const stats s = summarize(rtts);
    std::printf("{\"round_trips\": %zu, \"timeouts\": %llu, \"seconds\": %.3f, ", rtts.size(),
                static_cast<unsigned long long>(timeouts), elapsed);
    print_stats("", s);
    std::printf("}\n");
    std::fflush(stdout);
    remove_segment(out_name);
    if (timeouts > 20) return fail("more than 20 round trips timed out");
    return rtts.size() == count ? 0 : fail("stopped early");
}

int echo(const std::string& in_name, const std::string& out_name) {
    install_signals();
    // OUT first: over the bridge, this host's exporter of OUT waits for it, and the other host's
    // ping opens its import of OUT before it writes anything to IN.
    auto out = make_broadcast(out_name, 64 * 1024);
    if (!out) return fail("create " + out_name, out.error());
    auto in = open_when_there([&] { return broadcast_reader::open(in_name.c_str()); }, 60);
    if (!in) {
        remove_segment(out_name);
        return fail("open " + in_name, in.error());
    }
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(in->max_message()));
    std::uint64_t echoed = 0;
    while (!stop_requested) {
        auto got = in->read(buf.data(), buf.size(), std::chrono::milliseconds(100));
        if (!got) {
            if (got.error() == errc::timeout || got.error() == errc::stale) continue;
            remove_segment(out_name);
            return fail("read " + in_name, got.error());
        }
        if (const errc e = out->write(buf.data(), static_cast<std::size_t>(got->size)); failed(e)) {
            remove_segment(out_name);
            return fail("write " + out_name, e);
        }
        ++echoed;
    }
    std::printf("{\"echoed\": %llu}\n", static_cast<unsigned long long>(echoed));
    std::fflush(stdout);
    remove_segment(out_name);
    return 0;
}

// ---- 64 B throughput ----------------------------------------------------------------------------

int flood(const std::string& name, double duration, std::uint64_t size, const std::string& go) {
    if (size < 8) return fail("SIZE must be at least 8");
    install_signals();
    auto w = make_broadcast(name, static_cast<std::size_t>(size));
    if (!w) return fail("create " + name, w.error());
    if (!wait_for_file(go, 60)) {
        remove_segment(name);
        return fail("no start signal " + go);
    }
    std::vector<std::uint8_t> m(static_cast<std::size_t>(size), 0xa5);
    std::uint64_t written = 0;
    const std::uint64_t start = now_ns(), until = start + static_cast<std::uint64_t>(duration * 1e9);
    std::uint64_t t = start;
    while (t < until && !stop_requested) {
        for (int k = 0; k < 64; ++k) {  // the clock read once per 64 messages
            put_u64(m.data(), written);
            if (const errc e = w->write(m.data(), m.size()); failed(e)) {
                remove_segment(name);
                return fail("write " + name, e);
            }
            ++written;
        }
        t = now_ns();
    }
    const double elapsed = static_cast<double>(t - start) / 1e9;
    std::printf("{\"written\": %llu, \"seconds\": %.3f, \"per_s\": %.0f}\n", static_cast<unsigned long long>(written),
                elapsed, static_cast<double>(written) / elapsed);
    std::fflush(stdout);
    // The segment stays until the driver stops this program: the exporter may still be reading it.
    while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    remove_segment(name);
    return 0;
}

int count_messages(const std::string& name, double idle_s, double timeout_s) {
    install_signals();
    auto r = open_when_there([&] { return broadcast_reader::open(name.c_str()); }, timeout_s);
    if (!r) return fail("open " + name, r.error());
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(r->max_message()));
    std::uint64_t received = 0, first = 0, last = 0, lost_before_first = 0;
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
    const auto idle = static_cast<std::uint64_t>(idle_s * 1e9);
    while (!stop_requested) {
        const std::uint64_t t = now_ns();
        if (t >= deadline || (received > 0 && t - last >= idle)) break;
        auto got = r->read(buf.data(), buf.size(), std::chrono::milliseconds(50));
        if (!got) {
            if (got.error() == errc::timeout || got.error() == errc::stale) continue;
            return fail("read " + name, got.error());
        }
        last = now_ns();
        if (received++ == 0) {
            first = last;
            lost_before_first = r->total_lost();  // a reader that joins late is not "losing"
        }
    }
    const double window = static_cast<double>(last - first) / 1e9;
    const double rate = received > 1 && window > 0 ? static_cast<double>(received - 1) / window : 0;
    std::printf("{\"received\": %llu, \"lost\": %llu, \"seconds\": %.3f, \"per_s\": %.0f}\n",
                static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(r->total_lost() - lost_before_first), window, rate);
    std::fflush(stdout);
    return received > 1 ? 0 : fail("fewer than two messages received");
}

// ---- 1080p frames -------------------------------------------------------------------------------

constexpr std::uint32_t frame_width = 1920, frame_height = 1080;
// A frame: [index][send time][kind: 0 flood, 1 ping][...][index again in the last 8 bytes].
constexpr std::uint64_t kind_flood = 0, kind_ping = 1;

void stamp_frame(std::uint8_t* f, std::size_t size, std::uint64_t index, std::uint64_t kind_word) {
    put_u64(f, index);
    put_u64(f + 8, now_ns());
    put_u64(f + 16, kind_word);
    put_u64(f + size - 8, index);
}

int vsrc(const std::string& name, const std::string& ack_name, double duration, std::uint64_t pings,
         const std::string& go, double rate) {
    install_signals();
    video_config c;
    c.width = frame_width;
    c.height = frame_height;
    c.format = pixel_format::rgb24;
    c.slots = 4;
    auto w = video_writer::create(name.c_str(), c);
    if (!w) return fail("create " + name, w.error());
    const auto size = static_cast<std::size_t>(w->description().frame_bytes);
    auto ack = open_when_there([&] { return broadcast_reader::open(ack_name.c_str()); }, 60);
    if (!ack) {
        remove_segment(name);
        return fail("open " + ack_name, ack.error());
    }
    if (!wait_for_file(go, 60)) {
        remove_segment(name);
        return fail("no start signal " + go);
    }
    std::vector<std::uint8_t> f(size);
    for (std::size_t k = 0; k < size; ++k) f[k] = static_cast<std::uint8_t>(k * 7);
    std::uint64_t index = 0;
    // Throughput: frames at `rate`, or as fast as the writer goes (the link carries the latest).
    const auto start_time = clock_type::now();
    const std::uint64_t start = now_ns(), until = start + static_cast<std::uint64_t>(duration * 1e9);
    std::uint64_t t = start, written = 0;
    while (t < until && !stop_requested) {
        if (rate > 0) std::this_thread::sleep_until(start_time + seconds(static_cast<double>(written) / rate));
        stamp_frame(f.data(), size, index++, kind_flood);
        if (const errc e = w->write_frame(f.data(), size); failed(e)) {
            remove_segment(name);
            return fail("write_frame", e);
        }
        ++written;
        t = now_ns();
    }
    const double elapsed = static_cast<double>(t - start) / 1e9;
    // Let the link drain before the round trips.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(ack->max_message()));
    while (ack->try_read(buf.data(), buf.size())) {
    }
    // Round trips: one frame in flight; the sink sends its index back on ACK.
    std::vector<std::uint64_t> rtts;
    std::uint64_t timeouts = 0;
    for (std::uint64_t k = 0; k < pings && !stop_requested && timeouts <= 5; ++k) {
        const std::uint64_t i = index++;
        const std::uint64_t t0 = now_ns();
        stamp_frame(f.data(), size, i, kind_ping);
        if (const errc e = w->write_frame(f.data(), size); failed(e)) {
            remove_segment(name);
            return fail("write_frame", e);
        }
        const std::uint64_t deadline = t0 + 2000000000ull;
        bool back = false;
        while (!back && !stop_requested) {
            const std::uint64_t now = now_ns();
            if (now >= deadline) break;
            auto got = ack->read(buf.data(), buf.size(), nanoseconds(deadline - now));
            if (!got) {
                if (got.error() == errc::timeout || got.error() == errc::stale) continue;
                remove_segment(name);
                return fail("read " + ack_name, got.error());
            }
            if (got->size >= 8 && get_u64(buf.data()) == i) {
                rtts.push_back(now_ns() - t0);
                back = true;
            }
        }
        if (!back) ++timeouts;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the link's thread back to waiting
    }
    const stats s = summarize(rtts);
    std::printf("{\"frame_bytes\": %zu, \"written\": %llu, \"seconds\": %.3f, \"per_s\": %.1f, \"round_trips\": %zu, "
                "\"timeouts\": %llu, ",
                size, static_cast<unsigned long long>(written), elapsed, static_cast<double>(written) / elapsed,
                rtts.size(), static_cast<unsigned long long>(timeouts));
    print_stats("rtt_", s);
    std::printf("}\n");
    std::fflush(stdout);
    while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    remove_segment(name);
    return rtts.empty() ? fail("no frame came back") : 0;
}

int vsink(const std::string& name, const std::string& ack_name) {
    install_signals();
    auto ack = make_broadcast(ack_name, 64);
    if (!ack) return fail("create " + ack_name, ack.error());
    auto r = open_when_there([&] { return video_reader::open(name.c_str()); }, 60);
    if (!r) {
        remove_segment(ack_name);
        return fail("open " + name, r.error());
    }
    const auto size = static_cast<std::size_t>(r->description().frame_bytes);
    std::vector<std::uint8_t> f(size);
    std::uint64_t frames = 0, corrupt = 0, first = 0, last = 0;
    std::vector<std::uint64_t> flood_latency, ping_latency;
    std::uint8_t reply[16] = {};
    while (!stop_requested) {
        auto got = r->wait_latest(f.data(), f.size(), std::chrono::milliseconds(100));
        if (!got) {
            if (got.error() == errc::timeout || got.error() == errc::stale || got.error() == errc::empty) continue;
            remove_segment(ack_name);
            return fail("wait_latest " + name, got.error());
        }
        const std::uint64_t t = now_ns();
        const std::uint64_t index = get_u64(f.data());
        if (got->size != size || get_u64(f.data() + size - 8) != index) {
            ++corrupt;
            continue;
        }
        const std::uint64_t sent = get_u64(f.data() + 8);
        const std::uint64_t latency = t > sent ? t - sent : 0;
        if (get_u64(f.data() + 16) == kind_ping) {
            ping_latency.push_back(latency);
            put_u64(reply, index);
            if (const errc e = ack->write(reply, sizeof reply); failed(e)) {
                remove_segment(ack_name);
                return fail("write " + ack_name, e);
            }
            continue;
        }
        if (frames++ == 0) first = t;
        last = t;
        flood_latency.push_back(latency);
    }
    const double window = static_cast<double>(last - first) / 1e9;
    const double fps = frames > 1 && window > 0 ? static_cast<double>(frames - 1) / window : 0;
    std::printf("{\"frame_bytes\": %zu, \"frames\": %llu, \"corrupt\": %llu, \"seconds\": %.3f, \"per_s\": %.2f, "
                "\"mb_per_s\": %.1f, \"pings\": %zu, ",
                size, static_cast<unsigned long long>(frames), static_cast<unsigned long long>(corrupt), window, fps,
                fps * static_cast<double>(size) / 1e6, ping_latency.size());
    print_stats("one_way_", summarize(ping_latency));
    std::printf(", ");
    print_stats("loaded_one_way_", summarize(flood_latency));
    std::printf("}\n");
    std::fflush(stdout);
    remove_segment(ack_name);
    return frames > 1 && corrupt == 0 ? 0 : fail("fewer than two intact frames, or corrupt ones");
}

// ---- link matching ------------------------------------------------------------------------------

int peers(const std::string& name, std::uint64_t min, double timeout_s) {
    install_signals();
    const auto deadline = clock_type::now() + seconds(timeout_s);
    auto s = open_when_there([&] { return kv_store::open(name.c_str()); }, timeout_s);
    if (!s) return fail("open " + name, s.error());
    std::vector<char> buf(static_cast<std::size_t>(s->max_value()) + 1);
    std::string value;
    while (!stop_requested) {
        auto v = s->get("peers", buf.data(), buf.size() - 1);
        if (v) {
            value.assign(buf.data(), static_cast<std::size_t>(v->size));
            std::uint64_t n = 0;
            if (parse_count(value.c_str(), &n) && n >= min) return 0;
        }
        if (clock_type::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return fail(name + ": peers " + (value.empty() ? "unset" : value) + " after " + std::to_string(timeout_s) + " s");
}

// Prints KEY's value (nothing, and exit 1, if the store or the value is not there).
int kv_value(const std::string& name, const std::string& key) {
    auto s = kv_store::open(name.c_str());
    if (!s) return 1;
    std::vector<char> buf(static_cast<std::size_t>(s->max_value()));
    auto v = s->get(key.c_str(), buf.data(), buf.size());
    if (!v) return 1;
    std::printf("%.*s\n", static_cast<int>(v->size), buf.data());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a;
    std::string go;
    double rate = 0;
    for (int k = 1; k < argc; ++k) {
        if (std::string(argv[k]) == "--go" && k + 1 < argc) {
            go = argv[++k];
        } else if (std::string(argv[k]) == "--rate" && k + 1 < argc) {
            if (!parse_number(argv[++k], &rate)) return usage();
        } else {
            a.emplace_back(argv[k]);
        }
    }
    if (a.empty()) return usage();
    const std::string& cmd = a[0];
    std::uint64_t n1 = 0, n2 = 0, n3 = 0;
    double d1 = 0, d2 = 0;
    if (cmd == "ping" && a.size() == 6 && parse_count(a[3].c_str(), &n1) && parse_count(a[4].c_str(), &n2) &&
        parse_count(a[5].c_str(), &n3)) {
        return ping(a[1], a[2], n1, n2, n3);
    }
    if (cmd == "echo" && a.size() == 3) return echo(a[1], a[2]);
    if (cmd == "flood" && a.size() == 4 && parse_number(a[2].c_str(), &d1) && parse_count(a[3].c_str(), &n1)) {
        return flood(a[1], d1, n1, go);
    }
    if (cmd == "count" && a.size() == 4 && parse_number(a[2].c_str(), &d1) && parse_number(a[3].c_str(), &d2)) {
        return count_messages(a[1], d1, d2);
    }
    if (cmd == "vsrc" && a.size() == 5 && parse_number(a[3].c_str(), &d1) && parse_count(a[4].c_str(), &n1)) {
        return vsrc(a[1], a[2], d1, n1, go, rate);
    }
    if (cmd == "vsink" && a.size() == 3) return vsink(a[1], a[2]);
    if (cmd == "peers" && a.size() == 4 && parse_count(a[2].c_str(), &n1) && parse_number(a[3].c_str(), &d1)) {
        return peers(a[1], n1, d1);
    }
    if (cmd == "kv" && a.size() == 3) return kv_value(a[1], a[2]);
    return usage();
}
