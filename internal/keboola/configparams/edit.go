// Package configparams edits a configuration's "parameters" by path: a
// caller (a model) changes one value instead of resending, and perhaps
// mangling, the whole object, which may hold secrets it can see only
// redacted.
package configparams

import (
	"fmt"
	"strconv"
	"strings"
)

// Edit is one change of the parameters.
type Edit struct {
	// Op is one of Ops.
	Op string
	// Path is relative to the parameters: dot-separated keys with [n]
	// list indexes; "$" alone is the whole object.
	Path string
	// Value is the new value (set, list_append).
	Value any
	// SearchFor and ReplaceWith are the texts of str_replace.
	SearchFor   string
	ReplaceWith string
}

// Ops are the edit operations: set puts a value (creating missing objects),
// str_replace replaces text in every string at or under the path, remove
// deletes a key or list item, list_append appends to a list (creating it).
var Ops = []string{"set", "str_replace", "remove", "list_append"}

// EditError is an edit that could not apply; nothing was changed.
type EditError struct {
	// Index is the edit's position in the list applied.
	Index int
	Edit  Edit
	Err   error
}

func (e *EditError) Error() string {
	return fmt.Sprintf("edit %d (%s %s): %v", e.Index, e.Edit.Op, e.Edit.Path, e.Err)
}

func (e *EditError) Unwrap() error { return e.Err }

// pathStep is one key or list index of a parameter path.
type pathStep struct {
	key   string
	index int
	isIdx bool
}

func (s pathStep) String() string {
	if s.isIdx {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return s.key
}

// parsePath reads a path like db.host, tables[0].name or ['a.b'].c; "$"
// is the root (no steps). A leading "$." is accepted, as in JSONPath.
func parsePath(p string) ([]pathStep, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return nil, fmt.Errorf("path is empty (use $ for the whole parameters object)")
	}
	if p == "$" {
		return nil, nil
	}
	p = strings.TrimPrefix(p, "$.")
	if strings.HasPrefix(p, "$[") {
		p = p[1:]
	}
	var steps []pathStep
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			if i == 0 || i == len(p)-1 || p[i+1] == '.' || p[i+1] == '[' {
				return nil, fmt.Errorf("path %q has an empty key", p)
			}
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q has an unclosed [", p)
			}
			inner := p[i+1 : i+end]
			if n := len(inner); n >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[n-1] == inner[0] {
				steps = append(steps, pathStep{key: inner[1 : n-1]})
			} else if idx, err := strconv.Atoi(inner); err == nil && idx >= 0 {
				steps = append(steps, pathStep{index: idx, isIdx: true})
			} else {
				return nil, fmt.Errorf("path %q: [%s] is neither a list index nor a quoted key", p, inner)
			}
			i += end + 1
			if i < len(p) && p[i] != '.' && p[i] != '[' {
				return nil, fmt.Errorf("path %q: expected . or [ after ]", p)
			}
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			steps = append(steps, pathStep{key: p[i:j]})
			i = j
		}
	}
	return steps, nil
}

