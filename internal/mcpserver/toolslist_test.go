package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/tools"
)

// protocolCases are the two shapes of a tools/list answer: before
// 2026-07-28 the result is sent as built; from it on, the SDK adds
// resultType and its server info in _meta after the middleware ran.
var protocolCases = []struct {
	name, version, meta string
}{
	{"2025-06-18", "2025-06-18", ""},
	{"2026-07-28", "2026-07-28", `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`},
}

// postList posts one tools/list (with the cursor, if any) to h and returns
// the answer's body, failing the test on a status other than 200.
func postList(t testing.TB, h http.Handler, ctx context.Context, version, meta, cursor string) []byte {
	t.Helper()
	rec := sendList(h, ctx, version, meta, cursor)
	if rec.Code != http.StatusOK {
		t.Fatalf("tools/list: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// sendList posts one tools/list (with the cursor, if any) to h.
func sendList(h http.Handler, ctx context.Context, version, meta, cursor string) *httptest.ResponseRecorder {
	var params []string
	if meta != "" {
		params = append(params, meta)
	}
	if cursor != "" {
		params = append(params, fmt.Sprintf(`"cursor":%q`, cursor))
	}
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{%s}}`, strings.Join(params, ","))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", version)
	req.Header.Set("Mcp-Method", "tools/list") // required from 2026-07-28
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestToolsList_CachedAnswerIsTheSDKsByteForByte(t *testing.T) {
	stack := shared.Get(t)
	creds := keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}
	for _, set := range []struct {
		name     string
		readOnly bool
	}{{"full", false}, {"read-only", true}} {
		for _, pc := range protocolCases {
			t.Run(set.name+"/"+pc.name, func(t *testing.T) {
				srv, err := New(Options{JSONResponse: true})
				if err != nil {
					t.Fatal(err)
				}
				h := srv.StreamableHandler()
				ctx := access.With(context.Background(), access.Access{Credentials: creds, ReadOnly: set.readOnly})
				ts := srv.set(set.readOnly)
				if ts.list.base.Load() != nil {
					t.Fatal("the answer is cached before any tools/list")
				}
				// The first answer is the SDK's; it fills the cache.
				sdk := postList(t, h, ctx, pc.version, pc.meta, "")
				if ts.list.base.Load() == nil {
					t.Fatal("the first tools/list did not fill the cache")
				}
				for range 2 {
					if cached := postList(t, h, ctx, pc.version, pc.meta, ""); !bytes.Equal(cached, sdk) {
						t.Fatalf("cached answer differs from the SDK's:\ncached: %s\nsdk:    %s", cached, sdk)
					}
				}
				var res struct {
					Result struct {
						Tools []struct {
							Name        string          `json:"name"`
							InputSchema json.RawMessage `json:"inputSchema"`
						} `json:"tools"`
					} `json:"result"`
				}
				if err := json.Unmarshal(sdk, &res); err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, tool := range res.Result.Tools {
					names = append(names, tool.Name)
					if !bytes.HasPrefix(tool.InputSchema, []byte(`{"type":"object"`)) {
						t.Errorf("%s: input schema is not an object schema: %.80s", tool.Name, tool.InputSchema)
					}
				}
				g, err := srv.gateFor(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := srv.VisibleToolNames(g, set.readOnly); strings.Join(names, ",") != strings.Join(want, ",") {
					t.Errorf("listed %v, want %v", names, want)
				}
				if pc.meta != "" && !bytes.Contains(sdk, []byte(`"io.modelcontextprotocol/serverInfo"`)) {
					t.Errorf("new-protocol answer lacks the server info: %.200s", sdk)
				}
			})
		}
	}
}

// pagedServers builds two servers serving every tool with a small page
// size, one with the tools/list cache and one without.
func pagedServers(pageSize int) (cached, plain http.Handler) {
	noClient := func(context.Context) (*keboola.Client, error) { return nil, errors.New("listing needs no client") }
	handler := func(withCache bool) http.Handler {
		srv := mcp.NewServer(&mcp.Implementation{Name: "paged", Version: "test"}, &mcp.ServerOptions{PageSize: pageSize})
		tools.Register(srv, tools.All(), tools.Deps{Clients: noClient})
		if withCache {
			srv.AddReceivingMiddleware(new(toolListCache).middleware)
		}
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
			&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	}
	return handler(true), handler(false)
}

func TestToolsList_PaginationIsTheSDKs(t *testing.T) {
	const pageSize = 7
	if len(tools.All()) <= 2*pageSize {
		t.Fatalf("only %d tools: the test needs several pages", len(tools.All()))
	}
	cached, plain := pagedServers(pageSize)
	for _, pc := range protocolCases {
		t.Run(pc.name, func(t *testing.T) {
			ctx := context.Background()
			// Walk the pages twice: the first walk fills the cache, the
			// second is served from it.
			for walk := range 2 {
				cursor, pages := "", 0
				for {
					want := postList(t, plain, ctx, pc.version, pc.meta, cursor)
					got := postList(t, cached, ctx, pc.version, pc.meta, cursor)
					if !bytes.Equal(got, want) {
						t.Fatalf("walk %d, page %d differs:\ncached: %s\nsdk:    %s", walk, pages, got, want)
					}
					pages++
					var res struct {
						Result struct {
							NextCursor string `json:"nextCursor"`
						} `json:"result"`
					}
					if err := json.Unmarshal(want, &res); err != nil {
						t.Fatal(err)
					}
					if res.Result.NextCursor == "" {
						break
					}
					cursor = res.Result.NextCursor
				}
				if want := (len(tools.All()) + pageSize - 1) / pageSize; pages != want {
					t.Errorf("walk %d: %d pages, want %d", walk, pages, want)
				}
			}
			for _, bad := range []string{"not-a-cursor", "e30="} {
				want := sendList(plain, ctx, pc.version, pc.meta, bad)
				got := sendList(cached, ctx, pc.version, pc.meta, bad)
				if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
					t.Errorf("cursor %q: cached server answered %d %s, SDK %d %s", bad, got.Code, got.Body, want.Code, want.Body)
				}
				if !bytes.Contains(want.Body.Bytes(), []byte(`"code":-32602`)) {
					t.Errorf("cursor %q: want an invalid params error, got %s", bad, want.Body)
				}
			}
		})
	}
}

// Concurrent first requests race to fill the cache, and later ones share
// the cached page while the SDK annotates each answer: every answer must
// still be the same (run with -race).
func TestToolsList_ConcurrentRequestsGetTheSameAnswer(t *testing.T) {
	srv, err := New(Options{JSONResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.StreamableHandler()
	stack := shared.Get(t)
	ctx := access.With(context.Background(), access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}})
	pc := protocolCases[1] // the SDK writes _meta into the result
	const n = 8
	answers := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i] = sendList(h, ctx, pc.version, pc.meta, "") })
	}
	wg.Wait()
	want := postList(t, h, ctx, pc.version, pc.meta, "")
	for i, a := range answers {
		if a.Code != http.StatusOK || !bytes.Equal(a.Body.Bytes(), want) {
			t.Errorf("answer %d: status %d, body differs from the cached one:\n%s", i, a.Code, a.Body)
		}
	}
}
