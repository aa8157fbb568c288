// Package storetest is the conformance suite of store.Store: every
// implementation (SQLite, Postgres, Redis) runs the same tests, so the
// authorization server can rely on one set of semantics whichever backend
// an operator picks.
//
// Times in the suite start at the wall clock of each test, not at a fixed
// date: stores with native expiry (Redis key TTLs) really drop a record
// whose lifetime has passed, while the logical checks the suite makes
// ("expired at now") always go through the now argument of each call.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
)

// Open returns a new, empty store for one test and registers its Close
// with t.Cleanup.
type Open func(t *testing.T) store.Store

// Run runs every conformance test against fresh stores from open.
func Run(t *testing.T, open Open) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newFixture(t, open(t))) })
	}
}

// RunShared runs the tests that need two handles on the same data, as two
// server replicas have: open returns both, backed by one database.
func RunShared(t *testing.T, open func(t *testing.T) (a, b store.Store)) {
	t.Run("rotations racing across replicas issue one pair", func(t *testing.T) {
		a, b := open(t)
		f := newFixture(t, a)
		f.issue("g")
		results := race(16, func(i int) ([]byte, error) {
			s := []store.Store{a, b}[i%2]
			return s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", fmt.Sprintf("r1-%d", i), f.t0.Add(time.Minute)))
		})
		f.oneFreshRestSameSuccessor(results)
		if st := f.statsOf(b); st.RefreshTokens != 2 || st.AccessTokens != 2 {
			t.Errorf("stats seen by the other replica %+v; want the first pair plus one rotated pair", st)
		}
	})
	t.Run("a revocation racing rotations on another replica leaves nothing behind", func(t *testing.T) {
		a, b := open(t)
		revokeRacingRotations(newFixture(t, a), b)
	})
	t.Run("a code redeemed on one replica is a replay on the other", func(t *testing.T) {
		a, b := open(t)
		f := newFixture(t, a)
		f.issue("g")
		if _, err := b.ConsumeCode(f.ctx, hash("code-g"), f.t0); !errors.Is(err, store.ErrCodeReplayed) {
			t.Fatalf("ConsumeCode on the other replica = %v, want ErrCodeReplayed", err)
		}
		if _, _, err := a.AccessToken(f.ctx, hash("a0-g"), f.t0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("access token after a replay on the other replica = %v, want revoked", err)
		}
	})
}

// Benchmark measures one refresh rotation: each iteration rotates the
// token the previous one issued, as a client refreshing in a loop does.
func Benchmark(b *testing.B, s store.Store) {
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	g := &store.Grant{ID: "bench", ClientID: "c", Scope: "keboola:read", Resource: "https://x/mcp", Sealed: []byte("sealed"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	c := &store.Code{Hash: hash("bench-code"), GrantID: g.ID, ClientID: "c", WrappedKey: []byte("wk"), ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateGrant(ctx, g, c); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ConsumeCode(ctx, c.Hash, t0); err != nil {
		b.Fatal(err)
	}
	tk := func(name string, ttl time.Duration) store.Token {
		return store.Token{Hash: hash(name), GrantID: g.ID, ClientID: "c", Scope: g.Scope, Resource: g.Resource, WrappedKey: []byte("wrapped key of " + name), ExpiresAt: t0.Add(ttl)}
	}
	a0, r0 := tk("bench-a0", time.Hour), tk("bench-r0", 24*time.Hour)
	if err := s.IssueTokens(ctx, &a0, &r0, t0.Add(24*time.Hour)); err != nil {
		b.Fatal(err)
	}
	old := "bench-r0"
	b.ResetTimer()
	for i := range b.N {
		next := fmt.Sprintf("bench-r%d", i+1)
		succ, err := s.RotateRefresh(ctx, store.Rotation{OldHash: hash(old), Now: t0, Grace: 10 * time.Second,
			Access: tk("bench-a"+next, time.Hour), Refresh: tk(next, 24*time.Hour),
			Successor: []byte("successor " + next), GrantExpires: t0.Add(24 * time.Hour)})
		if err != nil || succ != nil {
			b.Fatalf("rotation %d = %q, %v; want a fresh rotation", i, succ, err)
		}
		old = next
	}
}

func hash(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }

type fixture struct {
	*testing.T
	s   store.Store
	ctx context.Context
	t0  time.Time
}

func newFixture(t *testing.T, s store.Store) *fixture {
	// Millisecond precision is what every backend keeps.
	return &fixture{T: t, s: s, ctx: context.Background(), t0: time.Now().Truncate(time.Millisecond)}
}

const (
	codeTTL    = 10 * time.Minute
	accessTTL  = time.Hour
	refreshTTL = 30 * 24 * time.Hour
	grace      = 5 * time.Second
)

// grant creates grant id for client "c" with code "code-<id>".
func (f *fixture) grant(id string) (*store.Grant, *store.Code) {
	f.Helper()
	g := &store.Grant{ID: id, ClientID: "c", Scope: "keboola:read keboola:write", Resource: "https://mcp.example/mcp",
		Sealed: []byte("sealed credentials of " + id), CreatedAt: f.t0, ExpiresAt: f.t0.Add(codeTTL)}
	c := &store.Code{Hash: hash("code-" + id), GrantID: id, ClientID: "c", RedirectURI: "https://client.example/cb",
		CodeChallenge: "challenge-" + id, Resource: g.Resource, Scope: g.Scope, WrappedKey: []byte("code key of " + id), ExpiresAt: f.t0.Add(codeTTL)}
	if err := f.s.CreateGrant(f.ctx, g, c); err != nil {
		f.Fatalf("CreateGrant %s: %v", id, err)
	}
	return g, c
}

// issue creates grant id, redeems its code and issues access token
// "a0-<id>" and refresh token "r0-<id>".
func (f *fixture) issue(id string) {
	f.Helper()
	f.grant(id)
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-"+id), f.t0); err != nil {
		f.Fatalf("ConsumeCode %s: %v", id, err)
	}
	a, r := f.token(id, "a0-"+id, accessTTL), f.token(id, "r0-"+id, refreshTTL)
	if err := f.s.IssueTokens(f.ctx, &a, &r, f.t0.Add(refreshTTL)); err != nil {
		f.Fatalf("IssueTokens %s: %v", id, err)
	}
}

func (f *fixture) token(grantID, name string, ttl time.Duration) store.Token {
	return store.Token{Hash: hash(name), GrantID: grantID, ClientID: "c", Scope: "keboola:read keboola:write",
		Resource: "https://mcp.example/mcp", WrappedKey: []byte("token key of " + name), ExpiresAt: f.t0.Add(ttl)}
}

// rotation replaces refresh token old of grant grantID with next, and
// access token "a-<next>".
func (f *fixture) rotation(grantID, old, next string, now time.Time) store.Rotation {
	return store.Rotation{OldHash: hash(old), Now: now, Grace: grace,
		Access: f.token(grantID, "a-"+next, accessTTL), Refresh: f.token(grantID, next, refreshTTL),
		Successor: []byte("successor " + next), GrantExpires: now.Add(refreshTTL)}
}

func (f *fixture) stats() store.Stats { f.Helper(); return f.statsOf(f.s) }

func (f *fixture) statsOf(s store.Store) store.Stats {
	f.Helper()
	st, err := s.Stats(f.ctx)
	if err != nil {
		f.Fatalf("Stats: %v", err)
	}
	return st
}

// wantGone fails unless none of the named tokens can be looked up.
func (f *fixture) wantGone(why string, access []string, refresh []string) {
	f.Helper()
	for _, name := range access {
		if _, _, err := f.s.AccessToken(f.ctx, hash(name), f.t0); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: access token %s = %v, want ErrNotFound", why, name, err)
		}
	}
	for _, name := range refresh {
		if _, err := f.s.RefreshToken(f.ctx, hash(name), f.t0); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: refresh token %s = %v, want ErrNotFound", why, name, err)
		}
	}
}

