#if !defined(_WIN32)
#include <sys/stat.h>
#endif

#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "shmkit/segment.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::child;
using test::shared;
using test::spin_until;
using test::unique_name;

constexpr std::uint32_t kHeader = 128;

result<segment> make_ready(const char* name, std::uint64_t size = 4096, segment_options options = {}) {
    auto s = segment::create(name, kind::block, kHeader, size, options);
    if (!s) return s;
    if (const errc e = s->publish(); failed(e)) return e;
    return s;
}

TEST(Segment, CreateOpenRoundTrip) {
    unique_name name("seg");
    auto created = make_ready(name.c_str());
    ASSERT_TRUE(created) << to_string(created.error());
    auto opened = segment::open(name.c_str(), kind::block, kHeader, os::access::read_write);
    ASSERT_TRUE(opened) << to_string(opened.error());
    EXPECT_EQ(opened->size(), 4096u);
    EXPECT_EQ(opened->header()->creator_pid, os::self().pid);
    EXPECT_EQ(opened->header()->format_version, wire_format_version);
    // Same memory, two mappings.
    created->base()[kHeader] = 0x5A;
    EXPECT_EQ(opened->base()[kHeader], 0x5A);
}

TEST(Segment, CreateIsExclusiveAndDefaultsToOwnerOnlyMode) {
    unique_name name("excl");
    auto first = make_ready(name.c_str());
    ASSERT_TRUE(first);
    auto second = segment::create(name.c_str(), kind::block, kHeader, 4096, {});
    EXPECT_EQ(second.error(), errc::already_exists);  // the creator (us) is alive
#if !defined(_WIN32)  // POSIX permission bits, seen in /dev/shm (a Windows object has none)
    struct stat st;
    ASSERT_EQ(::stat((std::string("/dev/shm") + name.c_str()).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
#endif
}

TEST(Segment, ConfiguredModeIsExactWhateverTheUmask) {
#if defined(_WIN32)
    GTEST_SKIP() << "POSIX permission bits and umask: a Windows object has neither";
#else
    unique_name name("mode");
    segment_options options;
    options.mode = 0666;
    const mode_t previous = ::umask(022);  // would turn 0666 into 0644
    auto s = make_ready(name.c_str(), 4096, options);
    ::umask(previous);
    ASSERT_TRUE(s);
    struct stat st;
    ASSERT_EQ(::stat((std::string("/dev/shm") + name.c_str()).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666u);
#endif
}

// By default the whole segment is backed by memory at creation (a full /dev/shm is no_space
// then, not SIGBUS later); reserve_memory = false leaves the pages to be backed as they are
// first written, which is what makes creating a large segment fast.
TEST(Segment, MemoryIsReservedAtCreationUnlessTurnedOff) {
#if defined(_WIN32)
    GTEST_SKIP() << "Windows charges a section's memory at creation either way";
#else
    constexpr std::uint64_t size = 16u << 20;
    const auto backed_bytes = [](const char* name) -> std::uint64_t {
        struct stat st;
        if (::stat((std::string("/dev/shm") + name).c_str(), &st) != 0) return 0;
        return static_cast<std::uint64_t>(st.st_blocks) * 512;
    };
    unique_name reserved("reserved");
    auto a = make_ready(reserved.c_str(), size);
    ASSERT_TRUE(a) << to_string(a.error());
    EXPECT_GE(backed_bytes(reserved.c_str()), size);
    unique_name lazy("lazy");
    segment_options options;
    options.reserve_memory = false;
    auto b = make_ready(lazy.c_str(), size, options);
    ASSERT_TRUE(b) << to_string(b.error());
    EXPECT_LT(backed_bytes(lazy.c_str()), size / 16);  // the header pages only
    b->base()[size - 1] = 1;  // a page is backed when it is first written
    EXPECT_EQ(b->base()[size - 1], 1);
#endif
}

TEST(Segment, SizesBeyondTheLimitAreArgumentErrors) {
    unique_name name("huge");
    EXPECT_EQ(segment::create(name.c_str(), kind::block, kHeader, max_segment_bytes + 1, {}).error(),
              errc::invalid_argument);
    EXPECT_EQ(segment::create(name.c_str(), kind::block, kHeader, ~std::uint64_t{0}, {}).error(), errc::invalid_argument);
}

TEST(Segment, OpenMissingAndBadNames) {
    EXPECT_EQ(segment::open("/shmkit-test-does-not-exist", kind::block, kHeader, os::access::read_only).error(),
              errc::not_found);
    EXPECT_EQ(segment::open("missing-slash", kind::block, kHeader, os::access::read_only).error(),
              errc::invalid_argument);
    EXPECT_EQ(segment::create("/a/b", kind::block, kHeader, 4096, {}).error(), errc::invalid_argument);
}

TEST(Segment, WrongKindIsRefused) {
    unique_name name("kind");
    auto s = make_ready(name.c_str());
    ASSERT_TRUE(s);
    EXPECT_EQ(segment::open(name.c_str(), kind::broadcast, kHeader, os::access::read_only).error(), errc::wrong_kind);
}

TEST(Segment, ReadOnlyAttachMapsReadOnly) {
    unique_name name("ro");
    auto s = make_ready(name.c_str());
    ASSERT_TRUE(s);
    auto ro = segment::open(name.c_str(), kind::block, kHeader, os::access::read_only);
    ASSERT_TRUE(ro);
    EXPECT_FALSE(ro->writable());
    // A store through a read-only mapping faults: the OS enforces it, not a flag.
    // (ASan turns the SIGSEGV into exit code 1, hence "dies" rather than "killed by SIGSEGV";
    // a store that succeeded would make the child return and the test fail.)
    EXPECT_DEATH({ ro->base()[kHeader] = 1; }, "");
}

TEST(Segment, UnlinkRemovesTheNameOnlyWhileItNamesThisSegment) {
    unique_name name("seg-unlink");
    auto first = make_ready(name.c_str());
    ASSERT_TRUE(first) << to_string(first.error());
    auto peer = segment::open(name.c_str(), kind::block, kHeader, os::access::read_write);
    ASSERT_TRUE(peer) << to_string(peer.error());
    EXPECT_EQ(first->unlink(), errc::ok);
    EXPECT_EQ(segment::open(name.c_str(), kind::block, kHeader, os::access::read_write).error(), errc::not_found);
    EXPECT_EQ(first->unlink(), errc::not_found);
    // Both mappings stay, and stay one segment.
    peer->base()[kHeader] = 7;
    EXPECT_EQ(first->base()[kHeader], 7);
    // The name is taken again by another segment: an old handle's unlink leaves it alone.
    auto second = make_ready(name.c_str());
    ASSERT_TRUE(second) << to_string(second.error());
    EXPECT_EQ(first->unlink(), errc::not_found);
    EXPECT_EQ(peer->unlink(), errc::not_found);
    EXPECT_TRUE(segment::open(name.c_str(), kind::block, kHeader, os::access::read_write));
    EXPECT_EQ(second->unlink(), errc::ok);
    EXPECT_EQ(segment{}.unlink(), errc::not_open);
}

TEST(Segment, ASegmentHasNoNameUntilItIsPublished) {
#if defined(_WIN32)
    GTEST_SKIP() << "the Windows port names a segment when it creates it (Windows cannot name a section "
                    "later): attachers may meet it half-made, which the half-made tests cover";
#endif
    unique_name name("unready");
    {
        auto s = segment::create(name.c_str(), kind::block, kHeader, 4096, {});
        ASSERT_TRUE(s);
        EXPECT_EQ(segment::open(name.c_str(), kind::block, kHeader, os::access::read_only).error(), errc::not_found);
        EXPECT_FALSE(test::shm_exists(name.c_str()));
    }  // destroyed before publish(): creation failed half-way, and nothing is left
    EXPECT_FALSE(test::shm_exists(name.c_str()));
    auto s = segment::create(name.c_str(), kind::block, kHeader, 4096, {});
    ASSERT_TRUE(s);
    s->base()[kHeader] = 42;
    ASSERT_EQ(s->publish(), errc::ok);
    auto opened = segment::open(name.c_str(), kind::block, kHeader, os::access::read_only);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->base()[kHeader], 42);  // complete from the moment it has a name
}

TEST(Segment, TwoCreatorsOfOneNameOneWinsTheOtherIsTold) {
#if defined(_WIN32)
    GTEST_SKIP() << "the Windows port names a segment when it creates it (Windows cannot name a section "
                    "later): attachers may meet it half-made, which the half-made tests cover";
#endif
    unique_name name("race");
    auto first = segment::create(name.c_str(), kind::block, kHeader, 4096, {});
    auto second = segment::create(name.c_str(), kind::block, kHeader, 4096, {});
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);  // neither is visible yet
    ASSERT_EQ(second->publish(), errc::ok);
    EXPECT_EQ(first->publish(), errc::already_exists);  // the winner is alive: never replaced
    auto opened = segment::open(name.c_str(), kind::block, kHeader, os::access::read_only);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->header()->creator_pid, os::self().pid);
}

