package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/login"
	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// clientForm answers a request to /token or /revoke that is not a POST of a
// form from an authenticated client (and reports false); otherwise it
// returns the client, with r.PostForm parsed.
func (s *Server) clientForm(w http.ResponseWriter, r *http.Request) (*client, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorf(errInvalidRequest, "use POST"))
		return nil, false
	}
	if !parseForm(w, r, maxFormBody) {
		return nil, false
	}
	c, oerr := s.authenticateClient(r)
	if oerr != nil {
		writeError(w, oerr)
		return nil, false
	}
	return c, true
}

// tokenResponse is the RFC 6749 §5.1 body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	p, oerr := parseToken(r.PostForm)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	if len(c.GrantTypes) > 0 && !slices.Contains(c.GrantTypes, p.GrantType) {
		writeError(w, errorf(errUnauthorizedClient, "this client did not register the %s grant type", p.GrantType))
		return
	}
	var resp *tokenResponse
	switch p.GrantType {
	case "authorization_code":
		resp, oerr = s.exchangeCode(r.Context(), c, p)
	case "refresh_token":
		resp, oerr = s.refresh(r.Context(), c, p)
	}
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// verifyPKCE compares BASE64URL(SHA256(verifier)) with the stored challenge.
func verifyPKCE(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

func (s *Server) exchangeCode(ctx context.Context, c *client, p *tokenParams) (*tokenResponse, *oauthError) {
	if !hasPrefix(p.Code, prefixCode) {
		return nil, errorf(errInvalidGrant, "the authorization code is invalid")
	}
	code, err := s.cfg.Store.ConsumeCode(ctx, hashToken(p.Code), s.now())
	switch {
	case errors.Is(err, store.ErrCodeReplayed):
		s.log.Warn("token: authorization code replayed; its grant was revoked", "client", c.ID)
		return nil, errorf(errInvalidGrant, "the authorization code was already used; tokens issued with it are revoked")
	case errors.Is(err, store.ErrNotFound):
		return nil, errorf(errInvalidGrant, "the authorization code is invalid or expired")
	case err != nil:
		s.log.Error("token: consume code failed", "err", err)
		return nil, errorf(errServerError, "the code could not be redeemed")
	}
	// The code is spent. Any mismatch below means it is in the wrong hands
	// or the request was tampered with: drop the grant it would redeem.
	var bad *oauthError
	switch {
	case code.ClientID != c.ID:
		bad = errorf(errInvalidGrant, "the authorization code was issued to another client")
	case code.RedirectURI != p.RedirectURI:
		bad = errorf(errInvalidGrant, "redirect_uri differs from the one in the authorization request")
	case !verifyPKCE(p.CodeVerifier, code.CodeChallenge):
		bad = errorf(errInvalidGrant, "code_verifier does not match the code_challenge (PKCE)")
	case p.Resource != "" && p.Resource != code.Resource:
		bad = errorf(errInvalidTarget, "resource differs from the one in the authorization request")
	}
	if bad != nil {
		if err := s.cfg.Store.RevokeGrant(ctx, code.GrantID); err != nil {
			s.log.Error("token: revoking a grant after a bad redemption failed", "err", err)
			return nil, errorf(errServerError, "the request could not be processed")
		}
		return nil, bad
	}
	dk, err := s.keys.unwrapKey(p.Code, code.WrappedKey)
	if err != nil {
		return nil, errorf(errInvalidGrant, "the authorization code is invalid")
	}
	now := s.now()
	access, refresh, resp, err := s.mintPair(dk, code.GrantID, c.ID, code.Scope, code.Resource, now)
	if err != nil {
		return nil, errorf(errServerError, "tokens could not be created")
	}
	if err := s.cfg.Store.IssueTokens(ctx, access, refresh, refresh.ExpiresAt); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(errInvalidGrant, "the authorization was revoked")
		}
		s.log.Error("token: storing tokens failed", "err", err)
		return nil, errorf(errServerError, "tokens could not be saved")
	}
	return resp, nil
}

// mintPair creates an access and a refresh token that can both unwrap dk.
func (s *Server) mintPair(dk []byte, grantID, clientID, scope, resource string, now time.Time) (*store.Token, *store.Token, *tokenResponse, error) {
	at, rt := newToken(prefixAccess), newToken(prefixRefresh)
	wa, err := s.keys.wrapKey(at, dk)
	if err != nil {
		return nil, nil, nil, err
	}
	wr, err := s.keys.wrapKey(rt, dk)
	if err != nil {
		return nil, nil, nil, err
	}
	access := &store.Token{Hash: hashToken(at), GrantID: grantID, ClientID: clientID, Scope: scope, Resource: resource, WrappedKey: wa, ExpiresAt: now.Add(s.cfg.AccessTTL)}
	refresh := &store.Token{Hash: hashToken(rt), GrantID: grantID, ClientID: clientID, Scope: scope, Resource: resource, WrappedKey: wr, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	resp := &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTTL / time.Second), RefreshToken: rt, Scope: scope}
	return access, refresh, resp, nil
}

