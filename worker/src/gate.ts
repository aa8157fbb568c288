// A Durable Object per grant: the one place where that grant's tokens are
// issued. KV, where the library keeps grants, has no transactions (a get →
// compare → put that two requests can interleave, and eventual consistency
// across locations), so every /token request naming a grant is sent here and
// served one at a time. That makes three rules hold:
//
//  - an authorization code is redeemed at most once, and any failed
//    redemption of a genuine code (wrong PKCE verifier, wrong client, wrong or
//    missing redirect_uri, bad resource) spends it and drops its grant;
//  - a refresh token rotates once. Sent again within GRACE_MS, while the
//    successor it was exchanged for has never been used, it gets that very
//    same answer (a client that lost the response retries); any other reuse
//    revokes the grant, so a thief's copy and the legitimate chain die
//    together;
//  - a refresh token presented by another client ends its grant.
//
// The same object counts the grant's open SSE sessions (sse.ts). Named after
// a consent handle instead of a grant, it spends that consent form once
// (spendConsent): the library's get-then-delete of the handle in KV lets
// racing POSTs of one form all pass.
import { DurableObject } from 'cloudflare:workers';
import { getOAuthApi } from '@cloudflare/workers-oauth-provider';
import type { Env } from './config';
import { NO_REFRESH_PREFIX } from './register';
import { provider, providerOptions, REASON_HEADER } from './site';

/** How long a superseded refresh token may still fetch the answer its first use got. */
export const GRACE_MS = 10_000;

/**
 * How long a spent consent form is remembered: the library's consent
 * transaction lives 10 minutes in KV, plus a minute for KV's edge caches.
 */
export const CONSENT_SPENT_MS = 11 * 60_000;
const CONSENT_SPENT_KEY = 'consent-spent';

/** The gate that spends the consent form of a handle (one object per handle, named by its hash). */
export async function consentGate(env: Env, handle: string): Promise<DurableObjectStub<GrantGate>> {
  return env.GRANT_GATE.get(env.GRANT_GATE.idFromName(`consent:${await sha256Hex(handle)}`));
}

/** What the gate remembers of a refresh token it issued. */
interface RefreshRecord {
  /** Set when the token was exchanged. */
  rotatedAt?: number;
  /** SHA-256 of the refresh token it was exchanged for. */
  successor?: string;
  /** That exchange's response, sealed under a key derived from this token (base64url IV ‖ ciphertext). */
  sealed?: string;
}

/** The library's grant record, as far as the gate reads it. */
interface StoredGrant {
  clientId: string;
  authCodeId?: string;
  authCodeWrappedKey?: string;
  redirectUri?: string;
}

/** The library's client record, as far as the gate reads it. */
interface StoredClient {
  tokenEndpointAuthMethod?: string;
  clientSecret?: string;
}

const enc = new TextEncoder();

export async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', enc.encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The grant a code or token names: the library's tokens read `userId:grantId:secret`. */
export function grantOf(token: string): { userId: string; grantId: string } | null {
  const parts = token.split(':');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return null;
  return { userId: parts[0], grantId: parts[1] };
}

function b64u(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function unb64u(s: string): Uint8Array {
  const bin = atob(s.replaceAll('-', '+').replaceAll('_', '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function sealKey(token: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest('SHA-256', enc.encode(`keboola-mcp grace seal\n${token}`));
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function seal(token: string, plain: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await sealKey(token), enc.encode(plain)));
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return b64u(out);
}

async function unseal(token: string, sealed: string): Promise<string> {
  const all = unb64u(sealed);
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: all.slice(0, 12) }, await sealKey(token), all.slice(12));
  return new TextDecoder().decode(plain);
}

function tokenError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' },
  });
}

/** The library's answer without the internal reason header. */
function clean(res: Response): Response {
  if (!res.headers.has(REASON_HEADER)) return res;
  const headers = new Headers(res.headers);
  headers.delete(REASON_HEADER);
  return new Response(res.body, { status: res.status, headers });
}

