# The README's C++ quick start must be examples/quickstart.cpp verbatim (which the consumer
# test compiles and runs), so the README cannot show code that does not build.
# Usage: cmake -DREADME=README.md -DEXAMPLE=examples/quickstart.cpp -P check_readme.cmake
file(READ ${README} readme)
file(READ ${EXAMPLE} example)
string(FIND "${readme}" "```cpp\n${example}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's quick start differs from ${EXAMPLE}: copy the file into the README")
endif()
message(STATUS "README quick start matches ${EXAMPLE}")
