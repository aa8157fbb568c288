// The client × deployment matrix: independent MCP clients (the official
// TypeScript SDK with its OAuth support, mcp-remote, the MCP Inspector CLI)
// and a real browser on our login page, each against the native server and
// the Worker in workerd, all talking to the fake Keboola stack.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fillLogin, form, launchBrowser, openLoginPage, screenshot, startCallbackServer } from './browser.mjs';
import { sleep, startDevStack, startNative, startWorker, step, stopAll } from './harness.mjs';
import { inspect } from './inspector.mjs';
import { startMcpRemote } from './mcpremote.mjs';
import { connectWithOAuth, rawMCP, RecordingProvider, resultText, startAuthorization } from './sdkclient.mjs';

const READ_TOOL = 'get_project_info';
const WRITE_TOOL = 'update_project_description';
// Short enough to wait out in a test, long enough for a login to finish. The
// Worker's library refuses less than a minute (KV's shortest expiration).
const SHORT_ACCESS_TTL_SECONDS = 4;
const WORKER_SHORT_ACCESS_TTL_SECONDS = 60;

// E2E_DEPLOYMENTS=worker (or native) narrows a local run to one column.
const selected = (process.env.E2E_DEPLOYMENTS ?? 'native,worker').split(',').map((s) => s.trim());

let stack;
let browser;
const deployments = {};

before(async () => {
  stack = await startDevStack();
  await Promise.all([
    selected.includes('native') &&
      startNative({ stack }).then((d) => (deployments.native = d)),
    selected.includes('native') &&
      startNative({ stack, accessTTL: `${SHORT_ACCESS_TTL_SECONDS}s`, name: 'native-short-ttl' }).then(
        (d) => (deployments.nativeShortTTL = d),
      ),
    selected.includes('worker') && startWorker({ stack }).then((d) => (deployments.worker = d)),
    selected.includes('worker') &&
      startWorker({ stack, accessTTL: WORKER_SHORT_ACCESS_TTL_SECONDS, name: 'worker-short-ttl' }).then(
        (d) => (deployments.workerShortTTL = d),
      ),
  ]);
  browser = await launchBrowser();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await stopAll();
});

/** Runs a login scenario with a fresh browser context and OAuth callback listener, and always closes both. */
async function withLogin(...args) {
  const fn = args.pop();
  const callback = await startCallbackServer();
  const context = await browser.newContext(...args);
  try {
    return await fn({ callback, context });
  } finally {
    await context.close();
    await callback.close();
  }
}

/** The person: opens the URL in a fresh page, takes the given steps, closes the page. */
function person(context, { token = stack.token, scopes, action = 'approve', shot } = {}) {
  return async (url) => {
    const page = await context.newPage();
    try {
      await openLoginPage(page, url.toString());
      if (shot) await screenshot(page, shot);
      await fillLogin(page, { stack: stack.url, token, scopes, action });
    } finally {
      await page.close();
    }
  };
}

/** The SDK's whole OAuth flow through the browser, as one step that must end connected. */
function loggedIn(c, name, opts) {
  return step(c, name, async () => {
    const r = await connectWithOAuth(opts);
    assert.equal(r.error, undefined, `the server redirected with an error: ${JSON.stringify(r.error)}`);
    return r;
  });
}

function assertOnlyReadOnlyTools(tools) {
  assert.ok(tools.length > 0, 'a read-only grant still lists the read-only tools');
  const writable = tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
  assert.deepEqual(writable, [], 'a read-only grant lists no tool that changes the project');
}

async function assertInsufficientScope(dep, accessToken) {
  const res = await rawMCP(dep.mcpURL, accessToken, {
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: { name: WRITE_TOOL, arguments: { description: 'must not be written' } },
  });
  assert.equal(res.status, 403, `write tool with a read-only token: ${res.status} ${await res.text()}`);
  const challenge = res.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /error="insufficient_scope"/);
  assert.match(challenge, /scope="[^"]*keboola:write/);
  assert.match(challenge, /resource_metadata="http/);
}

