// Model checks of the core's memory ordering: the real core code (compiled with
// SHMKIT_MODEL_CHECK, model.hpp) run by the Relacy race detector over many thread schedules
// under the C++ memory model. Each check states what must never happen; a failure prints the
// schedule that led to it. `shmkit_model_checks NAME [iterations]` runs one, `all` runs all.
//
// The threads are processes of the real protocols: a writer and a reader of a slot ring, of a
// broadcast ring, the two ends of an spsc queue, command writers and their reader, lockers of the
// block rwlock and the robust lock, a kv writer and reader, and waiters and notifiers of a wait
// word (with a third party healing its waiter count). Every check uses small parameters (two or
// three slots, a 256-byte ring, a few messages), which is where orderings go wrong.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

// shmkit's headers before Relacy's, which defines `new` and `delete` as macros.
#include "shmkit/block.hpp"
#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/detail/robust_lock.hpp"
#include "shmkit/detail/wait.hpp"
#include "shmkit/kv.hpp"
#include "shmkit/spsc.hpp"
#include "shmkit/stream.hpp"
//
#include "model.hpp"

namespace model_check {
namespace {

using namespace shmkit;

// Nothing spins in the model: a spin is only a way to avoid a sleep, and the checker explores
// sleeping and waking instead.
wait_options no_spin() {
    wait_options o;
    o.spin = 0;
    return o;
}

// A payload whose every 8-byte word is `v`: a torn copy shows two different words.
template <std::size_t Words>
struct payload {
    std::uint64_t words[Words];
    explicit payload(std::uint64_t v = 0) {
        for (auto& w : words) w = v;
    }
    bool uniform() const {
        for (auto w : words) {
            if (w != words[0]) return false;
        }
        return true;
    }
};

// ---- wait word: no lost wake-up, with heals ----------------------------------------------------

// A waiter sleeps (no timeout) until a flag is set; a notifier sets it and notifies; a third
// process heals the waiter count at any moment (as a notify that woke nobody would). A lost
// wake-up leaves the waiter asleep forever: the checker reports it as a deadlock.
// Fails (tried) without: the waiter's heavy barrier, the notifier's light barrier, the epoch
// check after announcing, the heal's wake-up, the heal's release bump, the waiter's acquire load
// of the sequence.
struct wait_notify : rl::test_suite<wait_notify, 3> {
    shadowed_memory<64> m;
    wait_word* word() { return reinterpret_cast<wait_word*>(m.bytes); }
    atomic_u32* flag() { return reinterpret_cast<atomic_u32*>(m.bytes + 16); }

    void before() {
        m.begin_setup();
        m.end_setup();
    }
    void thread(unsigned index) {
        if (index == 0) {
            const errc e = wait_until(*word(), barrier_mode::fences,
                                      [&] { return flag()->load(order::acquire) == 1; }, os::forever, no_spin());
            RL_ASSERT(e == errc::ok);
            RL_ASSERT(flag()->load(order::relaxed) == 1);
        } else if (index == 1) {
            flag()->store(1, order::release);
            notify_all(*word(), barrier_mode::fences);
        } else {
            heal_waiters(*word());
        }
    }
};

// ---- slot ring: no torn sample is ever accepted ------------------------------------------------

constexpr std::size_t sample_words = 2;

stream_config tiny_stream() {
    stream_config c;
    c.type = dtype::uint64;
    c.ndim = 1;
    c.shape[0] = sample_words;
    c.slots = 2;  // the writer laps the reader at once
    return c;
}

// A writer publishes three samples into a two-slot ring (each sample's words all equal its
// number + 1) while a reader takes latest() and try_next(), copies and zero-copy views: whatever
// it accepts is whole. A sample it accepts as number n holds n + 1 in every word.
// Fails without: the writer's release fence after the odd mark, the reader's acquire fence
// before its re-check. (The even mark's release and its acquire load are not needed here: the
// committed counter's release/acquire already orders a sample before its readers.)
struct slot_seqlock : rl::test_suite<slot_seqlock, 2> {
    shadowed_memory<1024> m;
    std::uint64_t size = 0;

