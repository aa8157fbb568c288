// Serves authenticated MCP requests (/mcp) with the grant's Keboola
// credentials: through the Go MCP server in this isolate (wasm), or, when
// MCP_ORIGIN is set, by forwarding to a native `keboola-mcp serve --auth
// proxy` with the credentials in signed headers, or (UPSTREAM_AUTH=headers) to
// the Python Keboola MCP server or `keboola-mcp serve --auth headers` with the
// Python server's plain credential headers.
import { insufficientScope, type OAuthResourceContext } from '@cloudflare/workers-oauth-provider';
import { allowedOrigins, liveOAuthToken, MAX_REQUEST_BYTES, pythonHeaders, resourceMetadataURL, SCOPE_READ, SCOPE_WRITE, upstreamAuth, type Env, type Props } from './config';
import { signedHeaders } from './proxyauth';
import { accessGate, fastPath } from './fastpath';
import { grantOf } from './gate';
import { rememberGate, toolsGate } from './toolgates';
import { goStarted, keboolaMCP, startMillis, type GoAccess } from './wasm';

/** Bodies beyond this are refused before they reach Go; MCP requests are small. */

/** Request headers an MCP server needs; the client's Authorization is never passed on. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id'];

/** Response headers that describe one hop and must not be copied. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding']);

export const mcpHandler = {
  // OAuthProvider passes an OAuthResourceContext: the grant's props and the verified token.
  async fetch(request: Request, env: Env, execCtx: ExecutionContext): Promise<Response> {
    const ctx = execCtx as OAuthResourceContext<Props>;
    const refused = foreignOrigin(request, env);
    if (refused) return refused;
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > MAX_REQUEST_BYTES) {
      return text(413, `request body exceeds ${MAX_REQUEST_BYTES} bytes`);
    }
    // The token's scopes decide, not the props: a refresh may narrow them.
    const readOnly = !ctx.auth.scope.includes(SCOPE_WRITE);
    const grantId = grantOf(ctx.auth.token)?.grantId ?? '';
    return withStepUp(await serveMCP(request, env, body, { grantId, props: ctx.props, readOnly }, (p) => execCtx.waitUntil(p)), ctx);
  },
};

/**
 * DNS-rebinding and cross-site protection: a browser page on another origin
 * must not drive the user's session. Non-browser clients send no Origin.
 */
export function foreignOrigin(request: Request, env: Env): Response | null {
  const origin = request.headers.get('Origin');
  if (origin !== null && !allowedOrigins(env, new URL(request.url).origin).has(origin)) {
    return text(403, `forbidden: requests from origin ${origin} are not allowed`);
  }
  return null;
}

/** Who a request is served for: the grant (by id), its props and whether its token may only read. */
export interface Grantee {
  grantId: string;
  props: Props;
  readOnly: boolean;
}

/** Keeps the request (or the Durable Object) alive until the promise settles, after the answer has gone. */
export type WaitUntil = (work: Promise<unknown>) => void;

/**
 * Serves one MCP request (its body already read) with a grant's credentials,
 * in wasm or on the native server. Go's work after the answer (a tool call's
 * audit event) is handed to waitUntil.
 */
export async function serveMCP(request: Request, env: Env, body: Uint8Array, grantee: Grantee, waitUntil: WaitUntil): Promise<Response> {
  const url = new URL(request.url);
  return env.MCP_ORIGIN ? viaNative(request, env, url, body, grantee.props, grantee.readOnly) : viaWasm(request, url, body, grantee, waitUntil);
}

async function viaWasm(request: Request, url: URL, body: Uint8Array, { grantId, props, readOnly }: Grantee, waitUntil: WaitUntil): Promise<Response> {
  const t0 = performance.now();
  const headers = new Headers();
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = request.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  // initialize and ping need no Keboola call, and tools/list none once Go
  // has told the grant's tool gate: answered without starting wasm.
  const fast = fastPath.answer({ method: request.method, headers, body }, { access: accessGate(readOnly), tools: toolsGate(grantId, props, readOnly) });
  const access: GoAccess = {
    stackURL: props.stackURL,
    token: props.storageToken,
    // The Keboola OAuth bearer only while it is valid; the minted token serves alone after.
    oauthToken: liveOAuthToken(props),
    readOnly,
    resourceMetadataURL: resourceMetadataURL(url.origin),
  };
  // A client lists the tools as a session opens and calls one later: Go warms up in between.
  if (fast?.method === 'tools/list') warmUp(access, grantId, waitUntil);
  const cold = !fast && startMillis === 0;
  const go = fast ? undefined : await keboolaMCP();
  if (go && !go.handle) {
    return text(500, 'server misconfigured: this build serves MCP only by proxy (wrangler.proxy.jsonc): set MCP_ORIGIN and MCP_PROXY_SECRET');
  }
  const out = fast ?? (await go!.handle!({ method: request.method, url: url.pathname + url.search, headers: [...headers], body }, access));
  if (out.gate) rememberGate(grantId, readOnly, out.gate);
  if (out.after) waitUntil(out.after());
  const res = new Headers();
  for (const [k, v] of out.headers) {
    if (!HOP_HEADERS.has(k.toLowerCase())) res.append(k, v);
  }
  // Lets the benchmark and the tests tell the static answers from Go's, and the one-off wasm start from serving.
  const timing = [`${fast ? 'static' : 'go'};dur=${(performance.now() - t0).toFixed(1)}`];
  if (cold) timing.push(`wasm-start;dur=${startMillis.toFixed(1)}`);
  if (fast) timing.push(`warm-up;desc="${warmUpState}"`);
  res.set('Server-Timing', timing.join(', '));
  return new Response(nullBodyStatus(out.status) ? null : out.body, { status: out.status, headers: res });
}

