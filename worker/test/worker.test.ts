// The Worker in workerd (wrangler dev, local KV) serving MCP through the Go
// wasm build against a fake Keboola stack: the OAuth flow and the security
// rules of shared/mcp-auth.md that apply to it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEV_TOKEN, KBC_CLIENT, startDevStack, startWorker, type Proc } from './harness.ts';
import {
  absorb,
  approveAtKeboola,
  authorizeURL,
  cookieHeader,
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
  worker = await startWorker({
    KEBOOLA_STACKS: stack.url,
    ALLOWED_ORIGINS: 'https://inspector.example',
    KBC_OAUTH_CLIENT_ID: KBC_CLIENT.id,
    KBC_OAUTH_CLIENT_SECRET: KBC_CLIENT.secret,
  });
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
});

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

async function json(res: Response): Promise<any> {
  const body = await res.text();
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`not JSON (${res.status}): ${body.slice(0, 300)}`);
  }
}

describe('discovery', () => {
  test('metadata names the /mcp resource, both scopes, PKCE S256, DCR and CIMD', async () => {
    const as = await json(await fetch(`${worker.url}/.well-known/oauth-authorization-server`));
    assert.equal(as.issuer, worker.url);
    assert.deepEqual(as.scopes_supported, ['keboola:read', 'keboola:write']);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.equal(as.registration_endpoint, `${worker.url}/register`);
    assert.equal(as.client_id_metadata_document_supported, true);
    const pr = await json(await fetch(`${worker.url}/.well-known/oauth-protected-resource/mcp`));
    assert.equal(pr.resource, `${worker.url}/mcp`);
    assert.deepEqual(pr.authorization_servers, [worker.url]);
    // As on native: clients ask for every scope, and the person unticks write on the consent page.
    assert.deepEqual(pr.scopes_supported, ['keboola:read', 'keboola:write']);
  });

  test('/mcp without a token is 401 with a challenge pointing at the metadata', async () => {
    const r = await fetch(`${worker.url}/mcp`, { method: 'POST', body: JSON.stringify(toolsList) });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('WWW-Authenticate') ?? '', /resource_metadata="[^"]+\/.well-known\/oauth-protected-resource\/mcp"/);
    assert.match(r.headers.get('WWW-Authenticate') ?? '', /scope="keboola:read keboola:write"/);
  });
});

describe('OAuth flow and the Go tools (wasm)', () => {
  test('DCR, form, PKCE, token, then tools/list and a tool call answered from the fake stack', async () => {
    const client = await register(worker.url);
    const t = await login(worker.url, client, stack.url, DEV_TOKEN);
    assert.equal(t.scope, 'keboola:read keboola:write');
    const list = await json(await mcp(worker.url, t.access_token, toolsList));
    const names = list.result.tools.map((x: { name: string }) => x.name);
    assert.ok(names.includes('get_buckets') && names.includes('update_project_description'), names.join(','));
    const call = await json(
      await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } }),
    );
    assert.equal(call.result.isError ?? false, false);
    assert.match(call.result.content[0].text, /in\.c-crm/);
  });

  test('user ids inside tokens are opaque: no Keboola token, id or project in them', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const userId = t.access_token.split(':')[0];
    assert.match(userId, /^[A-Za-z0-9_-]{24}$/);
    assert.ok(!t.access_token.includes(DEV_TOKEN));
  });

  test('read-only grant: write tools hidden, and calling one is 403 insufficient_scope for step-up', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read']);
    assert.equal(t.scope, 'keboola:read');
    const list = await json(await mcp(worker.url, t.access_token, toolsList));
    assert.ok(!list.result.tools.some((x: { name: string }) => x.name === 'update_project_description'));
    const r = await mcp(worker.url, t.access_token, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'update_project_description', arguments: { description: 'x' } },
    });
    assert.equal(r.status, 403);
    const challenge = r.headers.get('WWW-Authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="keboola:read keboola:write"/);
    assert.ok(challenge.includes(`resource_metadata="${worker.url}/.well-known/oauth-protected-resource/mcp"`), challenge);
  });

  test('a wrong Storage token is refused on the form, which comes back with a fresh CSRF handle', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    const res = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['storage_token', 'not-a-real-token'],
      ['scope', 'keboola:read'],
      ['action', 'approve'],
    ]);
    assert.equal(res.status, 400);
    const html = await res.text();
    // The native server's words, with the stack, tied to the token field.
    assert.match(html, /Keboola did not accept this token on http:\/\/127\.0\.0\.1:\d+\. Check that it belongs to a project on this stack/);
    assert.match(html, /id="storage_token"[^>]*aria-invalid="true"/);
    const again = /name="csrf_token" value="([^"]*)"/.exec(html)?.[1];
    assert.ok(again && again !== form.csrf);
  });

  test('a stack outside KEBOOLA_STACKS is refused', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    const res = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['stack_url', 'https://connection.evil.example'],
      ['storage_token', DEV_TOKEN],
      ['scope', 'keboola:read'],
      ['action', 'approve'],
    ]);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /That Keboola stack is not offered by this server/);
  });
});

