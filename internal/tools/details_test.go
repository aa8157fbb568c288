package tools

import (
	"errors"
	"strings"
	"testing"
)

func TestDescribeEach(t *testing.T) {
	t.Parallel()
	known := map[string]string{"a": "A\n", "b": "B\n"}
	describe := func(id string) (string, bool, error) {
		if id == "boom" {
			return "", false, errors.New("stack down")
		}
		text, ok := known[id]
		return text, ok, nil
	}
	cases := []struct {
		name    string
		ids     []string
		want    string
		wantErr string
	}{
		{name: "found items are separated by a blank line", ids: []string{"a", "b"}, want: "A\n\nB\n"},
		{name: "missing ids are listed after the found ones with the next step", ids: []string{"x", "a", "y"},
			want: "A\n\nNot found: x, y. get_things lists them.\n"},
		{name: "nothing found fails naming the ids and the next step", ids: []string{"x", "y"},
			wantErr: "thing(s) not found: x, y. get_things lists them."},
		{name: "another failure stops the call", ids: []string{"a", "boom"}, wantErr: "stack down"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := describeEach(tc.ids, "thing(s)", "get_things lists them.", describe)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
