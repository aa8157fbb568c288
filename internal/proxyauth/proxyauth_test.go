package proxyauth

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the inputs it holds")

// vector is one shared test case; worker/test/proxyauth.test.ts reads the
// same file, so the Go and TypeScript signers cannot drift apart.
type vector struct {
	Name      string   `json:"name"`
	Secret    string   `json:"secret"`
	Method    string   `json:"method"`
	PathQuery string   `json:"path_query"`
	Timestamp int64    `json:"timestamp"`
	Nonce     string   `json:"nonce"`
	Body      string   `json:"body"`
	StackURL  string   `json:"stack_url"`
	Token     string   `json:"token"`
	Scopes    []string `json:"scopes"`
	// OAuthToken is the optional Keboola OAuth bearer (a v2 signature).
	OAuthToken string `json:"oauth_token,omitempty"`
	Canonical  string `json:"canonical"`
	Signature  string `json:"signature"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

func (v vector) forwarded() Forwarded {
	return Forwarded{StackURL: v.StackURL, Token: keboola.Secret(v.Token), Scopes: v.Scopes, OAuthToken: keboola.Secret(v.OAuthToken)}
}

func TestVectors_CanonicalAndSignatureMatchTheSharedFile(t *testing.T) {
	vs := loadVectors(t)
	for i, v := range vs {
		canonical := Canonical(v.Method, v.PathQuery, v.Timestamp, v.Nonce, []byte(v.Body), v.forwarded())
		sig := Signature([]byte(v.Secret), canonical)
		if *update {
			vs[i].Canonical, vs[i].Signature = canonical, sig
			continue
		}
		if canonical != v.Canonical {
			t.Errorf("%s: canonical =\n%s\nwant\n%s", v.Name, canonical, v.Canonical)
		}
		if sig != v.Signature {
			t.Errorf("%s: signature = %s, want %s", v.Name, sig, v.Signature)
		}
	}
	if *update {
		out, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/vectors.json", append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVectors_VerifierAcceptsEachVector checks that a request built from a
// vector's fields (as the Worker sends it) passes the verifier.
func TestVectors_VerifierAcceptsEachVector(t *testing.T) {
	for _, v := range loadVectors(t) {
		ver, err := NewVerifier([]byte(v.Secret), VerifierOptions{Now: func() time.Time { return time.Unix(v.Timestamp, 0) }})
		if err != nil {
			t.Fatal(err)
		}
		r := vectorRequest(v)
		f, err := ver.Verify(r)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if f.StackURL != v.StackURL || f.Token.Reveal() != v.Token || strings.Join(f.Scopes, " ") != strings.Join(v.Scopes, " ") ||
			f.OAuthToken.Reveal() != v.OAuthToken || f.Credentials().OAuthToken != f.OAuthToken {
			t.Errorf("%s: forwarded = %+v", v.Name, f)
		}
		if body, _ := io.ReadAll(r.Body); string(body) != v.Body {
			t.Errorf("%s: the body was not restored for the next handler: %q", v.Name, body)
		}
	}
}

func vectorRequest(v vector) *http.Request {
	var body io.Reader
	if v.Body != "" {
		body = strings.NewReader(v.Body)
	}
	r := httptest.NewRequest(v.Method, "http://native.example"+v.PathQuery, body)
	r.Header.Set(HeaderStack, v.StackURL)
	r.Header.Set(HeaderToken, v.Token)
	r.Header.Set(HeaderScope, strings.Join(v.Scopes, " "))
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(v.Timestamp, 10))
	r.Header.Set(HeaderNonce, v.Nonce)
	r.Header.Set(HeaderSignature, v.Signature)
	if v.OAuthToken != "" {
		r.Header.Set(HeaderOAuthToken, v.OAuthToken)
	}
	return r
}

const testSecret = "0123456789abcdef0123456789abcdef-test"

var now = time.Unix(1_800_000_000, 0)

func signed(t *testing.T, method, target, body string, f Forwarded, at time.Time) *http.Request {
	t.Helper()
	s, err := NewSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return at }
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if err := s.Sign(r, []byte(body), f); err != nil {
		t.Fatal(err)
	}
	return r
}

var user = Forwarded{StackURL: "https://connection.keboola.com", Token: "123-secrettoken", Scopes: []string{access.ScopeRead, access.ScopeWrite}}

func TestVerify_RefusesWhatTheWorkerDidNotSign(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *http.Request) *http.Request
		want   error
	}{
		{"unsigned", func(r *http.Request) *http.Request { r.Header.Del(HeaderSignature); return r }, ErrUnsigned},
		{"another token", func(r *http.Request) *http.Request { r.Header.Set(HeaderToken, "999-other"); return r }, ErrTampered},
		{"another stack", func(r *http.Request) *http.Request {
			r.Header.Set(HeaderStack, "https://connection.eu-central-1.keboola.com")
			return r
		}, ErrTampered},
		{"scope widened", func(r *http.Request) *http.Request {
			r.Header.Set(HeaderScope, access.ScopeRead+" "+access.ScopeWrite+" "+access.ScopeWrite)
			return r
		}, ErrTampered},
		{"another body", func(r *http.Request) *http.Request {
			r.Body = io.NopCloser(strings.NewReader(`{"method":"tools/call"}`))
			return r
		}, ErrTampered},
		{"another path", func(r *http.Request) *http.Request { r.URL.Path = "/sse"; return r }, ErrTampered},
		{"another query", func(r *http.Request) *http.Request { r.URL.RawQuery = "x=1"; return r }, ErrTampered},
		{"another method", func(r *http.Request) *http.Request { r.Method = http.MethodPut; return r }, ErrTampered},
		{"another nonce", func(r *http.Request) *http.Request { r.Header.Set(HeaderNonce, "AAAAAAAAAAAAAAAAAAAAAAAA"); return r }, ErrTampered},
		{"signature of another secret", func(r *http.Request) *http.Request {
			r.Header.Set(HeaderSignature, Signature([]byte(strings.Repeat("x", 32)), "anything"))
			return r
		}, ErrTampered},
		{"bad timestamp", func(r *http.Request) *http.Request { r.Header.Set(HeaderTimestamp, "soon"); return r }, ErrMalformed},
		{"short nonce", func(r *http.Request) *http.Request { r.Header.Set(HeaderNonce, "abc"); return r }, ErrMalformed},
		{"unknown scope", func(r *http.Request) *http.Request { r.Header.Set(HeaderScope, "admin"); return r }, ErrMalformed},
		{"no token", func(r *http.Request) *http.Request { r.Header.Del(HeaderToken); return r }, ErrMalformed},
		{"stack with a path", func(r *http.Request) *http.Request { r.Header.Set(HeaderStack, "https://evil.example/x"); return r }, ErrMalformed},
		// A repeated header is read as its first value here but may be read
		// as another by whatever sits in between: refuse the ambiguity.
		{"token header repeated", func(r *http.Request) *http.Request { r.Header.Add(HeaderToken, "999-other"); return r }, ErrMalformed},
		{"scope header repeated", func(r *http.Request) *http.Request { r.Header.Add(HeaderScope, access.ScopeWrite); return r }, ErrMalformed},
		{"stack header repeated", func(r *http.Request) *http.Request {
			r.Header.Add(HeaderStack, "https://connection.eu-central-1.keboola.com")
			return r
		}, ErrMalformed},
		{"signature header repeated", func(r *http.Request) *http.Request {
			r.Header.Add(HeaderSignature, r.Header.Get(HeaderSignature))
			return r
		}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			r := tc.mutate(signed(t, http.MethodPost, "http://native/mcp", `{"method":"tools/list"}`, user, now))
			if _, err := v.Verify(r); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// The bearer is optional, so the signature must also pin whether there is
// one: a bearer-less (v1) signature must not carry a bearer added later, and
// a bearer's (v2) signature must not survive its bearer being stripped, even
// with the version label of the signature rewritten to match.
func TestVerify_TheOAuthBearerIsSignedOrAbsent(t *testing.T) {
	withBearer := user
	withBearer.OAuthToken = "kbc_at_member-bearer"
	relabel := func(r *http.Request, version string) {
		_, mac, _ := strings.Cut(r.Header.Get(HeaderSignature), "=")
		r.Header.Set(HeaderSignature, version+"="+mac)
	}
	tests := []struct {
		name   string
		signed Forwarded
		mutate func(r *http.Request)
		want   error // nil: accepted, with want bearer
		bearer keboola.Secret
	}{
		{"no bearer", user, func(*http.Request) {}, nil, ""},
		{"bearer", withBearer, func(*http.Request) {}, nil, withBearer.OAuthToken},
		{"bearer added to a v1 request", user, func(r *http.Request) { r.Header.Set(HeaderOAuthToken, "kbc_at_stolen") }, ErrTampered, ""},
		{"bearer added, signature relabelled v2", user, func(r *http.Request) {
			r.Header.Set(HeaderOAuthToken, "kbc_at_stolen")
			relabel(r, "v2")
		}, ErrTampered, ""},
		{"bearer stripped from a v2 request", withBearer, func(r *http.Request) { r.Header.Del(HeaderOAuthToken) }, ErrTampered, ""},
		{"bearer stripped, signature relabelled v1", withBearer, func(r *http.Request) {
			r.Header.Del(HeaderOAuthToken)
			relabel(r, "v1")
		}, ErrTampered, ""},
		{"another bearer", withBearer, func(r *http.Request) { r.Header.Set(HeaderOAuthToken, "kbc_at_someone-else") }, ErrTampered, ""},
		{"empty bearer header", user, func(r *http.Request) { r.Header.Set(HeaderOAuthToken, "") }, ErrMalformed, ""},
		{"bearer header repeated", withBearer, func(r *http.Request) { r.Header.Add(HeaderOAuthToken, "kbc_at_someone-else") }, ErrMalformed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			r := signed(t, http.MethodPost, "http://native/mcp", `{"method":"tools/list"}`, tc.signed, now)
			tc.mutate(r)
			f, err := v.Verify(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && (f.OAuthToken != tc.bearer || f.Credentials().OAuthToken != tc.bearer) {
				t.Fatalf("bearer = %q, credentials bearer = %q, want %q", f.OAuthToken, f.Credentials().OAuthToken, tc.bearer)
			}
		})
	}
}

func TestSign_RefusesABearerAHeaderCannotCarry(t *testing.T) {
	s, err := NewSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	f := user
	f.OAuthToken = "kbc_at_line\nbreak"
	if err := s.Sign(httptest.NewRequest(http.MethodPost, "http://native/mcp", nil), nil, f); err == nil {
		t.Fatal("a bearer with a newline was signed")
	}
}

func TestVerify_TimeWindow(t *testing.T) {
	tests := []struct {
		name     string
		signedAt time.Time
		ok       bool
	}{
		{"just signed", now, true},
		{"at the edge of the window", now.Add(-DefaultWindow), true},
		{"too old", now.Add(-DefaultWindow - time.Second), false},
		{"slightly ahead (clock skew)", now.Add(30 * time.Second), true},
		{"far in the future", now.Add(DefaultWindow + time.Second), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
			_, err := v.Verify(signed(t, http.MethodPost, "http://native/mcp", "{}", user, tc.signedAt))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrExpired) {
				t.Fatalf("err = %v, want ErrExpired", err)
			}
		})
	}
}

func TestVerify_ReplayedNonceRefusedUntilItsWindowEnds(t *testing.T) {
	clock := now
	v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return clock }})
	r := signed(t, http.MethodPost, "http://native/mcp?x=1", `{"a":1}`, user, now)
	replay := r.Clone(context.Background())
	replay.Body = io.NopCloser(strings.NewReader(`{"a":1}`))
	if _, err := v.Verify(r); err != nil {
		t.Fatalf("first use refused: %v", err)
	}
	if _, err := v.Verify(replay); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: err = %v, want ErrReplayed", err)
	}
	clock = now.Add(DefaultWindow + time.Second)
	replay.Body = io.NopCloser(strings.NewReader(`{"a":1}`))
	if _, err := v.Verify(replay); !errors.Is(err, ErrExpired) {
		t.Fatalf("late replay: err = %v, want ErrExpired (the timestamp guards once the nonce is forgotten)", err)
	}
}

// The timestamp is accepted up to and including the end of the window, so
// the nonce must be remembered at that very instant too: otherwise a replay
// at the last accepted moment meets neither guard.
func TestVerify_ReplayAtTheLastInstantOfTheWindowRefused(t *testing.T) {
	for _, skew := range []time.Duration{0, -DefaultWindow, DefaultWindow / 2} {
		t.Run("signed "+skew.String()+" from the verifier clock", func(t *testing.T) {
			signedAt := now.Add(skew)
			clock := now
			v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return clock }})
			r := signed(t, http.MethodPost, "http://native/mcp", `{"a":1}`, user, signedAt)
			replay := r.Clone(context.Background())
			if _, err := v.Verify(r); err != nil {
				t.Fatalf("first use refused: %v", err)
			}
			clock = signedAt.Add(DefaultWindow)
			replay.Body = io.NopCloser(strings.NewReader(`{"a":1}`))
			if _, err := v.Verify(replay); !errors.Is(err, ErrReplayed) && !errors.Is(err, ErrExpired) {
				t.Fatalf("replay at the end of the window: err = %v, want it refused", err)
			}
		})
	}
}

func TestVerify_FailedRequestDoesNotBurnTheNonce(t *testing.T) {
	v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
	good := signed(t, http.MethodPost, "http://native/mcp", "{}", user, now)
	forged := good.Clone(context.Background())
	forged.Header.Set(HeaderToken, "999-attacker")
	forged.Body = io.NopCloser(strings.NewReader("{}"))
	if _, err := v.Verify(forged); !errors.Is(err, ErrTampered) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("the genuine request was refused after a forged one with its nonce: %v", err)
	}
}

func TestVerify_FullReplayCacheFailsClosed(t *testing.T) {
	v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }, MaxNonces: 2})
	for i := range 2 {
		if _, err := v.Verify(signed(t, http.MethodPost, "http://native/mcp", "{}", user, now)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := v.Verify(signed(t, http.MethodPost, "http://native/mcp", "{}", user, now)); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
}

func TestVerify_ConcurrentReplaysAcceptExactlyOne(t *testing.T) {
	v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
	orig := signed(t, http.MethodPost, "http://native/mcp", "{}", user, now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 16 {
		r := orig.Clone(context.Background())
		r.Body = io.NopCloser(strings.NewReader("{}"))
		wg.Go(func() {
			if _, err := v.Verify(r); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("%d of 16 copies accepted, want exactly 1", accepted)
	}
}

func TestNewVerifier_RefusesShortSecret(t *testing.T) {
	if _, err := NewVerifier([]byte("short"), VerifierOptions{}); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("a 5-byte secret was accepted by the signer")
	}
}

func TestMiddleware_AttachesCredentialsOrAnswers401(t *testing.T) {
	v, _ := NewVerifier([]byte(testSecret), VerifierOptions{Now: func() time.Time { return now }})
	type key struct{}
	var got Forwarded
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Context().Value(key{}).(Forwarded)
		w.WriteHeader(http.StatusNoContent)
	}), func(ctx context.Context, f Forwarded) context.Context { return context.WithValue(ctx, key{}, f) })

	readOnly := Forwarded{StackURL: user.StackURL, Token: user.Token, Scopes: []string{access.ScopeRead}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(t, http.MethodPost, "http://native/mcp", "{}", readOnly, now))
	if rec.Code != http.StatusNoContent || !got.ReadOnly() || got.Credentials().StorageToken != user.Token {
		t.Fatalf("signed request: status %d, forwarded %+v", rec.Code, got)
	}

	rec = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "http://native/mcp", strings.NewReader("{}"))
	r.Header.Set(HeaderToken, "123-secrettoken")
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "no proxy signature") {
		t.Fatalf("unsigned request: status %d, body %q", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secrettoken") {
		t.Fatal("the refusal echoes the token")
	}
}
