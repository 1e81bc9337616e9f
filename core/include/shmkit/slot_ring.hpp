// The seqlock slot ring under stream, video and audio: N fixed-size slots, each guarded by a
// sequence lock, one writer (enforced, a dead writer's role taken over), any number of readers
// that either take the newest sample (latest) or every sample in order (next, with the exact
// number lost before each sample). Copy-out reads never return torn data; zero-copy reads tell the caller
// afterwards whether the writer overwrote the slot meanwhile. Layout: core/SPEC.md "Slot ring".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/atomic.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/role.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

struct slot_geometry {
    std::uint64_t slot_count;      // N (2..65536)
    std::uint64_t slot_capacity;   // data bytes a slot can hold
    std::uint64_t slot_stride;     // bytes from one slot's data to the next (multiple of alignment)
    std::uint64_t headers_offset;  // slot_header[N], from the segment start
    std::uint64_t data_offset;     // slot 0's data, a multiple of alignment
    std::uint32_t alignment;       // 64, or the page size for DMA
    std::uint32_t reserved0;
    std::uint64_t reserved1[2];
};
static_assert(sizeof(slot_geometry) == 64);
static_assert(offsetof(slot_geometry, slot_count) == 0);
static_assert(offsetof(slot_geometry, slot_capacity) == 8);
static_assert(offsetof(slot_geometry, slot_stride) == 16);
static_assert(offsetof(slot_geometry, headers_offset) == 24);
static_assert(offsetof(slot_geometry, data_offset) == 32);
static_assert(offsetof(slot_geometry, alignment) == 40);
static_assert(offsetof(slot_geometry, reserved0) == 44);
static_assert(offsetof(slot_geometry, reserved1) == 48);

struct slot_control {
    // The writer's line.
    atomic_u64 committed;     // samples committed; the newest is committed - 1
    atomic_u64 writer;        // the writer role
    atomic_u64 heartbeat_ns;  // the writer's monotonic clock at its last commit or heartbeat()
    atomic_u64 takeovers;
    atomic_u64 abandoned;     // reservations dropped without commit
    std::uint64_t reserved0[3];
    // Readers sleeping for a new sample.
    wait_word wake;
    std::uint64_t reserved1[6];
};
static_assert(sizeof(slot_control) == 128);
static_assert(offsetof(slot_control, committed) == 0);
static_assert(offsetof(slot_control, writer) == 8);
static_assert(offsetof(slot_control, heartbeat_ns) == 16);
static_assert(offsetof(slot_control, takeovers) == 24);
static_assert(offsetof(slot_control, abandoned) == 32);
static_assert(offsetof(slot_control, reserved0) == 40);
static_assert(offsetof(slot_control, wake) == 64);
static_assert(offsetof(slot_control, reserved1) == 80);

inline constexpr std::size_t slot_meta_words = 5;

// One per slot, one line each. Every field is written between the odd and the even store of
// `seq`, so a reader that sees the same even value before and after has a consistent sample.
struct slot_header {
    atomic_u64 seq;        // 0 never written; 2s+1 while sample s is written; 2s+2 holds sample s
    atomic_u64 size;       // bytes of the sample
    atomic_u64 timestamp_ns;  // the writer's monotonic clock at commit
    atomic_u64 meta[slot_meta_words];  // the kind's per-sample fields (video: pts, ...)
};
static_assert(sizeof(slot_header) == 64);
static_assert(offsetof(slot_header, seq) == 0);
static_assert(offsetof(slot_header, size) == 8);
static_assert(offsetof(slot_header, timestamp_ns) == 16);
static_assert(offsetof(slot_header, meta) == 24);

// Every slot kind: segment_header (64) + slot_geometry (64) + the kind's description (128).
inline constexpr std::uint32_t slot_kind_header_size = 256;
inline constexpr std::uint32_t slot_kind_meta_offset = 128;
inline constexpr std::uint32_t slot_control_offset = 256;
inline constexpr std::uint32_t slot_headers_offset = 384;
inline constexpr std::uint64_t max_slot_count = 65536;

struct slot_config {
    std::uint64_t slots = 4;          // N: samples kept (2..65536)
    std::uint64_t slot_capacity = 0;  // data bytes per slot (set by the kind)
    bool page_aligned = false;        // align every slot's data to a page (DMA)
};

// Metadata of one sample.
struct sample_info {
    std::uint64_t index = 0;         // the writer's sample number, from 0
    std::uint64_t size = 0;          // bytes
    std::uint64_t timestamp_ns = 0;  // writer's monotonic clock at commit
    std::uint64_t meta[slot_meta_words] = {};
    // In-order reads (next, view_next): samples lost just before this one (the writer lapped
    // the reader, or dropped a reservation there). 0 from latest reads, which skip by design.
    std::uint64_t lost = 0;
};

