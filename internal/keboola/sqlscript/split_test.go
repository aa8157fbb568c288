package sqlscript

import (
	"reflect"
	"testing"
	"unicode"
)

func TestSplit_SplitsAtStatementEndsOnly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{name: "two statements", in: "SELECT 1;\nSELECT 2;", want: []string{"SELECT 1;", "SELECT 2;"}},
		{name: "last without semicolon", in: "SELECT 1; SELECT 2", want: []string{"SELECT 1;", "SELECT 2"}},
		{name: "semicolon in a string", in: "SELECT 'a;b', 'it''s;'; SELECT 2;", want: []string{"SELECT 'a;b', 'it''s;';", "SELECT 2;"}},
		{name: "semicolon in identifiers", in: `SELECT "a;b" FROM ` + "`x;y`;", want: []string{`SELECT "a;b" FROM ` + "`x;y`;"}},
		{name: "semicolon in comments", in: "-- a; b\nSELECT 1; /* c; d */ SELECT 2; // e;\n", want: []string{"-- a; b\nSELECT 1;", "/* c; d */ SELECT 2;\n// e;"}},
		// Python's split_sql_statements (sql_utils.py, SQL_TOKEN_REGEX: hash comments), as Keboola's UI splits.
		{name: "semicolon in a hash comment", in: "# a; b\nSELECT 1; SELECT 2; # c;\n", want: []string{"# a; b\nSELECT 1;", "SELECT 2;\n# c;"}},
		{name: "empty hash comment", in: "#\nSELECT 1;", want: []string{"#\nSELECT 1;"}},
		{name: "hash inside a string", in: "SELECT '#;'; SELECT 2;", want: []string{"SELECT '#;';", "SELECT 2;"}},
		{name: "dollar-quoted body", in: "CREATE FUNCTION f() RETURNS INT AS $$ SELECT 1; $$; SELECT 2;", want: []string{"CREATE FUNCTION f() RETURNS INT AS $$ SELECT 1; $$;", "SELECT 2;"}},
		{name: "escaped quote", in: `SELECT 'a\';b'; SELECT 2;`, want: []string{`SELECT 'a\';b';`, "SELECT 2;"}},
		{name: "stray semicolons", in: ";; SELECT 1;;", want: []string{"SELECT 1;"}},
		{name: "only a comment", in: "-- nothing", want: []string{"-- nothing"}},
		{name: "only a hash comment", in: "# nothing;", want: []string{"# nothing;"}},
		{name: "empty", in: "  \n ", want: nil},
		{name: "unterminated dollar-quoted body", in: "SELECT 1; SELECT $$ a; b", want: []string{"SELECT 1;", "SELECT $$ a; b"}},
		{name: "unterminated block comment", in: "SELECT 1; SELECT 2 /* a; b", want: []string{"SELECT 1;", "SELECT 2 /* a; b"}},
		{name: "unterminated string", in: "SELECT 'abc; SELECT 2;", want: []string{"SELECT 'abc; SELECT 2;"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Split(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzSplit_KeepsEveryNonSpaceCharacter(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 'a;b';", "-- x\n/* y */;$$;$$", "'\\", `"""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		strip := func(s string) []rune {
			var out []rune
			for _, r := range s {
				if !unicode.IsSpace(r) && r != ';' {
					out = append(out, r)
				}
			}
			return out
		}
		var joined string
		for _, p := range Split(s) {
			joined += p
		}
		if string(strip(joined)) != string(strip(s)) {
			t.Errorf("Split(%q) lost or added text: %q", s, joined)
		}
	})
}

func TestSplit_DropsASemicolonAfterABlockComment(t *testing.T) {
	t.Parallel()
	got := Split("/* setup */;\nSELECT 1;")
	if want := []string{"/* setup */\nSELECT 1;"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