describe('consent page rules', () => {
  test('names the client (escaped) and the redirect host, forbids framing, binds a __Host- cookie', async () => {
    const client = await register(worker.url, REDIRECT, '<script>alert(1)</script> Evil');
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    assert.equal(form.status, 200);
    assert.ok(!form.html.includes('<script>alert(1)</script>'));
    assert.ok(form.html.includes('&lt;script&gt;alert(1)&lt;/script&gt; Evil'));
    // As on the native page: the redirect with its port, and the local-program warning (issue 13).
    assert.ok(form.html.includes('<strong>127.0.0.1:9</strong>'), 'the redirect host keeps its port');
    assert.match(form.html, /a program on this computer \(127\.0\.0\.1:9\)/);
    for (const field of ['name="stack_url"', 'name="storage_token"', 'value="keboola:read"', 'value="keboola:write"', 'value="approve"', 'value="deny"']) {
      assert.ok(form.html.includes(field), field);
    }
    assert.match(form.headers.get('Content-Security-Policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(form.headers.get('X-Frame-Options'), 'DENY');
    assert.ok([...jar.keys()].some((k) => k.startsWith('__Host-')), [...jar.keys()].join(','));
  });

  test('a form posted from another browser (no binding cookie) yields no code', async () => {
    const client = await register(worker.url);
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), new Map());
    const res = await submit(worker.url, new Map(), [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['storage_token', DEV_TOKEN],
      ['scope', 'keboola:read'],
      ['action', 'approve'],
    ]);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('Location'), null);
  });

  test('a CSRF handle works once', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    const fields: [string, string][] = [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['storage_token', DEV_TOKEN],
      ['scope', 'keboola:read'],
      ['action', 'approve'],
    ];
    const saved = new Map(jar);
    assert.equal((await submit(worker.url, jar, fields)).status, 303);
    const replay = await submit(worker.url, saved, fields);
    assert.equal(replay.status, 400);
  });

  test('deny sends the user back to the client with access_denied', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const form = await openForm(authorizeURL(worker.url, client, pkce().challenge), jar);
    const res = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['action', 'deny'],
    ]);
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('Location')!);
    assert.equal(loc.origin + loc.pathname, REDIRECT);
    assert.equal(loc.searchParams.get('error'), 'access_denied');
  });

  test('an unregistered redirect URI is shown an error, never redirected to', async () => {
    const client = await register(worker.url);
    const url = authorizeURL(worker.url, client, pkce().challenge, 'keboola:read', 'https://attacker.example/cb');
    const r = await fetch(url, { redirect: 'manual' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('Location'), null);
  });
});

