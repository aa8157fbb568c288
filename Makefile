# keboola-mcp: one Go codebase, a native server and a Cloudflare Worker.
GO        ?= go
BIN       := bin/keboola-mcp
DEV_BIN   := bin/keboola-dev-stack
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
DEV_PORT  ?= 8765
MCP_ADDR  ?= 127.0.0.1:8000
# The demo project's SQL backend: snowflake, or bigquery (make run DEMO_BACKEND=bigquery).
DEMO_BACKEND ?= snowflake

.PHONY: build run test test-prereqs test-go check bench

# keboola-mcp is static pure Go (CGO off); the fake stack for demos and tests
# is its own binary, built with cgo for its DuckDB SQL engine.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/keboola-mcp
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DEV_BIN) ./cmd/keboola-dev-stack

# Runs the fake Keboola stack and the MCP server against it (see README).
run: build
	DEMO_BACKEND=$(DEMO_BACKEND) ./scripts/run-demo.sh $(BIN) $(DEV_PORT) $(MCP_ADDR)

# The one test command: what the suites need (installed as root on Debian,
# else named), then Go (with -race), the Worker and the end-to-end suites.
# The store suites must then find PostgreSQL and Redis rather than skip.
test: export KEBOOLA_MCP_REQUIRE_STORES := 1
test: test-prereqs test-go test-worker e2e

test-prereqs:
	@./scripts/test-prereqs.sh

test-go:
	$(GO) test -race -count=1 ./...

check:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# Soak benchmark, not part of `make test`: two serve replicas on PostgreSQL and
# two on Redis (throwaway servers from the installed Debian packages) under
# injected Keboola faults, one replica killed mid-run (docs/self-hosting.md).
SOAK_DURATION ?= 60s
SOAK_WORKERS  ?= 16

.PHONY: soak
soak: build
	KEBOOLA_MCP_BIN=$(CURDIR)/$(BIN) KEBOOLA_MCP_SOAK_DURATION=$(SOAK_DURATION) KEBOOLA_MCP_SOAK_WORKERS=$(SOAK_WORKERS) \
		KEBOOLA_MCP_REQUIRE_STORES=1 $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 30m ./internal/soak/

# --- Cloudflare Worker (worker/) ---------------------------------------------
WORKER_BUILD := worker/build
WASM_LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: worker test-worker bench-worker

# Builds the Go programs for the Worker (js/wasm): keboola-mcp.wasm, the MCP
# server and the login (wrangler.jsonc), and keboola-mcp-login.wasm, the login
# only (-tags proxyonly: wrangler.proxy.jsonc and the containers variant, which
# proxy MCP to a native server; built without inlining, which makes it 12%
# smaller gzipped, for the Free plan's 3 MiB). Both go through binaryen's
# wasm-opt (worker's devDependency). Copies Go's JS glue from the toolchain
# that built them, so they always match, and records the answers the Worker
# gives without wasm (initialize, ping, tools/list) from the same server and
# version, and the headers of its pages without a form (login.PageHeaders).
# docs/deploy-cloudflare.md ("Size") has what each step saves.
WASM_OPT       := worker/node_modules/.bin/wasm-opt
WASM_OPT_FLAGS ?= $(WASM_OPT_LEVEL) --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals
WASM_OPT_LEVEL ?= -O1

worker:
	@mkdir -p $(WORKER_BUILD)
	@test -x $(WASM_OPT) || (cd worker && npm ci --no-audit --no-fund --loglevel=error)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '$(WASM_LDFLAGS)' -o $(WORKER_BUILD)/keboola-mcp.go.wasm ./cmd/keboola-mcp-wasm
	GOOS=js GOARCH=wasm $(GO) build -trimpath -tags proxyonly -gcflags=all=-l -ldflags '$(WASM_LDFLAGS)' -o $(WORKER_BUILD)/keboola-mcp-login.go.wasm ./cmd/keboola-mcp-wasm
	$(WASM_OPT) $(WASM_OPT_FLAGS) $(WORKER_BUILD)/keboola-mcp.go.wasm -o $(WORKER_BUILD)/keboola-mcp.wasm
	$(WASM_OPT) $(WASM_OPT_FLAGS) $(WORKER_BUILD)/keboola-mcp-login.go.wasm -o $(WORKER_BUILD)/keboola-mcp-login.wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WORKER_BUILD)/wasm_exec.js
	$(GO) run -ldflags '$(WASM_LDFLAGS)' ./cmd/keboola-mcp-static -o $(WORKER_BUILD)/mcp-static.json -tools $(WORKER_BUILD)/tools.json -page-headers $(WORKER_BUILD)/page-headers.json
	@for f in keboola-mcp.go keboola-mcp keboola-mcp-login.go keboola-mcp-login; do printf '%-22s %9s bytes raw, %8s bytes gzip\n' $$f.wasm $$(wc -c < $(WORKER_BUILD)/$$f.wasm) $$(gzip -9 -c $(WORKER_BUILD)/$$f.wasm | wc -c); done

# Runs the Worker in workerd (wrangler dev, local KV) against a fake Keboola
# stack and a native server on loopback. Needs Node 20+ and `npm ci` in worker/.
test-worker: worker build
	cd worker && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npx tsc --noEmit -p . && \
		WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false KEBOOLA_MCP_BIN=../$(BIN) npm test

# First-request and warm tools/list latency: Worker (wasm and proxy) vs native.
bench-worker: worker build
	cd worker && WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false KEBOOLA_MCP_BIN=../$(BIN) node --import tsx bench/latency.ts

# --- End-to-end suite (e2e/) -------------------------------------------------
.PHONY: e2e

# Real clients (TypeScript SDK, mcp-remote, MCP Inspector, the conformance
# runner) and a real chromium against dev-stack, serve and the Worker in
# workerd. Needs /usr/bin/chromium (apt-get install chromium) and npm; installs
# the Node packages of e2e/ and worker/ when they are missing.
e2e: build worker
	@test -d worker/node_modules || (cd worker && npm ci --no-audit --no-fund --loglevel=error)
	@test -d e2e/node_modules || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
	cd e2e && WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false KEBOOLA_MCP_BIN=../$(BIN) npm test
