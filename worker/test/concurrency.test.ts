// Concurrent MCP requests in one isolate, served by the one Go program in
// wasm. Workers drop a request's pending fetches and timers when that request
// ends, so Go's Keboola calls and timeouts must run in the request they serve
// (src/gohost.ts, cmd/keboola-mcp-wasm/host.go). Before they did, a burst in a
// fresh isolate lost 15 of 16 calls and concurrent query_data calls (which
// poll on Go timers) lost a third, all cancelled by workerd as "hung".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEV_TOKEN, startDevStack, startWorker, type Proc } from './harness.ts';
import { login, mcp, register } from './oauthflow.ts';

let stack: Proc;
let worker: Proc;
const state = mkdtempSync(join(tmpdir(), 'kmcp-concurrency-'));
const tokens: string[] = [];

before(async () => {
  stack = await startDevStack();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state);
  for (let i = 0; i < 4; i++) tokens.push((await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN)).access_token);
  // A fresh isolate on the same KV: the burst below starts the wasm module.
  await worker.stop();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state, Number(new URL(worker.url).port));
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
  rmSync(state, { recursive: true, force: true });
});

const QUICK = ['get_buckets', 'get_project_info', 'get_configs'];

/** Sends calls at once, each with one of four grants, and returns what failed. */
async function burst(calls: { name: string; arguments: object }[]): Promise<string[]> {
  const answers = await Promise.all(
    calls.map(async (params, i) => {
      const r = await mcp(worker.url, tokens[i % tokens.length], { jsonrpc: '2.0', id: i, method: 'tools/call', params });
      const text = await r.text();
      if (r.status !== 200) return `${params.name}: HTTP ${r.status} ${text.slice(0, 120)}`;
      if (text.includes('"isError":true')) return `${params.name}: ${text.slice(0, 300)}`;
      return '';
    }),
  );
  return answers.filter(Boolean);
}

test('a burst of tool calls in a fresh isolate: every one is served', async () => {
  assert.deepEqual(await burst(Array.from({ length: 16 }, (_, i) => ({ name: QUICK[i % QUICK.length], arguments: {} }))), []);
});

test('concurrent queries, which wait on Go timers, beside quick calls: every one is served', async () => {
  for (let round = 0; round < 3; round++) {
    const calls = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? { name: 'query_data', arguments: { sql_query: `SELECT ${i} AS n, COUNT(*) AS c FROM "in.c-crm"."customers"`, query_name: `burst ${round}.${i}` } }
        : { name: QUICK[i % QUICK.length], arguments: {} },
    );
    assert.deepEqual(await burst(calls), [], `round ${round}`);
  }
});