    void before() {
        m.begin_setup();
        size = stream_writer::segment_size(tiny_stream());
        RL_ASSERT(size != 0 && size <= m.size);
        auto w = stream_writer::format(m.bytes, size, tiny_stream());
        RL_ASSERT(w.ok());
        w->close();
        m.end_setup();
    }
    static void check(const payload<sample_words>& p, const sample_info& info) {
        RL_ASSERT(p.uniform());
        RL_ASSERT(p.words[0] == info.index + 1);
    }
    void thread(unsigned index) {
        if (index == 0) {
            auto w = stream_writer::attach(m.bytes, size);
            RL_ASSERT(w.ok());
            for (std::uint64_t i = 0; i < 3; ++i) {
                const payload<sample_words> p(i + 1);
                RL_ASSERT(w->write(p.words, sizeof p.words) == errc::ok);
            }
        } else {
            auto r = stream_reader::attach(m.bytes, size);
            RL_ASSERT(r.ok());
            for (int i = 0; i < 2; ++i) {
                payload<sample_words> p;
                if (auto s = r->latest(p.words, sizeof p.words)) check(p, *s);
                if (auto s = r->try_next(p.words, sizeof p.words)) check(p, *s);
                if (auto v = r->view_latest()) {
                    payload<sample_words> copy;
                    copy_from_shared(copy.words, v->data, sizeof copy.words);
                    if (v->valid()) check(copy, v->info);
                }
            }
        }
    }
};

// ---- broadcast: records are published whole, in order, and lapped readers are told ------------

// The broadcast checks' segment: the smallest ring, formatted before the threads start.
std::uint64_t format_broadcast(shadowed_memory<640>& m) {
    m.begin_setup();
    broadcast_config c;
    c.capacity = min_ring_capacity;
    const std::uint64_t size = broadcast_writer::segment_size(c);
    auto w = broadcast_writer::format(m.bytes, size, c);
    RL_ASSERT(w.ok());
    w->close();
    m.end_setup();
    return size;
}

// A writer publishes eight messages of 16 to 48 bytes into a 256-byte ring, so it laps the
// reader, wraps (pad records, the end marker) and evicts in batches; a reader that starts at
// the oldest message and keeps reading accepts only whole messages, with sequence numbers in
// order, each holding its sequence number + 1 in every word, and is told with each message
// exactly how many it skipped. Fails if a record header is stored without release.
struct broadcast_ring : rl::test_suite<broadcast_ring, 2> {
    shadowed_memory<640> m;
    std::uint64_t size = 0;

    void before() { size = format_broadcast(m); }
    static std::size_t size_of(std::uint64_t seq) { return 16 + 16 * (seq % 3); }
    void thread(unsigned index) {
        if (index == 0) {
            auto w = broadcast_writer::attach(m.bytes, size);
            RL_ASSERT(w.ok());
            for (std::uint64_t i = 0; i < 8; ++i) {
                payload<6> p(i + 1);
                RL_ASSERT(w->write(p.words, size_of(i)) == errc::ok);
            }
        } else {
            broadcast_reader_options o;
            o.wait = no_spin();
            o.from_oldest = true;
            auto r = broadcast_reader::attach(m.bytes, size, o);
            RL_ASSERT(r.ok());
            std::uint64_t expected = r->next_seq();
            for (int i = 0; i < 8; ++i) {
                payload<6> p;
                auto msg = r->try_read(p.words, sizeof p.words);
                if (msg) {
                    // A lap is reported with the message after it: the oldest intact one.
                    RL_ASSERT(msg->seq == expected + msg->lost);
                    RL_ASSERT(r->lost() == msg->lost);
                    RL_ASSERT(msg->size == size_of(msg->seq));
                    for (std::size_t w = 0; w < msg->size / 8; ++w) RL_ASSERT(p.words[w] == msg->seq + 1);
                    expected = msg->seq + 1;
                } else {
                    // Nothing new (a lap found with nothing after it yet is counted for the next
                    // message, where the check above accounts for it).
                    RL_ASSERT(msg.error() == errc::empty);
                }
            }
        }
    }
};

// skip(): a writer publishes a message, skips three numbers, publishes two more, while a reader
// attaches at the head (the ordinary attach: head, next_seq, head) and reads. Whatever moment it
// attaches, it must read only whole messages in order and account for every number from the one
// it expected at attach: seq == expected + lost, never invalid_layout. (skip()'s store of next_seq
// must be a release for a reader not to pair the skipped-to number with an older head; this
// bounded search does not produce that pairing, so with a relaxed store it still passes: that
// ordering is argued in skip(), not checked here.)
struct broadcast_skip : rl::test_suite<broadcast_skip, 2> {
    shadowed_memory<640> m;
    std::uint64_t size = 0;

