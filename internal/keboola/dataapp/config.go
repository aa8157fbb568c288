// Package dataapp reads and shapes the Storage configuration of a Keboola
// data app (component keboola.data-apps). The Data Science API runs the app;
// its settings, its git binding and the draft relation live only in this
// configuration body, so every caller must read them the same way. A body is
// handled as generic JSON: fields this package does not know are kept, since
// the Keboola UI and the platform add their own.
//
// A python-js production app owns a managed git repository; a draft is a
// python-js app bound to a branch of its production app's repository
// (parameters.dataApp.isDraft, parentConfigurationId, git).
package dataapp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
)

const (
	// MaxSlugLen is the URL prefix limit the Keboola UI enforces; apps made
	// here keep to it as well.
	MaxSlugLen = 50
	// DefaultDraftBranch is the branch a draft is pinned to when none is
	// named: main belongs to the production app.
	DefaultDraftBranch = "init"
	// gitUser is the user name in clone URLs; the git service checks only
	// the token, but git needs a user to send it.
	gitUser = "kai"
)

// Body is a data app's configuration, decoded. Its accessors tolerate any
// shape, because configurations written by the UI, older servers or hand
// edits may lack blocks or hold them with other types.
type Body map[string]any

// Block is parameters.dataApp, where the platform keeps the slug, secrets
// and git binding; nil when the body has none.
func (b Body) Block() map[string]any {
	params, _ := b["parameters"].(map[string]any)
	block, _ := params["dataApp"].(map[string]any)
	return block
}

// IsDraft tells a draft from a production app: only the flag says so, the
// app type does not.
func (b Body) IsDraft() bool { v, _ := b.Block()["isDraft"].(bool); return v }

// ParentConfigID is the configuration id of the production app a draft
// iterates on; empty for production apps.
func (b Body) ParentConfigID() string {
	v, _ := b.Block()["parentConfigurationId"].(string)
	return v
}

// GitBranch is the branch the app is pinned to; empty for apps on a managed
// repository, whose branch the platform owns.
func (b Body) GitBranch() string {
	git, _ := b.Block()["git"].(map[string]any)
	v, _ := git["branch"].(string)
	return v
}

// Authentication names an app's access rule for people: basic (password),
// none, or custom (e.g. OIDC set up in the UI), which this package does not
// model and so must not claim to understand.
func (b Body) Authentication() string {
	auth, _ := b["authorization"].(map[string]any)
	proxy, _ := auth["app_proxy"].(map[string]any)
	rules, _ := proxy["auth_rules"].([]any)
	if len(rules) == 0 {
		return "custom"
	}
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if req, _ := rule["auth_required"].(bool); req {
			if names, _ := rule["auth"].([]any); slices.Contains(names, any("simpleAuth")) {
				return "basic (password)"
			}
			return "custom"
		}
	}
	return "none (public)"
}

// Authorization is the body's authorization block for a password-protected
// (basic) or public app, in the shape the app proxy reads.
func Authorization(basic bool) map[string]any {
	if basic {
		return map[string]any{"app_proxy": map[string]any{
			"auth_providers": []any{map[string]any{"id": "simpleAuth", "type": "password"}},
			"auth_rules":     []any{map[string]any{"type": "pathPrefix", "value": "/", "auth_required": true, "auth": []any{"simpleAuth"}}},
		}}
	}
	return map[string]any{"app_proxy": map[string]any{
		"auth_providers": []any{},
		"auth_rules":     []any{map[string]any{"type": "pathPrefix", "value": "/", "auth_required": false}},
	}}
}

var slugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// ValidSlug tells whether a caller's slug can become the app's URL prefix.
func ValidSlug(slug string) bool { return len(slug) <= MaxSlugLen && slugRe.MatchString(slug) }

// DeriveSlug makes a URL prefix from a name; drafts get a random suffix so
// they do not collide with their production app or each other.
func DeriveSlug(name string, draft bool) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base, suffix := b.String(), ""
	if draft {
		// "Sales draft" must not become sales-draft-draft-…: the suffix
		// already says draft.
		for strings.HasSuffix(base, "-draft") || base == "draft" {
			base = strings.TrimSuffix(strings.TrimSuffix(base, "draft"), "-")
		}
		var rnd [3]byte
		_, _ = rand.Read(rnd[:]) // crypto/rand does not fail on supported platforms
		suffix = "-draft-" + hex.EncodeToString(rnd[:])
	}
	base = strings.Trim(base[:min(len(base), MaxSlugLen-len(suffix))], "-")
	if base == "" {
		base = "data-app"
	}
	return base + suffix
}

// ValidBranchName rejects branch names git would refuse or misread; the
// platform would only fail later, at deployment.
func ValidBranchName(branch string) bool {
	return !strings.ContainsFunc(branch, func(r rune) bool { return r <= ' ' })
}

// CloneURL embeds the git user and token into an HTTPS clone URL, so a
// caller can clone and push with one URL.
func CloneURL(repoURL string, token keboola.Secret) (string, error) {
	p, err := url.Parse(repoURL)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return "", fmt.Errorf("the repository URL %q cannot be parsed", repoURL)
	}
	p.User = url.UserPassword(gitUser, token.Reveal())
	return p.String(), nil
}

