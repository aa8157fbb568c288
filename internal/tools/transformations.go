package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola/sqlscript"
)

// SQL transformations: configurations of the Snowflake or BigQuery
// transformation component (whichever is the project's backend). Their
// parameters hold blocks of named codes, each code a list of statements
// that Keboola runs in order.

const (
	snowflakeTransformation = "keboola.snowflake-transformation"
	bigqueryTransformation  = "keboola.google-bigquery-transformation"
)

var tfOps = []string{"add_block", "remove_block", "rename_block", "add_code", "remove_code", "rename_code", "set_code", "add_script", "str_replace"}

var transformationTools = []Tool{
	define("create_sql_transformation", "Create an SQL transformation",
		"Creates an SQL transformation in the project's SQL dialect (get_project_info names it) from named "+
			"code blocks. Scripts read Storage tables by their fully qualified names (get_tables shows them) "+
			"and create their results with CREATE TABLE \"name\" AS …, using the plain quoted name; list those "+
			"names in created_table_names so they are loaded into a Storage bucket named after the "+
			"transformation. A script may hold several statements separated by semicolons; {{ name }} in a script "+
			"is filled from variables when the transformation runs. The transformation is created, not run: run_job runs it. Returns its configuration id, its blocks and codes by position, "+
			"and links.",
		hints{}, func(s *jsonschema.Schema) {
			minLen(s, "name", 1)
			minLen(s, "sql_code_blocks", 1)
			variablesSchema(s)
		}, createSQLTransformation),
	define("update_sql_transformation", "Update an SQL transformation",
		"Changes an SQL transformation: its SQL with parameter_updates (add, remove or rename blocks and codes, "+
			"replace or extend a code's script, find and replace text), its whole storage mapping, description, "+
			"variables or disabled state. Blocks and codes are named by position, from 0, as get_configs shows them: b0 "+
			"is the first block, b0.c1 its second code; the answers of both transformation tools list them. "+
			"Edits apply in order, so an edit sees the positions left by the ones before it. A change that "+
			"removes or retypes columns of an output table makes the next run fail until that table is deleted: "+
			"tell the user. Returns the new version, what changed and the resulting blocks.",
		hints{destructive: true}, func(s *jsonschema.Schema) {
			minLen(s, "configuration_id", 1)
			minLen(s, "change_description", 1)
			itemEnum(s, "parameter_updates", "op", tfOps...)
			itemEnum(s, "parameter_updates", "position", "start", "end")
			variablesSchema(s)
		}, updateSQLTransformation),
}

// transformationComponent is the SQL transformation of the project's backend.
func transformationComponent(ctx context.Context, c *keboola.Client) (string, error) {
	info, err := c.VerifyToken(ctx)
	if err != nil {
		return "", err
	}
	if dialect(info.Owner) == bigquery {
		return bigqueryTransformation, nil
	}
	return snowflakeTransformation, nil
}

type tfCode struct {
	Name   string `json:"name" jsonschema:"What the code does, e.g. Daily revenue."`
	Script string `json:"script" jsonschema:"The SQL: one or more statements, each ending with a semicolon."`
}

type tfBlock struct {
	Name  string   `json:"name" jsonschema:"The block's name."`
	Codes []tfCode `json:"codes,omitempty" jsonschema:"The block's codes, run in order."`
}

type createSQLTransformationInput struct {
	Name              string   `json:"name" jsonschema:"A short name that says what the transformation produces."`
	Description       string   `json:"description" jsonschema:"What the transformation does and why: its inputs, logic and outputs."`
	SQLCodeBlocks     []tfCode `json:"sql_code_blocks" jsonschema:"The SQL, as named codes run in order."`
	CreatedTableNames []string `json:"created_table_names,omitempty" jsonschema:"Plain names (no quotes, no bucket) of the tables the SQL creates, to load into Storage."`
	pythonFolder
	pythonVariables
}

