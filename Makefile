# SPDX-License-Identifier: Apache-2.0
# User-facing commands. The real build is CMake + CTest underneath.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure

.PHONY: all deps build configure demo test test-release test-asan install clean

all: build

deps:
	@bash scripts/install-deps.sh

configure:
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: deps build
	@bash scripts/demo.sh $(BUILD_DIR)

test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DTCW_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@cd $(ASAN_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

test-release: deps build
	@cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

# Sanitizer build first, then the release build, whose summary ends the run.
test: test-asan test-release

install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
