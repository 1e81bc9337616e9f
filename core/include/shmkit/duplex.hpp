// duplex: request/response between a client and a server process, over two channels
// ("<name>.request", "<name>.response"). Each request is a request-channel frame and carries its
// frame sequence number; each response starts with a small header naming the request it answers
// (core/SPEC.md "duplex"), so a client may keep several requests in flight and match their
// responses, in whatever order a server answers them. Zero-copy both ways: requests and responses
// can be reserved and filled in place, and read in place.
//
// Deaths: a server that dies ends a client's blocking call with peer_dead; a client that dies
// leaves the server to drop its pending responses (a response that finds no room says peer_dead)
// and to serve the next client, whose calls skip any response meant for its predecessor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmkit/channel.hpp"
#include "shmkit/wire/duplex.hpp"

namespace shmkit {

struct duplex_config {
    std::uint64_t request_capacity = 1u << 20;   // ring bytes of each direction
    std::uint64_t response_capacity = 1u << 20;
    std::uint32_t max_request = 0;                // 0: as large as the ring allows
    std::uint32_t max_response = 0;               // payload bytes, after the response header
};

namespace detail {
// What both ends hold: their end of each channel.
template <class RequestEnd, class ResponseEnd>
class duplex_end {
public:
    bool is_open() const noexcept { return requests_.is_open(); }
    void close() noexcept {
        requests_.close();
        responses_.close();
    }
    // Removes both channels' names (those that still name this duplex's channels).
    [[nodiscard]] errc unlink() noexcept {
        const errc requests = requests_.unlink(), responses = responses_.unlink();
        return failed(requests) ? requests : responses;
    }
    std::uint64_t max_request() const noexcept { return requests_.max_frame(); }
    // The largest response payload: a response frame less its header.
    std::uint64_t max_response() const noexcept {
        const std::uint64_t frame = responses_.max_frame();
        return frame < sizeof(duplex_response_header) ? 0 : frame - sizeof(duplex_response_header);
    }

protected:
    RequestEnd requests_;
    ResponseEnd responses_;
};

// The two channels' names of duplex `name`: invalid_argument if they would be too long.
struct duplex_names {
    char request[256];
    char response[256];
    errc make(const char* name) noexcept;
};
}  // namespace detail

// The server: creates both channels (the request channel's reader, the response channel's writer).
class duplex_server : public detail::duplex_end<channel_reader, channel_writer> {
public:
    static result<duplex_server> create(const char* name, const duplex_config& config = {},
                                        const channel_options& options = {}) noexcept;

    // The next request in place (seq: its sequence number, which its response must carry),
    // waiting up to `timeout`; valid until release_request(), which must come before the next
    // receive_request() (the server may answer after releasing it). A client that died is
    // not an error here: its remaining requests are served, then the wait goes on for the next
    // client. timeout.
    result<message_view> receive_request(nanoseconds timeout = wait_forever) noexcept;
    // Gives the request read last back to the client.
    void release_request() noexcept;
    // Answers request `request_seq` with a copy of `size` bytes (which may be the request's own,
    // before its release): ok; peer_dead (the client died: the response is dropped); timeout (no
    // room); message_too_large.
    [[nodiscard]] errc respond(std::uint64_t request_seq, const void* data, std::size_t size,
                               nanoseconds timeout = wait_forever) noexcept;
    // Zero-copy: room for a response of up to `size` bytes in place; its commit(used) sends it.
    result<reservation> reserve_response(std::uint64_t request_seq, std::size_t size,
                                         nanoseconds timeout = wait_forever) noexcept;
    bool client_connected() const noexcept { return requests_.writer_connected(); }
    select_source waitable() noexcept { return requests_.waitable(); }  // ready when a request waits

    // Receives one request and answers it with handler(request, out), where `out` is a
    // duplex_response to fill in place (out.reserve(size) then out.commit(used)) or by copy
    // (out.write(data, size)); a handler that sends nothing sends an empty response. ok, timeout,
    // or what sending the response said (peer_dead: the client died, its response was dropped).
    template <class Handler>
    errc serve_one(Handler&& handler, nanoseconds timeout = wait_forever) noexcept;

private:
    static void finish_response(detail::reservation_state& r, std::size_t used, bool publish) noexcept;
    friend class duplex_response;
};

// What a serve_one() handler answers through.
class duplex_response {
public:
    // Room for `size` bytes in place, or null (too large, or no room before the timeout).
    std::uint8_t* reserve(std::size_t size, nanoseconds timeout = wait_forever) noexcept {
        auto r = server_->reserve_response(request_seq_, size, timeout);
        if (!r) {
            error_ = r.error();
            return nullptr;
        }
        slot_ = static_cast<result<reservation>&&>(r).value();
        return slot_.data();
    }
    void commit(std::size_t used) noexcept {
        slot_.commit(used);
        sent_ = true;
    }
    void write(const void* data, std::size_t size, nanoseconds timeout = wait_forever) noexcept {
        error_ = server_->respond(request_seq_, data, size, timeout);
        sent_ = true;
    }

private:
    friend class duplex_server;
    duplex_response(duplex_server* s, std::uint64_t seq) noexcept : server_(s), request_seq_(seq) {}
    duplex_server* server_;
    std::uint64_t request_seq_;
    reservation slot_;
    errc error_ = errc::ok;
    bool sent_ = false;
};

template <class Handler>
errc duplex_server::serve_one(Handler&& handler, nanoseconds timeout) noexcept {
    auto request = receive_request(timeout);
    if (!request) return request.error();
    duplex_response out(this, request->seq);
    handler(*request, out);
    if (!out.sent_ && out.error_ == errc::ok && out.slot_.is_open()) out.commit(out.slot_.size());
    if (!out.sent_ && out.error_ == errc::ok) out.write(nullptr, 0, timeout);
    release_request();
    return out.error_;
}

// The client: opens both channels (the request channel's writer, the response channel's reader).
class duplex_client : public detail::duplex_end<channel_writer, channel_reader> {
public:
    static result<duplex_client> open(const char* name, const channel_options& options = {}) noexcept;

    // Sends a request (a copy), waiting up to `timeout` for room: its sequence number, which its
    // response will carry; peer_dead (the server died), timeout, message_too_large.
    result<std::uint64_t> send_request(const void* data, std::size_t size,
                                       nanoseconds timeout = wait_forever) noexcept;
    // The next response in place (seq: the request it answers), waiting up to `timeout`; valid
    // until release_response(). Responses to a previous client's requests are skipped.
    // peer_dead (the server died), timeout.
    result<message_view> receive_response(nanoseconds timeout = wait_forever) noexcept;
    void release_response() noexcept;
    // One request and its response, copied into `buffer`: the response's size and the request's
    // sequence number. busy while other requests are in flight (their responses would be in the
    // way); message_too_large (the response is larger than `capacity`; it is consumed).
    result<message_info> call(const void* request, std::size_t size, void* buffer, std::size_t capacity,
                              nanoseconds timeout = wait_forever) noexcept;
    std::uint64_t in_flight() const noexcept { return in_flight_; }
    bool server_connected() const noexcept { return responses_.writer_connected(); }

private:
    std::uint64_t first_seq_ = 0;  // this client's first request; earlier responses are not ours
    std::uint64_t in_flight_ = 0;
};

}  // namespace shmkit
