// Attaching to corrupt or hostile segments: every field of the header and the geometry is
// damaged in turn and the attach must fail with the right errc; truncated objects and random
// damage anywhere must give an error, never a crash (run under ASan+UBSan too).
#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cstring>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shmkit/broadcast.hpp"
#include "shmkit/command.hpp"
#include "shmkit/spsc.hpp"
#include "support.hpp"

namespace shmkit {
namespace {

using test::unique_name;

// Raw read-write access to a segment's bytes, behind shmkit's back. Open it while the segment
// exists: on Windows a segment vanishes with its last handle, so the tests below open it before
// the writer that created it closes, and keep it.
class raw_segment : public test::raw_mapping {
public:
    using raw_mapping::raw_mapping;
    template <class T>
    void put(std::size_t offset, T value) {
        std::memcpy(base() + offset, &value, sizeof value);
    }
    // What a hostile writer would do: fix the checksum so only deeper validation can object.
    void reseal() {
        auto* h = reinterpret_cast<segment_header*>(base());
        h->checksum = header_checksum(base(), ring_header_size);
    }
};

#if !defined(_WIN32)
// Truncates the object behind shmkit's back (POSIX: Windows cannot shrink a section).
void truncate_object(const char* name, std::size_t n) {
    const int fd = ::shm_open(name, O_RDWR, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(n)), 0);
    ::close(fd);
}
#endif

segment_options quick() {
    segment_options o;
    o.ready_wait_ns = 5'000'000;
    return o;
}

errc reader_error(const char* name) {
    broadcast_reader_options o;
    o.segment = quick();
    auto r = broadcast_reader::open(name, o);
    return r ? errc::ok : r.error();
}
errc writer_error(const char* name) {
    auto w = broadcast_writer::open(name, quick());
    return w ? errc::ok : w.error();
}

struct field_case {
    const char* field;
    std::size_t offset;
    std::uint64_t value;
    std::size_t width;
    bool reseal;
    errc expected;
};

void PrintTo(const field_case& c, std::ostream* os) { *os << c.field; }

class CorruptField : public ::testing::TestWithParam<field_case> {};

TEST_P(CorruptField, AttachFailsWithTheRightError) {
    const field_case& c = GetParam();
    unique_name name("corrupt");
    broadcast_config config;
    config.capacity = 4096;
    std::optional<raw_segment> raw;
    {
        auto w = broadcast_writer::create(name.c_str(), config);
        ASSERT_TRUE(w);
        ASSERT_EQ(w->write("payload", 7), errc::ok);
        raw.emplace(name.c_str());
    }
    if (c.width == 8) raw->put<std::uint64_t>(c.offset, c.value);
    else raw->put<std::uint32_t>(c.offset, static_cast<std::uint32_t>(c.value));
    if (c.reseal) raw->reseal();
    EXPECT_EQ(reader_error(name.c_str()), c.expected) << c.field;
    EXPECT_EQ(writer_error(name.c_str()), c.expected) << c.field;
}

constexpr std::size_t G = geometry_offset;
INSTANTIATE_TEST_SUITE_P(
    EveryHeaderField, CorruptField,
    ::testing::Values(
        field_case{"magic", 0, 0x1122334455667788ull, 8, false, errc::invalid_layout},
        field_case{"format_version", 8, 1, 4, false, errc::version_mismatch},
        field_case{"kind", 12, static_cast<std::uint64_t>(kind::kv), 4, false, errc::wrong_kind},
        field_case{"kind (unknown)", 12, 77, 4, false, errc::wrong_kind},
        field_case{"header_size", 16, 192, 4, false, errc::invalid_layout},
        field_case{"header_size (unaligned)", 16, 130, 4, false, errc::invalid_layout},
        field_case{"header_size (beyond object)", 16, 1u << 30, 4, false, errc::invalid_layout},
        field_case{"checksum", 20, 0xDEADBEEF, 4, false, errc::invalid_layout},
        field_case{"total_size", 24, 1u << 20, 8, false, errc::size_mismatch},
        field_case{"creator_pid", 32, 4242, 4, false, errc::invalid_layout},
        field_case{"creator_start", 36, 4242, 4, false, errc::invalid_layout},
        field_case{"state (garbage)", 40, 0x12345678, 4, false, errc::invalid_layout},
        field_case{"state (never ready)", 40, 0, 4, false, errc::not_ready},
        field_case{"flags (unknown bit, resealed)", 44, 2, 4, true, errc::invalid_layout},
        field_case{"reserved1", 48, 1, 8, false, errc::invalid_layout},
        field_case{"capacity", G + 0, 8192, 8, false, errc::invalid_layout},
        field_case{"ring_offset", G + 8, 128, 8, false, errc::invalid_layout},
        field_case{"max_message", G + 16, 100000, 4, false, errc::invalid_layout},
        field_case{"geometry reserved", G + 24, 5, 8, false, errc::invalid_layout},
        // A hostile writer that recomputes the checksum still cannot get bad geometry past us.
        field_case{"capacity (resealed)", G + 0, 8192, 8, true, errc::invalid_layout},
        field_case{"capacity unaligned (resealed)", G + 0, 4088, 8, true, errc::invalid_layout},
        field_case{"ring_offset (resealed)", G + 8, 128, 8, true, errc::invalid_layout},
        field_case{"max_message (resealed)", G + 16, 4000, 4, true, errc::invalid_layout},
        field_case{"geometry reserved (resealed)", G + 20, 1, 4, true, errc::invalid_layout},
        field_case{"pid (resealed, harmless)", 32, 4242, 4, true, errc::ok}),
    [](const ::testing::TestParamInfo<field_case>& param_info) {
        std::string n;
        for (const char* p = param_info.param.field; *p; ++p) n += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
        return n;
    });

TEST(CorruptSegment, TruncatedObjects) {
    unique_name name("trunc");
    broadcast_config config;
    config.capacity = 4096;
#if defined(_WIN32)
    GTEST_SKIP() << "a Windows section cannot be shrunk under its name";
#else
    auto w = broadcast_writer::create(name.c_str(), config);
    ASSERT_TRUE(w);
    w = broadcast_writer{};
    truncate_object(name.c_str(), 1000);
    EXPECT_EQ(reader_error(name.c_str()), errc::size_mismatch);
    truncate_object(name.c_str(), 32);
    EXPECT_EQ(reader_error(name.c_str()), errc::invalid_layout);
    truncate_object(name.c_str(), 0);
    EXPECT_EQ(reader_error(name.c_str()), errc::not_ready);
#endif
}

TEST(CorruptSegment, NullOrMisalignedCallerMemoryIsRefused) {
    // The ring kinds' attach() over caller-given memory: one check in the shared mapping step.
    alignas(64) static std::uint8_t memory[4096 + 64];
    for (void* bad : {static_cast<void*>(nullptr), static_cast<void*>(memory + 8)}) {
        EXPECT_EQ(broadcast_writer::attach(bad, 4096).error(), errc::invalid_argument);
        EXPECT_EQ(broadcast_reader::attach(bad, 4096).error(), errc::invalid_argument);
        EXPECT_EQ(spsc_producer::attach(bad, 4096).error(), errc::invalid_argument);
        EXPECT_EQ(spsc_consumer::attach(bad, 4096).error(), errc::invalid_argument);
        EXPECT_EQ(command_writer::attach(bad, 4096).error(), errc::invalid_argument);
        EXPECT_EQ(command_reader::attach(bad, 4096).error(), errc::invalid_argument);
    }
}

TEST(CorruptSegment, NotAShmkitSegment) {
    unique_name name("foreign");
    os::mapping foreign;  // held to the end: on Windows it would go with its last handle
    ASSERT_EQ(os::shm_create(name.c_str(), 4096, os::create_options{}, &foreign), errc::ok);
    ASSERT_EQ(os::shm_link(foreign, name.c_str()), errc::ok);
    std::memset(foreign.address, 'j', 4096);
    EXPECT_EQ(reader_error(name.c_str()), errc::invalid_layout);
    os::shm_close(&foreign);
}

TEST(CorruptSegment, BadControlStateIsRefusedByTheWriter) {
    unique_name name("control");
    broadcast_config config;
    config.capacity = 4096;
    std::optional<raw_segment> raw;
    {
        auto w = broadcast_writer::create(name.c_str(), config);
        ASSERT_TRUE(w);
        raw.emplace(name.c_str());
    }
    const std::size_t c = broadcast_control_offset;
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, tail), 100000);  // tail beyond head
    EXPECT_EQ(writer_error(name.c_str()), errc::invalid_layout);
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, tail), 0);
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, head), 100000);  // more than a lap ahead
    EXPECT_EQ(writer_error(name.c_str()), errc::invalid_layout);
}

