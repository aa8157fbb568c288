// Package headerauth authenticates requests by the HTTP headers the Python
// Keboola MCP server reads (keboola/mcp-server): a trusted gateway in front
// of `serve --auth headers`, or a client configured for the Python server on
// loopback, sends the user's Storage token and settings with every request.
//
//	X-StorageApi-Token      the Storage API token (also X-Storage-Api-Token,
//	                        X-Storage-Token, or Authorization: Bearer <token>)
//	X-Storage-Api-Url       the stack; must be on the --stack list [the first one]
//	X-Bearer-Token          optional: the Keboola OAuth access token of a
//	                        "Sign in with Keboola" session (the Python
//	                        server's bearer_token setting); sent as a Bearer
//	                        to the services that accept one
//	X-Branch-Id             a development branch; default, production, none,
//	                        null or empty mean the main branch
//	X-Workspace-Schema      the workspace query_data runs in
//	X-Read-Only-Mode        true, 1 or yes: read-only tools only
//	X-Allowed-Tools         comma-separated: only these tools
//	X-Disallowed-Tools      comma-separated: not these tools
//	X-Conversation-Id       the client's conversation, for the audit trail
//
// The token is verified with Keboola before the request goes on, through the
// same per-token cache as every other way in (keboola.VerifyToken), so a
// session costs one verification per cache period, not one per request. A
// bearer is verified too, and must belong to the Storage token's project:
// the Python server trusts it unchecked, but a pair that names two projects
// would have tools read from one and write to the other.
package headerauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/keboola-mcp/keboola-mcp/internal/access"
	"github.com/keboola-mcp/keboola-mcp/internal/keboola"
	"github.com/keboola-mcp/keboola-mcp/internal/login"
)

// Options configure the authenticator.
type Options struct {
	// Stacks are the stacks a request may name; the first is the default.
	Stacks *login.Allowlist
	// Keboola configures the clients that verify tokens.
	Keboola keboola.Options
	// Logger receives amendments and refusals (never a token); nil discards.
	Logger *slog.Logger
}

// New returns the header authenticator.
func New(o Options) access.Authenticator {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return access.AuthenticatorFunc(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, status, msg := o.authenticate(r)
			if status != 0 {
				if status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="keboola-mcp"`)
				}
				http.Error(w, msg, status)
				return
			}
			next.ServeHTTP(w, r.WithContext(access.With(r.Context(), a)))
		})
	})
}

// tokenHeaders are the header names the Python server accepts for the
// Storage token (its names, compared without case, dashes or underscores).
var tokenHeaders = []string{"X-StorageApi-Token", "X-Storage-Api-Token", "X-Storage-Token"}

// HeaderBearer carries a Keboola OAuth access token: the Python server reads
// its bearer_token setting from the X-<setting> header (config.py).
const HeaderBearer = "X-Bearer-Token"

// authenticate reads the headers into an Access, or says which status and
// message refuse the request.
func (o Options) authenticate(r *http.Request) (access.Access, int, string) {
	token := ""
	for _, h := range tokenHeaders {
		if token = strings.TrimSpace(r.Header.Get(h)); token != "" {
			break
		}
	}
	if token == "" {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = strings.TrimSpace(v)
		}
	}
	if token == "" {
		return access.Access{}, http.StatusUnauthorized,
			"unauthorized: send the Keboola Storage API token in the X-StorageApi-Token header (or as Authorization: Bearer <token>)"
	}
	stack := o.Stacks.Stacks()[0]
	if raw := firstHeader(r, "X-Storage-Api-Url", "X-StorageApi-Url"); raw != "" {
		n, amended, err := login.LenientStackURL(raw)
		if err != nil {
			return access.Access{}, http.StatusBadRequest, "bad X-Storage-Api-Url: " + err.Error()
		}
		if amended {
			o.Logger.Info("amended the X-Storage-Api-Url header", "given", raw, "used", n)
		}
		if _, ok := o.Stacks.Match(n); !ok {
			return access.Access{}, http.StatusForbidden, fmt.Sprintf("forbidden: the stack %s is not one this server serves (its --stack list: %s)",
				n, strings.Join(o.Stacks.Stacks(), ", "))
		}
		stack = n
	}
	branch := access.NormalizeBranchID(r.Header.Get("X-Branch-Id"))
	if branch != "" && strings.Trim(branch, "0123456789") != "" {
		return access.Access{}, http.StatusBadRequest, fmt.Sprintf("bad X-Branch-Id %q: a branch id is a number (or default for the main branch)", branch)
	}
	a := access.Access{
		Credentials: access.Credentials{
			StackURL:        stack,
			StorageToken:    access.Secret(token),
			BranchID:        branch,
			WorkspaceSchema: strings.TrimSpace(r.Header.Get("X-Workspace-Schema")),
		},
		ReadOnly:        isTrue(r.Header.Get("X-Read-Only-Mode")),
		AllowedTools:    toolList(r.Header.Get("X-Allowed-Tools")),
		DisallowedTools: toolList(r.Header.Get("X-Disallowed-Tools")),
		ConversationID:  strings.TrimSpace(r.Header.Get("X-Conversation-Id")),
	}
	info, err := keboola.VerifyToken(r.Context(), stack, a.Credentials.StorageToken, o.Keboola)
	if err != nil {
		return o.verifyRefusal(err, stack, "the Storage API token")
	}
	if bearer := strings.TrimSpace(r.Header.Get(HeaderBearer)); bearer != "" {
		a.Credentials.OAuthToken = access.Secret(bearer)
		c, err := keboola.New(a.Credentials, o.Keboola)
		if err != nil {
			return access.Access{}, http.StatusBadRequest, "bad " + HeaderBearer + ": " + err.Error()
		}
		member, err := c.VerifyToken(r.Context())
		if err != nil {
			return o.verifyRefusal(err, stack, "the OAuth access token in "+HeaderBearer)
		}
		if member.Owner.ID != info.Owner.ID {
			return access.Access{}, http.StatusUnauthorized, fmt.Sprintf("unauthorized: the OAuth access token in %s is for project %s, the Storage API token for project %s; send the pair of one sign-in",
				HeaderBearer, member.Owner.ID, info.Owner.ID)
		}
	}
	return a, 0, ""
}

// verifyRefusal answers a failed verification of what (a token) with stack.
func (o Options) verifyRefusal(err error, stack, what string) (access.Access, int, string) {
	switch {
	case errors.Is(err, keboola.ErrInvalidToken):
		return access.Access{}, http.StatusUnauthorized, "unauthorized: " + stack + " did not accept " + what + " (wrong project or stack, or expired)"
	case errors.Is(err, context.Canceled):
		return access.Access{}, http.StatusBadRequest, "the request was cancelled"
	default:
		o.Logger.Warn("header auth: token verification failed", "stack", stack, "err", err)
		return access.Access{}, http.StatusBadGateway, "cannot verify " + what + " with " + stack + " right now; try again"
	}
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// isTrue reads a boolean header as the Python server does.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes":
		return true
	}
	return false
}

// toolList parses a comma-separated tool list; nil when it names no tool,
// so an empty header restricts nothing (as in the Python server).
func toolList(v string) []string {
	var out []string
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
