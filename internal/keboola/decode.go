package keboola

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FlexString decodes a JSON string or number (or null) into a string. Keboola
// APIs are inconsistent about ids: the same field is an int in one service or
// version and a string in another, so every id we read goes through this type.
type FlexString string

// UnmarshalJSON accepts "abc", 123, 1.5e3 (kept as written) and null (empty).
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = FlexString(n.String())
		return nil
	default:
		return fmt.Errorf("keboola: expected a string or number id, got %.40s", b)
	}
}

// String returns the id as text.
func (f FlexString) String() string { return string(f) }

// Time decodes the timestamp formats Keboola emits: RFC 3339,
// "2019-08-12T14:36:08+0200" (offset without a colon) and
// "2017-02-13 23:36:10" (no zone, which Keboola means as UTC). null, "" and
// text in no known shape (e.g. MySQL's "0000-00-00 00:00:00") give the zero
// Time rather than an error: one odd date must not make a whole bucket list
// unreadable. It marshals as RFC 3339, or null when zero.
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// ParseTime parses one of the timestamp shapes Keboola uses.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// Fast paths for the two shapes Storage sends most; large table lists
	// carry several timestamps per table.
	if len(s) == 19 && s[10] == ' ' {
		if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
			return t, nil
		}
	}
	if len(s) == 24 && s[10] == 'T' && (s[19] == '+' || s[19] == '-') {
		if t, err := time.Parse("2006-01-02T15:04:05Z0700", s); err == nil {
			return t, nil
		}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("keboola: unrecognised timestamp %q", s)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		// Some endpoints send Unix seconds.
		if n, nerr := strconv.ParseInt(string(b), 10, 64); nerr == nil {
			t.Time = time.Unix(n, 0).UTC()
			return nil
		}
		return fmt.Errorf("keboola: timestamp is neither a string nor a number: %.40s", b)
	}
	parsed, err := ParseTime(s)
	if err != nil {
		parsed = time.Time{}
	}
	t.Time = parsed
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(time.RFC3339))
}

// FlexMap is a JSON object that PHP-backed Keboola endpoints send as [] when it
// is empty. Any JSON array decodes as an empty map; null as nil.
type FlexMap[V any] map[string]V

// UnmarshalJSON implements json.Unmarshaler.
func (m *FlexMap[V]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*m = nil
		return nil
	case len(b) > 0 && b[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		if len(items) > 0 {
			return fmt.Errorf("keboola: expected an object, got a non-empty array")
		}
		*m = FlexMap[V]{}
		return nil
	}
	var plain map[string]V
	if err := json.Unmarshal(b, &plain); err != nil {
		return err
	}
	*m = plain
	return nil
}

// MetadataEntry is one key/value pair attached to a bucket, table, column,
// configuration or branch.
type MetadataEntry struct {
	ID        FlexString `json:"id"`
	Key       string     `json:"key"`
	Value     string     `json:"value"`
	Provider  string     `json:"provider"`
	Timestamp Time       `json:"timestamp"`
}

// Metadata is a metadata list as Keboola returns it. The same key can appear
// once per provider (user, system, a component): readers want the newest.
type Metadata []MetadataEntry

// Get returns the value of key with the newest timestamp, across providers.
// On equal timestamps the later entry in the list wins.
func (m Metadata) Get(key string) (string, bool) {
	var best *MetadataEntry
	for i := range m {
		e := &m[i]
		if e.Key != key {
			continue
		}
		if best == nil || !e.Timestamp.Before(best.Timestamp.Time) {
			best = e
		}
	}
	if best == nil {
		return "", false
	}
	return best.Value, true
}

// MetadataKeyDescription is where Keboola keeps user-written descriptions of
// buckets, tables, columns and configurations.
const MetadataKeyDescription = "KBC.description"

// descriptionOr returns the user-written description kept in the metadata,
// or fallback (the object's own description field) when there is none.
func (m Metadata) descriptionOr(fallback string) string {
	if d, ok := m.Get(MetadataKeyDescription); ok {
		return d
	}
	return fallback
}

// MetadataKeyProjectDescription holds the project description on the default branch.
const MetadataKeyProjectDescription = "KBC.projectDescription"
