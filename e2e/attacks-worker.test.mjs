// One attack table, two deployments: the cases of the Go attack table
// (internal/oauth/attack_test.go) that apply to the Worker, run against
// `wrangler dev` of worker/ with plain HTTP, plus the legacy SSE attacks on
// its /messages (internal/mcpserver SSE tests). Case names are the Go ones,
// so a failure here points at the same rule in docs/security.md.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startDevStack, startWorker, step, stopAll } from './harness.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';
let stack;
let worker;

before(async () => {
  stack = await startDevStack('dev-stack-attacks');
  worker = await startWorker({ stack, name: 'worker-attacks', vars: { REGISTER_PER_MINUTE: '6000', REGISTER_BURST: '6000' } });
}, { timeout: 180_000 });

after(() => stopAll());

// --- a hand-driven OAuth client: each step a plain request, so a case can tamper with any of them

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function registerRaw(body) {
  const r = await fetch(`${worker.url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => ({})) };
}

/** A self-registered client whose redirect is https: errors before consent must never be redirected to it. */
const HTTPS_REDIRECT = 'https://client.example/landing';
async function httpsClient() {
  const r = await registerRaw({ redirect_uris: [HTTPS_REDIRECT], token_endpoint_auth_method: 'none' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.client_id;
}

async function publicClient(extra = {}) {
  const r = await registerRaw({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'Attack Table', ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.client_id;
}

function authorizeURL(clientId, challenge, over = {}) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge,
    code_challenge_method: 'S256', scope: 'keboola:read', state: 'st', resource: `${worker.url}/mcp`,
  });
  for (const [k, v] of Object.entries(over)) (v === null ? q.delete(k) : q.set(k, v));
  return `${worker.url}/authorize?${q}`;
}

class Browser {
  jar = new Map();
  absorb(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i).trim(), pair.slice(i + 1));
    }
  }
  cookie() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(url) {
    const r = await fetch(url, { headers: { Cookie: this.cookie() }, redirect: 'manual' });
    this.absorb(r);
    const html = await r.text();
    return { status: r.status, html, location: r.headers.get('Location'), csrf: /name="csrf_token" value="([^"]*)"/.exec(html)?.[1] ?? '' };
  }
  async post(fields) {
    const r = await fetch(`${worker.url}/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: this.cookie() },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    this.absorb(r);
    return { status: r.status, location: r.headers.get('Location'), html: await r.text() };
  }
}

function approveFields(csrf, { scopes = ['keboola:read'], token = stack.token, stackURL = stack.url, action = 'approve' } = {}) {
  return [['csrf_token', csrf], ['stack_url', stackURL], ['storage_token', token], ...scopes.map((s) => ['scope', s]), ['action', action]];
}

/** A fresh code for clientId, with the verifier that redeems it. */
async function code(clientId, scopes = ['keboola:read']) {
  const { verifier, challenge } = pkce();
  const b = new Browser();
  const form = await b.get(authorizeURL(clientId, challenge, { scope: scopes.join(' ') }));
  assert.equal(form.status, 200, form.html.slice(0, 200));
  const r = await b.post(approveFields(form.csrf, { scopes }));
  assert.equal(r.status, 303, r.html.slice(0, 200));
  return { code: new URL(r.location).searchParams.get('code'), verifier };
}