describe('tokens', () => {
  test('PKCE: a wrong verifier gets no tokens', async () => {
    const client = await register(worker.url);
    const jar: Jar = new Map();
    const { challenge } = pkce();
    const form = await openForm(authorizeURL(worker.url, client, challenge), jar);
    const res = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['storage_token', DEV_TOKEN],
      ['scope', 'keboola:read'],
      ['action', 'approve'],
    ]);
    const code = new URL(res.headers.get('Location')!).searchParams.get('code')!;
    const t = await tokenRequest(worker.url, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: client,
      code_verifier: pkce().verifier,
    });
    assert.equal(t.status, 400);
    assert.equal((await t.json()).error, 'invalid_grant');
  });

  test('an unknown client at /token is invalid_client (so clients re-register)', async () => {
    const t = await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: 'a:b:c', client_id: 'no-such-client' });
    assert.equal(t.status, 401);
    assert.equal((await t.json()).error, 'invalid_client');
  });

  test('refresh rotates; replaying a superseded refresh token revokes the whole grant', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const refresh = async (rt: string) => tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: rt, client_id: client });
    const r1 = await refresh(t0.refresh_token);
    assert.equal(r1.status, 200);
    const t1 = await r1.json();
    const r2 = await refresh(t1.refresh_token);
    assert.equal(r2.status, 200);
    const t2 = await r2.json();
    assert.equal((await mcp(worker.url, t2.access_token, toolsList)).status, 200);

    const replay = await refresh(t0.refresh_token); // superseded twice: a copy is in someone else's hands
    assert.equal(replay.status, 400);
    assert.equal((await replay.json()).error, 'invalid_grant');
    assert.equal(replay.headers.get('X-Keboola-MCP-Internal-Reason'), null);

    assert.equal((await refresh(t2.refresh_token)).status, 400, 'the newest refresh token must die with the grant');
    assert.equal((await mcp(worker.url, t2.access_token, toolsList)).status, 401, 'and so must the access token');
  });

  test('a refresh sent twice (a lost response) gets the very same answer, and the grant lives', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const refresh = async (rt: string) => tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: rt, client_id: client });
    const first = await refresh(t0.refresh_token);
    const second = await refresh(t0.refresh_token); // within the grace window, the successor unused
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const a = await first.json();
    const b = await second.json();
    assert.equal(b.refresh_token, a.refresh_token, 'the retry is answered with the same successor');
    assert.equal(b.access_token, a.access_token);
    assert.equal((await mcp(worker.url, a.access_token, toolsList)).status, 200, 'the grant must survive the retry');
    assert.equal((await refresh(a.refresh_token)).status, 200);
  });

  test('a made-up refresh token naming a real grant does not revoke it', async () => {
    const client = await register(worker.url);
    const t = await login(worker.url, client, stack.url, DEV_TOKEN);
    const [user, grant] = t.refresh_token.split(':');
    const forged = await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: `${user}:${grant}:guessed`, client_id: client });
    assert.equal(forged.status, 400);
    const ok = await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: client });
    assert.equal(ok.status, 200);
  });
});

describe('Origin check on /mcp', () => {
  test('a foreign browser origin is 403; the Worker itself, allowed origins and no Origin pass', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    assert.equal((await mcp(worker.url, t.access_token, toolsList, { Origin: 'https://evil.example' })).status, 403);
    assert.equal((await mcp(worker.url, t.access_token, toolsList, { Origin: worker.url })).status, 200);
    assert.equal((await mcp(worker.url, t.access_token, toolsList, { Origin: 'https://inspector.example' })).status, 200);
    assert.equal((await mcp(worker.url, t.access_token, toolsList)).status, 200);
  });
});

