package keboola

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func TestEncryptSecrets_SendsNoTokenAndNamesProjectAndComponent(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Path {
		case "/v2/storage/tokens/verify":
			reply(w, 200, `{"id":"1","owner":{"id":321}}`)
		case "/encryption/encrypt":
			reply(w, 200, `{"parameters":{"#password":"KBC::ProjectSecure::abc","user":"u"}}`)
		default:
			reply(w, 404, `{}`)
		}
	})
	s.index = `{"services":[{"id":"encryption","url":"` + s.URL + `/encryption"}]}`
	out, err := newTestClient(t, s, "").EncryptSecrets(testCtx(t), "keboola.ex-db-mysql", "77",
		json.RawMessage(`{"parameters":{"#password":"hunter2","user":"u"}}`))
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, string(out), `{"parameters":{"#password":"KBC::ProjectSecure::abc","user":"u"}}`)
	calls := s.calls()
	enc := calls[len(calls)-1]
	if enc.Method != "POST" || enc.Path != "/encryption/encrypt" {
		t.Fatalf("request = %s %s", enc.Method, enc.Path)
	}
	q, _ := url.ParseQuery(enc.Query)
	if q.Get("projectId") != "321" || q.Get("componentId") != "keboola.ex-db-mysql" || q.Get("configId") != "77" {
		t.Errorf("query = %v", q)
	}
	if enc.Header.Get("X-StorageApi-Token") != "" || enc.Header.Get("Authorization") != "" {
		t.Error("a credential was sent to the Encryption API")
	}
	assertJSONEqual(t, enc.Body, `{"parameters":{"#password":"hunter2","user":"u"}}`)
	if _, err := newTestClient(t, s, "").EncryptSecrets(testCtx(t), "c.x", "", json.RawMessage(`"x"`)); err == nil {
		t.Error("a non-object body was accepted")
	}
}
