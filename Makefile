# shmkit: a thin front end over CMake. `make help` lists the targets.
#
# On a fresh Debian/Ubuntu machine `make demo` and `make test` install what they need first
# (`make deps`: apt-get, through sudo when not root).

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
BUILD   ?= build
CMAKE   ?= cmake
GENERATOR_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

# Debian 12 / Ubuntu 20.04+ package names.
DEB_PACKAGES := cmake make g++ clang binutils pkg-config googletest libgtest-dev libbenchmark-dev \
                g++-aarch64-linux-gnu qemu-user

COMMON_FLAGS := -DSHMKIT_WERROR=ON $(GENERATOR_FLAGS)

.PHONY: help deps build demo test test-native test-clang cross-test sanitize test-asan test-tsan bench clean

help:
	@echo "make demo        build and run the demo (a writer and two readers, ~3 s)"
	@echo "make test        every test: native (GCC), Clang, aarch64 under qemu-user, ASan+UBSan, TSan"
	@echo "make test-native the native suite only"
	@echo "make test-clang  the native suite built with Clang"
	@echo "make cross-test  build for aarch64 and run the suite under qemu-user"
	@echo "make sanitize    the suite under ASan+UBSan and under TSan"
	@echo "make bench       run the benchmarks (writes $(BUILD)/bench.json)"
	@echo "make deps        install missing Debian/Ubuntu packages (apt-get)"
	@echo "make clean       remove $(BUILD)/"

deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
	  echo "make deps: not a Debian/Ubuntu system; install the equivalents of: $(DEB_PACKAGES)"; exit 0; fi; \
	missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -ne 0 ] && sudo="sudo"; \
	  echo "make deps: installing$$missing"; \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

# $(call configure,<dir>,<extra cmake flags>)
define configure
	@test -f $(1)/CMakeCache.txt || $(CMAKE) -S . -B $(1) $(COMMON_FLAGS) $(2)
	$(CMAKE) --build $(1) -j$(JOBS)
endef

build: deps
	$(call configure,$(BUILD)/native,)

demo: build
	$(BUILD)/native/bindings/cli/shmkit demo

test: test-native test-clang cross-test sanitize
	@echo "make test: all configurations passed"

test-native: build
	cd $(BUILD)/native && ctest $(CTEST_FLAGS)

# The Clang run also covers the fences barrier mode natively (qemu runs in it anyway).
test-clang: deps
	$(call configure,$(BUILD)/clang,-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DSHMKIT_BUILD_BENCH=OFF)
	cd $(BUILD)/clang && SHMKIT_NO_MEMBARRIER=1 ctest $(CTEST_FLAGS)

cross-test: deps
	$(call configure,$(BUILD)/aarch64,-DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/toolchains/aarch64-linux-gnu.cmake -DSHMKIT_BUILD_BENCH=OFF)
	cd $(BUILD)/aarch64 && ctest $(CTEST_FLAGS)

sanitize: test-asan test-tsan

test-asan: deps
	$(call configure,$(BUILD)/asan,-DSHMKIT_SANITIZE=address$(,)undefined -DSHMKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug)
	cd $(BUILD)/asan && ctest $(CTEST_FLAGS)

test-tsan: deps
	$(call configure,$(BUILD)/tsan,-DSHMKIT_SANITIZE=thread -DSHMKIT_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
	cd $(BUILD)/tsan && ctest $(CTEST_FLAGS)

bench: deps
	$(call configure,$(BUILD)/release,-DCMAKE_BUILD_TYPE=Release -DSHMKIT_BUILD_TESTS=OFF)
	$(BUILD)/release/bench/shmkit_bench --benchmark_out=$(BUILD)/bench.json --benchmark_out_format=json

clean:
	rm -rf $(BUILD)

, := ,
