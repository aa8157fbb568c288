// Benchmark fixture, not product code: the baseline for `make bench-worker`.
// A plain-JS Worker on the same library (@cloudflare/workers-oauth-provider)
// serving the same tool list as ours, the way a hand-written TypeScript MCP
// server would: parse the JSON-RPC request, build the answer, stringify it.
// /authorize approves every request at once (no login), so the benchmark can
// get a token; it must never be deployed.
import { OAuthProvider } from '@cloudflare/workers-oauth-provider';
import recorded from '../../build/tools.json';

interface Env {
  OAUTH_KV: KVNamespace;
  OAUTH_PROVIDER: import('@cloudflare/workers-oauth-provider').OAuthHelpers;
}

// The same tools, as our server lists them to a session with every tool.
const tools = recorded.tools;

const api = {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });
    const msg = (await request.json()) as { id?: number | string; method?: string };
    let result: unknown;
    switch (msg.method) {
      case 'tools/list':
        result = { tools };
        break;
      case 'ping':
        result = {};
        break;
      default:
        return Response.json({ jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32601, message: 'method not found' } });
    }
    return Response.json({ jsonrpc: '2.0', id: msg.id, result });
  },
};

const site = {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (new URL(request.url).pathname !== '/authorize') return new Response('ok');
    const req = await env.OAUTH_PROVIDER.parseAuthRequest(request);
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({ request: req, userId: 'bench', metadata: {}, scope: req.scope, props: {} });
    return Response.redirect(redirectTo, 302);
  },
};

// One provider per origin, as our Worker does: the library fixes the resource at construction.
const providers = new Map<string, OAuthProvider<Env>>();

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const origin = new URL(request.url).origin;
    let provider = providers.get(origin);
    if (!provider) {
      provider = new OAuthProvider<Env>({
        apiRoute: '/mcp',
        apiHandler: api,
        defaultHandler: site,
        authorizeEndpoint: '/authorize',
        tokenEndpoint: '/token',
        clientRegistrationEndpoint: '/register',
        scopesSupported: ['keboola:read', 'keboola:write'],
        requiredScopes: ['keboola:read'],
        resourceMetadata: { resource: `${origin}/mcp`, authorization_servers: [origin], bearer_methods_supported: ['header'] },
      });
      providers.set(origin, provider);
    }
    return provider.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