type result struct {
	val []byte
	err error
}

// race runs fn n times at once, released together, and collects results.
func race(n int, fn func(i int) ([]byte, error)) []result {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		out   = make([]result, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := fn(i)
			out[i] = result{v, err}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// oneFreshRestSameSuccessor checks the outcome of racing rotations of one
// token: one rotated, every other got that rotation's successor.
func (f *fixture) oneFreshRestSameSuccessor(results []result) {
	f.Helper()
	var fresh int
	var successors [][]byte
	for _, r := range results {
		switch {
		case r.err != nil:
			f.Fatalf("a racing rotation failed: %v", r.err)
		case r.val == nil:
			fresh++
		default:
			successors = append(successors, r.val)
		}
	}
	if fresh != 1 {
		f.Fatalf("%d racing rotations rotated; want exactly one", fresh)
	}
	for _, s := range successors {
		if !bytes.Equal(s, successors[0]) {
			f.Fatalf("racing retries got different successors: %q vs %q", s, successors[0])
		}
	}
	// The stored successor names the one rotation that happened.
	if len(successors) > 0 {
		winner := bytes.TrimPrefix(successors[0], []byte("successor "))
		if _, err := f.s.RefreshToken(f.ctx, hash(string(winner)), f.t0); err != nil {
			f.Errorf("the successor names %s, which is not stored: %v", winner, err)
		}
	}
}

var cases = []struct {
	name string
	fn   func(f *fixture)
}{
	{"client fields read back", testClientRoundTrip},
	{"client duplicate is a conflict and unknown is not found", testClientConflict},
	{"grant and code read back", testGrantRoundTrip},
	{"grant with a taken id or code hash is a conflict and stores nothing", testGrantConflict},
	{"grant sealed credentials are replaced", testUpdateGrantSealed},
	{"code is consumed once and a replay revokes the grant", testCodeReplay},
	{"code unknown or expired is not found", testCodeNotFound},
	{"code used before is a replay even after it expired", testCodeReplayAfterExpiry},
	{"code redeemed concurrently has exactly one winner", testCodeConcurrent},
	{"tokens are issued only for a live grant", testIssueNeedsGrant},
	{"access token returns its grant until it expires", testAccessToken},
	{"refresh token lookup sees current and superseded tokens until expiry", testRefreshLookup},
	{"rotation issues a pair and keeps the old token as superseded", testRotateFresh},
	{"rotation retried within grace gets the same successor", testRotateGrace},
	{"rotation reused after grace revokes the whole family", testRotateReuse},
	{"rotation retried after its successor was used revokes the whole family, even within grace", testRotateGraceEndsWhenSuccessorUsed},
	{"rotation never moves the grant expiry backward", testRotateGrantExpiry},
	{"rotation of an unknown, expired or revoked token issues nothing", testRotateNotFound},
	{"rotations racing on one token issue one pair", testRotateConcurrent},
	{"revoking an access token ends only itself, a refresh token ends the grant", testRevokeToken},
	{"revoking a grant removes its tokens and is idempotent", testRevokeGrant},
	{"a revocation racing rotations leaves nothing behind", func(f *fixture) { revokeRacingRotations(f, f.s) }},
	{"pending state is single use and expires", testPending},
	{"pending state consumed concurrently has exactly one winner", testPendingConcurrent},
	{"pending state saved concurrently under one key has exactly one winner", testPendingSaveConcurrent},
	{"sweep removes exactly the expired records and counts them", testSweepExpired},
	{"sweep keeps superseded refresh tokens for reuse detection", testSweepKeepsSuperseded},
	{"sweep of an ended grant removes its tokens", testSweepEndedGrant},
	{"sweep drops long-idle clients only", testSweepIdleClients},
	{"sweep clears a backlog larger than any batch", testSweepBacklog},
	{"stats count each kind of record", testStats},
}

func testClientRoundTrip(f *fixture) {
	clients := []*store.Client{
		{ID: "confidential", SecretHash: hash("secret"), RedirectURIs: []string{"https://a.example/cb", "http://127.0.0.1/cb"},
			Name: "Confidential app", AuthMethod: "client_secret_basic", GrantTypes: []string{"authorization_code", "refresh_token"},
			Scope: "keboola:read", CreatedAt: f.t0},
		{ID: "public", RedirectURIs: []string{"myapp:/cb"}, AuthMethod: "none", CreatedAt: f.t0.Add(-time.Hour)},
	}
	for _, want := range clients {
		if err := f.s.CreateClient(f.ctx, want); err != nil {
			f.Fatalf("CreateClient %s: %v", want.ID, err)
		}
	}
	for _, want := range clients {
		got, err := f.s.Client(f.ctx, want.ID)
		if err != nil {
			f.Fatalf("Client %s: %v", want.ID, err)
		}
		if got.ID != want.ID || !bytes.Equal(got.SecretHash, want.SecretHash) || !slices.Equal(got.RedirectURIs, want.RedirectURIs) ||
			got.Name != want.Name || got.AuthMethod != want.AuthMethod || !slices.Equal(got.GrantTypes, want.GrantTypes) ||
			got.Scope != want.Scope || !got.CreatedAt.Equal(want.CreatedAt) {
			f.Errorf("Client %s = %+v, want %+v", want.ID, got, want)
		}
	}
}

func testClientConflict(f *fixture) {
	c := &store.Client{ID: "dup", RedirectURIs: []string{"https://a.example/cb"}, Name: "first", AuthMethod: "none", CreatedAt: f.t0}
	if err := f.s.CreateClient(f.ctx, c); err != nil {
		f.Fatal(err)
	}
	second := *c
	second.Name = "second"
	if err := f.s.CreateClient(f.ctx, &second); !errors.Is(err, store.ErrConflict) {
		f.Errorf("duplicate CreateClient = %v, want ErrConflict", err)
	}
	if got, err := f.s.Client(f.ctx, "dup"); err != nil || got.Name != "first" {
		f.Errorf("after a conflict the client is %+v, %v; want the first one unchanged", got, err)
	}
	if _, err := f.s.Client(f.ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("unknown client = %v, want ErrNotFound", err)
	}
}

func testGrantRoundTrip(f *fixture) {
	g, c := f.grant("g")
	got, err := f.s.Grant(f.ctx, "g")
	if err != nil {
		f.Fatal(err)
	}
	if got.ID != g.ID || got.ClientID != g.ClientID || got.Scope != g.Scope || got.Resource != g.Resource ||
		!bytes.Equal(got.Sealed, g.Sealed) || !got.CreatedAt.Equal(g.CreatedAt) || !got.ExpiresAt.Equal(g.ExpiresAt) {
		f.Errorf("Grant = %+v, want %+v", got, g)
	}
	code, err := f.s.ConsumeCode(f.ctx, c.Hash, f.t0)
	if err != nil {
		f.Fatal(err)
	}
	if !bytes.Equal(code.Hash, c.Hash) || code.GrantID != c.GrantID || code.ClientID != c.ClientID || code.RedirectURI != c.RedirectURI ||
		code.CodeChallenge != c.CodeChallenge || code.Resource != c.Resource || code.Scope != c.Scope ||
		!bytes.Equal(code.WrappedKey, c.WrappedKey) || !code.ExpiresAt.Equal(c.ExpiresAt) {
		f.Errorf("ConsumeCode = %+v, want %+v", code, c)
	}
	if _, err := f.s.Grant(f.ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("unknown grant = %v, want ErrNotFound", err)
	}
}

func testGrantConflict(f *fixture) {
	f.grant("g")
	before := f.stats()
	other := func(grantID, code string) (*store.Grant, *store.Code) {
		return &store.Grant{ID: grantID, ClientID: "c", Sealed: []byte("x"), CreatedAt: f.t0, ExpiresAt: f.t0.Add(time.Minute)},
			&store.Code{Hash: hash(code), GrantID: grantID, ClientID: "c", WrappedKey: []byte("k"), ExpiresAt: f.t0.Add(time.Minute)}
	}
	for name, pair := range map[string][2]string{
		"taken grant id":  {"g", "code-new"},
		"taken code hash": {"g-new", "code-g"},
	} {
		g, c := other(pair[0], pair[1])
		if err := f.s.CreateGrant(f.ctx, g, c); !errors.Is(err, store.ErrConflict) {
			f.Errorf("%s: CreateGrant = %v, want ErrConflict", name, err)
		}
	}
	if _, err := f.s.Grant(f.ctx, "g-new"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("a grant whose code conflicted was stored: %v", err)
	}
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-new"), f.t0); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("a code whose grant conflicted was stored: %v", err)
	}
	if got, err := f.s.Grant(f.ctx, "g"); err != nil || string(got.Sealed) != "sealed credentials of g" {
		f.Errorf("the first grant changed after conflicts: %+v, %v", got, err)
	}
	if after := f.stats(); after != before {
		f.Errorf("stats after conflicts %+v, want unchanged %+v", after, before)
	}
}

func testUpdateGrantSealed(f *fixture) {
	f.issue("g")
	if err := f.s.UpdateGrantSealed(f.ctx, "g", []byte("refreshed upstream")); err != nil {
		f.Fatal(err)
	}
	_, g, err := f.s.AccessToken(f.ctx, hash("a0-g"), f.t0)
	if err != nil || string(g.Sealed) != "refreshed upstream" {
		f.Errorf("grant seen through its access token = %+v, %v; want the new ciphertext", g, err)
	}
	if err := f.s.UpdateGrantSealed(f.ctx, "unknown", []byte("x")); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("UpdateGrantSealed of an unknown grant = %v, want ErrNotFound", err)
	}
}

