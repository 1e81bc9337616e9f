#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/detail/role.hpp"
#include "shmkit/kv.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::unique_name;
using namespace std::chrono_literals;

struct Kv : ::testing::Test {
    unique_name name{"kv"};
    kv_store owner;
    void SetUp() override {
        const char* keys[] = {"mode", "count", "status"};
        kv_config c;
        c.max_key = 16;
        c.max_value = 64;
        auto kv = kv_store::create(name.c_str(), keys, 3, c);
        ASSERT_TRUE(kv) << to_string(kv.error());
        owner = std::move(kv).value();
    }
    std::string get(kv_store& kv, const char* key, errc* error = nullptr) {
        char buf[64];
        auto v = kv.get(key, buf, sizeof buf);
        if (error) *error = v ? errc::ok : v.error();
        return v ? std::string(buf, v->size) : std::string();
    }
};

TEST_F(Kv, SchemaIsFixedAndNamesAreUnique) {
    EXPECT_EQ(owner.key_count(), 3u);
    EXPECT_EQ(*owner.find("status"), 2u);
    EXPECT_EQ(owner.find("nope").error(), errc::not_found);
    std::size_t len = 0;
    const char* key = owner.key_name(1, &len);
    EXPECT_EQ(std::string(key, len), "count");
    unique_name other("kv-dup");
    const char* dup[] = {"a", "b", "a"};
    EXPECT_EQ(kv_store::create(other.c_str(), dup, 3).error(), errc::already_exists);
    const char* empty[] = {""};
    EXPECT_EQ(kv_store::create(other.c_str(), empty, 1).error(), errc::invalid_argument);
    const char* long_key[] = {"a-key-longer-than-sixteen-bytes"};
    kv_config c;
    c.max_key = 16;
    EXPECT_EQ(kv_store::create(other.c_str(), long_key, 1, c).error(), errc::invalid_argument);
}

// The bucket of a key is part of the wire format: every process, and every implementation of
// core/SPEC.md, must compute the same hash (FNV-1a-64 with the standard offset basis).
TEST(KvWire, TheNameHashIsTheFnv1a64OfTheSpec) {
    EXPECT_EQ(kv_name_hash("", 0), 0xcbf29ce484222325ull);
    EXPECT_EQ(kv_name_hash("a", 1), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(kv_name_hash("foobar", 6), 0x85944171f73967e8ull);
}

TEST(KvScale, ManyKeysAreCheckedForDuplicatesInLinearTime) {
    // 200,000 keys: a pairwise duplicate check (2 * 10^10 comparisons) would not finish within
    // the test's timeout; the hash check takes milliseconds.
    constexpr std::uint32_t n = 200'000;
    std::vector<std::string> names(n);
    std::vector<const char*> keys(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        names[i] = "key-" + std::to_string(i);
        keys[i] = names[i].c_str();
    }
    kv_config c;
    c.max_key = 16;
    c.max_value = 8;
    unique_name name("kv-many");
    {
        auto kv = kv_store::create(name.c_str(), keys.data(), n, c);
        ASSERT_TRUE(kv) << to_string(kv.error());
        EXPECT_EQ(*kv->find("key-0"), 0u);
        EXPECT_EQ(*kv->find("key-199999"), n - 1);
        EXPECT_EQ(kv->epoch(), 0u);  // the scratch table left no trace
        std::uint32_t changed[1];
        std::uint64_t now = 0;
        EXPECT_EQ(*kv->changed_since(0, changed, 1, &now), 0u);
    }
    ASSERT_EQ(segment::remove(name.c_str()), errc::ok);
    names[n - 1] = "key-123456";  // one duplicate, far from its twin
    keys[n - 1] = names[n - 1].c_str();
    EXPECT_EQ(kv_store::create(name.c_str(), keys.data(), n, c).error(), errc::already_exists);
    EXPECT_EQ(segment::remove(name.c_str()), errc::not_found);  // nothing left behind
}

TEST(KvMemory, FormatsCallerGivenMemory) {
    const char* keys[] = {"a", "b", "c"};
    const std::uint64_t size = kv_store::segment_size(keys, 3);
    ASSERT_GT(size, 0u);
    std::vector<std::uint8_t> storage(size + 64);
    auto* p = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) / 64 * 64);
    auto kv = kv_store::format(p, size, keys, 3);
    ASSERT_TRUE(kv) << to_string(kv.error());
    ASSERT_EQ(kv->set("b", "bee", 3), errc::ok);
    auto other = kv_store::attach(p, size);
    ASSERT_TRUE(other);
    char buf[8];
    auto v = other->get("b", buf, sizeof buf);
    ASSERT_TRUE(v);
    EXPECT_EQ(std::string(buf, v->size), "bee");
    const char* dup[] = {"a", "a"};
    EXPECT_EQ(kv_store::format(p, kv_store::segment_size(dup, 2), dup, 2).error(), errc::already_exists);
    EXPECT_EQ(kv_store::format(p, size - 64, keys, 3).error(), errc::invalid_argument);
}

