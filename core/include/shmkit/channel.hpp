// channel: a zero-copy frame channel between one writer and one reader processes. Frames of
// any size up to (nearly) the whole ring, each contiguous in memory, written by copy or in place
// (reserve, fill, commit) and read in place until released: space comes back only on release,
// so a reader that holds frames back-pressures the writer. A metadata block, sized at creation,
// that the writer fills once and the reader reads in place (a format description, a
// calibration). Sequence numbers on every frame, checked by the reader. Each end knows whether a
// live process holds the other (writer_connected, reader_connected), and a blocking call reports
// the other end's death (peer_dead) within one liveness period instead of waiting out its
// timeout; a new process can then take the dead end's role over.
//
// Built on spsc: the same control block, records and algorithm (core/SPEC.md "spsc"), with a
// metadata line and block between the control block and the ring (core/SPEC.md "channel").
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/spsc.hpp"

namespace shmkit {

struct channel_config {
    std::uint64_t capacity = 1u << 20;  // ring bytes for frames (rounded up to 16; at least 256)
    std::uint32_t max_frame = 0;        // 0 = as large as allowed: largest_frame(capacity)
    std::uint32_t metadata_size = 0;    // bytes of the metadata block (rounded up to 64)
};

struct channel_options {
    wait_options wait{};  // spin before sleeping in the blocking calls
    segment_options segment{};
    // How soon a blocking call notices the other end's death where the OS cannot tell it (it
    // looks once per period); where it can (Linux pidfd, Windows process handles), an idle wait
    // looks once, after the first period, and then sleeps until the other end exits.
    std::uint64_t liveness_period_ns = 100'000'000;  // at least 1 ms
};

struct channel_info {
    spsc_info ring{};  // producer: the writer's role, consumer: the reader's; max_message: max_frame
    std::uint32_t metadata_capacity = 0;
    std::uint32_t metadata_size = 0;
    bool metadata_set = false;
};
errc inspect_channel(const void* base, std::uint64_t size, channel_info* out) noexcept;

// Whichever end creates the channel, the other opens it; both may be created in either order
// (open gives not_found until the creator has published it).
class channel_writer : private spsc_producer {
public:
    channel_writer() noexcept = default;

    // Bytes a segment with this configuration occupies; 0 for sizes beyond max_segment_bytes.
    static std::uint64_t segment_size(const channel_config& config) noexcept;
    static result<channel_writer> create(const char* name, const channel_config& config = {},
                                         const channel_options& options = {}) noexcept;
    static result<channel_writer> open(const char* name, const channel_options& options = {}) noexcept;
    static result<channel_writer> format(void* memory, std::uint64_t size, const channel_config& config,
                                         const channel_options& options = {}) noexcept;
    static result<channel_writer> attach(void* memory, std::uint64_t size,
                                         const channel_options& options = {}) noexcept;

    // How full the ring is, as this end sees it (see spsc_producer::used()).
    std::uint64_t capacity() const noexcept { return spsc_producer::capacity(); }
    std::uint64_t used() const noexcept { return spsc_producer::used(); }
    std::uint64_t free() const noexcept { return spsc_producer::free(); }
    bool is_empty() const noexcept { return spsc_producer::is_empty(); }
    bool is_full() const noexcept { return spsc_producer::is_full(); }
    bool is_open() const noexcept { return spsc_producer::is_open(); }
    using spsc_producer::close;
    using spsc_producer::unlink;  // removes the channel's name, if it still names this channel
    // The largest frame: at most largest_frame(capacity()).
    std::uint64_t max_frame() const noexcept { return max_message(); }
    std::uint64_t metadata_capacity() const noexcept { return metadata_capacity_; }

    // Fills the metadata block, once per channel: ok; already_set (written before, by this
    // writer or an earlier one); message_too_large (beyond metadata_capacity()).
    [[nodiscard]] errc set_metadata(const void* data, std::size_t size) noexcept;