var plainTableName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_$-]{0,254}$`)

func createSQLTransformation(ctx context.Context, c call, in createSQLTransformationInput) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return "", errorf("name must not be empty")
	}
	codes, err := newCodes(in.SQLCodeBlocks, "sql_code_blocks")
	if err != nil {
		return "", err
	}
	bucket := "out.c-" + bucketSlug(name)
	var outputs []any
	var missing []string
	for i, t := range in.CreatedTableNames {
		if !plainTableName.MatchString(t) {
			return "", errorf("created_table_names[%d] %q must be a plain table name (letters, digits, _), without quotes or bucket", i, t)
		}
		if !mentions(in.SQLCodeBlocks, t) {
			missing = append(missing, t)
		}
		outputs = append(outputs, map[string]any{"source": t, "destination": bucket + "." + t})
	}
	compID, err := transformationComponent(ctx, c.client)
	if err != nil {
		return "", err
	}
	blocks := []any{map[string]any{"name": "Main", "codes": codes}}
	body := map[string]any{
		"parameters": map[string]any{"blocks": blocks},
		"storage":    map[string]any{"input": map[string]any{"tables": []any{}}, "output": map[string]any{"tables": nonNilList(outputs)}},
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	cfg, err := createMarkedConfig(ctx, c, compID, name, in.Description, raw)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "Created SQL transformation %s %q (%s, version %d). run_job runs it.\n", cfg.id, cfg.Name, compID, cfg.Version)
	out.WriteString(cfg.note)
	out.WriteString(linkNewVariables(ctx, c.client, compID, cfg, in.Variables, "update_sql_transformation"))
	out.WriteString(in.applyToNew(ctx, c.client, compID, cfg.id))
	if len(outputs) > 0 {
		fmt.Fprintf(&out, "Output tables load into bucket %s: %s.\n", bucket, strings.Join(in.CreatedTableNames, ", "))
	} else {
		out.WriteString("No output tables: the transformation loads nothing into Storage.\n")
	}
	if len(missing) > 0 {
		fmt.Fprintf(&out, "Warning: the SQL never names %s; the run fails if it does not create them.\n", strings.Join(missing, ", "))
	}
	out.WriteString(describeBlocks(blocks))
	return out.String() + links("Transformation", cfg.links.Transformation(compID, cfg.id), "Transformations", cfg.links.Transformations()), nil
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// mentions reports whether any script names table t (quoted or not).
func mentions(codes []tfCode, t string) bool {
	for _, c := range codes {
		if strings.Contains(strings.ToLower(c.Script), strings.ToLower(t)) {
			return true
		}
	}
	return false
}

// bucketSlug turns a transformation name into a bucket name: lower case,
// runs of other characters folded into one dash.
func bucketSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 90 {
		s = strings.TrimRight(s[:90], "-")
	}
	if s == "" {
		return "transformation"
	}
	return s
}

// newCodes turns tool codes into stored codes, one statement per script item.
func newCodes(in []tfCode, field string) ([]any, error) {
	codes := make([]any, 0, len(in))
	for i, c := range in {
		code, err := newCode(c, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		codes = append(codes, code)
	}
	return codes, nil
}

func newCode(c tfCode, at string) (map[string]any, error) {
	if strings.TrimSpace(c.Name) == "" {
		return nil, errorf("%s needs a name", at)
	}
	stmts, err := statements(c.Script, at)
	if err != nil {
		return nil, err
	}
	return map[string]any{"name": strings.TrimSpace(c.Name), "script": stmts}, nil
}

func statements(script, at string) ([]any, error) {
	parts := sqlscript.Split(script)
	if !slices.ContainsFunc(parts, func(p string) bool { return !sqlscript.OnlyComments(p) }) {
		return nil, errorf("%s has no SQL", at)
	}
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// describeBlocks lists blocks and codes with the ids the edits use.
func describeBlocks(blocks []any) string {
	var b strings.Builder
	b.WriteString("Blocks:\n")
	for i, blk := range blocks {
		bm, _ := blk.(map[string]any)
		name, _ := bm["name"].(string)
		fmt.Fprintf(&b, "- b%d %q:", i, name)
		codes, _ := bm["codes"].([]any)
		if len(codes) == 0 {
			b.WriteString(" no codes")
		}
		for j, code := range codes {
			cm, _ := code.(map[string]any)
			cname, _ := cm["name"].(string)
			sep := ","
			if j == 0 {
				sep = ""
			}
			n := len(scriptOf(cm))
			plural := "s"
			if n == 1 {
				plural = ""
			}
			fmt.Fprintf(&b, "%s b%d.c%d %q (%d statement%s)", sep, i, j, cname, n, plural)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// scriptOf returns a stored code's statements; older configurations keep
// the script as one string.
func scriptOf(code map[string]any) []any {
	switch s := code["script"].(type) {
	case []any:
		return s
	case string:
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return []any{s}
	}
	return nil
}

// --- update_sql_transformation ---------------------------------------------

type tfUpdate struct {
	Op          string  `json:"op" jsonschema:"add_block (block, position), remove_block (block_id), rename_block (block_id, block_name), add_code (block_id, code, position), remove_code (code_id), rename_code (code_id, code_name), set_code (code_id, script: replaces the script), add_script (code_id, script, position: adds statements), str_replace (search_for, replace_with; block_id or code_id to limit where)."`
	BlockID     string  `json:"block_id,omitempty" jsonschema:"A block: b0 is the first."`
	CodeID      string  `json:"code_id,omitempty" jsonschema:"A code: b0.c1 is the second code of the first block."`
	Block       tfBlock `json:"block,omitempty" jsonschema:"The new block (add_block)."`
	Code        tfCode  `json:"code,omitempty" jsonschema:"The new code (add_code)."`
	BlockName   string  `json:"block_name,omitempty" jsonschema:"The block's new name (rename_block)."`
	CodeName    string  `json:"code_name,omitempty" jsonschema:"The code's new name (rename_code)."`
	Script      string  `json:"script,omitempty" jsonschema:"SQL statements (set_code, add_script)."`
	Position    string  `json:"position,omitempty" jsonschema:"Where to add: start or end (default end)."`
	SearchFor   string  `json:"search_for,omitempty" jsonschema:"Text to find (str_replace)."`
	ReplaceWith string  `json:"replace_with,omitempty" jsonschema:"Replacement text, may be empty (str_replace)."`
}

type updateSQLTransformationInput struct {
	ConfigurationID    string         `json:"configuration_id" jsonschema:"The transformation's configuration id."`
	ChangeDescription  string         `json:"change_description" jsonschema:"What changes and why, for the version history, e.g. Count only completed orders."`
	ParameterUpdates   []tfUpdate     `json:"parameter_updates,omitempty" jsonschema:"Edits of the SQL and its blocks, applied in order."`
	Storage            map[string]any `json:"storage,omitempty" jsonschema:"A new storage mapping (input and output tables), replacing the whole current one: include what should stay."`
	UpdatedDescription string         `json:"updated_description,omitempty" jsonschema:"A new description, when the transformation's behaviour changes; leave out to keep it."`
	IsDisabled         *bool          `json:"is_disabled,omitempty" jsonschema:"true disables the transformation, false enables it; leave out to keep it as it is."`
	Name               string         `json:"name,omitempty" jsonschema:"A new name; leave out to keep it."`
	Description        string         `json:"description,omitempty" jsonschema:"The Python server's name for updated_description: a new description; leave out to keep it."`
	pythonFolder
	pythonVariables
}

func updateSQLTransformation(ctx context.Context, c call, in updateSQLTransformationInput) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	change := strings.TrimSpace(in.ChangeDescription)
	if change == "" {
		return "", errorf("change_description must say what changes")
	}
	compID, err := transformationComponent(ctx, c.client)
	if err != nil {
		return "", err
	}
	cfgID := strings.TrimSpace(in.ConfigurationID)
	cur, err := c.client.GetConfig(ctx, compID, cfgID)
	if errors.Is(err, keboola.ErrNotFound) {
		return "", errorf("SQL transformation %s not found in %s; get_configs with component_types [\"transformation\"] lists them", cfgID, compID)
	}
	if err != nil {
		return "", err
	}
	body, err := decodeObject(cur.Configuration)
	if err != nil {
		return "", fmt.Errorf("the stored transformation %s is not a JSON object", cfgID)
	}
	params, _ := body["parameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
	}
	blocks, err := storedBlocks(params)
	if err != nil {
		return "", err
	}
	var changes []string
	for i, u := range in.ParameterUpdates {
		var done string
		blocks, done, err = applyTfUpdate(blocks, u)
		if err != nil {
			return "", errorf("parameter_updates[%d] (%s): %v", i, u.Op, err)
		}
		changes = append(changes, done)
	}
	upd := keboola.ConfigUpdate{ChangeDescription: change, IsDisabled: in.IsDisabled}
	if len(in.ParameterUpdates) > 0 || in.Storage != nil {
		params["blocks"] = blocks
		body["parameters"] = params
		if in.Storage != nil {
			if err := checkStorage(in.Storage); err != nil {
				return "", err
			}
			body["storage"] = in.Storage
			changes = append(changes, "replaced the storage mapping")
		}
		if upd.Configuration, err = json.Marshal(body); err != nil {
			return "", err
		}
	}
	if name := strings.TrimSpace(in.Name); name != "" {
		upd.Name = &name
		changes = append(changes, "renamed")
	}
	if d := cmp.Or(in.UpdatedDescription, in.Description); d != "" {
		if in.UpdatedDescription != "" && in.Description != "" && in.UpdatedDescription != in.Description {
			return "", errorf("give the new description once: updated_description and description differ")
		}
		upd.Description = &d
		changes = append(changes, "new description")
	}
	if in.IsDisabled != nil {
		changes = append(changes, map[bool]string{true: "disabled", false: "enabled"}[*in.IsDisabled])
	}
	u, err := c.client.Links(ctx)
	if err != nil {
		return "", err
	}
	var link linkedVariables
	if in.Variables != nil {
		if link, err = linkVariables(ctx, c.client, compID, cfgID, body, in.Variables); err != nil {
			return "", err
		}
		if link.changed {
			// body holds the edits above, if any, and now the link.
			if upd.Configuration, err = json.Marshal(body); err != nil {
				return "", err
			}
			changes = append(changes, link.change)
		}
	}
	if len(changes) == 0 {
		if in.Variables != nil || in.changesFolder() {
			// There were no variables to remove, and the folder is metadata,
			// not a new version: there is no version to save.
			filed, err := in.applyAlone(ctx, c.client, compID, cfgID)
			if err != nil {
				return "", err
			}
			return link.finish(ctx, c.client) + filed + links("Transformation", u.Transformation(compID, cfgID)), nil
		}
		return "", errorf("nothing to change: give parameter_updates, storage, name, updated_description, is_disabled or folder")
	}
	cfg, err := c.client.UpdateConfig(ctx, compID, cfgID, upd)
	if err != nil {
		return "", conflictHint(err)
	}
	return fmt.Sprintf("Updated SQL transformation %s %q (now version %d).\nChanges: %s.\n", cfgID, cfg.Name, cfg.Version, strings.Join(changes, "; ")) +
		markWrittenByMCP(ctx, c.client, compID, cfgID, cfg.Version) + link.finish(ctx, c.client) + in.apply(ctx, c.client, compID, cfgID) + describeBlocks(blocks) + links("Transformation", u.Transformation(compID, cfgID)), nil
}

// storedBlocks returns the blocks of stored parameters, refusing shapes the
// edits could not keep intact.
func storedBlocks(params map[string]any) ([]any, error) {
	raw, present := params["blocks"]
	if !present || raw == nil {
		return []any{}, nil
	}
	blocks, ok := raw.([]any)
	if !ok {
		return nil, errorf("the stored parameters.blocks is not a list; fix the transformation in the Keboola UI")
	}
	for i, b := range blocks {
		bm, ok := b.(map[string]any)
		if !ok {
			return nil, errorf("stored block b%d is not an object; fix the transformation in the Keboola UI", i)
		}
		if codes, present := bm["codes"]; present && codes != nil {
			if _, ok := codes.([]any); !ok {
				return nil, errorf("stored block b%d has codes that are not a list", i)
			}
		}
	}
	return blocks, nil
}

func parseBlockID(id string, blocks []any) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(id), "b"))
	if !strings.HasPrefix(strings.TrimSpace(id), "b") || err != nil || n < 0 {
		return 0, fmt.Errorf("block_id %q is not like b0", id)
	}
	if n >= len(blocks) {
		return 0, fmt.Errorf("there is no block %s: the transformation has %d blocks (b0 to b%d)", id, len(blocks), len(blocks)-1)
	}
	return n, nil
}

// parseCodeID resolves bN.cM; blockID, when given, must name the same block.
func parseCodeID(codeID, blockID string, blocks []any) (int, int, error) {
	bs, cs, ok := strings.Cut(strings.TrimSpace(codeID), ".")
	if !ok || !strings.HasPrefix(cs, "c") {
		return 0, 0, fmt.Errorf("code_id %q is not like b0.c1", codeID)
	}
	if blockID != "" && strings.TrimSpace(blockID) != bs {
		return 0, 0, fmt.Errorf("code_id %s is not in block %s", codeID, blockID)
	}
	bi, err := parseBlockID(bs, blocks)
	if err != nil {
		return 0, 0, err
	}
	ci, err := strconv.Atoi(cs[1:])
	if err != nil || ci < 0 {
		return 0, 0, fmt.Errorf("code_id %q is not like b0.c1", codeID)
	}
	codes := codesOf(blocks[bi])
	if ci >= len(codes) {
		return 0, 0, fmt.Errorf("there is no code %s: block %s has %d codes", codeID, bs, len(codes))
	}
	return bi, ci, nil
}

func codesOf(block any) []any {
	codes, _ := block.(map[string]any)["codes"].([]any)
	return codes
}

func insertAt(list []any, item any, position string) ([]any, error) {
	switch position {
	case "", "end":
		return append(list, item), nil
	case "start":
		return append([]any{item}, list...), nil
	}
	return nil, fmt.Errorf("position must be start or end, got %q", position)
}

// applyTfUpdate applies one edit to the decoded blocks and describes it.
// A failing edit stops the call before anything is stored.
func applyTfUpdate(blocks []any, u tfUpdate) ([]any, string, error) {
	switch u.Op {
	case "add_block":
		if strings.TrimSpace(u.Block.Name) == "" {
			return nil, "", fmt.Errorf("add_block needs block.name")
		}
		codes, err := newCodes(u.Block.Codes, "block.codes")
		if err != nil {
			return nil, "", err
		}
		out, err := insertAt(slices.Clone(blocks), map[string]any{"name": strings.TrimSpace(u.Block.Name), "codes": codes}, u.Position)
		return out, fmt.Sprintf("added block %q", u.Block.Name), err
	case "remove_block", "rename_block":
		bi, err := parseBlockID(u.BlockID, blocks)
		if err != nil {
			return nil, "", err
		}
		if u.Op == "remove_block" {
			return slices.Delete(slices.Clone(blocks), bi, bi+1), "removed block " + u.BlockID, nil
		}
		if strings.TrimSpace(u.BlockName) == "" {
			return nil, "", fmt.Errorf("rename_block needs block_name")
		}
		blocks[bi].(map[string]any)["name"] = strings.TrimSpace(u.BlockName)
		return blocks, "renamed block " + u.BlockID, nil
	case "add_code":
		bi, err := parseBlockID(u.BlockID, blocks)
		if err != nil {
			return nil, "", err
		}
		code, err := newCode(u.Code, "code")
		if err != nil {
			return nil, "", err
		}
		codes, err := insertAt(slices.Clone(codesOf(blocks[bi])), code, u.Position)
		if err != nil {
			return nil, "", err
		}
		blocks[bi].(map[string]any)["codes"] = codes
		return blocks, fmt.Sprintf("added code %q to block %s", u.Code.Name, u.BlockID), nil
	case "remove_code", "rename_code", "set_code", "add_script":
		bi, ci, err := parseCodeID(u.CodeID, u.BlockID, blocks)
		if err != nil {
			return nil, "", err
		}
		bm := blocks[bi].(map[string]any)
		codes := slices.Clone(codesOf(bm))
		if u.Op == "remove_code" {
			bm["codes"] = slices.Delete(codes, ci, ci+1)
			return blocks, "removed code " + u.CodeID, nil
		}
		cm, ok := codes[ci].(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("stored code %s is not an object", u.CodeID)
		}
		switch u.Op {
		case "rename_code":
			if strings.TrimSpace(u.CodeName) == "" {
				return nil, "", fmt.Errorf("rename_code needs code_name")
			}
			cm["name"] = strings.TrimSpace(u.CodeName)
			return blocks, "renamed code " + u.CodeID, nil
		case "set_code":
			stmts, err := statements(u.Script, "script")
			if err != nil {
				return nil, "", err
			}
			cm["script"] = stmts
			return blocks, "replaced the script of " + u.CodeID, nil
		}
		stmts, err := statements(u.Script, "script")
		if err != nil {
			return nil, "", err
		}
		old := scriptOf(cm)
		switch u.Position {
		case "", "end":
			cm["script"] = append(slices.Clone(old), stmts...)
		case "start":
			cm["script"] = append(stmts, old...)
		default:
			return nil, "", fmt.Errorf("position must be start or end, got %q", u.Position)
		}
		return blocks, "added SQL to " + u.CodeID, nil
	case "str_replace":
		return replaceInScripts(blocks, u)
	}
	return nil, "", fmt.Errorf("unknown op %q (use %s)", u.Op, strings.Join(tfOps, ", "))
}

// replaceInScripts replaces text in the statements of every code, of one
// block's codes (block_id) or of one code (code_id).
func replaceInScripts(blocks []any, u tfUpdate) ([]any, string, error) {
	if u.SearchFor == "" {
		return nil, "", fmt.Errorf("search_for must not be empty")
	}
	where := "all scripts"
	inScope := func(bi, ci int) bool { return true }
	switch {
	case u.CodeID != "":
		b, c, err := parseCodeID(u.CodeID, u.BlockID, blocks)
		if err != nil {
			return nil, "", err
		}
		where = u.CodeID
		inScope = func(bi, ci int) bool { return bi == b && ci == c }
	case u.BlockID != "":
		b, err := parseBlockID(u.BlockID, blocks)
		if err != nil {
			return nil, "", err
		}
		where = "block " + u.BlockID
		inScope = func(bi, _ int) bool { return bi == b }
	}
	n := 0
	for bi, blk := range blocks {
		for ci, code := range codesOf(blk) {
			cm, ok := code.(map[string]any)
			if !ok || !inScope(bi, ci) {
				continue
			}
			stmts := slices.Clone(scriptOf(cm))
			for si, s := range stmts {
				if str, ok := s.(string); ok {
					if k := strings.Count(str, u.SearchFor); k > 0 {
						n += k
						stmts[si] = strings.ReplaceAll(str, u.SearchFor, u.ReplaceWith)
					}
				}
			}
			cm["script"] = stmts
		}
	}
	if n == 0 {
		return nil, "", fmt.Errorf("%q does not occur in %s", u.SearchFor, where)
	}
	return blocks, fmt.Sprintf("replaced %d occurrence(s) of %q in %s", n, shorten(u.SearchFor, 40), where), nil
}