func testCodeReplay(f *fixture) {
	f.issue("g")
	f.issue("other")
	if _, _, err := f.s.AccessToken(f.ctx, hash("a0-g"), f.t0); err != nil {
		f.Fatalf("access token before the replay: %v", err)
	}
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0.Add(time.Second)); !errors.Is(err, store.ErrCodeReplayed) {
		f.Fatalf("second ConsumeCode = %v, want ErrCodeReplayed", err)
	}
	f.wantGone("after a code replay", []string{"a0-g"}, []string{"r0-g"})
	if _, err := f.s.Grant(f.ctx, "g"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("grant after a code replay = %v, want revoked", err)
	}
	if _, _, err := f.s.AccessToken(f.ctx, hash("a0-other"), f.t0); err != nil {
		f.Errorf("a replay revoked an unrelated grant: %v", err)
	}
	// The replay is remembered: a third try is a replay too.
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0.Add(2*time.Second)); !errors.Is(err, store.ErrCodeReplayed) {
		f.Errorf("third ConsumeCode = %v, want ErrCodeReplayed", err)
	}
}

func testCodeNotFound(f *fixture) {
	_, c := f.grant("g")
	for name, tc := range map[string]struct {
		hash []byte
		now  time.Time
	}{
		"unknown":               {hash("nope"), f.t0},
		"expired at its expiry": {c.Hash, c.ExpiresAt},
		"expired after":         {c.Hash, c.ExpiresAt.Add(time.Hour)},
	} {
		if _, err := f.s.ConsumeCode(f.ctx, tc.hash, tc.now); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: ConsumeCode = %v, want ErrNotFound", name, err)
		}
	}
	// Presenting an expired code did not spend it.
	if _, err := f.s.ConsumeCode(f.ctx, c.Hash, c.ExpiresAt.Add(-time.Millisecond)); err != nil {
		f.Errorf("ConsumeCode just before expiry after expired attempts = %v, want the code", err)
	}
}

