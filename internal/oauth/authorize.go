package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// authRequest is a validated authorization request. It travels sealed in
// the login form and in the upstream state, so it cannot be altered between
// the first GET and the code being issued: PKCE challenge, redirect URI and
// resource are carried through every detour.
type authRequest struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`
	State       string   `json:"s,omitempty"`
	Challenge   string   `json:"p"`
	Resource    string   `json:"a"`
	Scope       []string `json:"o,omitempty"`
	Expires     int64    `json:"e"`
}

// grantProps are the credentials a grant carries, sealed with its data key.
// Plain strings, not keboola.Secret: Secret refuses to serialise itself.
type grantProps struct {
	StackURL       string         `json:"stack"`
	StorageToken   string         `json:"token"`
	StorageExpires int64          `json:"token_expires,omitempty"`
	Upstream       *upstreamProps `json:"upstream,omitempty"`
}

type upstreamProps struct {
	AccessToken  string `json:"access"`
	RefreshToken string `json:"refresh"`
	Expiry       int64  `json:"expiry"`
}

// pendingLogin is the payload of an upstream state.
type pendingLogin struct {
	Request authRequest `json:"q"`
	Stack   string      `json:"k"`
	Scope   []string    `json:"o"`
	// Verifier is the PKCE code verifier sent to Keboola as a challenge.
	Verifier string `json:"v"`
}

func (s *Server) sealJSON(v any, aad string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	ct, err := seal(s.keys.seal, b, []byte(aad))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

func (s *Server) openJSON(sealed, aad string, v any) error {
	ct, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return errDecrypt
	}
	b, err := open(s.keys.seal, ct, []byte(aad))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.authorizeRequest(w, r)
	case http.MethodPost:
		s.authorizeForm(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		login.RenderError(w, http.StatusMethodNotAllowed, "Method not allowed", "Open this page from your application.")
	}
}

// authorizeRequest validates an authorization request and shows the login +
// consent page. Until the client and its redirect URI are known to belong
// together, problems are shown on a page; afterwards they are reported to the
// client by redirect (RFC 6749 §4.1.2.1) only when the redirect URI is
// vouched for (errorRedirectAllowed).
func (s *Server) authorizeRequest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, e1 := single(q, "client_id")
	redirectURI, e2 := single(q, "redirect_uri")
	if e1 != nil || e2 != nil || clientID == "" {
		login.RenderError(w, http.StatusBadRequest, "Invalid request", "The application sent an incomplete or repeated client_id or redirect_uri. Connect again from the application.")
		return
	}
	c, err := s.lookupClient(r, clientID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errCIMD) {
			s.log.Error("authorize: client lookup failed", "err", err)
			login.RenderError(w, http.StatusInternalServerError, "Server error", "The application's registration could not be loaded. Try again.")
			return
		}
		s.log.Info("authorize: unknown client", "reason", err.Error())
		login.RenderError(w, http.StatusBadRequest, "Unknown application", "This server does not know the application that sent you here. Remove the connection in the application and add it again so it registers anew.")
		return
	}
	if redirectURI == "" || !redirectMatches(c.RedirectURIs, redirectURI) {
		login.RenderError(w, http.StatusBadRequest, "Redirect address not registered", "The application asked to return to an address it did not register. For your safety nothing was sent there.")
		return
	}
	p, oerr := parseAuthorize(q, s.audiences)
	if oerr != nil {
		if !errorRedirectAllowed(c, redirectURI) {
			login.RenderError(w, http.StatusBadRequest, "The application's request is invalid",
				"The application that sent you here made a request this server cannot accept ("+oerr.Code+": "+oerr.Description+"). Nothing was shared. Tell the application's developer, or connect again.")
			return
		}
		state, _ := single(q, "state")
		s.redirect(w, r, redirectURI, state, url.Values{"error": {oerr.Code}, "error_description": {oerr.Description}})
		return
	}
	req := authRequest{
		ClientID: c.ID, RedirectURI: redirectURI, State: p.State, Challenge: p.CodeChallenge,
		Resource: p.Resource, Scope: p.Scope, Expires: s.now().Add(formTTL).Unix(),
	}
	sealed, err := s.sealJSON(req, "authreq")
	if err != nil {
		login.RenderError(w, http.StatusInternalServerError, "Server error", "Try again.")
		return
	}
	browser := s.guard.EnsureBrowser(w, r)
	stacks := s.cfg.Stacks.Stacks()
	read, write := true, len(p.Scope) == 0 || slices.Contains(p.Scope, access.ScopeWrite)
	login.Render(w, http.StatusOK, s.page(c, redirectURI, sealed, s.guard.CSRFToken(browser, sealed), stacks[0], read, write, "", ""))
}

// errorRedirectAllowed decides where an error found before consent goes
// (RFC 9700 §4.11.2). Anyone can register a client whose redirect URI is
// their own website and mail a victim a broken /authorize link: redirecting
// the error would make this server an open redirector, carrying the victim
// to that site with the attacker's state. Such errors are shown on our own
// page unless the redirect URI is vouched for:
//   - a client metadata document client (the https domain that publishes the
//     document names its redirect URIs, which are validated against it);
//   - a loopback http redirect (it reaches only a program on the user's own
//     computer, never a website).
//
// Self-registered https and private-use scheme redirects are not vouched
// for. After consent, errors (deny, a failed sign-in) are always redirected:
// the user chose this client.
func errorRedirectAllowed(c *client, redirectURI string) bool {
	if c.Verified {
		return true
	}
	u, err := url.Parse(redirectURI)
	return err == nil && u.Scheme == "http" && access.IsLoopbackHost(u.Hostname())
}

func (s *Server) page(c *client, redirectURI, sealed, csrf, stack string, read, write bool, field, msg string) *login.Page {
	name := c.Name
	if name == "" {
		name = "An unnamed application"
	}
	p := &login.Page{
		Action: "/authorize", ClientName: name, RedirectHost: login.RedirectHost(redirectURI), Verified: c.Verified,
		Loopback: login.IsLocalRedirect(redirectURI),
		Stacks:   s.cfg.Stacks.Stacks(), Stack: stack, Read: read, Write: write,
		Request: sealed, CSRF: csrf, Upstream: s.cfg.Upstream != nil, Error: msg, ErrorField: field,
	}
	if c.Verified {
		p.ClientID = c.ID
	}
	// An answer to the form is redirected to the client, or first to a
	// Keboola stack: the page's form-action must allow exactly those.
	var upstreamStacks []string
	if s.cfg.Upstream != nil {
		upstreamStacks = p.Stacks
	}
	p.FormTargets = login.FormTargets(redirectURI, upstreamStacks)
	return p
}

// authorizeForm handles the login + consent form.
func (s *Server) authorizeForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		login.RenderError(w, http.StatusBadRequest, "Invalid form", "The form could not be read. Go back to your application and connect again.")
		return
	}
	f := r.PostForm
	sealed := f.Get("request")
	var req authRequest
	if err := s.openJSON(sealed, "authreq", &req); err != nil || s.now().Unix() > req.Expires {
		login.RenderError(w, http.StatusBadRequest, "This login form has expired", "The form is older than 10 minutes or was altered. Go back to your application and connect again.")
		return
	}
	if !s.guard.CheckCSRF(r, sealed, f.Get("csrf_token")) {
		login.RenderError(w, http.StatusForbidden, "Could not confirm this request", "The form was not submitted from the browser that opened it (or cookies are blocked). Open the connection again from your application in this browser.")
		return
	}
	c, err := s.lookupClient(r, req.ClientID)
	if err != nil {
		login.RenderError(w, http.StatusBadRequest, "Unknown application", "The application is no longer registered. Connect again from the application.")
		return
	}
	action := f.Get("action")
	if action == "deny" {
		if !s.spendConsent(w, r, sealed, req.Expires) {
			return
		}
		s.redirect(w, r, req.RedirectURI, req.State, url.Values{"error": {errAccessDenied}, "error_description": {"the user denied access"}})
		return
	}
	stack, stackOK := s.cfg.Stacks.Match(f.Get("stack_url"))
	scopes := grantedScopes(f["scope"], req.Scope)
	// againAt shows the form again with an error about one field.
	againAt := func(status int, field, msg string) {
		shown := stack
		if !stackOK {
			shown = s.cfg.Stacks.Stacks()[0]
		}
		login.Render(w, status, s.page(c, req.RedirectURI, sealed, f.Get("csrf_token"), shown,
			slices.Contains(scopes, access.ScopeRead) || len(scopes) == 0, slices.Contains(scopes, access.ScopeWrite), field, msg))
	}
	again := func(status int, msg string) { againAt(status, "", msg) }
	if action != "approve" && action != "keboola" {
		again(http.StatusBadRequest, login.MsgChooseAnAction)
		return
	}
	if !stackOK {
		againAt(http.StatusBadRequest, login.FieldStack, login.MsgChooseStack)
		return
	}
	if len(scopes) == 0 {
		againAt(http.StatusBadRequest, login.FieldScope, login.MsgChooseScope)
		return
	}
	if action == "keboola" {
		s.startUpstream(w, r, sealed, req, stack, scopes, again)
		return
	}
	token := keboola.Secret(f.Get("storage_token"))
	info, err := login.VerifyStorageToken(r.Context(), stack, token, s.cfg.Keboola)
	if err != nil {
		againAt(http.StatusBadRequest, login.FieldToken, err.Error())
		return
	}
	if !s.spendConsent(w, r, sealed, req.Expires) {
		return
	}
	s.log.Info("login: token verified", "stack", stack, "project", info.Owner.ID.String(), "client", c.ID)
	props := grantProps{StackURL: stack, StorageToken: token.Reveal()}
	s.finish(w, r, req, scopes, props)
}

// spendConsent makes a consent form single use: the first answer it carries
// (approve, deny, or going on to Keboola) records the form as spent, in one
// atomic insert, so a replayed or racing POST of the same form gets no
// second code. Mistakes that re-show the form (a wrong Storage token) do not
// spend it. The record is a pending entry keyed by the form's sealed
// request, which differs on every page load, and expires with the form.
// It reports false after answering the request itself.
func (s *Server) spendConsent(w http.ResponseWriter, r *http.Request, sealed string, expires int64) bool {
	err := s.cfg.Store.SavePending(r.Context(), &store.Pending{
		Hash: hashToken("consent\x00" + sealed), Binding: []byte("consent"), Payload: []byte("spent"),
		ExpiresAt: time.Unix(expires, 0),
	})
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrConflict):
		login.RenderError(w, http.StatusBadRequest, "This approval was already sent",
			"This consent form was already answered, so it cannot be used again. If you are still connecting, start again from your application.")
	default:
		s.log.Error("authorize: could not record the consent", "err", err)
		login.RenderError(w, http.StatusInternalServerError, "Server error", "Your answer could not be saved. Start again from your application.")
	}
	return false
}

// grantedScopes is what the user ticked, limited to what the client asked
// for (when it asked), with write implying read.
func grantedScopes(ticked, requested []string) []string {
	var out []string
	for _, sc := range supportedScopes {
		if !slices.Contains(ticked, sc) {
			continue
		}
		if len(requested) > 0 && !slices.Contains(requested, sc) {
			continue
		}
		out = append(out, sc)
	}
	if slices.Contains(out, access.ScopeWrite) && !slices.Contains(out, access.ScopeRead) {
		out = append([]string{access.ScopeRead}, out...)
	}
	return out
}

// finish creates the grant and its code and sends the browser back.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, req authRequest, scopes []string, props grantProps) {
	code, err := s.issueCode(r.Context(), req, scopes, props)
	if err != nil {
		s.log.Error("authorize: could not store the grant", "err", err)
		s.redirect(w, r, req.RedirectURI, req.State, url.Values{"error": {errServerError}, "error_description": {"the authorization could not be saved"}})
		return
	}
	s.redirect(w, r, req.RedirectURI, req.State, url.Values{"code": {code}})
}

func (s *Server) issueCode(ctx context.Context, req authRequest, scopes []string, props grantProps) (string, error) {
	now := s.now()
	grantID := newToken("g_")
	dk := newDataKey()
	plain, err := json.Marshal(props)
	if err != nil {
		return "", err
	}
	sealedProps, err := seal(dk, plain, []byte(grantID))
	if err != nil {
		return "", err
	}
	code := newToken(prefixCode)
	wrapped, err := s.keys.wrapKey(code, dk)
	if err != nil {
		return "", err
	}
	scope := strings.Join(scopes, " ")
	g := &store.Grant{ID: grantID, ClientID: req.ClientID, Scope: scope, Resource: req.Resource, Sealed: sealedProps, CreatedAt: now, ExpiresAt: now.Add(codeTTL)}
	c := &store.Code{Hash: hashToken(code), GrantID: grantID, ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		CodeChallenge: req.Challenge, Resource: req.Resource, Scope: scope, WrappedKey: wrapped, ExpiresAt: now.Add(codeTTL)}
	if err := s.cfg.Store.CreateGrant(ctx, g, c); err != nil {
		return "", err
	}
	return code, nil
}

// redirect sends the browser to a redirect URI that was validated against
// the client's registration, adding state and iss (RFC 9207).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, redirectURI, state string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		login.RenderError(w, http.StatusBadRequest, "Invalid redirect address", "The application's redirect address cannot be used.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", s.cfg.Issuer)
	u.RawQuery = q.Encode()
	login.SecurityHeaders(w.Header(), false)
	status := http.StatusFound
	if r.Method == http.MethodPost {
		// The login form carries the user's Storage token: 303 makes the
		// browser follow with a GET and never re-post it (RFC 9700 §4.11).
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, u.String(), status)
}

// storageTokenTTL is the lifetime of a Storage token minted from a Keboola
// sign-in: it must outlive any access token issued while it is current.
func (s *Server) storageTokenTTL() time.Duration { return s.cfg.AccessTTL + time.Hour }
