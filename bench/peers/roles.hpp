// The children's side of every measurement, written once for all systems. A system supplies a
// Link: one process's end of it, constructed in that process.
//
//   Link(control& c, std::uint32_t index)  index 0 sends on "ping" and receives on "pong" (the
//                                         leader, or the writer); index 1.. the other way round
//   void connected()                      returns when messages can flow (iceoryx: subscribed)
//   void send(const void* data, std::size_t size)        copies in and publishes
//   std::size_t receive(void* buffer, std::size_t cap)   waits for the next message, spinning or
//                                         sleeping in the OS as c.p.blocking says, and copies it out
//   bool try_receive(void* buffer, std::size_t cap)      throughput readers: one poll
//   static constexpr bool zero_copy       then also, for frames filled and read in place:
//   std::uint8_t* loan(std::size_t size);  void publish(std::size_t size);
//   const std::uint8_t* take(std::size_t* size);  void release();
//
// Busy waits everywhere (the floor's included) poll with a CPU pause (cpu_relax) in between.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "peers.hpp"
#include "shmkit/os.hpp"

namespace shmkit::peers {

// Waits until `count` processes have set up (they may start in any order).
inline void wait_for_ready(control& c, std::uint32_t count) {
    const std::uint64_t deadline = now_ns() + 60'000'000'000ull;
    while (c.ready.load() < count) {
        if (now_ns() > deadline) fail("the other processes did not come up within 60 s");
        os::sleep_ns(20'000);
    }
}

inline std::uint64_t choose_samples(const params& p, double per_round_ns) {
    const double wanted = static_cast<double>(p.sample_budget_ns) / std::max(per_round_ns, 1.0);
    const double n = std::min(std::max(wanted, static_cast<double>(p.min_samples)), static_cast<double>(p.max_samples));
    return std::min<std::uint64_t>(static_cast<std::uint64_t>(n), p.sample_slots);
}

// ---- round trips: the leader times each ping and its echoed pong ---------------------------

template <class Link>
void round_trip_leader(control& c, Link& link) {
    wait_for_ready(c, 2);
    std::vector<std::uint8_t> msg(c.p.bytes), in(message_capacity);
    for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 7 + 1);
    auto round = [&] {
        link.send(msg.data(), msg.size());
        if (link.receive(in.data(), in.size()) != msg.size()) fail("a pong of the wrong size came back");
    };
    const std::uint64_t warm = now_ns();
    for (std::uint32_t i = 0; i < c.p.warmup; ++i) round();
    const double per_round = static_cast<double>(now_ns() - warm) / std::max<std::uint32_t>(c.p.warmup, 1);
    const std::uint64_t n = choose_samples(c.p, per_round);
    std::uint64_t* samples = sample_array(c);
    std::uint64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) {
        round();
        const std::uint64_t t1 = now_ns();
        samples[i] = t1 - t0;
        t0 = t1;
    }
    c.samples = n;
    const std::uint64_t batch = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) round();
    c.batch_ns = now_ns() - batch;
    c.batch_rounds = n;
    c.stop.store(1);
    link.send(msg.data(), msg.size());  // the follower sees stop and returns without echoing
}

template <class Link>
void round_trip_follower(control& c, Link& link) {
    std::vector<std::uint8_t> buf(message_capacity);
    for (;;) {
        const std::size_t n = link.receive(buf.data(), buf.size());
        if (c.stop.load() != 0) return;
        link.send(buf.data(), n);
    }
}

// ---- frames: timed from the start of publishing to the reader having the frame --------------
// One-way times from CLOCK_MONOTONIC, which Linux keeps consistent across CPUs: the writer
// stores its start time in starts[k], the reader its arrival time in ends[k] (k counts frames on
// both sides; the tiny ack that paces the writer is not part of a sample). Zero-copy: the writer
// writes one byte of every page of the frame in place (standing for a producer that filled it
// there) and the reader reads one byte of every page in place; copy: the writer copies a
// prepared frame in and the reader copies it out.

