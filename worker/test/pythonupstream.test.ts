// UPSTREAM_AUTH=headers: the Worker in front of a server that takes the
// Python Keboola MCP server's credential headers. `keboola-mcp serve --auth
// headers` stands in for the Python server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEV_TOKEN, KBC_CLIENT, startDevStack, startNative, startWorker, type Proc } from './harness.ts';
import { keboolaSignIn, login, mcp, readRPC, register } from './oauthflow.ts';

let stack: Proc;
let upstream: Proc;
let worker: Proc;

before(async () => {
  stack = await startDevStack();
  upstream = await startNative(stack.url, {}, 'headers');
  // No MCP_PROXY_SECRET: this mode does not sign.
  worker = await startWorker({
    KEBOOLA_STACKS: stack.url,
    MCP_ORIGIN: upstream.url,
    UPSTREAM_AUTH: 'headers',
    KBC_OAUTH_CLIENT_ID: KBC_CLIENT.id,
    KBC_OAUTH_CLIENT_SECRET: KBC_CLIENT.secret,
  });
});

after(async () => {
  await worker?.stop();
  await upstream?.stop();
  await stack?.stop();
});

const toolNames = async (r: Response): Promise<string[]> => (await readRPC(r)).result.tools.map((x: { name: string }) => x.name);

test('through the Worker: the header upstream lists tools and answers calls with the grant’s credentials', async () => {
  const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
  const list = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
  assert.equal(list.status, 200);
  const names = await toolNames(list);
  assert.ok(names.includes('get_buckets') && names.includes('update_project_description'), names.join(','));
  const call = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } });
  assert.match(JSON.stringify(await readRPC(call)), /in\.c-crm/);
});

// As in proxy.test.ts: the minted Storage token lacks the admin context that
// the member's bearer (X-Bearer-Token, the Python server's bearer_token
// setting) carries to the Scheduler and the tool gate.
test('through the Worker: a Sign in with Keboola grant sends its bearer as X-Bearer-Token', async () => {
  const t = await keboolaSignIn(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read', 'keboola:write']);
  const names = await toolNames(await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' }));
  assert.ok(names.includes('modify_flow') && !names.includes('update_flow'), names.join(','));
  const flow = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_flows', arguments: { flow_ids: ['7410030'] } } });
  const text = (await readRPC(flow)).result.content[0].text as string;
  assert.match(text, /schedule \d+: "0 2 \* \* \*"/, text);
});

test('through the Worker: a read-only grant becomes X-Read-Only-Mode: write tools are hidden, and a call gets the Worker’s step-up 403', async () => {
  const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read']);
  const names = await toolNames(await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' }));
  assert.ok(names.includes('get_buckets'), names.join(','));
  assert.ok(!names.includes('update_project_description') && !names.includes('run_job'), names.join(','));
  const r = await mcp(worker.url, t.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_project_description', arguments: { description: 'x' } } });
  assert.equal(r.status, 403);
  const challenge = r.headers.get('WWW-Authenticate') ?? '';
  assert.match(challenge, /error="insufficient_scope"/);
  assert.ok(challenge.includes(`resource_metadata="${worker.url}/.well-known/oauth-protected-resource/mcp"`), challenge);
});

test('the header upstream itself refuses a request without a token (401) and a stack off its list (403)', async () => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const post = (h: Record<string, string>) =>
    fetch(`${upstream.url}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18', ...h },
      body,
    });
  const none = await post({});
  assert.equal(none.status, 401);
  assert.match(await none.text(), /X-StorageApi-Token/);
  const offList = await post({ 'X-StorageApi-Token': DEV_TOKEN, 'X-Storage-Api-Url': 'https://connection.keboola.com' });
  assert.equal(offList.status, 403);
  assert.match(await offList.text(), /not one this server serves/);
});