// A sample in place. Valid while valid() says so: the writer may overwrite the slot at any
// time after N more samples, and valid() (an acquire check of the slot's sequence) is how a
// zero-copy reader learns afterwards whether what it read is the sample it asked for.
struct sample_view {
    const std::uint8_t* data = nullptr;
    sample_info info{};
    const slot_header* header = nullptr;
    std::uint64_t seq = 0;
    bool valid() const noexcept;
};

struct slot_info {
    std::uint64_t slots = 0, slot_capacity = 0, committed = 0, takeovers = 0, abandoned = 0;
    std::uint64_t heartbeat_age_ns = 0;
    role_holder writer{};
};

namespace detail {
// The mapped pieces of a slot segment, validated.
struct slot_layout {
    slot_geometry geometry{};
    barrier_mode barriers = barrier_mode::fences;
    slot_control* control = nullptr;
    slot_header* headers = nullptr;
    std::uint8_t* data = nullptr;
    const std::uint8_t* kind_meta = nullptr;
};
// Bytes of a slot segment with this configuration; 0 for one that cannot be made (too few or
// too many slots, an empty slot, or more than max_segment_bytes in all).
std::uint64_t slot_segment_size(const slot_config& config, std::uint64_t* data_offset, std::uint32_t* alignment) noexcept;
errc map_slot_layout(std::uint8_t* base, std::uint64_t size, kind k, slot_layout* out) noexcept;
// Creates a named slot segment of kind k, copies `meta` (128 bytes) into the kind area, claims
// the writer role and publishes it.
result<segment> create_slot_segment(const char* name, kind k, const slot_config& config, const void* meta,
                                    const segment_options& options) noexcept;
errc inspect_slots(const void* base, std::uint64_t size, kind k, slot_info* out) noexcept;
// Writes the geometry, the kind's description and the heartbeat of a zeroed slot segment.
void format_slot_layout(std::uint8_t* base, std::uint64_t size, const slot_config& config, std::uint64_t data_offset,
                        std::uint32_t alignment, const void* meta) noexcept;
// A published slot segment of kind k in caller-given memory (64-byte aligned, exactly
// slot_segment_size(config) bytes; page-aligned memory for config.page_aligned).
errc format_slot_memory(void* memory, std::uint64_t size, kind k, const slot_config& config, const void* meta) noexcept;
}  // namespace detail

class slot_writer {
public:
    // A slot being filled in place. commit() publishes it; destroyed uncommitted it publishes
    // nothing (the slot's previous sample is lost, as it would have been anyway).
    class reservation {
    public:
        reservation() noexcept = default;
        reservation(reservation&& other) noexcept;
        reservation& operator=(reservation&& other) noexcept;
        reservation(const reservation&) = delete;
        reservation& operator=(const reservation&) = delete;
        ~reservation();
        std::uint8_t* data() const noexcept { return data_; }
        std::size_t capacity() const noexcept { return capacity_; }
        std::uint64_t index() const noexcept { return index_; }
        // Per-sample fields for the kind (video pts, ...), stored with the sample.
        std::uint64_t meta[slot_meta_words] = {};
        void commit(std::size_t used) noexcept;
        void commit() noexcept { commit(capacity_); }

    private:
        friend class slot_writer;
        // commit() without its process check, for the writer's own copying calls, which have just
        // made that check themselves (it costs a call into the port).
        void commit_unchecked(std::size_t used) noexcept;
        void drop() noexcept;  // uncommitted: what the destructor does
        slot_writer* writer_ = nullptr;
        std::uint8_t* data_ = nullptr;
        std::size_t capacity_ = 0;
        std::uint64_t index_ = 0;
    };

    slot_writer() noexcept = default;
    slot_writer(slot_writer&& other) noexcept;
    slot_writer& operator=(slot_writer&& other) noexcept;
    slot_writer(const slot_writer&) = delete;
    slot_writer& operator=(const slot_writer&) = delete;
    ~slot_writer();

    // Binds to a mapped, validated slot segment: claims the writer role (busy while another
    // writer lives; a dead one's role is taken over and a sample it finished is published).
    errc bind(segment&& seg, const detail::slot_layout& layout, bool role_claimed) noexcept;

    result<reservation> reserve() noexcept;
    [[nodiscard]] errc write(const void* data, std::size_t size, const std::uint64_t* meta = nullptr) noexcept;
    // Tells readers the writer is alive but idle (writer_alive() does not need it; this is for
    // readers that watch how fresh the data is).
    void heartbeat() noexcept;

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t slot_capacity() const noexcept { return geometry_.slot_capacity; }
    std::uint64_t slots() const noexcept { return geometry_.slot_count; }
    std::uint64_t samples_written() const noexcept { return next_; }
    void close() noexcept;

private:
    void publish(std::uint64_t index, std::size_t used, const std::uint64_t* meta) noexcept;
    void abandon(std::uint64_t index) noexcept;

