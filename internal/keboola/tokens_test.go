package keboola

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifyToken_CachesPerTokenAndNotFailures(t *testing.T) {
	var fail atomic.Bool
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		if fail.Load() || r.Header.Get("X-StorageApi-Token") == "bad" {
			reply(w, 401, `{"error":"Invalid access token","code":"storage.tokenInvalid"}`)
			return
		}
		tok := r.Header.Get("X-StorageApi-Token") + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		reply(w, 200, `{"id":"`+tok[:1]+`","isMasterToken":true,"bucketPermissions":[],"owner":{"id":321,"name":"Demo","defaultBackend":"snowflake","features":["global-search"]},"expires":null}`)
	})
	ctx := testCtx(t)
	verifies := func() int {
		n := 0
		for _, r := range s.calls() {
			if strings.HasSuffix(r.Path, "/tokens/verify") {
				n++
			}
		}
		return n
	}

	info, err := VerifyToken(ctx, s.URL, "1-first", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Owner.ID != "321" || !info.Owner.HasFeature("global-search") || info.BucketPermissions == nil || !info.Expires.IsZero() {
		t.Errorf("info = %+v", info)
	}
	if _, err := VerifyToken(ctx, s.URL, "1-first", Options{}); err != nil || verifies() != 1 {
		t.Fatalf("second verify of the same token made a request (total %d), err %v", verifies(), err)
	}
	other, err := VerifyToken(ctx, s.URL, "2-second", Options{})
	if err != nil || other.ID != "2" || verifies() != 2 {
		t.Fatalf("a different token must not share the entry: %+v, %v, %d requests", other, err, verifies())
	}
	for range 2 {
		if _, err := VerifyToken(ctx, s.URL, "bad", Options{Retry: fastRetry}); err == nil {
			t.Fatal("bad token verified")
		}
	}
	if verifies() != 4 {
		t.Errorf("failures must not be cached: %d requests", verifies())
	}
	// A Bearer credential with the same text is a different identity.
	bc, err := NewWithBearer(s.URL, "1-first", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bc.VerifyToken(ctx); err != nil || verifies() != 5 {
		t.Errorf("bearer shared the storage-token entry: %d requests, %v", verifies(), err)
	}
}

func TestVerifyToken_CacheIsBounded(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{"id":"1"}`) })
	// Fill the cache to its bound with live entries of other tokens.
	filler := make([][sha256.Size]byte, 0, verifyMaxLen)
	verifyCache.Lock()
	clear(verifyCache.m)
	for i := 0; len(verifyCache.m) < verifyMaxLen; i++ {
		k := verifyKey("https://connection.filler.example", authStorageToken, Secret(fmt.Sprint("filler-", i)))
		verifyCache.m[k] = verifyEntry{expires: time.Now().Add(time.Hour + time.Duration(i)*time.Second)}
		filler = append(filler, k)
	}
	verifyCache.Unlock()
	t.Cleanup(func() {
		verifyCache.Lock()
		for _, k := range filler {
			delete(verifyCache.m, k)
		}
		verifyCache.Unlock()
	})

	c := newTestClient(t, s, "")
	if _, err := c.VerifyToken(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	verifyCache.Lock()
	n := len(verifyCache.m)
	_, kept := verifyCache.m[verifyKey(c.stack.String(), authStorageToken, c.secret)]
	_, oldestKept := verifyCache.m[filler[0]]
	verifyCache.Unlock()
	if n > verifyMaxLen || !kept || oldestKept {
		t.Errorf("after insert: %d entries (bound %d), new entry kept %v, entry nearest expiry kept %v", n, verifyMaxLen, kept, oldestKept)
	}
}

func TestVerifyToken_ConcurrentCallsShareOneRequest(t *testing.T) {
	release := make(chan struct{})
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		<-release
		reply(w, 200, `{"id":"1","owner":{"id":"9","features":["a"]}}`)
	})
	const callers = 8
	errs := make(chan error, callers)
	for range callers {
		go func() {
			info, err := newTestClient(t, s, "").VerifyToken(testCtx(t))
			if err == nil {
				info.Owner.Features[0] = "mutated" // must not reach the cache
			}
			errs <- err
		}()
	}
	// Wait until the leader's request is at the server, then let it answer.
	for len(s.calls()) == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.calls()); n != 1 {
		t.Errorf("%d verify requests for %d concurrent callers", n, callers)
	}
	info, err := newTestClient(t, s, "").VerifyToken(testCtx(t))
	if err != nil || info.Owner.Features[0] != "a" {
		t.Errorf("cached entry changed by a caller: %v, %v", info.Owner.Features, err)
	}
}