async function token(fields, headers = {}) {
  const r = await fetch(`${worker.url}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: r.status, json: await r.json().catch(() => ({})) };
}

async function tokens(clientId, scopes = ['keboola:read']) {
  const c = await code(clientId, scopes);
  const t = await token({ grant_type: 'authorization_code', client_id: clientId, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  return t.json;
}

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
async function mcpStatus(accessToken) {
  const r = await fetch(`${worker.url}/mcp`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify(toolsList),
  });
  await r.body?.cancel();
  return r.status;
}

/** Opens an SSE session and returns its messages URL; the stream is cancelled on close(). */
async function sseSession(accessToken) {
  const ctrl = new AbortController();
  const r = await fetch(`${worker.url}/sse`, { headers: { Authorization: `Bearer ${accessToken}` }, signal: ctrl.signal });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  let buf = '';
  while (!buf.includes('\n\n')) buf += new TextDecoder().decode((await reader.read()).value);
  return { messages: new URL(/data: (\S+)/.exec(buf)[1], worker.url).toString(), close: () => ctrl.abort() };
}

function postMessage(url, accessToken, message) {
  const headers = { 'Content-Type': 'application/json' };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(message) });
}

// --- the table

const attacks = [
  ['PKCE missing at authorize', async () => {
    const r = await new Browser().get(authorizeURL(await httpsClient(), '', { redirect_uri: HTTPS_REDIRECT, code_challenge: null, code_challenge_method: null }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null, 'a self-registered client is never redirected to with an error');
  }],
  ['PKCE plain method', async () => {
    const { verifier } = pkce();
    const r = await new Browser().get(authorizeURL(await httpsClient(), verifier, { redirect_uri: HTTPS_REDIRECT, code_challenge_method: 'plain' }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['PKCE wrong verifier', async () => {
    const id = await publicClient();
    const c = await code(id);
    const bad = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: pkce().verifier });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid_grant');
    const late = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier });
    assert.equal(late.status, 400, 'the code was spent by the failed attempt');
  }],
  ['PKCE verifier omitted', async () => {
    const id = await publicClient();
    const c = await code(id);
    const r = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT });
    assert.equal(r.status, 400);
  }],
  ['code replay revokes what it issued', async () => {
    const id = await publicClient();
    const c = await code(id);
    const fields = { grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const first = await token(fields);
    assert.equal(first.status, 200);
    assert.equal((await token(fields)).status, 400);
    assert.equal(await mcpStatus(first.json.access_token), 401, 'the replay revoked the first tokens');
  }],
  ['code redeemed by 6 concurrent requests', async () => {
    const id = await publicClient();
    const c = await code(id);
    const fields = { grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier };
    const all = await Promise.all(Array.from({ length: 6 }, () => token(fields)));
    assert.equal(all.filter((r) => r.status === 200).length, 1, all.map((r) => r.status).join(','));
  }],
  ['errors before consent are redirected to a loopback client', async () => {
    const r = await new Browser().get(authorizeURL(await publicClient(), '', { code_challenge: null, code_challenge_method: null }));
    assert.equal(r.status, 302);
    assert.equal(new URL(r.location).origin, new URL(REDIRECT).origin);
    assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_request');
  }],
  ['redirect URI not registered at authorize', async () => {
    const r = await new Browser().get(authorizeURL(await publicClient(), pkce().challenge, { redirect_uri: 'https://attacker.example/cb' }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['redirect URI differs at token', async () => {
    const id = await publicClient({ redirect_uris: [REDIRECT, 'https://client.example/other'] });
    const c = await code(id);
    const r = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: 'https://client.example/other', code_verifier: c.verifier });
    assert.equal(r.status, 400);
  }],
  ['redirect URI omitted at token', async () => {
    const id = await publicClient();
    const c = await code(id);
    const r = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, code_verifier: c.verifier });
    assert.equal(r.status, 400);
  }],
  ['javascript: redirect at registration', async () => {
    for (const u of ['javascript:alert(1)', 'data:text/html,x', 'https://client.example/cb#frag', 'http://evil.example/cb']) {
      const r = await registerRaw({ redirect_uris: [u], token_endpoint_auth_method: 'none' });
      assert.equal(r.status, 400, u);
    }
  }],
  ['look-alike Unicode redirect host at registration', async () => {
    const r = await registerRaw({ redirect_uris: ['https://\u0430pple.com/cb'], token_endpoint_auth_method: 'none' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_redirect_uri');
  }],
  ['bidi override in the client name at registration', async () => {
    const r = await registerRaw({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: 'a\u202eb' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_client_metadata');
  }],
  ['oversized registration', async () => {
    const r = await registerRaw({ redirect_uris: [REDIRECT], client_name: 'x'.repeat(20000) });
    assert.ok(r.status === 400 || r.status === 413, String(r.status));
  }],
  ['resource mismatch at authorize', async () => {
    const r = await new Browser().get(authorizeURL(await httpsClient(), pkce().challenge, { redirect_uri: HTTPS_REDIRECT, resource: 'https://other.example/mcp' }));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['resource mismatch at token', async () => {
    const id = await publicClient();
    const c = await code(id);
    const r = await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, resource: 'https://other.example/mcp' });
    assert.equal(r.status, 400);
  }],
  ['refresh reuse after grace revokes the family', async () => {
    const id = await publicClient();
    const t0 = await tokens(id);
    const t1 = await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t0.refresh_token });
    const t2 = await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t1.json.refresh_token });
    assert.equal(t2.status, 200);
    assert.equal((await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t0.refresh_token })).status, 400);
    assert.equal(await mcpStatus(t2.json.access_token), 401);
  }],
  ["another client's refresh token ends that grant", async () => {
    const owner = await publicClient();
    const t = await tokens(owner);
    assert.equal((await token({ grant_type: 'refresh_token', client_id: await publicClient(), refresh_token: t.refresh_token })).status, 400);
    assert.equal(await mcpStatus(t.access_token), 401);
  }],
  ['revoking the refresh token ends the grant', async () => {
    const id = await publicClient();
    const t = await tokens(id);
    const r = await fetch(`${worker.url}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: id, token: t.refresh_token, token_type_hint: 'refresh_token' }).toString(),
    });
    assert.equal(r.status, 200);
    assert.equal((await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t.refresh_token })).status, 400);
  }],
  ['CSRF token missing', async () => {
    const b = new Browser();
    await b.get(authorizeURL(await publicClient(), pkce().challenge));
    const r = await b.post(approveFields(''));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['form posted from another browser', async () => {
    const form = await new Browser().get(authorizeURL(await publicClient(), pkce().challenge));
    const r = await new Browser().post(approveFields(form.csrf));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['the approval POST cannot be replayed', async () => {
    const b = new Browser();
    const form = await b.get(authorizeURL(await publicClient(), pkce().challenge));
    const saved = new Map(b.jar);
    assert.equal((await b.post(approveFields(form.csrf))).status, 303);
    b.jar = saved;
    const again = await b.post(approveFields(form.csrf));
    assert.equal(again.status, 400);
    assert.equal(again.location, null);
  }],
  ['query-string token', async () => {
    const t = await tokens(await publicClient());
    const r = await fetch(`${worker.url}/mcp?access_token=${encodeURIComponent(t.access_token)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: JSON.stringify(toolsList),
    });
    assert.equal(r.status, 401);
  }],
  ['unknown client at token', async () => {
    const r = await token({ grant_type: 'authorization_code', client_id: 'no-such-client', code: 'a:b:c', redirect_uri: REDIRECT, code_verifier: 'x' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'invalid_client');
  }],
  ['unknown client at authorize', async () => {
    const r = await new Browser().get(authorizeURL('no-such-client', pkce().challenge));
    assert.equal(r.status, 400);
    assert.equal(r.location, null);
  }],
  ['confidential client with a wrong secret', async () => {
    const reg = await registerRaw({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    const id = reg.json.client_id;
    const c = await code(id);
    const r = await token({ grant_type: 'authorization_code', client_id: id, client_secret: 'wrong', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier });
    assert.equal(r.status, 401);
  }],
  ['refresh by a client that did not register the refresh grant', async () => {
    const reg = await registerRaw({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
    const id = reg.json.client_id;
    const t = await tokens(id);
    if (!t.refresh_token) return; // no refresh token issued at all: nothing to misuse
    const r = await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t.refresh_token });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'unauthorized_client');
  }],
  ['login form with a Storage token is redirected with 303 so it is never re-posted', async () => {
    for (const action of ['approve', 'deny']) {
      const b = new Browser();
      const form = await b.get(authorizeURL(await publicClient(), pkce().challenge));
      const r = await b.post(approveFields(form.csrf, { action }));
      assert.equal(r.status, 303, action);
    }
  }],
  ['code redeemed by another client', async () => {
    const id = await publicClient();
    const c = await code(id);
    assert.equal((await token({ grant_type: 'authorization_code', client_id: await publicClient(), code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier })).status, 400);
    assert.equal((await token({ grant_type: 'authorization_code', client_id: id, code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier })).status, 400, 'spent');
  }],
  ['stack off the allowlist', async () => {
    const b = new Browser();
    const form = await b.get(authorizeURL(await publicClient(), pkce().challenge));
    const r = await b.post(approveFields(form.csrf, { stackURL: 'https://connection.evil.example' }));
    assert.equal(r.status, 400);
    assert.match(r.html, /name="csrf_token"/);
  }],
  ['invalid Keboola token', async () => {
    const b = new Browser();
    const form = await b.get(authorizeURL(await publicClient(), pkce().challenge));
    const r = await b.post(approveFields(form.csrf, { token: 'not-a-real-token' }));
    assert.equal(r.status, 400);
    assert.ok(!r.html.includes('not-a-real-token'), 'the token is never echoed');
  }],
  ['user denies', async () => {
    const b = new Browser();
    const form = await b.get(authorizeURL(await publicClient(), pkce().challenge));
    const r = await b.post([['csrf_token', form.csrf], ['action', 'deny']]);
    assert.equal(new URL(r.location).searchParams.get('error'), 'access_denied');
  }],
  ['scope the client never asked for', async () => {
    const id = await publicClient();
    const { verifier, challenge } = pkce();
    const b = new Browser();
    const form = await b.get(authorizeURL(id, challenge, { scope: 'keboola:read' }));
    const r = await b.post(approveFields(form.csrf, { scopes: ['keboola:read', 'keboola:write'] }));
    const t = await token({ grant_type: 'authorization_code', client_id: id, code: new URL(r.location).searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(t.json.scope, 'keboola:read');
  }],
  ['token for another audience', async () => {
    const id = await publicClient();
    const t = await tokens(id);
    const r = await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t.refresh_token, resource: 'https://other.example/mcp' });
    assert.equal(r.status, 400);
  }],
  ['scope escalation at refresh', async () => {
    const id = await publicClient();
    const t = await tokens(id, ['keboola:read']);
    const r = await token({ grant_type: 'refresh_token', client_id: id, refresh_token: t.refresh_token, scope: 'keboola:write' });
    assert.ok(r.status === 400 || !String(r.json.scope ?? '').includes('keboola:write'), JSON.stringify(r.json));
  }],
  ['CIMD client id on a private address', async () => {
    for (const id of ['https://127.0.0.1/client.json', 'https://localhost:8443/client.json', 'https://10.1.2.3/c.json']) {
      const r = await new Browser().get(authorizeURL(id, pkce().challenge));
      assert.equal(r.status, 400, id);
      assert.match(r.html, /refused/, id);
    }
  }],
  ['foreign Host (DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise((ok, fail) => {
      const req = request(`${worker.url}/mcp`, { method: 'POST', headers: { Host: 'evil.example.com', 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        ok(res.statusCode);
      });
      req.on('error', fail);
      req.end('{}');
    });
    assert.equal(status, 403);
  }],
  // Legacy SSE: /messages is bound to the session's grant and scope.
  ["/messages with another grant's token", async () => {
    const mine = await tokens(await publicClient());
    const theirs = await tokens(await publicClient());
    const s = await sseSession(mine.access_token);
    try {
      assert.equal((await postMessage(s.messages, theirs.access_token, toolsList)).status, 403);
    } finally {
      s.close();
    }
  }],
  ['/messages with a read-only token calling a write tool', async () => {
    const t = await tokens(await publicClient(), ['keboola:read']);
    const s = await sseSession(t.access_token);
    try {
      const r = await postMessage(s.messages, t.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_project_description', arguments: { description: 'x' } } });
      assert.equal(r.status, 403);
      assert.match(r.headers.get('WWW-Authenticate') ?? '', /insufficient_scope/);
    } finally {
      s.close();
    }
  }],
  ['/messages without a token', async () => {
    const t = await tokens(await publicClient());
    const s = await sseSession(t.access_token);
    try {
      assert.equal((await postMessage(s.messages, null, toolsList)).status, 401);
    } finally {
      s.close();
    }
  }],
];

for (const [name, run] of attacks) {
  test(`attack on the Worker: ${name}`, () =>
    step({ client: 'attack table', deployment: 'worker', logs: [worker.proc, stack.proc] }, name, run, 90));
}