    void before() { size = format_broadcast(m); }
    void thread(unsigned index) {
        if (index == 0) {
            auto w = broadcast_writer::attach(m.bytes, size);
            RL_ASSERT(w.ok());
            payload<2> p(1);
            RL_ASSERT(w->write(p.words, 16) == errc::ok);
            RL_ASSERT(w->skip(3) == errc::ok);
            for (std::uint64_t seq = 4; seq < 6; ++seq) {
                payload<2> q(seq + 1);
                RL_ASSERT(w->write(q.words, 16) == errc::ok);
            }
        } else {
            broadcast_reader_options o;
            o.wait = no_spin();
            auto r = broadcast_reader::attach(m.bytes, size, o);
            RL_ASSERT(r.ok());
            std::uint64_t expected = r->next_seq();
            for (int i = 0; i < 4; ++i) {
                payload<2> p;
                auto msg = r->try_read(p.words, sizeof p.words);
                if (msg) {
                    RL_ASSERT(msg->seq == expected + msg->lost);
                    RL_ASSERT(msg->seq == 0 || msg->seq >= 4);
                    for (std::size_t w = 0; w < 2; ++w) RL_ASSERT(p.words[w] == msg->seq + 1);
                    expected = msg->seq + 1;
                } else {
                    RL_ASSERT(msg.error() == errc::empty);
                }
            }
        }
    }
};

// The same ring, with the writer lapping a reader in the middle of a read. The sizes make the
// second lap's records straddle the first lap's: the 16-byte fifth message shifts the sixth so
// that its payload covers the second message's header and part of its payload, and the sixth
// message's payload is hostile: where the second message's header was, it holds what looks like
// a pad record of the first lap. A reader that read the first message, was paused while the
// writer lapped it, and now reads the second must notice (the tail moved past it) instead of
// accepting a message half old, half new, or taking the payload for a pad and losing its place
// (it would then report the segment corrupt). Every schedule with up to two preemptions.
// Fails without: the reader's acquire fence after the payload copy, the one after the header
// load, the writer's release fence after moving the tail.
struct broadcast_lap : rl::test_suite<broadcast_lap, 2> {
    shadowed_memory<640> m;
    std::uint64_t size = 0;
    static constexpr std::size_t sizes[6] = {48, 48, 48, 48, 16, 48};

