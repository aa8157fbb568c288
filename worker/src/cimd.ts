// Client ID Metadata Documents: anyone may name any https URL as a client id,
// and the library then fetches it. In production the
// global_fetch_strictly_public flag keeps that fetch off private networks,
// but `wrangler dev` ignores the flag, and the library takes no fetch hook.
// So client ids are checked here, before the library sees them: the host must
// be a public DNS name on the default port. A literal address, a loopback or
// local-only name, or an explicit port is refused at once, without a fetch,
// so the answer and its timing say nothing about what listens where.

/** Local-only names (RFC 6761, RFC 6762, RFC 8375, and common internal suffixes). */
const LOCAL_SUFFIXES = ['localhost', 'local', 'internal', 'home.arpa', 'lan', 'intranet', 'corp', 'private', 'test', 'invalid', 'example', 'arpa'];

/** Why a metadata-document client id is refused, or null when it may be fetched. */
export function refuseClientIdURL(clientId: string): string | null {
  if (!/^https:\/\//i.test(clientId)) return null; // not a metadata-document client id
  let u: URL;
  try {
    u = new URL(clientId);
  } catch {
    return 'the client id is not a valid URL';
  }
  if (u.port !== '') return 'a client metadata document must be served on the default https port';
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') || /^[0-9.]+$/.test(host) || /^0x/i.test(host)) return 'a client metadata document must be named by a DNS name, not an address';
  if (!host.includes('.')) return 'a client metadata document must be on a fully qualified public host';
  if (LOCAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) return 'a client metadata document must be on a public host';
  return null;
}

/** The client ids a request names: the query's, and a urlencoded form's. */
export async function namedClientIds(request: Request): Promise<string[]> {
  const ids = new URL(request.url).searchParams.getAll('client_id');
  if (request.method === 'POST' && (request.headers.get('Content-Type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(await request.clone().text());
    ids.push(...form.getAll('client_id'));
  }
  return ids;
}
