// Which origins the Worker answers for. The OAuth issuer, the protected
// resource and every token's audience are built from the request's origin,
// so a request for any other Host must be refused before anything is built
// from it: a DNS-rebinding page in a browser would otherwise talk to a local
// `wrangler dev` under its own name, and every new Host would mean a new
// issuer.
import type { Env } from './config';
import { isLoopbackHost } from './config';

/**
 * The origins configured in PUBLIC_URL (comma-separated), normalised; empty
 * when unset. A malformed entry is a deployment error and throws.
 */
export function publicOrigins(env: Env): string[] {
  return (env.PUBLIC_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        throw new Error(`PUBLIC_URL: ${JSON.stringify(s)} is not a URL like https://mcp.example.com`);
      }
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
        throw new Error(`PUBLIC_URL: ${JSON.stringify(s)} must use https (plain http only on a loopback host)`);
      }
      return u.origin;
    });
}

/**
 * Whether the Worker serves this origin: one of PUBLIC_URL's, or, when
 * PUBLIC_URL is unset (wrangler dev), a loopback one.
 */
export function servesOrigin(origin: string, env: Env): boolean {
  const configured = publicOrigins(env);
  if (configured.length > 0) return configured.includes(origin);
  const u = new URL(origin);
  return isLoopbackHost(u.hostname);
}

/** The answer to a request for a Host this Worker does not serve: a plain 403 with a short JSON error (as on native), never a stack trace. */
export function misdirected(env: Env): Response {
  const configured = publicOrigins(env);
  const where = configured.length > 0 ? `this server answers at ${configured.join(', ')}` : 'this development server answers only on loopback hosts; set PUBLIC_URL for a public one';
  return new Response(JSON.stringify({ error: 'invalid_request', error_description: `unknown Host: ${where}` }) + '\n', {
    status: 403,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}