    // Word w of message `seq`: seq + 1, but for the sixth message's third and fourth words: a pad
    // record's header of lap 0 at ring offset 64 (192 bytes to the end, type pad, sequence 1).
    static std::uint64_t word(std::uint64_t seq, std::size_t w) {
        if (seq == 5 && w == 2) return 192 | (std::uint64_t{2} << 32);
        if (seq == 5 && w == 3) return 1;
        return seq + 1;
    }
    void before() { size = format_broadcast(m); }
    void thread(unsigned index) {
        if (index == 0) {
            auto w = broadcast_writer::attach(m.bytes, size);
            RL_ASSERT(w.ok());
            for (std::uint64_t i = 0; i < 6; ++i) {
                payload<6> p;
                for (std::size_t k = 0; k < 6; ++k) p.words[k] = word(i, k);
                RL_ASSERT(w->write(p.words, sizes[i]) == errc::ok);
            }
        } else {
            broadcast_reader_options o;
            o.from_oldest = true;
            auto r = broadcast_reader::attach(m.bytes, size, o);
            RL_ASSERT(r.ok());
            for (int i = 0; i < 3; ++i) {
                payload<6> p;
                auto msg = r->try_read(p.words, sizeof p.words);
                if (msg) {
                    RL_ASSERT(msg->size == sizes[msg->seq]);
                    for (std::size_t w = 0; w < msg->size / 8; ++w) RL_ASSERT(p.words[w] == word(msg->seq, w));
                } else {
                    RL_ASSERT(msg.error() == errc::empty);
                }
            }
        }
    }
};

// ---- spsc: every message, whole and in order ------------------------------------------------

// A producer pushes five messages of 16 to 48 bytes into a 256-byte queue (so it fills, waits
// for room and wraps); the consumer pops until it has them all, copying and zero-copy: each is
// whole, in order, none lost or repeated. Both sides block: a lost wake-up is a deadlock.
// Fails without the release on head or the acquire that reads it. (The release on tail, which
// orders the consumer's reads before the producer reuses the space, is beyond the checker: it
// does not model a load reading a later store.)
struct spsc_queue : rl::test_suite<spsc_queue, 2> {
    shadowed_memory<640> m;
    std::uint64_t size = 0;
    static std::size_t size_of(std::uint64_t seq) { return 16 + 16 * (seq % 3); }

    void before() {
        m.begin_setup();
        spsc_config c;
        c.capacity = min_ring_capacity;
        size = spsc_producer::segment_size(c);
        auto p = spsc_producer::format(m.bytes, size, c);
        RL_ASSERT(p.ok());
        p->close();
        m.end_setup();
    }
    void thread(unsigned index) {
        spsc_options o;
        o.wait = no_spin();
        if (index == 0) {
            auto p = spsc_producer::attach(m.bytes, size, o);
            RL_ASSERT(p.ok());
            for (std::uint64_t i = 0; i < 5; ++i) {
                const payload<6> msg(i + 1);
                RL_ASSERT(p->push(msg.words, size_of(i)) == errc::ok);
            }
        } else {
            auto c = spsc_consumer::attach(m.bytes, size, o);
            RL_ASSERT(c.ok());
            for (std::uint64_t i = 0; i < 5; ++i) {
                payload<6> msg;
                std::uint64_t seq = 0;
                std::size_t got = 0;
                if (i % 2 == 0) {
                    auto m1 = c->pop(msg.words, sizeof msg.words);
                    RL_ASSERT(m1.ok());
                    seq = m1->seq;
                    got = m1->size;
                } else {
                    auto v = c->peek();
                    RL_ASSERT(v.ok());
                    seq = v->seq;
                    got = v->size;
                    copy_from_record(msg.words, v->data, v->size);
                    c->release();
                }
                RL_ASSERT(seq == i);
                RL_ASSERT(got == size_of(i));
                for (std::size_t w = 0; w < got / 8; ++w) RL_ASSERT(msg.words[w] == i + 1);
            }
        }
    }
};

// ---- command: every committed command, whole, once -----------------------------------------

// Two writers claim and commit two commands each into a 256-byte ring (one copies, one fills a
// reservation in place); the reader takes all four: each whole and delivered once, and each
// writer's in the order it wrote them. Fails without the release on head at a claim or the
// reader's acquire of it.
struct command_ring : rl::test_suite<command_ring, 3> {
    shadowed_memory<640> m;
    std::uint64_t size = 0;

