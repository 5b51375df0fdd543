# Clockberg: Clockify → Airbyte protocol → Apache Iceberg (Snowflake-readable).
GO  ?= go
BIN ?= bin

# One set of build flags for every target (build, test, demo, read, interop, bench): the Go build
# cache is keyed by them, so a target with other flags would compile iceberg-go, Arrow and the
# cloud SDKs a second time (about 5 minutes on 2 cores). -ldflags only affects linking.
export CGO_ENABLED := 0
export GOFLAGS += -trimpath
LDFLAGS = -s -w

.PHONY: all build test vet fmt demo read interop interop-setup bench bench-quick faults clean

all: build

# The three binaries into $(BIN)/, with a progress line every 10 s while a first build runs.
build:
	@bash .ci/gobuild $(BIN) -ldflags="$(LDFLAGS)"

# The test command named in the README.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# The main job (DEMO_FLAGS: more flags for the demo, e.g. -fresh or -dir DIR): simulator → source-clockify read → destination-iceberg write on the embedded default.
# The demo drives the binaries of `build` and compiles only itself (seconds).
demo: build
	$(GO) run ./demo -bin $(BIN) $(DEMO_FLAGS)

# The source alone against the simulator: its protocol messages on stdout.
read: build
	@$(GO) run ./demo -bin $(BIN) -source-only

interop-setup:
	bash interop/setup.sh

interop: build
	bash interop/run.sh

bench: build
	bash bench/run.sh

bench-quick: build
	bash bench/run.sh --quick

# SIGKILL the destination at random moments of append, overwrite and dedup syncs, retry each one,
# count rows lost and duplicated (goal: 0 and 0) and orphan files; also a section of make bench.
faults: build
	$(GO) run ./bench/faultbench -bin $(BIN) -trials 32

clean:
	rm -rf $(BIN) .demo
