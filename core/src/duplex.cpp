#include "shmkit/duplex.hpp"

#include "shmkit/detail/copy.hpp"
#include "shmkit/detail/wait.hpp"

namespace shmkit {
namespace {

// "<name><suffix>" into `out`; invalid_argument if it does not fit (a valid name is shorter).
// Copied byte by byte: the core calls no libc string function.
template <std::size_t N>
errc suffixed(const char* name, const char (&suffix)[N], char (&out)[256]) noexcept {
    if (name == nullptr) return errc::invalid_argument;
    std::size_t n = 0;
    for (; name[n] != '\0'; ++n) {
        if (n + N >= sizeof out) return errc::invalid_argument;
        out[n] = name[n];
    }
    for (std::size_t i = 0; i < N; ++i) out[n + i] = suffix[i];  // N counts the terminator
    return errc::ok;
}

constexpr std::size_t header_size = sizeof(duplex_response_header);

// The largest frame of a channel whose payloads are `max` bytes after a response header.
std::uint32_t response_frame_limit(std::uint32_t max) noexcept {
    return max == 0 ? 0 : (max > 0xFFFF'FFF0u - header_size ? 0xFFFF'FFF0u : max + static_cast<std::uint32_t>(header_size));
}

// Time left before `deadline_ns`, as a timeout for a call that takes one.
nanoseconds left_until(std::uint64_t deadline_ns) noexcept {
    if (deadline_ns == os::forever) return wait_forever;
    const std::uint64_t now = os::monotonic_ns();
    return nanoseconds(deadline_ns > now ? static_cast<std::int64_t>(deadline_ns - now) : 0);
}

}  // namespace

errc detail::duplex_names::make(const char* name) noexcept {
    const errc e = suffixed(name, duplex_request_suffix, request);
    return failed(e) ? e : suffixed(name, duplex_response_suffix, response);
}

// ---- server ----------------------------------------------------------------------------------

result<duplex_server> duplex_server::create(const char* name, const duplex_config& config,
                                            const channel_options& options) noexcept {
    detail::duplex_names names;
    if (const errc e = names.make(name); failed(e)) return e;
    channel_config requests;
    requests.capacity = config.request_capacity;
    requests.max_frame = config.max_request;
    channel_config responses;
    responses.capacity = config.response_capacity;
    responses.max_frame = response_frame_limit(config.max_response);
    duplex_server s;
    auto r = channel_reader::create(names.request, requests, options);
    if (!r) return r.error();
    s.requests_ = static_cast<result<channel_reader>&&>(r).value();
    auto w = channel_writer::create(names.response, responses, options);
    if (!w) {
        s.requests_.close();
        static_cast<void>(segment::remove(names.request));
        return w.error();
    }
    s.responses_ = static_cast<result<channel_writer>&&>(w).value();
    return s;
}

result<message_view> duplex_server::receive_request(nanoseconds timeout) noexcept {
    const std::uint64_t deadline = deadline_after(timeout);
    for (;;) {
        auto r = requests_.read(left_until(deadline));
        if (r || r.error() != errc::peer_dead) return r;
        // The client died after its last request was served: wait for the next one.
        const errc e = requests_.wait_for_writer(left_until(deadline));
        if (failed(e)) return e;
    }
}

void duplex_server::release_request() noexcept { requests_.release(); }

errc duplex_server::respond(std::uint64_t request_seq, const void* data, std::size_t size,
                            nanoseconds timeout) noexcept {
    auto slot = reserve_response(request_seq, size, timeout);
    if (!slot) return slot.error();
    copy_to_shared(slot->data(), data, size);
    slot->commit(size);
    return errc::ok;
}

result<reservation> duplex_server::reserve_response(std::uint64_t request_seq, std::size_t size,
                                                    nanoseconds timeout) noexcept {
    const duplex_response_header h{request_seq, 0};
    return responses_.reserve_after(&h, sizeof h, size, timeout);
}

// ---- client ----------------------------------------------------------------------------------

result<duplex_client> duplex_client::open(const char* name, const channel_options& options) noexcept {
    detail::duplex_names names;
    if (const errc e = names.make(name); failed(e)) return e;
    duplex_client c;
    auto w = channel_writer::open(names.request, options);
    if (!w) return w.error();
    c.requests_ = static_cast<result<channel_writer>&&>(w).value();
    auto r = channel_reader::open(names.response, options);
    if (!r) return r.error();  // c's destructor gives the request channel's role back
    c.responses_ = static_cast<result<channel_reader>&&>(r).value();
    // Responses to requests numbered before this client's first are a dead predecessor's.
    c.first_seq_ = c.requests_.next_seq();
    return c;
}

result<std::uint64_t> duplex_client::send_request(const void* data, std::size_t size, nanoseconds timeout) noexcept {
    const std::uint64_t seq = requests_.next_seq();
    const errc e = requests_.write(data, size, timeout);
    if (failed(e)) return e;
    ++in_flight_;
    return seq;
}

result<message_view> duplex_client::receive_response(nanoseconds timeout) noexcept {
    const std::uint64_t deadline = deadline_after(timeout);
    for (;;) {
        auto f = responses_.read(left_until(deadline));
        if (!f) return f.error();
        duplex_response_header h;
        if (f->size < header_size) {
            responses_.release();
            return errc::invalid_layout;
        }
        copy_from_shared(&h, f->data, header_size);
        if (h.request_seq < first_seq_ || h.request_seq >= requests_.next_seq()) {
            responses_.release();  // a predecessor's (or no request of ours at all): not ours
            continue;
        }
        if (in_flight_ != 0) --in_flight_;
        message_view v;
        v.data = f->data + header_size;
        v.size = f->size - header_size;
        v.seq = h.request_seq;
        return v;
    }
}

void duplex_client::release_response() noexcept { responses_.release(); }

result<message_info> duplex_client::call(const void* request, std::size_t size, void* buffer, std::size_t capacity,
                                         nanoseconds timeout) noexcept {
    if (in_flight_ != 0) return errc::busy;
    const std::uint64_t deadline = deadline_after(timeout);
    auto seq = send_request(request, size, left_until(deadline));
    if (!seq) return seq.error();
    auto v = receive_response(left_until(deadline));
    // Only our request is in flight; anything else is a duplicate or a stray, not ours.
    while (v && v->seq != *seq) {
        release_response();
        v = receive_response(left_until(deadline));
    }
    if (!v) return v.error();
    message_info info{v->size, v->seq, 0};
    const bool fits = v->size <= capacity;
    if (fits) copy_from_shared(buffer, v->data, v->size);
    release_response();
    if (!fits) return errc::message_too_large;
    return info;
}

}  // namespace shmkit
