// Command keboola-mcp-static writes the answers the Worker gives without
// starting the Go server in wasm (initialize, ping, the initialized
// notification), recorded from the same handler the wasm build runs (see
// mcpserver.StaticAnswers). make worker runs it next to the wasm build, with
// the same version:
//
//	go run -ldflags '-X main.version=V' ./cmd/keboola-mcp-static -o worker/build/mcp-static.json -tools worker/build/tools.json \
//	    -page-headers worker/build/page-headers.json
//
// -tools also writes every tool's definition, as a session with all tools
// lists them: the plain-JS Worker of make bench-worker serves that list.
//
// -page-headers writes the headers of a page without a form,
// login.PageHeaders(false), as {"withoutForm": {name: value}}: the Worker
// sends them with its error pages and the redirects that answer the login
// form, which must not wait ~200 ms for Go to start in a fresh isolate (or
// fail with it); the login page gets its own from the wasm build.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// version is set at build time with -ldflags "-X main.version=…", as for the wasm build.
var version = "dev"

func main() {
	out := flag.String("o", "", "output file (default: standard output)")
	toolsOut := flag.String("tools", "", "also write every tool's definition to this file")
	pageHeadersOut := flag.String("page-headers", "", "also write the headers of a page without a form to this file")
	flag.Parse()
	if err := run(*out, *toolsOut, *pageHeadersOut); err != nil {
		fmt.Fprintln(os.Stderr, "keboola-mcp-static:", err)
		os.Exit(1)
	}
}

func run(out, toolsOut, pageHeadersOut string) error {
	if pageHeadersOut != "" {
		data, err := json.Marshal(map[string]any{"withoutForm": login.PageHeaders(false)})
		if err != nil {
			return err
		}
		if err := os.WriteFile(pageHeadersOut, data, 0o644); err != nil {
			return err
		}
	}
	if toolsOut != "" {
		var defs []any
		for _, t := range tools.All() {
			defs = append(defs, t.Definition())
		}
		data, err := json.Marshal(map[string]any{"tools": defs})
		if err != nil {
			return err
		}
		if err := os.WriteFile(toolsOut, data, 0o644); err != nil {
			return err
		}
	}
	srv, err := mcpserver.New(mcpserver.WorkerOptions(version))
	if err != nil {
		return err
	}
	answers, err := srv.StaticAnswers()
	if err != nil {
		return err
	}
	data, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o644)
}
