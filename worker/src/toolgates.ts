// Which tools/list page the fast path (fastpath.ts) answers a grant with.
//
// The tools a session sees depend on its token's role and its project's
// features (mcpserver.Gate), which only Go, asking Keboola, can tell. Go
// tells them as a gate key: at login, for the grant's props (gatesAtLogin),
// and with every answer it serves for the grant (rememberGate), kept here for
// the isolate's life. A key is trusted for GATE_TTL_MS, as long as the native
// server trusts a session's facts (keboola.Sessions); after that the grant's
// tools/list goes to Go, which decides again and reports the key.
import type { Props, ToolGates } from './config';
import type { GoAccess, KeboolaMCP } from './wasm';

export const GATE_TTL_MS = 10 * 60 * 1000;

/** Bounds the isolate's memory: the oldest decision is forgotten first. */
const MAX_REMEMBERED = 1000;

const remembered = new Map<string, { key: string; at: number }>();

function slot(grantId: string, readOnly: boolean): string {
  return `${grantId}|${readOnly ? 'read' : 'full'}`;
}

/** The grant's tool gate key while one is fresh, else undefined (Go answers). */
export function toolsGate(grantId: string, props: Props, readOnly: boolean, now = Date.now()): string | undefined {
  const seen = grantId ? remembered.get(slot(grantId, readOnly)) : undefined;
  if (seen && now - seen.at < GATE_TTL_MS) return seen.key;
  const atLogin = props.toolGates;
  if (atLogin && now - atLogin.decidedAt < GATE_TTL_MS) return readOnly ? atLogin.read : atLogin.full;
  return undefined;
}

/** Keeps the gate key Go served one of the grant's requests with. */
export function rememberGate(grantId: string, readOnly: boolean, key: string, now = Date.now()): void {
  if (!grantId) return;
  const s = slot(grantId, readOnly);
  remembered.delete(s);
  remembered.set(s, { key, at: now });
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
}

/**
 * The gate keys of a new grant under either scope, for its props; undefined
 * when Go cannot tell (the login-only build, a Keboola hiccup): the grant's
 * tools/list then goes to Go, which is only slower.
 */
export async function gatesAtLogin(go: KeboolaMCP, access: Omit<GoAccess, 'readOnly'>): Promise<ToolGates | undefined> {
  if (!go.toolGates) return undefined;
  try {
    const { full, read } = await go.toolGates({ ...access, readOnly: false });
    return { full, read, decidedAt: Date.now() };
  } catch (err) {
    // Go's error names the stack and the failure, never the token.
    console.warn(`tool gates at login: ${(err as Error).message}`);
    return undefined;
  }
}
