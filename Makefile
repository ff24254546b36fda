# pgofetch: the two commands of the quick start, and their parts.
#   make demo   build pgofetch, profile the example service, build it with PGO
#   make test   every test: C unit tests (ctest) and the Go end-to-end suite,
#               and a build of every build type, gcc and clang, warnings as errors
# Each installs what it needs (core/install-deps.sh) when missing.

BUILD ?= build
GO_TEST_FLAGS ?= -timeout 25m -count=1
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := zip decompress pprof merge dd_json flags

.PHONY: all deps build demo bench test test-builds test-core test-go test-asan fuzz clean

# $(call configure,DIR,OPTIONS) configures the build tree DIR, naming the
# generator only the first time (CMake refuses to change it).
configure = cmake -S . -B $(1) $(if $(wildcard $(1)/CMakeCache.txt),,$(GENERATOR)) $(2)

all: build

deps:
	@core/install-deps.sh

# Warnings are errors (PGOFETCH_WERROR) in make test, and so in CI; make
# build and make demo leave them warnings, as a user's build does.
build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	@test -z "$(PGOFETCH_WERROR)" || cmake -S . -B $(BUILD) -DPGOFETCH_WERROR=$(PGOFETCH_WERROR) >/dev/null
	cmake --build $(BUILD)

demo: build
	integrations/example/demo.sh $(BUILD)/core/pgofetch $(BUILD)/demo

# The performance comparison (bench/README.md): every table on stdout, the
# floors in bench/RESULTS.md. BENCH_FLAGS='-runs 9 -before OLD-PGOFETCH',
# for instance. Not part of make test.
BENCH_FLAGS ?=
bench: build
	cd bench && go run ./harness -pgofetch $(CURDIR)/$(BUILD)/core/pgofetch -work $(CURDIR)/$(BUILD)/bench \
		-results $(CURDIR)/bench/RESULTS.md $(BENCH_FLAGS)

# Bazel (Debian's bazel-bootstrap) runs the Bazel integration's tests.
# A test that cannot get its tool (tests/internal/testenv.Skip) is listed at
# the end; PGOFETCH_NO_SKIP=1 (CI) makes such a test fail instead.
test: PGOFETCH_WERROR = ON
test: build
	@core/install-deps.sh bazel-bootstrap clang
	@rm -f tests/.cache/skipped.log
	$(MAKE) test-builds test-core test-go test-asan
	@if [ -s tests/.cache/skipped.log ]; then \
		echo "make test: SKIPPED, each proves nothing until it runs:"; sed 's/^/  /' tests/.cache/skipped.log; fi

# The build types and compilers $(BUILD) (RelWithDebInfo, cc) is not:
# each is built, unit tests and corpus replays included, with warnings as
# errors, so that a warning in any fails make test. Build only: the suite
# runs once, on $(BUILD). A build's log is shown when it fails.
TEST_BUILDS := gcc-Debug gcc-Release gcc-MinSizeRel clang-Release
test-builds: $(addprefix test-build-,$(TEST_BUILDS))
test-build-%:
	@echo "test-builds: $(subst -, ,$*), warnings as errors"
	@mkdir -p $(BUILD)/werror
	@{ $(call configure,$(BUILD)/werror/$*,-DCMAKE_C_COMPILER=$(word 1,$(subst -, ,$*)) \
		-DCMAKE_BUILD_TYPE=$(word 2,$(subst -, ,$*)) -DPGOFETCH_WERROR=ON) && \
		cmake --build $(BUILD)/werror/$*; } >$(BUILD)/werror/$*.log 2>&1 || \
		{ cat $(BUILD)/werror/$*.log; exit 1; }

test-core:
	ctest --test-dir $(BUILD) --output-on-failure

test-go:
	cd integrations/example && go test -count=1 ./...
	cd tests && PGOFETCH=$(CURDIR)/$(BUILD)/core/pgofetch go test $(GO_TEST_FLAGS) ./...

# The C unit tests, the corpus replays and a representative end-to-end
# subset again, built with AddressSanitizer and UndefinedBehaviorSanitizer:
# any report fails the run (exit code 86 matches no expected code).
ASAN_E2E := TestRefresh|TestDiff|TestMergeGenerated|TestMergeReal|TestMergeZip|TestMergeEncodings|TestBadInputs|TestDestRewriteOnlyOnChange|TestHTTPSource|TestUsageErrors|TestJSONLogsAlwaysValid|TestNoInlineList|TestCheck|TestTrimGoVersions
test-asan:
	@$(call configure,build-asan,-DPGOFETCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DPGOFETCH_WERROR=ON) >/dev/null
	cmake --build build-asan
	ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure
	cd tests && ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		PGOFETCH=$(CURDIR)/build-asan/core/pgofetch go test -count=1 -run '$(ASAN_E2E)' .
	cd tests && ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		PGOFETCH=$(CURDIR)/build-asan/core/pgofetch go test -count=1 ./datadog ./result
	cd tests && ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		PGOFETCH=$(CURDIR)/build-asan/core/pgofetch go test -count=1 -run 'TestClosedStderr' ./reliability

# Runs every libFuzzer target for FUZZ_SECONDS (clang and its runtime from
# Debian). New inputs go to build-fuzz/corpus; a crash input is written to
# tests/fuzz/crashes/<target>/, where `make test` replays it from then on.
fuzz: deps
	@core/install-deps.sh clang-14 libclang-rt-14-dev
	@test -f build-fuzz/CMakeCache.txt || cmake -S . -B build-fuzz $(GENERATOR) \
		-DCMAKE_C_COMPILER=clang-14 -DPGOFETCH_FUZZ=ON -DPGOFETCH_SANITIZE=ON -DBUILD_TESTING=OFF
	cmake --build build-fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus/$$t && \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s" && \
		build-fuzz/core/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
			-artifact_prefix=tests/fuzz/crashes/$$t/ -print_final_stats=1 \
			build-fuzz/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | grep -E '^(stat::number_of_executed_units|==|SUMMARY)' ; \
	done

clean:
	rm -rf $(BUILD) build-fuzz build-asan
