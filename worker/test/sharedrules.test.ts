// The Worker's side of testdata/shared-rules.json: rules the Go code
// implements too (internal/login/sharedrules_test.go checks that side).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PUBLIC_STACKS, SCOPES, MAX_REQUEST_BYTES, isLoopbackHost, normaliseStackURL } from '../src/config.ts';

interface SharedRules {
  scopes: string[];
  publicStacks: string[];
  maxRequestBytes: number;
  stackURLs: { in: string; out: string | null }[];
  loopbackHosts: { host: string; loopback: boolean }[];
}

const rules: SharedRules = JSON.parse(readFileSync(new URL('../../testdata/shared-rules.json', import.meta.url), 'utf8'));

test('shared rules: scopes, public stacks and the request body limit equal the Go ones', () => {
  assert.deepEqual(SCOPES, rules.scopes);
  assert.deepEqual(PUBLIC_STACKS, rules.publicStacks);
  assert.equal(MAX_REQUEST_BYTES, rules.maxRequestBytes);
});

test('shared rules: stack URLs normalise (or are refused) as in Go', () => {
  for (const c of rules.stackURLs) {
    assert.equal(normaliseStackURL(c.in), c.out, JSON.stringify(c.in));
  }
});

test('shared rules: loopback hosts are the Go ones', () => {
  for (const c of rules.loopbackHosts) {
    assert.equal(isLoopbackHost(c.host), c.loopback, c.host);
  }
});
