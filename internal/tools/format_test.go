package tools

import "testing"

func TestCounted_SingularAndPlural(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    int
		noun string
		want string
	}{
		{0, "table", "0 tables"},
		{1, "table", "1 table"},
		{2, "match", "2 matches"},
		{1, "match", "1 match"},
		{12, "bucket", "12 buckets"},
	}
	for _, tc := range cases {
		if got := counted(tc.n, tc.noun); got != tc.want {
			t.Errorf("counted(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
