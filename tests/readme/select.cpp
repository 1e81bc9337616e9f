// Harness for README.md's select snippet (see CMakeLists.txt): the three readers it waits on.
#include <shmkit/broadcast.hpp>
#include <shmkit/command.hpp>
#include <shmkit/select.hpp>
#include <shmkit/spsc.hpp>

void readme_select(shmkit::broadcast_reader& telemetry, shmkit::spsc_consumer& frames,
                   shmkit::command_reader& control) {
#include "readme_select_1.inc"
    static_cast<void>(which);
}