    void before() {
        m.begin_setup();
        command_config c;
        c.capacity = min_ring_capacity;
        size = command_reader::segment_size(c);
        auto r = command_reader::format(m.bytes, size, c);
        RL_ASSERT(r.ok());
        r->close();
        m.end_setup();
    }
    void thread(unsigned index) {
        command_options o;
        o.wait = no_spin();
        o.lock.spin = 0;
        if (index < 2) {
            auto w = command_writer::attach(m.bytes, size, o);
            RL_ASSERT(w.ok());
            for (std::uint64_t i = 0; i < 2; ++i) {
                const payload<4> msg(10 * (index + 1) + i);  // writer 0: 10, 11; writer 1: 20, 21
                if (index == 0) {
                    RL_ASSERT(w->write(msg.words, 16 + 16 * i) == errc::ok);
                } else {
                    auto res = w->reserve(16 + 16 * i);
                    RL_ASSERT(res.ok());
                    copy_to_record(res->data(), msg.words, 16 + 16 * i);
                    res->commit();
                }
            }
        } else {
            auto r = command_reader::attach(m.bytes, size, o);
            RL_ASSERT(r.ok());
            std::uint64_t next[2] = {10, 20};
            for (int i = 0; i < 4; ++i) {
                payload<4> msg;
                auto c = r->read(msg.words, sizeof msg.words);
                RL_ASSERT(c.ok());
                const std::uint64_t v = msg.words[0];
                const unsigned from = v >= 20 ? 1 : 0;
                RL_ASSERT(v == next[from]);  // each writer's in order, none twice
                RL_ASSERT(c->size == 16 + 16 * (v % 10));
                for (std::size_t w = 0; w < c->size / 8; ++w) RL_ASSERT(msg.words[w] == v);
                ++next[from];
            }
        }
    }
};

// ---- block rwlock: readers never see a writer's half-done update ----------------------------

// Two writers each update two data words (under the write lock) to a value of their own; a
// reader takes read locks and must always see the two words equal. Every process owns a reader
// slot. Fails without the writer's heavy barrier between claiming and scanning the reader
// slots, or the reader's light barrier between counting itself and checking for a writer.
struct block_rwlock : rl::test_suite<block_rwlock, 3> {
    shadowed_memory<8192> m;
    std::uint64_t size = 0;
    std::uint64_t* data() { return reinterpret_cast<std::uint64_t*>(m.bytes + size - 16); }

    static block_config config() {
        block_config c;
        c.size = 16;
        c.reader_slots = 3;
        return c;
    }
    void before() {
        m.begin_setup();
        size = block::segment_size(config());
        RL_ASSERT(size != 0 && size <= m.size);
        auto b = block::format(m.bytes, size, config());
        RL_ASSERT(b.ok());
        b->close();
        m.end_setup();
    }
    void thread(unsigned index) {
        block_options o;
        o.lock.spin = 0;
        auto b = block::attach(m.bytes, size, o);
        RL_ASSERT(b.ok());
        RL_ASSERT(b->data() == reinterpret_cast<std::uint8_t*>(data()));
        if (index < 2) {
            for (int i = 0; i < 2; ++i) {
                RL_ASSERT(b->lock() == errc::ok);
                store_shared(data(), std::uint64_t{index + 1}, order::relaxed);
                store_shared(data() + 1, std::uint64_t{index + 1}, order::relaxed);
                b->unlock();
            }
        } else {
            for (int i = 0; i < 3; ++i) {
                RL_ASSERT(b->lock_shared() == errc::ok);
                RL_ASSERT(load_shared(data(), order::relaxed) == load_shared(data() + 1, order::relaxed));
                b->unlock_shared();
            }
        }
    }
};

// ---- robust lock: mutual exclusion, and a dead holder's lock is recovered --------------------

// Two processes increment a two-word counter under the lock; a third takes the lock, starts an
// update (one word of two) and dies holding it. The others wait for it (a wait that only its
// death can end: the exit watch must wake them), then one gets owner_dead, repairs the counter
// and goes on; under the lock the two words always agree. Fails without the release of unlock,
// the acquire of lock, or if the lock wait ignores the exit watch (a deadlock).
struct robust_mutex : rl::test_suite<robust_mutex, 3> {
    shadowed_memory<64> m;
    robust_lock* lock_word() { return reinterpret_cast<robust_lock*>(m.bytes); }
    std::uint64_t* counter() { return reinterpret_cast<std::uint64_t*>(m.bytes + 32); }
    int recovered = 0;

