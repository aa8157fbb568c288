// Package sqlscript reads SQL scripts the way Keboola's SQL transformations
// need them: one statement per script item.
package sqlscript

import "strings"

// Split splits a script into statements at semicolons that end a
// statement, not at ones inside string literals, quoted identifiers,
// comments (--, //, # and /* */, the vocabulary of Keboola's UI splitter,
// which the Python server's split_sql_statements follows: # starts a line
// comment in GoogleSQL) or Snowflake's $$-quoted bodies. Each statement keeps its
// semicolon; comments before a statement stay with it, and trailing
// comments stay with the last one. Keboola runs the items of a code's
// script one by one, so one item must hold one statement.
func Split(script string) []string {
	var out []string
	var cur strings.Builder
	pendingComments := "" // a comment-only piece waiting for its statement
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if strings.Trim(s, "; \t\r\n") == "" {
			return // a stray semicolon
		}
		if OnlyComments(s) {
			pendingComments += dropStraySemicolon(s) + "\n"
			return
		}
		out = append(out, pendingComments+s)
		pendingComments = ""
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\'' || r == '"' || r == '`':
			end := quotedEnd(rs, i, r)
			cur.WriteString(string(rs[i:end]))
			i = end - 1
		case r == '$' && next == '$':
			i = copyThrough(&cur, rs, i, 2, "$$")
		case (r == '-' && next == '-') || (r == '/' && next == '/'):
			i = copyThrough(&cur, rs, i, 2, "\n")
		case r == '#':
			i = copyThrough(&cur, rs, i, 1, "\n")
		case r == '/' && next == '*':
			i = copyThrough(&cur, rs, i, 2, "*/")
		case r == ';':
			cur.WriteRune(r)
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	if pendingComments != "" {
		tail := strings.TrimSpace(pendingComments)
		if len(out) == 0 {
			return []string{tail}
		}
		out[len(out)-1] += "\n" + tail
	}
	return out
}

// dropStraySemicolon removes a semicolon that ends a comment-only piece
// ("/* x */;"), which would otherwise run as an empty statement; one that
// is the end of a line comment is part of the comment.
func dropStraySemicolon(s string) string {
	last := s[strings.LastIndexByte(s, '\n')+1:]
	if t := strings.TrimSpace(last); lineComment(t) {
		return s
	}
	return strings.TrimRight(s, "; \t\r\n")
}

// quotedEnd returns the index just after the literal or identifier that
// opens at rs[i]; a doubled quote or a backslash escapes the quote.
func quotedEnd(rs []rune, i int, q rune) int {
	for j := i + 1; j < len(rs); j++ {
		switch rs[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(rs) && rs[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(rs)
}

// copyThrough copies rs from i (an opening $$, --, //, # or /* of
// opener runes) through the closing delim, or to the end when it is not
// closed, and returns the index of the last rune copied.
func copyThrough(cur *strings.Builder, rs []rune, i, opener int, delim string) int {
	end := len(rs)
	if j := indexRunes(rs, i+opener, delim); j >= 0 {
		end = j + len([]rune(delim))
	}
	cur.WriteString(string(rs[i:end]))
	return end - 1
}

// lineComment reports whether s starts with a line comment.
func lineComment(s string) bool {
	return strings.HasPrefix(s, "--") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "#")
}

func indexRunes(rs []rune, from int, sub string) int {
	if from > len(rs) {
		return -1
	}
	i := strings.Index(string(rs[from:]), sub)
	if i < 0 {
		return -1
	}
	return from + len([]rune(string(rs[from:])[:i]))
}

// OnlyComments reports whether a piece of SQL holds nothing but comments
// (and a stray semicolon).
func OnlyComments(s string) bool {
	for s != "" {
		s = strings.TrimLeft(s, " \t\r\n;")
		switch {
		case s == "":
			return true
		case lineComment(s):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return true
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return true
			}
			s = s[i+4:]
		default:
			return false
		}
	}
	return true
}
