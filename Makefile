# vllm-mem — the two commands a newcomer needs are `make serve` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
HOST ?= 127.0.0.1
PORT ?= 8000
CASES ?= ../shared/ground-truth/vllm-startup-cases.dev.json
# Where `make fuzz` builds its libFuzzer binaries: the sanitizer build when it exists (it has them).
FUZZ_BUILD_DIR ?= $(if $(wildcard build-asan/CMakeCache.txt),build-asan,build-fuzz)

.PHONY: all build web screenshot serve test deps accuracy bench format format-check sanitize fuzz tsan clean

all: build

deps:
	@scripts/install-deps.sh build,test

$(BUILD_DIR)/CMakeCache.txt: | web
	@scripts/install-deps.sh build,test
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# The page at /ui: npm packages pinned in web/package-lock.json, bundled into web/dist, which
# CMake embeds into the binary (so it must exist before the build).
web:
	@scripts/install-deps.sh build
	@scripts/build-web.sh

build: $(BUILD_DIR)/CMakeCache.txt web
	@scripts/install-deps.sh build,test
	cmake --build $(BUILD_DIR) -j $(JOBS)

serve: build
	$(BUILD_DIR)/vllm-mem serve --host $(HOST) --port $(PORT)

# web: chromium for the browser test (tests/web), installed when root.
test: build
	@scripts/install-deps.sh build,test,web
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Refreshes the README's picture of the page (docs/screenshot-ui.png).
screenshot: build
	node tests/web/ui_test.mjs --binary $(BUILD_DIR)/vllm-mem --screenshot docs/screenshot-ui.png

accuracy: build
	$(BUILD_DIR)/vllm-mem validate $(CASES)

# Benchmarks, not tests (nothing in `make test` depends on timing): the core's microbenchmarks
# and a load test of the HTTP API next to nginx on this machine; writes bench/results.md.
bench:
	@scripts/install-deps.sh build,bench
	bench/run.sh

# The test suite under clang's AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it). The
# same build holds the fuzz targets as libFuzzer binaries, so `make fuzz` after it compiles nothing.
sanitize:
	@scripts/install-deps.sh build,test,lint
	cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DVLLM_MEM_SANITIZE=address,undefined -DVLLM_MEM_FUZZ=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Each fuzz target (fuzz/*_fuzz.cpp) as a libFuzzer binary under ASan+UBSan, run for FUZZ_SECONDS
# (default 20) from its committed corpus (docs/fuzzing.md). `make test` only replays the corpora.
fuzz:
	@scripts/install-deps.sh build,lint
	FUZZ_BUILD_DIR=$(FUZZ_BUILD_DIR) JOBS=$(JOBS) scripts/fuzz.sh

# The server's tests (sockets, I/O threads, metrics) under clang's ThreadSanitizer (CI runs it).
# Builds only what they need: the core, the server and vllm_mem_server_tests.
tsan:
	@scripts/install-deps.sh build,test,lint
	cmake -S . -B build-tsan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVLLM_MEM_SANITIZE=thread
	cmake --build build-tsan -j $(JOBS) --target vllm_mem_server_tests
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/vllm_mem_server_tests

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check:
	@scripts/install-deps.sh lint
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-release build-fuzz
