# swift-virt: the two set-up commands are `make demo` and `make test` (see README.md).
SWIFT      ?= swift
BUILD_DIR  ?= .build
SWIFTPM     = $(SWIFT) build --scratch-path $(BUILD_DIR)
BIN_DEBUG   = $(BUILD_DIR)/debug
BIN_RELEASE = $(BUILD_DIR)/release

.PHONY: all build release test demo bench test-linux fmt lint clean

all: build

build:
	$(SWIFTPM)

release:
	$(SWIFTPM) -c release

# Unit and end-to-end tests (KVM, root and peer tests skip visibly where those are missing).
test:
	$(SWIFTPM) --build-tests
	$(SWIFT) test --scratch-path $(BUILD_DIR) --skip-build

# Build, define and start a real guest and show its console (tours test:/// where /dev/kvm is missing).
demo: release
	BIN=$(BIN_RELEASE) bash examples/demo.sh

# Whole-process benchmarks; results go to benchmarks/results/ and are summarised in docs/performance.md.
bench: release
	BIN=$(BIN_RELEASE) bash benchmarks/run.sh

# Opt-in slow check: boot Debian's cloud kernel (downloads it from the Debian mirror).
test-linux: release
	BIN=$(BIN_RELEASE) bash Tests/linux/boot-debian-kernel.sh

fmt:
	$(SWIFT) format -i -r Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict -r Sources Tests

clean:
	rm -rf $(BUILD_DIR)
