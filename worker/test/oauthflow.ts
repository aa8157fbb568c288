// A hand-driven OAuth client for the tests: each step is a plain HTTP
// request, so a test can replay, tamper with or skip any of them.
import { createHash, randomBytes } from 'node:crypto';

export const REDIRECT = 'http://127.0.0.1:9/callback';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function register(base: string, redirect = REDIRECT, name = 'Test Client'): Promise<string> {
  const r = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_name: name, redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { client_id: string }).client_id;
}

/** Cookies as a browser keeps them: name → value. */
export type Jar = Map<string, string>;

export function absorb(jar: Jar, res: Response): void {
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    const name = pair.slice(0, i).trim();
    const cleared = attrs.some((a) => /max-age=0/i.test(a.trim())) || pair.slice(i + 1) === '';
    if (cleared) jar.delete(name);
    else jar.set(name, pair.slice(i + 1));
  }
}

export function cookieHeader(jar: Jar): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** Undoes html/template's escaping of an attribute value. */
function unescapeHTML(s: string): string {
  return s.replaceAll('&#43;', '+').replaceAll('&#34;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

export interface Form {
  status: number;
  html: string;
  csrf: string;
  headers: Headers;
}

export function authorizeURL(base: string, clientId: string, challenge: string, scope = 'keboola:read', redirect = REDIRECT): string {
  const u = new URL(`${base}/authorize`);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirect,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope,
    state: 'st-' + randomBytes(6).toString('hex'),
    resource: `${base}/mcp`,
  }).toString();
  return u.toString();
}

export async function openForm(url: string, jar: Jar): Promise<Form> {
  const r = await fetch(url, { headers: { Cookie: cookieHeader(jar) }, redirect: 'manual' });
  absorb(jar, r);
  const html = await r.text();
  const csrf = /name="csrf_token" value="([^"]*)"/.exec(html)?.[1] ?? '';
  return { status: r.status, html, csrf, headers: r.headers };
}

export async function submit(base: string, jar: Jar, fields: [string, string][], origin?: string): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(jar) };
  if (origin) headers.Origin = origin;
  const r = await fetch(`${base}/authorize`, { method: 'POST', headers, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
  absorb(jar, r);
  return r;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

export async function tokenRequest(base: string, fields: Record<string, string>): Promise<Response> {
  return fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

/**
 * Runs the whole flow for a registered client: form, approve with the given
 * stack and token, code, tokens. Fails loudly at the first unexpected answer.
 */
export async function login(
  base: string,
  clientId: string,
  stackURL: string,
  storageToken: string,
  scopes: string[] = ['keboola:read', 'keboola:write'],
): Promise<Tokens> {
  const jar: Jar = new Map();
  const { verifier, challenge } = pkce();
  const form = await openForm(authorizeURL(base, clientId, challenge, scopes.join(' ')), jar);
  if (form.status !== 200 || !form.csrf) throw new Error(`form: ${form.status} ${form.html.slice(0, 300)}`);
  // The native server's form also carries the authorization request, sealed.
  const sealed = /name="request" value="([^"]*)"/.exec(form.html)?.[1];
  const res = await submit(base, jar, [
    ...(sealed ? [['request', unescapeHTML(sealed)] as [string, string]] : []),
    ['csrf_token', form.csrf],
    ['stack_url', stackURL],
    ['storage_token', storageToken],
    ...scopes.map((s) => ['scope', s] as [string, string]),
    ['action', 'approve'],
  ]);
  const location = res.headers.get('Location');
  if (res.status !== 303 || !location) throw new Error(`approve: ${res.status} ${await res.text()}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const t = await tokenRequest(base, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    code_verifier: verifier,
    resource: `${base}/mcp`,
  });
  if (t.status !== 200) throw new Error(`token: ${t.status} ${await t.text()}`);
  return (await t.json()) as Tokens;
}

/**
 * Runs "Sign in with Keboola" for a registered client: the consent form with
 * action=keboola, the (fake) Keboola stack approving as the holder of
 * memberToken, the Worker's callback, then the code for tokens. The grant
 * then holds the Storage token minted at sign-in and the member's bearer.
 */
export async function keboolaSignIn(base: string, clientId: string, stackURL: string, memberToken: string, scopes: string[] = ['keboola:read']): Promise<Tokens> {
  const jar: Jar = new Map();
  const { verifier, challenge } = pkce();
  const form = await openForm(authorizeURL(base, clientId, challenge, scopes.join(' ')), jar);
  if (form.status !== 200 || !form.csrf) throw new Error(`form: ${form.status} ${form.html.slice(0, 300)}`);
  const consent = await submit(base, jar, [['csrf_token', form.csrf], ['stack_url', stackURL], ...scopes.map((s) => ['scope', s] as [string, string]), ['action', 'keboola']]);
  if (consent.status !== 303) throw new Error(`consent: ${consent.status} ${await consent.text()}`);
  const approved = await approveAtKeboola(stackURL, new URL(consent.headers.get('Location')!), memberToken);
  if (approved.status !== 302) throw new Error(`Keboola authorize: ${approved.status} ${await approved.text()}`);
  const back = await fetch(approved.headers.get('Location')!, { headers: { Cookie: cookieHeader(jar) }, redirect: 'manual' });
  if (back.status !== 302) throw new Error(`callback: ${back.status} ${await back.text()}`);
  const code = new URL(back.headers.get('Location')!).searchParams.get('code');
  if (!code) throw new Error(`no code in ${back.headers.get('Location')}`);
  const t = await tokenRequest(base, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier, resource: `${base}/mcp` });
  if (t.status !== 200) throw new Error(`token: ${t.status} ${await t.text()}`);
  return (await t.json()) as Tokens;
}

export async function mcp(base: string, token: string, message: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify(message),
  });
}

/**
 * The JSON-RPC message of an MCP answer, whether it came as JSON (the wasm
 * build's JSON-response mode) or as an event stream (the native server).
 */
export async function readRPC(res: Response): Promise<any> {
  const body = await res.text();
  if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
    const data = body
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim());
    if (data.length === 0) throw new Error(`no data in event stream: ${body.slice(0, 300)}`);
    return JSON.parse(data[data.length - 1]);
  }
  return JSON.parse(body);
}

/**
 * The member approves a "Sign in with Keboola" request on the fake stack's
 * consent form (keboolaURL: where the Worker sent the browser); Keboola's
 * answer, a redirect to the Worker's callback when approved.
 */
export function approveAtKeboola(stackURL: string, keboolaURL: URL, memberToken: string): Promise<Response> {
  const q = keboolaURL.searchParams;
  return fetch(`${stackURL}/oauth/authorize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: q.get('client_id')!,
      redirect_uri: q.get('redirect_uri')!,
      state: q.get('state')!,
      response_type: 'code',
      token: memberToken,
      action: 'authorize',
    }).toString(),
    redirect: 'manual',
  });
}
