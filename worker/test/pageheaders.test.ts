// The headers the Worker sends with its pages against what Go gives the same
// pages: internal/login/testdata/page-headers.json, which internal/login's
// TestPageHeaderVectors keeps equal to login.PageHeaders and FormTargets. The
// Worker holds no copy of that logic (its login page gets the headers from
// Go's renderLogin, its pages without a form from the build's
// page-headers.json), and this test fails if what reaches the browser drifts
// from Go's: a header added, dropped or overridden on the way, a stale build.
//
// Both Go builds: the full one with Sign in with Keboola, the login-only one
// (wrangler.proxy.jsonc) without. No page here calls a stack, so the stacks
// are the vectors' and no fake stack runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { KBC_CLIENT, startWorker, type Proc } from './harness.ts';
import { authorizeURL, openForm, pkce, register, submit, type Jar } from './oauthflow.ts';

interface PageVector {
  name: string;
  form: boolean;
  redirectURI?: string;
  upstream?: boolean;
  formTargets?: string[];
  headers: Record<string, string>;
}

const vectors: { stacks: string[]; pages: PageVector[] } = JSON.parse(
  readFileSync(new URL('../../internal/login/testdata/page-headers.json', import.meta.url), 'utf8'),
);
const withoutForm = vectors.pages.find((p) => !p.form)!.headers;

/** Every header Go sets for the page, with Go's value, once (a repeated header would read "a, b"). */
function assertGoHeaders(got: Headers, want: Record<string, string>, what: string): void {
  assert.ok(Object.keys(want).length >= 5, `${what}: the vector names the page headers`);
  for (const [name, value] of Object.entries(want)) assert.equal(got.get(name), value, `${what}: ${name}`);
}

const deployments = [
  { name: 'full build, with Sign in with Keboola', config: 'wrangler.jsonc', upstream: true },
  { name: 'login-only build, without Sign in with Keboola', config: 'wrangler.proxy.jsonc', upstream: false },
];

for (const d of deployments) {
  describe(`page headers are Go's (${d.name})`, () => {
    let worker: Proc;
    const loginPages = vectors.pages.filter((p) => p.form && Boolean(p.upstream) === d.upstream);

    before(async () => {
      const vars: Record<string, string> = { KEBOOLA_STACKS: vectors.stacks.join(',') };
      if (d.upstream) Object.assign(vars, { KBC_OAUTH_CLIENT_ID: KBC_CLIENT.id, KBC_OAUTH_CLIENT_SECRET: KBC_CLIENT.secret });
      else vars.MCP_ORIGIN = '';
      worker = await startWorker(vars, undefined, undefined, d.config);
    });

    after(async () => {
      await worker?.stop();
    });

    test('the vectors cover an origin, a private-use scheme and a dropped target', () => {
      const targets = loginPages.flatMap((p) => p.formTargets ?? []);
      assert.ok(targets.includes('http://127.0.0.1:9'), 'a loopback origin');
      assert.ok(targets.includes('cursor:'), 'a private-use scheme');
      const dropped = loginPages.find((p) => p.redirectURI === 'https://my_app.example/callback');
      assert.ok(dropped && !dropped.headers['Content-Security-Policy'].includes('my_app'), 'a target Go drops');
    });

    for (const v of loginPages) {
      test(`login page: ${v.name}`, async () => {
        const client = await register(worker.url, v.redirectURI);
        const form = await openForm(authorizeURL(worker.url, client, pkce().challenge, 'keboola:read', v.redirectURI), new Map());
        assert.equal(form.status, 200, form.html.slice(0, 300));
        assertGoHeaders(form.headers, v.headers, v.name);
      });
    }

    test('the answers to the login form: shown again with an error, denied, sent on to Keboola', async () => {
      const v = loginPages.find((p) => p.redirectURI === 'http://127.0.0.1:9/callback')!;
      const client = await register(worker.url, v.redirectURI);
      const open = async (jar: Jar) => {
        const form = await openForm(authorizeURL(worker.url, client, pkce().challenge, 'keboola:read', v.redirectURI), jar);
        assert.equal(form.status, 200, form.html.slice(0, 300));
        return form.csrf;
      };

      const jar: Jar = new Map();
      const again = await submit(worker.url, jar, [
        ['csrf_token', await open(jar)],
        ['stack_url', 'https://connection.evil.example'],
        ['scope', 'keboola:read'],
        ['action', 'approve'],
      ]);
      assert.equal(again.status, 400);
      assert.match(await again.text(), /That Keboola stack is not offered by this server/);
      assertGoHeaders(again.headers, v.headers, 'the form shown again');

      const denyJar: Jar = new Map();
      const denied = await submit(worker.url, denyJar, [
        ['csrf_token', await open(denyJar)],
        ['action', 'deny'],
      ]);
      assert.equal(denied.status, 303);
      assert.match(denied.headers.get('Location') ?? '', /^http:\/\/127\.0\.0\.1:9\/callback\?.*error=access_denied/);
      assertGoHeaders(denied.headers, withoutForm, 'the denial');

      if (d.upstream) {
        const upJar: Jar = new Map();
        const toKeboola = await submit(worker.url, upJar, [
          ['csrf_token', await open(upJar)],
          ['stack_url', vectors.stacks[0]],
          ['scope', 'keboola:read'],
          ['action', 'keboola'],
        ]);
        assert.equal(toKeboola.status, 303);
        assert.ok((toKeboola.headers.get('Location') ?? '').startsWith(`${vectors.stacks[0]}/`), toKeboola.headers.get('Location') ?? '');
        assertGoHeaders(toKeboola.headers, withoutForm, 'the redirect to Keboola');
      }
    });

    test('error pages, which need no Go, send the headers of a page without a form', async () => {
      const client = await register(worker.url);
      const unknownScope = new URL(authorizeURL(worker.url, client, pkce().challenge));
      unknownScope.searchParams.set('scope', 'keboola:admin');
      const refusedClient = new URL(authorizeURL(worker.url, 'https://127.0.0.1/client.json', pkce().challenge));
      const pages: [string, string, RequestInit, number][] = [
        ['landing page', `${worker.url}/`, {}, 200],
        ['unknown scope', unknownScope.toString(), {}, 400],
        ['refused client id', refusedClient.toString(), {}, 400],
        ['/authorize with another method', `${worker.url}/authorize`, { method: 'PUT' }, 405],
        ['Keboola callback without its state', `${worker.url}/oauth/callback?code=x`, {}, d.upstream ? 400 : 404],
      ];
      for (const [what, url, init, status] of pages) {
        const r = await fetch(url, { ...init, redirect: 'manual' });
        assert.equal(r.status, status, `${what}: ${await r.text()}`);
        assert.match(r.headers.get('Content-Type') ?? '', /^text\/html/, what);
        assertGoHeaders(r.headers, withoutForm, what);
      }
    });
  });
}
