package keboola

import (
	"net/http"
	"reflect"
	"testing"
)

func TestAskDocs_AcceptsBothAnswerShapes(t *testing.T) {
	cases := map[string]string{
		"observed shape": `{"text":"Use a flow.","sourceUrls":["https://help.keboola.com/flows/"]}`,
		"older shape":    `{"response":"Use a flow.","metadata":{"sources":["https://help.keboola.com/flows/"]}}`,
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, answer) })
			got, err := newTestClient(t, s, "").AskDocs(testCtx(t), "How do I schedule?")
			if err != nil {
				t.Fatal(err)
			}
			want := &DocsAnswer{Text: "Use a flow.", SourceURLs: []string{"https://help.keboola.com/flows/"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("answer = %+v", got)
			}
			r := s.calls()[0]
			if r.Method != "POST" || r.Path != "/ai/docs/question" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
			assertJSONEqual(t, r.Body, `{"query":"How do I schedule?"}`)
		})
	}
}

func TestGetComponentDocs_FallsBackToStorageOn404(t *testing.T) {
	cases := []struct {
		name         string
		aiStatus     int
		wantFallback bool
		wantDoc      string
	}{
		{"AI service knows the component", 200, false, "AI docs"},
		{"AI service does not", 404, true, "Long storage text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) {
				switch r.URL.Path {
				case "/ai/docs/components/keboola.ex-http":
					if tc.aiStatus == 404 {
						reply(w, 404, `{"error":"not found"}`)
						return
					}
					reply(w, 200, `{"documentation":"AI docs","rootConfigurationExamples":[{"parameters":{}}]}`)
				case "/v2/storage/branch/default/components/keboola.ex-http":
					reply(w, 200, `{"id":"keboola.ex-http","longDescription":"Long storage text","configurationSchema":{"type":"object"}}`)
				default:
					reply(w, 500, `{}`)
				}
			})
			docs, err := newTestClient(t, s, "").GetComponentDocs(testCtx(t), "keboola.ex-http")
			if err != nil {
				t.Fatal(err)
			}
			if docs.FromStorage != tc.wantFallback || docs.Documentation != tc.wantDoc || docs.ComponentID != "keboola.ex-http" {
				t.Errorf("docs = %+v", docs)
			}
			if tc.wantFallback && string(docs.ConfigurationSchema) != `{"type":"object"}` {
				t.Errorf("schema = %s", docs.ConfigurationSchema)
			}
		})
	}
}

func TestGetComponentDocs_OtherErrorsAreReturned(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 403, `{"error":"no"}`) })
	if _, err := newTestClient(t, s, "").GetComponentDocs(testCtx(t), "x.y"); err == nil {
		t.Fatal("a 403 must not fall back")
	}
	if n := len(s.calls()); n != 1 {
		t.Errorf("%d requests", n)
	}
}
