package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Options tunes the network stores (Postgres, Redis); the zero value is a
// sensible default. Pool sizes and connect timeouts are set in the DSN
// itself (Postgres: pool_max_conns, connect_timeout; Redis: pool_size,
// dial_timeout).
type Options struct {
	// Timeout bounds every store call, so a stalled database turns into an
	// error instead of a hung request. Default 5s.
	Timeout time.Duration
}

const defaultTimeout = 5 * time.Second

func (o Options) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := o.Timeout
	if d <= 0 {
		d = defaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// Open opens the store named by dsn:
//
//	sqlite:PATH                          one file, one instance (the default)
//	postgres://user:pass@host/db?…       shared by several instances (postgresql:// too)
//	redis://user:pass@host:6379/0?…      shared by several instances (rediss:// for TLS)
//
// Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string, o Options) (Store, error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok {
		return nil, errors.New("store: the DSN has no scheme; use sqlite:PATH, postgres://… or redis://…")
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest == "" {
			return nil, errors.New("store: sqlite: needs a file path, e.g. sqlite:./keboola-mcp.db")
		}
		return OpenSQLite(ctx, rest)
	case "postgres", "postgresql":
		s, err := OpenPostgres(ctx, dsn, o)
		return s, redactDSN(err, dsn)
	case "redis", "rediss":
		s, err := OpenRedis(ctx, dsn, o)
		return s, redactDSN(err, dsn)
	}
	if !validScheme.MatchString(scheme) {
		// Not a scheme at all: the text before the colon may be anything,
		// a password included, so it is not repeated.
		return nil, errors.New("store: the DSN does not start with a scheme; use sqlite:PATH, postgres://… or redis://…")
	}
	return nil, fmt.Errorf("store: unknown scheme %q; use sqlite:PATH, postgres://… or redis://…", scheme)
}

var validScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]{0,30}$`)

// parseDSN parses a URL-form DSN. url.Parse repeats its whole input in its
// errors, password included, so only the reason is kept.
func parseDSN(dsn string) (*url.URL, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, redactDSN(fmt.Errorf("not a valid URL: %w", err), dsn)
	}
	return u, nil
}

// redactDSN returns err with every occurrence of the DSN's password (in
// the userinfo or a password= parameter) replaced. Drivers are careful,
// but a store error ends up in logs, so this does not rely on them.
func redactDSN(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var secrets []string
	if i := strings.Index(dsn, "://"); i >= 0 {
		// The userinfo, found without url.Parse so that it works on DSNs
		// url.Parse refuses.
		authority := dsn[i+3:]
		if j := strings.IndexAny(authority, "/?#"); j >= 0 {
			authority = authority[:j]
		}
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok && pw != "" {
				secrets = append(secrets, pw)
				if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
					secrets = append(secrets, dec)
				}
			}
		}
	}
	if u, perr := url.Parse(dsn); perr == nil {
		for _, k := range []string{"password", "pass"} {
			if pw := u.Query().Get(k); pw != "" {
				secrets = append(secrets, pw)
			}
		}
	}
	clean := msg
	for _, s := range secrets {
		clean = strings.ReplaceAll(clean, s, "xxxxx")
	}
	if clean == msg {
		return err
	}
	return redactedError{msg: clean, err: err}
}

// redactedError keeps errors.Is working for the sentinels and context
// errors callers branch on while printing only the cleaned message.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }

func (e redactedError) Is(target error) bool { return errors.Is(e.err, target) }