TEST(CorruptSegment, PositionsOffARecordBoundaryAreRefused) {
    // In range but not a multiple of 16: used as is, they would make atomic loads misaligned,
    // which faults on ARM. Both the writer and the readers must refuse them.
    unique_name name("misaligned");
    broadcast_config config;
    config.capacity = 4096;
    std::optional<raw_segment> raw;
    {
        auto w = broadcast_writer::create(name.c_str(), config);
        ASSERT_TRUE(w);
        ASSERT_EQ(w->write("", 0), errc::ok);
        ASSERT_EQ(w->write("", 0), errc::ok);  // head = 32, tail = 0
        raw.emplace(name.c_str());
    }
    const std::size_t c = broadcast_control_offset;
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, tail), 8);
    EXPECT_EQ(writer_error(name.c_str()), errc::invalid_layout);
    broadcast_reader_options oldest;
    oldest.from_oldest = true;
    EXPECT_EQ(broadcast_reader::open(name.c_str(), oldest).error(), errc::invalid_layout);
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, tail), 0);
    raw->put<std::uint64_t>(c + offsetof(broadcast_control, head), 40);
    EXPECT_EQ(writer_error(name.c_str()), errc::invalid_layout);
    EXPECT_EQ(broadcast_reader::open(name.c_str()).error(), errc::invalid_layout);
}

