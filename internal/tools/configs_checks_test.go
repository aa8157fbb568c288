package tools

import (
	"encoding/json"
	"strings"
	"testing"
)

// params parses a parameters object for the table tests.
func params(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRestoreRedacted_KeepsStoredSecrets(t *testing.T) {
	t.Parallel()
	old := params(t, `{"db":{"#password":"KBC::stored"},"list":[{"#k":"KBC::k0"}]}`)
	edited := params(t, `{"db":{"#password":"[REDACTED]","host":"h"},"list":[{"#k":"[REDACTED]"}]}`)
	if err := restoreRedacted(edited, old, "parameters"); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(edited)
	if strings.Contains(string(b), redacted) || !strings.Contains(string(b), "KBC::stored") || !strings.Contains(string(b), "KBC::k0") {
		t.Errorf("restored = %s", b)
	}
	err := restoreRedacted(params(t, `{"#new":"[REDACTED]"}`), old, "parameters")
	if err == nil || !strings.Contains(err.Error(), "parameters.#new") {
		t.Errorf("placeholder without a stored secret: err = %v", err)
	}
}

func TestCheckParameters_UsesDraft04SchemasAndSkipsUnusableOnes(t *testing.T) {
	t.Parallel()
	draft04 := `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"db":{"type":"object","required":true,
		"properties":{"port":{"type":"integer","minimum":1,"exclusiveMinimum":false},"host":{"type":"string","propertyOrder":1}}}}}`
	cases := []struct {
		name, schema, params, wantNote, wantErr string
	}{
		{name: "valid", schema: draft04, params: `{"db":{"host":"h","port":3306}}`, wantNote: "match"},
		{name: "wrong type", schema: draft04, params: `{"db":{"port":"x"}}`, wantErr: "do not fit the schema of c"},
		{name: "boolean required", schema: draft04, params: `{}`, wantErr: "db"},
		{name: "no schema", schema: `{}`, params: `{"x":1}`},
		{name: "unusable schema", schema: `{"type":"object","properties":{"a":{"$ref":"https://elsewhere.invalid/s.json"}}}`, params: `{"a":1}`, wantNote: "could not be used"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			note, err := checkParameters("c", []byte(tc.schema), params(t, tc.params))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(note, tc.wantNote) || (tc.wantNote == "" && note != "") {
				t.Errorf("note %q, err %v; want note with %q", note, err, tc.wantNote)
			}
		})
	}
}
