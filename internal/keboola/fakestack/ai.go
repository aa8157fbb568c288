package fakestack

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode"
)

// AI Service. It is a fake: answers come from a tiny built-in corpus chosen by
// keyword overlap, and every answer says so.

type docPage struct{ url, title, text string }

var docCorpus = []docPage{
	{"https://help.keboola.com/storage/buckets/", "Buckets",
		"Storage organises tables into buckets. Input buckets (in.c-*) hold extracted data, output buckets (out.c-*) hold results of transformations. A bucket can be shared with other projects of the organisation and linked there read-only."},
	{"https://help.keboola.com/storage/tables/", "Tables",
		"A table lives in a bucket and has columns, an optional primary key and metadata such as descriptions. Typed tables keep column data types. Data preview shows the first rows; filters and sorting narrow it down."},
	{"https://help.keboola.com/transformations/", "Transformations",
		"Transformations turn input tables into output tables with SQL (Snowflake, BigQuery) or code (Python, R). Input mapping copies tables into the workspace, output mapping loads results back into Storage."},
	{"https://help.keboola.com/flows/", "Flows",
		"Flows (orchestrations) run tasks in phases on a schedule or trigger. Each task runs one component configuration; phases run in order and tasks of a phase in parallel. Notifications report failed runs."},
	{"https://help.keboola.com/management/jobs/", "Jobs",
		"Every run of a component configuration is a job in the Jobs Queue. A job goes from created and waiting to processing and ends in success, warning, error or terminated. Its events show the log."},
	{"https://help.keboola.com/components/extractors/", "Data source connectors",
		"Extractors (data source connectors) load data from databases, APIs and files into Storage, fully or incrementally. Configurations hold credentials; rows select tables or endpoints."},
	{"https://help.keboola.com/components/writers/", "Data destination connectors",
		"Writers (data destination connectors) send Storage tables to databases, spreadsheets and applications such as Google Sheets or Snowflake."},
	{"https://help.keboola.com/management/project/tokens/", "Storage API tokens",
		"Storage API tokens authorise access to a project. The master token of an admin can do everything; limited tokens may be restricted to buckets and components and may expire. Secrets in configurations (keys starting with #) are encrypted."},
	{"https://help.keboola.com/workspace/", "Workspaces",
		"A workspace is a database schema for ad-hoc SQL and development. A workspace with read-only storage access can query every bucket of the project without loading data."},
}

func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

var stopWords = map[string]bool{"the": true, "a": true, "an": true, "in": true, "of": true, "to": true, "and": true,
	"or": true, "is": true, "how": true, "do": true, "i": true, "what": true, "can": true, "for": true, "with": true, "my": true}

// keywordScore counts query words found in text (ignoring stop words).
func keywordScore(query, text string) int {
	words := map[string]bool{}
	for _, w := range tokenize(text) {
		words[w] = true
		words[strings.TrimSuffix(w, "s")] = true
	}
	score := 0
	for _, w := range tokenize(query) {
		if !stopWords[w] && (words[w] || words[strings.TrimSuffix(w, "s")]) {
			score++
		}
	}
	return score
}

func (s *Stack) aiRoutes(mux *http.ServeMux) {
	auth := func(h storageHandler) http.HandlerFunc { return s.withAuth(headerOnly, storageErrors, h) }
	mux.Handle("POST /ai/docs/question", auth(s.handleDocsQuestion))
	mux.Handle("POST /ai/suggest/component", auth(s.handleSuggestComponent))
	mux.Handle("GET /ai/docs/components/{id}", auth(s.handleComponentDocs))
}

func (s *Stack) handleDocsQuestion(w http.ResponseWriter, r *http.Request, _ *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	query, _ := strField(body, "query")
	if strings.TrimSpace(query) == "" {
		badRequest(w, fmt.Errorf("query is required"))
		return
	}
	type hit struct {
		page  docPage
		score int
	}
	var hits []hit
	for _, p := range docCorpus {
		if sc := keywordScore(query, p.title+" "+p.text); sc > 0 {
			hits = append(hits, hit{p, sc})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	if len(hits) > 2 {
		hits = hits[:2]
	}
	if len(hits) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{
			"text":       "The fake stack's small documentation corpus has nothing on that. See https://help.keboola.com/ for the full documentation.",
			"sourceUrls": []string{},
		})
		return
	}
	var text strings.Builder
	text.WriteString("From the fake stack's built-in documentation excerpts: ")
	urls := make([]string, 0, len(hits))
	for i, h := range hits {
		if i > 0 {
			text.WriteString(" ")
		}
		text.WriteString(h.page.text)
		urls = append(urls, h.page.url)
	}
	writeJSON(w, http.StatusOK, map[string]any{"text": text.String(), "sourceUrls": urls})
}

func (s *Stack) handleSuggestComponent(w http.ResponseWriter, r *http.Request, _ *caller) {
	body, err := readBody(r)
	if err != nil {
		badRequest(w, err)
		return
	}
	prompt, _ := strField(body, "prompt")
	if strings.TrimSpace(prompt) == "" {
		badRequest(w, fmt.Errorf("prompt is required"))
		return
	}
	type scored struct {
		id    string
		score int
	}
	var out []scored
	s.mu.Lock()
	for _, c := range s.state.catalogue {
		// A word of the component's name or id weighs more than one of its
		// description, as in any relevance ranking: otherwise "load data
		// from Google Sheets" ranked MySQL ("loads data") level with Google
		// Sheets.
		name := strings.Join([]string{c.id, strings.ReplaceAll(c.id, ".", " "), strings.ReplaceAll(c.id, "-", " "), c.name}, " ")
		text := strings.Join([]string{c.typ, c.description, c.longDescription, strings.Join(c.categories, " ")}, " ")
		if sc := 3*keywordScore(prompt, name) + keywordScore(prompt, text); sc > 0 {
			out = append(out, scored{c.id, sc})
		}
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	comps := make([]any, 0, len(out))
	maxScore := 1
	if len(out) > 0 {
		maxScore = out[0].score
	}
	for _, c := range out {
		comps = append(comps, map[string]any{"componentId": c.id, "score": float64(c.score) / float64(maxScore), "source": "fakestack-keywords"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"components": comps})
}

func (s *Stack) handleComponentDocs(w http.ResponseWriter, r *http.Request, _ *caller) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.state.components[r.PathValue("id")]
	if !ok || c.documentation == "" {
		writeError(w, storageErrors, http.StatusNotFound, "componentNotFound", fmt.Sprintf("No documentation for component %s", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"componentId":               c.id,
		"name":                      c.name,
		"type":                      c.typ,
		"flags":                     nonNil(c.flags),
		"categories":                nonNil(c.categories),
		"documentation":             c.documentation,
		"documentationUrl":          c.documentationURL,
		"configurationSchema":       orEmpty(c.configSchema),
		"configurationRowSchema":    orEmpty(c.rowSchema),
		"rootConfigurationExamples": nonNilAny(c.rootExamples),
		"rowConfigurationExamples":  nonNilAny(c.rowExamples),
	})
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}
