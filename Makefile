# pgofetch: the two commands of the quick start, and their parts.
#   make demo   build pgofetch, profile the example service, build it with PGO
#   make test   every test: C unit tests (ctest) and the Go end-to-end suite
# Each installs what it needs (core/install-deps.sh) when missing.

BUILD ?= build
GO_TEST_FLAGS ?= -timeout 25m
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build demo test test-core test-go clean

all: build

deps:
	@core/install-deps.sh

build: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD)

demo: build
	integrations/example/demo.sh $(BUILD)/core/pgofetch $(BUILD)/demo

# Bazel (Debian's bazel-bootstrap) runs the Bazel integration's tests.
test: build
	@core/install-deps.sh bazel-bootstrap
	$(MAKE) test-core test-go

test-core:
	ctest --test-dir $(BUILD) --output-on-failure

test-go:
	cd tests && PGOFETCH=$(CURDIR)/$(BUILD)/core/pgofetch go test $(GO_TEST_FLAGS) ./...

clean:
	rm -rf $(BUILD)
