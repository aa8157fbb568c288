// Which tool gate the fast path answers a grant's tools/list with
// (src/toolgates.ts): Go's latest word for the grant, while fresh; else the
// gates stored at login, while fresh; else none, so Go decides again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Props } from '../src/config.ts';
import { GATE_TTL_MS, rememberGate, toolsGate } from '../src/toolgates.ts';

const T0 = 1_800_000_000_000;
const props = (decidedAt?: number): Props => ({
  stackURL: 'https://connection.keboola.com',
  storageToken: 'not-used',
  scopes: ['keboola:read', 'keboola:write'],
  toolGates: decidedAt === undefined ? undefined : { full: 'login-full', read: 'login-read', decidedAt },
});

test('the gates stored at login serve while fresh, per scope', () => {
  assert.equal(toolsGate('g-login', props(T0), false, T0 + 1000), 'login-full');
  assert.equal(toolsGate('g-login', props(T0), true, T0 + 1000), 'login-read');
  assert.equal(toolsGate('g-login', props(T0), false, T0 + GATE_TTL_MS), undefined, 'stale: Go decides');
  assert.equal(toolsGate('g-login', props(), false, T0), undefined, 'a grant from before tool gates: Go decides');
});

test("Go's later word wins over the login's, for its own grant and scope, until it is stale", () => {
  rememberGate('g-later', false, 'reported-full', T0 + 5000);
  assert.equal(toolsGate('g-later', props(T0), false, T0 + 6000), 'reported-full');
  assert.equal(toolsGate('g-later', props(T0), true, T0 + 6000), 'login-read', 'the other scope is not reported');
  assert.equal(toolsGate('g-other', props(T0), false, T0 + 6000), 'login-full', 'another grant');
  assert.equal(toolsGate('g-later', props(), false, T0 + 5000 + GATE_TTL_MS - 1), 'reported-full');
  assert.equal(toolsGate('g-later', props(), false, T0 + 5000 + GATE_TTL_MS), undefined);
});

test('a request without a grant id is not remembered', () => {
  rememberGate('', false, 'reported', T0);
  assert.equal(toolsGate('', props(), false, T0), undefined);
});

test('the isolate remembers a bounded number of grants, forgetting the oldest', () => {
  rememberGate('g-first', false, 'k', T0);
  for (let i = 0; i < 1000; i++) rememberGate(`g-${i}`, false, 'k', T0);
  assert.equal(toolsGate('g-first', props(), false, T0), undefined);
  assert.equal(toolsGate('g-999', props(), false, T0), 'k');
});
