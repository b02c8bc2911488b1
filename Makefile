# vllm-mem — the two commands a newcomer needs are `make serve` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
HOST ?= 127.0.0.1
PORT ?= 8000
CASES ?= ../shared/ground-truth/vllm-startup-cases.dev.json

.PHONY: all build serve test deps accuracy bench format format-check sanitize clean

all: build

deps:
	@scripts/install-deps.sh build,test

$(BUILD_DIR)/CMakeCache.txt:
	@scripts/install-deps.sh build,test
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD_DIR)/CMakeCache.txt
	@scripts/install-deps.sh build,test
	cmake --build $(BUILD_DIR) -j $(JOBS)

serve: build
	$(BUILD_DIR)/vllm-mem serve --host $(HOST) --port $(PORT)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

accuracy: build
	$(BUILD_DIR)/vllm-mem validate $(CASES)

# The test suite under clang's AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it).
sanitize:
	@scripts/install-deps.sh build,test,lint
	cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DVLLM_MEM_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check:
	@scripts/install-deps.sh lint
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR) build-asan
