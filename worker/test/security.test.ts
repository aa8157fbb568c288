// The Worker's half of issue 11: each finding of the red-team pass against
// the Worker in workerd (wrangler dev, local KV and Durable Objects), as an
// attack that must fail. docs/security.md lists these tests beside the
// native ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEV_TOKEN, startDevStack, startWorker, type Proc } from './harness.ts';
import {
  authorizeURL,
  login,
  mcp,
  openForm,
  pkce,
  register,
  REDIRECT,
  submit,
  tokenRequest,
  type Jar,
} from './oauthflow.ts';

let stack: Proc;
let worker: Proc;

before(async () => {
  stack = await startDevStack();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url });
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
});

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Approves the login form for a client; returns the code and the PKCE verifier. */
async function approvedCode(clientId: string, scopes = ['keboola:read'], requested = 'keboola:read'): Promise<{ code: string; verifier: string }> {
  const jar: Jar = new Map();
  const { verifier, challenge } = pkce();
  const form = await openForm(authorizeURL(worker.url, clientId, challenge, requested), jar);
  assert.equal(form.status, 200, form.html.slice(0, 300));
  const res = await submit(worker.url, jar, [
    ['csrf_token', form.csrf],
    ['stack_url', stack.url],
    ['storage_token', DEV_TOKEN],
    ...scopes.map((s) => ['scope', s] as [string, string]),
    ['action', 'approve'],
  ]);
  assert.equal(res.status, 303, await res.clone().text());
  const code = new URL(res.headers.get('Location')!).searchParams.get('code');
  assert.ok(code);
  return { code, verifier };
}

function redeem(clientId: string, code: string, verifier: string, extra: Record<string, string> = {}): Promise<Response> {
  return tokenRequest(worker.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier, ...extra });
}

const refresh = (clientId: string, rt: string) => tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: rt, client_id: clientId });

/** A raw HTTP request with a Host header of our choosing (fetch will not send one). */
function withHost(url: string, host: string, method = 'GET', body?: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { method, headers: { Host: host, 'Content-Type': 'application/json', Origin: `http://${host}` } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: data, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', fail);
    req.end(method === 'GET' ? undefined : body);
  });
}

describe('refresh tokens: one rotation, a grace only while the successor is unused', () => {
  test('a stolen refresh token replayed after the grace window revokes the grant instead of getting a new pair', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const legit = await refresh(client, t0.refresh_token);
    assert.equal(legit.status, 200);
    const t1 = await legit.json();
    await sleep(11_000); // past the 10 s grace: a wait, not a timing assertion
    const thief = await refresh(client, t0.refresh_token);
    assert.equal(thief.status, 400, 'the thief must get no tokens');
    assert.equal((await thief.json()).error, 'invalid_grant');
    assert.equal((await refresh(client, t1.refresh_token)).status, 400, 'the whole grant is revoked');
    assert.equal((await mcp(worker.url, t1.access_token, toolsList)).status, 401);
  });

  test('within the grace, a superseded token whose successor was already used revokes the grant (no handing the live chain to an old token)', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const t1 = await (await refresh(client, t0.refresh_token)).json();
    const r2 = await refresh(client, t1.refresh_token);
    assert.equal(r2.status, 200);
    const t2 = await r2.json();
    assert.equal((await refresh(client, t0.refresh_token)).status, 400, 't0 came back after its successor t1 was used');
    assert.equal((await refresh(client, t2.refresh_token)).status, 400);
    assert.equal((await mcp(worker.url, t2.access_token, toolsList)).status, 401);
  });

  test('concurrent refreshes with one token: one rotation, every answer the same pair', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const answers = await Promise.all(Array.from({ length: 4 }, () => refresh(client, t0.refresh_token)));
    const bodies = await Promise.all(answers.map((r) => r.json()));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
    assert.equal(new Set(bodies.map((b) => b.refresh_token)).size, 1, 'exactly one successor');
    assert.equal((await refresh(client, bodies[0].refresh_token)).status, 200);
  });

  test("another client presenting a grant's refresh token ends that grant", async () => {
    const owner = await register(worker.url);
    const other = await register(worker.url);
    const t = await login(worker.url, owner, stack.url, DEV_TOKEN);
    const stolen = await refresh(other, t.refresh_token);
    assert.equal(stolen.status, 400);
    assert.equal((await refresh(owner, t.refresh_token)).status, 400, 'the grant is gone for its owner too');
    assert.equal((await mcp(worker.url, t.access_token, toolsList)).status, 401);
  });
});

