// The demo's "create, run, read" loop, as an assistant does it, with the
// official TypeScript SDK over Streamable HTTP against `keboola-mcp serve
// --auth none` on loopback and `keboola-dev-stack`: create_sql_transformation
// → run_job → get_jobs until it succeeds → get_tables shows the output
// table → query_data reads it. A misspelt transformation fails its job with
// the engine's Snowflake-worded message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sleep, startDevStack, startNative, step, stopAll } from './harness.mjs';
import { resultText } from './sdkclient.mjs';

let stack;
let server;
let client;

const ctx = () => ({ client: 'TypeScript SDK (HTTP)', deployment: 'native --auth none', logs: [stack?.proc, server?.proc] });

before(async () => {
  stack = await startDevStack('dev-stack-transform');
  server = await startNative({ stack, auth: 'none', name: 'native-transform' });
  client = new Client({ name: 'keboola-mcp-e2e-transform', version: '1.0.0' });
  await step(ctx(), 'connect', () => client.connect(new StreamableHTTPClientTransport(new URL(server.mcpURL))), 30);
}, { timeout: 90_000 });

after(async () => {
  await client?.close().catch(() => {});
  await stopAll();
});

async function call(name, args = {}) {
  const result = await step(ctx(), `tools/call ${name}`, () => client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 }), 65);
  return { text: resultText(result), isError: result.isError === true };
}

function ok({ text, isError }, name) {
  assert.equal(isError, false, `${name} failed: ${text}`);
  return text;
}

/** Creates a transformation, runs it and polls get_jobs until the job ends; returns get_jobs' answer. */
async function createAndRun(name, script, tables) {
  const created = ok(await call('create_sql_transformation', {
    name, description: `${name}, written by the e2e suite.`,
    sql_code_blocks: [{ name: 'Main', script }], created_table_names: tables,
  }), 'create_sql_transformation');
  const configId = created.match(/Created SQL transformation (\d+) /)?.[1];
  assert.ok(configId, `create_sql_transformation names the configuration:\n${created}`);
  const run = ok(await call('run_job', { component_id: 'keboola.snowflake-transformation', configuration_id: configId }), 'run_job');
  const jobId = run.match(/get_jobs\(job_ids=\["(\d+)"\]\)/)?.[1];
  assert.ok(jobId, `run_job names the job:\n${run}`);
  for (let i = 0; i < 100; i++) {
    const job = ok(await call('get_jobs', { job_ids: [jobId] }), 'get_jobs');
    const status = job.match(/^Status: (\w+)/m)?.[1];
    if (!['created', 'waiting', 'processing'].includes(status)) return { job, status, configId };
    await sleep(100);
  }
  assert.fail(`job ${jobId} did not finish`);
}

test('a transformation runs and its output table can be read', async () => {
  const { job, status, configId } = await createAndRun('Monthly revenue', `CREATE OR REPLACE TABLE "monthly_revenue" AS
SELECT DATE_TRUNC('month', "order_date") AS "month", SUM("total_usd") AS "revenue"
FROM "KEBOOLA_1234"."in.c-crm"."orders" WHERE "status" = 'completed' GROUP BY 1;`, ['monthly_revenue']);
  assert.equal(status, 'success', job);
  const listed = ok(await call('get_jobs', { component_id: 'keboola.snowflake-transformation', config_id: configId }), 'get_jobs');
  assert.match(listed, /,success,/, `the listing shows the run:\n${listed}`);
  const table = ok(await call('get_tables', { table_ids: ['out.c-monthly-revenue.monthly_revenue'] }), 'get_tables');
  assert.match(table, /Rows: 10\b/, table);
  const sqlName = table.match(/SQL name: (.+)/)?.[1];
  const rows = ok(await call('query_data', { query_name: 'Monthly revenue', sql_query: `SELECT "month", "revenue" FROM ${sqlName} ORDER BY 1` }), 'query_data');
  const direct = ok(await call('query_data', { query_name: 'January from orders',
    sql_query: `SELECT SUM("total_usd") AS jan FROM "KEBOOLA_1234"."in.c-crm"."orders" WHERE "status" = 'completed' AND "order_date" < '2025-02-01'` }), 'query_data');
  const january = direct.match(/JAN\n(\d+\.\d\d)\n/)?.[1];
  assert.ok(january, `the direct query answers January's revenue:\n${direct}`);
  assert.match(rows, new RegExp(`month,revenue\\n2025-01-01,${january.replace('.', '\\.')}\\n`), rows);
});

test('a misspelt transformation fails its job with the engine message', async () => {
  const { job, status } = await createAndRun('Broken', 'CREAT TABLE x AS SELEC 1;', ['x']);
  assert.equal(status, 'error', job);
  assert.match(job, /syntax error line 1 at position 0 unexpected 'CREAT'/);
});
