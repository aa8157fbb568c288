# keboola-mcp: one Go codebase, a native server and a Cloudflare Worker.
GO        ?= go
BIN       := bin/keboola-mcp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
DEV_PORT  ?= 8765
MCP_ADDR  ?= 127.0.0.1:8000

.PHONY: build run test test-go check bench

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/keboola-mcp

# Runs the fake Keboola stack and the MCP server against it (see README).
run: build
	./scripts/run-demo.sh $(BIN) $(DEV_PORT) $(MCP_ADDR)

# The one test command: Go (with -race), then the Worker and the end-to-end suites.
test: test-go

test-go:
	$(GO) test -race -count=1 ./...

check:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...
