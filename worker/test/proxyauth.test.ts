// The TypeScript signer against the vectors the Go verifier is tested with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { liveOAuthToken } from '../src/config.ts';
import { canonical, signature, signedHeaders, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_OAUTH_TOKEN } from '../src/proxyauth.ts';

interface Vector {
  name: string;
  secret: string;
  method: string;
  path_query: string;
  timestamp: number;
  nonce: string;
  body: string;
  stack_url: string;
  token: string;
  scopes: string[];
  oauth_token?: string;
  canonical: string;
  signature: string;
}

const vectors: Vector[] = JSON.parse(readFileSync(new URL('../../internal/proxyauth/testdata/vectors.json', import.meta.url), 'utf8'));

test('vectors: the TypeScript signer produces the canonical string and signature Go expects', async () => {
  assert.ok(vectors.length >= 5);
  assert.ok(vectors.some((v) => v.oauth_token) && vectors.some((v) => !v.oauth_token), 'vectors with and without a bearer');
  for (const v of vectors) {
    const f = { stackURL: v.stack_url, token: v.token, scopes: v.scopes, oauthToken: v.oauth_token };
    const c = await canonical(v.method, v.path_query, v.timestamp, v.nonce, new TextEncoder().encode(v.body), f);
    assert.equal(c, v.canonical, v.name);
    assert.equal(await signature(v.secret, c), v.signature, v.name);
  }
});

test('signedHeaders: fresh nonce per request, timestamp in seconds, signature over both', async () => {
  const f = { stackURL: 'https://connection.keboola.com', token: '1-x', scopes: ['keboola:read'] };
  const secret = 'x'.repeat(32);
  const body = new TextEncoder().encode('{}');
  const a = await signedHeaders(secret, 'POST', '/mcp', body, f, 1_800_000_000_500);
  const b = await signedHeaders(secret, 'POST', '/mcp', body, f, 1_800_000_000_500);
  assert.equal(a.get(HEADER_TIMESTAMP), '1800000000');
  assert.match(a.get(HEADER_NONCE)!, /^[A-Za-z0-9_-]{16,128}$/);
  assert.notEqual(a.get(HEADER_NONCE), b.get(HEADER_NONCE));
  const expected = await signature(secret, await canonical('POST', '/mcp', 1_800_000_000, a.get(HEADER_NONCE)!, body, f));
  assert.equal(a.get(HEADER_SIGNATURE), expected);
});

test('signedHeaders: the bearer travels only when given, and its signature is v2 over it', async () => {
  const secret = 'x'.repeat(32);
  const body = new TextEncoder().encode('{}');
  const plain = { stackURL: 'https://connection.keboola.com', token: '1-x', scopes: ['keboola:read'] };
  const without = await signedHeaders(secret, 'POST', '/mcp', body, plain);
  assert.equal(without.has(HEADER_OAUTH_TOKEN), false);
  assert.match(without.get(HEADER_SIGNATURE)!, /^v1=/);
  const withBearer = { ...plain, oauthToken: 'kbc_at_member' };
  const h = await signedHeaders(secret, 'POST', '/mcp', body, withBearer, 1_800_000_000_000);
  assert.equal(h.get(HEADER_OAUTH_TOKEN), 'kbc_at_member');
  const expected = await signature(secret, await canonical('POST', '/mcp', 1_800_000_000, h.get(HEADER_NONCE)!, body, withBearer));
  assert.match(expected, /^v2=/);
  assert.equal(h.get(HEADER_SIGNATURE), expected);
});

test('signedHeaders: refuses a short secret', async () => {
  await assert.rejects(
    signedHeaders('short', 'POST', '/mcp', new Uint8Array(), { stackURL: 'https://a', token: 't', scopes: ['keboola:read'] }),
    /at least 32/,
  );
});

test('liveOAuthToken: the bearer is forwarded only until it expires, as in wasm', () => {
  const props = { stackURL: 'https://connection.keboola.com', storageToken: '1-x', scopes: ['keboola:read'], oauthToken: 'kbc_at_member', oauthExpires: 1_800_000_000 };
  assert.equal(liveOAuthToken(props, 1_799_999_999_999), 'kbc_at_member');
  assert.equal(liveOAuthToken(props, 1_800_000_000_000), undefined);
  assert.equal(liveOAuthToken({ ...props, oauthExpires: undefined }, 0), undefined);
  assert.equal(liveOAuthToken({ ...props, oauthToken: undefined }, 0), undefined);
});
