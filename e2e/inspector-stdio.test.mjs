// The MCP Inspector CLI starts `keboola-mcp stdio` itself, as a desktop client
// would from its config (credentials in the Python server's env names), and
// lists and calls tools against the fake stack.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BIN, startDevStack, step, stopAll } from './harness.mjs';
import { inspect } from './inspector.mjs';
import { resultText } from './sdkclient.mjs';

let stack;

before(async () => {
  stack = await startDevStack('dev-stack-stdio');
}, { timeout: 60_000 });

after(() => stopAll());

const ctx = () => ({ client: 'MCP Inspector CLI', deployment: 'stdio', logs: [stack.proc] });

function server(token = stack.token) {
  return ['-e', `KBC_STORAGE_API_URL=${stack.url}`, '-e', `KBC_STORAGE_TOKEN=${token}`, BIN, 'stdio'];
}

test('Inspector CLI lists the tools of keboola-mcp stdio', async () => {
  const { tools } = await step(ctx(), 'inspector tools/list', () =>
    inspect(server(), ['--method', 'tools/list'], { logName: 'inspector-stdio' }),
  );
  const names = tools.map((t) => t.name);
  for (const expected of ['get_project_info', 'get_buckets', 'query_data', 'search', 'update_project_description']) {
    assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  }
  for (const t of tools) {
    assert.ok(t.description, `${t.name} has a description`);
    assert.equal(t.inputSchema?.type, 'object', `${t.name} has an object input schema`);
  }
});

test('Inspector CLI calls tools with and without arguments', async () => {
  const info = await step(ctx(), 'inspector tools/call get_project_info', () =>
    inspect(server(), ['--method', 'tools/call', '--tool-name', 'get_project_info'], { logName: 'inspector-stdio' }),
  );
  assert.ok(!info.isError, resultText(info));
  assert.match(resultText(info), /Demo/);
  const found = await step(ctx(), 'inspector tools/call search with an array argument', () =>
    inspect(server(), ['--method', 'tools/call', '--tool-name', 'search', '--tool-arg', 'patterns=["customer"]'], {
      logName: 'inspector-stdio',
    }),
  );
  assert.ok(!found.isError, resultText(found));
  assert.match(resultText(found), /in\.c-crm\.customers/);
});

test('a wrong token gives the model an actionable tool error, not a crash', async () => {
  const r = await step(ctx(), 'inspector tools/call with a wrong token', () =>
    inspect(server('e2e-wrong-token'), ['--method', 'tools/call', '--tool-name', 'get_project_info'], {
      logName: 'inspector-stdio',
    }),
  );
  assert.equal(r.isError, true);
  assert.match(resultText(r), /token/i);
  assert.ok(!resultText(r).includes('e2e-wrong-token'), 'the token is not echoed back');
});