func testCodeReplayAfterExpiry(f *fixture) {
	f.issue("g")
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0.Add(codeTTL+time.Minute)); !errors.Is(err, store.ErrCodeReplayed) {
		f.Fatalf("a used code presented after its expiry = %v, want ErrCodeReplayed", err)
	}
	f.wantGone("after a late replay", []string{"a0-g"}, []string{"r0-g"})
}

func testCodeConcurrent(f *fixture) {
	f.grant("g")
	const n = 8
	results := race(n, func(int) ([]byte, error) {
		c, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0)
		if err != nil {
			return nil, err
		}
		return []byte(c.GrantID), nil
	})
	var won, replayed int
	for _, r := range results {
		switch {
		case r.err == nil:
			won++
		case errors.Is(r.err, store.ErrCodeReplayed):
			replayed++
		default:
			f.Errorf("a racing redemption failed: %v", r.err)
		}
	}
	if won != 1 || replayed != n-1 {
		f.Fatalf("%d redemptions won and %d were replays; want 1 and %d", won, replayed, n-1)
	}
	// The losers' replays revoked the grant, so the winner cannot use it.
	a, r := f.token("g", "a0-g", accessTTL), f.token("g", "r0-g", refreshTTL)
	if err := f.s.IssueTokens(f.ctx, &a, &r, f.t0.Add(refreshTTL)); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("IssueTokens after racing redemptions = %v, want ErrNotFound", err)
	}
}

func testIssueNeedsGrant(f *fixture) {
	f.grant("g")
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0); err != nil {
		f.Fatal(err)
	}
	if err := f.s.RevokeGrant(f.ctx, "g"); err != nil {
		f.Fatal(err)
	}
	a, r := f.token("g", "a0-g", accessTTL), f.token("g", "r0-g", refreshTTL)
	if err := f.s.IssueTokens(f.ctx, &a, &r, f.t0.Add(refreshTTL)); !errors.Is(err, store.ErrNotFound) {
		f.Fatalf("IssueTokens for a revoked grant = %v, want ErrNotFound", err)
	}
	if st := f.stats(); st.AccessTokens != 0 || st.RefreshTokens != 0 {
		f.Errorf("tokens stored for a revoked grant: %+v", st)
	}
}

func testAccessToken(f *fixture) {
	f.issue("g")
	tk, g, err := f.s.AccessToken(f.ctx, hash("a0-g"), f.t0)
	if err != nil {
		f.Fatal(err)
	}
	want := f.token("g", "a0-g", accessTTL)
	if !bytes.Equal(tk.Hash, want.Hash) || tk.GrantID != "g" || tk.ClientID != want.ClientID || tk.Scope != want.Scope ||
		tk.Resource != want.Resource || !bytes.Equal(tk.WrappedKey, want.WrappedKey) || !tk.ExpiresAt.Equal(want.ExpiresAt) {
		f.Errorf("AccessToken = %+v, want %+v", tk, want)
	}
	if g.ID != "g" || g.ClientID != "c" || string(g.Sealed) != "sealed credentials of g" || !g.CreatedAt.Equal(f.t0) ||
		!g.ExpiresAt.Equal(f.t0.Add(refreshTTL)) {
		f.Errorf("grant of the access token = %+v; want grant g expiring when IssueTokens said", g)
	}
	for name, tc := range map[string]struct {
		token string
		now   time.Time
	}{
		"unknown":               {"nope", f.t0},
		"expired at its expiry": {"a0-g", f.t0.Add(accessTTL)},
		"refresh token as one":  {"r0-g", f.t0},
	} {
		if _, _, err := f.s.AccessToken(f.ctx, hash(tc.token), tc.now); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: AccessToken = %v, want ErrNotFound", name, err)
		}
	}
	if err := f.s.RevokeGrant(f.ctx, "g"); err != nil {
		f.Fatal(err)
	}
	f.wantGone("after RevokeGrant", []string{"a0-g"}, nil)
}

