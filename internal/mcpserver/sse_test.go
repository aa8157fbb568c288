package mcpserver

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
)

func TestSSE_ServesLegacyClients(t *testing.T) {
	e := newEnv(t, Options{})
	cs := connectWith(t, &mcp.SSEClientTransport{Endpoint: e.http.URL + "/sse", HTTPClient: e.httpClient(e.stack.MasterToken(), false)})
	text, isErr := callText(t, cs, "get_buckets", nil)
	if isErr || !strings.Contains(text, "in.c-crm") {
		t.Fatalf("get_buckets over SSE: isError=%v\n%s", isErr, text)
	}
}

// openSSE starts a session stream and returns its messages endpoint.
func (e *env) openSSE(t *testing.T, token string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/sse", nil)
	resp, err := e.httpClient(token, false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sse: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return data
		}
	}
	t.Fatalf("no endpoint event: %v", sc.Err())
	return ""
}

func TestSSE_SessionIsBoundToTheAccessThatOpenedIt(t *testing.T) {
	e := newEnv(t, Options{})
	other := e.stack.AddToken(fakestack.TokenOptions{Description: "someone else", CanManageBuckets: true})
	endpoint := e.openSSE(t, e.stack.MasterToken())
	if !strings.HasPrefix(endpoint, "/messages?sessionid=") {
		t.Fatalf("endpoint = %q, want /messages?sessionid=…", endpoint)
	}
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	cases := []struct {
		name     string
		token    string
		readOnly bool
		status   int
	}{
		{"other credentials", other, false, http.StatusForbidden},
		{"same token, narrower grant", e.stack.MasterToken(), true, http.StatusForbidden},
		{"no credentials", "", false, http.StatusUnauthorized},
		{"the opener", e.stack.MasterToken(), false, http.StatusAccepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.http.URL+endpoint, strings.NewReader(ping))
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.httpClient(tc.token, tc.readOnly).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/messages?sessionid=nope", strings.NewReader(ping))
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.httpClient(e.stack.MasterToken(), false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session: status = %d, want 404", resp.StatusCode)
	}
}

func TestSSE_ReadOnlySessionRefusesWriteTools(t *testing.T) {
	e := newEnv(t, Options{})
	cs := connectWith(t, &mcp.SSEClientTransport{Endpoint: e.http.URL + "/sse", HTTPClient: e.httpClient(e.stack.MasterToken(), true)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "run_job", Arguments: map[string]any{"component_id": "a", "configuration_id": "b"}})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("err = %v, want the 403 of the refused POST", err)
	}
}