describe('Sign in with Keboola (upstream OAuth through the Go exports)', () => {
  async function toKeboola(jar: Jar, challenge: string): Promise<{ client: string; keboolaURL: URL }> {
    const client = await register(worker.url);
    const form = await openForm(authorizeURL(worker.url, client, challenge, 'keboola:read'), jar);
    assert.match(form.html, /Sign in with Keboola/);
    const res = await submit(worker.url, jar, [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['scope', 'keboola:read'],
      ['action', 'keboola'],
    ]);
    assert.equal(res.status, 303, await res.clone().text());
    const keboolaURL = new URL(res.headers.get('Location')!);
    assert.equal(keboolaURL.origin + keboolaURL.pathname, `${stack.url}/oauth/authorize`);
    assert.equal(keboolaURL.searchParams.get('redirect_uri'), `${worker.url}/oauth/callback`);
    assert.ok(keboolaURL.searchParams.get('state'));
    return { client, keboolaURL };
  }

  async function keboolaApproves(keboolaURL: URL): Promise<URL> {
    const r = await approveAtKeboola(stack.url, keboolaURL, DEV_TOKEN);
    assert.equal(r.status, 302, await r.clone().text());
    return new URL(r.headers.get('Location')!);
  }

  test('consent, Keboola sign-in, callback: a grant whose minted Storage token serves the tools', async () => {
    const jar: Jar = new Map();
    const { verifier, challenge } = pkce();
    const { client, keboolaURL } = await toKeboola(jar, challenge);
    const callback = await keboolaApproves(keboolaURL);
    const back = await fetch(callback, { headers: { Cookie: cookieHeader(jar) }, redirect: 'manual' });
    absorb(jar, back);
    assert.equal(back.status, 302, await back.clone().text());
    const code = new URL(back.headers.get('Location')!).searchParams.get('code')!;
    const t = await tokenRequest(worker.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client, code_verifier: verifier });
    assert.equal(t.status, 200);
    const tokens = await t.json();
    assert.equal(tokens.scope, 'keboola:read');
    const call = await json(
      await mcp(worker.url, tokens.access_token, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } }),
    );
    assert.match(call.result.content[0].text, /in\.c-crm/);
  });

  test('the callback is refused in a browser that did not start the sign-in', async () => {
    const { keboolaURL } = await toKeboola(new Map(), pkce().challenge);
    const callback = await keboolaApproves(keboolaURL);
    const stolen = await fetch(callback, { redirect: 'manual' });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.headers.get('Location'), null);
  });
});

describe('one Go instance serving overlapping requests', () => {
  test('slow and fast tool calls interleaved in one isolate all succeed', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const fault = { pathPrefix: '/v2/storage/buckets', latency: '300ms' };
    const control = { 'X-StorageApi-Token': DEV_TOKEN, 'Content-Type': 'application/json' };
    assert.equal((await fetch(`${stack.url}/_fake/faults`, { method: 'POST', headers: control, body: JSON.stringify(fault) })).status, 204);
    try {
      const call = async (name: string, id: number) => {
        const r = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
        return { status: r.status, body: await r.text() };
      };
      const pending = [];
      for (let i = 0; i < 5; i++) pending.push(call('get_buckets', i)); // held 300 ms at the fake stack
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 5; i++) pending.push(call('get_project_info', 100 + i)); // start and finish meanwhile
      for (const { status, body } of await Promise.all(pending)) {
        assert.equal(status, 200, body);
        assert.ok(!body.includes('"isError":true'), body.slice(0, 300));
      }
    } finally {
      await fetch(`${stack.url}/_fake/faults`, { method: 'DELETE', headers: control });
    }
  });
});

describe('the audit event of a tool call', () => {
  // Every tool call files a Storage event (the Python server's
  // _trigger_event). In the Worker the answer does not wait for it: Go
  // posts it after the answer, under waitUntil, and it still arrives.
  test('is posted after the answer, and arrives', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const control = { 'X-StorageApi-Token': DEV_TOKEN, 'Content-Type': 'application/json' };
    const eventPosts = async () => {
      const log = (await (await fetch(`${stack.url}/_fake/requests`, { headers: control })).json()) as { method: string; path: string; status: number }[];
      return log.filter((r) => r.method === 'POST' && r.path === '/v2/storage/events');
    };
    // The fake stack logs a request when it has answered it: held 2 s, the
    // event post cannot be in the log when an answer that waited for it would arrive.
    const fault = { pathPrefix: '/v2/storage/events', latency: '2s' };
    assert.equal((await fetch(`${stack.url}/_fake/faults`, { method: 'POST', headers: control, body: JSON.stringify(fault) })).status, 204);
    try {
      const before = (await eventPosts()).length;
      const r = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } });
      const body = await r.text();
      assert.equal(r.status, 200, body);
      assert.ok(!body.includes('"isError":true'), body.slice(0, 300));
      assert.equal((await eventPosts()).length, before, 'the answer waited for the audit event');
      let posts = await eventPosts();
      for (let i = 0; i < 100 && posts.length === before; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        posts = await eventPosts();
      }
      assert.equal(posts.length, before + 1, 'the audit event never arrived');
      assert.equal(posts.at(-1)!.status, 201);
    } finally {
      await fetch(`${stack.url}/_fake/faults`, { method: 'DELETE', headers: control });
    }
  });
});
