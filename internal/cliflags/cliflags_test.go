package cliflags

import (
	"io"
	"slices"
	"testing"
)

func TestParseFlags_EnvFillsOnlyFlagsNotGiven(t *testing.T) {
	env := map[string]string{
		"KEBOOLA_MCP_ADDR":       "127.0.0.1:9999",
		"KEBOOLA_MCP_PUBLIC_URL": "https://mcp.example.com",
		"KEBOOLA_MCP_STACK":      "https://a.example, https://b.example",
	}
	fs := NewFlagSet("test", io.Discard)
	addr := fs.String("addr", "127.0.0.1:8000", "")
	publicURL := fs.String("public-url", "", "")
	var stacks StringList
	fs.Var(&stacks, "stack", "")
	if err := Parse(fs, []string{"--addr", "127.0.0.1:1"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *addr != "127.0.0.1:1" {
		t.Errorf("addr = %q: the command line must win over the environment", *addr)
	}
	if *publicURL != "https://mcp.example.com" {
		t.Errorf("public-url = %q, want it from KEBOOLA_MCP_PUBLIC_URL", *publicURL)
	}
	if want := []string{"https://a.example", "https://b.example"}; !slices.Equal(stacks, want) {
		t.Errorf("stack = %q, want %q", stacks, want)
	}
}

func TestParseFlags_RejectsStrayArguments(t *testing.T) {
	fs := NewFlagSet("test", io.Discard)
	if err := Parse(fs, []string{"extra"}, func(string) string { return "" }); err != ErrUsage {
		t.Fatalf("err = %v, want ErrUsage", err)
	}
}

// The README writes --tools a,b; the flag must read it as two names, as the
// environment variable does.
func TestParseFlags_ListFlagTakesCommaSeparatedValues(t *testing.T) {
	fs := NewFlagSet("test", io.Discard)
	var names StringList
	fs.Var(&names, "tools", "")
	if err := Parse(fs, []string{"--tools", "get_buckets,get_tables", "--tools", " search "}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"get_buckets", "get_tables", "search"}; !slices.Equal(names, want) {
		t.Errorf("tools = %q, want %q", names, want)
	}
}
