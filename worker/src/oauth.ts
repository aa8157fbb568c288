// The Keboola login + consent page at /authorize: the same form contract as
// the native server (stack_url, storage_token, scope, action, csrf), built on
// the library's consent helpers, which bind the form to the browser with a
// __Host- cookie, forbid framing and keep the authorization request
// server-side. The page itself is the native server's, rendered by Go
// (keboolaMCP.renderLogin) with its headers, so both deployments show one
// page under one policy (login.PageHeaders) and one Go function escapes it.
// The Storage token is checked by the Go code (wasm) before the
// authorization completes; it then lives only in the grant's encrypted props.
import {
  AuthorizationError,
  authorizationErrorRedirect,
  CimdFetchError,
  type AuthRequest,
} from '@cloudflare/workers-oauth-provider';
import { allowedStacks, isLoopbackHost, resourceMetadataURL, SCOPE_READ, SCOPE_WRITE, SCOPES, type Env, type Props } from './config';
import { consentGate } from './gate';
import { gatesAtLogin } from './toolgates';
import { keboolaMCP, type LoginModel, type UpstreamConfig } from './wasm';
import builtPageHeaders from '../build/page-headers.json';

/** Form field names: a stable contract shared with the native login page. */
export const FIELD = {
  stack: 'stack_url',
  token: 'storage_token',
  scope: 'scope',
  action: 'action',
  csrf: 'csrf_token',
} as const;

/**
 * The headers of a page without a form (login.PageHeaders(false), written by
 * cmd/keboola-mcp-static at build time): the error pages, which need no Go
 * and so must not wait for it to start (~200 ms in a fresh isolate) nor fail
 * with it, and the redirects that answer the login form, as on the native
 * server. The login page gets its own headers from Go with its HTML
 * (renderLogin), so the Worker holds no copy of the policy.
 */
const PAGE_HEADERS_WITHOUT_FORM: Readonly<Record<string, string>> = builtPageHeaders.withoutForm;

/** Sets the headers of a page without a form on a redirect to the client or to Keboola, as the native server does. */
function answerHeaders(headers: Headers): Headers {
  for (const [k, v] of Object.entries(PAGE_HEADERS_WITHOUT_FORM)) headers.set(k, v);
  return headers;
}

/**
 * Redirects that answer the login form (it carries the Storage token) are
 * 303, so the browser follows with a GET and never posts the form again
 * (RFC 9700 §4.11).
 */
const AFTER_POST = 303;

export async function authorize(request: Request, env: Env): Promise<Response> {
  try {
    if (request.method === 'GET') return await showForm(request, env);
    if (request.method === 'POST') return await submitForm(request, env);
    return page(405, 'Method not allowed', '<p>Use the sign-in link your MCP client opened.</p>', { Allow: 'GET, POST' });
  } catch (err) {
    if (err instanceof AuthorizationError && err.redirectTo && errorRedirectAllowed(request)) {
      // Only parseAuthRequest sets redirectTo, after validating the client and
      // its exact redirect URI. A self-registered client's https or
      // private-use redirect URI is whatever its registrant chose, so an error
      // before consent is shown here instead: otherwise anyone could bounce a
      // browser, with a state of their choosing, off this server to any URI
      // they registered (RFC 9700 §4.11.2).
      return new Response(null, { status: 302, headers: answerHeaders(new Headers({ Location: err.redirectTo })) });
    }
    if (err instanceof AuthorizationError) {
      return page(400, 'Sign-in could not continue', `<p>${escape(err.description)}</p><p>Start again from your MCP client.</p>`);
    }
    if (err instanceof CimdFetchError) {
      return page(400, 'This app could not be verified', '<p>Its client metadata document could not be fetched or is invalid.</p>');
    }
    throw err;
  }
}

/**
 * Whether an error before consent may be redirected, as on the native
 * server: to a metadata-document client (its https domain publishes the
 * redirect URI) or to a loopback http redirect (only a local program receives it).
 */
