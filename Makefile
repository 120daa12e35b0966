# SPDX-License-Identifier: Apache-2.0
# User-facing commands. The real build is CMake + CTest underneath.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure
# Extra CMake options for the release build, e.g. -DTCW_STATIC_PLUGINS=ON.
CMAKE_ARGS ?=
FUZZ_DIR ?= build-fuzz
SECONDS ?= 60
FUZZ_JOBS ?= 2

.PHONY: all deps build configure demo demo-python test test-release test-asan install clean
.PHONY: deps-detect demo-detect

all: build

deps:
	@bash scripts/install-deps.sh

configure:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		$(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: deps build
	@bash scripts/demo.sh $(BUILD_DIR)

# tcworker behind tcgateway, orders through the EEA JSON-RPC API (docs/gateway.md).
.PHONY: demo-gateway
demo-gateway: deps build
	@bash scripts/demo-gateway.sh $(BUILD_DIR)

# Object detection (docs/detect.md): OpenCV, cascades, sample images.
deps-detect:
	@bash scripts/install-deps-detect.sh

# tcdetect + worker: ov-inference and object-detect orders, annotated images in output/.
demo-detect: deps deps-detect build
	@bash scripts/demo-detect.sh $(BUILD_DIR) output

# The same orders through the Python sample workloads (embedded CPython).
demo-python: deps build
	@bash scripts/demo.sh $(BUILD_DIR) workloads-python.json

test-asan: deps deps-detect
	@cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DTCW_SANITIZE=ON -DTCW_OPENCV=ON >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@cd $(ASAN_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

test-release: deps deps-detect build
	@cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

# libFuzzer targets (tests/fuzz/README.md): clang, ASan+UBSan, own build dir.
.PHONY: fuzz fuzz-build test-fuzz
fuzz-build: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTCW_SANITIZE=ON -DTCW_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target tcw_fuzzers

# `make fuzz SECONDS=N`: every target N seconds, FUZZ_JOBS processes each.
fuzz: fuzz-build
	@bash tests/fuzz/run-all.sh $(FUZZ_DIR) $(SECONDS) $(FUZZ_JOBS)

# What `make test` runs: each target briefly (TCW_FUZZ_SMOKE_SECONDS).
test-fuzz: fuzz-build
	@cd $(FUZZ_DIR) && ctest $(CTEST_FLAGS) -L '^fuzz$$' -j $(JOBS)

# The enclave tests (tests/gramine/run.sh, docs/sgx.md): Gramine's
# gramine-direct from PATH or /opt/gramine; each variant in its own build
# folder under the release tree. `make gramine-test` exits 2 without
# Gramine; `make test` then prints why they were skipped.
.PHONY: gramine-test test-gramine gramine-check
gramine-check:
	@bash tests/gramine/run.sh --check
# `make gramine-test GRAMINE_VARIANTS=native` runs only the variants named
# (native, python, detect), without the reproducibility test.
GRAMINE_VARIANTS ?=
gramine-test: gramine-check deps deps-detect build
	@TCW_BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) bash tests/gramine/run.sh $(GRAMINE_VARIANTS)
test-gramine: deps deps-detect build
	@TCW_BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) bash tests/gramine/run.sh --skip-ok

# Sanitizer build first, a short fuzz run, the enclave tests, then the
# release build, whose summary ends the run.
test: test-asan test-fuzz test-gramine test-release

# Throughput, latency, memory and start-up figures next to the crypto bound
# (bench/README.md); a few minutes, best on an otherwise idle machine.
.PHONY: bench
bench: deps build
	@bash bench/run.sh $(BUILD_DIR)

# Debian packages into $(BUILD_DIR)/deb/ (docs/packaging.md); test-deb installs,
# runs, upgrades and purges them in a Debian 12 chroot (root, minutes).
.PHONY: deb test-deb
deb: deps deps-detect
	@bash scripts/build-deb.sh $(BUILD_DIR)

test-deb: deb
	@bash scripts/test-deb.sh $(BUILD_DIR)

install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
