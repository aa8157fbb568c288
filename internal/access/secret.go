package access

import "log/slog"

// Secret holds a credential (a Storage API token, an OAuth access token).
// Its String, GoString, LogValue and MarshalText forms are redacted, so a
// Secret that reaches a log line, an error string or a JSON body by accident
// leaks nothing. Reveal returns the raw value and is called only where the
// value is sent to Keboola.
type Secret string

// Redacted is what every printed form of a Secret shows.
const Redacted = "[REDACTED]"

// Reveal returns the raw credential.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) String() string { return Redacted }

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return Redacted }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText keeps encoding/json and friends from serialising the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
