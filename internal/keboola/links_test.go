package keboola

import (
	"net/http"
	"testing"
)

func TestLinks_BuildUIAddresses(t *testing.T) {
	l, err := NewLinks("https://connection.keboola.com", "123")
	if err != nil {
		t.Fatal(err)
	}
	const p = "https://connection.keboola.com/admin/projects/123"
	cases := map[string]string{
		l.Project():                       p,
		l.Storage():                       p + "/storage",
		l.Bucket("in.c-main"):             p + "/storage/in.c-main",
		l.Table("in.c-main", "customers"): p + "/storage/in.c-main/table/customers",
		l.Component("keboola.ex-http"):    p + "/components/keboola.ex-http",
		l.UsedComponents():                p + "/components/configurations",
		l.Config("keboola.ex-http", "77"): p + "/components/keboola.ex-http/77",
		l.Transformations():               p + "/transformations-v2",
		l.Jobs():                          p + "/queue",
		l.Job("5001"):                     p + "/queue/5001",
		l.Flows():                         p + "/flows",
		l.Flow("9"):                       p + "/flows/9",
		l.Table("in.c-main", "a name/with?chars"): p + "/storage/in.c-main/table/a%20name%2Fwith%3Fchars",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if _, err := NewLinks("https://connection.keboola.com", "12/../3"); err == nil {
		t.Error("non-numeric project id accepted")
	}
}

func TestClientLinks_UseProjectOfToken(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ string) { reply(w, 200, `{"id":"1","owner":{"id":456}}`) })
	l, err := newTestClient(t, s, "").Links(testCtx(t))
	if err != nil || l.Job("1") != s.URL+"/admin/projects/456/queue/1" {
		t.Fatalf("links = %v, %v", l.Job("1"), err)
	}
}

func TestTableSQLName(t *testing.T) {
	cases := []struct {
		name, backend string
		path          []string
		table         string
		want          string
	}{
		{"snowflake", "snowflake", []string{"KBC_DB", "in.c-main"}, "customers", `"KBC_DB"."in.c-main"."customers"`},
		{"snowflake quotes escaped", "SNOWFLAKE", []string{"DB", "s"}, `we"ird`, `"DB"."s"."we""ird"`},
		{"bigquery dataset", "bigquery", []string{"in_c_main"}, "customers", "`in_c_main`.`customers`"},
		{"bigquery project and dataset", "bigquery", []string{"proj-1", "in_c_main"}, "t", "`proj-1`.`in_c_main`.`t`"},
		{"snowflake without path", "snowflake", nil, "t", ""},
		{"unknown backend", "redshift", []string{"a", "b"}, "t", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := Table{ID: "x.y.z", Name: tc.table, Bucket: Bucket{BackendPath: tc.path}}
			got, err := tb.SQLName(tc.backend)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("want an error, got %q", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("SQLName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
