package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func h(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }

func open(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// issued creates a grant "g" with code "code" and redeems it into access
// token "a0" and refresh token "r0".
func issued(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	g := &Grant{ID: "g", ClientID: "c", Scope: "keboola:read", Resource: "https://x/mcp", Sealed: []byte("ct"), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	c := &Code{Hash: h("code"), GrantID: "g", ClientID: "c", RedirectURI: "https://cb", CodeChallenge: "ch", Resource: g.Resource, Scope: g.Scope, WrappedKey: []byte("wk"), ExpiresAt: t0.Add(10 * time.Minute)}
	if err := s.CreateGrant(ctx, g, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeCode(ctx, h("code"), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.IssueTokens(ctx, tok("a0", time.Hour), tok("r0", 30*24*time.Hour), t0.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func tok(name string, ttl time.Duration) *Token {
	return &Token{Hash: h(name), GrantID: "g", ClientID: "c", Scope: "keboola:read", Resource: "https://x/mcp", WrappedKey: []byte("wk-" + name), ExpiresAt: t0.Add(ttl)}
}

func rotation(old, next string, now time.Time) Rotation {
	return Rotation{OldHash: h(old), Now: now, Grace: 5 * time.Second,
		Access: *tok("a-"+next, time.Hour), Refresh: *tok(next, 30*24*time.Hour),
		Successor: []byte("sealed " + next), GrantExpires: now.Add(30 * 24 * time.Hour)}
}

func stats(t *testing.T, s Store) Stats {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCode_ConsumedOnceAndReplayRevokesGrant(t *testing.T) {
	s := open(t)
	issued(t, s)
	ctx := context.Background()
	if _, _, err := s.AccessToken(ctx, h("a0"), t0); err != nil {
		t.Fatalf("access token before replay: %v", err)
	}
	if _, err := s.ConsumeCode(ctx, h("code"), t0.Add(time.Second)); !errors.Is(err, ErrCodeReplayed) {
		t.Fatalf("second ConsumeCode = %v, want ErrCodeReplayed", err)
	}
	if _, _, err := s.AccessToken(ctx, h("a0"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("access token after replay = %v, want revoked", err)
	}
	if _, err := s.RefreshToken(ctx, h("r0"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("refresh token after replay = %v, want revoked", err)
	}
	if st := stats(t, s); st.Grants != 0 || st.AccessTokens != 0 || st.RefreshTokens != 0 {
		t.Errorf("after replay: %+v, want no grant or token left", st)
	}
}

func TestCode_ExpiredOrUnknownIsNotFound(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	g := &Grant{ID: "g", ClientID: "c", Sealed: []byte("x"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	c := &Code{Hash: h("code"), GrantID: "g", ClientID: "c", WrappedKey: []byte("k"), ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateGrant(ctx, g, c); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		hash []byte
		now  time.Time
	}{"unknown": {h("nope"), t0}, "expired": {h("code"), t0.Add(time.Minute)}} {
		if _, err := s.ConsumeCode(ctx, tc.hash, tc.now); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: ConsumeCode = %v, want ErrNotFound", name, err)
		}
	}
}

func TestRefresh_RotationGraceAndReuse(t *testing.T) {
	s := open(t)
	issued(t, s)
	ctx := context.Background()
	succ, err := s.RotateRefresh(ctx, rotation("r0", "r1", t0.Add(time.Minute)))
	if err != nil || succ != nil {
		t.Fatalf("first rotation = %q, %v; want fresh rotation", succ, err)
	}
	// A retry inside the grace window gets the stored successor and
	// issues nothing new.
	succ, err = s.RotateRefresh(ctx, rotation("r0", "r1-retry", t0.Add(time.Minute+4*time.Second)))
	if err != nil || string(succ) != "sealed r1" {
		t.Fatalf("retry in grace = %q, %v; want the first successor", succ, err)
	}
	if _, err := s.RefreshToken(ctx, h("r1-retry"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("a retry in grace stored a new token: %v", err)
	}
	// After the grace window the old token is a stolen copy: the family ends.
	if _, err := s.RotateRefresh(ctx, rotation("r0", "r2", t0.Add(time.Minute+6*time.Second))); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("reuse after grace = %v, want ErrRefreshReused", err)
	}
	for _, name := range []string{"r1", "r2"} {
		if _, err := s.RefreshToken(ctx, h(name), t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("refresh %s after reuse = %v, want revoked", name, err)
		}
	}
	if _, _, err := s.AccessToken(ctx, h("a-r1"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("access token of the family after reuse = %v, want revoked", err)
	}
	if st := stats(t, s); st.Grants != 0 || st.AccessTokens != 0 || st.RefreshTokens != 0 {
		t.Errorf("after reuse: %+v", st)
	}
}

func TestRefresh_ConcurrentRotationsIssueOnePair(t *testing.T) {
	s := open(t)
	issued(t, s)
	ctx := context.Background()
	const n = 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		fresh   int
		replays [][]byte
		errs    []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			succ, err := s.RotateRefresh(ctx, rotation("r0", "r1-"+string(rune('a'+i)), t0.Add(time.Minute)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case succ == nil:
				fresh++
			default:
				replays = append(replays, succ)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 || fresh != 1 || len(replays) != n-1 {
		t.Fatalf("fresh=%d replays=%d errs=%v; want exactly one rotation and the rest answered from it", fresh, len(replays), errs)
	}
	for _, r := range replays {
		if !bytes.Equal(r, replays[0]) {
			t.Fatalf("racing retries got different successors: %q vs %q", r, replays[0])
		}
	}
	if st := stats(t, s); st.RefreshTokens != 2 || st.AccessTokens != 2 {
		t.Errorf("stats %+v; want the original pair plus one rotated pair", st)
	}
}

func TestRevokeToken_RefreshEndsGrantAccessEndsOnlyItself(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	issued(t, s)
	if err := s.RevokeToken(ctx, h("a0")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshToken(ctx, h("r0"), t0); err != nil {
		t.Errorf("revoking the access token ended the refresh token: %v", err)
	}
	if err := s.RevokeToken(ctx, h("r0")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, "g"); !errors.Is(err, ErrNotFound) {
		t.Errorf("grant after refresh revocation = %v, want gone", err)
	}
	if err := s.RevokeToken(ctx, h("unknown")); err != nil {
		t.Errorf("revoking an unknown token = %v, want nil (RFC 7009)", err)
	}
}

func TestPending_SingleUseAndExpiring(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := &Pending{Hash: h("state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: t0.Add(10 * time.Minute)}
	if err := s.SavePending(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumePending(ctx, h("state"), []byte("b"), t0)
	if err != nil || string(got.Payload) != "p" || string(got.Binding) != "b" {
		t.Fatalf("ConsumePending = %+v, %v", got, err)
	}
	if _, err := s.ConsumePending(ctx, h("state"), []byte("b"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("second ConsumePending = %v, want ErrNotFound", err)
	}
	p.Hash = h("late")
	if err := s.SavePending(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumePending(ctx, h("late"), []byte("b"), t0.Add(10*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired ConsumePending = %v, want ErrNotFound", err)
	}
}

func TestSQLite_SurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "restart.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	issued(t, s)
	if err := s.CreateClient(ctx, &Client{ID: "c", SecretHash: h("secret"), RedirectURIs: []string{"https://cb"}, Name: "n", AuthMethod: "client_secret_post", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	tk, g, err := s.AccessToken(ctx, h("a0"), t0)
	if err != nil || tk.GrantID != "g" || string(g.Sealed) != "ct" || string(tk.WrappedKey) != "wk-a0" {
		t.Fatalf("access token after restart = %+v %+v %v", tk, g, err)
	}
	c, err := s.Client(ctx, "c")
	if err != nil || c.Name != "n" || !bytes.Equal(c.SecretHash, h("secret")) || c.RedirectURIs[0] != "https://cb" {
		t.Fatalf("client after restart = %+v, %v", c, err)
	}
}

func TestSweep_RemovesExpiredButKeepsSupersededRefreshForReuseDetection(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	issued(t, s)
	if _, err := s.RotateRefresh(ctx, rotation("r0", "r1", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("swept %d records, want the two expired access tokens and the code", n)
	}
	if st := stats(t, s); st.AccessTokens != 0 || st.RefreshTokens != 2 || st.Codes != 0 {
		t.Errorf("after sweep %+v; want no access tokens or codes, both refresh tokens kept", st)
	}
	if _, err := s.RotateRefresh(ctx, rotation("r0", "r2", t0.Add(2*time.Hour))); !errors.Is(err, ErrRefreshReused) {
		t.Errorf("reuse after sweep = %v, want ErrRefreshReused", err)
	}
}

func TestCreateClient_DuplicateIsConflict(t *testing.T) {
	s := open(t)
	c := &Client{ID: "dup", RedirectURIs: []string{"https://cb"}, AuthMethod: "none", CreatedAt: t0}
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(context.Background(), c); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate = %v, want ErrConflict", err)
	}
	if _, err := s.Client(context.Background(), "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown client = %v, want ErrNotFound", err)
	}
}

func TestSweep_DropsLongIdleClientsOnly(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	issued(t, s) // grant "g" belongs to client "c"
	for _, id := range []string{"c", "idle"} {
		if err := s.CreateClient(ctx, &Client{ID: id, RedirectURIs: []string{"https://cb"}, AuthMethod: "none", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Sweep(ctx, t0.Add(ClientIdleLifetime-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, s); st.Clients != 2 {
		t.Fatalf("clients swept too early: %+v", st)
	}
	if _, err := s.Sweep(ctx, t0.Add(ClientIdleLifetime)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client(ctx, "idle"); !errors.Is(err, ErrNotFound) {
		t.Errorf("idle client kept: %v", err)
	}
}
