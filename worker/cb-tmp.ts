import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const root = process.argv[2];
const { DEV_TOKEN, startDevStack, startWorker } = await import(`${root}/worker/test/harness.ts`);
const { login, mcp, register } = await import(`${root}/worker/test/oauthflow.ts`);
process.chdir(`${root}/worker`);
const stack = await startDevStack();
const worker = await startWorker({ KEBOOLA_STACKS: stack.url }, mkdtempSync(join(tmpdir(), 'cb-')));
try {
  const token = (await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN)).access_token;
  const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_buckets', arguments: {} } };
  const ms: number[] = [];
  for (let i = 0; i < 130; i++) {
    const t0 = performance.now();
    const r = await mcp(worker.url, token, call, { 'MCP-Protocol-Version': '2025-06-18' });
    await r.arrayBuffer();
    if (i >= 30) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(root, 'p50', ms[50].toFixed(2), 'p90', ms[90].toFixed(2));
} finally {
  await worker.stop();
  await stack.stop();
}
