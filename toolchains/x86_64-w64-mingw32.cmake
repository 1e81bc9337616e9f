# Cross-compiling for 64-bit Windows with mingw-w64 (Debian/Ubuntu: g++-mingw-w64-x86-64-posix,
# the variant with std::thread and std::mutex).
#
#   cmake -S . -B build/windows -DCMAKE_TOOLCHAIN_FILE=toolchains/x86_64-w64-mingw32.cmake
#
# CMAKE_CROSSCOMPILING_EMULATOR runs the .exe files under wine (Debian: wine64), so a plain
# `ctest` (and GoogleTest's test discovery) work on the build machine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SHMKIT_CROSS_TRIPLE x86_64-w64-mingw32 CACHE STRING "Cross tool prefix")
set(CMAKE_C_COMPILER ${SHMKIT_CROSS_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SHMKIT_CROSS_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${SHMKIT_CROSS_TRIPLE}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${SHMKIT_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The C++ and winpthreads runtimes linked in, so the .exe files run without mingw's DLLs on
# wine's path (or a Windows machine's).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# Debian's wine64 package puts its launcher here, not on PATH.
find_program(SHMKIT_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT SHMKIT_WINE)
  find_program(SHMKIT_WINE NAMES wine64 wine)
endif()
if(SHMKIT_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SHMKIT_WINE})
endif()
