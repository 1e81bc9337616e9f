// duplex's response framing (core/SPEC.md "duplex"): every response frame starts with this.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shmkit {

struct duplex_response_header {
    std::uint64_t request_seq;  // the sequence number of the request frame it answers
    std::uint64_t reserved0;    // 0
};
static_assert(sizeof(duplex_response_header) == 16);
static_assert(offsetof(duplex_response_header, request_seq) == 0);
static_assert(offsetof(duplex_response_header, reserved0) == 8);

// The two channels of duplex "<name>": "<name>.request" (client -> server) and "<name>.response".
inline constexpr char duplex_request_suffix[] = ".request";
inline constexpr char duplex_response_suffix[] = ".response";

}  // namespace shmkit
