package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store for several instances sharing one Redis server
// (standalone, or a primary behind a failover proxy; Redis Cluster is not
// supported because the scripts touch keys they derive).
//
// Every operation that reads and writes is one Lua script (EVALSHA, falling
// back to EVAL when the server lost its script cache), so Redis runs it
// without interleaving any other client: that is what makes a code single
// use and a rotation happen once. Scripts check everything before their
// first write, because Redis does not roll a script back.
//
// Keys, under the prefix (default "kmcp:"):
//
//	c:ID        client (JSON)             cg:ID    set of the client's grant ids
//	g:ID        grant (hash)              gt:ID    set of the grant's tokens ("a:HEX", "r:HEX")
//	k:HEX       code (hash)               p:HEX    pending upstream state (hash)
//	a:HEX       access token (hash)       r:HEX    refresh token (hash)
//	ix:KIND     sorted set of one kind's records by expiry (clients by creation)
//
// HEX is the hex SHA-256 stored for a token, code or state. Every key has a
// TTL: a record's own expiry plus a minute of slack for clock skew between
// replicas, and a key that something refers to (grant, client, their sets,
// the indexes) is extended to outlive whatever refers to it, so a
// superseded refresh token finds its grant until the token itself expires.
// Lookups are always by key; the sorted sets serve Sweep and Stats only,
// which keep the same meaning as in the SQL stores (a record counts until
// swept, and Sweep decides by its now argument, not by Redis's clock).
type Redis struct {
	rdb    *redis.Client
	prefix string
	opts   Options
}

var _ Store = (*Redis)(nil)

// DefaultRedisPrefix is put before every key unless the DSN sets
// key_prefix.
const DefaultRedisPrefix = "kmcp:"

// sweepBatch is how many records one Sweep script handles, so that a
// large backlog never blocks Redis for long.
const sweepBatch = 500

// OpenRedis connects to the Redis server named by dsn
// (redis://[user:password@]host:port/db, rediss:// for TLS; go-redis URL
// options such as pool_size and dial_timeout are honoured, and key_prefix
// sets the prefix of every key) and checks that it answers.
func OpenRedis(ctx context.Context, dsn string, o Options) (*Redis, error) {
	u, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: redis DSN: %w", err)
	}
	q := u.Query()
	prefix := DefaultRedisPrefix
	if q.Has("key_prefix") {
		prefix = q.Get("key_prefix")
		if prefix == "" || len(prefix) > 64 || strings.ContainsAny(prefix, " \t\r\n") {
			return nil, errors.New("store: redis DSN: key_prefix must be 1 to 64 characters without spaces")
		}
		q.Del("key_prefix")
		u.RawQuery = q.Encode()
	}
	ro, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, redactDSN(fmt.Errorf("store: redis DSN: %w", err), dsn)
	}
	ro.ContextTimeoutEnabled = true
	r := &Redis{rdb: redis.NewClient(ro), prefix: prefix, opts: o}
	ctx, cancel := o.bound(ctx)
	defer cancel()
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		r.rdb.Close()
		return nil, redactDSN(fmt.Errorf("store: redis at %s: %w", ro.Addr, err), dsn)
	}
	return r, nil
}

// Close closes the connection pool.
func (r *Redis) Close() error { return r.rdb.Close() }

