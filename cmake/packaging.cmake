# Debian packages (CPack's DEB generator), one per install component:
#   libshmkit-dev  static libraries, headers (with the generated version.hpp), CMake package,
#                  pkg-config file
#   shmkit-tools   the shmkit command-line tool and its man page
# `make deb` builds them for the build machine and `make deb-arm64` from the aarch64 cross
# build (both into build/); by hand: `cpack` in a build tree writes
# <name>_<version>-1_<arch>.deb there (-D CPACK_OUTPUT_FILE_PREFIX=<dir> elsewhere).
# The architecture is the target's (CMAKE_SYSTEM_PROCESSOR), never the build machine's.

set(SHMKIT_DEB_MAINTAINER "The shmkit authors <maintainers@shmkit.invalid>"
    CACHE STRING "Maintainer field of the Debian packages (name <email>)")

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" shmkit_processor)
if(shmkit_processor MATCHES "^(x86_64|amd64)$")
  set(shmkit_deb_arch amd64)
elseif(shmkit_processor MATCHES "^(aarch64|arm64)$")
  set(shmkit_deb_arch arm64)
elseif(shmkit_processor MATCHES "^armv?[67]")
  set(shmkit_deb_arch armhf)
elseif(shmkit_processor MATCHES "^i[3-6]86$")
  set(shmkit_deb_arch i386)
elseif(shmkit_processor MATCHES "^riscv64$")
  set(shmkit_deb_arch riscv64)
else()
  set(shmkit_deb_arch "${shmkit_processor}")
  message(STATUS "shmkit: Debian architecture of CMAKE_SYSTEM_PROCESSOR '${CMAKE_SYSTEM_PROCESSOR}' unknown; "
                 "packages would say '${shmkit_deb_arch}'")
endif()

# Debian's copyright file, in each package's doc folder (the licence is the project's LICENSE).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libshmkit-dev
        RENAME copyright COMPONENT dev)
if(TARGET shmkit_cli)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/shmkit-tools
          RENAME copyright COMPONENT tools)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shmkit)
set(CPACK_PACKAGE_VENDOR "The shmkit authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGE_CONTACT "${SHMKIT_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev)
if(TARGET shmkit_cli)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${shmkit_deb_arch})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SHMKIT_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libshmkit-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# Static libraries: linking them needs the C library's development files (pthread, rt).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libc6-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "shmkit-tools, pkg-config, cmake (>= 3.16)")
# The Description's first line (the synopsis) is CPACK_PACKAGE_DESCRIPTION_SUMMARY, the
# project's description, for both packages; these are the lines after it.
set(CPACK_COMPONENT_DEV_DESCRIPTION "Development files: static libraries, headers, CMake package, pkg-config.
Local processes exchange data through named shared-memory segments: broadcast,
spsc, command, block, select, stream, video, audio and kv. The core is
freestanding C++17 (no exceptions, no RTTI, no heap); a thin port layer
supplies the OS.
.
This package holds the static libraries shmkit_core and shmkit_port, the
headers, the CMake package (find_package(shmkit), target shmkit::shmkit) and
the pkg-config file (shmkit).")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME shmkit-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "The shmkit command-line tool and its man page.
shmkit lists, inspects, removes and reaps shmkit shared-memory segments
(shmkit ls, info, rm, gc) and runs a demo of a writer and two reader
processes.")
if(NOT CMAKE_CROSSCOMPILING)
  # dpkg-shlibdeps knows the build machine's libraries.
  set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
else()
  # dpkg-shlibdeps cannot read a cross toolchain's libraries (they are not packages of the
  # target architecture), so cmake/cpack_project.cmake states the dependencies from the
  # tool's own dynamic section when the package is made: libc6 at least the newest GLIBC_
  # symbol version it uses, libstdc++6 at least the compiler's major version.
  set(CPACK_SHMKIT_TOOL ${CMAKE_BINARY_DIR}/bindings/cli/shmkit)
  set(CPACK_SHMKIT_OBJDUMP ${CMAKE_OBJDUMP})
  set(CPACK_SHMKIT_CXX_MAJOR ${CMAKE_CXX_COMPILER_VERSION})
  string(REGEX REPLACE "\\..*" "" CPACK_SHMKIT_CXX_MAJOR "${CPACK_SHMKIT_CXX_MAJOR}")
  set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/cmake/cpack_project.cmake)
endif()

include(CPack)