TEST_F(Kv, AttachesToCallerGivenMemory) {
    ASSERT_EQ(owner.set("mode", "auto", 4), errc::ok);
    test::raw_mapping memory(name.c_str());
    auto kv = kv_store::attach(memory.base(), memory.size());
    ASSERT_TRUE(kv) << to_string(kv.error());
    EXPECT_EQ(get(*kv, "mode"), "auto");
    ASSERT_EQ(kv->set("count", "7", 1), errc::ok);
    EXPECT_EQ(get(owner, "count"), "7");
    EXPECT_EQ(kv_store::attach(memory.base() + 64, memory.size() - 64).error(), errc::invalid_layout);
}

TEST_F(Kv, KeyLengthRewrittenByAPeerStaysInsideTheKeyArea) {
    std::size_t len = 0;
    const char* status = owner.key_name(2, &len);
    ASSERT_EQ(len, 6u);
    // A hostile peer rewrites the immutable length after attach: 17 is one past max_key (16).
    auto* stored = reinterpret_cast<std::uint32_t*>(const_cast<char*>(status) - sizeof(kv_entry) +
                                                    offsetof(kv_entry, key_length));
    *stored = 17;
    owner.key_name(2, &len);
    EXPECT_EQ(len, 16u);
    // "status", the rest of the key area (zeros) and the first value byte (zero): a match only
    // if the comparison runs past the key area.
    const std::string beyond = std::string("status") + std::string(11, '\0');
    EXPECT_EQ(owner.find(beyond.data(), beyond.size()).error(), errc::not_found);
    *stored = 6;
}

TEST_F(Kv, ValuesAreBytesWithExplicitLengths) {
    auto peer = kv_store::open(name.c_str());
    ASSERT_TRUE(peer);
    errc e;
    get(*peer, "mode", &e);
    EXPECT_EQ(e, errc::empty);  // never written
    const std::string with_nul("a\0b", 3);
    ASSERT_EQ(peer->set("mode", with_nul.data(), with_nul.size()), errc::ok);
    EXPECT_EQ(get(owner, "mode"), with_nul);  // embedded NUL kept
    std::string big(65, 'x');
    EXPECT_EQ(owner.set("mode", big.data(), big.size()), errc::message_too_large);  // refused...
    EXPECT_EQ(get(owner, "mode"), with_nul);                                        // ...not truncated
    ASSERT_EQ(owner.set("mode", "", 0), errc::ok);
    EXPECT_EQ(get(owner, "mode", &e), "");
    EXPECT_EQ(e, errc::ok);
    char tiny[1];
    ASSERT_EQ(owner.set("mode", "abc", 3), errc::ok);
    EXPECT_EQ(owner.get(0u, tiny, sizeof tiny).error(), errc::message_too_large);
    EXPECT_EQ(owner.pending_size(), 3u);
    EXPECT_EQ(owner.set(7, "x", 1), errc::out_of_range);
}

TEST_F(Kv, EpochsSayExactlyWhatChanged) {
    EXPECT_EQ(owner.epoch(), 0u);
    ASSERT_EQ(owner.set("mode", "auto", 4), errc::ok);
    ASSERT_EQ(owner.set("status", "ready", 5), errc::ok);
    EXPECT_EQ(owner.epoch(), 2u);
    std::uint32_t changed[3];
    std::uint64_t now;
    auto n = owner.changed_since(0, changed, 3, &now);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2u);
    EXPECT_EQ(changed[0], 0u);
    EXPECT_EQ(changed[1], 2u);
    EXPECT_EQ(now, 2u);
    ASSERT_EQ(owner.set("mode", "manual", 6), errc::ok);
    n = owner.changed_since(now, changed, 3, &now);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, 1u);
    EXPECT_EQ(changed[0], 0u);
    EXPECT_EQ(now, 3u);
    char buf[16];
    auto v = owner.get("mode", buf, sizeof buf);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->epoch, 3u);
    n = owner.changed_since(now, changed, 3, &now);
    EXPECT_EQ(*n, 0u);
}

