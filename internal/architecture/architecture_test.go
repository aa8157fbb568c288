// Package architecture holds the test that keeps the package layering of
// docs/architecture.md true.
package architecture

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/keboola-mcp/keboola-mcp/"

// thirdParty names the modules the table may allow, by the short names it
// uses.
var thirdParty = map[string]string{
	"go-sdk":     "github.com/modelcontextprotocol/go-sdk",
	"jsonschema": "github.com/google/jsonschema-go",
	"sqlite":     "modernc.org/sqlite",
	"pgx":        "github.com/jackc/pgx",
	"go-redis":   "github.com/redis/go-redis",
	"oauth2":     "golang.org/x/oauth2",
	"x/time":     "golang.org/x/time",
	"duckdb":     "github.com/duckdb/duckdb-go",
}

var tableRow = regexp.MustCompile("^\\| `((?:cmd|internal)/[^`]+)/` \\|[^|]*\\|\\s*([^|]*?)\\s*\\|$")

// allowedImports reads the package table: path → what it may import.
func allowedImports(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := tableRow.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var allowed []string
		for _, a := range strings.Split(m[2], ",") {
			if a = strings.TrimSpace(a); a != "" {
				allowed = append(allowed, a)
			}
		}
		rules[m[1]] = allowed
	}
	if len(rules) < 10 {
		t.Fatalf("found %d package rows in docs/architecture.md; the table's format changed", len(rules))
	}
	return rules
}

type listed struct {
	ImportPath string
	Imports    []string
}

// goList runs go list in the module root with args and decodes the
// packages it prints.
func goList(t *testing.T, env []string, args ...string) []listed {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// violations returns the imports of pkg (a path relative to the module)
// that allowed does not admit.
func violations(pkg string, imports []string, allowed []string) []string {
	if slices.Contains(allowed, "*") {
		return nil
	}
	var bad []string
	for _, imp := range imports {
		first, _, _ := strings.Cut(imp, "/")
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		if rel, own := strings.CutPrefix(imp, module); own {
			short := strings.TrimPrefix(rel, "internal/")
			ok = slices.Contains(allowed, short) || strings.HasPrefix(rel, pkg+"/")
		} else {
			for _, a := range allowed {
				if mod, known := thirdParty[a]; known && (imp == mod || strings.HasPrefix(imp, mod+"/")) {
					ok = true
				}
			}
		}
		if !ok {
			bad = append(bad, imp)
		}
	}
	return bad
}

func TestImportsFollowTheArchitectureTable(t *testing.T) {
	rules := allowedImports(t)
	pkgs := goList(t, nil, "./...")
	pkgs = append(pkgs, goList(t, []string{"GOOS=js", "GOARCH=wasm"}, "./cmd/keboola-mcp-wasm")...)
	seen := map[string]bool{}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if rel == "internal/architecture" {
			continue
		}
		allowed, ok := rules[rel]
		if !ok {
			t.Errorf("%s has no row in docs/architecture.md's package table", rel)
			continue
		}
		seen[rel] = true
		if bad := violations(rel, p.Imports, allowed); len(bad) > 0 {
			t.Errorf("%s imports %v, which docs/architecture.md does not allow (allowed: %v)", rel, bad, allowed)
		}
	}
	for rel := range rules {
		if !seen[rel] {
			t.Errorf("docs/architecture.md lists %s, which is not a package", rel)
		}
	}
}

func TestViolationsCatchAForbiddenImport(t *testing.T) {
	cases := []struct {
		imports []string
		allowed []string
		want    int
	}{
		{[]string{module + "internal/mcpserver"}, []string{"access", "store"}, 1},
		{[]string{"github.com/modelcontextprotocol/go-sdk/mcp"}, []string{"access"}, 1},
		{[]string{"net/http", module + "internal/access", "golang.org/x/time/rate"}, []string{"access", "x/time"}, 0},
		{[]string{module + "internal/oauth/sub"}, nil, 0},
	}
	for _, c := range cases {
		if got := violations("internal/oauth", c.imports, c.allowed); len(got) != c.want {
			t.Errorf("violations(%v, allowed %v) = %v, want %d", c.imports, c.allowed, got, c.want)
		}
	}
}

func TestShippedBinaryLinksNoTestCode(t *testing.T) {
	for _, p := range goList(t, nil, "-deps", "./cmd/keboola-mcp") {
		if p.ImportPath == "testing" || p.ImportPath == "net/http/httptest" || strings.HasSuffix(p.ImportPath, "fakestacktest") {
			t.Errorf("keboola-mcp links %s", p.ImportPath)
		}
	}
}

// keboola-mcp ships as a static pure-Go binary: the fake stack's DuckDB
// engine (cgo) lives in keboola-dev-stack only.
func TestShippedBinaryLinksNoCgo(t *testing.T) {
	for _, p := range goList(t, nil, "-deps", "./cmd/keboola-mcp") {
		if strings.HasPrefix(p.ImportPath, thirdParty["duckdb"]) || strings.HasSuffix(p.ImportPath, "keboola/fakestack") {
			t.Errorf("keboola-mcp links %s", p.ImportPath)
		}
	}
}

func TestAuthorizationServerLinksNoTools(t *testing.T) {
	for _, p := range goList(t, nil, "-deps", "./internal/oauth") {
		for _, forbidden := range []string{module + "internal/tools", module + "internal/mcpserver", thirdParty["go-sdk"]} {
			if p.ImportPath == forbidden || strings.HasPrefix(p.ImportPath, forbidden+"/") {
				t.Errorf("internal/oauth links %s", p.ImportPath)
			}
		}
	}
}