func testRefreshLookup(f *fixture) {
	f.issue("g")
	tk, err := f.s.RefreshToken(f.ctx, hash("r0-g"), f.t0)
	if err != nil {
		f.Fatal(err)
	}
	want := f.token("g", "r0-g", refreshTTL)
	if tk.GrantID != "g" || tk.ClientID != want.ClientID || tk.Scope != want.Scope || tk.Resource != want.Resource ||
		!bytes.Equal(tk.WrappedKey, want.WrappedKey) || !tk.ExpiresAt.Equal(want.ExpiresAt) {
		f.Errorf("RefreshToken = %+v, want %+v", tk, want)
	}
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.RefreshToken(f.ctx, hash("r0-g"), f.t0.Add(time.Hour)); err != nil {
		f.Errorf("superseded refresh token lookup = %v, want it (the caller tells reuse from retry)", err)
	}
	for name, tc := range map[string]struct {
		token string
		now   time.Time
	}{
		"unknown":               {"nope", f.t0},
		"expired at its expiry": {"r0-g", f.t0.Add(refreshTTL)},
		"access token as one":   {"a0-g", f.t0},
	} {
		if _, err := f.s.RefreshToken(f.ctx, hash(tc.token), tc.now); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: RefreshToken = %v, want ErrNotFound", name, err)
		}
	}
}

func testRotateFresh(f *fixture) {
	f.issue("g")
	now := f.t0.Add(time.Minute)
	succ, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", now))
	if err != nil || succ != nil {
		f.Fatalf("first rotation = %q, %v; want a fresh rotation (nil successor)", succ, err)
	}
	tk, g, err := f.s.AccessToken(f.ctx, hash("a-r1"), now)
	if err != nil || tk.GrantID != "g" || string(tk.WrappedKey) != "token key of a-r1" {
		f.Fatalf("new access token = %+v, %v", tk, err)
	}
	if !g.ExpiresAt.Equal(now.Add(refreshTTL)) {
		f.Errorf("grant expiry after rotation = %v, want %v", g.ExpiresAt, now.Add(refreshTTL))
	}
	if r, err := f.s.RefreshToken(f.ctx, hash("r1"), now); err != nil || string(r.WrappedKey) != "token key of r1" {
		f.Errorf("new refresh token = %+v, %v", r, err)
	}
	// The access token issued before the rotation lives on until it expires.
	if _, _, err := f.s.AccessToken(f.ctx, hash("a0-g"), now); err != nil {
		f.Errorf("the earlier access token after rotation = %v, want it still valid", err)
	}
	if st := f.stats(); st.AccessTokens != 2 || st.RefreshTokens != 2 || st.Grants != 1 {
		f.Errorf("stats after one rotation %+v; want 2 access, 2 refresh (one superseded), 1 grant", st)
	}
}

func testRotateGrace(f *fixture) {
	f.issue("g")
	rotated := f.t0.Add(time.Minute)
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", rotated)); err != nil {
		f.Fatal(err)
	}
	// Inside the window, up to and including its last instant, every retry
	// gets the first rotation's successor and nothing new is stored.
	for i, now := range []time.Time{rotated, rotated.Add(grace / 2), rotated.Add(grace)} {
		next := fmt.Sprintf("r1-retry-%d", i)
		succ, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", next, now))
		if err != nil || string(succ) != "successor r1" {
			f.Errorf("retry at +%v = %q, %v; want the first successor", now.Sub(rotated), succ, err)
		}
		f.wantGone("a retry in grace", []string{"a-" + next}, []string{next})
	}
	if st := f.stats(); st.AccessTokens != 2 || st.RefreshTokens != 2 {
		f.Errorf("stats after retries %+v; want only the first rotation's pair added", st)
	}
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r2", rotated.Add(grace+time.Millisecond))); !errors.Is(err, store.ErrRefreshReused) {
		f.Errorf("reuse one millisecond after the window = %v, want ErrRefreshReused", err)
	}
}

func testRotateReuse(f *fixture) {
	f.issue("g")
	f.issue("other")
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r1", "r2", f.t0.Add(2*time.Minute))); err != nil {
		f.Fatal(err)
	}
	// r0 comes back long after it was superseded: someone holds a copy.
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r3", f.t0.Add(time.Hour))); !errors.Is(err, store.ErrRefreshReused) {
		f.Fatalf("reuse after grace = %v, want ErrRefreshReused", err)
	}
	f.wantGone("after reuse", []string{"a0-g", "a-r1", "a-r2", "a-r3"}, []string{"r0-g", "r1", "r2", "r3"})
	if _, err := f.s.Grant(f.ctx, "g"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("grant after reuse = %v, want revoked", err)
	}
	if _, _, err := f.s.AccessToken(f.ctx, hash("a0-other"), f.t0); err != nil {
		f.Errorf("reuse revoked an unrelated grant: %v", err)
	}
	if st := f.stats(); st.Grants != 1 || st.AccessTokens != 1 || st.RefreshTokens != 1 {
		f.Errorf("stats after reuse %+v; want only the unrelated grant's records", st)
	}
}

