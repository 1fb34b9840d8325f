# Convenience wrapper around CMake. `make run` and `make check` are the two commands
# the README gives a new user; `make bench` prints the benchmark figures.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build run demo check test asan-test bench fuzz clean install deb

all: build

setup:
	./scripts/setup.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

run: setup build
	./$(BUILD)/iotdefender serve

demo: setup build
	./$(BUILD)/iotdefender demo

# The full test suite: warnings as errors (with the integration tests also on a temporary
# PostgreSQL cluster, ctest integration-pg.*), then the same suite under ASan+UBSan (SQLite only).
check: setup
	$(MAKE) test CMAKE_FLAGS="-DDD_WERROR=ON"
	$(MAKE) asan-test

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2

asan-test:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDD_WERROR=ON -DDD_SANITIZE=ON -DDD_TEST_PG=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j 2

bench: build
	cmake --build $(BUILD) --target bench_programs -j $(JOBS)
	./bench/run.sh $(BUILD)

FUZZ_SECONDS ?= 60
fuzz:
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DDD_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	./fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# `make install PREFIX=/usr/local DESTDIR=/tmp/root`: the binary, the systemd unit, the
# default config, the docs (CMake install rules; PREFIX is fixed at configure time).
PREFIX ?= /usr/local
install:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS) --target iotdefender
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian package (CPack DEB), built for /usr in its own build directory.
DEB_BUILD ?= build-deb
deb:
	cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr $(CMAKE_FLAGS)
	cmake --build $(DEB_BUILD) -j $(JOBS) --target iotdefender
	cd $(DEB_BUILD) && cpack -G DEB
	@ls -1 $(DEB_BUILD)/*.deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz $(DEB_BUILD)
