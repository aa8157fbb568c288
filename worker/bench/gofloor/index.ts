// Benchmark fixture, not product code: the floor of a tool call in Go, for
// `make bench-worker`. It runs the Worker's own Go build and times n copies
// of the posted MCP request served one after another inside one request, so
// every call but the first finds Go entered and its caches warm: what a
// request pays to enter Go (the SDK's per-request session, cold CPU caches,
// the bridge) is left out. Set against our Worker's static ping and the
// native server's call, it bounds from below what the wasm Worker's tool-call
// overhead could become if all of that cost nothing. It calls Go with the
// Storage token in its environment (the fake stack's): never deploy it.
import goBuild from '../../build/keboola-mcp.wasm';
import { keboolaMCP, useGoBuild, type GoResponse } from '../../src/wasm';

useGoBuild(goBuild);

interface Env {
  STACK_URL: string;
  STORAGE_TOKEN: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // The harness waits for GET /healthz.
    if (request.method !== 'POST') return new Response('ok\n');
    const n = Number(new URL(request.url).searchParams.get('n') ?? '100');
    const body = new Uint8Array(await request.arrayBuffer());
    const go = await keboolaMCP();
    const access = { stackURL: env.STACK_URL, token: env.STORAGE_TOKEN, readOnly: false, resourceMetadataURL: `${new URL(request.url).origin}/.well-known/oauth-protected-resource/mcp` };
    const headers: [string, string][] = [
      ['content-type', 'application/json'],
      ['accept', 'application/json, text/event-stream'],
      ['mcp-protocol-version', request.headers.get('MCP-Protocol-Version') ?? '2025-06-18'],
    ];
    const later: GoResponse['after'][] = [];
    // Workers advance the clock only across I/O; every call fetches from the stack, so n calls time well.
    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      const out = await go.handle!({ method: 'POST', url: '/mcp', headers, body }, access);
      if (out.status !== 200) return new Response(new TextDecoder().decode(out.body), { status: 502 });
      // The audit events run after the timing, as the Worker runs them after its answer.
      later.push(out.after);
    }
    const ms = Date.now() - t0;
    for (const after of later) await after?.();
    return Response.json({ calls: n, msPerCall: ms / n });
  },
};
