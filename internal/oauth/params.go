package oauth

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
)

// supportedScopes in the order they are advertised.
var supportedScopes = []string{access.ScopeRead, access.ScopeWrite}

// pkceRE is RFC 7636's grammar for an S256 challenge (base64url of 32 bytes)
// and for a verifier.
var (
	challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	verifierRE  = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
)

// authorizeParams are the checked parameters of an authorization request
// that do not depend on the client: everything after the redirect URI has
// been validated is reported to the client by redirect.
type authorizeParams struct {
	ResponseType  string
	CodeChallenge string
	State         string
	Resource      string
	Scope         []string
}

// single returns the one value of key; a repeated parameter is an error
// (RFC 6749 §3.1: parameters must not be included more than once).
func single(v url.Values, key string) (string, *oauthError) {
	vals := v[key]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	default:
		return "", errorf(errInvalidRequest, "the %s parameter appears more than once", key)
	}
}

// parseScope splits a scope string and keeps only known scopes; an unknown
// scope is an error so a client learns it asked for something we lack.
func parseScope(s string) ([]string, *oauthError) {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(supportedScopes, f) {
			return nil, errorf(errInvalidScope, "unknown scope %q; supported: %s", trunc(f), strings.Join(supportedScopes, " "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// paramReader reads single-valued parameters one after another and keeps
// the first error, so a parser can read them all and check once.
type paramReader struct {
	v   url.Values
	err *oauthError
}

func (pr *paramReader) get(key string) string {
	s, err := single(pr.v, key)
	if err != nil && pr.err == nil {
		pr.err = err
	}
	return s
}

// parseAuthorize checks the client-independent parameters of /authorize.
// audiences are the resource indicators this server accepts.
func parseAuthorize(v url.Values, audiences []string) (*authorizeParams, *oauthError) {
	var p authorizeParams
	pr := paramReader{v: v}
	get := pr.get
	p.ResponseType = get("response_type")
	p.CodeChallenge = get("code_challenge")
	method := get("code_challenge_method")
	p.State = get("state")
	p.Resource = get("resource")
	scope := get("scope")
	if pr.err != nil {
		return nil, pr.err
	}
	if p.ResponseType != "code" {
		return nil, errorf(errUnsupportedResponseType, "response_type must be code")
	}
	if p.CodeChallenge == "" {
		return nil, errorf(errInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	if method != "S256" {
		return nil, errorf(errInvalidRequest, "code_challenge_method must be S256 (plain is not accepted)")
	}
	if !challengeRE.MatchString(p.CodeChallenge) {
		return nil, errorf(errInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	if len(p.State) > 2048 {
		return nil, errorf(errInvalidRequest, "state is longer than 2048 characters")
	}
	if p.Resource == "" {
		p.Resource = audiences[0]
	} else if !slices.Contains(audiences, p.Resource) {
		return nil, errorf(errInvalidTarget, "resource %q is not served here; use %s", trunc(p.Resource), audiences[0])
	}
	sc, err := parseScope(scope)
	if err != nil {
		return nil, err
	}
	p.Scope = sc
	return &p, nil
}

// tokenParams are the checked parameters of a /token request.
type tokenParams struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Resource     string
	Scope        []string
	ScopeGiven   bool
}

// parseToken checks the grant-specific parameters of /token (client
// authentication is handled separately).
func parseToken(v url.Values) (*tokenParams, *oauthError) {
	var p tokenParams
	pr := paramReader{v: v}
	get := pr.get
	p.GrantType = get("grant_type")
	p.Code = get("code")
	p.RedirectURI = get("redirect_uri")
	p.CodeVerifier = get("code_verifier")
	p.RefreshToken = get("refresh_token")
	p.Resource = get("resource")
	scope := get("scope")
	if pr.err != nil {
		return nil, pr.err
	}
	_, p.ScopeGiven = v["scope"]
	switch p.GrantType {
	case "authorization_code":
		if p.Code == "" {
			return nil, errorf(errInvalidRequest, "code is required")
		}
		if p.RedirectURI == "" {
			return nil, errorf(errInvalidRequest, "redirect_uri is required")
		}
		if p.CodeVerifier == "" {
			return nil, errorf(errInvalidRequest, "code_verifier is required (PKCE)")
		}
		if !verifierRE.MatchString(p.CodeVerifier) {
			return nil, errorf(errInvalidRequest, "code_verifier must be 43 to 128 unreserved characters")
		}
	case "refresh_token":
		if p.RefreshToken == "" {
			return nil, errorf(errInvalidRequest, "refresh_token is required")
		}
	case "":
		return nil, errorf(errInvalidRequest, "grant_type is required")
	default:
		return nil, errorf(errUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
	}
	sc, err := parseScope(scope)
	if err != nil {
		return nil, err
	}
	p.Scope = sc
	return &p, nil
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
