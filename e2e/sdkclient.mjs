// The official TypeScript SDK client with its own OAuth support, wired to a
// "person": redirectToAuthorization hands the authorization URL to whoever
// plays the user (a real browser in this suite), and a loopback listener
// catches the redirect with the code.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An OAuthClientProvider that keeps everything in memory and records what the SDK did. */
export class RecordingProvider {
  constructor({ redirectUrl, onAuthorize, scope }) {
    this._redirectUrl = redirectUrl;
    this.onAuthorize = onAuthorize;
    this.scope = scope;
    this.info = undefined;
    this.saved = undefined;
    this.verifier = '';
    /** Every token set the SDK saved, oldest first (login, then refreshes). */
    this.history = [];
    /** Every authorization URL the SDK opened. */
    this.opened = [];
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: 'keboola-mcp e2e (TypeScript SDK)',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this.scope ? { scope: this.scope } : {}),
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
    this.history.push(tokens);
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url) {
    this.opened.push(new URL(url));
    await this.onAuthorize(new URL(url));
  }
}

function transport(mcpURL, provider) {
  return new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
}

/**
 * Starts the SDK's OAuth flow: the connect meets the 401, discovers the
 * metadata, registers (DCR) and sends the person to the login page
 * (redirectToAuthorization). Returns a connected client when the provider
 * already held a valid token, otherwise null once the person is done.
 */
export async function startAuthorization({ mcpURL, provider }) {
  const client = new Client({ name: 'keboola-mcp-e2e', version: '1.0.0' });
  try {
    await client.connect(transport(mcpURL, provider));
    return client;
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
    return null;
  }
}

/**
 * The whole flow: startAuthorization, then the redirect from the callback
 * listener yields the code (exchanged by finishAuth, then a fresh connect) or
 * the error the server redirected with. Returns { client } or { error }.
 */
export async function connectWithOAuth({ mcpURL, provider, callback }) {
  const already = await startAuthorization({ mcpURL, provider });
  if (already) return { client: already };
  const redirect = await callback.next();
  const sentState = provider.opened.at(-1)?.searchParams.get('state');
  if (sentState && redirect.state !== sentState) {
    throw new Error(`redirect came back with state ${redirect.state}, expected ${sentState}`);
  }
  if (redirect.error) return { error: redirect };
  await transport(mcpURL, provider).finishAuth(redirect.code);
  const client = new Client({ name: 'keboola-mcp-e2e', version: '1.0.0' });
  await client.connect(transport(mcpURL, provider));
  return { client, redirect };
}

/** Posts one JSON-RPC message to /mcp with a bearer token, as any HTTP client could. */
export function rawMCP(mcpURL, token, message) {
  return fetch(mcpURL, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-06-18',
    },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(30_000),
  });
}

/** The text of a tool result's content, joined. */
export function resultText(result) {
  return (result.content ?? []).map((c) => c.text ?? '').join('\n');
}
