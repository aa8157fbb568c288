// The legacy HTTP+SSE transport (protocol 2024-11-05) on the Worker: GET /sse
// opens a stream whose first event names /messages?sessionid=…, and the
// client POSTs its messages there; answers come back on the stream.
//
// A stream is state an isolate cannot keep, so each session is a Durable
// Object (SseSession) that holds the open stream, the grant it belongs to and
// its scope. Messages are served by the same Go MCP server as /mcp (wasm, or
// the native server in proxy mode): the object hands each message to it as a
// Streamable HTTP request and writes the answer to the stream, so no MCP is
// implemented here. The Go server is stateless, so the session needs nothing
// else from it.
//
// Rules, as on the native server (internal/mcpserver SSEHandler):
//  - both routes need a bearer token of the OAuth provider, like /mcp;
//  - a message is accepted only with a token of the session's grant and the
//    same scope (another user's token, another grant, or a narrower token →
//    403), and a write tool needs keboola:write (403 insufficient_scope);
//  - the session ends when the client goes away, the grant is revoked, or
//    after SSE_IDLE_SECONDS without a message; keep-alive comments every
//    SSE_KEEPALIVE_SECONDS; at most SSE_MAX_PER_GRANT open per grant.
//
// /sse is an alias of the /mcp protected resource: its metadata names
// `<origin>/sse` (clients check that it covers the URL they were given), and
// a `resource=<origin>/sse` at /authorize or /token is read as /mcp, so one
// token serves both transports.
import { DurableObject } from 'cloudflare:workers';
import { getOAuthApi, type OAuthResourceAuth } from '@cloudflare/workers-oauth-provider';
import { SCOPE_READ, SCOPE_WRITE, type Env, type Props } from './config';
import { grantOf } from './gate';
import { foreignOrigin, serveMCP, text } from './proxy';
import { providerOptions } from './site';

const MAX_BODY_BYTES = 4 << 20;
const DEFAULT_IDLE_SECONDS = 30 * 60;
const DEFAULT_KEEPALIVE_SECONDS = 15;
const DEFAULT_MAX_PER_GRANT = 5;

/** Who a session or message belongs to, as the OAuth provider verified it. */
export interface Binding {
  userId: string;
  grantId: string;
  readOnly: boolean;
  props: Props;
}

interface OpenOptions {
  sessionId: string;
  origin: string;
  idleMs: number;
  keepaliveMs: number;
}

function seconds(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function sessionTTL(env: Env): number {
  // A session counts against its grant until it ends or stops renewing.
  return 3 * seconds(env.SSE_KEEPALIVE_SECONDS, DEFAULT_KEEPALIVE_SECONDS) * 1000;
}

function newSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...b)).replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * The bearer check of /sse and /messages. The library protects only routes
 * under its resource (/mcp), so these routes ask it directly: the token must
 * be one it issued, unexpired, unrevoked, for this origin's /mcp resource,
 * with keboola:read; the answers are those of /mcp, naming the /sse metadata.
 */
