// Command keboola-mcp-static writes the answers the Worker gives without
// starting the Go server in wasm (initialize, ping, tools/list, the
// initialized notification), recorded from the same handler the wasm build
// runs (see mcpserver.StaticAnswers). make worker runs it next to the wasm
// build, with the same version:
//
//	go run -ldflags '-X main.version=V' ./cmd/keboola-mcp-static -o worker/build/mcp-static.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/keboola-mcp/keboola-mcp/internal/mcpserver"
)

// version is set at build time with -ldflags "-X main.version=…", as for the wasm build.
var version = "dev"

func main() {
	out := flag.String("o", "", "output file (default: standard output)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "keboola-mcp-static:", err)
		os.Exit(1)
	}
}

func run(out string) error {
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