    segment segment_;
    slot_geometry geometry_{};
    slot_control* control_ = nullptr;
    slot_header* headers_ = nullptr;
    std::uint8_t* data_ = nullptr;
    barrier_mode barriers_ = barrier_mode::fences;
    std::uint64_t claimed_as_ = 0;  // the process holding the writer role through this handle
    std::uint64_t next_ = 0;
    bool reserved_ = false;
};

struct slot_reader_options {
    bool from_oldest = false;  // in-order reads start at the oldest sample kept, not the next new one
    bool read_only = false;    // map read-only: blocking calls then return access_denied
    wait_options wait{};
    segment_options segment{};
};

class slot_reader {
public:
    slot_reader() noexcept = default;
    slot_reader(slot_reader&& other) noexcept;
    slot_reader& operator=(slot_reader&& other) noexcept;
    slot_reader(const slot_reader&) = delete;
    slot_reader& operator=(const slot_reader&) = delete;
    ~slot_reader() = default;

    errc bind(segment&& seg, const detail::slot_layout& layout, const slot_reader_options& options) noexcept;

    // The newest committed sample, copied out: empty; message_too_large (see pending_size());
    // stale (the writer kept overwriting it while we copied; try again).
    result<sample_info> latest(void* buffer, std::size_t capacity) noexcept;
    // Every sample in order, without waiting: empty; message_too_large; stale. If the writer
    // lapped this reader, the sample returned is the oldest still kept and its info.lost says
    // how many were lost.
    result<sample_info> try_next(void* buffer, std::size_t capacity) noexcept;
    // Blocking forms: wait for a sample newer than the last one returned (latest) or for the
    // next one in order (next), up to `timeout` (then timeout, 0 included).
    result<sample_info> wait_latest(void* buffer, std::size_t capacity, nanoseconds timeout = wait_forever) noexcept;
    result<sample_info> next(void* buffer, std::size_t capacity, nanoseconds timeout = wait_forever) noexcept;
    // Zero-copy forms, never waiting: check view.valid() after using the data.
    result<sample_view> view_latest() noexcept;
    result<sample_view> view_next() noexcept;
    // True if try_next() would return something other than empty (a lapped reader is ready).
    bool poll() const noexcept;
    // True if a sample newer than the last one returned exists.
    bool fresh() const noexcept;
    select_source waitable() noexcept;

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t slot_capacity() const noexcept { return geometry_.slot_capacity; }
    std::uint64_t slots() const noexcept { return geometry_.slot_count; }
    // Samples lost just before the sample an in-order read last returned (its info.lost).
    std::uint64_t lost() const noexcept { return lost_; }
    // Samples lost since attach, and how many times the writer lapped this reader (both count a
    // lap when an in-order read finds it, before the sample it returns).
    std::uint64_t total_lost() const noexcept { return total_lost_; }
    std::uint64_t overruns() const noexcept { return overruns_; }
    std::uint64_t pending_size() const noexcept { return pending_size_; }
    std::uint64_t next_index() const noexcept { return next_; }
    bool writer_alive() const noexcept;
    // Nanoseconds since the writer's last commit or heartbeat (monotonic clock).
    std::uint64_t heartbeat_age_ns() const noexcept;
    void close() noexcept;

private:
    errc read_view(std::uint64_t index, sample_view* out) const noexcept;
    errc copy_sample(std::uint64_t index, void* buffer, std::size_t capacity, sample_info* out) noexcept;
    // Records `count` samples lost and moves past them; the next sample returned reports them.
    // `lapped`: the writer overwrote them (an overrun), not a reservation dropped there.
    void skip_lost(std::uint64_t count, bool lapped) noexcept;
    template <class Sample, class Read>
    result<Sample> read_latest(Read read) noexcept;
    template <class Sample, class Read>
    result<Sample> read_next(Read read) noexcept;

    segment segment_;
    slot_geometry geometry_{};
    slot_control* control_ = nullptr;
    slot_header* headers_ = nullptr;
    std::uint8_t* data_ = nullptr;
    barrier_mode barriers_ = barrier_mode::fences;
    wait_options wait_{};
    std::uint64_t next_ = 0;        // in-order position
    std::uint64_t last_seen_ = 0;   // 1 + index of the last sample returned by latest()
    std::uint64_t lost_ = 0, total_lost_ = 0, overruns_ = 0, pending_size_ = 0;
    std::uint64_t unreported_ = 0;  // lost since the sample last returned in order: the next one's `lost`
};

}  // namespace shmkit