    void before() {
        m.begin_setup();
        m.end_setup();
        recovered = 0;
    }
    void thread(unsigned index) {
        lock_options o;
        o.spin = 0;
        if (index == 2) {
            if (detail::lock(*lock_word(), barrier_mode::fences, os::forever, o) != errc::ok) return;
            store_shared(counter(), std::uint64_t{100}, order::relaxed);  // half an update
            die();  // holding the lock
            return;
        }
        for (int i = 0; i < 2; ++i) {
            const errc e = detail::lock(*lock_word(), barrier_mode::fences, os::forever, o);
            RL_ASSERT(e == errc::ok || e == errc::owner_dead);
            if (e == errc::owner_dead) {  // repair what the dead holder left half done
                ++recovered;
                store_shared(counter() + 1, load_shared(counter(), order::relaxed), order::relaxed);
            }
            const std::uint64_t a = load_shared(counter(), order::relaxed);
            RL_ASSERT(a == load_shared(counter() + 1, order::relaxed));
            store_shared(counter(), a + 1, order::relaxed);
            store_shared(counter() + 1, a + 1, order::relaxed);
            detail::unlock(*lock_word(), barrier_mode::fences);
        }
    }
    void after() { RL_ASSERT(recovered <= 1); }
};

// ---- kv: lock-free reads never return a torn value ------------------------------------------

// Two writers set one key to values of their own (three words each); a reader gets it and
// must see one whole value (or empty, or stale after its retries). Fails without the writer's
// release fence after the odd mark or the reader's acquire fence before its re-check.
struct kv_read : rl::test_suite<kv_read, 3> {
    shadowed_memory<1024> m;
    std::uint64_t size = 0;

    static kv_config config() {
        kv_config c;
        c.max_key = 4;
        c.max_value = 24;
        return c;
    }
    void before() {
        m.begin_setup();
        const char* keys[] = {"k"};
        size = kv_store::segment_size(keys, 1, config());
        RL_ASSERT(size != 0 && size <= m.size);
        auto kv = kv_store::format(m.bytes, size, keys, 1, config());
        RL_ASSERT(kv.ok());
        kv->close();
        m.end_setup();
    }
    void thread(unsigned index) {
        kv_options o;
        o.lock.spin = 0;
        o.read_retries = 3;
        auto kv = kv_store::attach(m.bytes, size, o);
        RL_ASSERT(kv.ok());
        if (index < 2) {
            for (std::uint64_t i = 0; i < 2; ++i) {
                const payload<3> v(10 * (index + 1) + i);
                RL_ASSERT(kv->set(0u, v.words, sizeof v.words, wait_forever) == errc::ok);
            }
        } else {
            for (int i = 0; i < 3; ++i) {
                payload<3> v;
                auto got = kv->get(0u, v.words, sizeof v.words);
                if (got) {
                    RL_ASSERT(got->size == sizeof v.words);
                    RL_ASSERT(v.uniform());
                } else {
                    RL_ASSERT(got.error() == errc::empty || got.error() == errc::stale);
                }
            }
        }
    }
};

// ---- kv: changed_since() with values never misses a value ----------------------------------

// A writer sets two keys twice each while a watcher calls changed_since() with values twice,
// passing on the epoch each call returns; one more call after both threads have finished must
// leave the watcher with each key's last value, whatever the schedule (stale reads included:
// such a call returns its `since` again). Fails if the epoch is read after the scan instead of
// before it, or if a call with a stale read returns the new epoch.
struct kv_changed_values : rl::test_suite<kv_changed_values, 2> {
    shadowed_memory<1024> m;
    std::uint64_t size = 0;
    std::uint64_t since = 0;
    std::uint64_t seen[2] = {0, 0};  // the newest value the watcher got of each key

    static kv_config config() {
        kv_config c;
        c.max_key = 4;
        c.max_value = 24;
        return c;
    }
    static constexpr const char* keys[] = {"a", "b"};
    static std::uint64_t value(std::uint32_t key, std::uint64_t round) { return 10 * (key + 1) + round; }

