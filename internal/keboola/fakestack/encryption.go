package fakestack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Encryption API: POST /encryption/encrypt?projectId&componentId[&configId]
// turns values under "#" keys (JSON body) or the whole body (text/plain) into
// KBC::ProjectSecure:: ciphertexts. No token is needed, as on Keboola. The
// fake's ciphertext is a keyed digest: it reveals nothing and is not
// decryptable, which is all a client can observe anyway.

func (s *Stack) encryptionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /encryption/encrypt", s.handleEncrypt)
}

func (s *Stack) handleEncrypt(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	comp := q.Get("componentId")
	if comp == "" {
		badRequest(w, fmt.Errorf("componentId is required"))
		return
	}
	if p := q.Get("projectId"); p != "" && p != strconv.Itoa(s.opts.ProjectID) {
		badRequest(w, fmt.Errorf("projectId %s is not this stack's project (%d)", p, s.opts.ProjectID))
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		badRequest(w, err)
		return
	}
	seal := func(plain string) string {
		if strings.HasPrefix(plain, "KBC::") {
			return plain // already encrypted
		}
		mac := hmac.New(sha256.New, []byte(s.opts.MasterToken))
		mac.Write([]byte(comp + "\x00" + q.Get("configId") + "\x00" + plain))
		return "KBC::ProjectSecure::" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "text/plain" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(seal(string(raw))))
		return
	}
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		badRequest(w, fmt.Errorf("the body must be JSON (or text/plain for a single value): %v", err))
		return
	}
	writeJSON(w, http.StatusOK, encryptSecrets(body, false, seal))
}

// encryptSecrets walks a JSON value and seals strings that sit under a key
// starting with '#' (secret is true below such a key).
func encryptSecrets(v any, secret bool, seal func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = encryptSecrets(x, strings.HasPrefix(k, "#"), seal)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = encryptSecrets(x, secret, seal)
		}
		return out
	case string:
		if secret {
			return seal(t)
		}
	}
	return v
}
