#!/bin/sh
# Checks the Debian packages of `make deb` / `make deb-arm64` as a user of them would meet them:
#   - dpkg-deb -I: name, version (CMakeLists.txt's project()), architecture;
#   - dpkg-deb -c: exactly the expected files (no test binaries, nothing else), every public
#     header and the generated version.hpp;
#   - unpacked with dpkg -x into a scratch folder: no file names a build or source path;
#     the unpacked `shmkit --version` runs and prints the version, the man page is there;
#   - the README's C++ quick start (examples/quickstart.cpp) built against the unpacked tree
#     through find_package(shmkit) (CMAKE_PREFIX_PATH) and through pkg-config, and run.
# arm64: the quick start is cross-compiled (toolchains/aarch64-linux-gnu.cmake,
# aarch64-linux-gnu-g++) and everything runs under qemu-aarch64 -L /usr/aarch64-linux-gnu.
# Usage: check.sh <architecture: this machine's (dpkg --print-architecture) or arm64>
#                 <folder holding the .deb files> <source dir>
set -eu
arch=$1 debs=$2 src=$(cd "$3" && pwd)
debs=$(cd "$debs" && pwd)

version=$(sed -n 's/^project(shmkit VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$version" ] || { echo "check.sh: no project(shmkit VERSION ...) in CMakeLists.txt" >&2; exit 1; }
dev="$debs/libshmkit-dev_${version}-1_${arch}.deb"
tools="$debs/shmkit-tools_${version}-1_${arch}.deb"

if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  cxx=g++ run="" cmake_flags="-DCMAKE_CXX_COMPILER=g++"
elif [ "$arch" = arm64 ]; then
  cxx=aarch64-linux-gnu-g++ run="qemu-aarch64 -L /usr/aarch64-linux-gnu"
  cmake_flags="-DCMAKE_TOOLCHAIN_FILE=$src/toolchains/aarch64-linux-gnu.cmake"
else
  echo "check.sh: $arch is neither this machine's architecture nor arm64" >&2; exit 2
fi

fail() { echo "check.sh ($arch): $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for deb in "$dev" "$tools"; do
  [ -f "$deb" ] || fail "$deb is missing"
  field() { dpkg-deb -f "$deb" "$1"; }
  name=$(basename "$deb" | sed 's/_.*//')
  [ "$(field Package)" = "$name" ] || fail "$deb: Package is '$(field Package)', not $name"
  [ "$(field Version)" = "${version}-1" ] || fail "$deb: Version is '$(field Version)', not ${version}-1"
  [ "$(field Architecture)" = "$arch" ] || fail "$deb: Architecture is '$(field Architecture)', not $arch"
  [ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] || fail "$deb: no Maintainer or Description"
  echo "== $(basename "$deb"): $(field Package) $(field Version) $(field Architecture); Depends: $(field Depends)"
done

# The files of each package (directories left out), against what it must hold.
dpkg-deb -c "$dev" | awk '$1 !~ /^d/ { print $6 }' | sort >"$work/dev.files"
dpkg-deb -c "$tools" | awk '$1 !~ /^d/ { print $6 }' | sort >"$work/tools.files"
{
  (cd "$src/core/include" && find shmkit -name '*.hpp') | sed 's|^|./usr/include/|'
  echo ./usr/include/shmkit/version.hpp
  printf '%s\n' ./usr/lib/libshmkit_core.a ./usr/lib/libshmkit_port.a \
    ./usr/lib/cmake/shmkit/shmkitConfig.cmake ./usr/lib/cmake/shmkit/shmkitConfigVersion.cmake \
    ./usr/lib/cmake/shmkit/shmkitTargets.cmake ./usr/lib/cmake/shmkit/shmkitTargets-release.cmake \
    ./usr/lib/pkgconfig/shmkit.pc ./usr/share/doc/libshmkit-dev/copyright
} | sort >"$work/dev.expected"
printf '%s\n' ./usr/bin/shmkit ./usr/share/doc/shmkit-tools/copyright ./usr/share/man/man1/shmkit.1.gz \
  | sort >"$work/tools.expected"
for p in dev tools; do
  if ! cmp -s "$work/$p.files" "$work/$p.expected"; then
    echo "check.sh ($arch): the $p package's files differ from the expected ones (< package, > expected):" >&2
    diff "$work/$p.files" "$work/$p.expected" >&2 || true
    exit 1
  fi
done
echo "== contents: $(wc -l <"$work/dev.files") files in the dev package, $(wc -l <"$work/tools.files") in the tools package, as expected"

root="$work/root"
dpkg -x "$dev" "$root"
dpkg -x "$tools" "$root"

# No installed file may name the source or build tree (the CMake package and the .pc must be
# relocatable; the libraries must not carry build paths).
build_root=$(dirname "$debs")
if grep -rlF -e "$src" -e "$debs" -e "$build_root" "$root" >"$work/paths" 2>/dev/null; then
  echo "check.sh ($arch): files naming a build or source path:" >&2
  sed "s|$root||" "$work/paths" >&2
  exit 1
fi

echo "== shmkit --version (unpacked)"
# shellcheck disable=SC2086
out=$($run "$root/usr/bin/shmkit" --version) || fail "the unpacked shmkit --version failed"
echo "$out"
case $out in
  "shmkit $version "*) ;;
  *) fail "shmkit --version printed '$out', not 'shmkit $version ...'" ;;