template <class Link>
void publish_frame(control& c, Link& link, const std::vector<std::uint8_t>& prepared, std::uint64_t k) {
    if constexpr (Link::zero_copy) {
        if (c.p.zero_copy) {
            std::uint8_t* p = link.loan(frame_bytes);
            for (std::size_t off = 0; off < frame_bytes; off += page_bytes) p[off] = static_cast<std::uint8_t>(k);
            link.publish(frame_bytes);
            return;
        }
    }
    static_cast<void>(k);
    link.send(prepared.data(), frame_bytes);
}

template <class Link>
void frame_leader(control& c, Link& link) {
    wait_for_ready(c, 2);
    std::vector<std::uint8_t> prepared(c.p.zero_copy ? 0 : frame_bytes);
    for (std::size_t i = 0; i < prepared.size(); ++i) prepared[i] = static_cast<std::uint8_t>(i);
    std::uint8_t ack[64];
    std::uint64_t* starts = sample_array(c);
    std::uint64_t k = 0;
    auto one = [&](bool timed) {
        if (timed) starts[k] = now_ns();
        publish_frame(c, link, prepared, k);
        if (link.receive(ack, sizeof ack) != ack_bytes) fail("an ack of the wrong size came back");
        ++k;
    };
    const std::uint64_t warm = now_ns();
    for (std::uint32_t i = 0; i < c.p.warmup; ++i) one(false);
    const double per_frame = static_cast<double>(now_ns() - warm) / std::max<std::uint32_t>(c.p.warmup, 1);
    // Frames are numbered from the warm-up on: the slots hold warm-up + timed + batch frames.
    params room = c.p;
    room.sample_slots = (c.p.sample_slots - c.p.warmup - 1) / 2;
    const std::uint64_t n = choose_samples(room, per_frame);
    for (std::uint64_t i = 0; i < n; ++i) one(true);
    c.samples = n;
    const std::uint64_t batch = now_ns();
    for (std::uint64_t i = 0; i < n; ++i) one(false);
    c.batch_ns = now_ns() - batch;
    c.batch_rounds = n;
    c.stop.store(1);
    publish_frame(c, link, prepared, k);
}

template <class Link>
void frame_follower(control& c, Link& link) {
    std::vector<std::uint8_t> buf(c.p.zero_copy ? 0 : frame_bytes);
    const std::uint8_t ack[ack_bytes] = {1};
    std::uint64_t* ends = end_array(c);
    volatile std::uint32_t sink = 0;
    for (std::uint64_t k = 0;; ++k) {
        std::uint64_t arrived = 0;
        bool done = false;
        if constexpr (Link::zero_copy) {
            if (c.p.zero_copy) {
                std::size_t size = 0;
                const std::uint8_t* p = link.take(&size);
                done = c.stop.load() != 0;
                std::uint32_t sum = 0;
                if (!done) {
                    for (std::size_t off = 0; off < size; off += page_bytes) sum += p[off];
                }
                arrived = now_ns();
                link.release();
                sink = sink + sum;
            }
        }
        if (!c.p.zero_copy) {
            link.receive(buf.data(), buf.size());
            done = c.stop.load() != 0;
            arrived = now_ns();
        }
        if (done) return;
        if (k < c.p.sample_slots) ends[k] = arrived;
        link.send(ack, sizeof ack);
    }
}

// ---- writer throughput: one writer (index 0), c.p.readers busy readers -----------------------
// 64-byte messages carrying a sequence number. Probes go out until every reader has received
// one (ZeroMQ subscriptions and iceoryx connections take a while to be set up); the window then
// starts at the next sequence number and readers count only messages from it on. After the
// window readers drain until nothing has arrived for 20 ms.

