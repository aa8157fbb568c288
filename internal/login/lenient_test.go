package login

import "testing"

// The Python server's Config.__post_init__ amends storage_api_url the same
// way: a bare host gets https (http for localhost), a path is dropped.
func TestLenientStackURL(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		amended   bool
		fails     bool
	}{
		{raw: "https://connection.keboola.com", want: "https://connection.keboola.com"},
		{raw: "https://connection.keboola.com/", want: "https://connection.keboola.com"},
		{raw: "connection.keboola.com", want: "https://connection.keboola.com", amended: true},
		{raw: "connection.north-europe.azure.keboola.com/v2/storage", want: "https://connection.north-europe.azure.keboola.com", amended: true},
		{raw: "https://connection.keboola.com/v2/storage?x=1", want: "https://connection.keboola.com", amended: true},
		{raw: "localhost:8081", want: "http://localhost:8081", amended: true},
		{raw: "HTTPS://Connection.Keboola.com:443", want: "https://connection.keboola.com", amended: true},
		{raw: "http://connection.keboola.com", fails: true}, // plain http only on loopback
		{raw: "", fails: true},
		{raw: "ftp://connection.keboola.com", fails: true},
	} {
		got, amended, err := LenientStackURL(tc.raw)
		if tc.fails {
			if err == nil {
				t.Errorf("%q: accepted as %q", tc.raw, got)
			}
			continue
		}
		if err != nil || got != tc.want || amended != tc.amended {
			t.Errorf("%q: got %q amended=%v err=%v; want %q amended=%v", tc.raw, got, amended, err, tc.want, tc.amended)
		}
	}
}