// What changed_since() with values passes to its visitor, kept for the checks.
struct visited {
    std::uint32_t index;
    errc status;
    std::string value;
    std::uint64_t epoch;
};

std::vector<visited> changed_values(kv_store& kv, std::uint64_t since, std::uint64_t* current, char* buf,
                                    std::size_t capacity) {
    std::vector<visited> out;
    auto n = kv.changed_since(since, buf, capacity, current, [&](std::uint32_t index, const result<kv_value_info>& v) {
        out.push_back(v ? visited{index, errc::ok, std::string(buf, v->size), v->epoch}
                        : visited{index, v.error(), std::string(), 0});
    });
    EXPECT_TRUE(n) << to_string(n.error());
    if (n) {
        EXPECT_EQ(*n, out.size());
    }
    return out;
}

TEST_F(Kv, ChangedSinceGivesEachChangedKeyWithItsValueAndEpoch) {
    auto peer = kv_store::open(name.c_str());
    ASSERT_TRUE(peer);
    char buf[64];
    std::uint64_t now = 0;
    EXPECT_TRUE(changed_values(*peer, 0, &now, buf, sizeof buf).empty());
    EXPECT_EQ(now, 0u);
    ASSERT_EQ(owner.set("mode", "auto", 4), errc::ok);
    ASSERT_EQ(owner.set("status", std::string("re\0dy", 5).data(), 5), errc::ok);
    auto v = changed_values(*peer, 0, &now, buf, sizeof buf);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].index, 0u);
    EXPECT_EQ(v[0].status, errc::ok);
    EXPECT_EQ(v[0].value, "auto");
    EXPECT_EQ(v[0].epoch, 1u);
    EXPECT_EQ(v[1].index, 2u);
    EXPECT_EQ(v[1].value, std::string("re\0dy", 5));  // embedded NUL kept
    EXPECT_EQ(v[1].epoch, 2u);
    EXPECT_EQ(now, 2u);
    // Only what changed after `since`, with the value of its newest write.
    ASSERT_EQ(owner.set("mode", "manual", 6), errc::ok);
    ASSERT_EQ(owner.set("mode", "off", 3), errc::ok);
    v = changed_values(*peer, now, &now, buf, sizeof buf);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].index, 0u);
    EXPECT_EQ(v[0].value, "off");
    EXPECT_EQ(v[0].epoch, 4u);
    EXPECT_EQ(now, 4u);
    EXPECT_TRUE(changed_values(*peer, now, &now, buf, sizeof buf).empty());
    EXPECT_EQ(now, 4u);
}

TEST_F(Kv, ChangedSinceWithValuesReportsAValueTooLargeForTheBufferAndReadsItAgainNextTime) {
    ASSERT_EQ(owner.set("mode", "a-long-value", 12), errc::ok);
    ASSERT_EQ(owner.set("count", "7", 1), errc::ok);
    char buf[4];
    std::uint64_t now = 0;
    const auto v = changed_values(owner, 0, &now, buf, sizeof buf);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].status, errc::message_too_large);
    EXPECT_EQ(owner.pending_size(), 12u);
    EXPECT_EQ(v[1].status, errc::ok);
    EXPECT_EQ(v[1].value, "7");
    EXPECT_EQ(now, 0u);  // `since` again: the next call reads "mode" again
    const auto again = changed_values(owner, now, &now, buf, sizeof buf);
    ASSERT_EQ(again.size(), 2u);
    char big[16];
    const auto fits = changed_values(owner, 0, &now, big, sizeof big);
    ASSERT_EQ(fits.size(), 2u);
    EXPECT_EQ(fits[0].value, "a-long-value");
    EXPECT_EQ(now, 2u);
}

