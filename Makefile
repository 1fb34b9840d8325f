# Convenience wrapper around CMake. `make run` and `make check` are the two commands
# the README gives a new user; `make bench` prints the benchmark figures.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build run demo check test asan-test bench fuzz clean

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

# The full test suite: warnings as errors, then the same suite under ASan+UBSan.
check: setup
	$(MAKE) test CMAKE_FLAGS="-DDD_WERROR=ON"
	$(MAKE) asan-test

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2

asan-test:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDD_WERROR=ON -DDD_SANITIZE=ON
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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
