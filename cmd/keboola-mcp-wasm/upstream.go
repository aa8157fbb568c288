//go:build js && wasm

package main

import (
	"context"
	"errors"
	"syscall/js"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// storageTokenTTL is the life of a Storage token minted after "Sign in with
// Keboola": as long as the Worker's refresh tokens, so the grant never holds
// a dead credential while it is still refreshable.
const storageTokenTTL = 30 * 24 * time.Hour

// upstreamConfig is the Keboola OAuth client the Worker is registered as.
type upstreamConfig struct {
	stackURL, clientID, clientSecret, redirectURL string
}

func decodeUpstream(v js.Value) (upstreamConfig, error) {
	c := upstreamConfig{
		stackURL:     stringField(v, "stackURL"),
		clientID:     stringField(v, "clientID"),
		clientSecret: stringField(v, "clientSecret"),
		redirectURL:  stringField(v, "redirectURL"),
	}
	if c.stackURL == "" || c.clientID == "" || c.redirectURL == "" {
		return c, errors.New("stackURL, clientID and redirectURL are required")
	}
	return c, nil
}

func (b *bridge) upstream(c upstreamConfig) *login.Upstream {
	return &login.Upstream{
		ClientID:     c.clientID,
		ClientSecret: keboola.Secret(c.clientSecret),
		RedirectURL:  c.redirectURL,
		HTTPClient:   &b.clientHTTP,
		Keboola:      b.client,
	}
}

// optionalVerifier reads the PKCE verifier a caller may pass as args[i].
func optionalVerifier(args []js.Value, i int) (string, bool) {
	if len(args) <= i || args[i].IsUndefined() {
		return "", true
	}
	if args[i].Type() != js.TypeString {
		return "", false
	}
	return args[i].String(), true
}

// upstreamAuthorizeURL implements keboolaMCP.upstreamAuthorizeURL(config,
// state[, verifier]): where the browser signs in to the stack; with a PKCE
// verifier the URL carries its S256 challenge.
func (b *bridge) upstreamAuthorizeURL(_ js.Value, args []js.Value) any {
	verifier, ok := optionalVerifier(args, 2)
	if len(args) < 2 || len(args) > 3 || args[1].Type() != js.TypeString || !ok {
		return js.Global().Get("Error").New("upstreamAuthorizeURL(config, state[, verifier]) takes an object and strings")
	}
	c, err := decodeUpstream(args[0])
	if err != nil {
		return js.Global().Get("Error").New("upstreamAuthorizeURL: " + err.Error())
	}
	return b.upstream(c).AuthCodeURL(c.stackURL, args[1].String(), verifier)
}

// upstreamSignIn implements keboolaMCP.upstreamSignIn(config, code[,
// verifier]): it redeems Keboola's code (with the PKCE verifier whose
// challenge upstreamAuthorizeURL sent), mints a Storage token with the access token (the
// Jobs Queue and AI Service take no Bearer) and describes it. The Storage
// token is returned because the Worker must seal it into the grant.
func (b *bridge) upstreamSignIn(_ js.Value, args []js.Value) any {
	return promise(func(ctx context.Context) (any, error) {
		verifier, ok := optionalVerifier(args, 2)
		if len(args) < 2 || len(args) > 3 || args[1].Type() != js.TypeString || !ok {
			return nil, errors.New("upstreamSignIn(config, code[, verifier]) takes an object and strings")
		}
		c, err := decodeUpstream(args[0])
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		up := b.upstream(c)
		fail := func(err error) (any, error) {
			return map[string]any{"ok": false, "error": err.Error()}, nil
		}
		tok, err := up.Exchange(ctx, c.stackURL, args[1].String(), verifier)
		if err != nil {
			return fail(err)
		}
		minted, err := up.MintStorageToken(ctx, c.stackURL, tok.AccessToken, storageTokenTTL)
		if err != nil {
			return fail(err)
		}
		return map[string]any{
			"ok":           true,
			"storageToken": minted.Token.Reveal(),
			// The Keboola OAuth bearer and when it expires: the Worker
			// seals it into the grant and hands it back with each request
			// while it is valid (Scheduler and git credentials need it).
			"oauthToken":   tok.AccessToken.Reveal(),
			"oauthExpires": tok.Expiry.Unix(),
			"token":        tokenFacts(&minted.TokenInfo),
		}, nil
	})
}
