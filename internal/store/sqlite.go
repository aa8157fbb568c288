package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"
)

// SQLite is the default Store: one file in WAL mode, safe for one process
// with many goroutines. Write transactions take the database lock up front
// (BEGIN IMMEDIATE), so two concurrent rotations of the same refresh token
// are serialised and the second one sees the first one's result.
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// migrations are applied in order and recorded in schema_migrations; never
// edit one that has shipped, append a new one.
var migrations = []string{
	`CREATE TABLE clients (
		id TEXT PRIMARY KEY,
		secret_hash BLOB,
		metadata TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE grants (
		id TEXT PRIMARY KEY,
		client_id TEXT NOT NULL,
		scope TEXT NOT NULL,
		resource TEXT NOT NULL,
		sealed BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX grants_expires ON grants(expires_at);
	CREATE TABLE codes (
		hash BLOB PRIMARY KEY,
		grant_id TEXT NOT NULL,
		client_id TEXT NOT NULL,
		redirect_uri TEXT NOT NULL,
		code_challenge TEXT NOT NULL,
		resource TEXT NOT NULL,
		scope TEXT NOT NULL,
		wrapped_key BLOB NOT NULL,
		expires_at INTEGER NOT NULL,
		used_at INTEGER
	);
	CREATE TABLE access_tokens (
		hash BLOB PRIMARY KEY,
		grant_id TEXT NOT NULL,
		client_id TEXT NOT NULL,
		scope TEXT NOT NULL,
		resource TEXT NOT NULL,
		wrapped_key BLOB NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX access_grant ON access_tokens(grant_id);
	CREATE TABLE refresh_tokens (
		hash BLOB PRIMARY KEY,
		grant_id TEXT NOT NULL,
		client_id TEXT NOT NULL,
		scope TEXT NOT NULL,
		resource TEXT NOT NULL,
		wrapped_key BLOB NOT NULL,
		expires_at INTEGER NOT NULL,
		rotated_at INTEGER,
		successor BLOB
	);
	CREATE INDEX refresh_grant ON refresh_tokens(grant_id);
	CREATE TABLE pending (
		hash BLOB PRIMARY KEY,
		binding BLOB NOT NULL,
		payload BLOB NOT NULL,
		expires_at INTEGER NOT NULL
	);`,
	// The successor's hash lets a retry within the grace window see whether
	// the successor was used (then the retry is a stolen copy).
	`ALTER TABLE refresh_tokens ADD COLUMN successor_hash BLOB`,
}

// OpenSQLite opens (creating if needed) the database at path and applies
// pending migrations. ":memory:" gives a private in-memory database.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	memory := path == ":memory:"
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		if err := ownerOnly(path); err != nil {
			return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate database.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(8)
	}
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return s, nil
}

// ownerOnly creates the database file readable by its owner only, and
// tightens a file (and WAL companions) an earlier version left readable by
// others. SQLite gives the -wal and -shm files it creates the database
// file's mode, so the main file's mode is what counts.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("restricting %s to its owner: %w", p, err)
			}
		}
	}
	return nil
}

func (s *SQLite) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", have, len(migrations))
		}
		for v := have + 1; v <= len(migrations); v++ {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?)`, v, time.Now().Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = fn(tx)
	if err != nil && !errors.Is(err, errReplayCommit) {
		tx.Rollback()
		return err
	}
	if cerr := tx.Commit(); cerr != nil {
		return cerr
	}
	return err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v) }

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

type clientMetadata struct {
	RedirectURIs []string `json:"redirect_uris"`
	Name         string   `json:"client_name,omitempty"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	GrantTypes   []string `json:"grant_types,omitempty"`
	Scope        string   `json:"scope,omitempty"`
}