// A half-made segment, as a creator that names its segment before finishing it leaves it (a
// port that can only name objects when creating them, or another shmkit build): attachers
// wait for it while its creator lives, and once nobody holds it, it is abandoned.

// Names a half-made segment (stage 1), finishes it once the test attaches (stage 2), and
// exits when told (stage 3).
SHMKIT_TEST_ROLE(segment_slow_creator) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    test::half_made h(args.text(0).c_str(), 4096, kind::block, kHeader);
    h.base()[kHeader] = 42;
    stage->store(1);
    spin_until([&] { return stage->load() == 2; });  // the parent is now attaching
    os::sleep_ns(20'000'000);
    h.finish();
    spin_until([&] { return stage->load() == 3; });
    return 0;
}

TEST(Segment, AttacherWaitsForAHalfMadeSegmentWhoseCreatorIsStillWorking) {
    unique_name name("handshake");
    shared<std::atomic<int>> stage;
    child creator("segment_slow_creator", {name.c_str(), stage.name()});
    test::spin_until([&] { return stage->load() == 1; });
    EXPECT_EQ(segment::create(name.c_str(), kind::block, kHeader, 4096, {}).error(), errc::already_exists);
    EXPECT_EQ(segment::remove_if_stale(name.c_str(), false), errc::busy);  // held by its creator
    stage->store(2);
    segment_options patient;
    patient.ready_wait_ns = 60'000'000'000;  // generous: the creator publishes right away
    auto s = segment::open(name.c_str(), kind::block, kHeader, os::access::read_only, patient);
    stage->store(3);
    ASSERT_TRUE(s) << to_string(s.error());
    EXPECT_EQ(s->base()[kHeader], 42);  // published state, fully visible
    EXPECT_EQ(creator.wait(), 0);
}

