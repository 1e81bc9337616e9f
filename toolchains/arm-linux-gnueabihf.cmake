# Cross-compiling for 32-bit ARM Linux (armhf: ARMv7-A, hard float, Thumb-2) with the
# distribution's cross gcc (Debian/Ubuntu: g++-arm-linux-gnueabihf).
#
#   cmake -S . -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#   [-DSHMKIT_SYSROOT=/path/to/target/rootfs]   # optional: a copy of the target's root fs
#
# Debian's armhf compiler targets ARMv7-A with VFPv3-D16, where 64-bit atomics are the
# lock-free LDREXD/STREXD pair. The rest (compiler, sysroot, qemu-user as the emulator) is
# linux-gnu-cross.cmake.
set(CMAKE_SYSTEM_PROCESSOR arm)
set(SHMKIT_DEFAULT_CROSS_TRIPLE arm-linux-gnueabihf)
set(SHMKIT_QEMU_NAME qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