// CreateClient implements Store.
func (s *SQLite) CreateClient(ctx context.Context, c *Client) error {
	meta, err := json.Marshal(clientMetadata{c.RedirectURIs, c.Name, c.AuthMethod, c.GrantTypes, c.Scope})
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO clients VALUES (?, ?, ?, ?)`, c.ID, c.SecretHash, string(meta), ms(c.CreatedAt))
	return insertError(err, isUnique, "store client")
}

// Client implements Store.
func (s *SQLite) Client(ctx context.Context, id string) (*Client, error) {
	var (
		c       = Client{ID: id}
		meta    string
		created int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT secret_hash, metadata, created_at FROM clients WHERE id = ?`, id).Scan(&c.SecretHash, &meta, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	var m clientMetadata
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	c.RedirectURIs, c.Name, c.AuthMethod, c.GrantTypes, c.Scope = m.RedirectURIs, m.Name, m.AuthMethod, m.GrantTypes, m.Scope
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// CreateGrant implements Store.
func (s *SQLite) CreateGrant(ctx context.Context, g *Grant, c *Code) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO grants VALUES (?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.ClientID, g.Scope, g.Resource, g.Sealed, ms(g.CreatedAt), ms(g.ExpiresAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			c.Hash, c.GrantID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Resource, c.Scope, c.WrappedKey, ms(c.ExpiresAt))
		return err
	})
	return insertError(err, isUnique, "store grant")
}

// ConsumeCode implements Store.
func (s *SQLite) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*Code, error) {
	var c Code
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var (
			exp  int64
			used sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT grant_id, client_id, redirect_uri, code_challenge, resource, scope, wrapped_key, expires_at, used_at FROM codes WHERE hash = ?`, hash).
			Scan(&c.GrantID, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.Resource, &c.Scope, &c.WrappedKey, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		c.Hash, c.ExpiresAt = hash, fromMS(exp)
		if used.Valid {
			// A second redemption means the code leaked: end everything
			// the first redemption issued.
			if err := revokeGrant(ctx, tx, c.GrantID); err != nil {
				return err
			}
			return errReplayCommit
		}
		if !now.Before(c.ExpiresAt) {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `UPDATE codes SET used_at = ? WHERE hash = ?`, ms(now), hash)
		return err
	})
	switch {
	case errors.Is(err, errReplayCommit):
		return nil, ErrCodeReplayed
	case errors.Is(err, ErrNotFound):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("consume code: %w", err)
	}
	return &c, nil
}

// errReplayCommit tells tx to commit (the revocation done on detecting a
// replay must persist) and still report the replay to the caller.
var errReplayCommit = errors.New("replay")

// IssueTokens implements Store.
func (s *SQLite) IssueTokens(ctx context.Context, access, refresh *Token, grantExpires time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE grants SET expires_at = ? WHERE id = ?`, ms(grantExpires), access.GrantID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := insertToken(ctx, tx, "access_tokens", access); err != nil {
			return err
		}
		return insertToken(ctx, tx, "refresh_tokens", refresh)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store tokens: %w", err)
	}
	return nil
}

func insertToken(ctx context.Context, tx *sql.Tx, table string, t *Token) error {
	cols := "hash, grant_id, client_id, scope, resource, wrapped_key, expires_at"
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.GrantID, t.ClientID, t.Scope, t.Resource, t.WrappedKey, ms(t.ExpiresAt))
	return err
}

// Grant implements Store.
func (s *SQLite) Grant(ctx context.Context, id string) (*Grant, error) {
	g := Grant{ID: id}
	var created, exp int64
	err := s.db.QueryRowContext(ctx, `SELECT client_id, scope, resource, sealed, created_at, expires_at FROM grants WHERE id = ?`, id).
		Scan(&g.ClientID, &g.Scope, &g.Resource, &g.Sealed, &created, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load grant: %w", err)
	}
	g.CreatedAt, g.ExpiresAt = fromMS(created), fromMS(exp)
	return &g, nil
}

