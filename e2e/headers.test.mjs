// Header mode, end to end: the official TypeScript SDK client configured as
// for the Python Keboola MCP server (X-StorageApi-Token, X-Storage-Api-Url
// headers) against `keboola-mcp serve --auth headers`; the attacks that mode
// must refuse; and the Worker (UPSTREAM_AUTH=headers) forwarding a real
// browser login's grant to it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fillLogin, launchBrowser, openLoginPage, startCallbackServer } from './browser.mjs';
import { startDevStack, startNative, startWorker, step, stopAll } from './harness.mjs';
import { connectWithOAuth, RecordingProvider, resultText } from './sdkclient.mjs';

let stack;
let native;
let worker;
let browser;

before(async () => {
  stack = await startDevStack('dev-stack-headers');
  native = await startNative({ stack, auth: 'headers' });
  worker = await startWorker({ stack, name: 'worker-python-upstream', vars: { MCP_ORIGIN: native.url, UPSTREAM_AUTH: 'headers' } });
  browser = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await stopAll();
});

const ctx = (client, deployment) => ({ client, deployment, logs: [native?.proc, worker?.proc, stack?.proc] });

/** An SDK client sending the Python server's headers on every request. */
async function headerClient(headers) {
  const client = new Client({ name: 'keboola-mcp-e2e-headers', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(native.mcpURL), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

/** One raw JSON-RPC POST with the given headers. */
function post(headers, message) {
  return fetch(native.mcpURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18', ...headers },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(30_000),
  });
}

const pythonHeaders = () => ({ 'X-StorageApi-Token': stack.token, 'X-Storage-Api-Url': stack.url });

describe('TypeScript SDK over serve --auth headers', () => {
  test('lists gated tools and the six prompts, and answers Python-shaped calls', async () => {
    const c = ctx('TypeScript SDK (Python headers)', 'serve --auth headers');
    const client = await step(c, 'connect with the Python headers', () => headerClient(pythonHeaders()));
    try {
      await step(c, 'tools/list follows the token role and project', async () => {
        const names = (await client.listTools()).tools.map((t) => t.name);
        // The dev stack's master token is an admin's, in a project with conditional flows.
        for (const n of ['get_buckets', 'query_data', 'modify_flow', 'create_conditional_flow']) assert.ok(names.includes(n), n);
        for (const n of ['update_flow', 'create_flow']) assert.ok(!names.includes(n), n);
      });
      await step(c, 'prompts/list has the Python server’s six', async () => {
        const names = (await client.listPrompts()).prompts.map((p) => p.name).sort();
        assert.deepEqual(names, ['analyze_project_structure', 'component_usage_summary', 'create_project_documentation',
          'data_quality_assessment', 'error_analysis_report', 'project_health_check']);
        const p = await client.getPrompt({ name: 'error_analysis_report' });
        assert.match(p.messages[0].content.text, /get_jobs/);
      });
      await step(c, 'a Python-shaped call with nulls is accepted', async () => {
        const r = await client.callTool({ name: 'get_jobs', arguments: { component_id: null, config_id: null, status: null, include_logs: false, log_event_types: null, limit: 5 } });
        assert.ok(!r.isError, resultText(r));
      });
      await step(c, 'query_data answers with structuredContent too', async () => {
        const r = await client.callTool({ name: 'query_data', arguments: { sql_query: 'SELECT 1 AS "one"', query_name: null } });
        assert.ok(!r.isError, resultText(r));
        assert.match(resultText(r), /Returned 1 of 1 rows/);
        assert.deepEqual(r.structuredContent.columns, ['one']);
        assert.equal(r.structuredContent.returned_rows, 1);
        assert.equal(r.structuredContent.truncated, false);
      });
    } finally {
      await client.close();
    }
  });

  test('attacks: no token → 401, a bad token → 401, a stack off the list → 403', async () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const none = await post({ 'X-Storage-Api-Url': stack.url }, list);
    assert.equal(none.status, 401);
    assert.match(await none.text(), /X-StorageApi-Token/);
    const bad = await post({ 'X-StorageApi-Token': 'not-a-keboola-token', 'X-Storage-Api-Url': stack.url }, list);
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /did not accept/);
    const offList = await post({ 'X-StorageApi-Token': stack.token, 'X-Storage-Api-Url': 'https://connection.keboola.com' }, list);
    assert.equal(offList.status, 403);
    assert.match(await offList.text(), /not one this server serves/);
  });

  test('attack: with X-Read-Only-Mode write tools are absent, and calling one is refused with 403', async () => {
    const c = ctx('TypeScript SDK (read-only header)', 'serve --auth headers');
    const headers = { ...pythonHeaders(), 'X-Read-Only-Mode': 'true' };
    const client = await step(c, 'connect read-only', () => headerClient(headers));
    try {
      const { tools } = await client.listTools();
      const writable = tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
      assert.deepEqual(writable, []);
      assert.ok(tools.some((t) => t.name === 'get_buckets'));
    } finally {
      await client.close();
    }
    const r = await post(headers, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'update_project_description', arguments: { description: 'must not be written' } } });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  });
});

describe('the Worker forwarding to serve --auth headers (UPSTREAM_AUTH=headers)', () => {
  test('a browser login through the Worker, then tools through the header upstream', async () => {
    const c = ctx('TypeScript SDK + chromium', 'worker → serve --auth headers');
    const callback = await startCallbackServer();
    const context = await browser.newContext();
    try {
      const provider = new RecordingProvider({
        redirectUrl: callback.url,
        onAuthorize: async (url) => {
          const page = await context.newPage();
          try {
            await openLoginPage(page, url.toString());
            await fillLogin(page, { stack: stack.url, token: stack.token, scopes: ['keboola:read', 'keboola:write'] });
          } finally {
            await page.close();
          }
        },
      });
      const { client, error } = await step(c, 'log in through the Worker', () => connectWithOAuth({ mcpURL: worker.mcpURL, provider, callback }), 120);
      assert.equal(error, undefined, JSON.stringify(error));
      await step(c, 'tools/list and a call reach the upstream with the grant’s token', async () => {
        const names = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes('get_buckets') && names.includes('modify_flow'), names.join(','));
        const r = await client.callTool({ name: 'get_buckets', arguments: {} });
        assert.ok(!r.isError, resultText(r));
        assert.match(resultText(r), /in\.c-crm/);
      });
      await client.close();
    } finally {
      await context.close();
      await callback.close();
    }
  });
});
