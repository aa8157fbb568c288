// Legacy SSE (/sse + /messages) on the Worker, each session a Durable
// Object, against the Go wasm server and the fake stack: the transport works,
// and a session is bound to its grant and scope as on the native server
// (internal/mcpserver SSEHandler and its tests).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEV_TOKEN, startDevStack, startWorker, type Proc } from './harness.ts';
import { login, register, tokenRequest } from './oauthflow.ts';

let stack: Proc;
let worker: Proc;

before(async () => {
  stack = await startDevStack();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url, SSE_KEEPALIVE_SECONDS: '1', SSE_IDLE_SECONDS: '6', SSE_MAX_PER_GRANT: '2' });
});

after(async () => {
  if (process.env.SSE_DEBUG) console.log(worker?.output());
  await worker?.stop();
  await stack?.stop();
});

/** An open SSE stream: its events as they arrive, and its messages endpoint. */
class Session {
  events: { event: string; data: string }[] = [];
  comments = 0;
  ended = false;
  endpoint = '';
  private waiters: (() => void)[] = [];
  private controller = new AbortController();

  static async open(token: string): Promise<Session> {
    const s = new Session();
    const res = await fetch(`${worker.url}/sse`, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal: s.controller.signal });
    if (res.status !== 200) throw new Error(`GET /sse: ${res.status} ${await res.text()}`);
    assert.match(res.headers.get('Content-Type') ?? '', /text\/event-stream/);
    void s.read(res.body!);
    const first = await s.next((e) => e.event === 'endpoint');
    s.endpoint = new URL(first.data, worker.url).toString();
    return s;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    let buf = '';
    const dec = new TextDecoder();
    try {
      for await (const chunk of body) {
        buf += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (block.startsWith(':')) this.comments++;
          else {
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            this.events.push({ event, data });
          }
          this.wake();
        }
      }
    } catch {
      /* aborted */
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits (bounded) until the stream holds an event matching pred. */
  async next(pred: (e: { event: string; data: string }) => boolean, seconds = 30): Promise<{ event: string; data: string }> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended; events: ${JSON.stringify(this.events).slice(0, 500)}`);
      if (Date.now() > deadline) throw new Error(`no such event in ${seconds}s`);
      await new Promise<void>((ok) => {
        this.waiters.push(ok);
        setTimeout(ok, 500);
      });
    }
  }

  /** Waits (bounded) until the server ends the stream. */
  async end(seconds = 30): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`the stream stayed open for ${seconds}s`);
      await new Promise<void>((ok) => {
        this.waiters.push(ok);
        setTimeout(ok, 500);
      });
    }
  }

  post(token: string | null, message: unknown): Promise<Response> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(message) });
  }

  /** Sends a request and returns its answer from the stream. */
  async call(token: string, id: number, method: string, params: unknown = {}): Promise<any> {
    const r = await this.post(token, { jsonrpc: '2.0', id, method, params });
    assert.equal(r.status, 202, await r.text());
    const e = await this.next((x) => x.event === 'message' && JSON.parse(x.data).id === id);
    return JSON.parse(e.data);
  }

  close(): void {
    this.controller.abort();
  }
}

const initialize = { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'sse-test', version: '1' } };

describe('legacy SSE on Durable Objects', () => {
  test('Protected Resource Metadata for /sse names the /sse resource and this issuer', async () => {
    const r = await fetch(`${worker.url}/.well-known/oauth-protected-resource/sse`);
    assert.equal(r.status, 200);
    const prm = await r.json();
    assert.equal(prm.resource, `${worker.url}/sse`);
    assert.deepEqual(prm.authorization_servers, [worker.url]);
  });

  test('/sse and /messages without a token are 401 with a challenge naming the /sse metadata', async () => {
    for (const [path, method] of [['/sse', 'GET'], ['/messages?sessionid=' + 'a'.repeat(32), 'POST']]) {
      const r = await fetch(`${worker.url}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
      assert.equal(r.status, 401, path);
      assert.ok((r.headers.get('WWW-Authenticate') ?? '').includes(`resource_metadata="${worker.url}/.well-known/oauth-protected-resource/sse"`), path);
    }
  });

  test('a resource=/sse authorization yields a token that serves the session', async () => {
    const client = await register(worker.url);
    // login() sends resource=/mcp; the /sse alias is what SSE clients send after reading the /sse metadata.
    const t = await login(worker.url, client, stack.url, DEV_TOKEN, ['keboola:read']);
    const r = await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: client, resource: `${worker.url}/sse` });
    assert.equal(r.status, 200, await r.clone().text());
  });

  test('initialize, tools/list and a tool call over one session, with keep-alive comments', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const s = await Session.open(t.access_token);
    try {
      const init = await s.call(t.access_token, 1, 'initialize', initialize);
      assert.equal(init.result.protocolVersion, '2024-11-05');
      assert.equal((await s.post(t.access_token, { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
      const list = await s.call(t.access_token, 2, 'tools/list');
      assert.ok(list.result.tools.some((x: { name: string }) => x.name === 'get_buckets'));
      const call = await s.call(t.access_token, 3, 'tools/call', { name: 'get_buckets', arguments: {} });
      assert.match(call.result.content[0].text, /in\.c-crm/);
      const deadline = Date.now() + 20_000;
      while (s.comments === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 200));
      assert.ok(s.comments > 0, 'keep-alive comments arrive on an idle stream');
    } finally {
      s.close();
    }
  });

  test("another grant's token, a narrower token of the same grant, or no token cannot post to a session", async () => {
    const client = await register(worker.url);
    const owner = await login(worker.url, client, stack.url, DEV_TOKEN);
    const other = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const narrowed = await (await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: owner.refresh_token, client_id: client, scope: 'keboola:read' })).json();
    assert.equal(narrowed.scope, 'keboola:read');
    const s = await Session.open(owner.access_token);
    try {
      const list = { jsonrpc: '2.0', id: 9, method: 'tools/list' };
      assert.equal((await s.post(other.access_token, list)).status, 403, "another grant's token");
      assert.equal((await s.post(narrowed.access_token, list)).status, 403, 'a read-only token of the same grant');
      assert.equal((await s.post(null, list)).status, 401, 'no token');
      assert.equal((await s.post(owner.access_token, list)).status, 202, 'the owner still can');
    } finally {
      s.close();
    }
  });

  test('a read-only session calling a write tool is 403 insufficient_scope naming the /sse metadata', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN, ['keboola:read']);
    const s = await Session.open(t.access_token);
    try {
      const r = await s.post(t.access_token, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'update_project_description', arguments: { description: 'x' } } });
      assert.equal(r.status, 403);
      const challenge = r.headers.get('WWW-Authenticate') ?? '';
      assert.match(challenge, /error="insufficient_scope"/);
      assert.ok(challenge.includes('oauth-protected-resource/sse'), challenge);
    } finally {
      s.close();
    }
  });

  test('an unknown session is 404', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const r = await fetch(`${worker.url}/messages?sessionid=${'Z'.repeat(32)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(r.status, 404);
  });

  test('sessions per grant are bounded, and a disconnected client frees its place', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const a = await Session.open(t.access_token);
    const b = await Session.open(t.access_token);
    try {
      const third = await fetch(`${worker.url}/sse`, { headers: { Authorization: `Bearer ${t.access_token}` } });
      assert.equal(third.status, 429);
      await third.body?.cancel();
      a.close();
      // The next keep-alive finds the stream gone and releases it.
      let reopened: Session | undefined;
      for (let i = 0; i < 30 && !reopened; i++) {
        await new Promise((ok) => setTimeout(ok, 1000));
        const r = await fetch(`${worker.url}/sse`, { headers: { Authorization: `Bearer ${t.access_token}` } });
        if (r.status === 200) {
          await r.body?.cancel();
          reopened = new Session();
        } else {
          assert.equal(r.status, 429);
          await r.body?.cancel();
        }
      }
      assert.ok(reopened, 'a place came free after the client disconnected');
    } finally {
      a.close();
      b.close();
    }
  });

  test('the session ends when its grant is revoked', async () => {
    const client = await register(worker.url);
    const t0 = await login(worker.url, client, stack.url, DEV_TOKEN);
    const t1 = await (await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: t0.refresh_token, client_id: client })).json();
    const s = await Session.open(t1.access_token);
    try {
      await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: client });
      // t0 again, after its successor was used: reuse, the grant is revoked.
      assert.equal((await tokenRequest(worker.url, { grant_type: 'refresh_token', refresh_token: t0.refresh_token, client_id: client })).status, 400);
      await s.end();
    } finally {
      s.close();
    }
  });

  test('the session ends after SSE_IDLE_SECONDS without a message', async () => {
    const t = await login(worker.url, await register(worker.url), stack.url, DEV_TOKEN);
    const s = await Session.open(t.access_token);
    try {
      await s.end(40);
    } finally {
      s.close();
    }
  });
});
