// Windows has no membarrier: FlushProcessWriteBuffers acts on the calling process's threads
// only, and the heavy barrier must reach every process attached to a segment. Segments created
// here use the fences mode, and a segment created elsewhere in membarrier mode (Linux, or WSL
// sharing memory with Windows) is refused with `unsupported` when a Windows process attaches
// (core/SPEC.md "Light and heavy barriers").
#include "shmkit/os.hpp"

namespace shmkit::os {

bool membarrier_usable() noexcept { return false; }

errc heavy_membarrier() noexcept { return errc::unsupported; }

}  // namespace shmkit::os
