package tools

import (
	"fmt"
	"strings"
	"unicode"
)

// query_data is announced, and granted, as read-only, so it runs only
// statements that cannot change anything: the workspace's own grants are a
// second line, not the first. checkReadOnlySQL reads the statement's
// structure, not just its first word: "WITH d AS (SELECT 1) DELETE FROM t"
// starts like a query and is a delete (issue 11).
//
// Allowed: SELECT and VALUES, a parenthesised query, WITH whose every CTE
// body and main statement are themselves allowed, SHOW and DESCRIBE/DESC
// (metadata), and EXPLAIN of an allowed statement (EXPLAIN ANALYZE, which runs
// the statement in some engines, is not). One statement only: text after a
// top-level ';' is refused.

// sqlToken is a word (upper-cased), a quoted identifier, or one of ( ) , ;.
type sqlToken struct {
	text   string
	quoted bool // a "quoted" or `quoted` identifier
}

// tokenizeSQL splits a statement into the tokens the check needs; string
// literals, numbers, operators and comments are dropped. It fails on an
// unterminated literal or comment rather than guess where it ends.
func tokenizeSQL(sql string) ([]sqlToken, error) {
	var out []sqlToken
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"), c == '/' && strings.HasPrefix(sql[i:], "//"):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return out, nil
			}
			i += end + 1
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("an unterminated /* comment")
			}
			i += 2 + end + 2
		case c == '\'' || c == '"' || c == '`':
			j, err := closingQuote(sql, i)
			if err != nil {
				return nil, err
			}
			if c != '\'' {
				out = append(out, sqlToken{text: sql[i+1 : j], quoted: true})
			}
			i = j + 1
		case c == '$' && strings.HasPrefix(sql[i:], "$$"):
			end := strings.Index(sql[i+2:], "$$")
			if end < 0 {
				return nil, fmt.Errorf("an unterminated $$ string")
			}
			i += 2 + end + 2
		case c == '(' || c == ')' || c == ',' || c == ';':
			out = append(out, sqlToken{text: string(c)})
			i++
		case c == '_' || unicode.IsLetter(rune(c)) || c >= 0x80:
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] == '$' || sql[j] >= 0x80 || unicode.IsLetter(rune(sql[j])) || unicode.IsDigit(rune(sql[j]))) {
				j++
			}
			out = append(out, sqlToken{text: strings.ToUpper(sql[i:j])})
			i = j
		default:
			i++
		}
	}
	return out, nil
}

// closingQuote returns the index of the quote closing the one at sql[i]; a
// doubled quote is an escaped one, and in string literals so is a backslash.
func closingQuote(sql string, i int) (int, error) {
	q := sql[i]
	for j := i + 1; j < len(sql); j++ {
		switch sql[j] {
		case '\\':
			if q == '\'' {
				j++
			}
		case q:
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j, nil
		}
	}
	return 0, fmt.Errorf("an unterminated %c quote", q)
}

// checkReadOnlySQL returns nil for one read-only statement, or an error the
// model can act on.
func checkReadOnlySQL(sql string) error {
	toks, err := tokenizeSQL(sql)
	if err != nil {
		return errorf("query_data cannot read this SQL: %v", err)
	}
	// Trailing semicolons end the one statement; anything after one is a second.
	for len(toks) > 0 && toks[len(toks)-1].text == ";" && !toks[len(toks)-1].quoted {
		toks = toks[:len(toks)-1]
	}
	for _, t := range toks {
		if t.text == ";" && !t.quoted {
			return errorf("query_data runs one statement at a time; split this SQL at its ';' into separate calls")
		}
	}
	if len(toks) == 0 {
		return errorf("sql_query holds no statement")
	}
	if what := writingPart(toks); what != "" {
		return errorf("query_data runs only read-only statements (SELECT, WITH … SELECT, VALUES, SHOW, DESCRIBE, EXPLAIN); this SQL %s", what)
	}
	return nil
}

// writingPart describes what makes the statement toks not read-only, or
// returns "" when it reads only.
func writingPart(toks []sqlToken) string {
	if len(toks) == 0 {
		return "ends where a query should start"
	}
	first := toks[0]
	if first.quoted {
		return fmt.Sprintf("starts with the identifier %q", first.text)
	}
	switch first.text {
	case "SELECT", "VALUES", "SHOW", "DESCRIBE", "DESC":
		return ""
	case "(":
		end := matchingParen(toks, 0)
		if end < 0 {
			return "has an unclosed '('"
		}
		return writingPart(toks[1:end])
	case "EXPLAIN":
		rest := toks[1:]
		for len(rest) > 0 && !rest[0].quoted {
			switch rest[0].text {
			case "USING", "TEXT", "JSON", "TABULAR", "QUERY", "PLAN":
				rest = rest[1:]
				continue
			case "ANALYZE", "ANALYSE":
				return "asks EXPLAIN ANALYZE, which runs the statement"
			}
			break
		}
		if what := writingPart(rest); what != "" {
			return "explains a statement that " + what
		}
		return ""
	case "WITH":
		return withWritingPart(toks[1:])
	}
	return fmt.Sprintf("starts with %s", first.text)
}

// withWritingPart checks what follows WITH: [RECURSIVE] name [(columns)] AS
// [NOT] [MATERIALIZED] (body) [, ...] then the main statement.
func withWritingPart(toks []sqlToken) string {
	i := 0
	if i < len(toks) && !toks[i].quoted && toks[i].text == "RECURSIVE" {
		i++
	}
	for {
		if i >= len(toks) || (!toks[i].quoted && !isWord(toks[i].text)) {
			return "has a WITH clause that does not name a common table expression"
		}
		i++
		if i < len(toks) && toks[i].text == "(" && !toks[i].quoted {
			end := matchingParen(toks, i)
			if end < 0 {
				return "has an unclosed '('"
			}
			i = end + 1
		}
		if i >= len(toks) || toks[i].quoted || toks[i].text != "AS" {
			return "has a WITH clause without AS (body)"
		}
		i++
		for i < len(toks) && !toks[i].quoted && (toks[i].text == "NOT" || toks[i].text == "MATERIALIZED") {
			i++
		}
		if i >= len(toks) || toks[i].quoted || toks[i].text != "(" {
			return "has a WITH clause without AS (body)"
		}
		end := matchingParen(toks, i)
		if end < 0 {
			return "has an unclosed '('"
		}
		if what := writingPart(toks[i+1 : end]); what != "" {
			return "has a common table expression that " + what
		}
		i = end + 1
		if i < len(toks) && !toks[i].quoted && toks[i].text == "," {
			i++
			continue
		}
		break
	}
	main := toks[i:]
	if len(main) > 0 && !main[0].quoted && (main[0].text == "SHOW" || main[0].text == "DESCRIBE" || main[0].text == "DESC") {
		return "follows WITH with " + main[0].text
	}
	if what := writingPart(main); what != "" {
		return "has a WITH clause whose statement " + what
	}
	return ""
}

func isWord(s string) bool {
	return s != "" && s != "(" && s != ")" && s != "," && s != ";"
}

// matchingParen returns the index of the ')' closing the '(' at toks[open],
// or -1.
func matchingParen(toks []sqlToken, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		if toks[i].quoted {
			continue
		}
		switch toks[i].text {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