// testRotateGraceEndsWhenSuccessorUsed pins the rule shared with the Worker
// (docs/security.md, "Rules on both deployments"): the grace answer exists
// for a client that lost the response, and such a client cannot have used
// the successor. Once the successor was rotated, the old token in anyone's
// hands is a copy: answering it would hand the live chain to a thief.
func testRotateGraceEndsWhenSuccessorUsed(f *fixture) {
	f.issue("g")
	f.issue("other")
	at := f.t0.Add(time.Minute)
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", at)); err != nil {
		f.Fatal(err)
	}
	// r1's own retry while r2 is unused still gets r2: the grace holds
	// while the successor has not been used.
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r1", "r2", at.Add(time.Second))); err != nil {
		f.Fatal(err)
	}
	if succ, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r1", "r2-retry", at.Add(2*time.Second))); err != nil || string(succ) != "successor r2" {
		f.Fatalf("retry of r1 while r2 is unused = %q, %v; want r2's successor", succ, err)
	}
	// r0 comes back inside its window, but r1 was already used.
	if succ, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r0-retry", at.Add(3*time.Second))); !errors.Is(err, store.ErrRefreshReused) {
		f.Fatalf("r0 after r1 was used = %q, %v; want ErrRefreshReused", succ, err)
	}
	f.wantGone("after r0 came back", []string{"a0-g", "a-r1", "a-r2", "a-r0-retry"}, []string{"r0-g", "r1", "r2", "r0-retry"})
	if _, err := f.s.Grant(f.ctx, "g"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("grant after reuse = %v, want revoked", err)
	}
	if _, _, err := f.s.AccessToken(f.ctx, hash("a0-other"), f.t0); err != nil {
		f.Errorf("reuse revoked an unrelated grant: %v", err)
	}
}

func testRotateGrantExpiry(f *fixture) {
	f.issue("g")
	r := f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))
	r.GrantExpires = f.t0.Add(time.Hour) // earlier than the expiry IssueTokens set
	if _, err := f.s.RotateRefresh(f.ctx, r); err != nil {
		f.Fatal(err)
	}
	g, err := f.s.Grant(f.ctx, "g")
	if err != nil || !g.ExpiresAt.Equal(f.t0.Add(refreshTTL)) {
		f.Errorf("grant = %+v, %v; want its expiry kept at %v", g, err, f.t0.Add(refreshTTL))
	}
}

func testRotateNotFound(f *fixture) {
	f.issue("g")
	f.issue("revoked")
	if err := f.s.RevokeGrant(f.ctx, "revoked"); err != nil {
		f.Fatal(err)
	}
	for name, r := range map[string]store.Rotation{
		"unknown":               f.rotation("g", "nope", "x1", f.t0),
		"expired at its expiry": f.rotation("g", "r0-g", "x2", f.t0.Add(refreshTTL)),
		"revoked grant":         f.rotation("revoked", "r0-revoked", "x3", f.t0),
	} {
		if succ, err := f.s.RotateRefresh(f.ctx, r); !errors.Is(err, store.ErrNotFound) {
			f.Errorf("%s: RotateRefresh = %q, %v; want ErrNotFound", name, succ, err)
		}
	}
	f.wantGone("after refused rotations", []string{"a-x1", "a-x2", "a-x3"}, []string{"x1", "x2", "x3"})
	// The expired attempt did not spend the token.
	if succ, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil || succ != nil {
		f.Errorf("rotation after refused attempts = %q, %v; want a fresh rotation", succ, err)
	}
}

func testRotateConcurrent(f *fixture) {
	f.issue("g")
	results := race(16, func(i int) ([]byte, error) {
		return f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", fmt.Sprintf("r1-%d", i), f.t0.Add(time.Minute)))
	})
	f.oneFreshRestSameSuccessor(results)
	if st := f.stats(); st.RefreshTokens != 2 || st.AccessTokens != 2 {
		f.Errorf("stats %+v; want the first pair plus one rotated pair", st)
	}
}

func testRevokeToken(f *fixture) {
	f.issue("g")
	if err := f.s.RevokeToken(f.ctx, hash("a0-g")); err != nil {
		f.Fatal(err)
	}
	f.wantGone("after revoking the access token", []string{"a0-g"}, nil)
	if _, err := f.s.RefreshToken(f.ctx, hash("r0-g"), f.t0); err != nil {
		f.Errorf("revoking the access token ended the refresh token: %v", err)
	}
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	// A superseded refresh token still belongs to the grant.
	if err := f.s.RevokeToken(f.ctx, hash("r0-g")); err != nil {
		f.Fatal(err)
	}
	f.wantGone("after revoking a superseded refresh token", []string{"a-r1"}, []string{"r0-g", "r1"})
	if _, err := f.s.Grant(f.ctx, "g"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("grant after refresh revocation = %v, want gone", err)
	}
	if err := f.s.RevokeToken(f.ctx, hash("unknown")); err != nil {
		f.Errorf("revoking an unknown token = %v, want nil (RFC 7009)", err)
	}
}

func testRevokeGrant(f *fixture) {
	f.issue("g")
	f.issue("other")
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	if err := f.s.RevokeGrant(f.ctx, "g"); err != nil {
		f.Fatal(err)
	}
	f.wantGone("after RevokeGrant", []string{"a0-g", "a-r1"}, []string{"r0-g", "r1"})
	if _, err := f.s.Grant(f.ctx, "g"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("grant after RevokeGrant = %v, want gone", err)
	}
	if err := f.s.RevokeGrant(f.ctx, "g"); err != nil {
		f.Errorf("revoking a revoked grant = %v, want nil", err)
	}
	if st := f.stats(); st.Grants != 1 || st.AccessTokens != 1 || st.RefreshTokens != 1 {
		f.Errorf("stats %+v; want only the other grant's records", st)
	}
}

// revokeRacingRotations revokes grant g through revoker while rotations of
// its refresh token run through f.s: whichever order they happen in, no
// token of the grant may survive it.
func revokeRacingRotations(f *fixture, revoker store.Store) {
	f.issue("g")
	results := race(8, func(i int) ([]byte, error) {
		if i == 0 {
			return nil, revoker.RevokeGrant(f.ctx, "g")
		}
		_, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", fmt.Sprintf("r1-%d", i), f.t0.Add(time.Minute)))
		return nil, err
	})
	for i, r := range results {
		if r.err != nil && !errors.Is(r.err, store.ErrNotFound) {
			f.Errorf("call %d: %v", i, r.err)
		}
	}
	if st := f.stats(); st.Grants != 0 || st.AccessTokens != 0 || st.RefreshTokens != 0 {
		f.Errorf("after the revocation %+v; want no grant or token left", st)
	}
}