    // A frame by copy: ok, full (no room now), message_too_large (beyond max_frame()).
    [[nodiscard]] errc try_write(const void* data, std::size_t size) noexcept { return try_push(data, size); }
    // Waits up to `timeout` for room: ok, timeout, peer_dead (the reader died holding the frames
    // that fill the channel), message_too_large.
    [[nodiscard]] errc write(const void* data, std::size_t size, nanoseconds timeout = wait_forever) noexcept {
        return push(data, size, timeout);
    }
    // Zero-copy: room for `size` bytes in place, contiguous; sent by its commit().
    using spsc_producer::reserve;
    using spsc_producer::try_reserve;

    // Zero-copy with a fixed prefix: reserves a frame of `prefix_size + size` bytes, copies
    // `prefix` into its start and returns the `size` bytes after it; commit(used) sends
    // `prefix_size + used` bytes. For frames that start with a header of the caller's (duplex).
    result<reservation> reserve_after(const void* prefix, std::size_t prefix_size, std::size_t size,
                                      nanoseconds timeout = wait_forever) noexcept;

    // The sequence number the next frame will carry (frames are numbered from 0 per channel).
    std::uint64_t next_seq() const noexcept { return next_seq_; }

    // A live process holds the reader's role now.
    bool reader_connected() const noexcept { return consumer_alive(); }

private:
    static void finish_after_prefix(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
    explicit channel_writer(spsc_producer&& p) noexcept : spsc_producer(static_cast<spsc_producer&&>(p)) {}
    static result<channel_writer> adopt(result<spsc_producer>&& p) noexcept;
};

class channel_reader : private spsc_consumer {
public:
    channel_reader() noexcept = default;

    static result<channel_reader> create(const char* name, const channel_config& config = {},
                                         const channel_options& options = {}) noexcept;
    static result<channel_reader> open(const char* name, const channel_options& options = {}) noexcept;
    static result<channel_reader> attach(void* memory, std::uint64_t size,
                                         const channel_options& options = {}) noexcept;

    // How full the ring is, as this end sees it (see spsc_producer::used()).
    std::uint64_t capacity() const noexcept { return spsc_consumer::capacity(); }
    std::uint64_t used() const noexcept { return spsc_consumer::used(); }
    std::uint64_t free() const noexcept { return spsc_consumer::free(); }
    bool is_empty() const noexcept { return spsc_consumer::is_empty(); }
    bool is_full() const noexcept { return spsc_consumer::is_full(); }
    bool is_open() const noexcept { return spsc_consumer::is_open(); }
    using spsc_consumer::close;
    using spsc_consumer::unlink;
    bool poll() noexcept { return spsc_consumer::poll(); }  // a frame is waiting
    using spsc_consumer::waitable;
    std::uint64_t max_frame() const noexcept { return max_message(); }
    std::uint64_t metadata_capacity() const noexcept { return metadata_capacity_; }

    // The metadata block in place: its bytes as the writer set them (valid while the reader is
    // open: it is never written again); empty until the writer has set it.
    result<message_view> metadata() const noexcept;

    // The next frame in place, valid until release(): empty; invalid_layout (a frame out of
    // sequence, or a corrupt ring).
    result<message_view> try_read() noexcept { return try_peek(); }
    // Waits up to `timeout`: timeout; peer_dead (every frame the writer sent has been read and
    // the writer has died).
    result<message_view> read(nanoseconds timeout = wait_forever) noexcept;
    // Gives the frame read last back to the writer; its view is invalid from here on. Nothing
    // (not a contract violation) when no frame is held.
    void release() noexcept {
        if (peeked_span_ != 0) spsc_consumer::release();
    }

    // A live process holds the writer's role now.
    bool writer_connected() const noexcept { return producer_alive(); }
    // Waits until a live process holds the writer's role (a writer connects, or takes over from
    // a dead one): ok, timeout.
    [[nodiscard]] errc wait_for_writer(nanoseconds timeout = wait_forever) noexcept;

private:
    explicit channel_reader(spsc_consumer&& c) noexcept : spsc_consumer(static_cast<spsc_consumer&&>(c)) {}
    static result<channel_reader> adopt(result<spsc_consumer>&& c) noexcept;
};

}  // namespace shmkit