// Random damage to the control words and the ring while readers and the writer work: every
// call must return a defined errc (ASan/UBSan turn any out-of-bounds access into a failure).
TEST(CorruptSegment, RandomDamageNeverCrashesReadersOrTheWriter) {
    std::mt19937_64 rng(2024);
    for (int round = 0; round < 300; ++round) {
        unique_name name("fuzz");
        broadcast_config config;
        config.capacity = 2048;
        auto w = broadcast_writer::create(name.c_str(), config);
        ASSERT_TRUE(w);
        auto r = broadcast_reader::open(name.c_str());
        ASSERT_TRUE(r);
        std::vector<std::uint8_t> buf(w->max_message());
        for (int i = 0; i < 40; ++i) ASSERT_EQ(w->write(buf.data(), rng() % 300), errc::ok);
        raw_segment raw(name.c_str());
        const int hits = 1 + static_cast<int>(rng() % 8);
        for (int h = 0; h < hits; ++h) {
            const std::size_t span = raw.size() - broadcast_control_offset;
            const std::size_t at = broadcast_control_offset + (rng() % span) / 8 * 8;
            const std::uint64_t value = (rng() % 4 == 0) ? rng() : rng() % 4096;
            raw.put<std::uint64_t>(at, value);
        }
        for (int i = 0; i < 50; ++i) {
            auto m = r->try_read(buf.data(), buf.size());
            if (!m && m.error() == errc::empty) break;
        }
        for (int i = 0; i < 50; ++i) static_cast<void>(w->write(buf.data(), rng() % 300));
        broadcast_reader_options oldest;
        oldest.from_oldest = true;
        auto late = broadcast_reader::open(name.c_str(), oldest);
        if (late) {
            for (int i = 0; i < 50; ++i) {
                auto m = late->try_read(buf.data(), buf.size());
                if (!m && m.error() == errc::empty) break;
            }
        }
        w = broadcast_writer{};
        auto again = broadcast_writer::open(name.c_str());
        if (again) {
            for (int i = 0; i < 20; ++i) static_cast<void>(again->write(buf.data(), rng() % 300));
        }
    }
}

}  // namespace
}  // namespace shmkit
