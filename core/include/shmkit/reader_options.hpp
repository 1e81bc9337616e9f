// How a reader that the writer can lap (broadcast, stream, video, audio) starts and maps.
#pragma once

#include "shmkit/segment.hpp"
#include "shmkit/wait.hpp"

namespace shmkit {

struct reader_options {
    // Start at the oldest message or sample still kept, not at the next new one.
    bool from_oldest = false;
    // Map read-only: the non-waiting calls work; a blocking call that would have to sleep gets
    // access_denied (sleeping announces the reader on a shared wait word).
    bool read_only = false;
    wait_options wait{};  // spin before sleeping in the blocking calls
    segment_options segment{};
};

}  // namespace shmkit