// luaPrelude is shared by every script: ARGV[1] is the key prefix and
// ARGV[2] the caller's wall clock in milliseconds, from which record
// lifetimes become relative TTLs (immune to skew between the replica's
// and Redis's clocks).
const luaPrelude = `
local P = ARGV[1]
local WALL = tonumber(ARGV[2])
local SLACK = 60000

local function ttl(exp)
	local d = exp - WALL
	if d < 0 then d = 0 end
	return d + SLACK
end

-- extend makes an existing key live at least ms more; it never shortens.
local function extend(key, ms)
	local cur = redis.call('PTTL', key)
	if cur == -2 then return end
	if cur == -1 or cur < ms then redis.call('PEXPIRE', key, ms) end
end

local function index(kind, member, score, ms)
	redis.call('ZADD', P .. 'ix:' .. kind, score, member)
	extend(P .. 'ix:' .. kind, ms)
end

-- keepGrant makes the grant, its token set, its client and the client's
-- grant set (and their indexes) outlive something that lives ms and
-- refers to the grant.
local function keepGrant(gid, client, ms)
	extend(P .. 'g:' .. gid, ms)
	extend(P .. 'gt:' .. gid, ms)
	extend(P .. 'ix:g', ms)
	extend(P .. 'cg:' .. client, ms)
	extend(P .. 'c:' .. client, ms)
	extend(P .. 'ix:c', ms)
end

-- putToken stores a token of kind a or r from ARGV[i .. i+6]:
-- hex, grant, client, scope, resource, wrapped key, expiry.
local function putToken(kind, i)
	local hex, gid, exp = ARGV[i], ARGV[i + 1], ARGV[i + 6]
	local key = P .. kind .. ':' .. hex
	local ms = ttl(tonumber(exp))
	redis.call('HSET', key, 'grant', gid, 'client', ARGV[i + 2], 'scope', ARGV[i + 3], 'resource', ARGV[i + 4], 'wk', ARGV[i + 5], 'expires', exp)
	redis.call('PEXPIRE', key, ms)
	redis.call('SADD', P .. 'gt:' .. gid, kind .. ':' .. hex)
	index(kind, hex, exp, ms)
	return ms
end

local function tokensFree(i, j)
	return redis.call('EXISTS', P .. 'a:' .. ARGV[i], P .. 'r:' .. ARGV[j]) == 0
end

-- revoke deletes a grant and every token issued from it, and returns how
-- many records it removed.
local function revoke(gid)
	local removed = 0
	local client = redis.call('HGET', P .. 'g:' .. gid, 'client')
	for _, m in ipairs(redis.call('SMEMBERS', P .. 'gt:' .. gid)) do
		redis.call('DEL', P .. m)
		removed = removed + redis.call('ZREM', P .. 'ix:' .. string.sub(m, 1, 1), string.sub(m, 3))
	end
	redis.call('DEL', P .. 'g:' .. gid, P .. 'gt:' .. gid)
	removed = removed + redis.call('ZREM', P .. 'ix:g', gid)
	if client then redis.call('SREM', P .. 'cg:' .. client, gid) end
	return removed
end
`

func script(body string) *redis.Script { return redis.NewScript(luaPrelude + body) }

