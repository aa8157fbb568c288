package fakestack

import (
	"net/http"
	"strings"
	"testing"
)

func TestAI_DocsQuestionAnswersFromTheCorpus(t *testing.T) {
	s := newTestServer(t, Options{})
	r := api(t, s, "POST", "/ai/docs/question", map[string]any{"query": "How do flows run phases and tasks?"})
	wantStatus(t, r, http.StatusOK)
	body := r.object(t)
	urls, _ := body["sourceUrls"].([]any)
	if len(urls) == 0 || urls[0] != "https://help.keboola.com/flows/" || !strings.Contains(body["text"].(string), "fake stack") {
		t.Errorf("answer %v", body)
	}
	none := api(t, s, "POST", "/ai/docs/question", map[string]any{"query": "quantum entanglement"}).object(t)
	if got, _ := none["sourceUrls"].([]any); len(got) != 0 {
		t.Errorf("an unrelated question cites %v", got)
	}
	wantStatus(t, api(t, s, "POST", "/ai/docs/question", map[string]any{}), http.StatusBadRequest)
}

func TestAI_SuggestComponentRanksByKeywords(t *testing.T) {
	s := newTestServer(t, Options{})
	cases := map[string]string{
		"extract tables from a mysql database": "keboola.ex-db-mysql",
		"write data to google sheets":          "keboola.wr-google-sheets",
		"snowflake sql transformation":         "keboola.snowflake-transformation",
	}
	for prompt, want := range cases {
		got := api(t, s, "POST", "/ai/suggest/component", map[string]any{"prompt": prompt}).object(t)
		if path(t, got, "components", 0, "componentId") != want || path(t, got, "components", 0, "score") != float64(1) {
			t.Errorf("%q: %v, want %s first", prompt, got["components"], want)
		}
	}
	// A name match outranks description words: MySQL "loads data" too, but
	// must not tie with Google Sheets (issue 13's run through the tools).
	got := api(t, s, "POST", "/ai/suggest/component", map[string]any{"prompt": "load data from google sheets"}).object(t)
	if path(t, got, "components", 0, "componentId") != "keboola.wr-google-sheets" {
		t.Errorf("google sheets: %v", got["components"])
	}
	if second, _ := path(t, got, "components", 1, "score").(float64); second >= 1 {
		t.Errorf("google sheets: the runner-up scores %v, level with the match: %v", second, got["components"])
	}
	wantStatus(t, api(t, s, "POST", "/ai/suggest/component", map[string]any{"prompt": " "}), http.StatusBadRequest)
}

func TestAI_ComponentDocsOrNotFound(t *testing.T) {
	s := newTestServer(t, Options{})
	doc := api(t, s, "GET", "/ai/docs/components/keboola.ex-db-mysql", nil).object(t)
	if doc["documentation"] == "" || doc["configurationSchema"] == nil || len(doc["rootConfigurationExamples"].([]any)) == 0 {
		t.Errorf("docs %v", doc)
	}
	// Components without docs answer 404 so the client falls back to Storage.
	for _, id := range []string{"keboola.nope", "keboola.ex-salesforce-v2"} {
		wantStatus(t, api(t, s, "GET", "/ai/docs/components/"+id, nil), http.StatusNotFound)
	}
}
