// Dynamic client registration (/register) is open to anyone, so before the
// library stores anything the Worker applies the native server's limits
// (internal/oauth/clients.go): a rate limit per client address, a 16 KiB body,
// at most 10 redirect URIs of plain ASCII, and a client name the consent page
// can show as it is (≤ 200 characters, no control or bidirectional-override
// characters, which could make the page read differently from the truth).
import { DurableObject } from 'cloudflare:workers';
import { isLoopbackHost, SCOPES, type Env } from './config';

export const MAX_REGISTER_BODY = 16 << 10;
export const MAX_REDIRECT_URIS = 10;
export const MAX_CLIENT_NAME = 200;
const MAX_REDIRECT_URI_LENGTH = 2000;

/**
 * KV prefix marking a client that registered grant_types without
 * refresh_token. The library lets every authorization_code client refresh
 * (and stores RFC 7591's default, authorization_code alone, for clients that
 * name none); the native server holds a client to the grants it named.
 */
export const NO_REFRESH_PREFIX = 'kmcp:no-refresh:';

const DEFAULT_PER_MINUTE = 10;
const DEFAULT_BURST = 20;

function oauthError(status: number, error: string, description: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error, error_description: description }) + '\n', {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...extra },
  });
}

/** Control characters (C0, DEL, C1) and the bidirectional marks and overrides. */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** The rate-limit key of a client address: an IPv4 address, or the /64 of an IPv6 one (a host usually holds a whole /64). */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':') + '::/64';
}

function whole(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Checks a registration request. Returns the answer that refuses it, or null
 * with the body (the stream is consumed) to hand on to the library.
 */
export async function checkRegistration(request: Request, env: Env): Promise<{ refused: Response } | { body: string; noRefresh: boolean }> {
  if (request.method === 'POST') {
    const ip = request.headers.get('CF-Connecting-IP') ?? 'unknown';
    const limiter = env.REGISTER_LIMIT.get(env.REGISTER_LIMIT.idFromName(addressKey(ip)));
    const perMinute = whole(env.REGISTER_PER_MINUTE, DEFAULT_PER_MINUTE);
    const burst = whole(env.REGISTER_BURST, DEFAULT_BURST);
    if (!(await limiter.take(perMinute, burst))) {
      return { refused: oauthError(429, 'temporarily_unavailable', 'too many registrations from this address; retry in a minute', { 'Retry-After': '60' }) };
    }
  }
  const declared = Number(request.headers.get('Content-Length') ?? '0');
  if (declared > MAX_REGISTER_BODY) return { refused: oauthError(413, 'invalid_request', `the body exceeds ${MAX_REGISTER_BODY} bytes`) };
  const body = await readLimited(request, MAX_REGISTER_BODY);
  if (body === null) return { refused: oauthError(413, 'invalid_request', `the body exceeds ${MAX_REGISTER_BODY} bytes`) };
  if (request.method !== 'POST') return { body, noRefresh: false };
  let meta: unknown;
  try {
    meta = JSON.parse(body);
  } catch {
    return { refused: oauthError(400, 'invalid_client_metadata', 'the body must be exactly one JSON object of client metadata (RFC 7591)') };
  }
  const problem = metadataProblem(meta);
  if (problem) return { refused: oauthError(400, problem[0], problem[1]) };
  const m = meta as Record<string, unknown>;
  const noRefresh = Array.isArray(m.grant_types) && !m.grant_types.includes('refresh_token');
  return { body, noRefresh };
}

/** After a registration the library accepted: remembers a client that may not refresh. */
export async function rememberRegistration(res: Response, noRefresh: boolean, env: Env): Promise<void> {
  if (!noRefresh || res.status !== 201) return;
  const { client_id } = await res.clone().json<{ client_id?: string }>();
  if (client_id) await env.OAUTH_KV.put(NO_REFRESH_PREFIX + client_id, '1');
}

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES = ['authorization_code', 'refresh_token'];
/** Schemes that run code or read local data in a browser, or plain-text network schemes: never a redirect target. */
const FORBIDDEN_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file', 'about', 'blob', 'filesystem', 'ftp', 'ws', 'wss', 'view-source']);

const isStringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The native server's registration rules (internal/oauth/clients.go
 * validateRegistration), in its order and with its error codes: the error
 * and its description, or null when the metadata may be registered.
 */
