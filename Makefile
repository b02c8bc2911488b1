# vllm-mem — the two commands a newcomer needs are `make serve` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
HOST ?= 127.0.0.1
PORT ?= 8000
CASES ?= ../shared/ground-truth/vllm-startup-cases.dev.json

.PHONY: all build serve test deps accuracy bench format format-check clean

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

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
