// Test harness: real processes on loopback. A fake Keboola stack
// (`keboola-dev-stack`), the Worker in workerd (`wrangler dev`, local KV
// in a temporary directory), and optionally a native `keboola-mcp serve
// --auth proxy`. Every wait is bounded; every process is stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const BIN = resolve(process.env.KEBOOLA_MCP_BIN ?? '../bin/keboola-mcp');
/** The fake stack is its own binary (DuckDB needs cgo), built next to keboola-mcp. */
export const DEV_STACK_BIN = resolve(process.env.KEBOOLA_DEV_STACK_BIN ?? join(dirname(BIN), 'keboola-dev-stack'));
export const COOKIE_SECRET = 'test-cookie-secret-0123456789abcdef0123';
export const PROXY_SECRET = 'test-proxy-secret-0123456789abcdef01234';
export const DEV_TOKEN = 'demo-master-token-1234';

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => ok(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export interface Proc {
  url: string;
  /**
   * A Worker started without the inspector: where it listens behind wrangler
   * dev's proxy, and the headers that let a request in (bench/devworker.ts).
   */
  direct?: { url: string; headers: Record<string, string> };
  output: () => string;
  stop: () => Promise<void>;
}

function run(cmd: string, args: string[], env: Record<string, string>, cwd?: string): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  try {
    process.kill(-child.pid, 'SIGTERM'); // its own process group: wrangler starts workerd below it
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(url: string, proc: { child: ChildProcess; output: () => string }, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up in ${seconds}s:\n${proc.output()}`);
}

/** The Keboola OAuth client the fake stack knows, for "Sign in with Keboola". */
export const KBC_CLIENT = { id: 'keboola-mcp-worker', secret: 'fake-stack-client-secret' };

export async function startDevStack(): Promise<Proc> {
  const port = await freePort();
  const args = ['--addr', `127.0.0.1:${port}`, '--token', DEV_TOKEN, '--oauth-client', `${KBC_CLIENT.id}:${KBC_CLIENT.secret}`];
  const p = run(DEV_STACK_BIN, args, {});
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/v2/storage`, p, 30);
  return { url, output: p.output, stop: () => stopProcess(p.child) };
}

/**
 * `keboola-mcp serve` against one stack. auth 'oauth' (the native server's
 * own OAuth, as deployed natively) keeps its SQLite store in a temporary
 * directory removed on stop.
 */
export async function startNative(stackURL: string, extra: Record<string, string> = {}, auth: 'proxy' | 'headers' | 'oauth' = 'proxy'): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--auth', auth, '--public-url', url, '--stack', stackURL];
  const store = auth === 'oauth' ? mkdtempSync(join(tmpdir(), 'kmcp-native-')) : undefined;
  if (store) args.push('--store', `sqlite:${join(store, 'keboola-mcp.db')}`);
  const p = run(BIN, args, { KEBOOLA_MCP_PROXY_SECRET: PROXY_SECRET, ...extra });
  await waitFor(`${url}/healthz`, p, 30);
  return {
    url,
    output: p.output,
    stop: async () => {
      await stopProcess(p.child);
      if (store) rmSync(store, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the Worker. Its local KV lives in stateDir when given (kept, so a
 * restarted Worker sees the same grants), else in a temporary directory
 * removed on stop. A restart must reuse the port too: the origin is part of
 * every token's audience. config picks the wrangler config (the entry and its
 * Go build). inspector false starts it without wrangler dev's DevTools
 * inspector (bench/devworker.ts), as the benchmark does.
 */
export async function startWorker(vars: Record<string, string>, stateDir?: string, fixedPort?: number, config = 'wrangler.jsonc', inspector = true): Promise<Proc> {
  const port = fixedPort ?? (await freePort());
  const state = stateDir ?? mkdtempSync(join(tmpdir(), 'kmcp-wrangler-'));
  // Every test registers its own client from 127.0.0.1: the registration rate
  // limit is raised here and tested with its defaults in security.test.ts.
  const defaults = { COOKIE_SECRET, REGISTER_PER_MINUTE: '6000', REGISTER_BURST: '6000' };
  const pairs = Object.entries({ ...defaults, ...vars }).map(([k, v]) => `${k}:${v}`);
  const env = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
  let p;
  if (inspector) {
    const args = ['wrangler', 'dev', '-c', config, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--log-level', process.env.WRANGLER_LOG ?? 'warn'];
    args.push('--inspector-port', String(await freePort()));
    for (const kv of pairs) args.push('--var', kv);
    p = run('npx', args, env);
  } else {
    p = run(process.execPath, ['--import', 'tsx', 'bench/devworker.ts', config, String(port), state, ...pairs], env);
  }
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, p, 90);
  const direct = /^direct (.*)$/m.exec(p.output());
  return {
    url,
    direct: direct ? JSON.parse(direct[1]) : undefined,
    output: p.output,
    stop: async () => {
      await stopProcess(p.child);
      if (!stateDir) rmSync(state, { recursive: true, force: true });
    },
  };
}