function errorRedirectAllowed(request: Request): boolean {
  const q = new URL(request.url).searchParams;
  if (/^https:\/\//i.test(q.get('client_id') ?? '')) return true;
  try {
    const r = new URL(q.get('redirect_uri') ?? '');
    return r.protocol === 'http:' && isLoopbackHost(r.hostname);
  } catch {
    return false;
  }
}

/**
 * The scopes a form grants: those ticked, among those the client asked for
 * (all when it named none); write brings read along. A user cannot hand a
 * client more than it requested.
 */
export function grantedScopes(ticked: string[], requested: string[]): string[] {
  const out = [SCOPE_READ, SCOPE_WRITE].filter((sc) => ticked.includes(sc) && (requested.length === 0 || requested.includes(sc)));
  return out.includes(SCOPE_WRITE) && !out.includes(SCOPE_READ) ? [SCOPE_READ, ...out] : out;
}

async function showForm(request: Request, env: Env): Promise<Response> {
  const oauth = env.OAUTH_PROVIDER;
  // The library passes unknown scopes over in silence; the native server refuses them, and so do we.
  const unknown = (new URL(request.url).searchParams.get('scope') ?? '').split(' ').filter((s) => s !== '' && !SCOPES.includes(s));
  if (unknown.length > 0) {
    return page(400, 'Sign-in could not continue', `<p>Unknown scope ${escape(unknown[0])}; this server offers ${escape(SCOPES.join(' '))}.</p><p>Start again from your MCP client.</p>`);
  }
  const authRequest = await oauth.parseAuthRequest(request);
  return renderConsent(env, authRequest, new Headers(), undefined, undefined);
}

/** Starts a consent transaction for authRequest and renders the form with its handle. */
async function renderConsent(
  env: Env,
  authRequest: AuthRequest,
  extraHeaders: Headers,
  error: string | undefined,
  chosenStack: string | undefined,
  errorField?: LoginModel['errorField'],
): Promise<Response> {
  const oauth = env.OAUTH_PROVIDER;
  // describeConsent first: a failed client lookup then leaves nothing in KV.
  const details = await oauth.describeConsent(authRequest);
  // Go renders the page; started before beginConsent so a failed start leaves nothing in KV either.
  const go = await keboolaMCP();
  const consent = await oauth.beginConsent(authRequest);
  const headers = consent.headers;
  extraHeaders.forEach((v, k) => {
    if (k.toLowerCase() === 'set-cookie') headers.append(k, v);
  });
  const stacks = allowedStacks(env);
  const requested = details.scope.length ? details.scope : [SCOPE_READ];
  // Go renders the page and its headers: the form-action it may answer to
  // (the redirect's origin or scheme and, with Sign in with Keboola, the stacks).
  const page = go.renderLogin({
    clientName: details.clientName,
    // A metadata-document client is identified by its https URL; a registered one only names itself.
    clientID: details.clientDomain ? details.clientId : undefined,
    verified: Boolean(details.clientDomain),
    redirectURI: authRequest.redirectUri,
    stacks,
    stack: chosenStack ?? stacks[0],
    read: requested.includes(SCOPE_READ),
    write: requested.includes(SCOPE_WRITE),
    csrf: consent.handle,
    upstream: upstreamEnabled(env),
    error,
    errorField,
  });
  if (page instanceof Error) throw page;
  for (const [k, v] of Object.entries(page.headers)) headers.set(k, v);
  headers.set('Content-Type', 'text/html; charset=utf-8');
  return new Response(page.html, { status: error ? 400 : 200, headers });
}

async function submitForm(request: Request, env: Env): Promise<Response> {
  const oauth = env.OAUTH_PROVIDER;
  const form = await request.formData();
  const handle = String(form.get(FIELD.csrf) ?? '');
  const action = form.get(FIELD.action);
  const signInWithKeboola = action === 'keboola' && upstreamEnabled(env);
  if (action !== 'approve' && !signInWithKeboola) {
    const denied = await oauth.denyConsent(request, handle);
    await spendConsent(env, handle);
    return new Response(null, { status: AFTER_POST, headers: answerHeaders(denied.headers) });
  }
  // approveConsent checks the browser binding and uses the handle up; a
  // mistake below re-renders the form with a fresh handle for the same request.
  // Approved as requested first, to learn what the client asked for.
  const approved = await oauth.approveConsent(request, handle);
  await spendConsent(env, handle);
  const scopes = grantedScopes(form.getAll(FIELD.scope).map(String), approved.request.scope);
  const again = (message: string, stack?: string, field?: LoginModel['errorField']) =>
    renderConsent(env, approved.request, approved.headers, message, stack, field);
  const granted: AuthRequest = { ...approved.request, scope: scopes };
  // The page's words come from Go, so both deployments say the same.
  const { loginMessages: say } = await keboolaMCP();

  if (scopes.length === 0) return again(say.chooseScope, undefined, 'scope');
  const stacks = allowedStacks(env);
  const stackURL = String(form.get(FIELD.stack) ?? '');
  if (!stacks.includes(stackURL)) return again(say.chooseStack, undefined, 'stack_url');
  if (signInWithKeboola) {
    // The consent is given; only now does a state exist, bound to this browser.
    const { state, headers } = await oauth.beginUpstream(granted, { data: { stackURL }, headers: approved.headers });
    const go = await keboolaMCP();
    headers.set('Location', go.upstreamAuthorizeURL(upstreamConfig(env, stackURL, request), state));
    return new Response(null, { status: AFTER_POST, headers: answerHeaders(headers) });
  }
  const token = String(form.get(FIELD.token) ?? '').trim();
  if (token === '') return again(say.pasteToken, stackURL, 'storage_token');
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) return again(say.malformedToken, stackURL, 'storage_token');

  const go = await keboolaMCP();
  const verified = await go.verifyToken(stackURL, token);
  if (!verified.ok) return again(verified.message, stackURL, 'storage_token');
  const userId = await opaqueUserId(env, stackURL, verified.token.projectId, verified.token.id);
  const toolGates = await gatesAtLogin(go, { stackURL, token, resourceMetadataURL: resourceMetadataURL(new URL(request.url).origin) });
  const props: Props = { stackURL, storageToken: token, scopes, toolGates };
  const { redirectTo } = await oauth.completeAuthorization({
    request: granted,
    userId,
    // Stored unencrypted by the library: nothing that identifies the user.
    metadata: {},
    scope: scopes,
    props,
  });
  approved.headers.set('Location', redirectTo);
  return new Response(null, { status: AFTER_POST, headers: answerHeaders(approved.headers) });
}

