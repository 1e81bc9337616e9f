# Cross-compiling for 32-bit ARM Linux (armhf: ARMv7-A, hard float, Thumb-2) with the
# distribution's cross gcc (Debian/Ubuntu: g++-arm-linux-gnueabihf).
#
#   cmake -S . -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#   [-DSHMKIT_SYSROOT=/path/to/target/rootfs]   # optional: a copy of the target's root fs
#
# Debian's armhf compiler targets ARMv7-A with VFPv3-D16, where 64-bit atomics are the
# lock-free LDREXD/STREXD pair. CMAKE_CROSSCOMPILING_EMULATOR runs target binaries under
# qemu-user, so a plain `ctest` (and GoogleTest's test discovery) work on the build machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(SHMKIT_CROSS_TRIPLE arm-linux-gnueabihf CACHE STRING "Cross tool prefix")
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

find_program(SHMKIT_QEMU qemu-arm)
if(SHMKIT_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SHMKIT_QEMU} -L ${SHMKIT_QEMU_LIBS})
endif()