esac
gzip -t "$root/usr/share/man/man1/shmkit.1.gz" || fail "the man page is not a valid gzip file"
zcat "$root/usr/share/man/man1/shmkit.1.gz" | grep -q "^\.TH SHMKIT \"1\"" || fail "the man page has no .TH SHMKIT \"1\" header"
zcat "$root/usr/share/man/man1/shmkit.1.gz" | grep -qF "$version" || fail "the man page does not name version $version"
echo "== man page: usr/share/man/man1/shmkit.1.gz"

echo "== find_package(shmkit) with CMAKE_PREFIX_PATH=<unpacked>/usr"
# shellcheck disable=SC2086
cmake -S "$src/tests/consumer" -B "$work/fp" -DCMAKE_PREFIX_PATH="$root/usr" $cmake_flags >"$work/fp.log" 2>&1 \
  || { cat "$work/fp.log" >&2; fail "configuring tests/consumer against the package failed"; }
found=$(sed -n 's/^shmkit_DIR:PATH=//p' "$work/fp/CMakeCache.txt")
[ "$found" = "$root/usr/lib/cmake/shmkit" ] || fail "find_package found shmkit in '$found', not in the unpacked package"
cmake --build "$work/fp" >"$work/fp-build.log" 2>&1 || { cat "$work/fp-build.log" >&2; fail "building the quick start failed"; }
# shellcheck disable=SC2086
$run "$work/fp/quickstart"

echo "== pkg-config shmkit with PKG_CONFIG_LIBDIR=<unpacked>/usr/lib/pkgconfig"
# The .pc file finds its prefix from its own place (${pcfiledir}), so no sysroot is needed;
# PKG_CONFIG_LIBDIR (not _PATH) keeps the build machine's .pc files out.
flags=$(PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" pkg-config --cflags --libs shmkit)
echo "pkg-config: $flags"
dirs=""
for w in $flags; do
  case $w in
    -I*|-L*) dirs="$dirs ${w%"${w#??}"}$(realpath "${w#??}")" ;;
  esac
done
[ "$dirs" = " -I$root/usr/include -L$root/usr/lib" ] \
  || fail "pkg-config's -I and -L are not the unpacked package's include and lib folders:$dirs"
[ "$(PKG_CONFIG_LIBDIR="$root/usr/lib/pkgconfig" pkg-config --modversion shmkit)" = "$version" ] \
  || fail "pkg-config --modversion is not $version"
# shellcheck disable=SC2086
"$cxx" -std=c++17 -o "$work/pc-quickstart" "$src/examples/quickstart.cpp" $flags
# shellcheck disable=SC2086
$run "$work/pc-quickstart"

echo "== the generated <shmkit/version.hpp>"
printf '#include <cstdio>\n#include <shmkit/version.hpp>\nint main() { std::puts(SHMKIT_VERSION_STRING); }\n' \
  >"$work/version.cpp"
# shellcheck disable=SC2086
"$cxx" -std=c++17 -o "$work/version" "$work/version.cpp" $flags
# shellcheck disable=SC2086
[ "$($run "$work/version")" = "$version" ] || fail "<shmkit/version.hpp> does not say $version"

echo "check.sh ($arch): the packages passed"