// The library spends a consent handle with a KV get then delete, which two
// requests can interleave; as on native (one atomic spend), racing answers
// of one form must give one outcome.
describe('consent forms', () => {
  async function racingAnswers(actions: string[]): Promise<Response[]> {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    assert.equal(form.status, 200, form.html.slice(0, 300));
    return Promise.all(
      actions.map((action) =>
        submit(worker.url, new Map(jar), [
          ['csrf_token', form.csrf],
          ['stack_url', stack.url],
          ['storage_token', DEV_TOKEN],
          ['scope', 'keboola:read'],
          ['action', action],
        ]),
      ),
    );
  }

  test('6 concurrent approvals of one form give exactly one code', async () => {
    const answers = await racingAnswers(Array(6).fill('approve'));
    const codes = answers.map((r) => r.headers.get('Location')).filter((l) => l !== null && new URL(l).searchParams.has('code'));
    assert.equal(codes.length, 1, `statuses: ${answers.map((r) => r.status).join(',')}`);
    for (const r of answers.filter((r) => r.status !== 303)) {
      assert.equal(r.status, 400);
      assert.match(await r.text(), /already (used|answered)/);
    }
  });

  test('approvals and denials of one form racing: exactly one of them is answered', async () => {
    const answers = await racingAnswers(['approve', 'deny', 'approve', 'deny', 'approve', 'deny']);
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 303).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 400).length, 5, `statuses: ${statuses.join(',')}`);
  });
});

describe('authorization codes', () => {
  test('one code redeemed by 6 concurrent requests yields exactly one token response', async () => {
    const client = await register(worker.url);
    const { code, verifier } = await approvedCode(client);
    const answers = await Promise.all(Array.from({ length: 6 }, () => redeem(client, code, verifier)));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 400).length, 5, `statuses: ${statuses.join(',')}`);
  });

  test('a wrong PKCE verifier spends the code', async () => {
    const client = await register(worker.url);
    const { code, verifier } = await approvedCode(client);
    assert.equal((await redeem(client, code, pkce().verifier)).status, 400);
    assert.equal((await redeem(client, code, verifier)).status, 400, 'the right verifier comes too late');
  });

  test('a code presented by another client is spent', async () => {
    const client = await register(worker.url);
    const other = await register(worker.url);
    const { code, verifier } = await approvedCode(client);
    assert.equal((await redeem(other, code, verifier)).status, 400);
    assert.equal((await redeem(client, code, verifier)).status, 400);
  });

  test('redirect_uri is required at /token when the authorization request named one; leaving it out spends the code', async () => {
    const client = await register(worker.url);
    const { code, verifier } = await approvedCode(client);
    const r = await tokenRequest(worker.url, { grant_type: 'authorization_code', code, client_id: client, code_verifier: verifier });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).error, 'invalid_grant');
    assert.equal((await redeem(client, code, verifier)).status, 400);
  });

  test('a made-up code naming a real grant spends nothing', async () => {
    const client = await register(worker.url);
    const { code, verifier } = await approvedCode(client);
    const [user, grant] = code.split(':');
    assert.equal((await redeem(client, `${user}:${grant}:guessed`, verifier)).status, 400);
    assert.equal((await redeem(client, code, verifier)).status, 200);
  });
});

describe('consent', () => {
  test('the user cannot grant a scope the client never asked for', async () => {
    const client = await register(worker.url);
    const { code, verifier } = await approvedCode(client, ['keboola:read', 'keboola:write'], 'keboola:read');
    const t = await redeem(client, code, verifier);
    assert.equal(t.status, 200);
    assert.equal((await t.json()).scope, 'keboola:read');
  });

  test('the login page sends the native security headers, and every answer to its POST is a 303', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    const csp = form.headers.get('Content-Security-Policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:9;/, 'the form may lead only here and to the client');
    assert.equal(form.headers.get('Referrer-Policy'), 'no-referrer');
    assert.equal(form.headers.get('X-Content-Type-Options'), 'nosniff');
    assert.equal(form.headers.get('X-Frame-Options'), 'DENY');
    const denied = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['action', 'deny'],
    ]);
    assert.equal(denied.status, 303);
    await approvedCode(client); // asserts the 303 after an approval carrying the Storage token
  });

  for (const [what, change] of [
    ['response_type=token', (q: URLSearchParams) => q.set('response_type', 'token')],
    ['missing PKCE', (q: URLSearchParams) => (q.delete('code_challenge'), q.delete('code_challenge_method'))],
    ['a foreign resource', (q: URLSearchParams) => q.set('resource', 'https://evil.example/mcp')],
    ['an unknown scope', (q: URLSearchParams) => q.set('scope', 'keboola:admin')],
  ] as const) {
    test(`a self-registered client's error before consent (${what}) is shown here, not redirected with the attacker's state`, async () => {
      const client = await register(worker.url, 'https://attacker.example/landing');
      const u = new URL(authorizeURL(worker.url, client, pkce().challenge, 'keboola:read', 'https://attacker.example/landing'));
      change(u.searchParams);
      const r = await fetch(u, { redirect: 'manual' });
      assert.equal(r.headers.get('Location'), null, `redirected to ${r.headers.get('Location')}`);
      assert.equal(r.status, 400);
    });
  }
});

