package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// TestRun_PageHeadersAreLogins: the Worker's pages without a form send
// what this file holds, so it must be login.PageHeaders(false) itself.
func TestRun_PageHeadersAreLogins(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "page-headers.json")
	if err := run(filepath.Join(dir, "mcp-static.json"), "", out); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		WithoutForm map[string]string `json:"withoutForm"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if want := login.PageHeaders(false); !maps.Equal(got.WithoutForm, want) {
		t.Errorf("withoutForm = %v, want %v", got.WithoutForm, want)
	}
}
