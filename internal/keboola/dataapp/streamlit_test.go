package dataapp

import (
	"errors"
	"strings"
	"testing"
)

func TestInjectQueryData(t *testing.T) {
	t.Parallel()
	code := queryBlockStart + "\ndef query_data(sql): ...\n" + queryBlockEnd + "\n"
	pythonBlock := "# ### INJECTED_CODE ####\ndef query_data(q): old\n# ### END_OF_INJECTED_CODE ####\n"
	for name, tc := range map[string]struct{ in, want string }{
		"placeholder":                 {"a\n{QUERY_DATA_FUNCTION}\nb\n", "a\n" + strings.TrimRight(code, "\n") + "\nb\n"},
		"no placeholder goes on top":  {"a\n", code + "\na\n"},
		"earlier block is replaced":   {"a\n" + code + "b\n", "a\n" + code + "b\n"},
		"python server block too":     {"a\n" + pythonBlock + "b\n", "a\n" + code + "b\n"},
		"placeholder wins over block": {pythonBlock + "{QUERY_DATA_FUNCTION}\n", strings.TrimRight(code, "\n") + "\n"},
	} {
		if got := injectQueryData(tc.in, code); got != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", name, got, tc.want)
		}
	}
}

func TestQueryDataCode_ByBackend(t *testing.T) {
	t.Parallel()
	for backend, want := range map[string]string{"snowflake": "/queries", "BigQuery": "/query\"", "synapse": ""} {
		code, err := QueryDataCode(backend)
		var unsupported *UnsupportedBackendError
		switch {
		case want == "":
			if !errors.As(err, &unsupported) || unsupported.Backend != backend {
				t.Errorf("%s: error %v, want an UnsupportedBackendError", backend, err)
			}
		case err != nil || !strings.Contains(code, want) || !HasQueryData(code) || strings.Count(code, "def query_data(") != 1:
			t.Errorf("%s: %v, code lacks %q or its markers:\n%s", backend, err, want, code)
		}
	}
}

func TestStreamlit_NewAndUpdate(t *testing.T) {
	t.Parallel()
	code := queryBlockStart + "\ndef query_data(sql): ...\n" + queryBlockEnd + "\n"
	b := NewStreamlit(Streamlit{Slug: "sales", Source: "import streamlit as st\n", QueryData: code, Packages: []string{"plotly", "pandas"},
		Secrets: map[string]any{WorkspaceSecret: "ws1"}, Authorization: Authorization(true)})
	params := b["parameters"].(map[string]any)
	if got := mustJSON(t, params["packages"]); got != `["httpx","pandas","plotly"]` {
		t.Errorf("packages = %s", got)
	}
	if b.Authentication() != "basic (password)" || !HasQueryData(params["script"].([]any)[0].(string)) {
		t.Errorf("new body = %v", b)
	}
	b["storage"] = []any{} // what Keboola returns for an empty block
	// A user's secret edited in the UI wins; an empty update keeps code and packages.
	b.Block()["secrets"].(map[string]any)[WorkspaceSecret] = "mine"
	if err := b.UpdateStreamlit(Streamlit{QueryData: code, Secrets: map[string]any{WorkspaceSecret: "ws2", "BRANCH_ID": "1"}}); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, b.Block()["secrets"]); got != `{"BRANCH_ID":"1","WORKSPACE_ID":"mine"}` {
		t.Errorf("secrets = %s", got)
	}
	if got := mustJSON(t, params["packages"]); got != `["httpx","pandas","plotly"]` || b.Block()["slug"] != "sales" {
		t.Errorf("empty update changed packages %s or slug %v", got, b.Block()["slug"])
	}
	if _, ok := b["storage"]; ok {
		t.Error("the [] storage block was kept")
	}
	if err := b.UpdateStreamlit(Streamlit{Slug: "sales-2", Source: "st.write(1)\n", QueryData: code, Authorization: Authorization(false)}); err != nil {
		t.Fatal(err)
	}
	if script := params["script"].([]any)[0].(string); strings.Count(script, "def query_data(") != 1 || !strings.Contains(script, "st.write(1)") ||
		b.Block()["slug"] != "sales-2" || b.Authentication() != "none (public)" {
		t.Errorf("after update: %v", b)
	}
	if err := (Body{"parameters": map[string]any{}}).UpdateStreamlit(Streamlit{}); !errors.Is(err, ErrNotStreamlitBody) {
		t.Errorf("body without parameters.dataApp: %v", err)
	}
}
