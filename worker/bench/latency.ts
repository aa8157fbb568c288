// Latency of the Worker against the native server, in one run on this
// machine (make bench-worker). Bounded: a fixed number of sequential
// requests to loopback processes this script starts and stops.
//
//   first request:  the first /mcp call in a fresh isolate, wasm start included
//   warm tools/list: median and p90 over N calls, for
//     - the Worker serving MCP in wasm,
//     - the Worker forwarding to the native server (signed proxy),
//     - the native server called directly with signed headers;
//   legacy SSE round trip: POST tools/list to /messages until its answer
//     arrives on the open /sse stream (a Durable Object per session), for the
//     wasm and the proxying Worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders } from '../src/proxyauth.ts';
import { DEV_TOKEN, PROXY_SECRET, startDevStack, startNative, startWorker, type Proc } from '../test/harness.ts';
import { login, mcp, register } from '../test/oauthflow.ts';

const N = Number(process.env.BENCH_N ?? 50);
const toolsList = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, min ${s[0].toFixed(1)} ms (n=${s.length})`;
}

async function timed(fn: () => Promise<Response>): Promise<number> {
  const t0 = performance.now();
  const r = await fn();
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`status ${r.status}`);
  return performance.now() - t0;
}

async function warm(fn: () => Promise<Response>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await timed(fn);
  const out: number[] = [];
  for (let i = 0; i < N; i++) out.push(await timed(fn));
  return out;
}

/**
 * Opens an SSE session and returns a function that sends tools/list to it
 * and resolves when the answer arrives on the stream, and a close.
 */
async function sseSession(base: string, token: string): Promise<{ roundTrip: () => Promise<number>; close: () => void }> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/sse`, { headers: { Authorization: `Bearer ${token}` }, signal: ctrl.signal });
  if (res.status !== 200) throw new Error(`GET /sse: ${res.status}`);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const nextEvent = async (): Promise<string> => {
    for (;;) {
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!block.startsWith(':')) return block;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the SSE stream ended');
      buf += dec.decode(value, { stream: true });
    }
  };
  const endpoint = new URL(/data: (\S+)/.exec(await nextEvent())![1], base).toString();
  let id = 0;
  const roundTrip = async () => {
    const t0 = performance.now();
    const r = await fetch(endpoint, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...toolsList, id: ++id }),
    });
    await r.arrayBuffer();
    if (r.status !== 202) throw new Error(`POST /messages: ${r.status}`);
    const event = await nextEvent();
    if (!event.includes(`"id":${id}`)) throw new Error(`unexpected event: ${event.slice(0, 200)}`);
    return performance.now() - t0;
  };
  return { roundTrip, close: () => ctrl.abort() };
}

async function warmSSE(base: string, token: string): Promise<number[]> {
  const s = await sseSession(base, token);
  try {
    for (let i = 0; i < 5; i++) await s.roundTrip();
    const out: number[] = [];
    for (let i = 0; i < N; i++) out.push(await s.roundTrip());
    return out;
  } finally {
    s.close();
  }
}

const procs: Proc[] = [];
const state = mkdtempSync(join(tmpdir(), 'kmcp-bench-'));
try {
  const stack = await startDevStack();
  procs.push(stack);
  const native = await startNative(stack.url);
  procs.push(native);

  // Log in once, then restart the Worker on the same KV: its first /mcp call
  // then meets an isolate without the wasm module.
  let worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state);
  const tokens = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
  await worker.stop();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url }, state, Number(new URL(worker.url).port));
  procs.push(worker);
  const t0 = performance.now();
  const first = await mcp(worker.url, tokens.access_token, toolsList);
  await first.arrayBuffer();
  if (first.status !== 200) throw new Error(`first request: status ${first.status}`);
  const firstMs = performance.now() - t0;
  console.log(`worker (wasm) first request: ${firstMs.toFixed(1)} ms (Server-Timing: ${first.headers.get('Server-Timing')})`);
  const second = await timed(() => mcp(worker.url, tokens.access_token, toolsList));
  console.log(`worker (wasm) second request: ${second.toFixed(1)} ms`);

  console.log(`worker (wasm) warm tools/list: ${stats(await warm(() => mcp(worker.url, tokens.access_token, toolsList)))}`);
  console.log(`worker (wasm) legacy SSE tools/list round trip: ${stats(await warmSSE(worker.url, tokens.access_token))}`);

  // Tokens are bound to the Worker's origin: the proxying Worker needs its own login.
  const proxied = await startWorker({ KEBOOLA_STACKS: stack.url, MCP_ORIGIN: native.url, MCP_PROXY_SECRET: PROXY_SECRET });
  procs.push(proxied);
  const proxiedTokens = await login(proxied.url, await register(proxied.url), stack.url, DEV_TOKEN);
  console.log(`worker (proxy→native) warm tools/list: ${stats(await warm(() => mcp(proxied.url, proxiedTokens.access_token, toolsList)))}`);
  console.log(`worker (proxy→native) legacy SSE tools/list round trip: ${stats(await warmSSE(proxied.url, proxiedTokens.access_token))}`);

  const body = new TextEncoder().encode(JSON.stringify(toolsList));
  const direct = async () => {
    const headers = await signedHeaders(PROXY_SECRET, 'POST', '/mcp', body, { stackURL: stack.url, token: DEV_TOKEN, scopes: ['keboola:read', 'keboola:write'] });
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/json, text/event-stream');
    headers.set('MCP-Protocol-Version', '2025-06-18');
    return fetch(`${native.url}/mcp`, { method: 'POST', headers, body });
  };
  console.log(`native (signed, direct) warm tools/list: ${stats(await warm(direct))}`);
} finally {
  for (const p of procs.reverse()) await p.stop();
  rmSync(state, { recursive: true, force: true });
}