var (
	// ARGV: id, json, created ms, idle lifetime ms.
	luaCreateClient = script(`
local key = P .. 'c:' .. ARGV[3]
if redis.call('EXISTS', key) == 1 then return 0 end
local ms = ttl(tonumber(ARGV[5]) + tonumber(ARGV[6]))
redis.call('SET', key, ARGV[4], 'PX', ms)
-- A client registered again keeps living while its earlier grants do.
extend(key, redis.call('PTTL', P .. 'cg:' .. ARGV[3]))
index('c', ARGV[3], ARGV[5], ms)
return 1`)

	// ARGV: grant id, client, scope, resource, sealed, created, expires;
	// code hex, grant, client, redirect, challenge, resource, scope,
	// wrapped key, expires.
	luaCreateGrant = script(`
local gid, client, gexp = ARGV[3], ARGV[4], ARGV[9]
local hex, cexp = ARGV[10], ARGV[18]
local g, k = P .. 'g:' .. gid, P .. 'k:' .. hex
if redis.call('EXISTS', g, k) > 0 then return 0 end
redis.call('HSET', g, 'client', client, 'scope', ARGV[5], 'resource', ARGV[6], 'sealed', ARGV[7], 'created', ARGV[8], 'expires', gexp)
redis.call('HSET', k, 'grant', ARGV[11], 'client', ARGV[12], 'redirect', ARGV[13], 'challenge', ARGV[14], 'resource', ARGV[15], 'scope', ARGV[16], 'wk', ARGV[17], 'expires', cexp)
local kms = ttl(tonumber(cexp))
local gms = math.max(ttl(tonumber(gexp)), kms)
redis.call('PEXPIRE', g, gms)
redis.call('PEXPIRE', k, kms)
redis.call('SADD', P .. 'cg:' .. client, gid)
index('g', gid, gexp, gms)
index('k', hex, cexp, kms)
keepGrant(gid, client, gms)
return 1`)

	// ARGV: code hex, now ms.
	luaConsumeCode = script(`
local k = P .. 'k:' .. ARGV[3]
local f = redis.call('HMGET', k, 'grant', 'client', 'redirect', 'challenge', 'resource', 'scope', 'wk', 'expires', 'used')
if not f[1] then return {'notfound'} end
if f[9] then
	-- A second redemption means the code leaked: end everything the
	-- first redemption issued.
	revoke(f[1])
	return {'replayed'}
end
if tonumber(ARGV[4]) >= tonumber(f[8]) then return {'notfound'} end
redis.call('HSET', k, 'used', ARGV[4])
return {'ok', f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]}`)

	// ARGV: grant expires ms; access token (7 fields); refresh token (7).
	luaIssueTokens = script(`
local gid, gexp = ARGV[5], ARGV[3]
local g = P .. 'g:' .. gid
if redis.call('EXISTS', g) == 0 then return 'notfound' end
if not tokensFree(4, 11) then return 'conflict' end
redis.call('HSET', g, 'expires', gexp)
local client = redis.call('HGET', g, 'client')
local ms = math.max(putToken('a', 4), putToken('r', 11), ttl(tonumber(gexp)))
redis.call('ZADD', P .. 'ix:g', gexp, gid)
keepGrant(gid, client, ms)
return 'ok'`)

	// ARGV: grant id, sealed.
	luaUpdateSealed = script(`
local g = P .. 'g:' .. ARGV[3]
if redis.call('EXISTS', g) == 0 then return 0 end
redis.call('HSET', g, 'sealed', ARGV[4])
return 1`)

	// ARGV: grant id.
	luaRevokeGrant = script(`return revoke(ARGV[3])`)

	// ARGV: access token hex. Returns the token's and its grant's fields.
	luaAccessToken = script(`
local a = redis.call('HMGET', P .. 'a:' .. ARGV[3], 'grant', 'client', 'scope', 'resource', 'wk', 'expires')
if not a[1] then return {} end
local g = redis.call('HMGET', P .. 'g:' .. a[1], 'client', 'scope', 'resource', 'sealed', 'created', 'expires')
if not g[1] then return {} end
return {a[1], a[2], a[3], a[4], a[5], a[6], g[1], g[2], g[3], g[4], g[5], g[6]}`)

	// ARGV: old hex, now ms, grace ms, has successor (1/0), successor,
	// grant expires ms; access token (7 fields); refresh token (7).
	luaRotate = script(`
local now = tonumber(ARGV[4])
local old = P .. 'r:' .. ARGV[3]
local f = redis.call('HMGET', old, 'grant', 'expires', 'rotated', 'successor', 'next')
if not f[1] then return {'notfound'} end
if now >= tonumber(f[2]) then return {'notfound'} end
local gid = f[1]
local g = P .. 'g:' .. gid
if redis.call('EXISTS', g) == 0 then return {'notfound'} end
if f[3] then
	-- The grace answer holds only while the successor exists unrotated; a
	-- rotation recorded before successors were tracked has no 'next'.
	if now - tonumber(f[3]) <= tonumber(ARGV[5]) and f[4] and f[5] then
		local n = redis.call('HMGET', P .. 'r:' .. f[5], 'grant', 'rotated')
		if n[1] and not n[2] then return {'grace', f[4]} end
	end
	-- Reuse of a superseded token after the window or after its successor
	-- was used: someone else holds a copy.
	revoke(gid)
	return {'reused'}
end
if not tokensFree(9, 16) then return {'conflict'} end
redis.call('HSET', old, 'rotated', ARGV[4], 'next', ARGV[16])
if ARGV[6] == '1' then redis.call('HSET', old, 'successor', ARGV[7]) end
local gexp = tonumber(redis.call('HGET', g, 'expires'))
if tonumber(ARGV[8]) > gexp then
	gexp = tonumber(ARGV[8])
	redis.call('HSET', g, 'expires', ARGV[8])
	redis.call('ZADD', P .. 'ix:g', ARGV[8], gid)
end
local client = redis.call('HGET', g, 'client')
local ms = math.max(putToken('a', 9), putToken('r', 16), ttl(gexp))
keepGrant(gid, client, ms)
return {'rotated'}`)

	// ARGV: token hex.
	luaRevokeToken = script(`
local gid = redis.call('HGET', P .. 'r:' .. ARGV[3], 'grant')
if gid then
	revoke(gid)
	return 1
end
local a = P .. 'a:' .. ARGV[3]
gid = redis.call('HGET', a, 'grant')
if gid then
	redis.call('DEL', a)
	redis.call('ZREM', P .. 'ix:a', ARGV[3])
	redis.call('SREM', P .. 'gt:' .. gid, 'a:' .. ARGV[3])
end
return 1`)

	// ARGV: state hex, binding, payload, expires ms.
	luaSavePending = script(`
local key = P .. 'p:' .. ARGV[3]
if redis.call('EXISTS', key) == 1 then return 0 end
local ms = ttl(tonumber(ARGV[6]))
redis.call('HSET', key, 'binding', ARGV[4], 'payload', ARGV[5], 'expires', ARGV[6])
redis.call('PEXPIRE', key, ms)
index('p', ARGV[3], ARGV[6], ms)
return 1`)

	// ARGV: state hex, browser binding.
	luaConsumePending = script(`
local key = P .. 'p:' .. ARGV[3]
local f = redis.call('HMGET', key, 'binding', 'payload', 'expires')
if not f[1] then return {} end
-- Only the browser the state is bound to spends it.
if f[1] ~= ARGV[4] then return {'wrong browser'} end
redis.call('DEL', key)
redis.call('ZREM', P .. 'ix:p', ARGV[3])
return f`)

	// ARGV: kind, cutoff ms, offset, limit. Removes up to limit records of
	// one kind due at cutoff and returns {examined, removed, kept}.
	luaSweep = script(`
local kind, offset = ARGV[3], tonumber(ARGV[5])
local ix = P .. 'ix:' .. kind
local due = redis.call('ZRANGEBYSCORE', ix, '-inf', ARGV[4], 'LIMIT', offset, tonumber(ARGV[6]))
local removed, kept = 0, 0
for _, m in ipairs(due) do
	if kind == 'g' then
		removed = removed + revoke(m)
	elseif kind == 'c' then
		-- Drop grants of this client that are gone already (expired by
		-- TTL before a sweep saw them); keep the client if any is left.
		local cg = P .. 'cg:' .. m
		for _, gid in ipairs(redis.call('SMEMBERS', cg)) do
			if redis.call('EXISTS', P .. 'g:' .. gid) == 0 then redis.call('SREM', cg, gid) end
		end
		if redis.call('SCARD', cg) == 0 then
			redis.call('DEL', P .. 'c:' .. m, cg)
			removed = removed + redis.call('ZREM', ix, m)
		else
			kept = kept + 1
		end
	else
		local key = P .. kind .. ':' .. m
		if kind == 'a' or kind == 'r' then
			local gid = redis.call('HGET', key, 'grant')
			if gid then redis.call('SREM', P .. 'gt:' .. gid, kind .. ':' .. m) end
		end
		redis.call('DEL', key)
		removed = removed + redis.call('ZREM', ix, m)
	end
end
return {#due, removed, kept}`)
)

