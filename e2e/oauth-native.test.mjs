// The official TypeScript SDK client against `keboola-mcp serve` (native
// OAuth) on a fake stack started with `keboola-dev-stack`: discovery,
// dynamic registration, PKCE, the login + consent form driven over plain
// HTTP as a browser would (no JavaScript needed), the code exchange, tool
// calls, a refresh, and the read-only scope.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Proc, ROOT, BIN, freePort, startDevStack, startNative, stopAll, tempDir } from './harness.mjs';
import { RecordingProvider, rawMCP, resultText, startAuthorization } from './sdkclient.mjs';

const REDIRECT = 'http://127.0.0.1:9/callback';
let stack;
let native;

before(async () => {
  stack = await startDevStack('oauth-native-stack');
  native = await startNative({ stack, name: 'oauth-native-serve' });
});
after(stopAll);

/** A minimal browser: keeps cookies per origin and never follows redirects. */
class Browser {
  constructor() {
    this.cookies = new Map();
  }
  async fetch(url, init = {}) {
    const u = new URL(url);
    const jar = this.cookies.get(u.origin) ?? new Map();
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('Cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(u, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    this.cookies.set(u.origin, jar);
    return res;
  }
}

const unescapeHTML = (s) => s.replaceAll('&#43;', '+').replaceAll('&#34;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/**
 * Plays the user at the login + consent page: reads the form, picks the fake
 * stack, pastes its token, ticks the scopes and approves. Returns the query
 * of the redirect back to the client.
 */
async function approve(authorizationURL, scopes, { server = native, stackURL = stack.url, token = stack.token } = {}) {
  const b = new Browser();
  const page = await b.fetch(authorizationURL);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  assert.match(html, /name="storage_token" type="password"/);
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/name="(request|csrf_token)" value="([^"]*)"/g)) form.set(name, unescapeHTML(value));
  form.set('stack_url', stackURL);
  form.set('storage_token', token);
  for (const s of scopes) form.append('scope', s);
  form.set('action', 'approve');
  const res = await b.fetch(new URL('/authorize', server.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  assert.equal(res.status, 303, await res.text());
  const loc = new URL(res.headers.get('location'));
  assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
  return loc.searchParams;
}

/** Runs the SDK's whole OAuth flow and returns a connected client. */
async function login(scopes, target = {}) {
  const server = target.server ?? native;
  let redirect;
  const provider = new RecordingProvider({
    redirectUrl: REDIRECT,
    onAuthorize: async (url) => {
      redirect = await approve(url, scopes, target);
    },
  });
  const early = await startAuthorization({ mcpURL: server.mcpURL, provider });
  assert.equal(early, null, 'the server must demand authorization');
  assert.ok(provider.info?.client_id, 'the SDK registered a client (DCR)');
  const sent = provider.opened.at(-1);
  assert.equal(sent.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(redirect.get('iss'), server.url, 'RFC 9207 iss in the redirect');
  await new StreamableHTTPClientTransport(new URL(server.mcpURL), { authProvider: provider }).finishAuth(redirect.get('code'));
  const client = new Client({ name: 'oauth-native-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpURL), { authProvider: provider }));
  return { client, provider };
}

test('TypeScript SDK: discovery, DCR, PKCE, login form, tools, refresh', async () => {
  const { client, provider } = await login(['keboola:read', 'keboola:write']);
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  assert.ok(names.includes('get_buckets') && names.includes('update_descriptions'), names.join(','));
  const buckets = await client.callTool({ name: 'get_buckets', arguments: {} });
  assert.ok(!buckets.isError, resultText(buckets));
  assert.match(resultText(buckets), /in\.c-/);
  await client.close();

  // Refresh: the SDK trades its refresh token for a new pair (rotation).
  const before = provider.tokens();
  assert.equal(await auth(provider, { serverUrl: new URL(native.mcpURL) }), 'AUTHORIZED');
  const after = provider.tokens();
  assert.notEqual(after.access_token, before.access_token);
  assert.notEqual(after.refresh_token, before.refresh_token);
  const again = new Client({ name: 'oauth-native-e2e', version: '1.0.0' });
  await again.connect(new StreamableHTTPClientTransport(new URL(native.mcpURL), { authProvider: provider }));
  const info = await again.callTool({ name: 'get_buckets', arguments: {} });
  assert.ok(!info.isError, resultText(info));
  await again.close();
});

test('TypeScript SDK: a read-only grant hides write tools and gets 403 for them', async () => {
  const { client, provider } = await login(['keboola:read']);
  const { tools } = await client.listTools();
  assert.ok(!tools.some((t) => t.name === 'update_descriptions'), 'write tools must not be listed');
  await client.close();
  const res = await rawMCP(native.mcpURL, provider.tokens().access_token, {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'update_descriptions', arguments: { updates: [{ item_id: 'in.c-crm', description: 'x' }] } },
  });
  assert.equal(res.status, 403);
  const challenge = res.headers.get('www-authenticate');
  assert.match(challenge, /error="insufficient_scope"/);
  assert.match(challenge, /scope="keboola:read keboola:write"/);
  assert.match(challenge, /resource_metadata="/);
});

/** `scripts/run-demo.sh` (make run) on free ports with its state in dir. */
async function runDemo(dir, name, ports) {
  const proc = new Proc(name, join(ROOT, 'scripts', 'run-demo.sh'), [BIN, String(ports.stack), `127.0.0.1:${ports.serve}`, dir]);
  await proc.waitForOutput(/Keboola MCP demo is running/, 60);
  const token = (await proc.waitForOutput(/paste this Storage API token:\s+(\S+)/, 5))[1];
  const stackURL = (await proc.waitForOutput(/choose the stack (\S+)/, 5))[1];
  const url = `http://127.0.0.1:${ports.serve}`;
  return { proc, token, stackURL, server: { url, mcpURL: `${url}/mcp` } };
}

// Issue 13: every `make run` made a new token, database and secret, so a
// client connected to the demo had to log in again after each restart.
test('make run twice in a row keeps a connected client logged in', async () => {
  const dir = tempDir('run-demo');
  const ports = { stack: await freePort(), serve: await freePort() };
  const first = await runDemo(dir, 'run-demo-1', ports);
  const { client, provider } = await login(['keboola:read'], first);
  await client.close();
  await first.proc.stop();

  const second = await runDemo(dir, 'run-demo-2', ports);
  assert.equal(second.token, first.token, 'the demo token must stay the same');
  const again = new Client({ name: 'oauth-native-e2e', version: '1.0.0' });
  await again.connect(new StreamableHTTPClientTransport(new URL(second.server.mcpURL), { authProvider: provider }));
  const res = await again.callTool({ name: 'get_buckets', arguments: {} });
  assert.ok(!res.isError, resultText(res));
  assert.equal(provider.opened.length, 1, 'the client must not be sent to the login page again');
  await again.close();
  await second.proc.stop();
});

// Issue 13: with the port held by another server that answers /healthz, the
// script printed its banner and token for a server that had failed to bind.
test('make run refuses a port that is already in use', async () => {
  const squatter = createServer((req, res) => res.end('ok'));
  await new Promise((ok) => squatter.listen(0, '127.0.0.1', ok));
  try {
    const held = squatter.address().port;
    const proc = new Proc('run-demo-port-held', join(ROOT, 'scripts', 'run-demo.sh'),
      [BIN, String(await freePort()), `127.0.0.1:${held}`, tempDir('run-demo-held')]);
    const { code } = await proc.exited;
    assert.notEqual(code, 0, proc.tail());
    assert.match(proc.log, new RegExp(`127\\.0\\.0\\.1:${held} is already in use`));
    assert.doesNotMatch(proc.log, /demo is running|Storage API token/);
  } finally {
    squatter.close();
  }
});
