package login

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// sharedRules is testdata/shared-rules.json: rules the Worker's TypeScript
// implements too (worker/test/sharedrules.test.ts checks that side).
type sharedRules struct {
	Scopes          []string `json:"scopes"`
	PublicStacks    []string `json:"publicStacks"`
	MaxRequestBytes int64    `json:"maxRequestBytes"`
	StackURLs       []struct {
		In  string  `json:"in"`
		Out *string `json:"out"`
	} `json:"stackURLs"`
	LoopbackHosts []struct {
		Host     string `json:"host"`
		Loopback bool   `json:"loopback"`
	} `json:"loopbackHosts"`
}

func TestSharedRules_GoSide(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/shared-rules.json")
	if err != nil {
		t.Fatal(err)
	}
	var r sharedRules
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Scopes, access.Scopes()) {
		t.Errorf("scopes: Go has %v, the shared file %v", access.Scopes(), r.Scopes)
	}
	if !slices.Equal(r.PublicStacks, DefaultStacks) {
		t.Errorf("public stacks: Go has %v, the shared file %v", DefaultStacks, r.PublicStacks)
	}
	if r.MaxRequestBytes != access.MaxRequestBytes {
		t.Errorf("request body limit: Go has %d, the shared file %d", access.MaxRequestBytes, r.MaxRequestBytes)
	}
	for _, c := range r.StackURLs {
		got, err := NormalizeStackURL(c.In)
		switch {
		case c.Out == nil && err == nil:
			t.Errorf("NormalizeStackURL(%q) = %q, want it refused", c.In, got)
		case c.Out != nil && (err != nil || got != *c.Out):
			t.Errorf("NormalizeStackURL(%q) = %q, %v; want %q", c.In, got, err, *c.Out)
		}
	}
	for _, c := range r.LoopbackHosts {
		if got := access.IsLoopbackHost(c.Host); got != c.Loopback {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", c.Host, got, c.Loopback)
		}
	}
}
