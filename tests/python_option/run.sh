#!/bin/sh
# SHMKIT_BUILD_PYTHON=AUTO/ON when pybind11 is too old or missing (bindings/python/CMakeLists.txt),
# by configuring shmkit (libraries only) with a stand-in pybind11 2.4 (Ubuntu 20.04's) as
# pybind11_DIR and a stand-in `python -m pybind11` on PYTHONPATH:
#   1. AUTO, no pip pybind11: configured, the module skipped, one line naming pybind11 2.4.3;
#   2. ON, the same: configure fails with that message;
#   3. AUTO, `python -m pybind11 --cmakedir` names a new-enough pybind11: the module is built
#      with that one (skipped when this build has no pybind11 to point at);
#   4. AUTO, no Python interpreter: skipped, one line saying so;
#   5. OFF: nothing said, no module.
# The stand-in 2.4's config file is an error if loaded: a too-old pybind11 is only looked at.
# Usage: run.sh <cmake> <source dir> <python> [<a pybind11 >= 2.6 CMake dir>]
set -eu
cmake=$1 src=$2 python=$3 new_pybind11=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/pybind11-2.4" "$work/nopip/pybind11" "$work/newpip/pybind11"
cat >"$work/pybind11-2.4/pybind11ConfigVersion.cmake" <<'EOF'
set(PACKAGE_VERSION 2.4.3)
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
EOF
echo 'message(FATAL_ERROR "the pybind11 2.4 stand-in was loaded")' >"$work/pybind11-2.4/pybind11Config.cmake"
touch "$work/nopip/pybind11/__init__.py" "$work/newpip/pybind11/__init__.py"
echo 'import sys; sys.exit("pybind11 is not installed")' >"$work/nopip/pybind11/__main__.py"
printf 'print(%s)\n' "'$new_pybind11'" >"$work/newpip/pybind11/__main__.py"

fail() { echo "python_option: $*" >&2; exit 1; }

# configure <name> <PYTHONPATH> <cmake args...>: output in $work/<name>.out, status in $rc
configure() {
  name=$1 pythonpath=$2
  shift 2
  rc=0
  PYTHONPATH="$pythonpath" "$cmake" -S "$src" -B "$work/$name" -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_BENCH=OFF \
    -DSHMKIT_BUILD_TOOLS=OFF -DSHMKIT_INSTALL=OFF "$@" >"$work/$name.out" 2>&1 || rc=$?
}
# has_module <name>: the build has the shmkit_python target
has_module() { [ -d "$work/$1/bindings/python/CMakeFiles/shmkit_python.dir" ]; }
skip_lines() { grep -c "Python module skipped" "$work/$1.out" || true; }

echo "== AUTO, pybind11 2.4, no pip pybind11"
configure auto-old "$work/nopip" -DSHMKIT_BUILD_PYTHON=AUTO -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$work/pybind11-2.4"
[ $rc -eq 0 ] || { cat "$work/auto-old.out" >&2; fail "AUTO with an old pybind11 failed to configure"; }
grep "Python module skipped" "$work/auto-old.out" || true
[ "$(skip_lines auto-old)" = 1 ] || fail "AUTO: not exactly one 'Python module skipped' line"
grep -q "Python module skipped (SHMKIT_BUILD_PYTHON=AUTO): pybind11 2.4.3 (.*) is older than 2.6, and .*-m pybind11 --cmakedir. finds none" \
  "$work/auto-old.out" || fail "AUTO: the skip line does not name pybind11 2.4.3 and the missing pip pybind11"
! has_module auto-old || fail "AUTO with an old pybind11 still made the module target"

echo "== ON, pybind11 2.4, no pip pybind11"
configure on-old "$work/nopip" -DSHMKIT_BUILD_PYTHON=ON -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$work/pybind11-2.4"
[ $rc -ne 0 ] || fail "ON with an old pybind11 configured"
# CMake wraps an error's lines: compare on one line.
error=$(sed -n '/^CMake Error/,/^Call Stack/p' "$work/on-old.out" | tr -s ' \n' '  ')
echo "$error"
echo "$error" | grep -q "SHMKIT_BUILD_PYTHON=ON, but pybind11 2.4.3 (.*) is older than 2.6" \
  || { cat "$work/on-old.out" >&2; fail "ON: the error does not name pybind11 2.4.3"; }

if [ -n "$new_pybind11" ]; then
  echo "== AUTO, pybind11 2.4, python -m pybind11 --cmakedir: $new_pybind11"
  configure auto-pip "$work/newpip" -DSHMKIT_BUILD_PYTHON=AUTO -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$work/pybind11-2.4"
  [ $rc -eq 0 ] || { cat "$work/auto-pip.out" >&2; fail "AUTO with pip's pybind11 failed to configure"; }
  grep "using pybind11" "$work/auto-pip.out" || true
  grep -q "pybind11 2.4.3 (.*) is older than 2.6; using pybind11 [0-9.]* from .*-m pybind11 --cmakedir. ($new_pybind11)" \
    "$work/auto-pip.out" || fail "AUTO: pip's pybind11 was not used, or not said so"
  [ "$(skip_lines auto-pip)" = 0 ] || fail "AUTO with pip's pybind11 skipped the module"
  has_module auto-pip || fail "AUTO with pip's pybind11 made no module target"
else
  echo "== (no pybind11 >= 2.6 here to stand for pip's: that case is not checked)"
fi

echo "== AUTO, no Python interpreter"
configure auto-nopy "$work/nopip" -DSHMKIT_BUILD_PYTHON=AUTO -DPython_EXECUTABLE="$work/no-such-python3"
[ $rc -eq 0 ] || { cat "$work/auto-nopy.out" >&2; fail "AUTO without Python failed to configure"; }
grep "Python module skipped" "$work/auto-nopy.out" || true
[ "$(skip_lines auto-nopy)" = 1 ] && grep -q "skipped (SHMKIT_BUILD_PYTHON=AUTO): no Python 3.7 or later interpreter" "$work/auto-nopy.out" \
  || fail "AUTO without Python: not one line saying there is no interpreter"
! has_module auto-nopy || fail "AUTO without Python made the module target"

echo "== OFF"
configure off "$work/nopip" -DSHMKIT_BUILD_PYTHON=OFF -Dpybind11_DIR="$work/pybind11-2.4"
[ $rc -eq 0 ] && [ "$(skip_lines off)" = 0 ] && ! has_module off || fail "OFF: configure failed, said something or made the module"
echo "python_option: passed"
