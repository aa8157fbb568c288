package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store for several instances sharing one PostgreSQL
// database. Every transaction that changes a grant or anything issued from
// it locks the grant's row first (SELECT … FOR UPDATE), then the code or
// token rows: one lock order for all, so concurrent redemptions, rotations
// and revocations queue up behind each other instead of deadlocking, and a
// revocation that waited for a rotation also deletes what that rotation
// issued (each statement of a READ COMMITTED transaction sees what
// committed before it started).
type Postgres struct {
	pool *pgxpool.Pool
	opts Options
}

var _ Store = (*Postgres)(nil)

// pgMigrations are applied in order and recorded in schema_migrations;
// never edit one that has shipped, append a new one. There are no foreign
// keys: grants of metadata-document clients name clients that are not
// stored, and tokens are deleted with their grant explicitly.
var pgMigrations = []string{
	`CREATE TABLE clients (
		id text PRIMARY KEY,
		secret_hash bytea,
		metadata jsonb NOT NULL,
		created_at timestamptz NOT NULL
	);
	CREATE INDEX clients_created ON clients (created_at);
	CREATE TABLE grants (
		id text PRIMARY KEY,
		client_id text NOT NULL,
		scope text NOT NULL,
		resource text NOT NULL,
		sealed bytea NOT NULL,
		created_at timestamptz NOT NULL,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX grants_expires ON grants (expires_at);
	CREATE INDEX grants_client ON grants (client_id);
	CREATE TABLE codes (
		hash bytea PRIMARY KEY,
		grant_id text NOT NULL,
		client_id text NOT NULL,
		redirect_uri text NOT NULL,
		code_challenge text NOT NULL,
		resource text NOT NULL,
		scope text NOT NULL,
		wrapped_key bytea NOT NULL,
		expires_at timestamptz NOT NULL,
		used_at timestamptz
	);
	CREATE INDEX codes_expires ON codes (expires_at);
	CREATE TABLE access_tokens (
		hash bytea PRIMARY KEY,
		grant_id text NOT NULL,
		client_id text NOT NULL,
		scope text NOT NULL,
		resource text NOT NULL,
		wrapped_key bytea NOT NULL,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX access_grant ON access_tokens (grant_id);
	CREATE INDEX access_expires ON access_tokens (expires_at);
	CREATE TABLE refresh_tokens (
		hash bytea PRIMARY KEY,
		grant_id text NOT NULL,
		client_id text NOT NULL,
		scope text NOT NULL,
		resource text NOT NULL,
		wrapped_key bytea NOT NULL,
		expires_at timestamptz NOT NULL,
		rotated_at timestamptz,
		successor bytea
	);
	CREATE INDEX refresh_grant ON refresh_tokens (grant_id);
	CREATE INDEX refresh_expires ON refresh_tokens (expires_at);
	CREATE TABLE pending (
		hash bytea PRIMARY KEY,
		binding bytea NOT NULL,
		payload bytea NOT NULL,
		expires_at timestamptz NOT NULL
	);
	CREATE INDEX pending_expires ON pending (expires_at);`,
	// The successor's hash lets a retry within the grace window see whether
	// the successor was used (then the retry is a stolen copy).
	`ALTER TABLE refresh_tokens ADD COLUMN successor_hash bytea`,
}

// pgMigrationLock is the advisory lock key under which replicas starting
// together apply migrations one at a time.
const pgMigrationLock = 0x6b6d6370 // "kmcp"

// OpenPostgres connects to the database named by dsn (a postgres:// URL or
// a key=value string; pool_max_conns and the other pgxpool parameters are
// honoured) and applies pending migrations.
func OpenPostgres(ctx context.Context, dsn string, o Options) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, redactDSN(fmt.Errorf("store: postgres DSN: %w", err), dsn)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "keboola-mcp"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redactDSN(fmt.Errorf("store: postgres: %w", err), dsn)
	}
	p := &Postgres{pool: pool, opts: o}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, redactDSN(fmt.Errorf("store: postgres: %w", err), dsn)
	}
	return p, nil
}

