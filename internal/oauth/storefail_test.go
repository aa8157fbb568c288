package oauth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// failingStore fails the chosen writes, as a full disk or a lost database
// connection would.
type failingStore struct {
	store.Store
	fail map[string]bool
}

var errDisk = errors.New("disk I/O error")

func (f *failingStore) CreateClient(ctx context.Context, c *store.Client) error {
	if f.fail["client"] {
		return errDisk
	}
	return f.Store.CreateClient(ctx, c)
}

func (f *failingStore) CreateGrant(ctx context.Context, g *store.Grant, c *store.Code) error {
	if f.fail["grant"] {
		return errDisk
	}
	return f.Store.CreateGrant(ctx, g, c)
}

func (f *failingStore) IssueTokens(ctx context.Context, a, r *store.Token, exp time.Time) error {
	if f.fail["issue"] {
		return errDisk
	}
	return f.Store.IssueTokens(ctx, a, r, exp)
}

func (f *failingStore) RotateRefresh(ctx context.Context, r store.Rotation) ([]byte, error) {
	if f.fail["rotate"] {
		return nil, errDisk
	}
	return f.Store.RotateRefresh(ctx, r)
}

func TestStoreFailure_IsAnErrorNeverASuccess(t *testing.T) {
	fs := &failingStore{fail: map[string]bool{}}
	e := newEnv(t, func(c *Config) { fs.Store = c.Store; c.Store = fs })

	fs.fail["client"] = true
	if r := e.register(map[string]any{"redirect_uris": []string{testRedirect}}); r.status != http.StatusInternalServerError || r.json["client_id"] != nil {
		t.Errorf("registration with a failing store: %d %s", r.status, r.body)
	}
	fs.fail["client"] = false
	id := e.publicClient()

	fs.fail["grant"] = true
	b := browser()
	q := redirected(t, e.submit(b, e.consent(b, authQuery(id))), testRedirect)
	wantError(t, q, "server_error")
	fs.fail["grant"] = false

	fs.fail["issue"] = true
	wantJSONError(t, e.exchange(id, e.code(id)), http.StatusInternalServerError, "server_error")
	fs.fail["issue"] = false

	_, rt := e.tokens(id)
	fs.fail["rotate"] = true
	wantJSONError(t, e.refresh(id, rt), http.StatusInternalServerError, "server_error")
}

func (f *failingStore) AccessToken(ctx context.Context, hash []byte, now time.Time) (*store.Token, *store.Grant, error) {
	if f.fail["access"] {
		return nil, nil, errDisk
	}
	return f.Store.AccessToken(ctx, hash, now)
}

// A database outage must not look like a bad token: clients answer
// invalid_token by throwing their tokens away and sending the user through
// the login again, for a fault that is ours and passing.
func TestStoreFailure_BearerCheckIsUnavailableNotInvalidToken(t *testing.T) {
	fs := &failingStore{fail: map[string]bool{}}
	e := newEnv(t, func(c *Config) { fs.Store = c.Store; c.Store = fs })
	at, _ := e.tokens(e.publicClient())

	fs.fail["access"] = true
	r := e.callMCP(at)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || r.json["error"] != errTemporarilyUnavailable {
		t.Errorf("bearer check with a failing store: %d Retry-After=%q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if e.servedCount() != 0 {
		t.Error("a request was served although its token could not be checked")
	}
	fs.fail["access"] = false
	if r := e.callMCP(at); r.status != http.StatusOK {
		t.Errorf("the token does not work once the store is back: %d", r.status)
	}
}
