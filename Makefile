# The commands a user types. Each installs missing Debian packages first
# (scripts/deps.sh), so it works alone on a fresh Debian 12 machine.
#   make run     build, create ./one.db at the latest schema if new, and serve it
#   make test    build twice (normal, ASan+UBSan) and run every test in both
#   make bench   build optimised and run the benchmarks (bench/RESULTS.md)
#   make fuzz    build the libFuzzer targets and run each FUZZ_SECONDS
#   make install install the `one` binary under PREFIX (default /usr/local)

BUILD       ?= build
ASAN_BUILD  ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX      ?= /usr/local
FUZZ_SECONDS ?= 600
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-normal test-asan check-src lint valgrind bench fuzz install clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/one serve

check-src:
	@scripts/checksrc.sh

# clang-tidy's bug-prone and analyzer checks (not part of `make test`: its
# analyzer reports false positives on jansson's macros and va_lists here).
lint: build
	clang-tidy -p $(BUILD) --quiet --checks='-*,clang-analyzer-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,-bugprone-implicit-widening-of-multiplication-result,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized,-bugprone-sizeof-expression,-bugprone-suspicious-missing-comma' src/*/*.c

# Every suite under valgrind's memcheck (slow; the ASan build runs in `make test`).
valgrind: build
	cd $(BUILD) && for t in test_*; do [ -x "$$t" ] || continue; \
	  valgrind -q --trace-children=yes --leak-check=full --errors-for-leak-kinds=definite \
	    --error-exitcode=9 ./$$t --jobs 1 || exit 1; done

test: deps check-src test-normal test-asan
	@echo "make test: all suites passed in the normal and the ASan+UBSan builds"

test-normal:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DONE_SANITIZE=ON -DONE_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)

bench: deps
	@ONE_DEPS_EXTRA="wrk nginx-light libfaiss-dev liblapack-dev g++" scripts/deps.sh
	@cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DONE_TESTS=OFF -DONE_BENCH=ON >/dev/null
	@cmake --build $(BENCH_BUILD) -j$(JOBS)
	scripts/bench.sh $(BENCH_BUILD)
	scripts/bench_http.sh $(BENCH_BUILD)
	scripts/bench_migrate.sh $(BENCH_BUILD)
	scripts/bench_agents.sh $(BENCH_BUILD)
	scripts/bench_search.sh $(BENCH_BUILD)

fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONE_FUZZ=ON \
	  -DONE_SANITIZE=ON -DONE_TESTS=OFF -DONE_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS)
	scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
