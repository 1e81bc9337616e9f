// The seqlock slot ring under stream, video and audio: N fixed-size slots, each guarded by a
// sequence lock, one writer (enforced, a dead writer's role taken over), any number of readers
// that either take the newest sample (latest) or every sample in order (next, with the exact
// number lost before each sample). Copy-out reads never return torn data; zero-copy reads tell the caller
// afterwards whether the writer overwrote the slot meanwhile. Layout: core/SPEC.md "Slot ring".
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/handle.hpp"
#include "shmkit/detail/role.hpp"
#include "shmkit/errc.hpp"
#include "shmkit/reader_options.hpp"
#include "shmkit/reservation.hpp"
#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"
#include "shmkit/wire/slot_ring.hpp"

namespace shmkit {

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

namespace detail {
// What a slot writer and a slot reader both hold: the mapping and the validated layout.
struct slot_mapping {
    segment segment_;
    slot_geometry geometry_{};
    slot_control* control_ = nullptr;
    slot_header* headers_ = nullptr;
    std::uint8_t* data_ = nullptr;
    barrier_mode barriers_ = barrier_mode::fences;
    void adopt(const slot_layout& l) noexcept {
        geometry_ = l.geometry;
        control_ = l.control;
        headers_ = l.headers;
        data_ = l.data;
        barriers_ = l.barriers;
    }
};

struct slot_writer_state : slot_mapping {
    std::uint64_t claimed_as_ = 0;  // the process holding the writer role through this handle
    std::uint64_t next_ = 0;
    bool reserved_ = false;
    void drop() noexcept;  // gives up the writer role and unmaps
    bool movable() const noexcept { return !reserved_; }  // a live reservation points here
};
}  // namespace detail

// The writer of a slot ring; stream, video and audio writers are slot writers of their kind.
class slot_writer : public detail::handle<detail::slot_writer_state> {
public:
    // A slot to fill in place: commit() publishes it; dropped uncommitted, it publishes nothing
    // (the slot's previous sample is lost, as it would have been anyway). reservation::meta
    // holds the kind's per-sample fields (video pts, ...), stored with the sample.
    result<reservation> reserve() noexcept;
    [[nodiscard]] errc write(const void* data, std::size_t size, const std::uint64_t* meta = nullptr) noexcept;
    // Tells readers the writer is alive but idle (writer_alive() does not need it; this is for
    // readers that watch how fresh the data is).
    void heartbeat() noexcept;

    bool is_open() const noexcept { return control_ != nullptr; }
    std::uint64_t slot_capacity() const noexcept { return geometry_.slot_capacity; }
    std::uint64_t slots() const noexcept { return geometry_.slot_count; }
    std::uint64_t samples_written() const noexcept { return next_; }

protected:
    // Binds to a mapped, validated slot layout (the segment, if any, is already segment_):
    // claims the writer role (busy while another writer lives; a dead one's role is taken over
    // and a sample it finished is published).
    errc bind_layout(const detail::slot_layout& layout, bool role_claimed) noexcept;

private:
    // Marks the next slot being written and returns its index.
    std::uint64_t reserve_slot() noexcept;
    void publish(std::uint64_t index, std::size_t used, const std::uint64_t* meta) noexcept;
    void abandon(std::uint64_t index) noexcept;
    static void finish(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
};

using slot_reader_options = reader_options;

namespace detail {
struct slot_reader_state : slot_mapping {
    wait_options wait_{};
    std::uint64_t next_ = 0;        // in-order position
    std::uint64_t last_seen_ = 0;   // 1 + index of the last sample returned by latest()
    std::uint64_t lost_ = 0, total_lost_ = 0, overruns_ = 0, pending_size_ = 0;
    std::uint64_t unreported_ = 0;  // lost since the sample last returned in order: the next one's `lost`
    void drop() noexcept { segment_.close(); }
};
}  // namespace detail

// A reader of a slot ring; stream, video and audio readers are slot readers of their kind.
class slot_reader : public detail::handle<detail::slot_reader_state> {
public:
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

protected:
    // Binds to a mapped, validated slot layout (the segment, if any, is already segment_).
    errc bind_layout(const detail::slot_layout& layout, const slot_reader_options& options) noexcept;

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
};

}  // namespace shmkit