// run runs a script with the prefix and wall clock in front of args.
func (r *Redis) run(ctx context.Context, s *redis.Script, args ...any) (any, error) {
	ctx, cancel := r.opts.bound(ctx)
	defer cancel()
	return s.Run(ctx, r.rdb, nil, append([]any{r.prefix, time.Now().UnixMilli()}, args...)...).Result()
}

func ms2(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func hexOf(hash []byte) string { return hex.EncodeToString(hash) }

// tokenArgs are the 7 script arguments of a token, in putToken's order.
func tokenArgs(t *Token) []any {
	return []any{hexOf(t.Hash), t.GrantID, t.ClientID, t.Scope, t.Resource, t.WrappedKey, ms2(t.ExpiresAt)}
}

// strs reads a script's array reply; nil entries become "".
func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, len(arr))
	for i, x := range arr {
		switch x := x.(type) {
		case string:
			out[i] = x
		case int64:
			out[i] = strconv.FormatInt(x, 10)
		}
	}
	return out
}

func parseMS(s string) (time.Time, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("corrupt timestamp %q", s)
	}
	return time.UnixMilli(v), nil
}

// redisClient is a client as stored in Redis.
type redisClient struct {
	clientMetadata
	SecretHash []byte `json:"secret_hash,omitempty"`
	CreatedAt  int64  `json:"created_at"`
}

