# What every Linux cross toolchain file here shares: the distribution's cross gcc named by its
# triple, an optional copy of the target's root file system, and qemu-user as the emulator, so a
# plain `ctest` (and GoogleTest's test discovery) runs the target's binaries on the build machine.
# The including file sets CMAKE_SYSTEM_PROCESSOR, SHMKIT_DEFAULT_CROSS_TRIPLE and SHMKIT_QEMU_NAME.
set(CMAKE_SYSTEM_NAME Linux)

set(SHMKIT_CROSS_TRIPLE ${SHMKIT_DEFAULT_CROSS_TRIPLE} CACHE STRING "Cross tool prefix")
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

find_program(SHMKIT_QEMU ${SHMKIT_QEMU_NAME})
if(SHMKIT_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SHMKIT_QEMU} -L ${SHMKIT_QEMU_LIBS})
endif()
