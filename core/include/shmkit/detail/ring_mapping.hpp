// What every handle of a ring kind (broadcast, spsc, command) holds, whichever end it is: the
// mapping, its control block and the validated ring.
#pragma once

#include <cstdint>

#include "shmkit/detail/atomic.hpp"
#include "shmkit/detail/byte_ring.hpp"
#include "shmkit/segment.hpp"

namespace shmkit::detail {

struct ring_layout;

template <class Control>
struct ring_mapping {
    segment segment_;
    Control* control_ = nullptr;
    byte_ring ring_;
    barrier_mode barriers_ = barrier_mode::fences;
    std::uint32_t max_message_ = 0;

    // Takes up a layout that map_ring_layout mapped and validated over the segment at `base`
    // (defined in core/src/ring_segment.hpp, where ring_layout is).
    void adopt(std::uint8_t* base, const ring_layout& l) noexcept;
};

}  // namespace shmkit::detail
