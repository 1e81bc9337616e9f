# The README's C++ quick start must be examples/quickstart.cpp verbatim (which the consumer
# test compiles and runs), so the README cannot show code that does not build.
# The same holds for the Python quick start (FENCE=python, examples/quickstart.py).
# Usage: cmake -DREADME=README.md -DEXAMPLE=examples/quickstart.cpp [-DFENCE=python] -P check_readme.cmake
if(NOT DEFINED FENCE)
  set(FENCE cpp)
endif()
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "```${FENCE}\n${example}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's quick start differs from ${EXAMPLE}: copy the file into the README")
endif()
message(STATUS "README quick start matches ${EXAMPLE}")
