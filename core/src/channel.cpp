#include "shmkit/channel.hpp"

#include "ring_segment.hpp"
#include "shmkit/detail/copy.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {
namespace {

detail::spsc_end_settings channel_settings(const channel_options& options) noexcept {
    detail::spsc_end_settings s;
    s.wait = options.wait;
    s.k = kind::channel;
    // At least a millisecond: 0 would make the ends wait like spsc's, without looking at each
    // other, and a shorter period would spin where the OS cannot watch the peer's exit.
    s.liveness_period_ns = options.liveness_period_ns < 1'000'000 ? 1'000'000 : options.liveness_period_ns;
    return s;
}

spsc_config ring_config(const channel_config& config) noexcept {
    spsc_config c;
    c.capacity = config.capacity;
    c.max_message = config.max_frame;
    return c;
}

// The metadata block's bytes as stored: a multiple of 64, so the ring after it stays aligned;
// 0 for a request no segment could hold (create refuses it).
std::uint32_t metadata_capacity_for(const channel_config& config) noexcept {
    const std::uint64_t m = round_up(config.metadata_size, 64);
    return m > 0xFFFF'FFC0u ? 0 : static_cast<std::uint32_t>(m);
}
bool metadata_size_fits(const channel_config& config) noexcept {
    return config.metadata_size == 0 || metadata_capacity_for(config) != 0;
}

detail::ring_shape channel_shape(const channel_config& config) noexcept {
    return {kind::channel, channel_metadata_offset, metadata_capacity_for(config)};
}

}  // namespace

errc inspect_channel(const void* base, std::uint64_t size, channel_info* out) noexcept {
    ring_geometry g;
    const errc e = detail::inspect_spsc_ring(base, size, kind::channel, &out->ring, &g);
    if (failed(e)) return e;
    const auto* line = reinterpret_cast<const channel_metadata_line*>(static_cast<const std::uint8_t*>(base) +
                                                                      channel_metadata_line_offset);
    const std::uint64_t word = line->metadata.load(order::acquire);
    out->metadata_capacity = g.metadata_capacity;
    out->metadata_set = word != 0;
    out->metadata_size = static_cast<std::uint32_t>(word);
    return errc::ok;
}

// ---- writer ----------------------------------------------------------------------------------

std::uint64_t channel_writer::segment_size(const channel_config& config) noexcept {
    if (!metadata_size_fits(config)) return 0;
    return detail::ring_segment_size(channel_shape(config), config.capacity);
}

result<channel_writer> channel_writer::adopt(result<spsc_producer>&& p) noexcept {
    if (!p) return p.error();
    return channel_writer(static_cast<result<spsc_producer>&&>(p).value());
}

result<channel_writer> channel_writer::create(const char* name, const channel_config& config,
                                              const channel_options& options) noexcept {
    if (!metadata_size_fits(config)) return errc::invalid_argument;
    return adopt(bind_to<spsc_producer>(create_segment(name, kind::channel, ring_config(config),
                                                       metadata_capacity_for(config), true, options.segment),
                                        channel_settings(options), true));
}

result<channel_writer> channel_writer::open(const char* name, const channel_options& options) noexcept {
    return adopt(bind_to<spsc_producer>(open_segment(name, kind::channel, options.segment), channel_settings(options),
                                        false));
}

result<channel_writer> channel_writer::format(void* memory, std::uint64_t size, const channel_config& config,
                                              const channel_options& options) noexcept {
    if (!metadata_size_fits(config)) return errc::invalid_argument;
    const errc e = detail::format_ring_memory(memory, size, channel_shape(config), config.max_frame);
    if (failed(e)) return e;
    return attach(memory, size, options);
}

result<channel_writer> channel_writer::attach(void* memory, std::uint64_t size, const channel_options& options) noexcept {
    return adopt(bind_to<spsc_producer>(memory, size, channel_settings(options), false));
}

