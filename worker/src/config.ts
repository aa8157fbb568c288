// Settings shared by the Worker's modules: the environment it is given
// (wrangler.jsonc vars and `wrangler secret put` secrets) and what is derived
// from it.
import type { OAuthHelpers } from '@cloudflare/workers-oauth-provider';

export interface Env {
  OAUTH_KV: KVNamespace;
  /** Injected by OAuthProvider into the default handler's env. */
  OAUTH_PROVIDER: OAuthHelpers;
  /** Comma-separated Storage API URLs users may sign in to; default: the public stacks. */
  KEBOOLA_STACKS?: string;
  /** Serve MCP by proxying to a native `keboola-mcp serve --auth proxy` at this origin instead of the wasm build. */
  MCP_ORIGIN?: string;
  /** Where proxied requests go instead of the public fetch (the Containers variant sets it). */
  MCP_UPSTREAM?: { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> };
  /** Shared HMAC secret for the proxy headers (secret; required with MCP_ORIGIN unless UPSTREAM_AUTH=headers). */
  MCP_PROXY_SECRET?: string;
  /**
   * How MCP_ORIGIN learns the user's credentials: "signed" (default; HMAC-signed headers for
   * `keboola-mcp serve --auth proxy`) or "headers" (the Python Keboola MCP server's plain
   * X-StorageApi-Token / X-Storage-Api-Url / X-Read-Only-Mode headers, for the Python server or
   * `keboola-mcp serve --auth headers`; the link must be private, see docs/deploy-cloudflare.md).
   */
  UPSTREAM_AUTH?: string;
  /** Key for the opaque user ids put into grants (secret, 32+ characters). */
  COOKIE_SECRET?: string;
  /** Keboola OAuth client ("Sign in with Keboola"); both secrets, both needed to show the button. */
  KBC_OAUTH_CLIENT_ID?: string;
  KBC_OAUTH_CLIENT_SECRET?: string;
  /** The Worker's public URL; when set, requests for any other origin are refused. */
  PUBLIC_URL?: string;
  /** Comma-separated browser origins, besides the Worker's own, allowed to call /mcp. */
  ALLOWED_ORIGINS?: string;
  /** Access token lifetime in seconds (default 3600). */
  ACCESS_TOKEN_TTL?: string;
  /** One Durable Object per grant: serialises its /token requests, counts its SSE sessions (gate.ts). */
  GRANT_GATE: DurableObjectNamespace<import('./gate').GrantGate>;
  /** One Durable Object per legacy SSE session (sse.ts). */
  SSE_SESSION: DurableObjectNamespace<import('./sse').SseSession>;
  /** One Durable Object per client address: the registration rate limit (register.ts). */
  REGISTER_LIMIT: DurableObjectNamespace<import('./register').RegisterLimit>;
  /** Registrations allowed per client address and minute (default 10), and how many may be saved up (default 20). */
  REGISTER_PER_MINUTE?: string;
  REGISTER_BURST?: string;
  /** Legacy SSE: seconds without a message before a session ends (default 1800). */
  SSE_IDLE_SECONDS?: string;
  /** Legacy SSE: seconds between keep-alive comments (default 15). */
  SSE_KEEPALIVE_SECONDS?: string;
  /** Legacy SSE: open sessions allowed per grant (default 5). */
  SSE_MAX_PER_GRANT?: string;
}

/** What a grant's encrypted props hold: the user's Keboola credentials. */
export interface Props {
  stackURL: string;
  storageToken: string;
  scopes: string[];
  /** "Sign in with Keboola" only: the Keboola OAuth bearer and its expiry (Unix seconds). */
  oauthToken?: string;
  oauthExpires?: number;
  /** The grant's tool gates, as Go decided them at login (toolgates.ts). */
  toolGates?: ToolGates;
}

/** A session's tool gate keys (mcpserver.Gate.Key) under either scope, and when Go decided them (ms since the epoch). */
export interface ToolGates {
  full: string;
  read: string;
  decidedAt: number;
}

const DEFAULT_ACCESS_TTL = 60 * 60;
// KV's shortest expiration is a minute, and the library refuses less.
const MIN_ACCESS_TTL = 60;
const MAX_ACCESS_TTL = 24 * 60 * 60;

/**
 * The access token lifetime in seconds: ACCESS_TOKEN_TTL when it is a whole
 * number from a minute to a day, else an hour. A deployment slip here must not
 * take the server down, so a bad value falls back and is logged.
 */
