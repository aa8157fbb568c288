// Signs the headers with which the Worker forwards a user's Keboola
// credentials to a native `keboola-mcp serve --auth proxy`. The format is
// defined by internal/proxyauth (Go), which verifies it; both implementations
// are checked against internal/proxyauth/testdata/vectors.json.

export const HEADER_STACK = 'X-Keboola-MCP-Stack';
export const HEADER_TOKEN = 'X-Keboola-MCP-Token';
export const HEADER_SCOPE = 'X-Keboola-MCP-Scope';
export const HEADER_TIMESTAMP = 'X-Keboola-MCP-Timestamp';
export const HEADER_NONCE = 'X-Keboola-MCP-Nonce';
export const HEADER_SIGNATURE = 'X-Keboola-MCP-Signature';
/** Optional: absent means no bearer. */
export const HEADER_OAUTH_TOKEN = 'X-Keboola-MCP-OAuth-Token';

/** Shortest accepted secret, as in Go: the HMAC-SHA256 key size. */
export const MIN_SECRET_LENGTH = 32;

export interface Forwarded {
  stackURL: string;
  token: string;
  scopes: string[];
  /** The Keboola OAuth bearer of a "Sign in with Keboola" grant while it is valid. */
  oauthToken?: string;
}

const encoder = new TextEncoder();

/** Starts a canonical string's first line, which ends in its version (v1 without a bearer, v2 with one). */
const CANONICAL_PREFIX = 'keboola-mcp-proxy-';

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(data: Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', data));
}

/**
 * The string that is signed: version, method, path with query, timestamp,
 * nonce, SHA-256 of the body, stack URL, scopes and SHA-256 of the token, one
 * per line; with a bearer, version v2 and a last line with its SHA-256.
 * Hashing body and tokens keeps arbitrary bytes out of the lines.
 */
export async function canonical(
  method: string,
  pathQuery: string,
  timestamp: number,
  nonce: string,
  body: Uint8Array,
  f: Forwarded,
): Promise<string> {
  const lines = [
    CANONICAL_PREFIX + (f.oauthToken ? 'v2' : 'v1'),
    method.toUpperCase(),
    pathQuery,
    String(timestamp),
    nonce,
    await sha256Hex(body),
    f.stackURL,
    f.scopes.join(' '),
    await sha256Hex(encoder.encode(f.token)),
  ];
  if (f.oauthToken) lines.push(await sha256Hex(encoder.encode(f.oauthToken)));
  return lines.join('\n');
}

/** The signature header's value for a canonical string: the version its first line names, "=", the hex HMAC. */
export async function signature(secret: string, canonicalString: string): Promise<string> {
  const version = canonicalString.slice(CANONICAL_PREFIX.length, canonicalString.indexOf('\n'));
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return version + '=' + hex(await crypto.subtle.sign('HMAC', key, encoder.encode(canonicalString)));
}

function randomNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/**
 * Returns the headers that carry f to the native server for a request with
 * this method, path and body, signed now.
 */
export async function signedHeaders(
  secret: string,
  method: string,
  pathQuery: string,
  body: Uint8Array,
  f: Forwarded,
  now: number = Date.now(),
): Promise<Headers> {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`MCP_PROXY_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const timestamp = Math.floor(now / 1000);
  const nonce = randomNonce();
  const sig = await signature(secret, await canonical(method, pathQuery, timestamp, nonce, body, f));
  const headers = new Headers({
    [HEADER_STACK]: f.stackURL,
    [HEADER_TOKEN]: f.token,
    [HEADER_SCOPE]: f.scopes.join(' '),
    [HEADER_TIMESTAMP]: String(timestamp),
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: sig,
  });
  if (f.oauthToken) headers.set(HEADER_OAUTH_TOKEN, f.oauthToken);
  return headers;
}