SHMKIT_TEST_ROLE(segment_die_half_way) {
    test::half_made h(args.text(0).c_str(), 1 << 20, kind::block, kHeader, args.value<bool>(1));
    std::_Exit(0);  // dies half-way: its in-use mark goes with it
}

// What an attacher meets where a creator died half-way: the half-made segment, not ready (POSIX);
// nothing (Windows, where an object vanishes with its last handle).
#if defined(_WIN32)
constexpr errc left_by_a_creator_dead_half_way = errc::not_found;
#else
constexpr errc left_by_a_creator_dead_half_way = errc::not_ready;
#endif

TEST(Segment, AHalfMadeSegmentNobodyHoldsIsAbandonedWhateverIdentityItRecorded) {
    for (const bool with_identity : {false, true}) {
        unique_name name("halfmade");
        child creator("segment_die_half_way", {name.c_str(), test::arg(with_identity)});
        ASSERT_EQ(creator.wait(), 0);
        segment_options quick;
        quick.ready_wait_ns = 5'000'000;
        EXPECT_EQ(segment::open(name.c_str(), kind::block, kHeader, os::access::read_only, quick).error(),
                  left_by_a_creator_dead_half_way);
        auto s = make_ready(name.c_str());  // the successor replaces it
        ASSERT_TRUE(s) << to_string(s.error()) << " with_identity=" << with_identity;
        EXPECT_EQ(s->header()->creator_pid, os::self().pid);
    }
}