func testPending(f *fixture) {
	p := &store.Pending{Hash: hash("state"), Binding: []byte("browser"), Payload: []byte("sealed request"), ExpiresAt: f.t0.Add(codeTTL)}
	if err := f.s.SavePending(f.ctx, p); err != nil {
		f.Fatal(err)
	}
	dup := *p
	dup.Payload = []byte("other")
	if err := f.s.SavePending(f.ctx, &dup); !errors.Is(err, store.ErrConflict) {
		f.Errorf("duplicate SavePending = %v, want ErrConflict", err)
	}
	// Another browser holding the state is refused and spends nothing.
	if got, err := f.s.ConsumePending(f.ctx, p.Hash, []byte("other browser"), f.t0); !errors.Is(err, store.ErrWrongBrowser) {
		f.Errorf("ConsumePending from another browser = %+v, %v; want ErrWrongBrowser", got, err)
	}
	got, err := f.s.ConsumePending(f.ctx, p.Hash, []byte("browser"), f.t0)
	if err != nil || !bytes.Equal(got.Hash, p.Hash) || string(got.Binding) != "browser" || string(got.Payload) != "sealed request" || !got.ExpiresAt.Equal(p.ExpiresAt) {
		f.Fatalf("ConsumePending = %+v, %v; want the first state", got, err)
	}
	if _, err := f.s.ConsumePending(f.ctx, p.Hash, []byte("browser"), f.t0); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("second ConsumePending = %v, want ErrNotFound", err)
	}
	late := &store.Pending{Hash: hash("late"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(codeTTL)}
	if err := f.s.SavePending(f.ctx, late); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.ConsumePending(f.ctx, late.Hash, []byte("b"), late.ExpiresAt); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("ConsumePending at expiry = %v, want ErrNotFound", err)
	}
	if _, err := f.s.ConsumePending(f.ctx, hash("unknown"), []byte("b"), f.t0); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("unknown ConsumePending = %v, want ErrNotFound", err)
	}
}

