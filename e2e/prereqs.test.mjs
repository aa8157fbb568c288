// `make test` on a machine that lacks what the suites need must stop at once
// and name what to install, not fail an hour later in the middle of a suite
// (issue 13). KEBOOLA_MCP_NO_INSTALL=1 keeps the check from installing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

test('test-prereqs names a missing chromium with the command that installs it', () => {
  const run = spawnSync(join(ROOT, 'scripts', 'test-prereqs.sh'), [], {
    env: { ...process.env, E2E_CHROMIUM: '/nonexistent/chromium', KEBOOLA_MCP_NO_INSTALL: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /make test cannot run yet; install:/);
  assert.match(run.stderr, /chromium.*: sudo apt-get install -y chromium/);
});

test('test-prereqs passes on this machine, which runs the suites', () => {
  const run = spawnSync(join(ROOT, 'scripts', 'test-prereqs.sh'), [], {
    env: { ...process.env, KEBOOLA_MCP_NO_INSTALL: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
});