// Sets "count" a moment after opening, while the owner waits for any change.
SHMKIT_TEST_ROLE(kv_set_count_later) {
    auto kv = kv_store::open(args.text(0).c_str());
    if (!kv) return 1;
    os::sleep_ns(2'000'000);
    return kv->set("count", "1", 1) == errc::ok ? 0 : 2;
}

TEST_F(Kv, WaitForAnyChangeAcrossProcesses) {
    EXPECT_EQ(owner.wait_change(0, 1ms), errc::timeout);
    child writer("kv_set_count_later", {name.c_str()});
    EXPECT_EQ(owner.wait_change(0, wait_forever), errc::ok);
    EXPECT_EQ(get(owner, "count"), "1");
    EXPECT_EQ(writer.wait(), 0);
}

// Leaves its identity behind and exits: a process id that is certainly dead once reaped.
SHMKIT_TEST_ROLE(kv_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

TEST_F(Kv, KeyWhoseWriterDiedMidWriteIsStaleThenRecovered) {
    ASSERT_EQ(owner.set("status", "ok", 2), errc::ok);
    auto s = segment::open(name.c_str(), kind::kv, kv_header_size, os::access::read_write);
    ASSERT_TRUE(s);
    auto* e = reinterpret_cast<kv_entry*>(s->base() + kv_entries_offset + 2 * ((sizeof(kv_entry) + 16 + 64 + 63) / 64 * 64));
    shared<os::process_id> dead_id;
    child d("kv_record_identity", {dead_id.name()});
    ASSERT_EQ(d.wait(), 0);
    // The state a writer killed mid-write leaves: its lock held, the sequence odd.
    e->lock.owner.store(pack_process(*dead_id), order::relaxed);
    e->seq.store(e->seq.load(order::relaxed) | 1, order::relaxed);
    kv_options quick;
    quick.read_retries = 50;
    auto peer = kv_store::open(name.c_str(), quick);
    ASSERT_TRUE(peer);
    char buf[16];
    EXPECT_EQ(peer->get("status", buf, sizeof buf).error(), errc::stale);  // says so, never torn
    // changed_since() with values reports the key (it looks written right now) as stale too,
    // reads the other keys, and gives `since` back as the epoch to pass next time.
    const std::uint64_t since = peer->epoch();
    ASSERT_EQ(owner.set("mode", "auto", 4), errc::ok);
    std::uint64_t now = 0;
    const auto v = changed_values(*peer, since, &now, buf, sizeof buf);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].index, 0u);
    EXPECT_EQ(v[0].value, "auto");
    EXPECT_EQ(v[1].index, 2u);
    EXPECT_EQ(v[1].status, errc::stale);
    EXPECT_EQ(now, since);
    ASSERT_EQ(peer->set("status", "again", 5), errc::ok);                  // the next writer recovers it
    EXPECT_EQ(get(*peer, "status"), "again");
    kv_info info;
    ASSERT_EQ(inspect_kv(s->base(), s->size(), &info), errc::ok);
    EXPECT_EQ(info.recoveries, 1u);
}

TEST(KvLayout, EveryAtomicIsAlignedForAnyKeyAndValueSize) {
    for (std::uint32_t k : {1u, 3u, 17u, 100u}) {
        for (std::uint32_t v : {0u, 1u, 5u, 63u, 1000u}) {
            unique_name name("kv-align");
            const char* keys[] = {"a", "b", "c"};
            kv_config c;
            c.max_key = k;
            c.max_value = v;
            auto kv = kv_store::create(name.c_str(), keys, 3, c);
            ASSERT_TRUE(kv) << k << " " << v;
            auto s = segment::open(name.c_str(), kind::kv, kv_header_size, os::access::read_only);
            ASSERT_TRUE(s);
            kv_info info;
            ASSERT_EQ(inspect_kv(s->base(), s->size(), &info), errc::ok);
            const auto* g = reinterpret_cast<const kv_geometry*>(s->base() + 64);
            EXPECT_EQ(g->entry_stride % 64, 0u);
            EXPECT_EQ((s->size() - kv_entries_offset) % 64, 0u);
            ASSERT_EQ(kv->set("c", "xyz", v >= 3 ? 3 : v), errc::ok);
        }
    }
}

}  // namespace
}  // namespace shmkit