async function authenticate(request: Request, env: Env): Promise<{ auth: OAuthResourceAuth; props: Props } | Response> {
  const origin = new URL(request.url).origin;
  const challenge = (error?: string) =>
    `Bearer realm="OAuth", resource_metadata="${origin}/.well-known/oauth-protected-resource/sse"${error ? `, error="${error}"` : ''}, scope="${SCOPE_READ} ${SCOPE_WRITE}"`;
  const header = request.headers.get('Authorization') ?? '';
  const m = /^Bearer ([^\s,]+)$/i.exec(header);
  if (!m) {
    return new Response(JSON.stringify({ error: 'invalid_token', error_description: 'a bearer token is required' }), {
      status: 401,
      headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': challenge() },
    });
  }
  const summary = await getOAuthApi(providerOptions(origin, env), env).unwrapToken<Props>(m[1]);
  const audiences = summary ? [summary.audience ?? []].flat() : [];
  if (!summary || !audiences.includes(`${origin}/mcp`) || !summary.scope.includes(SCOPE_READ)) {
    return new Response(JSON.stringify({ error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' }), {
      status: 401,
      headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': challenge('invalid_token') },
    });
  }
  return {
    auth: { token: m[1], audience: `${origin}/mcp`, expiresAt: summary.expiresAt, scope: summary.scope, userId: summary.userId, clientId: summary.grant.clientId },
    props: summary.grant.props,
  };
}

/** Serves /sse and /messages. */
export async function serveSSE(request: Request, env: Env): Promise<Response> {
  const refused = foreignOrigin(request, env);
  if (refused) return refused;
  const verified = await authenticate(request, env);
  if (verified instanceof Response) return verified;
  const { auth, props } = verified;
  const named = grantOf(auth.token);
  if (!named) return text(401, 'unauthorized');
  const url = new URL(request.url);
  const binding: Binding = { ...named, readOnly: !auth.scope.includes(SCOPE_WRITE), props };
  if (url.pathname === '/sse') {
    if (request.method !== 'GET') return new Response('use GET to open a session\n', { status: 405, headers: { Allow: 'GET' } });
    const sessionId = newSessionId();
    const gate = env.GRANT_GATE.get(env.GRANT_GATE.idFromName(named.grantId));
    const max = seconds(env.SSE_MAX_PER_GRANT, DEFAULT_MAX_PER_GRANT);
    if (!(await gate.admitSession(sessionId, max, sessionTTL(env)))) {
      return text(429, `too many open SSE sessions for this sign-in (at most ${max}); close one or use Streamable HTTP at /mcp`);
    }
    const session = env.SSE_SESSION.get(env.SSE_SESSION.idFromName(sessionId));
    return session.open(binding, {
      sessionId,
      origin: url.origin,
      idleMs: seconds(env.SSE_IDLE_SECONDS, DEFAULT_IDLE_SECONDS) * 1000,
      keepaliveMs: seconds(env.SSE_KEEPALIVE_SECONDS, DEFAULT_KEEPALIVE_SECONDS) * 1000,
    });
  }
  if (request.method !== 'POST') return new Response('use POST to send a message\n', { status: 405, headers: { Allow: 'POST' } });
  const sessionId = url.searchParams.get('sessionid') ?? '';
  if (!/^[A-Za-z0-9_-]{32}$/.test(sessionId)) return text(400, 'the sessionid query parameter is required: use the endpoint the /sse stream named');
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > MAX_BODY_BYTES) return text(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const session = env.SSE_SESSION.get(env.SSE_SESSION.idFromName(sessionId));
  const res = await session.message(binding, body);
  if (res.status === 403 && res.headers.get('WWW-Authenticate')?.includes('insufficient_scope')) {
    const headers = new Headers(res.headers);
    headers.set(
      'WWW-Authenticate',
      `Bearer realm="OAuth", error="insufficient_scope", scope="${SCOPE_READ} ${SCOPE_WRITE}", resource_metadata="${url.origin}/.well-known/oauth-protected-resource/sse"`,
    );
    return new Response(res.body, { status: 403, headers });
  }
  return res;
}

/** One legacy SSE session: its stream, its owner, its timers. */
export class SseSession extends DurableObject<Env> {
  private writer?: WritableStreamDefaultWriter<Uint8Array>;
  private owner?: Binding;
  private options?: OpenOptions;
  private lastMessage = 0;
  private timer?: ReturnType<typeof setInterval>;

  async open(owner: Binding, options: OpenOptions): Promise<Response> {
    if (this.writer) return text(409, 'session already open');
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    this.writer = writable.getWriter();
    this.owner = owner;
    this.options = options;
    this.lastMessage = Date.now();
    this.send(`event: endpoint\ndata: /messages?sessionid=${options.sessionId}\n\n`);
    this.timer = setInterval(() => void this.tick(), options.keepaliveMs);
    return new Response(readable, {
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' },
    });
  }

  async message(sender: Binding, body: Uint8Array): Promise<Response> {
    const owner = this.owner;
    const options = this.options;
    if (!this.writer || !owner || !options) return text(404, 'session not found: open a new one with GET /sse');
    if (sender.grantId !== owner.grantId || sender.userId !== owner.userId || sender.readOnly !== owner.readOnly) {
      return text(403, 'forbidden: this session belongs to other credentials');
    }
    this.lastMessage = Date.now();
    const mcp = new Request(`${options.origin}/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body,
    });
    // The sender's credentials: the same grant, decrypted for this request.
    const res = await serveMCP(mcp, this.env, body, sender, (p) => this.ctx.waitUntil(p));
    if (res.status === 202) return new Response(null, { status: 202 });
    if (res.status !== 200) return res;
    for (const message of await messagesOf(res)) this.send(`event: message\ndata: ${message}\n\n`);
    return new Response('Accepted\n', { status: 202, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  }

  private send(chunk: string): void {
    this.writer?.write(new TextEncoder().encode(chunk)).catch(() => void this.close('the client went away'));
  }

  private async tick(): Promise<void> {
    const owner = this.owner;
    const options = this.options;
    if (!owner || !options) return;
    if (Date.now() - this.lastMessage > options.idleMs) return this.close('idle');
    const grant = await this.env.OAUTH_KV.get(`grant:${owner.userId}:${owner.grantId}`);
    if (grant === null) return this.close('the grant was revoked');
    this.send(': keep-alive\n\n');
    await this.env.GRANT_GATE.get(this.env.GRANT_GATE.idFromName(owner.grantId)).renewSession(options.sessionId, sessionTTL(this.env));
  }

  private async close(why: string): Promise<void> {
    const owner = this.owner;
    const options = this.options;
    if (!owner || !options) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    const writer = this.writer;
    this.writer = undefined;
    this.owner = undefined;
    this.options = undefined;
    console.log(`sse session ended: ${why}`);
    await writer?.close().catch(() => undefined);
    await this.env.GRANT_GATE.get(this.env.GRANT_GATE.idFromName(owner.grantId)).releaseSession(options.sessionId);
  }
}

/** The JSON-RPC messages of a Streamable HTTP answer: a JSON body, or the data of an event stream. */
async function messagesOf(res: Response): Promise<string[]> {
  const body = await res.text();
  if (!(res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) return [body.trim()];
  return body
    .split(/\r?\n\r?\n/)
    .map((event) =>
      event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((d) => d !== '')
    .map((d) => JSON.stringify(JSON.parse(d)));
}

/** Protected Resource Metadata for /sse (RFC 9728), as the native server publishes it. */
export function ssePRM(request: Request): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } });
  }
  const origin = new URL(request.url).origin;
  const metadata = {
    resource: `${origin}/sse`,
    authorization_servers: [origin],
    scopes_supported: [SCOPE_READ, SCOPE_WRITE],
    bearer_methods_supported: ['header'],
    resource_name: 'Keboola MCP server (legacy SSE)',
  };
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(metadata), {
    headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' },
  });
}

/** Reads `resource=<origin>/sse` at /authorize and /token as the /mcp resource it aliases. */
export async function aliasSSEResource(request: Request): Promise<Request> {
  const url = new URL(request.url);
  const sse = `${url.origin}/sse`;
  const mcp = `${url.origin}/mcp`;
  if (url.pathname === '/authorize' && url.searchParams.getAll('resource').includes(sse)) {
    const q = new URLSearchParams();
    for (const [k, v] of url.searchParams) q.append(k, k === 'resource' && v === sse ? mcp : v);
    url.search = q.toString();
    return new Request(url, request);
  }
  if (url.pathname === '/token' && request.method === 'POST' && (request.headers.get('Content-Type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const body = await request.text();
    const form = new URLSearchParams(body);
    if (!form.getAll('resource').includes(sse)) return new Request(request.url, { method: 'POST', headers: request.headers, body });
    const out = new URLSearchParams();
    for (const [k, v] of form) out.append(k, k === 'resource' && v === sse ? mcp : v);
    return new Request(request.url, { method: 'POST', headers: request.headers, body: out.toString() });
  }
  return request;
}
