// The Worker's static answers (src/fastpath.ts) against the Go server in
// wasm: for every request the fast path answers, the same request written
// with whitespace (which the fast path leaves to Go, and Go reads alike) gets
// the byte-identical answer from the wasm build. Also: initialize, ping and
// tools/list never wait for the wasm module, which a fresh isolate starts in
// the background after its first tools/list; and tools/list is answered
// statically only with the tool gate Go decided for the grant
// (src/toolgates.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fastPath } from '../src/fastpath.ts';
import { DEV_TOKEN, startDevStack, startWorker, type Proc } from './harness.ts';
import { login, register } from './oauthflow.ts';

let stack: Proc;
let worker: Proc;
const state = mkdtempSync(join(tmpdir(), 'kmcp-fastpath-'));
const grants: Record<'full' | 'read', string> = { full: '', read: '' };

before(async () => {
  stack = await startDevStack();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state);
  grants.full = (await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN)).access_token;
  grants.read = (await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read'])).access_token;
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
  rmSync(state, { recursive: true, force: true });
});

const BASE_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

async function post(token: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${worker.url}/mcp`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, ...BASE_HEADERS, ...headers }, body });
  const bytes = new Uint8Array(await r.arrayBuffer());
  const served = (r.headers.get('Server-Timing') ?? '').split(';')[0];
  const kept = [...r.headers].filter(([k]) => k !== 'server-timing' && k !== 'date');
  return { status: r.status, headers: kept, body: Buffer.from(bytes).toString('utf8'), served, timing: r.headers.get('Server-Timing') ?? '' };
}

function initialize(id: unknown, protocolVersion: string, capabilities: object = {}) {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion, capabilities, clientInfo: { name: 'parity', version: '1.0' } } };
}

// Runs first, in an isolate the login warmed up: restart it on the same KV
// so the wasm module is not loaded yet.
describe('the wasm module starts in the background after the first tools/list', () => {
  test('initialize, ping and tools/list in a fresh isolate do not wait for it; a tool call after the warm-up pays no start', async () => {
    await worker.stop();
    worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state, Number(new URL(worker.url).port));
    for (const msg of [initialize(1, '2025-06-18'), { jsonrpc: '2.0', id: 2, method: 'ping' }]) {
      const r = await post(grants.full, JSON.stringify(msg), { 'MCP-Protocol-Version': '2025-06-18' });
      assert.equal(r.served, 'static', r.timing);
      assert.match(r.timing, /warm-up;desc="cold"/, 'only a tools/list starts the warm-up');
    }
    const list = await post(grants.full, '{"jsonrpc":"2.0","id":3,"method":"tools/list"}', { 'MCP-Protocol-Version': '2025-06-18' });
    assert.equal(list.served, 'static', list.timing);
    assert.match(list.timing, /warm-up;desc="warming"/, 'the first tools/list starts the warm-up');
    // Static answers tell how the warm-up goes; wait (bounded) until it is over.
    let timing = '';
    for (let i = 0; i < 300 && !timing.includes('desc="over"'); i++) {
      timing = (await post(grants.full, '{"jsonrpc":"2.0","id":5,"method":"ping"}')).timing;
      if (!timing.includes('desc="over"')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(timing, /warm-up;desc="over"/);
    const call = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } };
    const r = await post(grants.full, JSON.stringify(call), { 'MCP-Protocol-Version': '2025-06-18' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.served, 'go');
    assert.doesNotMatch(r.timing, /wasm-start/, 'the tool call started the module itself');
  });
});

describe('static answers are the Go server’s answers', () => {
  const versions = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
  const cases: { name: string; msg: object; headers?: Record<string, string> }[] = [];
  for (const hv of [undefined, ...versions]) {
    const headers = hv ? { 'MCP-Protocol-Version': hv } : undefined;
    const at = hv ?? 'no version header';
    for (const v of [...versions, '2026-07-28', '2099-01-01']) cases.push({ name: `${at}: initialize ${v}`, msg: initialize(7, v), headers });
    cases.push({ name: `${at}: ping`, msg: { jsonrpc: '2.0', id: 'p-1', method: 'ping', params: {} }, headers });
    cases.push({ name: `${at}: initialized`, msg: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
    cases.push({ name: `${at}: tools/list`, msg: { jsonrpc: '2.0', id: 11, method: 'tools/list' }, headers });
    cases.push({ name: `${at}: tools/list, empty params`, msg: { jsonrpc: '2.0', id: 'list-2', method: 'tools/list', params: {} }, headers });
  }
  for (const id of [0, -3, 9007199254740991, 'abc', 'a.b:c_d-e']) {
    cases.push({ name: `ping id ${JSON.stringify(id)}`, msg: { jsonrpc: '2.0', id, method: 'ping', params: {} } });
  }
  cases.push({
    name: 'initialize with client capabilities',
    msg: initialize(8, '2025-06-18', { roots: { listChanged: true }, sampling: { tools: {} }, elicitation: { form: {}, url: {} }, experimental: { x: [1] } }),
  });
  cases.push({ name: 'Accept with more types', msg: { jsonrpc: '2.0', id: 2, method: 'ping' }, headers: { Accept: 'text/event-stream;q=0.9, application/json, */*' } });
  cases.push({ name: 'charset and a session id', msg: { jsonrpc: '2.0', id: 2, method: 'ping' }, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Mcp-Session-Id': 'abc' } });

  for (const grant of ['full', 'read'] as const) {
    for (const c of cases) {
      test(`${grant} grant, ${c.name}`, async () => {
        const fast = await post(grants[grant], JSON.stringify(c.msg), c.headers);
        const go = await post(grants[grant], JSON.stringify(c.msg, null, 1), c.headers);
        assert.equal(fast.served, 'static', fast.timing);
        assert.equal(go.served, 'go', go.timing);
        assert.equal(fast.status, go.status);
        assert.deepEqual(fast.headers, go.headers);
        assert.equal(fast.body, go.body);
      });
    }
  }

  test('the read grant lists fewer tools than the full grant', async () => {
    const count = async (t: string) => JSON.parse((await post(t, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')).body).result.tools.length;
    const [full, read] = [await count(grants.full), await count(grants.read)];
    assert.ok(read > 0 && read < full, `read ${read}, full ${full}`);
  });
});

describe('what the fast path leaves to Go', () => {
  const declined: { name: string; body: string; headers?: Record<string, string> }[] = [
    { name: 'tools/call', body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_buckets","arguments":{}}}' },
    { name: 'a cursor', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"x"}}' },
    { name: '_meta', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":1}}}' },
    { name: 'a batch', body: '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' },
    { name: 'an unknown member', body: '{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}' },
    { name: 'a member in other case', body: '{"jsonrpc":"2.0","ID":1,"method":"ping"}' },
    { name: 'a duplicate member', body: '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}' },
    { name: 'a fractional id', body: '{"jsonrpc":"2.0","id":1.5,"method":"ping"}' },
    { name: 'an id with other characters', body: '{"jsonrpc":"2.0","id":"a b<>","method":"ping"}' },
    { name: 'a null id', body: '{"jsonrpc":"2.0","id":null,"method":"ping"}' },
    { name: 'an escaped string', body: '{"jsonrpc":"2.0","id":"\\u0061","method":"ping"}' },
    { name: 'a wrong jsonrpc version', body: '{"jsonrpc":"1.0","id":1,"method":"ping"}' },
    { name: 'initialize without clientInfo', body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}' },
    { name: 'initialize with a mistyped capability', body: JSON.stringify(initialize(1, '2025-06-18', { roots: { listChanged: 'yes' } })) },
    { name: 'a notification with an id', body: '{"jsonrpc":"2.0","id":1,"method":"notifications/initialized"}' },
    { name: 'protocol 2026-07-28', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'MCP-Protocol-Version': '2026-07-28' } },
    { name: 'an unknown protocol header', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'MCP-Protocol-Version': '1999-01-01' } },
    { name: 'Accept without SSE', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { Accept: 'application/json' } },
    { name: 'a text body', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'Content-Type': 'text/plain' } },
    { name: 'Last-Event-ID', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'Last-Event-ID': '1' } },
  ];
  for (const c of declined) {
    test(c.name, async () => {
      const r = await post(grants.full, c.body, c.headers);
      assert.equal(r.served, 'go', `${r.status} ${r.body.slice(0, 200)}`);
    });
  }

  test('the data file serves both scopes, every header version and the catch-all initialize version', () => {
    const h = new Headers(BASE_HEADERS);
    for (const access of ['full', 'read']) {
      const r = fastPath.answer({ method: 'POST', headers: h, body: new TextEncoder().encode(JSON.stringify(initialize(1, '2030-01-01'))) }, { access });
      assert.equal(r?.status, 200);
      assert.match(new TextDecoder().decode(r!.body), /"protocolVersion":"2025-11-25"/);
    }
    assert.equal(fastPath.answer({ method: 'POST', headers: h, body: new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}') }, { access: 'no-such-gate' }), undefined);
  });

  test('tools/list is answered only for a known tool gate with a recorded page', () => {
    const h = new Headers(BASE_HEADERS);
    const list = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    assert.equal(fastPath.answer({ method: 'POST', headers: h, body: list }, { access: 'full' }), undefined, 'no tool gate');
    assert.equal(fastPath.answer({ method: 'POST', headers: h, body: list }, { access: 'full', tools: 'no-such-gate' }), undefined, 'an unrecorded gate');
    assert.equal(fastPath.answer({ method: 'POST', headers: h, body: list }, { access: 'full', tools: 'full' }), undefined, 'a scope is no tool gate');
  });
});