describe('Host', () => {
  for (const path of ['/mcp', '/authorize', '/register', '/token', '/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp', '/sse']) {
    test(`a foreign Host on ${path} is a plain 403, never a stack trace`, async () => {
      const r = await withHost(`${worker.url}${path}`, 'evil.example.com', path === '/register' || path === '/token' ? 'POST' : 'GET', '{}');
      assert.equal(r.status, 403, r.body.slice(0, 300));
      assert.match(r.type, /application\/json/);
      assert.equal(JSON.parse(r.body).error, 'invalid_request');
      assert.doesNotMatch(r.body, /at |Error|\.ts:|\.js:/);
    });
  }

  test('loopback hosts are still served (wrangler dev)', async () => {
    const port = new URL(worker.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const r = await withHost(`${worker.url}/.well-known/oauth-authorization-server`, host);
      assert.equal(r.status, 200, host);
      assert.equal(JSON.parse(r.body).issuer, `http://${host}`);
    }
  });
});

describe('client metadata documents', () => {
  let listener: Server;
  let connections = 0;
  let port = 0;

  before(async () => {
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
    port = (listener.address() as { port: number }).port;
  });
  after(() => new Promise<void>((ok) => listener.close(() => ok())));

  test('client ids on loopback, private or local hosts, or on another port, are refused before any fetch', async () => {
    for (const id of [
      `https://127.0.0.1:${port}/client.json`,
      `https://localhost:${port}/client.json`,
      'https://localhost/client.json',
      'https://[::1]/client.json',
      'https://10.0.0.1/client.json',
      'https://2130706433/client.json',
      'https://metadata.internal/client.json',
      'https://printer.local/client.json',
      `https://client.example.com:${port}/client.json`,
    ]) {
      const u = new URL(authorizeURL(worker.url, id, pkce().challenge));
      const r = await fetch(u, { redirect: 'manual' });
      assert.equal(r.status, 400, id);
      assert.match(await r.text(), /client id was refused/, id);
      const t = await tokenRequest(worker.url, { grant_type: 'authorization_code', code: 'a:b:c', client_id: id, code_verifier: 'x', redirect_uri: REDIRECT });
      assert.equal(t.status, 401, id);
      assert.equal((await t.json()).error, 'invalid_client');
    }
    assert.equal(connections, 0, 'the Worker connected to a loopback port');
  });
});

describe('registration', () => {
  // testdata/security/client-metadata.json: the native server's vectors (internal/oauth/vectors_test.go), run here against the Worker.
  type Expand = Record<string, { repeat?: string; template?: string; times: number }>;
  type Vector = { name: string; body?: Record<string, unknown>; raw?: string; expand?: Expand; expect: 'accept' | 'reject'; status: number; error?: string };
  const { cases } = JSON.parse(readFileSync(new URL('../../testdata/security/client-metadata.json', import.meta.url), 'utf8')) as { cases: Vector[] };

  function requestBody(v: Vector): string {
    if (v.raw !== undefined) return v.raw;
    const body: Record<string, unknown> = { ...v.body };
    for (const [field, e] of Object.entries(v.expand ?? {})) {
      body[field] = e.template !== undefined ? Array.from({ length: e.times }, (_, i) => e.template!.replaceAll('{i}', String(i))) : (e.repeat ?? '').repeat(e.times);
    }
    return JSON.stringify(body);
  }

  for (const v of cases) {
    test(`shared client metadata vector (${v.expect}): ${v.name}`, async () => {
      const r = await fetch(`${worker.url}/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: requestBody(v) });
      const body = await r.json();
      assert.equal(r.status, v.status, JSON.stringify(body));
      if (v.expect === 'accept') assert.ok(body.client_id, JSON.stringify(body));
      else assert.equal(body.error, v.error, JSON.stringify(body));
    });
  }
});

describe('registration rate limit (defaults: 10 a minute, 20 at once, per address)', () => {
  let limited: Proc;
  before(async () => {
    limited = await startWorker({ KEBOOLA_STACKS: stack.url, REGISTER_PER_MINUTE: '10', REGISTER_BURST: '20' });
  });
  after(() => limited?.stop());

  test('the 21st registration in a burst from one address is 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 21; i++) {
      last = await fetch(`${limited.url}/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', client_name: `burst ${i}` }),
      });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(201));
    assert.equal(statuses[20], 429);
    assert.equal(last!.headers.get('Retry-After'), '60');
    assert.equal((await last!.json()).error, 'temporarily_unavailable');
  });
});
