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
		if got := InjectQueryData(tc.in, code); got != tc.want {
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