for (const name of ['native', 'worker'].filter((d) => selected.includes(d))) {
  const dep = () => deployments[name];
  const ctx = (client) => ({ client, deployment: name, logs: [dep()?.proc, stack?.proc] });

  describe(`real browser on the login page · ${name}`, () => {
    test('untick write access and approve: the client ends with a read-only grant', async () => {
      const c = ctx('TypeScript SDK + chromium');
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { scopes: ['keboola:read'], shot: `login-page-${name}` }),
        });
        const { client } = await loggedIn(c, 'log in read-only in the browser and connect', {
          mcpURL: dep().mcpURL, provider, callback,
        });
        await step(c, 'check the granted scope', async () => {
          assert.equal(provider.tokens().scope, 'keboola:read');
        });
        await step(c, 'tools/list shows only read-only tools', async () => {
          const { tools } = await client.listTools();
          assertOnlyReadOnlyTools(tools);
          assert.ok(!tools.some((t) => t.name === WRITE_TOOL));
        });
        await step(c, 'a read tool answers', async () => {
          const r = await client.callTool({ name: READ_TOOL, arguments: {} });
          assert.ok(!r.isError, resultText(r));
        });
        await step(c, 'a write tool call gets 403 insufficient_scope', () =>
          assertInsufficientScope(dep(), provider.tokens().access_token),
        );
        await client.close();
      });
    });

    test('deny: the client receives access_denied', async () => {
      const c = ctx('TypeScript SDK + chromium');
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { action: 'deny' }),
        });
        const { client, error } = await step(c, 'press Deny in the browser', () =>
          connectWithOAuth({ mcpURL: dep().mcpURL, provider, callback }),
        );
        await step(c, 'the redirect carries access_denied', async () => {
          assert.equal(client, undefined, 'a denied login must not produce a connected client');
          assert.equal(error?.error, 'access_denied', JSON.stringify(error));
          assert.equal(provider.tokens(), undefined, 'no tokens after a denial');
        });
      });
    });

    test('a wrong Storage token: the page says so and nothing is issued', async () => {
      const c = ctx('TypeScript SDK + chromium');
      const wrong = 'not-a-valid-token-e2e-0000';
      let pageText = '';
      let stillOnForm = false;
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: async (url) => {
            const page = await context.newPage();
            await openLoginPage(page, url.toString());
            await fillLogin(page, { stack: stack.url, token: wrong, scopes: ['keboola:read'] });
            pageText = await page.locator('body').innerText();
            stillOnForm = (await page.locator(form.token).count()) === 1;
            await screenshot(page, `login-wrong-token-${name}`);
            await page.close();
          },
        });
        const client = await step(c, 'submit a wrong token in the browser', () =>
          startAuthorization({ mcpURL: dep().mcpURL, provider }),
        );
        await step(c, 'the page explains the error and keeps the form', async () => {
          assert.equal(client, null, 'no client connects with a wrong token');
          assert.ok(stillOnForm, `the form is shown again; page: ${pageText.slice(0, 300)}`);
          assert.match(pageText, /token/i);
          assert.match(pageText, /invalid|not valid|not accept|rejected|refused|wrong|unknown|expired|could not|couldn't/i);
          assert.ok(!pageText.includes(wrong), 'the page must not echo the token back');
          assert.equal(provider.tokens(), undefined);
        });
      });
    });

    test('the login page works with JavaScript disabled', async () => {
      const c = ctx('TypeScript SDK + chromium (no JavaScript)');
      await withLogin({ javaScriptEnabled: false }, async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { scopes: ['keboola:read', 'keboola:write'], shot: `login-page-nojs-${name}` }),
        });
        const { client } = await loggedIn(c, 'log in with JavaScript off and connect', {
          mcpURL: dep().mcpURL, provider, callback,
        });
        await step(c, 'tools/list', async () => {
          const { tools } = await client.listTools();
          assert.ok(tools.some((t) => t.name === WRITE_TOOL), 'a full grant lists the write tools');
        });
        await client.close();
      });
    });
  });

  describe(`TypeScript SDK client with OAuth · ${name}`, () => {
    test('discovery, DCR, PKCE, tokens and tool calls with a full grant', async () => {
      const c = ctx('TypeScript SDK');
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { scopes: ['keboola:read', 'keboola:write'] }),
        });
        const { client, redirect } = await loggedIn(c, 'authorize and connect', {
          mcpURL: dep().mcpURL, provider, callback,
        });
        await step(c, 'the SDK registered (DCR) and used PKCE S256', async () => {
          assert.ok(provider.clientInformation()?.client_id, 'dynamic client registration gave a client_id');
          const opened = provider.opened[0];
          assert.equal(opened.searchParams.get('code_challenge_method'), 'S256');
          assert.ok(opened.searchParams.get('code_challenge'));
          assert.ok(provider.codeVerifier(), 'the SDK kept a PKCE verifier');
          assert.equal(opened.searchParams.get('resource'), dep().mcpURL, 'RFC 8707 resource is the MCP URL');
          assert.ok(redirect.code);
        });
        await step(c, 'tokens: bearer access + refresh, both scopes', async () => {
          const t = provider.tokens();
          assert.ok(t.access_token && t.refresh_token);
          assert.equal(t.token_type.toLowerCase(), 'bearer');
          assert.deepEqual(t.scope.split(' ').sort(), ['keboola:read', 'keboola:write']);
        });
        const marker = `Written by the e2e suite through the ${name} deployment at ${Date.now()}`;
        await step(c, 'tools/call: write the project description, read it back', async () => {
          const w = await client.callTool({ name: WRITE_TOOL, arguments: { description: marker } });
          assert.ok(!w.isError, resultText(w));
          const r = await client.callTool({ name: READ_TOOL, arguments: {} });
          assert.ok(!r.isError, resultText(r));
          assert.ok(resultText(r).includes(marker), `${READ_TOOL} shows the new description: ${resultText(r).slice(0, 400)}`);
        });
        await step(c, 'tools/call: list buckets of the demo project', async () => {
          const r = await client.callTool({ name: 'get_buckets', arguments: {} });
          assert.ok(!r.isError, resultText(r));
          assert.match(resultText(r), /in\.c-/);
        });
        await client.close();
      });
    });

    test('PKCE: a code redeemed with the wrong verifier gets no token', async () => {
      const c = ctx('TypeScript SDK');
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({ redirectUrl: callback.url, onAuthorize: person(context) });
        await step(c, 'log in in the browser', () => startAuthorization({ mcpURL: dep().mcpURL, provider }));
        const { code } = await step(c, 'the redirect brings a code', async () => {
          const redirect = await callback.next();
          assert.ok(redirect.code, `redirect without a code: ${JSON.stringify(redirect)}`);
          return redirect;
        });
        // Redeem the code as the client would, but with a verifier that does
        // not hash to the challenge the browser carried.
        await step(c, 'the token endpoint refuses the wrong PKCE verifier', async () => {
          const meta = await (await fetch(`${dep().url}/.well-known/oauth-authorization-server`)).json();
          const res = await fetch(meta.token_endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'authorization_code',
              code,
              redirect_uri: callback.url,
              client_id: provider.clientInformation().client_id,
              code_verifier: `${provider.codeVerifier()}x`,
              resource: dep().mcpURL,
            }),
          });
          const body = await res.json();
          const issued = body.access_token ? 'issued an access token' : `error=${body.error}`;
          assert.equal(res.status, 400, `wrong PKCE verifier: token endpoint answered ${res.status}, ${issued}`);
          assert.equal(body.error, 'invalid_grant');
        });
      });
    });

    test('the SDK refreshes the access token and keeps calling tools', async () => {
      // A second server of each deployment runs with a short access TTL, so
      // the token really expires before the SDK has to refresh it.
      const [target, ttl] = name === 'native'
        ? [deployments.nativeShortTTL, SHORT_ACCESS_TTL_SECONDS]
        : [deployments.workerShortTTL, WORKER_SHORT_ACCESS_TTL_SECONDS];
      const c = { ...ctx('TypeScript SDK'), logs: [target.proc, stack.proc] };
      await withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { scopes: ['keboola:read'] }),
        });
        const { client } = await loggedIn(c, 'authorize and connect', {
          mcpURL: target.mcpURL, provider, callback,
        });
        await step(c, 'tools/list with the first access token', () => client.listTools());
        const first = provider.tokens();
        await sleep((ttl + 1) * 1000);
        await step(c, 'the expired access token is refused', async () => {
          const res = await rawMCP(target.mcpURL, first.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
          assert.equal(res.status, 401, await res.text());
          assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
        });
        await step(c, 'tools/list again: the SDK refreshes and retries', async () => {
          const { tools } = await client.listTools();
          assertOnlyReadOnlyTools(tools);
        });
        await step(c, 'the refresh rotated both tokens', async () => {
          const now = provider.tokens();
          assert.ok(provider.history.length >= 2, 'the SDK saved a second token set');
          assert.notEqual(now.access_token, first.access_token);
          assert.notEqual(now.refresh_token, first.refresh_token, 'refresh tokens rotate on use');
        });
        await step(c, 'a tool call with the refreshed token', async () => {
          const r = await client.callTool({ name: READ_TOOL, arguments: {} });
          assert.ok(!r.isError, resultText(r));
        });
        await client.close();
      });
    });
  });

  describe(`mcp-remote (stdio bridge) · ${name}`, () => {
    test('over legacy SSE (--transport sse-only): OAuth from the /sse metadata, then tools/list and tools/call', async () => {
      const context = await browser.newContext();
      const remote = await startMcpRemote({ mcpURL: `${dep().url}/sse`, name: `mcp-remote-sse-${name}`, transport: 'sse-only' });
      const c = { client: 'mcp-remote (SSE)', deployment: name, logs: [remote.proc, dep().proc] };
      try {
        const url = await step(c, 'mcp-remote opens the login page', () => remote.openedURL(90), 100);
        await step(c, 'the authorization request names the /sse resource', async () => {
          assert.equal(url.searchParams.get('resource'), `${dep().url}/sse`);
        });
        await step(c, 'log in read-only in the browser', () => person(context, { scopes: ['keboola:read'] })(url));
        await step(c, 'mcp-remote finishes OAuth and answers initialize over SSE', () => remote.connected, 60);
        await step(c, 'tools/list over SSE', async () => {
          const { tools } = await remote.client.listTools();
          assertOnlyReadOnlyTools(tools);
        });
        await step(c, 'tools/call over SSE', async () => {
          const r = await remote.client.callTool({ name: READ_TOOL, arguments: {} });
          assert.ok(!r.isError, resultText(r));
          assert.match(resultText(r), /Demo/);
        });
      } finally {
        await remote.close();
        await context.close();
      }
    });

    test('completes the browser flow and serves tools/list over stdio', async () => {
      const context = await browser.newContext();
      const remote = await startMcpRemote({ mcpURL: dep().mcpURL, name: `mcp-remote-${name}` });
      const c = { client: 'mcp-remote', deployment: name, logs: [remote.proc, dep().proc] };
      try {
        const url = await step(c, 'mcp-remote opens the login page', () => remote.openedURL(90), 100);
        await step(c, 'log in with write access in the browser', () =>
          person(context, { scopes: ['keboola:read', 'keboola:write'] })(url),
        );
        await step(c, 'mcp-remote finishes OAuth and answers initialize', () => remote.connected, 60);
        await step(c, 'mcp-remote keeps its tokens in MCP_REMOTE_CONFIG_DIR', async () => {
          const stored = remote.storedFiles();
          assert.ok(stored.some((f) => f.endsWith('_tokens.json')), `files: ${stored.join(', ')}`);
          assert.ok(stored.some((f) => f.endsWith('_client_info.json')), 'the DCR registration is kept too');
        });
        await step(c, 'tools/list over stdio', async () => {
          const { tools } = await remote.client.listTools();
          assert.ok(tools.some((t) => t.name === READ_TOOL));
          assert.ok(tools.some((t) => t.name === WRITE_TOOL));
        });
        await step(c, 'tools/call over stdio', async () => {
          const r = await remote.client.callTool({ name: READ_TOOL, arguments: {} });
          assert.ok(!r.isError, resultText(r));
          assert.match(resultText(r), /Demo/);
        });
      } finally {
        await remote.close();
        await context.close();
      }
    });
  });

  describe(`MCP Inspector CLI with a bearer token · ${name}`, () => {
    /** Logs in through the browser (read-only) and returns the access token. */
    async function browserToken(c) {
      return withLogin(async ({ callback, context }) => {
        const provider = new RecordingProvider({
          redirectUrl: callback.url,
          onAuthorize: person(context, { scopes: ['keboola:read'] }),
        });
        const { client } = await loggedIn(c, 'get a token through the browser', {
          mcpURL: dep().mcpURL, provider, callback,
        });
        await client.close();
        return provider.tokens().access_token;
      });
    }

    /** Inspector tools/list and tools/call against one endpoint and transport. */
    async function listAndCall(c, endpoint, transportName) {
      const token = await browserToken(c);
      const target = [endpoint, '--transport', transportName, '--header', `Authorization: Bearer ${token}`];
      const logName = `inspector-${name}-${transportName}`;
      await step(c, `inspector tools/list over ${transportName}`, async () => {
        const { tools } = await inspect(target, ['--method', 'tools/list'], { logName });
        assertOnlyReadOnlyTools(tools);
      });
      await step(c, `inspector tools/call over ${transportName}`, async () => {
        const r = await inspect(target, ['--method', 'tools/call', '--tool-name', READ_TOOL], { logName });
        assert.ok(!r.isError, resultText(r));
        assert.match(resultText(r), /Demo/);
      });
    }

    test('tools/list and tools/call over Streamable HTTP', () =>
      listAndCall(ctx('MCP Inspector CLI'), dep().mcpURL, 'http'));

    test('tools/list and tools/call over legacy SSE', () =>
      listAndCall(ctx('MCP Inspector CLI (SSE)'), `${dep().url}/sse`, 'sse'));
  });
}
