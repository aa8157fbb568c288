// Issue 4's done-when: the official TypeScript MCP client, with its own OAuth
// support, completes discovery, dynamic registration, PKCE, our login form
// (filled in over HTTP as a person would), tokens and tool calls against the
// Worker in wrangler dev, with the Go tools answering from the fake stack.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { DEV_TOKEN, startDevStack, startWorker, type Proc } from './harness.ts';
import { openForm, REDIRECT, submit, type Jar } from './oauthflow.ts';

let stack: Proc;
let worker: Proc;

before(async () => {
  stack = await startDevStack();
  worker = await startWorker({ KEBOOLA_STACKS: stack.url });
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
});

/** An OAuth client provider whose "browser" fills in our login form. */
class FormFillingProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  code?: string;
  opened?: URL;

  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK test client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL) {
    this.opened = url;
    const jar: Jar = new Map();
    const form = await openForm(url.toString(), jar);
    assert.equal(form.status, 200, form.html.slice(0, 300));
    const res = await submit(new URL(url).origin, jar, [
      ['csrf_token', form.csrf],
      ['stack_url', stack.url],
      ['storage_token', DEV_TOKEN],
      ['scope', 'keboola:read'],
      ['scope', 'keboola:write'],
      ['action', 'approve'],
    ]);
    assert.equal(res.status, 303, await res.clone().text());
    this.code = new URL(res.headers.get('Location')!).searchParams.get('code') ?? undefined;
  }
}

test('official MCP TypeScript client: discovery, DCR, PKCE, login form, tokens, tools', async () => {
  const mcpURL = new URL(`${worker.url}/mcp`);
  const provider = new FormFillingProvider();

  const first = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
  await assert.rejects(new Client({ name: 'sdk-test', version: '1' }).connect(first), UnauthorizedError);
  assert.ok(provider.info?.client_id, 'the client registered itself (DCR)');
  assert.equal(provider.opened?.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(provider.opened?.searchParams.get('resource'), mcpURL.toString());
  assert.ok(provider.code, 'the login form produced a code');
  await first.finishAuth(provider.code!);
  assert.ok(provider.saved?.access_token && provider.saved.refresh_token);

  const client = new Client({ name: 'sdk-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(mcpURL, { authProvider: provider }));
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'get_buckets'));
    const res = await client.callTool({ name: 'get_tables', arguments: { bucket_ids: ['in.c-crm'] } });
    assert.notEqual(res.isError, true, JSON.stringify(res));
    const text = (res.content as { type: string; text: string }[]).map((c) => c.text).join('\n');
    assert.match(text, /customers/);
  } finally {
    await client.close();
  }
});
