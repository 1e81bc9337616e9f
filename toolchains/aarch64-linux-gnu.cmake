# Cross-compiling for 64-bit ARM Linux (Jetson Xavier / Orin) with the distribution's cross gcc
# (Debian/Ubuntu: g++-aarch64-linux-gnu).
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#   [-DSHMKIT_SYSROOT=/path/to/jetson/rootfs]   # optional: a copy of the target's root fs
#   [-DCMAKE_CXX_FLAGS=-mcpu=cortex-a78ae]      # optional: Orin (Xavier: -march=armv8.2-a;
#                                               #   GCC has no -mcpu=carmel). README.md explains.
#
# The rest (compiler, sysroot, qemu-user as the emulator) is linux-gnu-cross.cmake.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SHMKIT_DEFAULT_CROSS_TRIPLE aarch64-linux-gnu)
set(SHMKIT_QEMU_NAME qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
