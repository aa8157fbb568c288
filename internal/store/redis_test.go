package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keboola-mcp/keboola-mcp/internal/store"
	"github.com/keboola-mcp/keboola-mcp/internal/store/storetest"
)

var redisPrefixes atomic.Int64

// openRedis opens a store on the shared test server under a prefix of its
// own, and returns the prefix.
func openRedis(t testing.TB) (*store.Redis, string) {
	t.Helper()
	prefix := fmt.Sprintf("t%d:", redisPrefixes.Add(1))
	return openRedisPrefix(t, prefix), prefix
}

func openRedisPrefix(t testing.TB, prefix string) *store.Redis {
	t.Helper()
	s, err := store.OpenRedis(context.Background(), servers.RedisURL(t)+"?key_prefix="+prefix, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRedis_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { s, _ := openRedis(t); return s })
}

func TestRedis_SharedPrefixConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		a, prefix := openRedis(t)
		return a, openRedisPrefix(t, prefix)
	})
}

// rawRedis is a plain client on the test server, to look at keys.
func rawRedis(t *testing.T) *redis.Client {
	opts, err := redis.ParseURL(servers.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedis_EveryKeyIsPrefixedAndOutlivesTheRefreshToken(t *testing.T) {
	ctx := context.Background()
	s, prefix := openRedis(t)
	now := time.Now()
	refreshTTL := 30 * 24 * time.Hour
	h := func(s string) []byte { return []byte(fmt.Sprintf("%-32s", s)) }
	tok := func(name string, ttl time.Duration) store.Token {
		return store.Token{Hash: h(name), GrantID: "g", ClientID: "c", WrappedKey: []byte("wk"), ExpiresAt: now.Add(ttl)}
	}
	steps := []error{
		s.CreateClient(ctx, &store.Client{ID: "c", AuthMethod: "none", CreatedAt: now}),
		s.CreateGrant(ctx, &store.Grant{ID: "g", ClientID: "c", Sealed: []byte("x"), CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)},
			&store.Code{Hash: h("code"), GrantID: "g", ClientID: "c", WrappedKey: []byte("wk"), ExpiresAt: now.Add(10 * time.Minute)}),
		s.SavePending(ctx, &store.Pending{Hash: h("state"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: now.Add(10 * time.Minute)}),
	}
	if _, err := s.ConsumeCode(ctx, h("code"), now); err != nil {
		steps = append(steps, err)
	}
	a0, r0 := tok("a0", time.Hour), tok("r0", refreshTTL)
	steps = append(steps, s.IssueTokens(ctx, &a0, &r0, now.Add(refreshTTL)))
	// Rotated a day later: the new refresh token lives a day longer than
	// the grant's expiry set at issue.
	later := now.Add(24 * time.Hour)
	_, err := s.RotateRefresh(ctx, store.Rotation{OldHash: h("r0"), Now: later, Grace: time.Second,
		Access: tok("a1", 25*time.Hour), Refresh: tok("r1", 24*time.Hour+refreshTTL), Successor: []byte("s"), GrantExpires: later.Add(refreshTTL)})
	steps = append(steps, err)
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}

	raw := rawRedis(t)
	keys, err := raw.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	all, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range all {
		if !strings.HasPrefix(k, "t") || !strings.Contains(k, ":") {
			t.Errorf("key %q is outside every test prefix", k)
		}
	}
	// What must outlive the newest refresh token: it refers to them.
	longest := 24*time.Hour + refreshTTL
	auxiliary := map[string]bool{"c:c": true, "cg:c": true, "g:g": true, "gt:g": true, "ix:c": true, "ix:g": true, "ix:r": true}
	seen := 0
	for _, k := range keys {
		ttl, err := raw.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
		if name := strings.TrimPrefix(k, prefix); auxiliary[name] {
			seen++
			if ttl < longest {
				t.Errorf("key %s lives %v, less than the refresh token it serves (%v)", name, ttl, longest)
			}
		}
	}
	if seen != len(auxiliary) {
		t.Errorf("found %d of the %d auxiliary keys among %v", seen, len(auxiliary), keys)
	}
}

func TestRedis_ScriptsReloadAfterTheServerForgetsThem(t *testing.T) {
	ctx := context.Background()
	s, _ := openRedis(t)
	p := &store.Pending{Hash: []byte("state-before-flush"), Binding: []byte("b"), Payload: []byte("p"), ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.SavePending(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A restarted or failed-over Redis has an empty script cache.
	if err := rawRedis(t).ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumePending(ctx, p.Hash, p.Binding, time.Now()); err != nil {
		t.Errorf("ConsumePending after SCRIPT FLUSH = %v, want the state", err)
	}
}

func BenchmarkRotateRefresh_Redis(b *testing.B) {
	s, _ := openRedis(b)
	storetest.Benchmark(b, s)
}