func (p *Postgres) migrate(ctx context.Context) error {
	return p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgMigrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(pgMigrations) {
			return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", have, len(pgMigrations))
		}
		for v := have + 1; v <= len(pgMigrations); v++ {
			if _, err := tx.Exec(ctx, pgMigrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the connection pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// tx runs fn in a transaction bounded by the store's timeout. fn returning
// errReplayCommit commits (a revocation on detecting a replay must
// persist) and still reports the replay.
func (p *Postgres) tx(ctx context.Context, fn func(context.Context, pgx.Tx) error) error {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	err = fn(ctx, tx)
	if err != nil && !errors.Is(err, errReplayCommit) {
		tx.Rollback(ctx)
		return err
	}
	if cerr := tx.Commit(ctx); cerr != nil {
		return cerr
	}
	return err
}

func pgUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateClient implements Store.
func (p *Postgres) CreateClient(ctx context.Context, c *Client) error {
	meta, err := json.Marshal(clientMetadata{c.RedirectURIs, c.Name, c.AuthMethod, c.GrantTypes, c.Scope})
	if err != nil {
		return err
	}
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	_, err = p.pool.Exec(ctx, `INSERT INTO clients (id, secret_hash, metadata, created_at) VALUES ($1, $2, $3, $4)`, c.ID, c.SecretHash, meta, c.CreatedAt)
	return insertError(err, pgUnique, "store client")
}

// Client implements Store.
func (p *Postgres) Client(ctx context.Context, id string) (*Client, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	c := Client{ID: id}
	var meta []byte
	err := p.pool.QueryRow(ctx, `SELECT secret_hash, metadata, created_at FROM clients WHERE id = $1`, id).Scan(&c.SecretHash, &meta, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	var m clientMetadata
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	c.RedirectURIs, c.Name, c.AuthMethod, c.GrantTypes, c.Scope = m.RedirectURIs, m.Name, m.AuthMethod, m.GrantTypes, m.Scope
	return &c, nil
}

// CreateGrant implements Store.
func (p *Postgres) CreateGrant(ctx context.Context, g *Grant, c *Code) error {
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO grants (id, client_id, scope, resource, sealed, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			g.ID, g.ClientID, g.Scope, g.Resource, g.Sealed, g.CreatedAt, g.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO codes (hash, grant_id, client_id, redirect_uri, code_challenge, resource, scope, wrapped_key, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.Hash, c.GrantID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Resource, c.Scope, c.WrappedKey, c.ExpiresAt)
		return err
	})
	return insertError(err, pgUnique, "store grant")
}

// lockGrant takes the row lock of a grant, the first lock of every
// transaction that changes a grant or what was issued from it. It reports
// whether the grant exists.
func lockGrant(ctx context.Context, tx pgx.Tx, id string) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM grants WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ConsumeCode implements Store.
func (p *Postgres) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*Code, error) {
	c := Code{Hash: hash}
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT grant_id FROM codes WHERE hash = $1`, hash).Scan(&c.GrantID); errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if _, err := lockGrant(ctx, tx, c.GrantID); err != nil {
			return err
		}
		// The code's own row lock serialises redemptions even when the
		// grant is already gone.
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT client_id, redirect_uri, code_challenge, resource, scope, wrapped_key, expires_at, used_at FROM codes WHERE hash = $1 FOR UPDATE`, hash).
			Scan(&c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.Resource, &c.Scope, &c.WrappedKey, &c.ExpiresAt, &used)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if used != nil {
			// A second redemption means the code leaked: end everything
			// the first redemption issued.
			if err := pgRevokeGrant(ctx, tx, c.GrantID); err != nil {
				return err
			}
			return errReplayCommit
		}
		if !now.Before(c.ExpiresAt) {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE codes SET used_at = $1 WHERE hash = $2`, now, hash)
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

// IssueTokens implements Store.
func (p *Postgres) IssueTokens(ctx context.Context, access, refresh *Token, grantExpires time.Time) error {
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE grants SET expires_at = $1 WHERE id = $2`, grantExpires, access.GrantID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return pgInsertTokens(ctx, tx, access, refresh)
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store tokens: %w", err)
	}
	return nil
}

// pgInsertTokens stores an access and a refresh token in one round trip.
func pgInsertTokens(ctx context.Context, tx pgx.Tx, access, refresh *Token) error {
	const cols = `(hash, grant_id, client_id, scope, resource, wrapped_key, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	b := &pgx.Batch{}
	for _, q := range []struct {
		table string
		t     *Token
	}{{"access_tokens", access}, {"refresh_tokens", refresh}} {
		b.Queue(`INSERT INTO `+q.table+` `+cols, q.t.Hash, q.t.GrantID, q.t.ClientID, q.t.Scope, q.t.Resource, q.t.WrappedKey, q.t.ExpiresAt)
	}
	return tx.SendBatch(ctx, b).Close()
}

// Grant implements Store.
func (p *Postgres) Grant(ctx context.Context, id string) (*Grant, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	g := Grant{ID: id}
	err := p.pool.QueryRow(ctx, `SELECT client_id, scope, resource, sealed, created_at, expires_at FROM grants WHERE id = $1`, id).
		Scan(&g.ClientID, &g.Scope, &g.Resource, &g.Sealed, &g.CreatedAt, &g.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load grant: %w", err)
	}
	return &g, nil
}

// UpdateGrantSealed implements Store.
func (p *Postgres) UpdateGrantSealed(ctx context.Context, id string, sealed []byte) error {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	tag, err := p.pool.Exec(ctx, `UPDATE grants SET sealed = $1 WHERE id = $2`, sealed, id)
	if err != nil {
		return fmt.Errorf("update grant: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// RevokeGrant implements Store.
func (p *Postgres) RevokeGrant(ctx context.Context, id string) error {
	if err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return pgRevokeGrant(ctx, tx, id) }); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// pgRevokeGrant deletes the grant row first: that takes (or waits for) its
// lock, and the token deletes that follow then see every token a
// transaction holding the lock had committed.
func pgRevokeGrant(ctx context.Context, tx pgx.Tx, id string) error {
	for _, q := range []string{
		`DELETE FROM grants WHERE id = $1`,
		`DELETE FROM access_tokens WHERE grant_id = $1`,
		`DELETE FROM refresh_tokens WHERE grant_id = $1`,
	} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// AccessToken implements Store.
func (p *Postgres) AccessToken(ctx context.Context, hash []byte, now time.Time) (*Token, *Grant, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	t := Token{Hash: hash}
	var g Grant
	err := p.pool.QueryRow(ctx, `SELECT a.grant_id, a.client_id, a.scope, a.resource, a.wrapped_key, a.expires_at,
		g.client_id, g.scope, g.resource, g.sealed, g.created_at, g.expires_at
		FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = $1`, hash).
		Scan(&t.GrantID, &t.ClientID, &t.Scope, &t.Resource, &t.WrappedKey, &t.ExpiresAt,
			&g.ClientID, &g.Scope, &g.Resource, &g.Sealed, &g.CreatedAt, &g.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load access token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, nil, ErrNotFound
	}
	g.ID = t.GrantID
	return &t, &g, nil
}

// RefreshToken implements Store.
func (p *Postgres) RefreshToken(ctx context.Context, hash []byte, now time.Time) (*Token, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	t := Token{Hash: hash}
	err := p.pool.QueryRow(ctx, `SELECT grant_id, client_id, scope, resource, wrapped_key, expires_at FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.GrantID, &t.ClientID, &t.Scope, &t.Resource, &t.WrappedKey, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &t, nil
}

// RotateRefresh implements Store.
func (p *Postgres) RotateRefresh(ctx context.Context, r Rotation) ([]byte, error) {
	var successor []byte
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		// Lock the grant through the token: racing rotations of one
		// token (and revocations of its grant) wait here for each other.
		var grantID string
		err := tx.QueryRow(ctx, `SELECT g.id FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id WHERE r.hash = $1 FOR UPDATE OF g`, r.OldHash).Scan(&grantID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var (
			exp       time.Time
			rotatedAt *time.Time
			stored    []byte
			nextHash  []byte
		)
		err = tx.QueryRow(ctx, `SELECT expires_at, rotated_at, successor, successor_hash FROM refresh_tokens WHERE hash = $1 FOR UPDATE`, r.OldHash).Scan(&exp, &rotatedAt, &stored, &nextHash)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !r.Now.Before(exp) {
			return ErrNotFound
		}
		if rotatedAt != nil {
			if r.Now.Sub(*rotatedAt) <= r.Grace && stored != nil {
				unused, err := pgUnrotated(ctx, tx, nextHash)
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
			if err := pgRevokeGrant(ctx, tx, grantID); err != nil {
				return err
			}
			return errReplayCommit
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE refresh_tokens SET rotated_at = $1, successor = $2, successor_hash = $3 WHERE hash = $4`, r.Now, r.Successor, r.Refresh.Hash, r.OldHash)
		b.Queue(`UPDATE grants SET expires_at = GREATEST(expires_at, $1) WHERE id = $2`, r.GrantExpires, grantID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return pgInsertTokens(ctx, tx, &r.Access, &r.Refresh)
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

// pgUnrotated reports whether the refresh token hash exists and was never
// rotated. The grant row lock held by the caller keeps the answer stable. A
// nil hash (a rotation recorded before successors were tracked) counts as
// used: the grace answer needs proof that it is safe.
func pgUnrotated(ctx context.Context, tx pgx.Tx, hash []byte) (bool, error) {
	if hash == nil {
		return false, nil
	}
	var rotatedAt *time.Time
	err := tx.QueryRow(ctx, `SELECT rotated_at FROM refresh_tokens WHERE hash = $1`, hash).Scan(&rotatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil && rotatedAt == nil, err
}

// RevokeToken implements Store.
func (p *Postgres) RevokeToken(ctx context.Context, hash []byte) error {
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var grantID string
		err := tx.QueryRow(ctx, `SELECT grant_id FROM refresh_tokens WHERE hash = $1`, hash).Scan(&grantID)
		if err == nil {
			return pgRevokeGrant(ctx, tx, grantID)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM access_tokens WHERE hash = $1`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// SavePending implements Store.
func (p *Postgres) SavePending(ctx context.Context, pd *Pending) error {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	_, err := p.pool.Exec(ctx, `INSERT INTO pending (hash, binding, payload, expires_at) VALUES ($1, $2, $3, $4)`, pd.Hash, pd.Binding, pd.Payload, pd.ExpiresAt)
	return insertError(err, pgUnique, "store pending login")
}

// ConsumePending implements Store.
func (p *Postgres) ConsumePending(ctx context.Context, hash, binding []byte, now time.Time) (*Pending, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	pd := Pending{Hash: hash}
	err := p.pool.QueryRow(ctx, `DELETE FROM pending WHERE hash = $1 AND binding = $2 RETURNING binding, payload, expires_at`, hash, binding).
		Scan(&pd.Binding, &pd.Payload, &pd.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		var other bool
		if err := p.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pending WHERE hash = $1 AND expires_at > $2)`, hash, now).Scan(&other); err != nil {
			return nil, fmt.Errorf("consume pending login: %w", err)
		}
		if other {
			return nil, ErrWrongBrowser
		}
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("consume pending login: %w", err)
	}
	if !now.Before(pd.ExpiresAt) {
		return nil, ErrNotFound
	}
	return &pd, nil
}

// Sweep implements Store. Each statement commits on its own: a sweep is
// not atomic, and short statements hold row locks for the least time next
// to live traffic. Superseded refresh tokens are kept until their own
// expiry so that reuse is detected for as long as the token could be used.
func (p *Postgres) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM access_tokens WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM refresh_tokens WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM codes WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM pending WHERE expires_at <= $1`, []any{now}},
		{`DELETE FROM grants WHERE expires_at <= $1`, []any{now}},
		// See ClientIdleLifetime.
		{`DELETE FROM clients c WHERE created_at <= $1 AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.client_id = c.id)`, []any{now.Add(-ClientIdleLifetime)}},
		// Tokens of grants that ended are useless.
		{`DELETE FROM access_tokens t WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = t.grant_id)`, nil},
		{`DELETE FROM refresh_tokens t WHERE NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = t.grant_id)`, nil},
	} {
		n, err := p.exec(ctx, q.sql, q.args...)
		if err != nil {
			return total, fmt.Errorf("sweep: %w", err)
		}
		total += n
	}
	return total, nil
}

func (p *Postgres) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	tag, err := p.pool.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// Stats implements Store.
func (p *Postgres) Stats(ctx context.Context) (Stats, error) {
	ctx, cancel := p.opts.bound(ctx)
	defer cancel()
	var st Stats
	err := p.pool.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM clients), (SELECT COUNT(*) FROM grants), (SELECT COUNT(*) FROM codes),
		(SELECT COUNT(*) FROM access_tokens), (SELECT COUNT(*) FROM refresh_tokens), (SELECT COUNT(*) FROM pending)`).
		Scan(&st.Clients, &st.Grants, &st.Codes, &st.AccessTokens, &st.RefreshTokens, &st.Pending)
	if err != nil {
		return st, fmt.Errorf("store stats: %w", err)
	}
	return st, nil
}