func pathString(steps []pathStep) string {
	if len(steps) == 0 {
		return "$"
	}
	var b strings.Builder
	for i, s := range steps {
		if i > 0 && !s.isIdx {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// lookup returns the value at steps below root.
func lookup(root any, steps []pathStep) (any, bool) {
	cur := root
	for _, s := range steps {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[s.key]
			if s.isIdx || !ok {
				return nil, false
			}
			cur = v
		case []any:
			if !s.isIdx || s.index >= len(c) {
				return nil, false
			}
			cur = c[s.index]
		default:
			return nil, false
		}
	}
	return cur, true
}

// parent walks to the container that holds the last step, creating missing
// objects on the way when create is set.
func parent(root map[string]any, steps []pathStep, create bool) (any, error) {
	var cur any = root
	for i, s := range steps[:len(steps)-1] {
		next, err := child(cur, s, steps[:i+1])
		if err != nil {
			return nil, err
		}
		if next == nil {
			if !create || steps[i+1].isIdx {
				return nil, fmt.Errorf("%s does not exist", pathString(steps[:i+1]))
			}
			m := map[string]any{}
			cur.(map[string]any)[s.key] = m
			next = m
		}
		cur = next
	}
	return cur, nil
}

// child returns the value under one step, nil when a key is missing.
func child(cur any, s pathStep, at []pathStep) (any, error) {
	switch c := cur.(type) {
	case map[string]any:
		if s.isIdx {
			return nil, fmt.Errorf("%s is an object, not a list", pathString(at[:len(at)-1]))
		}
		return c[s.key], nil
	case []any:
		if !s.isIdx {
			return nil, fmt.Errorf("%s is a list: use an index like [0], not .%s", pathString(at[:len(at)-1]), s.key)
		}
		if s.index >= len(c) {
			return nil, fmt.Errorf("%s has %d items, so index %d does not exist", pathString(at[:len(at)-1]), len(c), s.index)
		}
		return c[s.index], nil
	default:
		return nil, fmt.Errorf("%s is %s, not an object or list", pathString(at[:len(at)-1]), jsonKind(cur))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Apply applies the edits in order to params (changed in place; the result
// may be a new root after "set $"). It returns one line per edit saying what
// it did. An edit that cannot apply stops everything with an *EditError, so
// a caller stores nothing half-done.
func Apply(params map[string]any, edits []Edit) (map[string]any, []string, error) {
	var done []string
	for i, u := range edits {
		steps, err := parsePath(u.Path)
		if err == nil {
			params, err = applyEdit(params, steps, u)
		}
		if err != nil {
			return nil, nil, &EditError{Index: i, Edit: u, Err: err}
		}
		done = append(done, describeEdit(u, steps))
	}
	return params, done, nil
}

func describeEdit(u Edit, steps []pathStep) string {
	p := pathString(steps)
	switch u.Op {
	case "set":
		return "set " + p
	case "remove":
		return "removed " + p
	case "list_append":
		return "appended to " + p
	}
	// %.40q quotes at most the first 40 characters: enough to recognise.
	return fmt.Sprintf("replaced %.40q in %s", u.SearchFor, p)
}

func isSecretPath(steps []pathStep) bool {
	for _, s := range steps {
		if !s.isIdx && strings.HasPrefix(s.key, "#") {
			return true
		}
	}
	return false
}

func applyEdit(params map[string]any, steps []pathStep, u Edit) (map[string]any, error) {
	switch u.Op {
	case "set":
		if u.Value == nil {
			return nil, fmt.Errorf("set needs a value (remove deletes a key)")
		}
		if len(steps) == 0 {
			m, ok := u.Value.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the whole parameters must be an object, got %s", jsonKind(u.Value))
			}
			return m, nil
		}
		return params, put(params, steps, u.Value, true)
	case "remove":
		if len(steps) == 0 {
			return nil, fmt.Errorf("cannot remove the whole parameters object; set $ to {} instead")
		}
		p, err := parent(params, steps, false)
		if err != nil {
			return nil, err
		}
		last := steps[len(steps)-1]
		switch c := p.(type) {
		case map[string]any:
			if _, ok := c[last.key]; last.isIdx || !ok {
				return nil, fmt.Errorf("%s does not exist", pathString(steps))
			}
			delete(c, last.key)
			return params, nil
		case []any:
			if !last.isIdx || last.index >= len(c) {
				return nil, fmt.Errorf("%s does not exist", pathString(steps))
			}
			return params, put(params, steps[:len(steps)-1], append(c[:last.index:last.index], c[last.index+1:]...), false)
		}
		return nil, fmt.Errorf("%s is not an object or list", pathString(steps[:len(steps)-1]))
	case "list_append":
		if u.Value == nil {
			return nil, fmt.Errorf("list_append needs a value")
		}
		cur, ok := lookup(params, steps)
		if !ok || cur == nil {
			return params, put(params, steps, []any{u.Value}, true)
		}
		// The root is an object, so a list found here has a non-empty path.
		list, isList := cur.([]any)
		if !isList {
			return nil, fmt.Errorf("%s is %s, not a list", pathString(steps), jsonKind(cur))
		}
		return params, put(params, steps, append(list, u.Value), false)
	case "str_replace":
		if u.SearchFor == "" {
			return nil, fmt.Errorf("search_for must not be empty")
		}
		if isSecretPath(steps) {
			return nil, fmt.Errorf("secret values are stored encrypted; set the new plain value instead")
		}
		cur, ok := lookup(params, steps)
		if !ok {
			return nil, fmt.Errorf("%s does not exist", pathString(steps))
		}
		n := 0
		replaced := replaceStrings(cur, u.SearchFor, u.ReplaceWith, &n)
		if n == 0 {
			return nil, fmt.Errorf("%q does not occur in %s", u.SearchFor, pathString(steps))
		}
		if len(steps) == 0 {
			return replaced.(map[string]any), nil
		}
		return params, put(params, steps, replaced, false)
	}
	return nil, fmt.Errorf("unknown op %q (use %s)", u.Op, strings.Join(Ops, ", "))
}

// put stores v at steps (non-empty).
func put(root map[string]any, steps []pathStep, v any, create bool) error {
	p, err := parent(root, steps, create)
	if err != nil {
		return err
	}
	last := steps[len(steps)-1]
	switch c := p.(type) {
	case map[string]any:
		if last.isIdx {
			return fmt.Errorf("%s is an object, not a list", pathString(steps[:len(steps)-1]))
		}
		c[last.key] = v
		return nil
	case []any:
		if !last.isIdx {
			return fmt.Errorf("%s is a list: use an index like [0]", pathString(steps[:len(steps)-1]))
		}
		if last.index >= len(c) {
			return fmt.Errorf("%s has %d items, so index %d does not exist (list_append adds one)", pathString(steps[:len(steps)-1]), len(c), last.index)
		}
		c[last.index] = v
		return nil
	}
	return fmt.Errorf("%s is %s, not an object or list", pathString(steps[:len(steps)-1]), jsonKind(p))
}

// replaceStrings replaces old with new in every string of v, leaving the
// values of secret keys alone (they are ciphertext), and counts replacements.
func replaceStrings(v any, old, new string, n *int) any {
	switch x := v.(type) {
	case string:
		if c := strings.Count(x, old); c > 0 {
			*n += c
			return strings.ReplaceAll(x, old, new)
		}
		return x
	case map[string]any:
		for k, val := range x {
			if !strings.HasPrefix(k, "#") {
				x[k] = replaceStrings(val, old, new, n)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = replaceStrings(x[i], old, new, n)
		}
		return x
	}
	return v
}