/**
 * The one atomic spend of a consent form, as on native: the library's handle
 * check (a KV get, then a delete) lets racing POSTs of one form all pass, so
 * the first answer to reach the handle's Durable Object wins and the others
 * get the error page. Called after the library's check, so only a genuine
 * handle in its own browser reaches the object.
 */
async function spendConsent(env: Env, handle: string): Promise<void> {
  if (!(await (await consentGate(env, handle)).spendConsent())) {
    throw new AuthorizationError('invalid_request', { description: 'This consent form was already answered; start again' });
  }
}

function upstreamEnabled(env: Env): boolean {
  return Boolean(env.KBC_OAUTH_CLIENT_ID && env.KBC_OAUTH_CLIENT_SECRET);
}

function upstreamConfig(env: Env, stackURL: string, request: Request): UpstreamConfig {
  return {
    stackURL,
    clientID: env.KBC_OAUTH_CLIENT_ID ?? '',
    clientSecret: env.KBC_OAUTH_CLIENT_SECRET ?? '',
    redirectURL: `${new URL(request.url).origin}/oauth/callback`,
  };
}

/**
 * /oauth/callback: Keboola sends the browser back here after "Sign in with
 * Keboola". The library recovers the approved request from the state (only
 * in the browser that started it); Go redeems the code and mints a Storage
 * token, which goes into the grant like a pasted one.
 */
export async function upstreamCallback(request: Request, env: Env): Promise<Response> {
  try {
    if (!upstreamEnabled(env)) return page(404, 'Not found', '<p>Sign in with Keboola is not configured.</p>');
    const oauth = env.OAUTH_PROVIDER;
    const { request: original, data, headers } = await oauth.finishUpstream<{ stackURL: string }>(request);
    const params = new URL(request.url).searchParams;
    const code = params.get('code');
    if (params.get('error') || !code) {
      headers.set('Location', authorizationErrorRedirect(original, 'access_denied', 'Keboola sign-in was declined or failed'));
      return new Response(null, { status: 302, headers: answerHeaders(headers) });
    }
    const go = await keboolaMCP();
    const signedIn = await go.upstreamSignIn(upstreamConfig(env, data.stackURL, request), code);
    if (!signedIn.ok) {
      return page(502, 'Keboola sign-in failed', `<p>${escape(signedIn.error)}</p><p>Start again from your MCP client.</p>`);
    }
    const userId = await opaqueUserId(env, data.stackURL, signedIn.token.projectId, signedIn.token.id);
    const props: Props = {
      stackURL: data.stackURL,
      storageToken: signedIn.storageToken,
      scopes: original.scope,
      oauthToken: signedIn.oauthToken,
      oauthExpires: signedIn.oauthExpires,
      toolGates: await gatesAtLogin(go, {
        stackURL: data.stackURL,
        token: signedIn.storageToken,
        oauthToken: signedIn.oauthToken,
        resourceMetadataURL: resourceMetadataURL(new URL(request.url).origin),
      }),
    };
    const { redirectTo } = await oauth.completeAuthorization({ request: original, userId, metadata: {}, scope: original.scope, props });
    headers.set('Location', redirectTo);
    return new Response(null, { status: 302, headers: answerHeaders(headers) });
  } catch (err) {
    if (err instanceof AuthorizationError) {
      return page(400, 'Sign-in could not continue', `<p>${escape(err.description)}</p><p>Start again from your MCP client.</p>`);
    }
    throw err;
  }
}

/**
 * A user id that names the same Keboola token on the same stack every time
 * (so re-authorizing replaces the earlier grant) yet reveals nothing: the
 * library embeds user ids in every token and stores them in plain text, so
 * no token id, e-mail or name may go there. HMAC-SHA256 keyed by COOKIE_SECRET.
 */
export async function opaqueUserId(env: Env, stackURL: string, projectId: string, tokenId: string): Promise<string> {
  const secret = env.COOKIE_SECRET ?? '';
  if (secret.length < 32) {
    throw new Error('COOKIE_SECRET must be set to at least 32 characters (wrangler secret put COOKIE_SECRET)');
  }
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, enc.encode(`user\n${stackURL}\n${projectId}\n${tokenId}`));
  return btoa(String.fromCharCode(...new Uint8Array(mac).slice(0, 18)))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

export function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page for errors, with the headers of Go's pages without a form. */
export function page(status: number, title: string, bodyHtml: string, extra: Record<string, string> = {}): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${bodyHtml}</body></html>`;
  return new Response(html, { status, headers: { ...PAGE_HEADERS_WITHOUT_FORM, 'Content-Type': 'text/html; charset=utf-8', ...extra } });
}