    void before() {
        m.begin_setup();
        size = kv_store::segment_size(keys, 2, config());
        RL_ASSERT(size != 0 && size <= m.size);
        auto kv = kv_store::format(m.bytes, size, keys, 2, config());
        RL_ASSERT(kv.ok());
        kv->close();
        m.end_setup();
    }
    void watch() {
        kv_options o;
        o.read_retries = 2;
        auto kv = kv_store::attach(m.bytes, size, o);
        RL_ASSERT(kv.ok());
        payload<3> v;
        auto n = kv->changed_since(since, v.words, sizeof v.words, &since,
                                   [&](std::uint32_t key, const result<kv_value_info>& got) {
                                       if (!got) {
                                           RL_ASSERT(got.error() == errc::stale);
                                           return;
                                       }
                                       RL_ASSERT(got->size == sizeof v.words && v.uniform());
                                       seen[key] = v.words[0];
                                   });
        RL_ASSERT(n.ok());
    }
    void thread(unsigned index) {
        if (index == 0) {
            kv_options o;
            o.lock.spin = 0;
            auto kv = kv_store::attach(m.bytes, size, o);
            RL_ASSERT(kv.ok());
            for (std::uint64_t round = 1; round <= 2; ++round) {
                for (std::uint32_t key = 0; key < 2; ++key) {
                    const payload<3> v(value(key, round));
                    RL_ASSERT(kv->set(key, v.words, sizeof v.words, wait_forever) == errc::ok);
                }
            }
        } else {
            watch();
            watch();
        }
    }
    void after() {
        watch();
        RL_ASSERT(seen[0] == value(0, 2) && seen[1] == value(1, 2));
    }
};

// ---- the checks ------------------------------------------------------------------------------

struct check {
    const char* name;
    bool (*run)(rl::test_params&);
    int iterations;              // for the random scheduler; 0: systematic (context bound)
    unsigned context_bound = 2;
};

template <class Suite>
bool run(rl::test_params& p) {
    return rl::simulate<Suite>(p);
}

const check checks[] = {
    {"wait_notify", &run<wait_notify>, 200000},
    {"slot_seqlock", &run<slot_seqlock>, 100000},
    {"broadcast_ring", &run<broadcast_ring>, 100000},
    {"broadcast_lap", &run<broadcast_lap>, 0, 2},
    {"broadcast_skip", &run<broadcast_skip>, 0, 2},
    {"spsc_queue", &run<spsc_queue>, 100000},
    {"command_ring", &run<command_ring>, 100000},
    {"block_rwlock", &run<block_rwlock>, 100000},
    {"robust_mutex", &run<robust_mutex>, 100000},
    {"kv_read", &run<kv_read>, 100000},
    {"kv_changed_values", &run<kv_changed_values>, 100000},
};

}  // namespace
}  // namespace model_check

int main(int argc, char** argv) {
    using namespace model_check;
    const std::string which = argc > 1 ? argv[1] : "all";
    const long iterations = argc > 2 ? std::atol(argv[2]) : 0;
    bool found = false, ok = true;
    for (const check& c : checks) {
        if (which != "all" && which != c.name) continue;
        found = true;
        rl::test_params p;
        if (c.iterations == 0) {
            p.search_type = rl::sched_bound;
            p.context_bound = c.context_bound;
            if (const char* bound = std::getenv("MODEL_CONTEXT_BOUND")) p.context_bound = static_cast<unsigned>(std::atoi(bound));
        }
        p.iteration_count = iterations > 0 ? static_cast<rl::iteration_t>(iterations) : c.iterations;
        p.progress_output_period = 1000000;
        p.execution_depth_limit = 50000;  // the block check's setup alone stores 4096 shadows
        std::printf("== %s: %s\n", c.name,
                    c.iterations == 0 ? "every schedule within the context bound"
                                      : (std::to_string(p.iteration_count) + " random schedules").c_str());
        std::fflush(stdout);
        if (!c.run(p)) {
            std::printf("== %s: FAILED at iteration %lu\n", c.name, static_cast<unsigned long>(p.stop_iteration));
            ok = false;
        }
    }
    if (!found) {
        std::fprintf(stderr, "usage: %s [all|check-name] [iterations]\n", argv[0]);
        return 2;
    }
    return ok ? 0 : 1;
}