/** The isolate's Go warm-up (see warmUp): not begun, under way, or over (done or failed). */
let warmUpState: 'cold' | 'warming' | 'over' = 'cold';

/**
 * Starts Go after a fresh isolate's first tools/list answered without it
 * and prepares that session's first tool call, which would otherwise pay for
 * the start, the tool set and the token check. It begins in a later task, so
 * the answer goes out first, and the request lives on for it (waitUntil).
 * Go's start holds the isolate's one thread for a while: begun at the
 * session's first answer (initialize), it made the tools/list right behind
 * it wait.
 */
function warmUp(access: GoAccess, grantId: string, waitUntil: WaitUntil): void {
  if (warmUpState !== 'cold' || goStarted()) return;
  warmUpState = 'warming';
  waitUntil(
    new Promise((later) => setTimeout(later, 0))
      .then(() => keboolaMCP())
      .then((go) => go.prepare?.(access))
      .then((gate) => {
        if (gate) rememberGate(grantId, access.readOnly, gate);
      })
      .catch((err) => console.warn(`warming Go up: ${(err as Error).message}`))
      .finally(() => {
        warmUpState = 'over';
      }),
  );
}

async function viaNative(
  request: Request,
  env: Env,
  url: URL,
  body: Uint8Array,
  props: Props,
  readOnly: boolean,
): Promise<Response> {
  const target = new URL(url.pathname + url.search, env.MCP_ORIGIN);
  let mode;
  try {
    mode = upstreamAuth(env);
  } catch (e) {
    return text(500, `server misconfigured: ${(e as Error).message}`);
  }
  const oauthToken = liveOAuthToken(props);
  let headers: Headers;
  if (mode === 'headers') {
    headers = pythonHeaders(props.stackURL, props.storageToken, readOnly, oauthToken);
  } else {
    if (!env.MCP_PROXY_SECRET) {
      return text(500, 'server misconfigured: MCP_ORIGIN is set but MCP_PROXY_SECRET is not');
    }
    const scopes = readOnly ? [SCOPE_READ] : [SCOPE_READ, SCOPE_WRITE];
    headers = await signedHeaders(env.MCP_PROXY_SECRET, request.method, target.pathname + target.search, body, {
      stackURL: props.stackURL,
      token: props.storageToken,
      scopes,
      oauthToken,
    });
  }
  for (const h of FORWARDED_REQUEST_HEADERS) {
    const v = request.headers.get(h);
    if (v !== null) headers.set(h, v);
  }
  const upstream = env.MCP_UPSTREAM ?? globalThis;
  const res = await upstream.fetch(target, {
    method: request.method,
    headers,
    body: request.method === 'GET' || request.method === 'HEAD' ? undefined : body,
    redirect: 'manual',
  });
  const out = new Headers();
  res.headers.forEach((v, k) => {
    if (!HOP_HEADERS.has(k.toLowerCase())) out.append(k, v);
  });
  return new Response(res.body, { status: res.status, headers: out });
}

/**
 * Makes a 403 insufficient_scope from Go (wasm or native) carry this Worker's
 * challenge: the native server does not know the Worker's metadata URL, and
 * the library's helper builds the header exactly as clients expect.
 */
export function withStepUp(res: Response, ctx: OAuthResourceContext<Props>): Response {
  if (res.status !== 403 || !res.headers.get('WWW-Authenticate')?.includes('insufficient_scope')) {
    return res;
  }
  const challenge = insufficientScope(ctx.auth, [SCOPE_READ, SCOPE_WRITE]);
  const headers = new Headers(res.headers);
  headers.set('WWW-Authenticate', challenge.headers.get('WWW-Authenticate') ?? '');
  return new Response(res.body, { status: 403, headers });
}

function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

export function text(status: number, message: string): Response {
  return new Response(message + '\n', { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}
