package keboola

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFlexString_AcceptsStringsNumbersAndNull(t *testing.T) {
	cases := map[string]string{
		`"abc"`:   "abc",
		`123`:     "123",
		`-7`:      "-7",
		`1.5e3`:   "1.5e3",
		`null`:    "",
		`"12345"`: "12345",
	}
	for in, want := range cases {
		var f FlexString
		if err := json.Unmarshal([]byte(in), &f); err != nil || string(f) != want {
			t.Errorf("decode %s = %q, %v; want %q", in, f, err, want)
		}
	}
	for _, bad := range []string{`true`, `{}`, `[1]`} {
		var f FlexString
		if err := json.Unmarshal([]byte(bad), &f); err == nil {
			t.Errorf("decode %s succeeded with %q", bad, f)
		}
	}
}

func TestTime_ParsesKeboolaFormats(t *testing.T) {
	want := time.Date(2019, 8, 12, 12, 36, 8, 0, time.UTC)
	cases := map[string]time.Time{
		`"2019-08-12T14:36:08+0200"`:     want,
		`"2019-08-12T14:36:08+02:00"`:    want,
		`"2019-08-12T12:36:08Z"`:         want,
		`"2019-08-12 12:36:08"`:          want,
		`"2019-08-12T12:36:08.000+0000"`: want,
		`1565613368`:                     want,
		`null`:                           {},
		`""`:                             {},
		`"0000-00-00 00:00:00"`:          {},
		`"yesterday"`:                    {},
	}
	for in, w := range cases {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(w) {
			t.Errorf("decode %s = %v, %v; want %v", in, got, err, w)
		}
	}
	for _, bad := range []string{`true`, `{}`, `[1]`} {
		var got Time
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("decoded %s as a timestamp", bad)
		}
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("ParseTime accepted an unrecognised timestamp")
	}
	out, _ := json.Marshal(struct{ A, B Time }{A: Time{want}})
	if string(out) != `{"A":"2019-08-12T12:36:08Z","B":null}` {
		t.Errorf("marshal = %s", out)
	}
}

func TestFlexMap_EmptyArrayIsEmptyObject(t *testing.T) {
	var v struct {
		A FlexMap[string] `json:"a"`
		B FlexMap[string] `json:"b"`
		C FlexMap[string] `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":[],"b":{"in.c-x":"read"},"c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A == nil || len(v.A) != 0 || v.B["in.c-x"] != "read" || v.C != nil {
		t.Errorf("got %+v", v)
	}
	var m FlexMap[string]
	if err := json.Unmarshal([]byte(`["x"]`), &m); err == nil {
		t.Error("a non-empty array must not decode as a map")
	}
}

func TestRawObject_EmptyArrayBecomesObject(t *testing.T) {
	var v struct {
		A RawObject `json:"a"`
		B RawObject `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a":[],"b":{"x":[1]}}`), &v); err != nil {
		t.Fatal(err)
	}
	if string(v.A) != "{}" || string(v.B) != `{"x":[1]}` {
		t.Errorf("got %s %s", v.A, v.B)
	}
}

func TestMetadata_GetPrefersNewestAcrossProviders(t *testing.T) {
	var m Metadata
	err := json.Unmarshal([]byte(`[
		{"key":"KBC.description","value":"system","provider":"system","timestamp":"2020-01-01 00:00:00"},
		{"key":"KBC.description","value":"user","provider":"user","timestamp":"2021-06-01T10:00:00+0200"},
		{"key":"KBC.description","value":"older","provider":"ex","timestamp":"2019-01-01T00:00:00Z"},
		{"key":"other","value":"o","provider":"user","timestamp":"2030-01-01T00:00:00Z"}]`), &m)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Get("KBC.description"); !ok || v != "user" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if _, ok := m.Get("missing"); ok {
		t.Error("found a missing key")
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{"2017-02-13 23:36:10", "2019-08-12T14:36:08+0200", "2020-01-01T00:00:00Z", "", "x", "2019-13-45"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, _ := json.Marshal(s)
		var got Time
		if err := json.Unmarshal(b, &got); err != nil {
			return
		}
		// Whatever parsed must survive a marshal/unmarshal round trip at second precision.
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("marshal %v: %v", got, err)
		}
		var again Time
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !again.Equal(got.Truncate(time.Second)) {
			t.Fatalf("round trip %q: %v != %v", s, again, got)
		}
	})
}

func FuzzFlexString(f *testing.F) {
	for _, s := range []string{`"a"`, `1`, `-2.5e10`, `null`, `true`, `{}`, `"\u00e9"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var got FlexString
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			return
		}
		trimmed := strings.TrimSpace(in)
		switch {
		case strings.HasPrefix(trimmed, `"`):
			var s string
			if err := json.Unmarshal([]byte(in), &s); err != nil || s != string(got) {
				t.Fatalf("string %s decoded as %q", in, got)
			}
		case trimmed == "null":
			if got != "" {
				t.Fatalf("null decoded as %q", got)
			}
		default:
			if _, err := strconv.ParseFloat(string(got), 64); err != nil && !strings.Contains(err.Error(), "range") {
				t.Fatalf("number %s decoded as non-number %q", in, got)
			}
		}
	})
}
