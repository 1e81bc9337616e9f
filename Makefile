# shmkit: a thin front end over CMake. `make help` lists the targets.
#
# On a fresh Debian/Ubuntu machine `make demo` and `make test` install what they need first
# (`make deps`: apt-get, through sudo when not root).

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
BUILD   ?= build
CMAKE   ?= cmake
GENERATOR_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

# Debian 12 / Ubuntu 20.04+ package names. Python packages come from the distribution too (no
# package index is needed): the binding is built for, and tested with, the system interpreter.
# libclang-rt-dev: the sanitizer and libFuzzer runtimes of the default clang (libclang-rt-14-dev
# on Debian 12), which clang itself only recommends. relacy-dev: the model checker (tests/model).
DEB_PACKAGES := cmake make g++ clang libclang-rt-dev binutils pkg-config googletest libgtest-dev libbenchmark-dev relacy-dev \
                g++-aarch64-linux-gnu qemu-user g++-mingw-w64-x86-64-posix wine64 \
                python3 python3-dev python3-venv python3-pip python3-setuptools python3-wheel \
                python3-numpy python3-pytest python3-msgpack python3-pydantic python3-matplotlib python3-mypy pybind11-dev \
                help2man dpkg-dev libcli11-dev nlohmann-json3-dev
# GCC 11 (JetPack 6's compiler) and the 32-bit ARM cross compiler (make test-gcc11, cross-test-armhf, test-mixed).
DEB_PACKAGES += g++-11 g++-arm-linux-gnueabihf
# The bridge onto Cyclone DDS (bindings/bridge): the library and idlc, ddsperf (benchmarked
# beside the bridge), and ip(8) for the two-host test's network namespaces.
DEB_PACKAGES += cyclonedds-dev cyclonedds-tools iproute2

# What `make bench-peers` measures shmkit beside (bench/peers): iceoryx with its RouDi daemon,
# Boost.Interprocess (headers) and ZeroMQ. Each is optional when building; `make deps-peers`
# installs them.
PEER_DEB_PACKAGES := iceoryx libiceoryx-posh-dev libboost-dev libzmq3-dev

