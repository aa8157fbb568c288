package login

import (
	"encoding/json"
	"flag"
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the outputs of testdata/page-headers.json from the inputs it holds")

// pageHeaderVectors is testdata/page-headers.json: the pages whose headers
// worker/test/pageheaders.test.ts checks on the Worker.
type pageHeaderVectors struct {
	Comment string `json:"_comment"`
	// Stacks are the Worker's KEBOOLA_STACKS: with Sign in with Keboola,
	// form targets.
	Stacks []string     `json:"stacks"`
	Pages  []pageVector `json:"pages"`
}

type pageVector struct {
	Name string `json:"name"`
	// Form is false for a page without a form (error pages, and the
	// redirects that answer the form); RedirectURI and Upstream are then unset.
	Form        bool              `json:"form"`
	RedirectURI string            `json:"redirectURI,omitempty"`
	Upstream    bool              `json:"upstream,omitempty"`
	FormTargets []string          `json:"formTargets,omitempty"`
	Headers     map[string]string `json:"headers"`
}

const vectorsFile = "testdata/page-headers.json"

// TestPageHeaderVectors: every vector is what Go gives for its inputs, so
// the Worker test that compares its pages with the file compares them with
// Go.
func TestPageHeaderVectors(t *testing.T) {
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs pageHeaderVectors
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs.Stacks) == 0 || !slices.ContainsFunc(vs.Pages, func(p pageVector) bool { return !p.Form }) ||
		!slices.ContainsFunc(vs.Pages, func(p pageVector) bool { return p.Upstream }) ||
		!slices.ContainsFunc(vs.Pages, func(p pageVector) bool { return p.Form && !p.Upstream }) {
		t.Fatal("the vectors need stacks, a page without a form, and login pages with and without Sign in with Keboola")
	}
	for i, v := range vs.Pages {
		var targets []string
		headers := PageHeaders(false)
		if v.Form {
			var upstreamStacks []string
			if v.Upstream {
				upstreamStacks = vs.Stacks
			}
			targets = FormTargets(v.RedirectURI, upstreamStacks)
			p := &Page{FormTargets: targets}
			headers = p.Headers()
		}
		if *update {
			vs.Pages[i].FormTargets, vs.Pages[i].Headers = targets, headers
			continue
		}
		if !slices.Equal(targets, v.FormTargets) {
			t.Errorf("%s: form targets %q, the file says %q", v.Name, targets, v.FormTargets)
		}
		if !maps.Equal(headers, v.Headers) {
			t.Errorf("%s: headers\n%v\nthe file says\n%v", v.Name, headers, v.Headers)
		}
	}
	if *update {
		out, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFormTargets: the client's redirect as a CSP source (an origin, or a
// private-use scheme without its meaningless "host"), then the stacks Sign
// in with Keboola leads to.
func TestFormTargets(t *testing.T) {
	stacks := []string{"https://connection.keboola.com", "https://connection.eu-central-1.keboola.com"}
	for _, tc := range []struct {
		redirectURI string
		stacks      []string
		want        []string
	}{
		{"https://claude.ai/api/mcp/auth_callback", nil, []string{"https://claude.ai"}},
		{"http://127.0.0.1:33418/callback?x=1", nil, []string{"http://127.0.0.1:33418"}},
		{"http://[::1]:9/cb", nil, []string{"http://[::1]:9"}},
		{"cursor://anysphere.cursor-retrieval/oauth/callback", nil, []string{"cursor:"}},
		{"com.example.app:/oauth", stacks, append([]string{"com.example.app:"}, stacks...)},
		{"https://claude.ai/cb", stacks, append([]string{"https://claude.ai"}, stacks...)},
		{"not a URI", nil, nil},
		{"%zz://x", stacks, stacks},
	} {
		if got := FormTargets(tc.redirectURI, tc.stacks); !slices.Equal(got, tc.want) {
			t.Errorf("FormTargets(%q, %q) = %q, want %q", tc.redirectURI, tc.stacks, got, tc.want)
		}
	}
}

// The form-action source grammar as regular expressions: the spec that
// isOriginSource and isSchemeSource, written as loops for the wasm build's
// size, must match exactly.
var (
	originSourceGrammar = regexp.MustCompile(`^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
	schemeSourceGrammar = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:$`)
)

var sourceSamples = []string{
	"", ":", "https://", "http://", "https://a", "http://a", "HTTPS://a", "https://A-b.C9", "https://a_b", "https://a b",
	"https://a:1", "https://a:12345", "https://a:123456", "https://a:", "https://a:x", "https://a:1:2", "https://a/", "https://a/b",
	"https://a?x", "https://a#x", "https://a@b", "https://[::1]", "https://[::1]:9", "https://[]", "https://[::1", "https://::1]",
	"https://[::1]x", "https://[::1]:", "https://[g::1]", "https://[FE80::1.2.3.4]:65535", "https://[::1]]", "https://[[::1]",
	"https://a.example; script-src *", "https://a\n", "https://a\x00", "http://127.0.0.1:9", "ftp://a", "https:/a", "https//a",
	"cursor:", "cursor", "Cursor:", "c:", "1a:", "+a:", "a+b.c-d:", "a_b:", "a::", "a:b", "a:/", "javascript:", "x-y.z+1:",
	"'self'", "*", "'unsafe-inline'", "https:", "https://*.example",
}

func TestFormActionSources_MatchTheirGrammar(t *testing.T) {
	for _, s := range sourceSamples {
		checkSourceGrammar(t, s)
	}
}

func FuzzFormActionSources(f *testing.F) {
	for _, s := range sourceSamples {
		f.Add(s)
	}
	f.Fuzz(checkSourceGrammar)
}

func checkSourceGrammar(t *testing.T, s string) {
	if got, want := isOriginSource(s), originSourceGrammar.MatchString(s); got != want {
		t.Errorf("isOriginSource(%q) = %v, the grammar says %v", s, got, want)
	}
	if got, want := isSchemeSource(s), schemeSourceGrammar.MatchString(s); got != want {
		t.Errorf("isSchemeSource(%q) = %v, the grammar says %v", s, got, want)
	}
}
