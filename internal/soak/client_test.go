//go:build soak

package soak

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// The soak's clients act as a program would: they register, fill in the
// login form like a browser, redeem the code with PKCE, rotate the refresh
// token and call tools over stateless Streamable HTTP (plain JSON-RPC, so
// the HTTP status of every answer is seen).

const redirectURI = "http://127.0.0.1:33418/callback"

// tokens is what one grant's client holds.
type tokens struct {
	clientID string
	access   string
	refresh  string
}

// login registers a public client at r and runs the authorization code flow
// with the fake stack's master Storage token.
func login(ctx context.Context, r *replica, stackURL, storageToken string) (tokens, error) {
	reg, err := postJSON(ctx, r.base()+"/register", map[string]any{
		"redirect_uris": []string{redirectURI}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "client_name": "soak",
	})
	if err != nil {
		return tokens{}, fmt.Errorf("register: %w", err)
	}
	clientID, _ := reg["client_id"].(string)
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI}, "state": {rand.Text()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {"keboola:read"}, "resource": {r.group.publicURL + "/mcp"},
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, status, err := fetch(ctx, browser, "GET", r.base()+"/authorize?"+q.Encode(), nil)
	if err != nil || status != http.StatusOK {
		return tokens{}, fmt.Errorf("login page: %d %v %.300s", status, err, page)
	}
	form := hiddenFields(page)
	form.Set("stack_url", stackURL)
	form.Set("storage_token", storageToken)
	form.Set("scope", "keboola:read")
	form.Set("action", "approve")
	req, _ := http.NewRequestWithContext(ctx, "POST", r.base()+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browser.Do(req)
	if err != nil {
		return tokens{}, fmt.Errorf("consent: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		return tokens{}, fmt.Errorf("consent answered %d without a code: %.300s", resp.StatusCode, body)
	}
	tok, status, err := postToken(ctx, r, url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID},
		"code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}, "resource": {r.group.publicURL + "/mcp"}})
	if err != nil || status != http.StatusOK {
		return tokens{}, fmt.Errorf("code exchange: %d %v", status, err)
	}
	tok.clientID = clientID
	return tok, nil
}

// newSecret returns a random server secret (the server wants ≥ 32 characters).
func newSecret() string { return rand.Text() + rand.Text() }

var hiddenRE = regexp.MustCompile(`name="(request|csrf_token)" value="([^"]*)"`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// refresh rotates t's refresh token at r. The status is 0 on a transport
// error.
func refresh(ctx context.Context, r *replica, t tokens) (tokens, int, error) {
	next, status, err := postToken(ctx, r, url.Values{"grant_type": {"refresh_token"}, "client_id": {t.clientID}, "refresh_token": {t.refresh}})
	next.clientID = t.clientID
	return next, status, err
}

func postToken(ctx context.Context, r *replica, form url.Values) (tokens, int, error) {
	body, status, err := fetch(ctx, httpClient, "POST", r.base()+"/token", form)
	if err != nil {
		return tokens{}, 0, err
	}
	if status != http.StatusOK {
		return tokens{}, status, fmt.Errorf("token endpoint: %d %.300s", status, body)
	}
	var out struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Access == "" || out.Refresh == "" {
		return tokens{}, status, fmt.Errorf("token endpoint: unexpected answer %.300s", body)
	}
	return tokens{access: out.Access, refresh: out.Refresh}, status, nil
}

// httpClient is shared by every worker. Its timeout is far above what a call
// may take (the server's own retries give up after 30 s).
var httpClient = &http.Client{
	Timeout:   2 * time.Minute,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
}

func fetch(ctx context.Context, c *http.Client, method, target string, form url.Values) (string, int, error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return "", 0, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

func postJSON(ctx context.Context, target string, v any) (map[string]any, error) {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%d %.300s", resp.StatusCode, body)
	}
	var out map[string]any
	return out, json.Unmarshal(body, &out)
}

// answer is one tools/call as the client saw it.
type answer struct {
	status int // HTTP status
	// rpcError is the JSON-RPC error message, when the answer was one.
	rpcError string
	isError  bool
	text     string
}

// callTool posts one tools/call to r with an access token.
func callTool(ctx context.Context, r *replica, access string, name string, args map[string]any) (answer, error) {
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": name, "arguments": args}})
	req, _ := http.NewRequestWithContext(ctx, "POST", r.base()+"/mcp", bytes.NewReader(msg))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := httpClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		a.text = string(body)
		return a, nil
	}
	payload := body
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		payload = nil
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				payload = append(payload, strings.TrimSpace(d)...)
			}
		}
	}
	var rpc struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
		Result *struct {
			IsError bool `json:"isError"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"result"`
	}
	if err := json.Unmarshal(payload, &rpc); err != nil {
		return answer{}, fmt.Errorf("undecodable answer (%v): %.300s", err, body)
	}
	switch {
	case rpc.Error != nil:
		a.rpcError = rpc.Error.Message
	case rpc.Result != nil:
		a.isError = rpc.Result.IsError
		for _, c := range rpc.Result.Content {
			a.text += c.Text
		}
	default:
		return answer{}, fmt.Errorf("answer with neither result nor error: %.300s", body)
	}
	return a, nil
}