// UpdateGrantSealed implements Store.
func (s *SQLite) UpdateGrantSealed(ctx context.Context, id string, sealed []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE grants SET sealed = ? WHERE id = ?`, sealed, id)
	if err != nil {
		return fmt.Errorf("update grant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RevokeGrant implements Store.
func (s *SQLite) RevokeGrant(ctx context.Context, id string) error {
	if err := s.tx(ctx, func(tx *sql.Tx) error { return revokeGrant(ctx, tx, id) }); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

func revokeGrant(ctx context.Context, tx *sql.Tx, id string) error {
	for _, q := range []string{
		`DELETE FROM access_tokens WHERE grant_id = ?`,
		`DELETE FROM refresh_tokens WHERE grant_id = ?`,
		`DELETE FROM grants WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// AccessToken implements Store.
func (s *SQLite) AccessToken(ctx context.Context, hash []byte, now time.Time) (*Token, *Grant, error) {
	t := Token{Hash: hash}
	var g Grant
	var exp, gCreated, gExp int64
	err := s.db.QueryRowContext(ctx, `SELECT a.grant_id, a.client_id, a.scope, a.resource, a.wrapped_key, a.expires_at,
		g.client_id, g.scope, g.resource, g.sealed, g.created_at, g.expires_at
		FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = ?`, hash).
		Scan(&t.GrantID, &t.ClientID, &t.Scope, &t.Resource, &t.WrappedKey, &exp,
			&g.ClientID, &g.Scope, &g.Resource, &g.Sealed, &gCreated, &gExp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load access token: %w", err)
	}
	t.ExpiresAt = fromMS(exp)
	if !now.Before(t.ExpiresAt) {
		return nil, nil, ErrNotFound
	}
	g.ID, g.CreatedAt, g.ExpiresAt = t.GrantID, fromMS(gCreated), fromMS(gExp)
	return &t, &g, nil
}

// RefreshToken implements Store.
func (s *SQLite) RefreshToken(ctx context.Context, hash []byte, now time.Time) (*Token, error) {
	t := Token{Hash: hash}
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT grant_id, client_id, scope, resource, wrapped_key, expires_at FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&t.GrantID, &t.ClientID, &t.Scope, &t.Resource, &t.WrappedKey, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	t.ExpiresAt = fromMS(exp)
	if !now.Before(t.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &t, nil
}

// RotateRefresh implements Store.
func (s *SQLite) RotateRefresh(ctx context.Context, r Rotation) ([]byte, error) {
	var successor []byte
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var (
			grantID   string
			exp       int64
			rotatedAt sql.NullInt64
			stored    []byte
			nextHash  []byte
		)
		err := tx.QueryRowContext(ctx, `SELECT grant_id, expires_at, rotated_at, successor, successor_hash FROM refresh_tokens WHERE hash = ?`, r.OldHash).
			Scan(&grantID, &exp, &rotatedAt, &stored, &nextHash)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !r.Now.Before(fromMS(exp)) {
			return ErrNotFound
		}
		if rotatedAt.Valid {
			if r.Now.Sub(fromMS(rotatedAt.Int64)) <= r.Grace && stored != nil {
				unused, err := sqliteUnrotated(ctx, tx, nextHash)
				if err != nil {
					return err
				}
				if unused {
					successor = stored
					return nil
				}
			}
			// Reuse of a superseded token after the window or after its
			// successor was used: someone else holds a copy.
			if err := revokeGrant(ctx, tx, grantID); err != nil {
				return err
			}
			return errReplayCommit
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ?, successor = ?, successor_hash = ? WHERE hash = ?`, ms(r.Now), r.Successor, r.Refresh.Hash, r.OldHash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE grants SET expires_at = MAX(expires_at, ?) WHERE id = ?`, ms(r.GrantExpires), grantID); err != nil {
			return err
		}
		if err := insertToken(ctx, tx, "access_tokens", &r.Access); err != nil {
			return err
		}
		return insertToken(ctx, tx, "refresh_tokens", &r.Refresh)
	})
	switch {
	case errors.Is(err, errReplayCommit):
		return nil, ErrRefreshReused
	case errors.Is(err, ErrNotFound):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	return successor, nil
}

// sqliteUnrotated reports whether the refresh token hash exists and was
// never rotated. A nil hash (a rotation recorded before successors were
// tracked) counts as used: the grace answer needs proof that it is safe.
func sqliteUnrotated(ctx context.Context, tx *sql.Tx, hash []byte) (bool, error) {
	if hash == nil {
		return false, nil
	}
	var rotatedAt sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT rotated_at FROM refresh_tokens WHERE hash = ?`, hash).Scan(&rotatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && !rotatedAt.Valid, err
}

// RevokeToken implements Store.
func (s *SQLite) RevokeToken(ctx context.Context, hash []byte) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var grantID string
		err := tx.QueryRowContext(ctx, `SELECT grant_id FROM refresh_tokens WHERE hash = ?`, hash).Scan(&grantID)
		if err == nil {
			return revokeGrant(ctx, tx, grantID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE hash = ?`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// SavePending implements Store.
func (s *SQLite) SavePending(ctx context.Context, p *Pending) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pending VALUES (?, ?, ?, ?)`, p.Hash, p.Binding, p.Payload, ms(p.ExpiresAt))
	return insertError(err, isUnique, "store pending login")
}

// ConsumePending implements Store.
func (s *SQLite) ConsumePending(ctx context.Context, hash, binding []byte, now time.Time) (*Pending, error) {
	p := Pending{Hash: hash}
	var exp int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM pending WHERE hash = ? AND binding = ? RETURNING binding, payload, expires_at`, hash, binding).
		Scan(&p.Binding, &p.Payload, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pending WHERE hash = ? AND expires_at > ?`, hash, ms(now)).Scan(&n); err != nil {
			return nil, fmt.Errorf("consume pending login: %w", err)
		}
		if n > 0 {
			return nil, ErrWrongBrowser
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consume pending login: %w", err)
	}
	p.ExpiresAt = fromMS(exp)
	if !now.Before(p.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &p, nil
}

// ClientIdleLifetime is how long a registered client without any grant is
// kept.
const ClientIdleLifetime = 90 * 24 * time.Hour

// Sweep implements Store. Superseded refresh tokens are kept until their own
// expiry so that reuse is detected for as long as the token could be used.
func (s *SQLite) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t := ms(now)
		for _, q := range []string{
			`DELETE FROM access_tokens WHERE expires_at <= ?`,
			`DELETE FROM refresh_tokens WHERE expires_at <= ?`,
			`DELETE FROM codes WHERE expires_at <= ?`,
			`DELETE FROM pending WHERE expires_at <= ?`,
			`DELETE FROM grants WHERE expires_at <= ?`,
		} {
			res, err := tx.ExecContext(ctx, q, t)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		// Dynamically registered clients are created on every fresh
		// connection by some clients; drop those that never held a grant
		// for a long time. A client that comes back is told invalid_client
		// and registers again.
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE created_at <= ? AND id NOT IN (SELECT client_id FROM grants)`, ms(now.Add(-ClientIdleLifetime)))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		total += n
		// Tokens of grants that ended are useless; remove them too.
		for _, q := range []string{
			`DELETE FROM access_tokens WHERE grant_id NOT IN (SELECT id FROM grants)`,
			`DELETE FROM refresh_tokens WHERE grant_id NOT IN (SELECT id FROM grants)`,
		} {
			res, err := tx.ExecContext(ctx, q)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	return total, nil
}

// Stats implements Store.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM clients), (SELECT COUNT(*) FROM grants), (SELECT COUNT(*) FROM codes),
		(SELECT COUNT(*) FROM access_tokens), (SELECT COUNT(*) FROM refresh_tokens), (SELECT COUNT(*) FROM pending)`).
		Scan(&st.Clients, &st.Grants, &st.Codes, &st.AccessTokens, &st.RefreshTokens, &st.Pending)
	if err != nil {
		return st, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}