TEST(Segment, ForeignObjectsAreNeverStale) {
    unique_name name("foreign");
    test::half_made zeros(name.c_str(), 4096, kind::block, kHeader, false);
    std::memset(zeros.base(), 0, 4096);  // no magic: somebody else's object
#if !defined(_WIN32)
    zeros.let_go();  // and nobody holds it (on Windows an object nobody holds is gone)
#endif
    EXPECT_EQ(segment::remove_if_stale(name.c_str(), false), errc::busy);
    EXPECT_EQ(segment::create(name.c_str(), kind::block, kHeader, 4096, {}).error(), errc::already_exists);
    EXPECT_TRUE(test::shm_exists(name.c_str()));
}

SHMKIT_TEST_ROLE(segment_create_and_die) {
    auto s = make_ready(args.text(0).c_str());
    if (!s) return 1;
    std::_Exit(0);  // dies without removing it
}

TEST(Segment, StaleSegmentOfADeadCreatorIsReplacedButALiveOneIsNot) {
    unique_name name("stale");
    child creator("segment_create_and_die", {name.c_str()});
    ASSERT_EQ(creator.wait(), 0);
    // The dead creator's segment is stale and unused: create() replaces it.
    auto s = make_ready(name.c_str());
    ASSERT_TRUE(s) << to_string(s.error());
    EXPECT_EQ(s->header()->creator_pid, os::self().pid);
    // Ours is alive: never replaced.
    EXPECT_EQ(segment::remove_if_stale(name.c_str(), false), errc::busy);
}

// Creates a segment (stage 1, or -1 if it could not), keeps it until told (stage 2), then
// exits without removing it.
SHMKIT_TEST_ROLE(segment_create_and_exit_when_told) {
    auto stage = shared<std::atomic<int>>::open(args.text(1));
    auto s = make_ready(args.text(0).c_str());
    if (!s) {
        stage->store(-1);
        return 1;
    }
    stage->store(1);
    spin_until([&] { return stage->load() == 2; });
    return 0;
}

TEST(Segment, StaleSegmentStillInUseIsKeptUnlessForced) {
    unique_name name("inuse");
    // The reader attaches while the creator lives (on Windows the segment would go with its
    // creator otherwise); then the creator exits and the segment is stale but in use.
    shared<std::atomic<int>> stage;
    child creator("segment_create_and_exit_when_told", {name.c_str(), stage.name()});
    spin_until([&] { return stage->load() != 0; });
    ASSERT_EQ(stage->load(), 1) << "the creator could not create it";
    auto reader = segment::open(name.c_str(), kind::block, kHeader, os::access::read_only);
    ASSERT_TRUE(reader);
    stage->store(2);
    ASSERT_EQ(creator.wait(), 0);
#if !defined(_WIN32)
    // On POSIX a dead creator's segment stays openable (on Windows only while someone holds it).
    EXPECT_TRUE(segment::open(name.c_str(), kind::block, kHeader, os::access::read_only));
#endif
    EXPECT_EQ(segment::create(name.c_str(), kind::block, kHeader, 4096, {}).error(), errc::already_exists);
    EXPECT_EQ(segment::remove_if_stale(name.c_str(), false), errc::busy);
    EXPECT_EQ(segment::remove_if_stale(name.c_str(), true), errc::ok);
    EXPECT_EQ(segment::open(name.c_str(), kind::block, kHeader, os::access::read_only).error(), errc::not_found);
    EXPECT_EQ(reader->base()[0], 'S');  // the mapping outlives the name
}

