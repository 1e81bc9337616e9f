// A hostile peer: another process stores random values into every field of a live segment of
// each kind (header, geometry, control block, record and slot headers, lock slots, kv entries)
// while this process reads, writes, locks, closes and re-opens handles on it. Calls may fail
// (that is what a hostile peer can do), but no process may crash, trap or hang: every value
// read from shared memory is bounded before use, asserts included. Run natively, under
// ASan+UBSan (which turns any stray access into a failure) and on aarch64 under qemu.
#include <atomic>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

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
using test::child;
using test::shared;
using test::unique_name;

constexpr int rounds = 3000;

// What the hostile process stores: values that are likely to sit just past a check (zero, all
// ones, small counts, odd positions, this process's own identity) as well as random ones.
std::uint64_t hostile_value(std::mt19937_64& rng, std::uint64_t old) {
    switch (rng() % 10) {
        case 0: return 0;
        case 1: return ~std::uint64_t{0};
        case 2: return rng() % 64;
        case 3: return old + 1 + rng() % 4096;
        case 4: return old - 1 - rng() % 16;
        case 5: return old ^ (std::uint64_t{1} << (rng() % 64));
        case 6: return pack_process(os::self());
        case 7: return rng() & 0xFFFF'FFFFu;
        default: return rng();
    }
}

struct attack_state {
    std::atomic<int> stop{0};
    std::atomic<std::uint64_t> stores{0};
};

