package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// startUpstream sends the browser to the chosen stack's Keboola OAuth
// server. The state is random, stored only now (after consent), single use,
// valid for 10 minutes and bound to this browser's cookie; the PKCE
// verifier travels sealed inside it and never leaves this server.
func (s *Server) startUpstream(w http.ResponseWriter, r *http.Request, sealedRequest string, req authRequest, stack string, scopes []string, again func(int, string)) {
	if s.cfg.Upstream == nil {
		again(http.StatusBadRequest, "Sign in with Keboola is not configured on this server; paste a Storage API token instead.")
		return
	}
	if !s.spendConsent(w, r, sealedRequest, req.Expires) {
		return
	}
	browser := s.guard.Browser(r)
	verifier := login.NewVerifier()
	payload, err := s.sealJSON(pendingLogin{Request: req, Stack: stack, Scope: scopes, Verifier: verifier}, "pending")
	if err != nil {
		again(http.StatusInternalServerError, "Something went wrong; try again.")
		return
	}
	state := rand.Text() + rand.Text()
	p := &store.Pending{Hash: hashToken(state), Binding: s.guard.Binding(browser), Payload: []byte(payload), ExpiresAt: s.now().Add(formTTL)}
	if err := s.cfg.Store.SavePending(r.Context(), p); err != nil {
		s.log.Error("login: could not store the upstream state", "err", err)
		again(http.StatusInternalServerError, "The sign-in could not be started; try again.")
		return
	}
	login.SecurityHeaders(w.Header(), false)
	http.Redirect(w, r, s.cfg.Upstream.AuthCodeURL(stack, state, verifier), http.StatusSeeOther)
}

// handleCallback is where Keboola sends the browser back.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	if s.cfg.Upstream == nil {
		login.RenderError(w, http.StatusNotFound, "Not available", "Sign in with Keboola is not configured on this server.")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		login.RenderError(w, http.StatusBadRequest, "Sign-in incomplete", "Keboola returned without the sign-in state. Connect again from your application.")
		return
	}
	// The browser check comes before the state is spent: whoever else holds
	// the callback URL (a leaked Referer, a proxy log) is refused without
	// spoiling the sign-in of the browser that started it.
	p, err := s.cfg.Store.ConsumePending(r.Context(), hashToken(state), s.guard.RequestBinding(r), s.now())
	switch {
	case errors.Is(err, store.ErrWrongBrowser):
		login.RenderError(w, http.StatusForbidden, "Sign-in started elsewhere", "This sign-in was started in another browser. Connect again from your application in this browser.")
		return
	case err != nil:
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("callback: store failed", "err", err)
		}
		login.RenderError(w, http.StatusBadRequest, "Sign-in expired", "This sign-in was already used or is older than 10 minutes. Connect again from your application.")
		return
	}
	var pl pendingLogin
	if err := s.openJSON(string(p.Payload), "pending", &pl); err != nil {
		login.RenderError(w, http.StatusBadRequest, "Sign-in expired", "Connect again from your application.")
		return
	}
	req := pl.Request
	fail := func(desc string) {
		s.redirect(w, r, req.RedirectURI, req.State, url.Values{"error": {errAccessDenied}, "error_description": {desc}})
	}
	if q.Get("error") != "" {
		fail("the Keboola sign-in was cancelled or refused")
		return
	}
	code := q.Get("code")
	if code == "" {
		fail("Keboola returned no authorization code")
		return
	}
	up, err := s.cfg.Upstream.Exchange(r.Context(), pl.Stack, code, pl.Verifier)
	if err != nil {
		s.log.Warn("callback: upstream exchange failed", "stack", pl.Stack, "err", err)
		fail("the Keboola sign-in could not be completed")
		return
	}
	props := grantProps{StackURL: pl.Stack, Upstream: &upstreamProps{AccessToken: up.AccessToken.Reveal(), RefreshToken: up.RefreshToken.Reveal(), Expiry: up.Expiry.Unix()}}
	if err := s.mintStorageToken(r.Context(), &props); err != nil {
		s.log.Warn("callback: minting a Storage token failed", "stack", pl.Stack, "err", err)
		fail("a Storage token could not be created for this Keboola account")
		return
	}
	s.finish(w, r, req, pl.Scope, props)
}

func (s *Server) mintStorageToken(ctx context.Context, props *grantProps) error {
	ttl := s.storageTokenTTL()
	t, err := s.cfg.Upstream.MintStorageToken(ctx, props.StackURL, keboola.Secret(props.Upstream.AccessToken), ttl)
	if err != nil {
		return err
	}
	props.StorageToken = t.Token.Reveal()
	props.StorageExpires = s.now().Add(ttl).Unix()
	return nil
}

// maintainUpstream keeps a Keboola sign-in alive when our refresh token is
// used: it refreshes the upstream access token when it would expire before
// the access token being issued (the tools send it as the Keboola OAuth
// bearer on every call), and
// mints a new Storage token when the current one would expire before the
// access token being issued. It reports whether props changed. Only the
// request that won the rotation of a refresh token calls it, so one grant is
// never maintained twice at once.
func (s *Server) maintainUpstream(ctx context.Context, props *grantProps) (bool, error) {
	if props.Upstream == nil || s.cfg.Upstream == nil {
		return false, nil
	}
	now := s.now()
	changed := false
	if time.Unix(props.Upstream.Expiry, 0).Before(now.Add(s.cfg.AccessTTL + 5*time.Minute)) {
		t, err := s.cfg.Upstream.Refresh(ctx, props.StackURL, keboola.Secret(props.Upstream.RefreshToken))
		if err != nil {
			return false, err
		}
		props.Upstream = &upstreamProps{AccessToken: t.AccessToken.Reveal(), RefreshToken: t.RefreshToken.Reveal(), Expiry: t.Expiry.Unix()}
		changed = true
	}
	if props.StorageExpires != 0 && time.Unix(props.StorageExpires, 0).Before(now.Add(s.cfg.AccessTTL+5*time.Minute)) {
		if err := s.mintStorageToken(ctx, props); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

func (s *Server) sealProps(dk []byte, grantID string, props grantProps) ([]byte, error) {
	b, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	return seal(dk, b, []byte(grantID))
}