#if !defined(_WIN32)  // Windows has no membarrier: the test below skips there
// A process that cannot use membarrier (SHMKIT_NO_MEMBARRIER, read by the Linux port) meets a
// membarrier segment and creates one of its own.
SHMKIT_TEST_ROLE(segment_without_membarrier) {
    ::setenv("SHMKIT_NO_MEMBARRIER", "1", 1);
    // Its light barriers would be compiler-only and its heavy ones a plain fence: attaching
    // to a segment whose peers rely on membarrier would break them. Refused, clearly.
    auto refused = segment::open(args.text(0).c_str(), kind::block, kHeader, os::access::read_write);
    if (refused || refused.error() != errc::unsupported) return 1;
    // What it creates uses fences, which everyone can pair with.
    auto own = make_ready(args.text(1).c_str());
    if (!own || barriers_of(own->base()) != barrier_mode::fences) return 2;
    static_cast<void>(own->base());
    own->close();
    return 0;
}
#endif

TEST(Barriers, AProcessWithoutMembarrierIsRefusedByMembarrierSegmentsAndMakesFenceSegments) {
    if (!os::membarrier_usable()) GTEST_SKIP() << "membarrier is not available here";
    unique_name fast("bar-mb"), portable("bar-fences");
    auto s = make_ready(fast.c_str());
    ASSERT_TRUE(s);
    EXPECT_EQ(barriers_of(s->base()), barrier_mode::membarrier);
    child without("segment_without_membarrier", {fast.c_str(), portable.c_str()});
    ASSERT_EQ(without.wait(), 0);
    auto p = segment::open(portable.c_str(), kind::block, kHeader, os::access::read_write);
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_EQ(barriers_of(p->base()), barrier_mode::fences);
    segment_options no_mb;
    no_mb.allow_membarrier = false;
    unique_name opt("bar-opt");
    auto o = make_ready(opt.c_str(), 4096, no_mb);
    ASSERT_TRUE(o);
    EXPECT_EQ(barriers_of(o->base()), barrier_mode::fences);
}

TEST(Liveness, RecycledPidIsDetectedByStartTime) {
    const os::process_id me = os::self();
    EXPECT_TRUE(os::process_alive(me));
    os::process_id impostor = me;
    impostor.start ^= 1;  // same pid, another start time: a recycled pid
    EXPECT_FALSE(os::process_alive(impostor));
    EXPECT_FALSE(os::process_alive(os::process_id{0, 0}));
}

// Records its identity and exits.
SHMKIT_TEST_ROLE(segment_record_identity) {
    auto id = shared<os::process_id>::open(args.text(0));
    *id = os::self();
    return 0;
}

TEST(Liveness, ExitedChildIsDeadEvenBeforeItIsReaped) {
    shared<os::process_id> id;
    child c("segment_record_identity", {id.name()});
    test::spin_until([&] { return id->pid != 0; });
    // Wait until it has exited (a zombie on POSIX) without reaping it.
    c.wait_without_reaping();
    EXPECT_FALSE(os::process_alive(*id));
    EXPECT_EQ(c.wait(), 0);
}

TEST(Liveness, AChildHasItsOwnIdentity) {
    const os::process_id parent = os::self();
    shared<os::process_id> id;
    child c("segment_record_identity", {id.name()});
    EXPECT_EQ(c.wait(), 0);
    EXPECT_NE(id->pid, parent.pid);
    EXPECT_EQ(id->pid, c.pid());
}

}  // namespace
}  // namespace shmkit