# The interpreter the Python module is built for: the system's, which has Debian's numpy and
# pytest, never whichever python3 comes first on PATH (pyenv shims, ...). Override: make PYTHON=...
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
PYTHON_FLAGS := -DSHMKIT_BUILD_PYTHON=ON -DPython_EXECUTABLE=$(PYTHON)
VENV ?= $(BUILD)/venv
WHEEL_VENV ?= $(BUILD)/venv-wheel
PROJECT_VERSION := $(shell grep -o 'project.shmkit VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)

COMMON_FLAGS := -DSHMKIT_WERROR=ON $(GENERATOR_FLAGS)

# `make fuzz`: seconds per fuzz target (they run side by side); `make test` fuzzes for
# FUZZ_TEST_SECONDS.
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 20
FUZZ_TARGETS := fuzz_segments fuzz_inventory

.PHONY: help deps deps-demo deps-peers build demo test test-native test-python test-pip test-clang cross-test sanitize test-asan \
        test-tsan test-windows test-fuzz fuzz bench bench-peers bench-bridge bench-readme bench-python clean \
        deb deb-arm64 test-deb
.PHONY: test-gcc11 cross-test-armhf test-mixed code-size test-code-size

help:
	@echo "make demo        build and run the demo (a writer and two readers, ~3 s)"
	@echo "make test        every test: native (GCC, C++ and Python), Clang, aarch64 under qemu-user,"
	@echo "                 Windows under wine,"
	@echo "                 ASan+UBSan (C++ and Python), TSan, the pip install of the Python package,"
	@echo "                 and a short fuzz ($(FUZZ_TEST_SECONDS) s); every build replays the fuzz corpus"
	@echo "                 also: GCC 11, armhf under qemu-arm, mixed 32/64-bit, the code-size script"
	@echo "make test-native the native suite only (C++ and Python)"
	@echo "make test-python the Python suite only"
	@echo "make deb         Debian packages libshmkit-dev and shmkit-tools for this machine, in $(BUILD)/"
	@echo "make deb-arm64   the same packages for arm64 (Jetson), from the aarch64 cross build"
	@echo "make test-deb    build both, unpack them and build and run the C++ quick start against each"
	@echo "make test-pip    pip-install the Python package offline into $(VENV) and test the installed copy"
	@echo "make test-clang  the native suite built with Clang"
	@echo "make cross-test  build for aarch64 and run the suite under qemu-user"
	@echo "make test-gcc11  the native C++ suite built with GCC 11, JetPack 6's compiler ($(BUILD)/gcc11)"
	@echo "make cross-test-armhf build for 32-bit ARM (armhf) and run the C++ suite under qemu-arm"
	@echo "                 ($(BUILD)/armhf)"
	@echo "make test-mixed  a 64-bit and a 32-bit (armhf, qemu-arm) process share a segment of every"
	@echo "                 kind, each writing what the other checks (builds in $(BUILD)/gcc11, $(BUILD)/armhf)"
	@echo "make code-size   code size and largest stack frames of the core and port for aarch64 -Os"
	@echo "                 ($(BUILD)/code-size; CODE_SIZE_FLAGS=-mcpu=cortex-a78ae to compare)"
	@echo "make test-code-size run tools/code_size.sh and check that it reports its figures"
	@echo "make test-windows build for Windows (mingw-w64) and run the C++ suite and the CLI under wine"
	@echo "make sanitize    the suite under ASan+UBSan and under TSan"
	@echo "make fuzz        build the libFuzzer targets ($(FUZZ_TARGETS)) with Clang in"
	@echo "                 $(BUILD)/fuzz and run each for FUZZ_SECONDS (default $(FUZZ_SECONDS)) on a scratch"
	@echo "                 copy of tests/fuzz/corpus; prints executions and execs/s, fails on a crash"
	@echo "make test-fuzz   the short fuzz of make test: make fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)"
	@echo "make bench       run the benchmarks (writes $(BUILD)/bench.json), then the report:"
	@echo "                 $(BUILD)/bench-report/report.md and its plots"
	@echo "make bench-readme regenerate README.md's performance section and docs/perf-latency.png from"
	@echo "                 the existing $(BUILD)/bench.json and $(BUILD)/bench-peers.json (whichever"
	@echo "                 exist), without running any benchmark"
	@echo "make bench-peers shmkit beside iceoryx, Boost.Interprocess and ZeroMQ, measured in one run"
	@echo "                 (writes $(BUILD)/bench-peers.json; installs their packages first)"
	@echo "make bench-python the Python per-call overheads beside the C++ figures"
	@echo "make bench-bridge shmkit-bridge across two hosts (network namespaces, as root) beside ddsperf"
	@echo "                 and the local path, in one run (writes $(BUILD)/bench-bridge.json), then the report"
	@echo "make deps        install missing Debian/Ubuntu packages (apt-get)"
	@echo "make deps-demo   only those make demo needs: $(DEMO_DEB_PACKAGES)"
	@echo "make deps-peers  install the peers make bench-peers measures: $(PEER_DEB_PACKAGES)"
	@echo "make clean       remove $(BUILD)/"

# $(call install_missing,<target name>,<Debian packages>): apt-get those not installed yet,
# through sudo when not root; on a system without dpkg, say what to install instead.
define install_missing
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make $(1): not a Debian/Ubuntu system; install the equivalents of: $(2)"; exit 0; fi; \
	missing=""; \
	for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo="sudo"; \
	  echo "make $(1): installing$$missing"; \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,deps,$(DEB_PACKAGES))

# `make demo` needs only the compiler, CMake and the tool's two header-only libraries: on a new
# machine it installs these, not the test toolchains.
DEMO_DEB_PACKAGES := cmake make g++ libcli11-dev nlohmann-json3-dev
deps-demo:
	$(call install_missing,deps-demo,$(DEMO_DEB_PACKAGES))

deps-peers:
	$(call install_missing,deps-peers,$(PEER_DEB_PACKAGES))

# $(call configure,<dir>,<extra cmake flags>[,<target>]): configure, then build everything or
# just <target>.
define configure
	$(CMAKE) -S . -B $(1) $(COMMON_FLAGS) $(2) >/dev/null
	$(CMAKE) --build $(1) -j$(JOBS) $(if $(3),--target $(3))
endef

build: deps
	$(call configure,$(BUILD)/native,$(PYTHON_FLAGS))

# Only the tool is built, in the same build directory as `make build` (configured without the
# Python module unless an earlier `make build` asked for it; parts whose dependencies are not
# installed yet are left out, saying so, until `make build` or `make test` installs them).
demo: deps-demo
	$(call configure,$(BUILD)/native,,shmkit_cli)
	$(BUILD)/native/bindings/cli/shmkit demo

test: test-native test-clang cross-test test-windows sanitize test-pip test-fuzz test-deb test-gcc11 cross-test-armhf \
      test-mixed test-code-size
	@echo "make test: all configurations passed"

test-native: build
	cd $(BUILD)/native && ctest $(CTEST_FLAGS)

test-python: build
	cd $(BUILD)/native && ctest $(CTEST_FLAGS) -R python

# The README's install commands, offline, then the quick start, the installed command-line tool
# (the console script and `python -m shmkit`, with their exit status: 2 is a usage error) and the
# whole Python suite run against the installed copy (from outside the source tree, so nothing is
# imported from it).
test-pip: build
	rm -rf $(VENV)
	$(PYTHON) -m venv --system-site-packages $(VENV)
	@# Under a terminal (script(1) makes one), as a user would run it: setup.py shows CMake's
	@# configure and build lines there, which pip would otherwise hide.
	script -qec "$(VENV)/bin/pip install --no-index --no-build-isolation ." $(BUILD)/pip-install.log >/dev/null
	grep -q "^shmkit: -- Build files have been written" $(BUILD)/pip-install.log && \
	  grep -q "^shmkit: \[100%\] Built target shmkit_python" $(BUILD)/pip-install.log || \
	  { echo "make test-pip: pip install showed no CMake progress lines ($(BUILD)/pip-install.log)"; exit 1; }
	cd / && $(abspath $(VENV))/bin/python -c 'import shmkit; assert "/site-packages/" in shmkit.__file__, shmkit.__file__'
	cd / && $(abspath $(VENV))/bin/python $(CURDIR)/examples/quickstart.py
	cd / && $(abspath $(VENV))/bin/shmkit --help >/dev/null
	cd / && $(abspath $(VENV))/bin/shmkit ls
	cd / && $(abspath $(VENV))/bin/python -m shmkit --help >/dev/null
	cd / && $(abspath $(VENV))/bin/python -m shmkit ls
	cd / && $(abspath $(VENV))/bin/shmkit no-such-command 2>/dev/null; test $$? -eq 2
	cd / && $(abspath $(VENV))/bin/python -m shmkit no-such-command 2>/dev/null; test $$? -eq 2
	cd / && SHMKIT_XLANG=$(abspath $(BUILD))/native/bindings/python/shmkit_xlang \
	  $(abspath $(VENV))/bin/python -m pytest -q -p no:cacheprovider $(CURDIR)/bindings/python/tests
	@# The wheel, built offline, installed into a venv of its own and imported there.
	rm -rf $(BUILD)/wheel $(WHEEL_VENV)
	$(VENV)/bin/pip wheel --no-index --no-build-isolation --no-deps -q -w $(BUILD)/wheel .
	$(PYTHON) -m venv --system-site-packages $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --no-index -q $(BUILD)/wheel/shmkit-$(PROJECT_VERSION)-*.whl
	cd / && $(abspath $(WHEEL_VENV))/bin/python -c 'import shmkit; \
	  assert shmkit.__file__.startswith("$(abspath $(WHEEL_VENV))/"), shmkit.__file__; \
	  assert shmkit.__version__ == "$(PROJECT_VERSION)", shmkit.__version__; print("wheel:", shmkit.__file__)'
	cd / && $(abspath $(WHEEL_VENV))/bin/shmkit --version | grep -q "^shmkit $(PROJECT_VERSION) "

# Debian packages (cmake/packaging.cmake): Release builds of the libraries and the tool only, in
# trees of their own, packaged by CPack into $(BUILD)/. -ffile-prefix-map keeps the build
# machine's paths out of the files (assertion messages name core/src/..., as in Debian's builds).
DEB_FLAGS := -DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF -DSHMKIT_BUILD_BENCH=OFF -DSHMKIT_BUILD_BRIDGE=OFF \
             -DCMAKE_CXX_FLAGS=-ffile-prefix-map=$(CURDIR)/=
deb: deps
	$(call configure,$(BUILD)/deb-native,$(DEB_FLAGS))
	cd $(BUILD)/deb-native && cpack -D CPACK_OUTPUT_FILE_PREFIX=$(abspath $(BUILD))

deb-arm64: deps
	$(call configure,$(BUILD)/deb-arm64,-DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/toolchains/aarch64-linux-gnu.cmake $(DEB_FLAGS))
	cd $(BUILD)/deb-arm64 && cpack -D CPACK_OUTPUT_FILE_PREFIX=$(abspath $(BUILD))

# Each package unpacked (dpkg -x) and checked: control fields, file lists, no build paths, the
# tool and its man page, and the C++ quick start built against it through find_package and
# pkg-config and run (arm64: cross-compiled, run under qemu-user).
test-deb: deb deb-arm64
	sh tests/deb/check.sh $$(dpkg --print-architecture) $(BUILD) .
	sh tests/deb/check.sh arm64 $(BUILD) .

# shmkit-bridge and its two-host test run in the native (GCC 12) configuration; the others leave
# it out (it is bindings code over an uninstrumented Cyclone DDS, and make test's time is spent
# where the core is). Under ASan+UBSan it passes too: cmake -DSHMKIT_SANITIZE=address,undefined
# in a build of its own, then ctest -R bridge_two_hosts.
NO_BRIDGE := -DSHMKIT_BUILD_BRIDGE=OFF

# What a second compiler adds is the C++ suite built by it. The Clang and GCC 11 runs leave out
# what does not depend on the compiler: the benchmarks, bench_report (Python), the Relacy model
# checks (they simulate the core's memory ordering the same way whichever compiler built them;
# test-native builds and runs them) and the bridge.
OTHER_COMPILER_FLAGS := -DSHMKIT_BUILD_BENCH=OFF -DSHMKIT_MODEL_CHECKS=OFF $(NO_BRIDGE)
OTHER_COMPILER_CTEST_EXCLUDE := ^bench_report$$

# The Clang run also covers the fences barrier mode natively (qemu runs in it anyway).
test-clang: deps
	$(call configure,$(BUILD)/clang,-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang $(OTHER_COMPILER_FLAGS))
	cd $(BUILD)/clang && SHMKIT_NO_MEMBARRIER=1 ctest $(CTEST_FLAGS) -E '$(OTHER_COMPILER_CTEST_EXCLUDE)'

# The README's "Cross-compiling for Jetson" commands, verbatim (they build in build/aarch64).
cross-test: deps
	sh tests/run_readme_commands.sh "Cross-compiling for Jetson"

# GCC 11, JetPack 6's compiler: the C++ suite (no Python module; as for Clang, above).
GCC11_FLAGS := -DCMAKE_CXX_COMPILER=g++-11 -DCMAKE_C_COMPILER=gcc-11 $(OTHER_COMPILER_FLAGS)
test-gcc11: deps
	$(call configure,$(BUILD)/gcc11,$(GCC11_FLAGS))
	cd $(BUILD)/gcc11 && ctest $(CTEST_FLAGS) -E '$(OTHER_COMPILER_CTEST_EXCLUDE)'

# 32-bit ARM (armhf) under qemu-arm: the C++ suite (no benchmarks: no Google Benchmark for it).
# Left out: the two multi-process torn-read stress tests of the slot kinds (a million reads each,
# about 7 minutes under qemu-arm): they stress memory ordering, which qemu on an x86 host cannot
# show, and the threaded one (SlotThreads.StreamTornReadStress) still runs the same code here.
ARMHF_FLAGS := -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/toolchains/arm-linux-gnueabihf.cmake -DSHMKIT_BUILD_BENCH=OFF
ARMHF_CTEST_EXCLUDE := ^SlotProcesses\.(VideoTornReadStress|StreamTornReadStressAMillionReads)$$
cross-test-armhf: deps
	$(call configure,$(BUILD)/armhf,$(ARMHF_FLAGS))
	cd $(BUILD)/armhf && ctest $(CTEST_FLAGS) -E '$(ARMHF_CTEST_EXCLUDE)'

# Mixed 32/64-bit: tests/mixed/peer.cpp built natively (in the GCC 11 build) and for armhf (run
# under qemu-arm), sharing a segment of every kind in both directions (tests/mixed/run.sh).
QEMU_ARM ?= qemu-arm -L /usr/arm-linux-gnueabihf
test-mixed: deps
	$(call configure,$(BUILD)/gcc11,$(GCC11_FLAGS),shmkit_mixed_peer)
	$(call configure,$(BUILD)/armhf,$(ARMHF_FLAGS),shmkit_mixed_peer)
	sh tests/mixed/run.sh $(BUILD)/gcc11/tests/shmkit_mixed_peer $(BUILD)/armhf/tests/shmkit_mixed_peer $(QEMU_ARM)

# The core and port for aarch64 at -Os: code size, outline atomics calls and the largest stack
# frames (tools/code_size.sh). CODE_SIZE_FLAGS: extra compiler flags, e.g. -mcpu=cortex-a78ae.
CODE_SIZE_FLAGS ?=
code-size: deps
	sh tools/code_size.sh $(BUILD)/code-size $(CODE_SIZE_FLAGS)

# The same, checking only that the script still reports every figure (never a value).
test-code-size: deps
	sh tools/code_size.sh $(BUILD)/code-size > $(BUILD)/code-size.txt
	sh tools/code_size.sh --check $(BUILD)/code-size.txt

# Windows: mingw-w64 and wine, in a wine prefix of the build's own (made first, once, so that
# parallel tests do not race to create it; no Mono or Gecko prompts).
WINE ?= /usr/lib/wine/wine64
WINESERVER ?= $(dir $(WINE))wineserver
WINE_ENV := WINEPREFIX=$(abspath $(BUILD))/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
test-windows: deps
	$(call configure,$(BUILD)/windows,-DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/toolchains/x86_64-w64-mingw32.cmake -DSHMKIT_BUILD_BENCH=OFF)
	@# One wine server for the whole run, started before anything uses the prefix: one that exits
	@# when idle between two test processes makes the next fail to connect ("recvmsg:
	@# Connection reset by peer").
	mkdir -p $(abspath $(BUILD))/wineprefix
	$(WINE_ENV) $(WINESERVER) -k 2>/dev/null || true
	$(WINE_ENV) $(WINESERVER) -p
	$(WINE_ENV) $(WINE) wineboot --init
	cd $(BUILD)/windows && $(WINE_ENV) ctest $(CTEST_FLAGS); rc=$$?; $(WINE_ENV) $(WINESERVER) -k; exit $$rc

sanitize: test-asan test-tsan

test-asan: deps
	$(call configure,$(BUILD)/asan,-DSHMKIT_SANITIZE=address$(,)undefined -DSHMKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug $(PYTHON_FLAGS) $(NO_BRIDGE))
	cd $(BUILD)/asan && ctest $(CTEST_FLAGS)

test-tsan: deps
	$(call configure,$(BUILD)/tsan,-DSHMKIT_SANITIZE=thread -DSHMKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo $(NO_BRIDGE))
	cd $(BUILD)/tsan && ctest $(CTEST_FLAGS)

# The libFuzzer targets (tests/fuzz): Clang, coverage, ASan+UBSan. Only they are built here;
# every other build replays their corpus as ordinary tests.
fuzz: deps
	$(CMAKE) -S . -B $(BUILD)/fuzz $(COMMON_FLAGS) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
	  -DSHMKIT_FUZZ=ON -DSHMKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(CMAKE) --build $(BUILD)/fuzz -j$(JOBS) --target $(FUZZ_TARGETS)
	sh tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

BENCH_REPORT := $(BUILD)/bench-report

bench: deps
	$(call configure,$(BUILD)/release,-DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF)
	$(BUILD)/release/bench/shmkit_bench --benchmark_out=$(BUILD)/bench.json --benchmark_out_format=json
	$(PYTHON) bench/report.py --bench $(BUILD)/bench.json --out $(BENCH_REPORT)
	@echo "make bench: JSON in $(BUILD)/bench.json; report in $(BENCH_REPORT)/report.md, plots beside it"

# The README's generated section (between <!-- perf:begin --> and <!-- perf:end -->) and the
# plot it shows, from whichever of the two suites' JSON files exist; no benchmark runs.
BENCH_JSON = $(if $(wildcard $(BUILD)/bench.json),--bench $(BUILD)/bench.json) \
             $(if $(wildcard $(BUILD)/bench-peers.json),--peers $(BUILD)/bench-peers.json) \
             $(if $(wildcard $(BUILD)/bench-bridge.json),--bridge $(BUILD)/bench-bridge.json)
bench-readme: deps
	@if [ -z "$(strip $(BENCH_JSON))" ]; then \
	  echo "make bench-readme: no $(BUILD)/bench.json or $(BUILD)/bench-peers.json: run the benchmarks first"; \
	  exit 1; fi
	$(PYTHON) bench/report.py $(BENCH_JSON) --out $(BENCH_REPORT) --readme README.md --docs-plot docs/perf-latency.png

# shmkit and its peers side by side (bench/peers; a peer that is missing is skipped, saying so),
# then the report, with make bench's figures too when they are there.
bench-peers: deps deps-peers
	$(call configure,$(BUILD)/release,-DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF)
	$(BUILD)/release/bench/peers/shmkit_bench_peers --benchmark_out=$(BUILD)/bench-peers.json --benchmark_out_format=json
	own=""; if test -f $(BUILD)/bench.json; then own="--bench $(BUILD)/bench.json"; fi; \
	  $(PYTHON) bench/report.py $$own --peers $(BUILD)/bench-peers.json --out $(BENCH_REPORT)
	@echo "make bench-peers: JSON in $(BUILD)/bench-peers.json; report in $(BENCH_REPORT)/report.md, plots beside it"

# shmkit-bridge between two hosts (network namespaces joined by a veth pair: needs root) beside
# ddsperf on the same link and the local shared-memory path (bench/bridge/run.sh), then the
# report, with the other suites' figures too when they are there. Where the namespaces cannot
# be made, it says why and succeeds.
bench-bridge: deps
	$(call configure,$(BUILD)/release,-DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF,shmkit_bridge shmkit_bench_bridge)
	@rc=0; PYTHON=$(PYTHON) bash bench/bridge/run.sh $(BUILD)/release/bindings/bridge/shmkit-bridge \
	  $(BUILD)/release/bench/shmkit_bench_bridge $(BUILD)/bench-bridge.json || rc=$$?; \
	  if [ $$rc -eq 77 ]; then echo "make bench-bridge: skipped, nothing measured"; exit 0; fi; \
	  if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	  own=""; if test -f $(BUILD)/bench.json; then own="--bench $(BUILD)/bench.json"; fi; \
	  if test -f $(BUILD)/bench-peers.json; then own="$$own --peers $(BUILD)/bench-peers.json"; fi; \
	  $(PYTHON) bench/report.py $$own --bridge $(BUILD)/bench-bridge.json --out $(BENCH_REPORT) && \
	  echo "make bench-bridge: JSON in $(BUILD)/bench-bridge.json; report in $(BENCH_REPORT)/report.md"

bench-python: deps
	$(call configure,$(BUILD)/release,-DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF $(PYTHON_FLAGS))
	PYTHONPATH=$(BUILD)/release/bindings/python $(PYTHON) bench/bench_python.py --cxx $(BUILD)/release/bench/shmkit_bench \
	  --json $(BUILD)/bench-python.json

clean:
	rm -rf $(BUILD)

, := ,