// CreateClient implements Store.
func (r *Redis) CreateClient(ctx context.Context, c *Client) error {
	b, err := json.Marshal(redisClient{clientMetadata{c.RedirectURIs, c.Name, c.AuthMethod, c.GrantTypes, c.Scope}, c.SecretHash, c.CreatedAt.UnixMilli()})
	if err != nil {
		return err
	}
	v, err := r.run(ctx, luaCreateClient, c.ID, b, ms2(c.CreatedAt), ClientIdleLifetime.Milliseconds())
	if err != nil {
		return fmt.Errorf("store client: %w", err)
	}
	if v == int64(0) {
		return ErrConflict
	}
	return nil
}

// Client implements Store.
func (r *Redis) Client(ctx context.Context, id string) (*Client, error) {
	ctx, cancel := r.opts.bound(ctx)
	defer cancel()
	b, err := r.rdb.Get(ctx, r.prefix+"c:"+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	var rc redisClient
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, fmt.Errorf("load client: %w", err)
	}
	m := rc.clientMetadata
	return &Client{ID: id, SecretHash: rc.SecretHash, RedirectURIs: m.RedirectURIs, Name: m.Name, AuthMethod: m.AuthMethod,
		GrantTypes: m.GrantTypes, Scope: m.Scope, CreatedAt: time.UnixMilli(rc.CreatedAt)}, nil
}

