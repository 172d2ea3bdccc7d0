# Polaris server. `make run` and `make test` set up a fresh Debian 12 machine themselves.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
FUZZ_SECONDS ?= 300

.PHONY: deps deps-run build run test test-asan test-tsan fuzz bench format format-check clean

deps:
	@bash scripts/install-deps.sh test

deps-run:
	@bash scripts/install-deps.sh run

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR)

# The server alone: no test dependencies (GoogleTest, PostgreSQL, Chromium) needed.
run: deps-run
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) --target polaris
	@mkdir -p data
	./$(BUILD_DIR)/polaris serve

# Every suite, then each fuzz target for 20 s as a smoke test.
test: build
	@POLARIS_FUZZ_SECONDS=20 bash scripts/run-tests.sh $(BUILD_DIR)

test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPOLARIS_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR)
	@ASAN_OPTIONS=detect_leaks=1 POLARIS_SANITIZED=1 bash scripts/run-tests.sh $(ASAN_DIR)

test-tsan: deps
	@cmake -S . -B $(TSAN_DIR) $(CMAKE_FLAGS) -DPOLARIS_TSAN=ON >/dev/null
	@cmake --build $(TSAN_DIR)
	@bash scripts/run-tsan.sh $(TSAN_DIR)

# Every fuzz target for FUZZ_SECONDS each (make test runs them for 20 s).
fuzz: deps
	@bash scripts/run-fuzz.sh $(FUZZ_SECONDS)

bench: build
	@bash bench/run-all.sh

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) build-fuzz build-bench

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h') && echo "formatting ok"
