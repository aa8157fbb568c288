package tools

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Output conventions, chosen to spend few tokens: lists are CSV with a
// header (one line per item, no JSON keys repeated), details are short
// "key: value" lines, empty values are left out, and every answer ends with
// the Keboola UI links that help the user.

// csvTable renders rows as CSV under header.
func csvTable(header []string, rows [][]string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(header) // a strings.Builder does not fail
	_ = w.WriteAll(rows)
	return b.String()
}

// fields renders "key: value" lines, skipping empty values.
type fields struct{ b strings.Builder }

func (f *fields) add(key, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(&f.b, "%s: %s\n", key, oneLine(value))
}

func (f *fields) String() string { return f.b.String() }

// oneLine folds newlines so a value keeps to its line in a listing.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// shorten cuts s to n runes with an ellipsis; long descriptions in lists
// would crowd out the items themselves.
func shorten(s string, n int) string {
	s = oneLine(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// day renders a time as a date and minute in UTC, or "" when unknown.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// counted renders "1 table" or "3 tables": how every listing opens.
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "s"):
		return fmt.Sprintf("%d %ses", n, noun)
	default:
		return fmt.Sprintf("%d %ss", n, noun)
	}
}

// count renders a number, "" for zero so it drops out of field lists.
func count(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// bytesize renders a size in bytes in human units.
func bytesize(n int64) string {
	if n <= 0 {
		return ""
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// window applies offset and limit to n items and returns the bounds and a
// note telling the model how to get the rest ("" when everything is shown).
func window(n, offset, limit int) (lo, hi int, note string) {
	lo = min(offset, n)
	hi = min(lo+limit, n)
	if lo == 0 && hi == n {
		return lo, hi, ""
	}
	note = fmt.Sprintf("Showing %d–%d of %d.", lo+1, hi, n)
	if hi == lo {
		note = fmt.Sprintf("Offset %d is past the end: there are %d items.", offset, n)
	} else if hi < n {
		note += fmt.Sprintf(" Call again with offset=%d for more.", hi)
	}
	return lo, hi, note
}

// links renders UI links as a trailing block.
func links(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nLinks:\n")
		}
		fmt.Fprintf(&b, "- %s: %s\n", pairs[i], pairs[i+1])
	}
	return b.String()
}