export function metadataProblem(meta: unknown): [string, string] | null {
  const shape: [string, string] = ['invalid_client_metadata', 'the body must be a JSON object of client metadata (RFC 7591)'];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return shape;
  const m = meta as Record<string, unknown>;
  const present = (k: string) => m[k] !== undefined && m[k] !== null;
  for (const k of ['redirect_uris', 'grant_types', 'response_types']) if (present(k) && !isStringArray(m[k])) return shape;
  for (const k of ['token_endpoint_auth_method', 'client_name', 'client_uri', 'scope']) if (present(k) && typeof m[k] !== 'string') return shape;
  const uris = (m.redirect_uris ?? []) as string[];
  if (uris.length === 0) return ['invalid_redirect_uri', 'redirect_uris is required'];
  if (uris.length > MAX_REDIRECT_URIS) return ['invalid_redirect_uri', `at most ${MAX_REDIRECT_URIS} redirect_uris are accepted`];
  for (const u of uris) {
    const why = redirectURIProblem(u);
    if (why) return ['invalid_redirect_uri', why];
  }
  const method = (m.token_endpoint_auth_method as string | undefined) || 'client_secret_basic';
  if (!AUTH_METHODS.includes(method)) return ['invalid_client_metadata', `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`];
  const grants = (m.grant_types as string[] | undefined) ?? [];
  for (const g of grants) if (!GRANT_TYPES.includes(g)) return ['invalid_client_metadata', 'only the authorization_code and refresh_token grant types are supported'];
  if (grants.length > 0 && !grants.includes('authorization_code')) return ['invalid_client_metadata', 'grant_types must include authorization_code'];
  for (const r of (m.response_types as string[] | undefined) ?? []) if (r !== 'code') return ['invalid_client_metadata', 'only the code response type is supported'];
  const name = (m.client_name as string | undefined) ?? '';
  if ([...name].length > MAX_CLIENT_NAME) return ['invalid_client_metadata', `client_name must be at most ${MAX_CLIENT_NAME} characters`];
  if (FORBIDDEN_IN_NAME.test(name)) return ['invalid_client_metadata', 'client_name must not contain control characters'];
  for (const sc of ((m.scope as string | undefined) ?? '').split(/\s+/).filter(Boolean)) {
    if (!SCOPES.includes(sc)) return ['invalid_client_metadata', `unknown scope; supported: ${SCOPES.join(' ')}`];
  }
  return null;
}

/**
 * The native server's redirect URI rules (internal/oauth/redirect.go): an
 * absolute ASCII URI without fragment or user information; https, http on a
 * loopback host (RFC 8252 §7.3), or a private-use scheme for native apps,
 * written in lower case; never a scheme that runs code, nor a web+ handler.
 */
export function redirectURIProblem(raw: string): string | null {
  if (raw.length === 0 || raw.length > MAX_REDIRECT_URI_LENGTH) return 'a redirect URI must be 1 to 2000 characters';
  if (/[^\x21-\x7e]|[\\<>"]/.test(raw)) {
    return 'redirect URIs must be printable ASCII; percent-encode the rest and write internationalised hosts in punycode (xn--…)';
  }
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(raw);
  if (!parts) return 'a redirect URI must be absolute';
  if (raw.includes('#')) return 'a redirect URI must not contain a fragment';
  const [, scheme, rest] = parts;
  const authority = /^\/\/([^/?]*)/.exec(rest)?.[1];
  if (authority?.includes('@')) return 'a redirect URI must not contain user information';
  if (scheme !== scheme.toLowerCase()) return 'write the redirect URI scheme in lower case, e.g. https:';
  if (FORBIDDEN_SCHEMES.has(scheme) || scheme.startsWith('web+')) return `redirect URI scheme ${scheme}: is not allowed`;
  const host = (authority ?? '').replace(/:\d*$/, '');
  if (scheme === 'https') return host ? null : 'a redirect URI must name a host';
  if (scheme === 'http') return isLoopbackHost(host) ? null : 'a redirect URI must use https (plain http only for 127.0.0.1, [::1] or localhost)';
  // A private-use scheme: the app registered it with the OS.
  return authority === undefined && rest !== '' && !rest.startsWith('/') ? 'not a valid private-use redirect URI' : null;
}

async function readLimited(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * A token bucket for one client address (a Durable Object per address, so
 * every isolate and location sees the same count): perMinute tokens a
 * minute, at most burst saved up.
 */
export class RegisterLimit extends DurableObject<Env> {
  async take(perMinute: number, burst: number): Promise<boolean> {
    const now = Date.now();
    const saved = (await this.ctx.storage.get<{ tokens: number; at: number }>('bucket')) ?? { tokens: burst, at: now };
    const tokens = Math.min(burst, saved.tokens + ((now - saved.at) / 60_000) * perMinute);
    if (tokens < 1) {
      await this.ctx.storage.put('bucket', { tokens, at: now });
      return false;
    }
    await this.ctx.storage.put('bucket', { tokens: tokens - 1, at: now });
    // Forget a quiet address: a full bucket needs no record.
    await this.ctx.storage.setAlarm(now + ((burst - tokens + 1) / perMinute) * 60_000);
    return true;
  }

  async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