/** The client a token request names: HTTP Basic user or the client_id field. */
function clientCredentials(request: Request, form: URLSearchParams): { id: string; secret: string | null } {
  const auth = request.headers.get('Authorization') ?? '';
  if (/^basic /i.test(auth)) {
    try {
      const [id, secret] = atob(auth.slice(6).trim()).split(':', 2);
      return { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(secret ?? '') };
    } catch {
      return { id: '', secret: null };
    }
  }
  return { id: form.get('client_id') ?? '', secret: form.get('client_secret') };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class GrantGate extends DurableObject<Env> {
  /** /token requests of this grant, one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  async fetch(request: Request): Promise<Response> {
    const turn = this.queue.then(() => this.token(request));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async token(request: Request): Promise<Response> {
    const body = await request.text();
    const form = new URLSearchParams(body);
    const origin = new URL(request.url).origin;
    const call = async () => {
      const ctx = { waitUntil: (p: Promise<unknown>) => this.ctx.waitUntil(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
      return provider(origin, this.env).fetch(new Request(request.url, { method: request.method, headers: request.headers, body }), this.env, ctx);
    };
    switch (form.get('grant_type')) {
      case 'authorization_code':
        return this.redeem(request, form, origin, call);
      case 'refresh_token':
        return this.refresh(request, form, origin, call);
      default:
        return clean(await call());
    }
  }

  private async grant(userId: string, grantId: string): Promise<StoredGrant | null> {
    return this.env.OAUTH_KV.get<StoredGrant>(`grant:${userId}:${grantId}`, 'json');
  }

  private async revoke(origin: string, userId: string, grantId: string, why: string): Promise<void> {
    await getOAuthApi(providerOptions(origin, this.env), this.env).revokeGrant(grantId, userId);
    await this.ctx.storage.deleteAll();
    console.warn(`grant revoked: ${why}`);
  }

  /** Records the refresh token of a successful answer as live; returns the answer's text. */
  private async issued(res: Response): Promise<{ text: string; refreshHash: string | null }> {
    const text = await res.text();
    let refresh: string | undefined;
    try {
      refresh = (JSON.parse(text) as { refresh_token?: string }).refresh_token;
    } catch {
      refresh = undefined;
    }
    return { text, refreshHash: refresh ? await sha256Hex(refresh) : null };
  }

  private async redeem(request: Request, form: URLSearchParams, origin: string, call: () => Promise<Response>): Promise<Response> {
    const code = form.get('code') ?? '';
    const named = grantOf(code);
    const grant = named ? await this.grant(named.userId, named.grantId) : null;
    // Genuine and not yet redeemed: only such a code can be spent by a failure.
    const genuine = named !== null && grant !== null && !!grant.authCodeWrappedKey && grant.authCodeId === (await sha256Hex(code));
    if (genuine && grant.redirectUri !== undefined && !form.get('redirect_uri')) {
      await this.revoke(origin, named.userId, named.grantId, 'a code was presented without the redirect_uri of its authorization request');
      return tokenError(400, 'invalid_grant', 'redirect_uri is required because the authorization request named one; this code is now spent');
    }
    const res = await call();
    if (res.ok) {
      const { text, refreshHash } = await this.issued(res);
      if (refreshHash) await this.ctx.storage.put<RefreshRecord>(`rt:${refreshHash}`, {});
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (genuine) {
      await this.revoke(origin, named.userId, named.grantId, `a failed redemption spent its code (${res.headers.get(REASON_HEADER) ?? res.status})`);
    }
    return clean(res);
  }

  private async refresh(request: Request, form: URLSearchParams, origin: string, call: () => Promise<Response>): Promise<Response> {
    const presented = form.get('refresh_token') ?? '';
    const named = grantOf(presented);
    if (!named) return clean(await call());
    // The library lets any authorization_code client refresh; as on the native
    // server, a client uses only the grant types it registered.
    const { id } = clientCredentials(request, form);
    if (id && (await this.env.OAUTH_KV.get(NO_REFRESH_PREFIX + id)) !== null) {
      return tokenError(400, 'unauthorized_client', 'this client did not register the refresh_token grant');
    }
    const hash = await sha256Hex(presented);
    const record = await this.ctx.storage.get<RefreshRecord>(`rt:${hash}`);
    if (record?.rotatedAt !== undefined) {
      const successor = record.successor ? await this.ctx.storage.get<RefreshRecord>(`rt:${record.successor}`) : undefined;
      const unused = successor !== undefined && successor.rotatedAt === undefined;
      if (Date.now() - record.rotatedAt <= GRACE_MS && unused && record.sealed) {
        if (await this.sameClientAuthenticated(request, form, named)) {
          // The retry of a lost response: the very same answer, once more.
          return new Response(await unseal(presented, record.sealed), {
            headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' },
          });
        }
      }
      await this.revoke(origin, named.userId, named.grantId, 'a superseded refresh token was used again');
      return tokenError(400, 'invalid_grant', 'this refresh token was already used; the grant is revoked, sign in again');
    }
    const res = await call();
    if (res.ok) {
      const { text, refreshHash } = await this.issued(res);
      if (refreshHash) {
        await this.ctx.storage.put<RefreshRecord>({
          [`rt:${hash}`]: { rotatedAt: Date.now(), successor: refreshHash, sealed: await seal(presented, text) },
          [`rt:${refreshHash}`]: {},
        });
      }
      return new Response(text, { status: res.status, headers: res.headers });
    }
    if (res.headers.get(REASON_HEADER) === 'refresh-token-grant/client_mismatch') {
      // The library matched the token to the grant before it compared clients: a genuine token in the wrong hands.
      await this.revoke(origin, named.userId, named.grantId, "another client presented this grant's refresh token");
    }
    return clean(res);
  }

  /** For a grace answer, which bypasses the library: the client must be the grant's and prove it as registered. */
  private async sameClientAuthenticated(request: Request, form: URLSearchParams, named: { userId: string; grantId: string }): Promise<boolean> {
    const grant = await this.grant(named.userId, named.grantId);
    const { id, secret } = clientCredentials(request, form);
    if (!grant || id !== grant.clientId) return false;
    if (id.startsWith('https://')) return !form.has('client_assertion'); // metadata-document clients are public here
    const client = await this.env.OAUTH_KV.get<StoredClient>(`client:${id}`, 'json');
    if (!client) return false;
    if ((client.tokenEndpointAuthMethod ?? 'client_secret_basic') === 'none') return true;
    return secret !== null && !!client.clientSecret && constantTimeEqual(await sha256Hex(secret), client.clientSecret);
  }

  /**
   * Spends this object's consent form: true for the first caller only. The
   * read and the write are one step, since a Durable Object delivers no other
   * call while its storage operation is in progress (input gate).
   */
  async spendConsent(): Promise<boolean> {
    if ((await this.ctx.storage.get(CONSENT_SPENT_KEY)) !== undefined) return false;
    await this.ctx.storage.put(CONSENT_SPENT_KEY, Date.now());
    await this.ctx.storage.setAlarm(Date.now() + CONSENT_SPENT_MS);
    return true;
  }

  /** Only a consent object sets an alarm: once its form has expired, it forgets it was spent. */
  async alarm(): Promise<void> {
    await this.ctx.storage.delete(CONSENT_SPENT_KEY);
  }

  /** Admits an SSE session of this grant while fewer than max are open; an entry lapses after ttlMs unless renewed. */
  async admitSession(sessionId: string, max: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const open = await this.ctx.storage.list<number>({ prefix: 'sse:' });
    const live = [...open].filter(([, until]) => until > now);
    const stale = [...open].filter(([, until]) => until <= now).map(([k]) => k);
    if (stale.length) await this.ctx.storage.delete(stale);
    if (live.length >= max) return false;
    await this.ctx.storage.put(`sse:${sessionId}`, now + ttlMs);
    return true;
  }

  /** Keeps an admitted session counted for another ttlMs. */
  async renewSession(sessionId: string, ttlMs: number): Promise<void> {
    if ((await this.ctx.storage.get(`sse:${sessionId}`)) !== undefined) await this.ctx.storage.put(`sse:${sessionId}`, Date.now() + ttlMs);
  }

  async releaseSession(sessionId: string): Promise<void> {
    await this.ctx.storage.delete(`sse:${sessionId}`);
  }
}
