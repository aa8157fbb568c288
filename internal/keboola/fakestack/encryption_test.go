package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

func TestEncrypt_SealsOnlySecretKeys(t *testing.T) {
	s := newTestServer(t, Options{})
	body := map[string]any{"parameters": map[string]any{"user": "u", "#password": "p", "nested": []any{map[string]any{"#key": "k", "plain": "v"}},
		"#done": "KBC::ProjectSecure::already"}}
	r := call(t, "POST", s.URL()+"/encryption/encrypt?projectId=1234&componentId=keboola.ex-db-mysql&configId=1", nil, body)
	wantStatus(t, r, http.StatusOK)
	out := r.object(t)
	if path(t, out, "parameters", "user") != "u" || path(t, out, "parameters", "nested", 0, "plain") != "v" {
		t.Errorf("plain values changed: %v", out)
	}
	for _, p := range [][]any{{"parameters", "#password"}, {"parameters", "nested", 0, "#key"}} {
		v, _ := path(t, out, p...).(string)
		if !strings.HasPrefix(v, "KBC::ProjectSecure::") || strings.HasSuffix(v, "::p") || strings.HasSuffix(v, "::k") {
			t.Errorf("%v = %q, want a sealed value", p, v)
		}
	}
	if path(t, out, "parameters", "#done") != "KBC::ProjectSecure::already" {
		t.Error("an already encrypted value was sealed again")
	}
	plain := call(t, "POST", s.URL()+"/encryption/encrypt?componentId=keboola.ex-db-mysql", nil, "just a secret")
	if !strings.HasPrefix(string(plain.body), "KBC::ProjectSecure::") {
		t.Errorf("text/plain encryption %s", plain.body)
	}
	wantStatus(t, call(t, "POST", s.URL()+"/encryption/encrypt?projectId=1234", nil, body), http.StatusBadRequest)
	wantStatus(t, call(t, "POST", s.URL()+"/encryption/encrypt?projectId=9&componentId=x", nil, body), http.StatusBadRequest)
}
