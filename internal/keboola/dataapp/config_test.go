package dataapp

import (
	"strings"
	"testing"
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
