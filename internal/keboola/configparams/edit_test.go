package configparams

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParsePath_ReadsKeysIndexesAndQuotedKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "$", want: "$"},
		{in: "db.host", want: "db.host"},
		{in: "$.db.#password", want: "db.#password"},
		{in: "tables[0].columns[12]", want: "tables[0].columns[12]"},
		{in: "['a.b'].c", want: "a.b.c"},
		{in: `$["x"]`, want: "x"},
		{in: "", bad: true},
		{in: "a..b", bad: true},
		{in: "a.", bad: true},
		{in: "a[x]", bad: true},
		{in: "a[-1]", bad: true},
		{in: "a[0", bad: true},
		{in: "a[0]b", bad: true},
	}
	for _, tc := range cases {
		steps, err := parsePath(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parsePath(%q) = %v, want an error", tc.in, steps)
			}
			continue
		}
		if err != nil || pathString(steps) != tc.want {
			t.Errorf("parsePath(%q) = %q, %v; want %q", tc.in, pathString(steps), err, tc.want)
		}
	}
}

func params(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApply_EditsInOrderOrFailsNamingTheEdit(t *testing.T) {
	t.Parallel()
	base := `{"db":{"host":"a.example.com","port":3306,"#password":"KBC::x"},"tables":[{"name":"orders"},{"name":"customers"}],"query":"SELECT * FROM old_t JOIN old_t2"}`
	cases := []struct {
		name    string
		ups     []Edit
		want    string // JSON of the result
		wantErr string
	}{
		{name: "set a nested value", ups: []Edit{{Op: "set", Path: "db.port", Value: 3307.0}},
			want: `{"db":{"#password":"KBC::x","host":"a.example.com","port":3307},"query":"SELECT * FROM old_t JOIN old_t2","tables":[{"name":"orders"},{"name":"customers"}]}`},
		{name: "set creates missing objects", ups: []Edit{{Op: "set", Path: "ssh.tunnel.enabled", Value: true}},
			want: `"ssh":{"tunnel":{"enabled":true}}`},
		{name: "set a list item", ups: []Edit{{Op: "set", Path: "tables[1].name", Value: "clients"}}, want: `{"name":"clients"}`},
		{name: "set the root", ups: []Edit{{Op: "set", Path: "$", Value: map[string]any{"x": 1.0}}}, want: `{"x":1}`},
		{name: "remove a key", ups: []Edit{{Op: "remove", Path: "db.port"}}, want: `"db":{"#password":"KBC::x","host":"a.example.com"}`},
		{name: "remove a list item", ups: []Edit{{Op: "remove", Path: "tables[0]"}}, want: `"tables":[{"name":"customers"}]`},
		{name: "append to a list", ups: []Edit{{Op: "list_append", Path: "tables", Value: map[string]any{"name": "x"}}}, want: `{"name":"x"}]`},
		{name: "append creates a list", ups: []Edit{{Op: "list_append", Path: "ids", Value: 1.0}}, want: `"ids":[1]`},
		{name: "replace everywhere under a path", ups: []Edit{{Op: "str_replace", Path: "$", SearchFor: "old_", ReplaceWith: "new_"}},
			want: `"query":"SELECT * FROM new_t JOIN new_t2"`},
		{name: "edits see earlier edits", ups: []Edit{{Op: "list_append", Path: "tables", Value: map[string]any{"name": "x"}}, {Op: "set", Path: "tables[2].name", Value: "y"}},
			want: `{"name":"y"}]`},
		{name: "index past the end", ups: []Edit{{Op: "set", Path: "tables[5].name", Value: "z"}}, wantErr: "edit 0 (set tables[5].name): tables has 2 items"},
		{name: "key on a list", ups: []Edit{{Op: "set", Path: "tables.name", Value: "z"}}, wantErr: "tables is a list"},
		{name: "remove a missing key", ups: []Edit{{Op: "set", Path: "a", Value: 1.0}, {Op: "remove", Path: "db.nope"}}, wantErr: "edit 1 (remove db.nope): db.nope does not exist"},
		{name: "set without value", ups: []Edit{{Op: "set", Path: "a"}}, wantErr: "needs a value"},
		{name: "text not found", ups: []Edit{{Op: "str_replace", Path: "query", SearchFor: "nope"}}, wantErr: `"nope" does not occur in query`},
		{name: "replace in a secret", ups: []Edit{{Op: "str_replace", Path: "db.#password", SearchFor: "x"}}, wantErr: "encrypted"},
		{name: "append to a non-list", ups: []Edit{{Op: "list_append", Path: "db", Value: 1.0}}, wantErr: "db is an object, not a list"},
		{name: "root must stay an object", ups: []Edit{{Op: "set", Path: "$", Value: "x"}}, wantErr: "must be an object"},
		{name: "unknown op", ups: []Edit{{Op: "merge", Path: "db"}}, wantErr: "unknown op"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, done, err := Apply(params(t, base), tc.ups)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != len(tc.ups) {
				t.Errorf("done = %v", done)
			}
			b, _ := json.Marshal(got)
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("result %s lacks %s", b, tc.want)
			}
		})
	}
}

func TestStrReplace_LeavesSecretValuesAlone(t *testing.T) {
	t.Parallel()
	got, _, err := Apply(params(t, `{"a":"KBC::x","#b":"KBC::x"}`), []Edit{{Op: "str_replace", Path: "$", SearchFor: "KBC", ReplaceWith: "Y"}})
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "Y::x" || got["#b"] != "KBC::x" {
		t.Errorf("got %v", got)
	}
}
