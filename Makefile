# Clockberg: Clockify → Airbyte protocol → Apache Iceberg (Snowflake-readable).
GO        ?= go
BIN       ?= bin
GOFLAGS_BUILD = -trimpath -ldflags="-s -w"

.PHONY: all build test vet fmt demo read interop interop-setup bench bench-quick faults clean

all: build

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ ./cmd/...

# The test command named in the README.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# The main job: simulator → source-clockify read → destination-iceberg write on the embedded default.
demo: build
	$(GO) run ./demo -bin $(BIN)

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