// Maps the segment behind shmkit's back and stores into it until told to stop: mostly into the
// mutable state (control block, record or slot headers, locks: from the end of the checksummed
// header to `hot_bytes`), sometimes anywhere. Damage to the header itself is always undone, or
// it would only make every later open fail (test_corrupt covers that).
SHMKIT_TEST_ROLE(hostile_peer) {
    const test::raw_mapping segment(args.text(0).c_str());
    const auto hot_bytes = args.value<std::uint64_t>(1);
    const auto seed = args.value<std::uint64_t>(2);
    auto state = shared<attack_state>::open(args.text(3));
    const std::size_t size = segment.size();
    auto* words = reinterpret_cast<std::uint64_t*>(segment.base());
    const std::uint64_t header_words = reinterpret_cast<const segment_header*>(segment.base())->header_size / 8;
    const std::uint64_t hot_words = (hot_bytes < size ? hot_bytes : size) / 8;
    std::mt19937_64 rng(seed);
    while (state->stop.load(std::memory_order_relaxed) == 0) {
        const std::uint64_t i = rng() % 8 == 0 ? rng() % (size / 8)
                                                : header_words + rng() % (hot_words - header_words);
        const std::uint64_t old = __atomic_load_n(words + i, __ATOMIC_RELAXED);
        __atomic_store_n(words + i, hostile_value(rng, old), __ATOMIC_RELAXED);
        state->stores.fetch_add(1, std::memory_order_relaxed);
        // Let the legitimate side run into the damage, then (half the time) put the old value
        // back, so the attack explores transient damage as well as lasting damage.
        os::sleep_ns(rng() % 20'000);
        if (i < header_words || rng() % 2 == 0) __atomic_store_n(words + i, old, __ATOMIC_RELAXED);
    }
    return 0;
}

// Runs `round` while a hostile child stores into the segment `name`: at least `rounds` rounds,
// and on until the child has made `min_stores` stores (the two processes share two cores).
void under_attack(const char* name, std::uint64_t hot_bytes, const std::function<void(int)>& round) {
    constexpr std::uint64_t min_stores = 10'000;
    const std::uint64_t seed = std::random_device{}();
    SCOPED_TRACE("hostile seed " + std::to_string(seed));
    shared<attack_state> state;
    child hostile("hostile_peer", {name, test::arg(hot_bytes), test::arg(seed), state.name()});
    test::spin_until([&] { return state->stores.load() > 0; });
    for (int i = 0; i < rounds || state->stores.load() < min_stores; ++i) round(i);
    state->stop.store(1);
    EXPECT_EQ(hostile.wait(), 0);
}

template <class T>
void reopen_every(int i, int period, T& handle, const std::function<result<T>()>& open) {
    if (i % period != period - 1) return;
    handle.close();
    auto again = open();
    if (again) handle = std::move(again).value();
}

TEST(Hostile, Broadcast) {
    unique_name name("hostile-bc");
    broadcast_config config;
    config.capacity = 4096;
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    auto r1 = broadcast_reader::open(name.c_str());
    ASSERT_TRUE(r1);
    broadcast_reader_options oldest;
    oldest.from_oldest = true;
    auto r2 = broadcast_reader::open(name.c_str(), oldest);
    ASSERT_TRUE(r2);
    std::uint8_t buf[4096];
    under_attack(name.c_str(), broadcast_ring_offset + 1024, [&](int i) {
        static_cast<void>(w->write(buf, static_cast<std::size_t>(i % 700)));
        if (auto res = w->reserve(static_cast<std::size_t>(i % 300))) {
            if (i % 3 == 0) res->commit();
        }
        static_cast<void>(r1->try_read(buf, sizeof buf));
        static_cast<void>(r1->read(buf, sizeof buf, 0ns));
        static_cast<void>(r2->read(buf, 64, 50us));
        static_cast<void>(r2->poll());
        static_cast<void>(r2->wait(10us));
        select_source sources[] = {r1->waitable(), r2->waitable()};
        if (sources[0].word != nullptr && sources[1].word != nullptr) static_cast<void>(select(sources, 2, 10us));
        reopen_every<broadcast_reader>(i, 97, *r1, [&] { return broadcast_reader::open(name.c_str()); });
        reopen_every<broadcast_reader>(i, 89, *r2, [&] { return broadcast_reader::open(name.c_str(), oldest); });
        reopen_every<broadcast_writer>(i, 101, *w, [&] { return broadcast_writer::open(name.c_str()); });
    });
}

TEST(Hostile, Spsc) {
    unique_name name("hostile-spsc");
    spsc_config config;
    config.capacity = 4096;
    auto p = spsc_producer::create(name.c_str(), config);
    ASSERT_TRUE(p);
    auto c = spsc_consumer::open(name.c_str());
    ASSERT_TRUE(c);
    std::uint8_t buf[4096];
    under_attack(name.c_str(), spsc_ring_offset + 1024, [&](int i) {
        static_cast<void>(p->try_push(buf, static_cast<std::size_t>(i % 700)));
        static_cast<void>(p->push(buf, static_cast<std::size_t>(i % 100), 20us));
        if (auto res = p->try_reserve(static_cast<std::size_t>(i % 300))) {
            if (i % 2 == 0) res->commit();
        }
        static_cast<void>(c->try_pop(buf, sizeof buf));
        static_cast<void>(c->pop(buf, 32, 20us));
        if (auto v = c->try_peek()) c->release();
        static_cast<void>(c->peek(10us));
        reopen_every<spsc_consumer>(i, 97, *c, [&] { return spsc_consumer::open(name.c_str()); });
        reopen_every<spsc_producer>(i, 101, *p, [&] { return spsc_producer::open(name.c_str()); });
    });
}

TEST(Hostile, Command) {
    unique_name name("hostile-cmd");
    command_config config;
    config.capacity = 4096;
    command_options options;
    options.liveness_period_ns = 20'000;
    options.lock.liveness_period_ns = 20'000;
    auto r = command_reader::create(name.c_str(), config, options);
    ASSERT_TRUE(r);
    auto w = command_writer::open(name.c_str(), options);
    ASSERT_TRUE(w);
    std::uint8_t buf[4096];
    under_attack(name.c_str(), command_ring_offset + 1024, [&](int i) {
        static_cast<void>(w->try_write(buf, static_cast<std::size_t>(i % 700)));
        static_cast<void>(w->write(buf, static_cast<std::size_t>(i % 100), 50us));
        if (auto res = w->try_reserve(static_cast<std::size_t>(i % 300))) {
            if (i % 2 == 0) res->commit();
        }
        static_cast<void>(r->try_read(buf, sizeof buf));
        static_cast<void>(r->read(buf, 64, 50us));
        static_cast<void>(r->poll());
        select_source s = r->waitable();
        if (s.word != nullptr) static_cast<void>(select(&s, 1, 10us));
        reopen_every<command_writer>(i, 89, *w, [&] { return command_writer::open(name.c_str(), options); });
        reopen_every<command_reader>(i, 97, *r, [&] { return command_reader::open(name.c_str(), options); });
    });
}

TEST(Hostile, Block) {
    unique_name name("hostile-block");
    block_config config;
    config.size = 4096;
    config.reader_slots = 8;
    block_options options;
    options.lock.liveness_period_ns = 20'000;
    auto a = block::create(name.c_str(), config, options);
    ASSERT_TRUE(a);
    auto b = block::open(name.c_str(), options);
    ASSERT_TRUE(b);
    std::uint8_t buf[64] = {};
    under_attack(name.c_str(), block_slots_offset + 8 * sizeof(rwlock_slot), [&](int i) {
        const errc read_locked = b->lock_shared(50us);
        if (read_locked == errc::ok || read_locked == errc::owner_dead) b->unlock_shared();
        {
            shared_guard g(*a, 50us);
            static_cast<void>(a->read_at(0, buf, sizeof buf));
        }
        {
            unique_guard g(*a, 50us);
            if (g.status() == errc::owner_dead) a->mark_consistent();
            static_cast<void>(a->write_at(static_cast<std::size_t>(i % 4000), buf, 8));
        }
        typed_view v(*b, 50us);
        static_cast<void>(v.write<std::uint64_t>(static_cast<std::uint64_t>(i)));
        static_cast<void>(v.read<std::uint64_t>());
        reopen_every<block>(i, 53, *b, [&] { return block::open(name.c_str(), options); });
        reopen_every<block>(i, 97, *a, [&] { return block::open(name.c_str(), options); });
    });
}

template <class Writer, class Reader>
void attack_slots(const char* name, Writer& w, const std::function<result<Reader>()>& open_reader,
                  const std::function<result<Writer>()>& open_writer, std::uint64_t hot) {
    auto r1 = open_reader();
    ASSERT_TRUE(r1);
    auto r2 = open_reader();
    ASSERT_TRUE(r2);
    std::vector<std::uint8_t> buf(w.slot_capacity() + 64);
    under_attack(name, hot, [&](int i) {
        static_cast<void>(w.write(buf.data(), static_cast<std::size_t>(i) % (w.slot_capacity() + 1)));
        if (auto res = w.reserve()) {
            if (i % 2 == 0) res->commit(static_cast<std::size_t>(i) % (res->size() + 1));
        }
        w.heartbeat();
        static_cast<void>(r1->latest(buf.data(), buf.size()));
        static_cast<void>(r1->try_next(buf.data(), buf.size()));
        static_cast<void>(r2->next(buf.data(), buf.size(), 20us));
        static_cast<void>(r2->wait_latest(buf.data(), buf.size(), 20us));
        if (auto v = r1->view_latest()) static_cast<void>(v->valid());
        if (auto v = r2->view_next()) static_cast<void>(v->valid());
        static_cast<void>(r1->poll());
        static_cast<void>(r2->fresh());
        static_cast<void>(r1->heartbeat_age_ns());
        reopen_every<Reader>(i, 97, *r1, open_reader);
        reopen_every<Writer>(i, 101, w, open_writer);
    });
}

TEST(Hostile, Stream) {
    unique_name name("hostile-stream");
    stream_config config;
    config.type = dtype::bytes;
    config.ndim = 0;
    config.max_bytes = 256;
    config.slots = 4;
    auto w = stream_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    attack_slots<stream_writer, stream_reader>(
        name.c_str(), *w, [&] { return stream_reader::open(name.c_str()); },
        [&] { return stream_writer::open(name.c_str()); }, slot_headers_offset + 4 * sizeof(slot_header));
}

TEST(Hostile, Video) {
    unique_name name("hostile-video");
    video_config config;
    config.width = 16;
    config.height = 8;
    config.format = pixel_format::nv12;
    config.slots = 3;
    auto w = video_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    attack_slots<video_writer, video_reader>(
        name.c_str(), *w, [&] { return video_reader::open(name.c_str()); },
        [&] { return video_writer::open(name.c_str()); }, slot_headers_offset + 3 * sizeof(slot_header));
}

TEST(Hostile, Audio) {
    unique_name name("hostile-audio");
    audio_config config;
    config.buffer_us = 1000;
    config.slots = 4;
    auto w = audio_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    attack_slots<audio_writer, audio_reader>(
        name.c_str(), *w, [&] { return audio_reader::open(name.c_str()); },
        [&] { return audio_writer::open(name.c_str()); }, slot_headers_offset + 4 * sizeof(slot_header));
}

TEST(Hostile, Kv) {
    unique_name name("hostile-kv");
    const char* keys[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
    kv_config config;
    config.max_key = 8;
    config.max_value = 24;
    kv_options options;
    options.read_retries = 20;
    options.lock.liveness_period_ns = 20'000;
    auto a = kv_store::create(name.c_str(), keys, 5, config, options);
    ASSERT_TRUE(a);
    auto b = kv_store::open(name.c_str(), options);
    ASSERT_TRUE(b);
    char buf[64];
    under_attack(name.c_str(), 1 << 16, [&](int i) {
        const auto k = static_cast<std::uint32_t>(i % 6);  // 5 is out of range
        static_cast<void>(a->set(k, buf, static_cast<std::size_t>(i % 30), 50us));
        static_cast<void>(b->set(keys[i % 5], "x", 1, 50us));
        static_cast<void>(b->get(k, buf, sizeof buf));
        static_cast<void>(a->get(keys[(i + 2) % 5], buf, 4));
        std::size_t length = 0;
        if (const char* n = b->key_name(k, &length)) static_cast<void>(b->find(n, length));
        std::uint32_t changed[8];
        std::uint64_t now = 0;
        static_cast<void>(a->changed_since(static_cast<std::uint64_t>(i), changed, 8, &now));
        static_cast<void>(b->wait_change(now, 10us));
        reopen_every<kv_store>(i, 97, *b, [&] { return kv_store::open(name.c_str(), options); });
    });
}

}  // namespace
}  // namespace shmkit