export function accessTTL(env: Env): number {
  const raw = env.ACCESS_TOKEN_TTL?.trim();
  if (!raw) return DEFAULT_ACCESS_TTL;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= MIN_ACCESS_TTL && n <= MAX_ACCESS_TTL) return n;
  console.warn(`ACCESS_TOKEN_TTL=${JSON.stringify(raw)} is not a whole number of seconds from ${MIN_ACCESS_TTL} to ${MAX_ACCESS_TTL}: using ${DEFAULT_ACCESS_TTL}`);
  return DEFAULT_ACCESS_TTL;
}

export const SCOPE_READ = 'keboola:read';
export const SCOPE_WRITE = 'keboola:write';
export const SCOPES = [SCOPE_READ, SCOPE_WRITE];

/** The largest MCP request body read anywhere (Go: access.MaxRequestBytes). */
export const MAX_REQUEST_BYTES = 4 << 20;

/** The public multi-tenant Keboola stacks, the default allowlist. */
export const PUBLIC_STACKS = [
  'https://connection.keboola.com',
  'https://connection.us-east4.gcp.keboola.com',
  'https://connection.eu-central-1.keboola.com',
  'https://connection.north-europe.azure.keboola.com',
  'https://connection.europe-west3.gcp.keboola.com',
];

/** Whether a hostname (IPv6 with or without brackets) is a loopback one: plain http is allowed only there. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  const ipv4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return ipv4 !== null && ipv4.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Normalises a Storage API URL to scheme://host[:port], or returns null when it
 * is not a bare https origin (http only on loopback, for a local fake stack).
 */
export function normaliseStackURL(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  const secure = u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
  if (!secure || u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
    return null;
  }
  return u.origin;
}

/** The stack allowlist from KEBOOLA_STACKS; a bad entry is a deployment error. */
export function allowedStacks(env: Env): string[] {
  const raw = env.KEBOOLA_STACKS?.trim();
  if (!raw) return PUBLIC_STACKS;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = normaliseStackURL(s);
      if (!n) throw new Error(`KEBOOLA_STACKS: ${JSON.stringify(s)} is not a Storage API URL like https://connection.keboola.com`);
      return n;
    });
}

export type UpstreamAuth = 'signed' | 'headers';

/** UPSTREAM_AUTH, checked: a typo must not silently send credentials another way. */
export function upstreamAuth(env: Env): UpstreamAuth {
  const raw = (env.UPSTREAM_AUTH ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'signed') return 'signed';
  if (raw === 'headers') return 'headers';
  throw new Error(`UPSTREAM_AUTH=${JSON.stringify(env.UPSTREAM_AUTH)}: use signed (default) or headers`);
}

/**
 * The Python Keboola MCP server's request headers for a grant: what an upstream
 * in UPSTREAM_AUTH=headers mode authenticates by. Unsigned: only a private link
 * to the upstream keeps them from being forged.
 */
export function pythonHeaders(stackURL: string, token: string, readOnly: boolean, oauthToken?: string): Headers {
  const h = new Headers({ 'X-StorageApi-Token': token, 'X-Storage-Api-Url': stackURL });
  if (readOnly) h.set('X-Read-Only-Mode', 'true');
  // The Python server reads its bearer_token setting from X-Bearer-Token (config.py maps X-<field> headers).
  if (oauthToken) h.set('X-Bearer-Token', oauthToken);
  return h;
}

/** A grant's Keboola OAuth bearer while it is valid; after that the minted Storage token serves alone. */
export function liveOAuthToken(props: Props, now: number = Date.now()): string | undefined {
  return props.oauthToken && (props.oauthExpires ?? 0) * 1000 > now ? props.oauthToken : undefined;
}

/** Browser origins allowed on /mcp: the Worker's own plus ALLOWED_ORIGINS. */
export function allowedOrigins(env: Env, self: string): Set<string> {
  const out = new Set([self]);
  for (const o of (env.ALLOWED_ORIGINS ?? '').split(',')) {
    if (o.trim()) out.add(o.trim().replace(/\/+$/, ''));
  }
  return out;
}

/** The MCP resource's protected resource metadata URL, which Go names in its 401 challenges. */
export function resourceMetadataURL(origin: string): string {
  return `${origin}/.well-known/oauth-protected-resource/mcp`;
}