func testPendingConcurrent(f *fixture) {
	if err := f.s.SavePending(f.ctx, &store.Pending{Hash: hash("state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(codeTTL)}); err != nil {
		f.Fatal(err)
	}
	const n = 8
	results := race(n, func(int) ([]byte, error) {
		p, err := f.s.ConsumePending(f.ctx, hash("state"), []byte("b"), f.t0)
		if err != nil {
			return nil, err
		}
		return p.Payload, nil
	})
	var won, missed int
	for _, r := range results {
		switch {
		case r.err == nil:
			won++
		case errors.Is(r.err, store.ErrNotFound):
			missed++
		default:
			f.Errorf("a racing ConsumePending failed: %v", r.err)
		}
	}
	if won != 1 || missed != n-1 {
		f.Errorf("%d consumers got the state and %d did not; want 1 and %d", won, missed, n-1)
	}
}

// testPendingSaveConcurrent: the authorization server spends a consent form
// by saving a pending record under the form's key; racing approvals of one
// form must find exactly one save succeeding.
func testPendingSaveConcurrent(f *fixture) {
	const n = 8
	results := race(n, func(i int) ([]byte, error) {
		return nil, f.s.SavePending(f.ctx, &store.Pending{Hash: hash("form"), Binding: []byte("b"), Payload: []byte(fmt.Sprint(i)), ExpiresAt: f.t0.Add(codeTTL)})
	})
	var won, conflicts int
	for _, r := range results {
		switch {
		case r.err == nil:
			won++
		case errors.Is(r.err, store.ErrConflict):
			conflicts++
		default:
			f.Errorf("a racing SavePending failed: %v", r.err)
		}
	}
	if won != 1 || conflicts != n-1 {
		f.Errorf("%d saves succeeded and %d conflicted; want 1 and %d", won, conflicts, n-1)
	}
}

func testSweepExpired(f *fixture) {
	f.issue("g")
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	f.grant("unredeemed") // expires with its code, before any sweep below
	for _, p := range []*store.Pending{
		{Hash: hash("old state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(codeTTL)},
		{Hash: hash("new state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(3 * time.Hour)},
	} {
		if err := f.s.SavePending(f.ctx, p); err != nil {
			f.Fatal(err)
		}
	}
	// Nothing has expired yet.
	if n, err := f.s.Sweep(f.ctx, f.t0); err != nil || n != 0 {
		f.Fatalf("Sweep before any expiry = %d, %v; want 0", n, err)
	}
	// At +2h: two access tokens, two codes, one pending state and the
	// unredeemed grant have expired.
	n, err := f.s.Sweep(f.ctx, f.t0.Add(2*time.Hour))
	if err != nil || n != 6 {
		f.Errorf("Sweep = %d, %v; want 6 records", n, err)
	}
	if st := f.stats(); st != (store.Stats{Grants: 1, RefreshTokens: 2, Pending: 1}) {
		f.Errorf("after sweep %+v; want grant g, both its refresh tokens and the newer pending state", st)
	}
	if n, err := f.s.Sweep(f.ctx, f.t0.Add(2*time.Hour)); err != nil || n != 0 {
		f.Errorf("second Sweep = %d, %v; want 0", n, err)
	}
	if _, err := f.s.ConsumePending(f.ctx, hash("new state"), []byte("b"), f.t0.Add(2*time.Hour)); err != nil {
		f.Errorf("live pending state after sweep = %v", err)
	}
}

func testSweepKeepsSuperseded(f *fixture) {
	f.issue("g")
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r1", f.t0.Add(time.Minute))); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.Sweep(f.ctx, f.t0.Add(2*time.Hour)); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.RotateRefresh(f.ctx, f.rotation("g", "r0-g", "r2", f.t0.Add(2*time.Hour))); !errors.Is(err, store.ErrRefreshReused) {
		f.Errorf("reuse after a sweep = %v, want ErrRefreshReused", err)
	}
	f.wantGone("after reuse following a sweep", nil, []string{"r1", "r2"})
}

func testSweepEndedGrant(f *fixture) {
	f.grant("g")
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0); err != nil {
		f.Fatal(err)
	}
	// The grant ends before its refresh token would.
	a, r := f.token("g", "a0-g", 30*time.Minute), f.token("g", "r0-g", 2*time.Hour)
	if err := f.s.IssueTokens(f.ctx, &a, &r, f.t0.Add(time.Hour)); err != nil {
		f.Fatal(err)
	}
	// At +90m: the access token, the code, the grant and with it the
	// refresh token are gone.
	n, err := f.s.Sweep(f.ctx, f.t0.Add(90*time.Minute))
	if err != nil || n != 4 {
		f.Errorf("Sweep = %d, %v; want 4 records", n, err)
	}
	if st := f.stats(); st != (store.Stats{}) {
		f.Errorf("after sweeping an ended grant %+v; want nothing left", st)
	}
	f.wantGone("after the grant ended", nil, []string{"r0-g"})
}

func testSweepIdleClients(f *fixture) {
	// Grant g of client "c" outlives the idle lifetime.
	long := store.ClientIdleLifetime + refreshTTL
	f.grant("g")
	if _, err := f.s.ConsumeCode(f.ctx, hash("code-g"), f.t0); err != nil {
		f.Fatal(err)
	}
	a, r := f.token("g", "a0-g", accessTTL), f.token("g", "r0-g", long)
	if err := f.s.IssueTokens(f.ctx, &a, &r, f.t0.Add(long)); err != nil {
		f.Fatal(err)
	}
	for _, id := range []string{"c", "idle"} {
		if err := f.s.CreateClient(f.ctx, &store.Client{ID: id, RedirectURIs: []string{"https://a.example/cb"}, AuthMethod: "none", CreatedAt: f.t0}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := f.s.Sweep(f.ctx, f.t0.Add(store.ClientIdleLifetime-time.Millisecond)); err != nil {
		f.Fatal(err)
	}
	if st := f.stats(); st.Clients != 2 {
		f.Fatalf("clients swept before ClientIdleLifetime: %+v", st)
	}
	if _, err := f.s.Sweep(f.ctx, f.t0.Add(store.ClientIdleLifetime)); err != nil {
		f.Fatal(err)
	}
	if _, err := f.s.Client(f.ctx, "idle"); !errors.Is(err, store.ErrNotFound) {
		f.Errorf("idle client after ClientIdleLifetime = %v, want swept", err)
	}
	if _, err := f.s.Client(f.ctx, "c"); err != nil {
		f.Errorf("client holding a live grant was swept: %v", err)
	}
}

// testSweepBacklog has stores that sweep in batches (Redis: 500) go
// through several, including past clients that must be kept.
func testSweepBacklog(f *fixture) {
	const states, kept, idle = 1100, 510, 5
	for i := range states {
		if err := f.s.SavePending(f.ctx, &store.Pending{Hash: hash(fmt.Sprint("state ", i)), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(time.Minute)}); err != nil {
			f.Fatal(err)
		}
	}
	for i := range kept + idle {
		id := fmt.Sprint("client-", i)
		if err := f.s.CreateClient(f.ctx, &store.Client{ID: id, RedirectURIs: []string{"https://a.example/cb"}, AuthMethod: "none", CreatedAt: f.t0}); err != nil {
			f.Fatal(err)
		}
		if i >= kept {
			continue
		}
		g := &store.Grant{ID: "grant-" + id, ClientID: id, Sealed: []byte("x"), CreatedAt: f.t0, ExpiresAt: f.t0.Add(2 * store.ClientIdleLifetime)}
		c := &store.Code{Hash: hash("code-" + id), GrantID: g.ID, ClientID: id, WrappedKey: []byte("k"), ExpiresAt: f.t0.Add(2 * store.ClientIdleLifetime)}
		if err := f.s.CreateGrant(f.ctx, g, c); err != nil {
			f.Fatal(err)
		}
	}
	n, err := f.s.Sweep(f.ctx, f.t0.Add(store.ClientIdleLifetime))
	if err != nil || n != states+idle {
		f.Errorf("Sweep = %d, %v; want %d expired states and idle clients", n, err, states+idle)
	}
	if st := f.stats(); st != (store.Stats{Clients: kept, Grants: kept, Codes: kept}) {
		f.Errorf("after sweep %+v; want the %d clients holding a grant, their grants and codes", st, kept)
	}
}

func testStats(f *fixture) {
	if st := f.stats(); st != (store.Stats{}) {
		f.Fatalf("a new store has %+v, want nothing", st)
	}
	if err := f.s.CreateClient(f.ctx, &store.Client{ID: "c", RedirectURIs: []string{"https://a.example/cb"}, AuthMethod: "none", CreatedAt: f.t0}); err != nil {
		f.Fatal(err)
	}
	f.issue("g")
	f.grant("pending-code")
	if err := f.s.SavePending(f.ctx, &store.Pending{Hash: hash("state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: f.t0.Add(codeTTL)}); err != nil {
		f.Fatal(err)
	}
	want := store.Stats{Clients: 1, Grants: 2, Codes: 2, AccessTokens: 1, RefreshTokens: 1, Pending: 1}
	if st := f.stats(); st != want {
		f.Errorf("Stats = %+v, want %+v", st, want)
	}
}