errc channel_writer::set_metadata(const void* data, std::size_t size) noexcept {
    if (control_ == nullptr) return errc::not_open;
    if (!claimed_by_this_process(claimed_as_)) return errc::wrong_process;
    if (size > metadata_capacity_) return errc::message_too_large;
    // Only the writer's role holder writes the block, so nobody races us to it; a writer that
    // died while copying left the word 0, and its successor writes the block afresh.
    if (metadata_line_->metadata.load(order::acquire) != 0) return errc::already_set;
    copy_to_shared(metadata_, data, size);
    // Release: the bytes are in place before a reader that sees the size reads them.
    metadata_line_->metadata.store(channel_metadata_written | size, order::release);
    return errc::ok;
}

void channel_writer::finish_after_prefix(detail::reservation_state& r, std::size_t used, bool publish) noexcept {
    spsc_producer::finish(r, used + r.position_, publish);
}

result<reservation> channel_writer::reserve_after(const void* prefix, std::size_t prefix_size, std::size_t size,
                                                  nanoseconds timeout) noexcept {
    if (size > max_message_ || prefix_size > max_message_ - size) return errc::message_too_large;
    auto r = reserve(prefix_size + size, timeout);
    if (!r) return r;
    copy_to_shared(r->data(), prefix, prefix_size);
    // The same space, less the prefix: commit(used) publishes the prefix and `used` bytes.
    reservation after(static_cast<spsc_producer*>(this), &finish_after_prefix, r->data() + prefix_size, size,
                      claimed_as_);
    after.position_ = prefix_size;
    r->writer_ = nullptr;  // handed over to `after`: finishing `r` now would publish the frame
    return after;
}

// ---- reader ----------------------------------------------------------------------------------

result<channel_reader> channel_reader::adopt(result<spsc_consumer>&& c) noexcept {
    if (!c) return c.error();
    return channel_reader(static_cast<result<spsc_consumer>&&>(c).value());
}

result<channel_reader> channel_reader::create(const char* name, const channel_config& config,
                                              const channel_options& options) noexcept {
    if (!metadata_size_fits(config)) return errc::invalid_argument;
    return adopt(bind_to<spsc_consumer>(create_segment(name, kind::channel, ring_config(config),
                                                       metadata_capacity_for(config), false, options.segment),
                                        channel_settings(options), true));
}

result<channel_reader> channel_reader::open(const char* name, const channel_options& options) noexcept {
    return adopt(bind_to<spsc_consumer>(open_segment(name, kind::channel, options.segment), channel_settings(options),
                                        false));
}

result<channel_reader> channel_reader::attach(void* memory, std::uint64_t size, const channel_options& options) noexcept {
    return adopt(bind_to<spsc_consumer>(memory, size, channel_settings(options), false));
}

result<message_view> channel_reader::read(nanoseconds timeout) noexcept {
    return peek_until(deadline_after(timeout));
}

errc channel_reader::wait_for_writer(nanoseconds timeout) noexcept {
    if (control_ == nullptr) return errc::not_open;
    // A writer that claims the role wakes the data word (announce_role_change).
    return wait_until(control_->data, barriers_, [this] { return producer_alive(); }, deadline_after(timeout),
                      settings_.wait);
}

result<message_view> channel_reader::metadata() const noexcept {
    if (control_ == nullptr) return errc::not_open;
    // Acquire: pairs with set_metadata's release, so the block's bytes are complete.
    const std::uint64_t word = metadata_line_->metadata.load(order::acquire);
    if (word == 0) return errc::empty;
    const std::uint64_t size = word & 0xFFFF'FFFFu;
    if ((word & ~std::uint64_t{0xFFFF'FFFFu}) != channel_metadata_written || size > metadata_capacity_) {
        return errc::invalid_layout;
    }
    message_view v;
    v.data = metadata_;
    v.size = size;
    return v;
}

}  // namespace shmkit
