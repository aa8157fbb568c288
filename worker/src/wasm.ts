// The Go MCP server compiled to WebAssembly (cmd/keboola-mcp-wasm), started
// once per isolate on first use and reused by every later request.
//
// It cannot start at module load: Workers forbid random numbers and timers
// outside a request, and the Go runtime needs both as it boots.
//
// Which Go build runs is the entry module's choice (see useGoBuild): the
// full one (MCP served in wasm) or the login-only one (MCP proxied to a
// native server), so a Worker bundles only the one it needs.
import '../build/wasm_exec.js';
import { host, inCall, keepGoTimeouts } from './gohost';

let goBuild: WebAssembly.Module | undefined;

/** Sets the compiled Go build; the entry module calls it once, at load. */
export function useGoBuild(module: WebAssembly.Module): void {
  goBuild = module;
}

/** A request handed to Go: the path with query, and the body as bytes. */
export interface GoRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

export interface GoAccess {
  stackURL: string;
  token: string;
  /** The Keboola OAuth bearer of a "Sign in with Keboola" grant, while valid. */
  oauthToken?: string;
  readOnly: boolean;
  resourceMetadataURL: string;
}

export interface GoResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** The tool gate key the request was served with, when Go resolved one (mcpserver.GateReport). */
  gate?: string;
  /**
   * Present when Go has work left after the answer (a tool call's audit
   * event): runs it, in a later task and as a call of its own, and settles
   * when it is done. The request must live until then (waitUntil).
   */
  after?: () => Promise<unknown>;
}

/** Facts about a verified Storage token; never the token itself. */
export interface TokenFacts {
  id: string;
  description: string;
  isMasterToken: boolean;
  canManageBuckets: boolean;
  projectId: string;
  projectName: string;
}

export type VerifyResult =
  | { ok: true; token: TokenFacts }
  /** message: the login page's words for the failure, as the native server shows them. */
  | { ok: false; invalidToken: boolean; error: string; message: string };

/** The Worker's registration as a Keboola OAuth client, for one stack. */
export interface UpstreamConfig {
  stackURL: string;
  clientID: string;
  clientSecret: string;
  redirectURL: string;
}

export type SignInResult =
  | { ok: true; storageToken: string; oauthToken: string; oauthExpires: number; token: TokenFacts }
  | { ok: false; error: string };

/**
 * What the login + consent page shows, rendered by Go's template (the native
 * server's page). csrf is the consent handle; the form posts back to the
 * page's own URL.
 */
export interface LoginModel {
  clientName: string;
  /** The client's https client ID, shown only when verified. */
  clientID?: string;
  verified: boolean;
  /** Where the browser goes after approval; Go shows its host and port and tells a loopback one. */
  redirectURI: string;
  stacks: string[];
  stack?: string;
  read: boolean;
  write: boolean;
  csrf: string;
  /** Offers "Sign in with Keboola" (action=keboola). */
  upstream: boolean;
  error?: string;
  /** The control the error is about: it is marked invalid and focused. */
  errorField?: 'stack_url' | 'storage_token' | 'scope';
}

/** The login page and the headers to send it with (login.PageHeaders, its form-action derived from the model). */
export interface LoginPage {
  html: string;
  headers: Record<string, string>;
}

/** The login form's own error messages, worded as on the native server. */
export interface LoginMessages {
  chooseStack: string;
  chooseScope: string;
  pasteToken: string;
  malformedToken: string;
}

export interface KeboolaMCP {
  /** Absent in the login-only build. */
  handle?(request: GoRequest, access: GoAccess): Promise<GoResponse>;
  /** The session's tool gate keys under either scope (access.readOnly is ignored); absent in the login-only build. */
  toolGates?(access: GoAccess): Promise<{ full: string; read: string }>;
  /** Builds what the session's first tool call needs; its tool gate key, or "". Absent in the login-only build. */
  prepare?(access: GoAccess): Promise<string>;
  verifyToken(stackURL: string, token: string): Promise<VerifyResult>;
  upstreamAuthorizeURL(config: UpstreamConfig, state: string): string;
  upstreamSignIn(config: UpstreamConfig, code: string): Promise<SignInResult>;
  renderLogin(model: LoginModel): LoginPage | Error;
  loginMessages: LoginMessages;
  version: string;
}

declare global {
  // Set by wasm_exec.js.
  // eslint-disable-next-line no-var
  var Go: new () => { importObject: WebAssembly.Imports; mem: DataView; _resume(): void; run(instance: WebAssembly.Instance): Promise<void> };
  // Set by the Go program's main.
  // eslint-disable-next-line no-var
  var keboolaMCP: KeboolaMCP | undefined;
  // Read by the Go program (cmd/keboola-mcp-wasm/host.go).
  // eslint-disable-next-line no-var
  var keboolaMCPHost: typeof host | undefined;
}

let started: Promise<KeboolaMCP> | undefined;

/** Time the last start took, for the Server-Timing header of the first request. */
export let startMillis = 0;

/** Whether the Go program has been started (or is starting) in this isolate. */
export function goStarted(): boolean {
  return started !== undefined;
}

/** The Go exports, starting the program on first call. */
export function keboolaMCP(): Promise<KeboolaMCP> {
  started ??= start().catch((err) => {
    // Let the next request try again rather than caching a failed start.
    started = undefined;
    throw err;
  });
  return started;
}

async function start(): Promise<KeboolaMCP> {
  const t0 = performance.now();
  if (!goBuild) throw new Error('no Go build: the Worker entry must call useGoBuild');
  globalThis.keboolaMCPHost = host;
  const go = new globalThis.Go();
  keepGoTimeouts(go);
  const instance = await WebAssembly.instantiate(goBuild, go.importObject);
  // run() resolves only when the Go program exits, which it does not; by the
  // time it yields, main has registered the exports.
  go.run(instance).catch((err) => console.error('keboola-mcp wasm exited', err));
  const api = globalThis.keboolaMCP;
  if (!api) throw new Error('the Go wasm module did not register keboolaMCP');
  startMillis = performance.now() - t0;
  return inCalls(api);
}

/** The Go exports, each asynchronous one run as a call of its own request (gohost.ts). */
function inCalls(api: KeboolaMCP): KeboolaMCP {
  const { handle, toolGates, prepare } = api;
  return {
    handle:
      handle &&
      (async (request, access) => {
        const out = await inCall(() => handle(request, access));
        const after = out.after;
        if (!after) return out;
        // A later task, so the answer goes out before Go runs the work.
        return { ...out, after: () => new Promise((ok) => setTimeout(ok, 0)).then(() => inCall(after)) };
      }),
    toolGates: toolGates && ((access) => inCall(() => toolGates(access))),
    prepare: prepare && ((access) => inCall(() => prepare(access))),
    verifyToken: (stackURL, token) => inCall(() => api.verifyToken(stackURL, token)),
    upstreamSignIn: (config, code) => inCall(() => api.upstreamSignIn(config, code)),
    upstreamAuthorizeURL: (config, state) => api.upstreamAuthorizeURL(config, state),
    renderLogin: (model) => api.renderLogin(model),
    loginMessages: api.loginMessages,
    version: api.version,
  };
}
