// The OAuth provider for one public origin. The library fixes the protected
// resource at construction while its issuer follows the request's origin, so
// there is one provider per origin the Host check admitted (host.ts), built
// on first use and kept for the isolate's life, as the library expects of a
// provider (building one validates and copies every option, which cost more
// than the rest of our own work on a request to /mcp).
import { OAuthProvider, type OAuthErrorInternal, type OAuthProviderOptions } from '@cloudflare/workers-oauth-provider';
import { appHandler } from './app';
import { accessTTL, SCOPES, type Env } from './config';
import { mcpHandler } from './proxy';

export const REFRESH_TTL = 30 * 24 * 60 * 60;

/**
 * Carries a token endpoint error's internal reason from onError to the
 * grant gate (gate.ts), which strips it before the client sees the answer.
 */
export const REASON_HEADER = 'X-Keboola-MCP-Internal-Reason';

function onError(e: { code: string; description: string; status: number; headers: Record<string, string>; internal: OAuthErrorInternal }) {
  // Never log request bodies or tokens: the code and the internal reason suffice.
  console.warn(`oauth error ${e.status} ${e.code} (${e.internal.category}/${e.internal.reason})`);
  return new Response(JSON.stringify({ error: e.code, error_description: e.description }), {
    status: e.status,
    headers: { ...e.headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store', [REASON_HEADER]: `${e.internal.category}/${e.internal.reason}` },
  });
}

export function providerOptions(origin: string, env: Env): OAuthProviderOptions<Env> {
  return {
    apiRoute: '/mcp',
    apiHandler: mcpHandler,
    defaultHandler: appHandler,
    authorizeEndpoint: '/authorize',
    tokenEndpoint: '/token',
    clientRegistrationEndpoint: '/register',
    scopesSupported: SCOPES,
    // Advertised in the metadata and the 401 challenge, as on native: clients
    // ask for both and the person unticks write on the consent page.
    requiredScopes: SCOPES,
    resourceMetadata: {
      resource: `${origin}/mcp`,
      authorization_servers: [origin],
      bearer_methods_supported: ['header'],
      resource_name: 'Keboola MCP server',
    },
    accessTokenTTL: accessTTL(env),
    refreshTokenTTL: REFRESH_TTL,
    clientIdMetadataDocumentEnabled: true,
    // Native apps (Cursor) return through a private-use scheme, as on the native server (RFC 8252 §7.1).
    allowPrivateUseRedirectUris: true,
    onError,
  };
}

/** Providers by origin, per env (the options are built from both). */
const providers = new WeakMap<Env, Map<string, OAuthProvider<Env>>>();

/**
 * Bounds the providers kept per env: with PUBLIC_URL set only its origins
 * pass the Host check, but without it (wrangler dev) every loopback port is
 * an origin of its own.
 */
const MAX_PROVIDERS = 8;

export function provider(origin: string, env: Env): OAuthProvider<Env> {
  let byOrigin = providers.get(env);
  if (!byOrigin) providers.set(env, (byOrigin = new Map()));
  let p = byOrigin.get(origin);
  if (!p) {
    if (byOrigin.size >= MAX_PROVIDERS) byOrigin.delete(byOrigin.keys().next().value!);
    p = new OAuthProvider<Env>(providerOptions(origin, env));
    byOrigin.set(origin, p);
  }
  return p;
}
