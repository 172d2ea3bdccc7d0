# Polaris server. `make run` and `make test` set up a fresh Debian 12 machine themselves.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: deps build run test test-asan format format-check clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR)

run: build
	@mkdir -p data
	./$(BUILD_DIR)/polaris serve

test: build
	@bash scripts/run-tests.sh $(BUILD_DIR)

test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPOLARIS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR)
	@ASAN_OPTIONS=detect_leaks=1 POLARIS_SANITIZED=1 bash scripts/run-tests.sh $(ASAN_DIR)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h') && echo "formatting ok"
