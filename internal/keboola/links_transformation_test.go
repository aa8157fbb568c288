package keboola

import "testing"

func TestLinks_TransformationPage(t *testing.T) {
	l, err := NewLinks("https://connection.keboola.com", "42")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://connection.keboola.com/admin/projects/42/transformations-v2/keboola.snowflake-transformation/7"
	if got := l.Transformation("keboola.snowflake-transformation", "7"); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
