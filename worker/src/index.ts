// The Keboola MCP server on Cloudflare Workers. @cloudflare/workers-oauth-provider
// is the OAuth 2.1 authorization server (discovery, DCR, CIMD, PKCE, tokens,
// KV storage with encrypted props); /authorize is our Keboola login and
// consent page (oauth.ts); /mcp is served by the Go MCP server (proxy.ts),
// and so are the legacy SSE routes /sse + /messages (sse.ts).
//
// In front of the library:
//  - a request for a Host the Worker does not serve is refused (host.ts);
//  - /token requests naming a grant are served one at a time by that grant's
//    Durable Object (gate.ts): single-use codes, refresh rotation with a
//    retry grace and reuse detection;
//  - /register is rate-limited and capped (register.ts);
//  - metadata-document client ids on private hosts are refused (cimd.ts);
//  - /sse + /messages, whose tokens are those of the /mcp resource (sse.ts).
import type { Env } from './config';
import { refuseClientIdURL, namedClientIds } from './cimd';
import { grantOf } from './gate';
import { misdirected, servesOrigin } from './host';
import { page } from './oauth';
import { checkRegistration, rememberRegistration } from './register';
import { provider } from './site';
import { aliasSSEResource, serveSSE, ssePRM } from './sse';

export { GrantGate } from './gate';
export { RegisterLimit } from './register';
export { SseSession } from './sse';

async function tokenEndpoint(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  if (request.method === 'POST' && (request.headers.get('Content-Type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const body = await request.text();
    const form = new URLSearchParams(body);
    // The grant the grant type's own parameter names, so no request reaches another grant's gate.
    const grantType = form.get('grant_type');
    const named = grantOf((grantType === 'authorization_code' ? form.get('code') : grantType === 'refresh_token' ? form.get('refresh_token') : null) ?? '');
    const forwarded = new Request(request.url, { method: 'POST', headers: request.headers, body });
    if (named) return env.GRANT_GATE.get(env.GRANT_GATE.idFromName(named.grantId)).fetch(forwarded);
    return provider(new URL(request.url).origin, env).fetch(forwarded, env, ctx);
  }
  return provider(new URL(request.url).origin, env).fetch(request, env, ctx);
}

function refusedClient(pathname: string, reason: string): Response {
  if (pathname === '/authorize') return page(400, 'This app could not be verified', `<p>Its client id was refused: ${reason}.</p>`);
  return new Response(JSON.stringify({ error: 'invalid_client', error_description: reason }) + '\n', {
    status: 401,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    let url = new URL(request.url);
    if (!servesOrigin(url.origin, env)) return misdirected(env);
    for (const id of await namedClientIds(request)) {
      const reason = refuseClientIdURL(id);
      if (reason) return refusedClient(url.pathname, reason);
    }
    request = await aliasSSEResource(request);
    url = new URL(request.url);
    switch (url.pathname) {
      case '/token':
        return tokenEndpoint(request, env, ctx);
      case '/register': {
        const checked = await checkRegistration(request, env);
        if ('refused' in checked) return checked.refused;
        const forwarded = new Request(request.url, { method: request.method, headers: request.headers, body: request.method === 'GET' || request.method === 'HEAD' ? undefined : checked.body });
        const res = await provider(url.origin, env).fetch(forwarded, env, ctx);
        await rememberRegistration(res, checked.noRefresh, env);
        return res;
      }
      case '/.well-known/oauth-protected-resource/sse':
        return ssePRM(request);
      case '/sse':
      case '/messages':
        return serveSSE(request, env);
    }
    return provider(url.origin, env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
