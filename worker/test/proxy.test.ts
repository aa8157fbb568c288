// The signed proxy path: the Free-plan Worker (wrangler.proxy.jsonc: the
// login-only Go build, MCP_ORIGIN set) forwarding to a native `keboola-mcp
// serve --auth proxy`, and the native server refusing whatever the Worker
// did not sign.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { signedHeaders } from '../src/proxyauth.ts';
import { DEV_TOKEN, KBC_CLIENT, PROXY_SECRET, startDevStack, startNative, startWorker, type Proc } from './harness.ts';
import { keboolaSignIn, login, mcp, readRPC, register } from './oauthflow.ts';

let stack: Proc;
let native: Proc;
let worker: Proc;

before(async () => {
  stack = await startDevStack();
  native = await startNative(stack.url);
  worker = await startWorker(
    { KEBOOLA_STACKS: stack.url, MCP_ORIGIN: native.url, MCP_PROXY_SECRET: PROXY_SECRET, KBC_OAUTH_CLIENT_ID: KBC_CLIENT.id, KBC_OAUTH_CLIENT_SECRET: KBC_CLIENT.secret },
    undefined,
    undefined,
    'wrangler.proxy.jsonc',
  );
});

after(async () => {
  await worker?.stop();
  await native?.stop();
  await stack?.stop();
});

const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const writeCall = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_project_description', arguments: { description: 'x' } } };

function nativePost(headers: Headers, body: string): Promise<Response> {
  headers.set('Content-Type', 'application/json');
  headers.set('Accept', 'application/json, text/event-stream');
  headers.set('MCP-Protocol-Version', '2025-06-18');
  return fetch(`${native.url}/mcp`, { method: 'POST', headers, body });
}

async function signed(body: string, scopes = ['keboola:read', 'keboola:write']): Promise<Headers> {
  return signedHeaders(PROXY_SECRET, 'POST', '/mcp', new TextEncoder().encode(body), { stackURL: stack.url, token: DEV_TOKEN, scopes });
}

test('the login-only build signs users in, and without MCP_ORIGIN a tool call says what is missing', async () => {
  const bare = await startWorker({ KEBOOLA_STACKS: stack.url, MCP_ORIGIN: '' }, undefined, undefined, 'wrangler.proxy.jsonc');
  try {
    // The page and the token check are Go's, from the login-only build.
    const t = await login(bare.url, await register(bare.url), stack.url, DEV_TOKEN);
    const r = await mcp(bare.url, t.access_token, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } });
    assert.equal(r.status, 500);
    assert.match(await r.text(), /serves MCP only by proxy.*MCP_ORIGIN/);
  } finally {
    await bare.stop();
  }
});

test('through the Worker: the native server answers tools/list and tool calls with the grant’s credentials', async () => {
  const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
  const list = await mcp(worker.url, t.access_token, toolsList);
  assert.equal(list.status, 200);
  assert.ok((await readRPC(list)).result.tools.some((x: { name: string }) => x.name === 'get_buckets'));
  const call = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } });
  assert.match(JSON.stringify(await readRPC(call)), /in\.c-crm/);
});

// The Storage token minted at sign-in has no admin context; the member's
// bearer has. The dev stack's Scheduler answers only an admin context
// (fakestack/scheduler.go, after the Python server's clients/client.py), and
// the tools offer modify_flow to an OAuth session (mcpserver/gating.go): both
// show that the bearer reached the native server and Keboola.
test('through the Worker: a Sign in with Keboola grant reaches the native server with its bearer', async () => {
  const t = await keboolaSignIn(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read', 'keboola:write']);
  const names = (await readRPC(await mcp(worker.url, t.access_token, toolsList))).result.tools.map((x: { name: string }) => x.name);
  assert.ok(names.includes('modify_flow') && !names.includes('update_flow'), names.join(','));
  const flow = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'get_flows', arguments: { flow_ids: ['7410030'] } } });
  const text = (await readRPC(flow)).result.content[0].text as string;
  assert.match(text, /schedule \d+: "0 2 \* \* \*"/, text);
});

