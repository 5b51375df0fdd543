# Clockberg: Clockify → Airbyte protocol → Apache Iceberg (Snowflake-readable).
GO        ?= go
BIN       ?= bin
GOFLAGS_BUILD = -trimpath -ldflags="-s -w"

.PHONY: all build test vet fmt demo read interop interop-setup bench bench-quick clean

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

clean:
	rm -rf $(BIN) .demo
