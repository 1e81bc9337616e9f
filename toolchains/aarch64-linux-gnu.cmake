# Cross-compiling for 64-bit ARM Linux (Jetson Xavier / Orin) with the distribution's cross gcc
# (Debian/Ubuntu: g++-aarch64-linux-gnu).
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#   [-DSHMKIT_SYSROOT=/path/to/jetson/rootfs]   # optional: a copy of the target's root fs
#   [-DCMAKE_CXX_FLAGS=-mcpu=cortex-a78ae]      # optional: Orin (Xavier: -march=armv8.2-a;
#                                               #   GCC has no -mcpu=carmel). README.md explains.
#
# CMAKE_CROSSCOMPILING_EMULATOR runs target binaries under qemu-user, so a plain `ctest` (and
# GoogleTest's test discovery) work on the build machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(SHMKIT_CROSS_TRIPLE aarch64-linux-gnu CACHE STRING "Cross tool prefix")
set(CMAKE_C_COMPILER ${SHMKIT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${SHMKIT_CROSS_TRIPLE}-g++)

set(SHMKIT_SYSROOT "" CACHE PATH "Optional target root filesystem")
if(SHMKIT_SYSROOT)
  set(CMAKE_SYSROOT ${SHMKIT_SYSROOT})
  set(SHMKIT_QEMU_LIBS ${SHMKIT_SYSROOT})
else()
  # Debian's cross toolchain keeps the target's libc and libstdc++ here.
  set(SHMKIT_QEMU_LIBS /usr/${SHMKIT_CROSS_TRIPLE})
endif()

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(SHMKIT_QEMU qemu-aarch64)
if(SHMKIT_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SHMKIT_QEMU} -L ${SHMKIT_QEMU_LIBS})
endif()