// CreateGrant implements Store.
func (r *Redis) CreateGrant(ctx context.Context, g *Grant, c *Code) error {
	v, err := r.run(ctx, luaCreateGrant,
		g.ID, g.ClientID, g.Scope, g.Resource, g.Sealed, ms2(g.CreatedAt), ms2(g.ExpiresAt),
		hexOf(c.Hash), c.GrantID, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Resource, c.Scope, c.WrappedKey, ms2(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store grant: %w", err)
	}
	if v == int64(0) {
		return ErrConflict
	}
	return nil
}

// ConsumeCode implements Store.
func (r *Redis) ConsumeCode(ctx context.Context, hash []byte, now time.Time) (*Code, error) {
	v, err := r.run(ctx, luaConsumeCode, hexOf(hash), ms2(now))
	if err != nil {
		return nil, fmt.Errorf("consume code: %w", err)
	}
	f := strs(v)
	if len(f) != 1 && len(f) != 9 {
		return nil, fmt.Errorf("consume code: unexpected script answer of %d fields", len(f))
	}
	switch f[0] {
	case "replayed":
		return nil, ErrCodeReplayed
	case "notfound":
		return nil, ErrNotFound
	}
	exp, err := parseMS(f[8])
	if err != nil {
		return nil, fmt.Errorf("consume code: %w", err)
	}
	return &Code{Hash: hash, GrantID: f[1], ClientID: f[2], RedirectURI: f[3], CodeChallenge: f[4], Resource: f[5], Scope: f[6],
		WrappedKey: []byte(f[7]), ExpiresAt: exp}, nil
}

// IssueTokens implements Store.
func (r *Redis) IssueTokens(ctx context.Context, access, refresh *Token, grantExpires time.Time) error {
	args := append(append([]any{ms2(grantExpires)}, tokenArgs(access)...), tokenArgs(refresh)...)
	v, err := r.run(ctx, luaIssueTokens, args...)
	switch {
	case err != nil:
		return fmt.Errorf("store tokens: %w", err)
	case v == "notfound":
		return ErrNotFound
	case v == "conflict":
		return fmt.Errorf("store tokens: %w", ErrConflict)
	}
	return nil
}

// Grant implements Store.
func (r *Redis) Grant(ctx context.Context, id string) (*Grant, error) {
	ctx, cancel := r.opts.bound(ctx)
	defer cancel()
	v, err := r.rdb.HMGet(ctx, r.prefix+"g:"+id, "client", "scope", "resource", "sealed", "created", "expires").Result()
	if err != nil {
		return nil, fmt.Errorf("load grant: %w", err)
	}
	if v[0] == nil {
		return nil, ErrNotFound
	}
	g, err := grantFrom(id, strs(v))
	if err != nil {
		return nil, fmt.Errorf("load grant: %w", err)
	}
	return g, nil
}

// grantFrom builds a grant from client, scope, resource, sealed, created
// and expires.
func grantFrom(id string, f []string) (*Grant, error) {
	created, err := parseMS(f[4])
	if err != nil {
		return nil, err
	}
	exp, err := parseMS(f[5])
	if err != nil {
		return nil, err
	}
	return &Grant{ID: id, ClientID: f[0], Scope: f[1], Resource: f[2], Sealed: []byte(f[3]), CreatedAt: created, ExpiresAt: exp}, nil
}

// tokenFrom builds a token from grant, client, scope, resource, wrapped
// key and expires.
func tokenFrom(hash []byte, f []string) (*Token, error) {
	exp, err := parseMS(f[5])
	if err != nil {
		return nil, err
	}
	return &Token{Hash: hash, GrantID: f[0], ClientID: f[1], Scope: f[2], Resource: f[3], WrappedKey: []byte(f[4]), ExpiresAt: exp}, nil
}

// UpdateGrantSealed implements Store.
func (r *Redis) UpdateGrantSealed(ctx context.Context, id string, sealed []byte) error {
	v, err := r.run(ctx, luaUpdateSealed, id, sealed)
	if err != nil {
		return fmt.Errorf("update grant: %w", err)
	}
	if v == int64(0) {
		return ErrNotFound
	}
	return nil
}

// RevokeGrant implements Store.
func (r *Redis) RevokeGrant(ctx context.Context, id string) error {
	if _, err := r.run(ctx, luaRevokeGrant, id); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	return nil
}

// AccessToken implements Store.
func (r *Redis) AccessToken(ctx context.Context, hash []byte, now time.Time) (*Token, *Grant, error) {
	v, err := r.run(ctx, luaAccessToken, hexOf(hash))
	if err != nil {
		return nil, nil, fmt.Errorf("load access token: %w", err)
	}
	f := strs(v)
	if len(f) == 0 {
		return nil, nil, ErrNotFound
	}
	if len(f) != 12 {
		return nil, nil, fmt.Errorf("load access token: unexpected script answer of %d fields", len(f))
	}
	t, err := tokenFrom(hash, f[:6])
	if err != nil {
		return nil, nil, fmt.Errorf("load access token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, nil, ErrNotFound
	}
	g, err := grantFrom(t.GrantID, f[6:])
	if err != nil {
		return nil, nil, fmt.Errorf("load access token: %w", err)
	}
	return t, g, nil
}

// RefreshToken implements Store.
func (r *Redis) RefreshToken(ctx context.Context, hash []byte, now time.Time) (*Token, error) {
	ctx, cancel := r.opts.bound(ctx)
	defer cancel()
	v, err := r.rdb.HMGet(ctx, r.prefix+"r:"+hexOf(hash), "grant", "client", "scope", "resource", "wk", "expires").Result()
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	if v[0] == nil {
		return nil, ErrNotFound
	}
	t, err := tokenFrom(hash, strs(v))
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, ErrNotFound
	}
	return t, nil
}

// RotateRefresh implements Store.
func (r *Redis) RotateRefresh(ctx context.Context, rot Rotation) ([]byte, error) {
	hasSuccessor := "0"
	if rot.Successor != nil {
		hasSuccessor = "1"
	}
	args := []any{hexOf(rot.OldHash), ms2(rot.Now), rot.Grace.Milliseconds(), hasSuccessor, rot.Successor, ms2(rot.GrantExpires)}
	args = append(append(args, tokenArgs(&rot.Access)...), tokenArgs(&rot.Refresh)...)
	v, err := r.run(ctx, luaRotate, args...)
	if err != nil {
		return nil, fmt.Errorf("rotate refresh token: %w", err)
	}
	f := strs(v)
	if len(f) == 0 {
		return nil, fmt.Errorf("rotate refresh token: unexpected script answer of %d fields", len(f))
	}
	switch f[0] {
	case "rotated":
		return nil, nil
	case "grace":
		return []byte(f[1]), nil
	case "reused":
		return nil, ErrRefreshReused
	case "notfound":
		return nil, ErrNotFound
	case "conflict":
		return nil, fmt.Errorf("rotate refresh token: %w", ErrConflict)
	}
	return nil, fmt.Errorf("rotate refresh token: unexpected script answer %q", f[0])
}

// RevokeToken implements Store.
func (r *Redis) RevokeToken(ctx context.Context, hash []byte) error {
	if _, err := r.run(ctx, luaRevokeToken, hexOf(hash)); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// SavePending implements Store.
func (r *Redis) SavePending(ctx context.Context, p *Pending) error {
	v, err := r.run(ctx, luaSavePending, hexOf(p.Hash), p.Binding, p.Payload, ms2(p.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store pending login: %w", err)
	}
	if v == int64(0) {
		return ErrConflict
	}
	return nil
}

// ConsumePending implements Store.
func (r *Redis) ConsumePending(ctx context.Context, hash, binding []byte, now time.Time) (*Pending, error) {
	v, err := r.run(ctx, luaConsumePending, hexOf(hash), binding)
	if err != nil {
		return nil, fmt.Errorf("consume pending login: %w", err)
	}
	f := strs(v)
	if len(f) == 0 {
		return nil, ErrNotFound
	}
	if len(f) == 1 && f[0] == "wrong browser" {
		return nil, ErrWrongBrowser
	}
	if len(f) != 3 {
		return nil, fmt.Errorf("consume pending login: unexpected script answer of %d fields", len(f))
	}
	exp, err := parseMS(f[2])
	if err != nil {
		return nil, fmt.Errorf("consume pending login: %w", err)
	}
	if !now.Before(exp) {
		return nil, ErrNotFound
	}
	return &Pending{Hash: hash, Binding: []byte(f[0]), Payload: []byte(f[1]), ExpiresAt: exp}, nil
}

// Sweep implements Store, in batches of sweepBatch records per script.
// Tokens go first and grants after them, so the count of a grant's tokens
// swept with it matches the SQL stores; clients go last, once their
// expired grants are gone.
func (r *Redis) Sweep(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, k := range []struct {
		kind   string
		cutoff time.Time
	}{{"a", now}, {"r", now}, {"k", now}, {"p", now}, {"g", now}, {"c", now.Add(-ClientIdleLifetime)}} {
		var offset int64
		for {
			v, err := r.run(ctx, luaSweep, k.kind, ms2(k.cutoff), offset, sweepBatch)
			if err != nil {
				return total, fmt.Errorf("sweep: %w", err)
			}
			res, _ := v.([]any)
			if len(res) != 3 {
				return total, fmt.Errorf("sweep: unexpected script answer of %d fields", len(res))
			}
			examined, removed, kept := res[0].(int64), res[1].(int64), res[2].(int64)
			total += removed
			// Clients that hold a grant stay in the index: step past them.
			offset += kept
			if examined < sweepBatch {
				break
			}
		}
	}
	return total, nil
}

// Stats implements Store.
func (r *Redis) Stats(ctx context.Context) (Stats, error) {
	ctx, cancel := r.opts.bound(ctx)
	defer cancel()
	var cmds [6]*redis.IntCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, kind := range []string{"c", "g", "k", "a", "r", "p"} {
			cmds[i] = p.ZCard(ctx, r.prefix+"ix:"+kind)
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("store stats: %w", err)
	}
	return Stats{Clients: cmds[0].Val(), Grants: cmds[1].Val(), Codes: cmds[2].Val(),
		AccessTokens: cmds[3].Val(), RefreshTokens: cmds[4].Val(), Pending: cmds[5].Val()}, nil
}