// CheckStorage validates a storage block (input/output table mappings) and
// drops empty objects, which Keboola would store as [] and so break the UI's
// mapping editor. nil means "keep"; an empty map means "clear". A block
// wrapped in {"storage": …} is unwrapped: callers copy it from a body. Every
// error names the part at fault, for the caller to fix.
func CheckStorage(s map[string]any) (map[string]any, error) {
	if s == nil {
		return nil, nil
	}
	if inner, ok := s["storage"].(map[string]any); ok && len(s) == 1 {
		s = inner
	}
	for k, v := range s {
		if k != "input" && k != "output" {
			return nil, fmt.Errorf("storage may hold only input and output, not %q", k)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("storage.%s must be an object like {\"tables\": [...]}", k)
		}
		for kind, list := range m {
			if _, ok := list.([]any); !ok {
				return nil, fmt.Errorf("storage.%s.%s must be a list of mappings", k, kind)
			}
		}
	}
	pruned, _ := pruneEmptyObjects(s).(map[string]any)
	if pruned == nil {
		pruned = map[string]any{}
	}
	return pruned, nil
}

// pruneEmptyObjects drops empty objects at any depth: Keboola stores them
// as [], which the UI's mapping editor cannot read back.
func pruneEmptyObjects(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, sub := range x {
			p := pruneEmptyObjects(sub)
			if m, ok := p.(map[string]any); ok && len(m) == 0 {
				continue
			}
			out[k] = p
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = pruneEmptyObjects(x[i])
		}
		return out
	}
	return v
}

// PythonJS is what a new python-js app's configuration is made of. Its code
// lives in git, so the configuration holds only how the app runs and, for a
// draft, which branch of which repository it serves.
type PythonJS struct {
	Slug                    string
	AutoSuspendAfterSeconds int
	// Authorization is an Authorization block.
	Authorization map[string]any
	// Runtime, Secrets and Storage are left out of the body when empty:
	// the platform treats a present block as a setting.
	Runtime, Secrets, Storage map[string]any
	// Draft is nil for a production app, which gets a managed repository
	// instead.
	Draft *Draft
}

// Draft binds a new app to a branch of its production app's repository.
type Draft struct {
	ParentConfigID string
	Repository     string
	Branch         string
	// Token is git push access; the body holds it under a # key, so it must
	// be encrypted before the body is stored.
	Token keboola.Secret
}

// NewPythonJS is the configuration of a new python-js app.
func NewPythonJS(p PythonJS) Body {
	block := map[string]any{"slug": p.Slug}
	if p.Secrets != nil {
		block["secrets"] = p.Secrets
	}
	if d := p.Draft; d != nil {
		block["git"] = map[string]any{"repository": d.Repository, "username": gitUser, "#password": d.Token.Reveal(), "branch": d.Branch}
		block["isDraft"] = true
		block["parentConfigurationId"] = d.ParentConfigID
	}
	body := Body{
		"parameters":    map[string]any{"autoSuspendAfterSeconds": p.AutoSuspendAfterSeconds, "dataApp": block},
		"authorization": p.Authorization,
	}
	if p.Runtime != nil {
		body["runtime"] = p.Runtime
	}
	if len(p.Storage) > 0 {
		body["storage"] = p.Storage
	}
	return body
}

// SetGitBranch repoints the app to another branch of its repository; false
// when the body has no git binding to repoint (an app on a managed
// repository, whose branch the platform owns).
func (b Body) SetGitBranch(branch string) bool {
	git, _ := b.Block()["git"].(map[string]any)
	if git == nil {
		return false
	}
	git["branch"] = branch
	return true
}

// SetStorage replaces the storage block as CheckStorage returned it: nil
// keeps the body's, an empty block removes it (Keboola would store {} as
// [], which the UI's mapping editor cannot read).
func (b Body) SetStorage(storage map[string]any) {
	switch {
	case storage == nil:
	case len(storage) == 0:
		delete(b, "storage")
	default:
		b["storage"] = storage
	}
}

// WorkspaceSecret is the secret that names the workspace query_data and
// the app's own code read from, when the platform gives the app none.
const WorkspaceSecret = "WORKSPACE_ID"

// NeedsWorkspaceSecret tells whether an app has no way to reach data: no
// platform workspace (runtime.workspace) and no WorkspaceSecret. Apps
// created elsewhere may lack both; a body without parameters.dataApp is not
// one this package may extend.
func (b Body) NeedsWorkspaceSecret() bool {
	block := b.Block()
	if block == nil {
		return false
	}
	secrets, _ := block["secrets"].(map[string]any)
	if _, ok := secrets[WorkspaceSecret]; ok {
		return false
	}
	rt, _ := b["runtime"].(map[string]any)
	return rt["workspace"] == nil
}

// SetSecret adds or replaces one secret, keeping the others. The body must
// have parameters.dataApp (NeedsWorkspaceSecret checks it).
func (b Body) SetSecret(name string, value any) {
	block := b.Block()
	secrets, _ := block["secrets"].(map[string]any)
	if secrets == nil {
		secrets = map[string]any{}
		block["secrets"] = secrets
	}
	secrets[name] = value
}