test('through the Worker: a write tool under a read-only grant is the same 403 insufficient_scope as in wasm', async () => {
  const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read']);
  const r = await mcp(worker.url, t.access_token, writeCall);
  assert.equal(r.status, 403);
  const challenge = r.headers.get('WWW-Authenticate') ?? '';
  assert.match(challenge, /error="insufficient_scope"/);
  assert.match(challenge, /scope="keboola:read keboola:write"/);
  assert.ok(challenge.includes(`resource_metadata="${worker.url}/.well-known/oauth-protected-resource/mcp"`), challenge);
});

test('through the Worker: a legacy SSE session is served by the native server (its event-stream answers land on the session stream)', async () => {
  const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
  const ctrl = new AbortController();
  const res = await fetch(`${worker.url}/sse`, { headers: { Authorization: `Bearer ${t.access_token}` }, signal: ctrl.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let buf = '';
  const until = async (needle: string) => {
    while (!buf.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}: ${buf.slice(0, 300)}`);
      buf += new TextDecoder().decode(value);
    }
  };
  try {
    await until('\n\n');
    const endpoint = new URL(/data: (\S+)/.exec(buf)![1], worker.url);
    const post = await fetch(endpoint, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } }),
    });
    assert.equal(post.status, 202, await post.text());
    await until('in.c-crm');
    assert.match(buf, /event: message\ndata: \{"jsonrpc":"2.0","id":7/);
  } finally {
    ctrl.abort();
  }
});

test('native: a correctly signed request is served', async () => {
  const body = JSON.stringify(toolsList);
  assert.equal((await nativePost(await signed(body), body)).status, 200);
});

test('native: unsigned forwarded credentials are refused with 401', async () => {
  const body = JSON.stringify(toolsList);
  const r = await nativePost(new Headers({ 'X-Keboola-MCP-Stack': stack.url, 'X-Keboola-MCP-Token': DEV_TOKEN, 'X-Keboola-MCP-Scope': 'keboola:read' }), body);
  assert.equal(r.status, 401);
  assert.match(await r.text(), /no proxy signature/);
});

test('native: tampering with the token, the scope or the body is refused with 401', async () => {
  const body = JSON.stringify(toolsList);
  const cases: [string, (h: Headers) => string][] = [
    ['token', (h) => (h.set('X-Keboola-MCP-Token', 'someone-elses-token'), body)],
    ['scope widened', (h) => (h.set('X-Keboola-MCP-Scope', 'keboola:read keboola:write keboola:write'), body)],
    ['body', () => JSON.stringify(writeCall)],
  ];
  for (const [name, tamper] of cases) {
    const h = await signed(body, ['keboola:read']);
    const r = await nativePost(h, tamper(h));
    assert.equal(r.status, 401, name);
    assert.match(await r.text(), /does not match|malformed/, name);
  }
});

test('native: a replayed request and an expired one are refused with 401', async () => {
  const body = JSON.stringify(toolsList);
  const h = await signed(body);
  assert.equal((await nativePost(new Headers(h), body)).status, 200);
  const replay = await nativePost(new Headers(h), body);
  assert.equal(replay.status, 401);
  assert.match(await replay.text(), /already used/);
  const old = await signedHeaders(PROXY_SECRET, 'POST', '/mcp', new TextEncoder().encode(body), { stackURL: stack.url, token: DEV_TOKEN, scopes: ['keboola:read'] }, Date.now() - 5 * 60_000);
  const expired = await nativePost(old, body);
  assert.equal(expired.status, 401);
  assert.match(await expired.text(), /time window/);
});

test('native: a signature made with another secret is refused', async () => {
  const body = JSON.stringify(toolsList);
  const h = await signedHeaders('another-secret-0123456789abcdef-xyz', 'POST', '/mcp', new TextEncoder().encode(body), { stackURL: stack.url, token: DEV_TOKEN, scopes: ['keboola:read'] });
  assert.equal((await nativePost(h, body)).status, 401);
});
