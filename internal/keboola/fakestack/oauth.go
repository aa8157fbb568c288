package fakestack

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// Keboola OAuth, as the hosted MCP server uses it: an authorization-code
// flow at /oauth/authorize and /oauth/token. The fake's login form asks for
// a Storage token of this stack where Keboola asks for a user's password; the
// access token then acts with that token's rights.

const (
	oauthCodeTTL    = 10 * time.Minute
	oauthAccessTTL  = time.Hour
	oauthRefreshTTL = 30 * 24 * time.Hour
)

type oauthCode struct {
	clientID    string
	redirectURI string
	// challenge is the S256 PKCE challenge sent at authorize, if any.
	challenge string
	tok       *token
	expires   time.Time
}

type oauthAccess struct {
	tok     *token
	expires time.Time
}

type oauthRefresh struct {
	clientID string
	tok      *token
	expires  time.Time
}

func (s *Stack) oauthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /oauth/authorize", s.handleAuthorizeForm)
	mux.HandleFunc("POST /oauth/authorize", s.handleAuthorizeSubmit)
	mux.HandleFunc("POST /oauth/token", s.handleOAuthToken)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Keboola (fake stack)</title></head>
<body>
<h1>Sign in to Keboola</h1>
<p>Fake stack: enter a Storage API token of project {{.Project}} to authorize <b>{{.ClientID}}</b>.</p>
{{if .Error}}<p role="alert" class="error">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="response_type" value="code">
{{with .Challenge}}<input type="hidden" name="code_challenge" value="{{.}}">
<input type="hidden" name="code_challenge_method" value="S256">
{{end}}<label>Storage API token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit" name="action" value="authorize">Authorize</button>
</form>
</body></html>
`))

type loginData struct {
	Project, ClientID, RedirectURI, State, Challenge, Error string
}

// challengeRE is RFC 7636's S256 challenge: base64url of 32 bytes.
var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkAuthorizeRequest validates client and redirect URI; on failure it
// answers 400 itself and never redirects, since the redirect URI is not trusted.
func (s *Stack) checkAuthorizeRequest(w http.ResponseWriter, v url.Values) bool {
	msg := ""
	ru, err := url.Parse(v.Get("redirect_uri"))
	switch {
	case v.Get("client_id") == "":
		msg = "client_id is required"
	case s.opts.OAuthClients[v.Get("client_id")] == "":
		msg = "unknown client_id"
	case v.Get("response_type") != "code":
		msg = "response_type must be code"
	case err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" || ru.Fragment != "":
		msg = "redirect_uri must be an absolute http(s) URL without a fragment"
	case v.Get("code_challenge") != "" && (v.Get("code_challenge_method") != "S256" || !challengeRE.MatchString(v.Get("code_challenge"))):
		msg = "code_challenge must be an S256 challenge with code_challenge_method=S256"
	}
	if msg == "" {
		return true
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte("invalid authorization request: " + msg + "\n"))
	return false
}

func (s *Stack) renderLogin(w http.ResponseWriter, status int, v url.Values, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, loginData{Project: s.opts.ProjectName, ClientID: v.Get("client_id"),
		RedirectURI: v.Get("redirect_uri"), State: v.Get("state"), Challenge: v.Get("code_challenge"), Error: errMsg})
}

func (s *Stack) handleAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkAuthorizeRequest(w, q) {
		return
	}
	s.renderLogin(w, http.StatusOK, q, "")
}

func (s *Stack) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form", http.StatusBadRequest)
		return
	}
	v := r.PostForm
	if !s.checkAuthorizeRequest(w, v) {
		return
	}
	now := s.now()
	s.mu.Lock()
	t, ok := s.state.tokens[v.Get("token")]
	if !ok || !t.valid(now) {
		s.mu.Unlock()
		s.renderLogin(w, http.StatusUnauthorized, v, "That token is not valid on this stack.")
		return
	}
	code := "kbc_code_" + randomHex(16)
	s.state.oauthCodes[code] = &oauthCode{clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"), challenge: v.Get("code_challenge"), tok: t, expires: now.Add(oauthCodeTTL)}
	s.mu.Unlock()
	ru, _ := url.Parse(v.Get("redirect_uri")) // validated above
	q := ru.Query()
	q.Set("code", code)
	if st := v.Get("state"); st != "" {
		q.Set("state", st)
	}
	ru.RawQuery = q.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// pkceMatches is RFC 7636 §4.6 for S256, strictly: with a challenge the
// verifier must hash to it; without one a verifier is refused as well (a
// client sending one expected PKCE, so the code may have been swapped).
func pkceMatches(challenge, verifier string) bool {
	if challenge == "" {
		return verifier == ""
	}
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// SignIn starts a Keboola OAuth session as the member behind a Storage
// token, as the authorization code grant would, and returns the access
// token.
func (s *Stack) SignIn(storageToken string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.state.tokens[storageToken]
	if !ok || !t.valid(s.now()) {
		return "", errors.New("fakestack: no valid token to sign in with")
	}
	access := "kbc_at_" + randomHex(20)
	s.state.oauthAccess[access] = &oauthAccess{tok: t, expires: s.now().Add(oauthAccessTTL)}
	return access, nil
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="keboola"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// handleOAuthToken implements the token endpoint: authorization_code (codes
// are single use and bound to client, redirect URI and PKCE challenge) and refresh_token
// (refresh tokens rotate). Client credentials come by HTTP Basic or form.
func (s *Stack) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	f := r.PostForm
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}
	want, known := s.opts.OAuthClients[clientID]
	if clientID == "" || !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var tok *token
	switch f.Get("grant_type") {
	case "authorization_code":
		c, ok := s.state.oauthCodes[f.Get("code")]
		if ok {
			delete(s.state.oauthCodes, f.Get("code")) // single use, whatever happens next
		}
		switch {
		case !ok || now.After(c.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the authorization code is invalid, expired or already used")
			return
		case c.clientID != clientID:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the authorization code was issued to another client")
			return
		case f.Get("redirect_uri") != c.redirectURI:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
			return
		case !pkceMatches(c.challenge, f.Get("code_verifier")):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge of the authorization request")
			return
		}
		tok = c.tok
	case "refresh_token":
		rt, ok := s.state.oauthRefresh[f.Get("refresh_token")]
		if ok && rt.clientID == clientID {
			delete(s.state.oauthRefresh, f.Get("refresh_token")) // rotated on use
		}
		if !ok || rt.clientID != clientID || now.After(rt.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid, expired or already used")
			return
		}
		tok = rt.tok
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
		return
	}
	if !tok.valid(now) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the Storage token behind this grant is no longer valid")
		return
	}
	access := "kbc_at_" + randomHex(20)
	refresh := "kbc_rt_" + randomHex(20)
	s.state.oauthAccess[access] = &oauthAccess{tok: tok, expires: now.Add(oauthAccessTTL)}
	s.state.oauthRefresh[refresh] = &oauthRefresh{clientID: clientID, tok: tok, expires: now.Add(oauthRefreshTTL)}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "refresh_token": refresh, "expires_in": int(oauthAccessTTL.Seconds()), "token_type": "Bearer",
	})
}
