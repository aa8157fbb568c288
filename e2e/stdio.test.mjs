// The official TypeScript MCP client spawns `keboola-mcp stdio` (as Claude
// Desktop or Cursor would, with the Python server's environment variables)
// against `keboola-dev-stack`, lists the tools and calls every core tool,
// the write tools included, checking real content in each answer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN, startDevStack, step, stopAll } from './harness.mjs';
import { resultText } from './sdkclient.mjs';

const CORE_TOOLS = [
  'get_project_info', 'get_buckets', 'get_tables', 'update_descriptions', 'query_data', 'get_components',
  'get_configs', 'get_jobs', 'run_job', 'search', 'docs_query', 'find_component_id', 'update_project_description',
];

let stack;
let client;
let transport;
let stderr = '';

const ctx = () => ({ client: 'TypeScript SDK (stdio)', deployment: 'keboola-mcp stdio', logs: [stack?.proc] });

before(async () => {
  stack = await startDevStack('dev-stack-sdk-stdio');
  transport = new StdioClientTransport({
    command: BIN,
    args: ['stdio'],
    // Only what the server needs: a desktop client passes its config's env the same way.
    env: { PATH: process.env.PATH ?? '', KBC_STORAGE_API_URL: stack.url, KBC_STORAGE_TOKEN: stack.token },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  client = new Client({ name: 'keboola-mcp-e2e', version: '1.0.0' });
  await step(ctx(), 'connect over stdio', () => client.connect(transport), 30);
}, { timeout: 90_000 });

after(async () => {
  // Closing the transport ends the child (stdin closes, then SIGTERM); the
  // harness stops the dev stack.
  await client?.close().catch(() => {});
  await stopAll();
});

/** Calls a tool with a bounded time and returns { text, isError }. */
async function call(name, args = {}, seconds = 60) {
  const result = await step(ctx(), `tools/call ${name}`, () =>
    client.callTool({ name, arguments: args }, undefined, { timeout: seconds * 1000 }), seconds + 5);
  return { text: resultText(result), isError: result.isError === true };
}

function ok({ text, isError }, name) {
  assert.equal(isError, false, `${name} failed: ${text}\nserver stderr:\n${stderr}`);
  return text;
}

test('the server lists every core tool with its annotations', async () => {
  const { tools } = await step(ctx(), 'tools/list', () => client.listTools(), 30);
  const byName = new Map(tools.map((t) => [t.name, t]));
  for (const name of CORE_TOOLS) {
    const tool = byName.get(name);
    assert.ok(tool, `${name} is listed (got ${[...byName.keys()].join(', ')})`);
    assert.ok(tool.description.length > 40, `${name} is described`);
    assert.equal(typeof tool.annotations?.readOnlyHint, 'boolean', `${name} states readOnlyHint`);
  }
  assert.equal(byName.get('run_job').annotations.readOnlyHint, false);
  assert.equal(byName.get('query_data').annotations.readOnlyHint, true);
  const init = client.getInstructions();
  assert.match(init ?? '', /get_project_info/, 'server instructions guide the model');
});

test('read tools answer with real project content', async () => {
  assert.match(ok(await call('get_project_info'), 'get_project_info'), /SQL dialect: Snowflake/);
  assert.match(ok(await call('get_buckets'), 'get_buckets'), /in\.c-crm,/);
  const tables = ok(await call('get_tables', { table_ids: ['in.c-crm.orders'] }), 'get_tables');
  const sqlName = tables.match(/SQL name: (.+)/)?.[1];
  assert.ok(sqlName, `get_tables gives the SQL name:\n${tables}`);
  const rows = ok(await call('query_data', { sql_query: `SELECT COUNT(*) AS n FROM ${sqlName}`, query_name: 'Orders' }), 'query_data');
  // Snowflake folds the unquoted alias to upper case.
  assert.match(rows, /Returned 1 of 1 rows\.\nN\n\d+\n/);
  assert.match(ok(await call('get_components'), 'get_components'), /keboola\.ex-db-mysql,extractor/);
  assert.match(ok(await call('get_configs', { component_ids: ['keboola.ex-db-mysql'] }), 'get_configs'), /CRM production database/);
  assert.match(ok(await call('get_jobs', { limit: 5 }), 'get_jobs'), /id,component_id,configuration_id,status/);
  assert.match(ok(await call('search', { patterns: ['customer'] }), 'search'), /table,in\.c-crm\.customers/);
  assert.match(ok(await call('docs_query', { query: 'How do flows run?' }), 'docs_query'), /\S/);
  assert.match(ok(await call('find_component_id', { query: 'MySQL database extractor' }), 'find_component_id'), /keboola\.ex-db-mysql/);
});

test('write tools change the fake project', async () => {
  assert.match(ok(await call('update_project_description', { description: 'Written by the e2e suite.' }), 'update_project_description'), /updated/);
  assert.match(ok(await call('get_project_info'), 'get_project_info'), /Written by the e2e suite\./);
  const upd = ok(await call('update_descriptions', { updates: [{ item_id: 'in.c-web.sessions', description: 'Visits, e2e.' }] }), 'update_descriptions');
  assert.match(upd, /1 of 1 descriptions updated/);
  assert.match(ok(await call('get_tables', { table_ids: ['in.c-web.sessions'] }), 'get_tables'), /Description: Visits, e2e\./);
  const run = ok(await call('run_job', { component_id: 'keboola.ex-http', configuration_id: '7410002' }), 'run_job');
  const jobId = run.match(/Job: (\S+)/)?.[1];
  assert.ok(jobId, `run_job names the job:\n${run}`);
  assert.match(ok(await call('get_jobs', { job_ids: [jobId] }), 'get_jobs'), new RegExp(`Job: ${jobId}`));
});

test('bad input gets a clear tool error, not a crash', async () => {
  const missing = await call('get_tables', { table_ids: ['in.c-crm.nope'] });
  assert.equal(missing.isError, true);
  assert.match(missing.text, /in\.c-crm\.nope.*get_tables/s);
  const badSQL = await call('query_data', { sql_query: 'SELECT 1 +' });
  assert.equal(badSQL.isError, true);
  assert.match(badSQL.text, /the SQL query failed/);
  const schema = await call('get_buckets', { limit: 'ten' });
  assert.equal(schema.isError, true);
  // The server is still there after all of it.
  assert.match(ok(await call('get_buckets', { bucket_ids: ['in.c-crm'] }), 'get_buckets'), /Bucket: in\.c-crm/);
});
