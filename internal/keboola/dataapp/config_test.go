package dataapp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

func TestDeriveSlug(t *testing.T) {
	for _, tc := range []struct {
		name  string
		draft bool
		want  string // the slug, or its prefix before the random draft suffix
	}{
		{"Stock Monitor", false, "stock-monitor"},
		{"Stock Monitor draft", false, "stock-monitor-draft"},
		{"Stock Monitor draft", true, "stock-monitor-draft-"},
		{"Stock Monitor (Draft) draft", true, "stock-monitor-draft-"},
		{"Draft", true, "data-app-draft-"},
		{"Drafting tool", true, "drafting-tool-draft-"},
		{"!!!", false, "data-app"},
	} {
		got := DeriveSlug(tc.name, tc.draft)
		if tc.draft {
			if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+6 || strings.Count(got, "draft") != strings.Count(tc.want, "draft") {
				t.Errorf("DeriveSlug(%q, draft) = %q, want %q + 6 hex digits", tc.name, got, tc.want)
			}
		} else if got != tc.want {
			t.Errorf("DeriveSlug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestBody_ReadsTheDraftAndGitBindingOfAnyShape(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		body                 Body
		draft                bool
		parent, branch, auth string
	}{
		"draft": {body: Body{"parameters": map[string]any{"dataApp": map[string]any{"isDraft": true, "parentConfigurationId": "42",
			"git": map[string]any{"branch": "feature"}}}, "authorization": Authorization(false)},
			draft: true, parent: "42", branch: "feature", auth: "none (public)"},
		"production app": {body: Body{"parameters": map[string]any{"dataApp": map[string]any{"slug": "x"}}, "authorization": Authorization(true)},
			auth: "basic (password)"},
		// Hand-edited or foreign bodies must read as "not a draft", not panic.
		"wrong types": {body: Body{"parameters": map[string]any{"dataApp": map[string]any{"isDraft": "yes", "parentConfigurationId": 42, "git": "main"}},
			"authorization": "basic"}, auth: "custom"},
		"empty": {body: Body{}, auth: "custom"},
		"OIDC rule": {body: Body{"authorization": map[string]any{"app_proxy": map[string]any{"auth_rules": []any{
			map[string]any{"auth_required": true, "auth": []any{"oidc"}}}}}}, auth: "custom"},
	} {
		b := tc.body
		if b.IsDraft() != tc.draft || b.ParentConfigID() != tc.parent || b.GitBranch() != tc.branch || b.Authentication() != tc.auth {
			t.Errorf("%s: draft %v parent %q branch %q auth %q; want %v %q %q %q", name,
				b.IsDraft(), b.ParentConfigID(), b.GitBranch(), b.Authentication(), tc.draft, tc.parent, tc.branch, tc.auth)
		}
	}
}

func TestValidSlugAndBranchName(t *testing.T) {
	t.Parallel()
	for slug, want := range map[string]bool{"sales": true, "a-1": true, "a": true, "-a": false, "a-": false, "Sales": false,
		"a_b": false, "": false, strings.Repeat("a", MaxSlugLen): true, strings.Repeat("a", MaxSlugLen+1): false} {
		if ValidSlug(slug) != want {
			t.Errorf("ValidSlug(%q) = %v, want %v", slug, !want, want)
		}
	}
	for branch, want := range map[string]bool{"feature/x": true, "a b": false, "a\tb": false, "a\nb": false} {
		if ValidBranchName(branch) != want {
			t.Errorf("ValidBranchName(%q) = %v, want %v", branch, !want, want)
		}
	}
}

func TestCloneURL_EmbedsTheTokenOrRefusesAURLWithoutHost(t *testing.T) {
	t.Parallel()
	got, err := CloneURL("https://git.example.invalid/keboola/app.git", keboola.Secret("tok/en"))
	if err != nil || got != "https://kai:tok%2Fen@git.example.invalid/keboola/app.git" {
		t.Errorf("CloneURL = %q, %v", got, err)
	}
	for _, bad := range []string{"git.example.invalid/app.git", "https://", "::"} {
		if got, err := CloneURL(bad, keboola.Secret("t")); err == nil {
			t.Errorf("CloneURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestCheckStorage(t *testing.T) {
	t.Parallel()
	tables := []any{map[string]any{"source": "in.c-a.b"}}
	for name, tc := range map[string]struct {
		in      map[string]any
		want    string // JSON of the result
		problem string
	}{
		"nil keeps":                 {in: nil, want: "null"},
		"empty clears":              {in: map[string]any{}, want: "{}"},
		"empty objects are dropped": {in: map[string]any{"input": map[string]any{"tables": tables}, "output": map[string]any{}}, want: `{"input":{"tables":[{"source":"in.c-a.b"}]}}`},
		"wrapped block":             {in: map[string]any{"storage": map[string]any{"input": map[string]any{"tables": tables}}}, want: `{"input":{"tables":[{"source":"in.c-a.b"}]}}`},
		"unknown key":               {in: map[string]any{"tables": []any{}}, problem: `not "tables"`},
		"not an object":             {in: map[string]any{"input": []any{}}, problem: "storage.input must be an object"},
		"not a list":                {in: map[string]any{"output": map[string]any{"tables": "x"}}, problem: "storage.output.tables must be a list"},
	} {
		got, err := CheckStorage(tc.in)
		if tc.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("%s: error %v, want one with %q", name, err, tc.problem)
			}
			continue
		}
		raw, _ := json.Marshal(got)
		if err != nil || string(raw) != tc.want {
			t.Errorf("%s: got %s, %v; want %s", name, raw, err, tc.want)
		}
	}
}

func TestNewPythonJS_ProductionAppAndDraft(t *testing.T) {
	t.Parallel()
	prod := NewPythonJS(PythonJS{Slug: "stock", AutoSuspendAfterSeconds: 900, Authorization: Authorization(true),
		Secrets: map[string]any{WorkspaceSecret: "ws1"}, Storage: map[string]any{}})
	raw, _ := json.Marshal(prod)
	want := `{"authorization":` + mustJSON(t, Authorization(true)) + `,"parameters":{"autoSuspendAfterSeconds":900,"dataApp":{"secrets":{"WORKSPACE_ID":"ws1"},"slug":"stock"}}}`
	if string(raw) != want || prod.IsDraft() {
		t.Errorf("production app body\n got %s\nwant %s", raw, want)
	}
	draft := NewPythonJS(PythonJS{Slug: "stock-draft-abc", AutoSuspendAfterSeconds: 60, Authorization: Authorization(false),
		Runtime: map[string]any{"workspace": map[string]any{"enabled": true}},
		Draft:   &Draft{ParentConfigID: "7", Repository: "https://git.example.invalid/a.git", Branch: "feature", Token: keboola.Secret("pat")}})
	git, _ := draft.Block()["git"].(map[string]any)
	if !draft.IsDraft() || draft.ParentConfigID() != "7" || draft.GitBranch() != "feature" || git["#password"] != "pat" ||
		git["username"] != gitUser || draft.NeedsWorkspaceSecret() || draft.Authentication() != "none (public)" {
		t.Errorf("draft body = %v", draft)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestBody_Edits(t *testing.T) {
	t.Parallel()
	body := func() Body {
		return Body{"parameters": map[string]any{"dataApp": map[string]any{"git": map[string]any{"branch": "a"}, "secrets": map[string]any{"X": "1"}}},
			"storage": map[string]any{"input": map[string]any{}}}
	}
	b := body()
	if !b.SetGitBranch("b") || b.GitBranch() != "b" {
		t.Errorf("SetGitBranch: branch %q", b.GitBranch())
	}
	if (Body{}).SetGitBranch("b") {
		t.Error("SetGitBranch on a body without git reports a change")
	}
	b.SetStorage(nil)
	if _, ok := b["storage"]; !ok {
		t.Error("SetStorage(nil) dropped the storage block")
	}
	b.SetStorage(map[string]any{"input": map[string]any{"tables": []any{}}})
	if mustJSON(t, b["storage"]) != `{"input":{"tables":[]}}` {
		t.Errorf("SetStorage did not replace: %v", b["storage"])
	}
	b.SetStorage(map[string]any{})
	if _, ok := b["storage"]; ok {
		t.Error("SetStorage({}) kept the storage block")
	}
	if !b.NeedsWorkspaceSecret() {
		t.Error("an app without workspace and secret needs the secret")
	}
	b.SetSecret(WorkspaceSecret, "ws")
	if b.NeedsWorkspaceSecret() || mustJSON(t, b.Block()["secrets"]) != `{"WORKSPACE_ID":"ws","X":"1"}` {
		t.Errorf("after SetSecret: secrets %v", b.Block()["secrets"])
	}
	withRuntime := body()
	withRuntime["runtime"] = map[string]any{"workspace": map[string]any{"enabled": true}}
	if withRuntime.NeedsWorkspaceSecret() || (Body{}).NeedsWorkspaceSecret() {
		t.Error("an app with the platform workspace, or without parameters.dataApp, must not get the secret")
	}
}
