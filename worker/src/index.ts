// The Keboola MCP server on Cloudflare Workers. @cloudflare/workers-oauth-provider
// is the OAuth 2.1 authorization server (discovery, DCR, CIMD, PKCE, tokens,
// KV storage with encrypted props); /authorize is our Keboola login and
// consent page (oauth.ts); /mcp is served by the Go MCP server (proxy.ts).
//
// Two gaps of the library are closed here:
//  - a replayed, superseded refresh token revokes its grant (the library only
//    refuses it, leaving the thief's newer token working);
//  - /mcp checks Origin (proxy.ts).
import { getOAuthApi, OAuthProvider, type OAuthErrorInternal, type OAuthProviderOptions } from '@cloudflare/workers-oauth-provider';
import { accessTTL, SCOPE_READ, SCOPES, type Env } from './config';
import { authorize, page, upstreamCallback } from './oauth';
import { mcpHandler, text } from './proxy';

const REFRESH_TTL = 30 * 24 * 60 * 60;

/** Marks (between onError and our wrapper) a refresh refused as not the grant's current or previous token. */
const REASON_HEADER = 'X-Keboola-MCP-Internal-Reason';
const MISMATCH = 'refresh_token_mismatch';
/** KV prefix of the hashes of refresh tokens we issued: proof a refused token was once genuine. */
const ISSUED_PREFIX = 'kmcp:issued-refresh:';

const appHandler: ExportedHandler<Env> = {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/authorize':
        return authorize(request, env);
      case '/oauth/callback':
        return upstreamCallback(request, env);
      case '/healthz':
        return text(200, 'ok');
      case '/sse':
      case '/messages':
        return text(404, 'legacy SSE is not served by the Worker: use Streamable HTTP at /mcp');
      case '/':
        return page(200, 'Keboola MCP server', `<p>Add <code>${url.origin}/mcp</code> to your MCP client as a remote server.</p>`);
      default:
        return text(404, 'not found');
    }
  },
};

function onError(e: { code: string; description: string; status: number; headers: Record<string, string>; internal: OAuthErrorInternal }) {
  // Never log request bodies or tokens: the code and the internal reason suffice.
  console.warn(`oauth error ${e.status} ${e.code} (${e.internal.category}/${e.internal.reason})`);
  if (e.internal.category === 'refresh-token-grant' && e.internal.reason === MISMATCH) {
    return new Response(JSON.stringify({ error: e.code, error_description: e.description }), {
      status: e.status,
      headers: { ...e.headers, 'Content-Type': 'application/json', [REASON_HEADER]: MISMATCH },
    });
  }
}

// The library fixes the protected resource at construction while its issuer
// follows the request's origin; one provider per origin keeps both in step
// (workers.dev and a custom domain, or wrangler dev's loopback address).
// Workers only receive requests for their configured routes, and PUBLIC_URL
// pins a single origin.
interface Site {
  options: OAuthProviderOptions<Env>;
  provider: OAuthProvider<Env>;
}

const sites = new Map<string, Site>();

function siteFor(origin: string, env: Env): Site {
  let site = sites.get(origin);
  if (!site) {
    const options: OAuthProviderOptions<Env> = {
      apiRoute: '/mcp',
      apiHandler: mcpHandler,
      defaultHandler: appHandler,
      authorizeEndpoint: '/authorize',
      tokenEndpoint: '/token',
      clientRegistrationEndpoint: '/register',
      scopesSupported: SCOPES,
      requiredScopes: [SCOPE_READ],
      resourceMetadata: {
        resource: `${origin}/mcp`,
        authorization_servers: [origin],
        bearer_methods_supported: ['header'],
        resource_name: 'Keboola MCP server',
      },
      accessTokenTTL: accessTTL(env),
      refreshTokenTTL: REFRESH_TTL,
      clientIdMetadataDocumentEnabled: true,
      onError,
    };
    site = { options, provider: new OAuthProvider<Env>(options) };
    sites.set(origin, site);
  }
  return site;
}

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** KV prefix of the newest refresh token's parent, per grant. */
const LATEST_PREFIX = 'kmcp:latest-refresh:';

/** What we remember of an issued refresh token: the hash of the token it replaced ('' after a code exchange). */
interface Issued {
  parent: string;
}

/**
 * The token endpoint, with reuse detection on top of the library's rotation.
 * Each refresh token issued is remembered by hash (as long as it could live),
 * with the token it replaced. When the library refuses a refresh token that
 * we did issue, it was superseded:
 *  - if the grant's newest token replaced the same parent, the two were
 *    issued by one refresh sent twice (a client racing itself, which the
 *    library allows for the previous token): the loser is refused, the grant
 *    lives;
 *  - otherwise the token came back after its successor was used, so someone
 *    holds a copy: the grant is revoked and every token of it stops working.
 * A made-up token is refused without touching the grant, so nobody can revoke
 * another user's grant by guessing.
 */
async function tokenEndpoint(site: Site, request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  let presented = '';
  if (request.method === 'POST') {
    const form = await request.clone().formData().catch(() => null);
    if (form?.get('grant_type') === 'refresh_token') presented = String(form.get('refresh_token') ?? '');
  }
  const presentedHash = presented ? await sha256Hex(presented) : '';
  const res = await site.provider.fetch(request, env, ctx);
  if (res.ok) {
    const issued = await res.clone().json<{ refresh_token?: string }>().catch(() => null);
    if (issued?.refresh_token) {
      const record: Issued = { parent: presentedHash };
      const grantId = issued.refresh_token.split(':')[1];
      await env.OAUTH_KV.put(ISSUED_PREFIX + (await sha256Hex(issued.refresh_token)), JSON.stringify(record), { expirationTtl: REFRESH_TTL });
      await env.OAUTH_KV.put(LATEST_PREFIX + grantId, JSON.stringify(record), { expirationTtl: REFRESH_TTL });
    }
    return res;
  }
  if (res.headers.get(REASON_HEADER) !== MISMATCH) return res;
  const headers = new Headers(res.headers);
  headers.delete(REASON_HEADER);
  const clean = new Response(res.body, { status: res.status, headers });
  const mine = presentedHash ? await env.OAUTH_KV.get<Issued>(ISSUED_PREFIX + presentedHash, 'json') : null;
  if (mine) {
    const [userId, grantId] = presented.split(':');
    const latest = await env.OAUTH_KV.get<Issued>(LATEST_PREFIX + grantId, 'json');
    if (latest && latest.parent !== '' && latest.parent === mine.parent) {
      console.warn('a refresh token lost a race with its sibling: refused, grant kept');
      return clean;
    }
    await getOAuthApi(site.options, env).revokeGrant(grantId, userId);
    console.warn('a superseded refresh token was replayed: its grant is revoked');
  }
  return clean;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (env.PUBLIC_URL && url.origin !== new URL(env.PUBLIC_URL).origin) {
      return text(421, `this server answers at ${new URL(env.PUBLIC_URL).origin}`);
    }
    const site = siteFor(url.origin, env);
    if (url.pathname === '/token') return tokenEndpoint(site, request, env, ctx);
    return site.provider.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;