func (s *Server) refresh(ctx context.Context, c *client, p *tokenParams) (*tokenResponse, *oauthError) {
	if !hasPrefix(p.RefreshToken, prefixRefresh) {
		return nil, errorf(errInvalidGrant, "the refresh token is invalid")
	}
	now := s.now()
	old, err := s.cfg.Store.RefreshToken(ctx, hashToken(p.RefreshToken), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errorf(errInvalidGrant, "the refresh token is invalid, expired or revoked")
	case err != nil:
		s.log.Error("token: load refresh token failed", "err", err)
		return nil, errorf(errServerError, "the refresh token could not be checked")
	}
	if old.ClientID != c.ID {
		// Someone holds another client's refresh token: end that grant.
		if err := s.cfg.Store.RevokeGrant(ctx, old.GrantID); err != nil {
			return nil, errorf(errServerError, "the request could not be processed")
		}
		return nil, errorf(errInvalidGrant, "the refresh token was issued to another client")
	}
	if p.Resource != "" && p.Resource != old.Resource {
		return nil, errorf(errInvalidTarget, "resource differs from the one this grant is for")
	}
	scope := old.Scope
	if p.ScopeGiven {
		for _, sc := range p.Scope {
			if !slices.Contains(strings.Fields(old.Scope), sc) {
				return nil, errorf(errInvalidScope, "scope %s was not granted; authorize again to get it", sc)
			}
		}
		if len(p.Scope) > 0 {
			scope = strings.Join(p.Scope, " ")
		}
	}
	dk, err := s.keys.unwrapKey(p.RefreshToken, old.WrappedKey)
	if err != nil {
		return nil, errorf(errInvalidGrant, "the refresh token is invalid")
	}
	access, refresh, resp, err := s.mintPair(dk, old.GrantID, c.ID, scope, old.Resource, now)
	if err != nil {
		return nil, errorf(errServerError, "tokens could not be created")
	}
	kek := s.keys.kek(p.RefreshToken)
	plain, _ := json.Marshal(resp)
	successor, err := seal(kek, plain, []byte("successor"))
	if err != nil {
		return nil, errorf(errServerError, "tokens could not be created")
	}
	prev, err := s.cfg.Store.RotateRefresh(ctx, store.Rotation{
		OldHash: old.Hash, Now: now, Grace: s.cfg.RefreshGrace,
		Access: *access, Refresh: *refresh, Successor: successor, GrantExpires: refresh.ExpiresAt,
	})
	switch {
	case errors.Is(err, store.ErrRefreshReused):
		s.log.Warn("token: superseded refresh token reused; grant revoked", "client", c.ID)
		return nil, errorf(errInvalidGrant, "the refresh token was already used; this authorization is revoked, sign in again")
	case errors.Is(err, store.ErrNotFound):
		return nil, errorf(errInvalidGrant, "the refresh token is invalid, expired or revoked")
	case err != nil:
		s.log.Error("token: rotation failed", "err", err)
		return nil, errorf(errServerError, "the refresh could not be saved")
	}
	if prev != nil {
		// A retry within the grace window: answer exactly as the first time.
		plain, err := open(kek, prev, []byte("successor"))
		if err != nil {
			return nil, errorf(errInvalidGrant, "the refresh token is invalid")
		}
		var again tokenResponse
		if err := json.Unmarshal(plain, &again); err != nil {
			return nil, errorf(errServerError, "the refresh could not be answered")
		}
		return &again, nil
	}
	if oerr := s.refreshUpstream(ctx, old.GrantID, dk); oerr != nil {
		return nil, oerr
	}
	return resp, nil
}

// refreshUpstream keeps a Keboola sign-in grant's credentials fresh after a
// rotation. Keboola refusing the refresh ends the grant; a transient failure
// keeps the current credentials, which stay valid until they expire.
func (s *Server) refreshUpstream(ctx context.Context, grantID string, dk []byte) *oauthError {
	g, err := s.cfg.Store.Grant(ctx, grantID)
	if err != nil {
		return errorf(errInvalidGrant, "the authorization was revoked")
	}
	plain, err := open(dk, g.Sealed, []byte(grantID))
	if err != nil {
		return errorf(errServerError, "the authorization could not be read")
	}
	var props grantProps
	if err := json.Unmarshal(plain, &props); err != nil {
		return errorf(errServerError, "the authorization could not be read")
	}
	changed, err := s.maintainUpstream(ctx, &props)
	if errors.Is(err, login.ErrUpstreamRejected) {
		s.log.Warn("token: Keboola refused the upstream refresh; grant revoked", "err", err)
		if rerr := s.cfg.Store.RevokeGrant(ctx, grantID); rerr != nil {
			return errorf(errServerError, "the request could not be processed")
		}
		return errorf(errInvalidGrant, "the Keboola sign-in has ended; sign in again")
	}
	if err != nil {
		s.log.Warn("token: upstream maintenance failed; keeping current credentials", "err", err)
	}
	if !changed {
		return nil
	}
	sealed, err := s.sealProps(dk, grantID, props)
	if err == nil {
		err = s.cfg.Store.UpdateGrantSealed(ctx, grantID, sealed)
	}
	if err != nil {
		s.log.Error("token: saving refreshed Keboola credentials failed", "err", err)
		return errorf(errServerError, "the refreshed credentials could not be saved")
	}
	return nil
}

// handleRevoke is RFC 7009: the answer is 200 whether or not the token was
// known, so it cannot be used to probe tokens.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	c, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	tok, oerr := single(r.PostForm, "token")
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	if tok == "" {
		writeError(w, errorf(errInvalidRequest, "token is required"))
		return
	}
	ctx := r.Context()
	h := hashToken(tok)
	owner := ""
	now := s.now()
	if t, err := s.cfg.Store.RefreshToken(ctx, h, now); err == nil {
		owner = t.ClientID
	} else if t, _, err := s.cfg.Store.AccessToken(ctx, h, now); err == nil {
		owner = t.ClientID
	}
	// A client may only revoke its own tokens; others are ignored silently.
	if owner == c.ID {
		if err := s.cfg.Store.RevokeToken(ctx, h); err != nil {
			s.log.Error("revoke: store failed", "err", err)
			writeError(w, errorf(errServerError, "the token could not be revoked"))
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
