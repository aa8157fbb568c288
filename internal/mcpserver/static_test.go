package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/fakestack/fakestacktest"
)

// render is what the Worker does with a static answer: the parts joined,
// with the caller's id, JSON-encoded, where the recorded id was.
func (a StaticAnswer) render(parts []string, idJSON string) string {
	var b strings.Builder
	for _, i := range a.Body {
		if i == StaticIDPart {
			b.WriteString(idJSON)
		} else {
			b.WriteString(parts[i])
		}
	}
	return b.String()
}

// liveRequest is one request to the live server and the static answer the
// Worker would give to it.
type liveRequest struct {
	name          string
	gate          string
	headerVersion string
	body          string
	key           string
	idJSON        string
}

// staticCases are the requests the Worker answers statically, with ids of
// every kind it accepts (integers, short strings) and the request shapes it
// accepts besides the recorded one (empty params, client capabilities, other
// initialize versions), each paired with the key it is answered from.
func staticCases() []liveRequest {
	ids := []string{`0`, `42`, `-7`, `9007199254740991`, `"abc"`, `"req-1.2:x_Y"`}
	var out []liveRequest
	for _, gate := range StaticGates {
		for _, hv := range append([]string{""}, StaticProtocolVersions...) {
			add := func(name, body, key, idJSON string) {
				out = append(out, liveRequest{name: fmt.Sprintf("%s/%q/%s", gate.Key, hv, name), gate: gate.Key, headerVersion: hv, body: body, key: key, idJSON: idJSON})
			}
			for _, id := range ids {
				for _, method := range []string{"ping"} {
					key := StaticKey(gate.Key, hv, method, "")
					add(method+" id "+id, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":%q}`, id, method), key, id)
					add(method+" empty params id "+id, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":%q,"params":{}}`, id, method), key, id)
				}
				for _, v := range StaticProtocolVersions {
					add("initialize "+v+" id "+id, initializeBody(id, v, `{}`), StaticKey(gate.Key, hv, "initialize", v), id)
				}
			}
			for _, other := range []string{"2026-07-28", "2099-12-31", "1.0", "2025-01-01"} {
				add("initialize other "+other, initializeBody("5", other, `{}`), StaticKey(gate.Key, hv, "initialize", StaticOtherVersion), "5")
			}
			for _, caps := range []string{
				`{"roots":{"listChanged":true}}`,
				`{"roots":{},"sampling":{},"elicitation":{}}`,
				`{"sampling":{"context":{},"tools":{}},"elicitation":{"form":{},"url":{}}}`,
				`{"experimental":{"x":{"y":[1,"z",null]}},"extensions":{"io.example/ext":{}}}`,
			} {
				add("initialize capabilities "+caps, initializeBody("9", "2025-06-18", caps), StaticKey(gate.Key, hv, "initialize", "2025-06-18"), "9")
			}
			key := StaticKey(gate.Key, hv, "notifications/initialized", "")
			add("initialized", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, key, "")
			add("initialized empty params", `{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}`, key, "")
		}
	}
	return out
}

// sessionListCases are the tools/list requests of live sessions, one for
// each gate a Worker grant can have: the master tokens of an admin and of a
// guest, on projects with and without conditional flows and a semantic
// model, under either scope. Each is paired with the page of the key
// Server.GateKey gives that session, so the key the Worker stores at login
// and the page it answers with are proved together. serve starts a live
// server for a session.
func sessionListCases(t *testing.T, srv *Server, serve func(label string, a access.Access)) []liveRequest {
	var out []liveRequest
	for _, role := range []string{fakestack.RoleAdmin, fakestack.RoleGuest} {
		for _, legacy := range []bool{false, true} {
			for _, semantic := range []bool{false, true} {
				opts := fakestack.Options{MemberRole: role, NoDemo: !semantic}
				if legacy {
					opts.ExtraFeatures = []string{"hide-conditional-flows"}
				}
				stack := fakestacktest.NewServer(t, opts)
				for _, readOnly := range []bool{false, true} {
					a := access.Access{Credentials: keboola.Credentials{StackURL: stack.URL(), StorageToken: keboola.Secret(stack.MasterToken())}, ReadOnly: readOnly}
					label := fmt.Sprintf("%s legacy=%v semantic=%v readOnly=%v", role, legacy, semantic, readOnly)
					gate, err := srv.GateKey(access.With(context.Background(), a))
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					if want := (Gate{ReadOnly: readOnly, LegacyFlows: legacy, ModifyFlow: role == fakestack.RoleAdmin, Semantic: semantic}).Key(); gate != want {
						t.Fatalf("%s: gate key %s, want %s", label, gate, want)
					}
					serve(label, a)
					for _, hv := range append([]string{""}, StaticProtocolVersions...) {
						key := StaticKey(gate, hv, StaticListMethod, "")
						for _, id := range []string{`1`, `"list-7"`} {
							for _, params := range []string{``, `,"params":{}`} {
								out = append(out, liveRequest{name: fmt.Sprintf("%s/%q/tools/list id %s%s", label, hv, id, params), gate: label, headerVersion: hv,
									body: fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/list"%s}`, id, params), key: key, idJSON: id})
							}
						}
					}
				}
			}
		}
	}
	return out
}

func initializeBody(id, version, capabilities string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"initialize","params":{"protocolVersion":%q,"capabilities":%s,"clientInfo":{"name":"some client","title":"Some Client","version":"0.1"}}}`, id, version, capabilities)
}

// TestStaticAnswers_AreTheLiveServersAnswers sends every request the Worker
// answers statically to the live server over real HTTP and compares status,
// headers and body, byte for byte, with the static answer.
func TestStaticAnswers_AreTheLiveServersAnswers(t *testing.T) {
	srv, err := New(WorkerOptions("v1.2.3-test"))
	if err != nil {
		t.Fatal(err)
	}
	static, err := srv.StaticAnswers()
	if err != nil {
		t.Fatal(err)
	}
	if static.Version != "v1.2.3-test" {
		t.Errorf("version %q, want the server's", static.Version)
	}
	live := map[string]string{}
	serve := func(label string, a access.Access) {
		h := srv.StreamableHandler()
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(access.With(r.Context(), a)))
		}))
		t.Cleanup(ts.Close)
		live[label] = ts.URL
	}
	for _, gate := range StaticGates {
		serve(gate.Key, gate.Access)
	}

	used := map[string]bool{}
	for _, c := range slices.Concat(staticCases(), sessionListCases(t, srv, serve)) {
		a, ok := static.Answers[c.key]
		if !ok {
			t.Fatalf("%s: no static answer %q", c.name, c.key)
		}
		used[c.key] = true
		req, _ := http.NewRequest(http.MethodPost, live[c.gate]+"/mcp", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if c.headerVersion != "" {
			req.Header.Set("MCP-Protocol-Version", c.headerVersion)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != a.Status {
			t.Errorf("%s: live status %d, static %d", c.name, res.StatusCode, a.Status)
		}
		if got, want := a.render(static.Parts, c.idJSON), string(body); got != want {
			t.Errorf("%s: static body differs from the live one\nstatic: %.300s\nlive:   %.300s", c.name, got, want)
		}
		if got, want := fmt.Sprint(a.Headers), fmt.Sprint(headerPairs(res.Header, "Date", "Content-Length")); got != want {
			t.Errorf("%s: static headers %s, live %s", c.name, got, want)
		}
	}
	for key := range static.Answers {
		if !used[key] {
			t.Errorf("static answer %q is not checked against the live server", key)
		}
	}
}

// headerPairs lists h sorted as StaticAnswer.Headers, without the headers
// net/http's server adds to every answer.
func headerPairs(h http.Header, skip ...string) [][2]string {
	out := [][2]string{}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !slices.Contains(skip, k) && !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[name] {
			out = append(out, [2]string{name, v})
		}
	}
	return out
}

// TestStaticAnswers_ListToolsOnlyPerSessionGate: a session's tools depend on
// its gate (scope, token role, project features), so tools/list is recorded
// only under session gate keys, one page per gate a Worker grant can have,
// never under the scope-only keys of initialize and ping.
func TestStaticAnswers_ListToolsOnlyPerSessionGate(t *testing.T) {
	srv, err := New(WorkerOptions("dev"))
	if err != nil {
		t.Fatal(err)
	}
	static, err := srv.StaticAnswers()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, g := range WorkerToolGates() {
		for _, hv := range append([]string{""}, StaticProtocolVersions...) {
			want[StaticKey(g.Key(), hv, StaticListMethod, "")] = true
		}
	}
	if len(want) != 16*(1+len(StaticProtocolVersions)) {
		t.Fatalf("the Worker gates have %d distinct keys", len(want)/(1+len(StaticProtocolVersions)))
	}
	for key := range static.Answers {
		if strings.Contains(key, StaticListMethod) && !want[key] {
			t.Errorf("tools/list is recorded for %s, which is no session gate", key)
		}
		delete(want, key)
	}
	for key := range want {
		t.Errorf("no tools/list page for %s", key)
	}
	// The Worker bundles the pages of every gate: each tool is stored once.
	for _, p := range static.Parts {
		if n := strings.Count(p, `"inputSchema":`); n > 1 {
			t.Errorf("a part holds %d tools, so the pages do not share them: %.80s", n, p)
		}
	}
}

// TestStaticAnswers_RecordedIDAppearsOnce: an answer that carried the
// recorded id twice could not be given another id by splitting; the recorder
// refuses it rather than mis-splitting.
func TestStaticAnswers_RecordedIDAppearsOnce(t *testing.T) {
	rec := NewRecorder()
	fmt.Fprintf(rec, `{"id":%q,"echo":%q}`, staticIDMarker, staticIDMarker)
	if _, err := rec.staticAnswer(func(string) int { return 0 }); err == nil {
		t.Fatal("an answer with the id twice was accepted")
	}
	rec = NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(http.StatusCreated)
	rec.Body.WriteString(`{"id":"keboola-mcp-static-id"}`)
	var parts []string
	part := func(p string) int {
		if i := slices.Index(parts, p); i >= 0 {
			return i
		}
		parts = append(parts, p)
		return len(parts) - 1
	}
	a, err := rec.staticAnswer(part)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusCreated || a.render(parts, "77") != `{"id":77}` || !bytes.Equal([]byte(fmt.Sprint(a.Headers)), []byte("[[Content-Type application/json]]")) {
		t.Errorf("recorded %+v with parts %q", a, parts)
	}

	// A tools/list page is split around each tool, so pages share them.
	page := func(tools ...string) StaticAnswer {
		rec := NewRecorder()
		fmt.Fprintf(rec, `{"jsonrpc":"2.0","id":"keboola-mcp-static-id","result":{"tools":[%s]}}`+"\n", strings.Join(tools, ","))
		a, err := rec.staticAnswer(part)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	one, two := `{"name":"a","inputSchema":{"type":"object"}}`, `{"name":"b","description":"[\"a\"]"}`
	both, second := page(one, two), page(two)
	if got, want := both.render(parts, `"x"`), `{"jsonrpc":"2.0","id":"x","result":{"tools":[`+one+","+two+"]}}\n"; got != want {
		t.Errorf("page of two renders\n%s\nwant\n%s", got, want)
	}
	if got, want := second.render(parts, "3"), `{"jsonrpc":"2.0","id":3,"result":{"tools":[`+two+"]}}\n"; got != want {
		t.Errorf("page of one renders\n%s\nwant\n%s", got, want)
	}
	if shared := slices.Index(parts, two); shared < 0 || !slices.Contains(both.Body, shared) || !slices.Contains(second.Body, shared) {
		t.Errorf("the pages do not share the tool: %v, %v over %q", both.Body, second.Body, parts)
	}
}
