package oauth

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

var testAudiences = []string{"https://mcp.example.com/mcp", "https://mcp.example.com/sse", "https://mcp.example.com"}

// FuzzParseAuthorize checks that any query either fails with an OAuth error
// or yields a request that satisfies every rule: S256 PKCE, a known
// resource, known scopes.
func FuzzParseAuthorize(f *testing.F) {
	f.Add("response_type=code&code_challenge=" + pkce(verifier) + "&code_challenge_method=S256&state=x&scope=keboola:read")
	f.Add("response_type=code&code_challenge=abc&code_challenge_method=plain")
	f.Add("response_type=code&response_type=token&resource=https://mcp.example.com/mcp")
	f.Add("%zz&scope=keboola:write+admin")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, oerr := parseAuthorize(v, testAudiences)
		if oerr != nil {
			if p != nil || oerr.Code == "" || oerr.Description == "" {
				t.Fatalf("error %v with result %v", oerr, p)
			}
			return
		}
		if v.Get("code_challenge_method") != "S256" || !challengeRE.MatchString(p.CodeChallenge) {
			t.Fatalf("accepted without S256 PKCE: %q", raw)
		}
		if !slices.Contains(testAudiences, p.Resource) {
			t.Fatalf("accepted resource %q", p.Resource)
		}
		for _, s := range p.Scope {
			if !slices.Contains(supportedScopes, s) {
				t.Fatalf("accepted scope %q", s)
			}
		}
	})
}

// FuzzParseToken checks that accepted token requests carry what their
// grant type needs.
func FuzzParseToken(f *testing.F) {
	f.Add("grant_type=authorization_code&code=c&redirect_uri=https://x/cb&code_verifier=" + verifier)
	f.Add("grant_type=refresh_token&refresh_token=kmcp_rt_x&scope=keboola:read")
	f.Add("grant_type=password&username=a")
	f.Add("grant_type=authorization_code&code=a&code=b")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, oerr := parseToken(v)
		if oerr != nil {
			if p != nil || oerr.Code == "" {
				t.Fatalf("error %v with result %v", oerr, p)
			}
			return
		}
		switch p.GrantType {
		case "authorization_code":
			if p.Code == "" || p.RedirectURI == "" || !verifierRE.MatchString(p.CodeVerifier) {
				t.Fatalf("accepted an incomplete code exchange: %q", raw)
			}
		case "refresh_token":
			if p.RefreshToken == "" {
				t.Fatalf("accepted a refresh without a token: %q", raw)
			}
		default:
			t.Fatalf("accepted grant type %q", p.GrantType)
		}
	})
}

// FuzzValidateRegistration checks that accepted client metadata only ever
// holds redirect URIs that pass the rules, and known methods and grants.
func FuzzValidateRegistration(f *testing.F) {
	f.Add(`{"redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none","client_name":"Claude"}`)
	f.Add(`{"redirect_uris":["javascript:alert(1)"]}`)
	f.Add(`{"redirect_uris":["http://127.0.0.1:33418/callback","cursor://anysphere.cursor-mcp/oauth/callback"],"grant_types":["authorization_code","refresh_token"]}`)
	f.Add(`{"redirect_uris":["https://a/#x"]} {}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, oerr := validateRegistration([]byte(body))
		if oerr != nil {
			if m != nil || !strings.HasPrefix(oerr.Code, "invalid_") {
				t.Fatalf("error %v with result %v", oerr, m)
			}
			return
		}
		if len(m.RedirectURIs) == 0 || len(m.RedirectURIs) > maxRedirectURIs {
			t.Fatalf("accepted %d redirect URIs", len(m.RedirectURIs))
		}
		for _, u := range m.RedirectURIs {
			if err := validateRedirectURI(u); err != nil {
				t.Fatalf("accepted redirect %q: %v", u, err)
			}
			lu := strings.ToLower(u)
			if strings.HasPrefix(lu, "javascript:") || strings.HasPrefix(lu, "data:") || strings.Contains(u, "#") {
				t.Fatalf("accepted dangerous redirect %q", u)
			}
		}
		if !slices.Contains(authMethods, m.TokenEndpointAuthMethod) {
			t.Fatalf("accepted auth method %q", m.TokenEndpointAuthMethod)
		}
	})
}

func TestRedirectMatches_ExactExceptLoopbackPort(t *testing.T) {
	reg := []string{"https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1:3000/cb", "cursor://anysphere.cursor-mcp/oauth/callback"}
	cases := map[string]bool{
		"https://claude.ai/api/mcp/auth_callback":       true,
		"https://claude.ai/api/mcp/auth_callback/":      false,
		"https://claude.ai/api/mcp/auth_callback?x=1":   false,
		"https://CLAUDE.ai/api/mcp/auth_callback":       false,
		"http://127.0.0.1:49152/cb":                     true,
		"http://127.0.0.1/cb":                           true,
		"http://127.0.0.1:49152/other":                  false,
		"http://localhost:3000/cb":                      false,
		"cursor://anysphere.cursor-mcp/oauth/callback":  true,
		"cursor://anysphere.cursor-mcp/oauth/callback2": false,
	}
	for u, want := range cases {
		if got := redirectMatches(reg, u); got != want {
			t.Errorf("redirectMatches(%q) = %v, want %v", u, got, want)
		}
	}
}