template <class Link>
void throughput_writer(control& c, Link& link) {
    wait_for_ready(c, 1 + c.p.readers);
    std::uint8_t msg[64] = {};
    std::uint64_t seq = 0;
    const std::uint64_t deadline = now_ns() + 60'000'000'000ull;
    while (c.readers_seen.load() < c.p.readers) {
        std::memcpy(msg, &seq, sizeof seq);
        ++seq;
        link.send(msg, sizeof msg);
        if (now_ns() > deadline) fail("the readers received nothing within 60 s");
        os::sleep_ns(1'000'000);
    }
    c.window_begin.store(seq);
    const double cpu0 = process_cpu_seconds();
    const std::uint64_t wall0 = now_ns();
    std::uint64_t written = 0, wall = 0;
    for (;;) {
        for (int i = 0; i < 256; ++i) {
            std::memcpy(msg, &seq, sizeof seq);
            ++seq;
            link.send(msg, sizeof msg);
        }
        written += 256;
        wall = now_ns() - wall0;
        if (wall >= c.p.duration_ns) break;
    }
    c.writer_cpu_s = process_cpu_seconds() - cpu0;
    c.writer_wall_s = static_cast<double>(wall) * 1e-9;
    c.written = written;
    c.stop.store(1);
}

template <class Link>
void throughput_reader(control& c, Link& link, std::uint32_t index) {
    std::uint8_t buf[64];
    std::uint64_t counted = 0, quiet_since = 0;
    bool seen = false;
    for (;;) {
        if (link.try_receive(buf, sizeof buf)) {
            std::uint64_t seq;
            std::memcpy(&seq, buf, sizeof seq);
            if (!seen) {
                seen = true;
                c.readers_seen.fetch_add(1);
            }
            if (seq >= c.window_begin.load(std::memory_order_acquire)) ++counted;
            quiet_since = 0;
            continue;
        }
        if (c.stop.load(std::memory_order_relaxed) != 0) {
            const std::uint64_t t = now_ns();
            if (quiet_since == 0) quiet_since = t;
            else if (t - quiet_since > 20'000'000) break;
        }
        cpu_relax();
    }
    c.received[(index - 1) % max_readers].store(counted);
}

// ---- idle: the follower blocks in a receive until the coordinator lets the writer finish ----

template <class Link>
void idle_writer(control& c, Link& link) {
    while (c.go.load(order::acquire) == 0) static_cast<void>(os::futex_wait(&c.go.raw, 0, os::forever));
    std::uint8_t msg[64] = {};
    c.stop.store(1);
    link.send(msg, sizeof msg);
}

template <class Link>
void idle_reader(control& /*c*/, Link& link) {
    std::uint8_t buf[message_capacity];
    static_cast<void>(link.receive(buf, sizeof buf));
}

// A child's whole life, whatever the system.
template <class Link>
int run_roles(control& c, std::uint32_t index) {
    if (c.p.zero_copy && !Link::zero_copy) fail("this system has no zero-copy calls");
    Link link(c, index);
    link.connected();
    c.ready.fetch_add(1);
    switch (c.p.what) {
    case kind::round_trip:
        if (index == 0) round_trip_leader(c, link);
        else round_trip_follower(c, link);
        break;
    case kind::frame:
        if (index == 0) frame_leader(c, link);
        else frame_follower(c, link);
        break;
    case kind::throughput:
        if (index == 0) throughput_writer(c, link);
        else throughput_reader(c, link, index);
        break;
    case kind::idle:
        if (index == 0) idle_writer(c, link);
        else idle_reader(c, link);
        break;
    }
    c.finished.fetch_add(1);
    if (index == 0) {
        // The leader keeps its end open until the others are done: its last message may still
        // be on its way (in ZeroMQ's socket buffers), and closing would drop it.
        const std::uint32_t everyone = c.p.what == kind::throughput ? 1 + c.p.readers : 2;
        const std::uint64_t deadline = now_ns() + 60'000'000'000ull;
        while (c.finished.load() < everyone) {
            if (now_ns() > deadline) fail("the other processes did not finish within 60 s");
            os::sleep_ns(1'000'000);
        }
    }
    return 0;
}

}  // namespace shmkit::peers
