// The real browser and the person in front of it: Debian's chromium driven by
// playwright-core, a loopback listener standing in for an OAuth client's
// redirect URI, and the steps a person takes on our login page.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ARTIFACTS } from './harness.mjs';

export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless chromium. Playwright gives each launch a fresh temporary
 * user-data dir, so no cookie or grant leaks in from an earlier run.
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
}

// A field that is missing must fail the step quickly and by name, not after
// playwright's default half minute.
const FIELD_TIMEOUT = 10_000;

/** The login form's fields, by the names of the contract. */
export const form = {
  stack: 'select[name="stack_url"]',
  token: 'input[type="password"][name="storage_token"]',
  scope: (s) => `input[type="checkbox"][name="scope"][value="${s}"]`,
  action: (a) => `button[name="action"][value="${a}"]`,
  csrf: 'input[type="hidden"][name="csrf_token"]',
};

/**
 * Opens the authorization URL and waits for the login page. The page must
 * carry the CSRF field and the stack picker, whatever the deployment.
 */
export async function openLoginPage(page, url) {
  const res = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
  if (!res || res.status() !== 200) {
    throw new Error(`login page answered ${res?.status()}: ${(await page.content()).slice(0, 400)}`);
  }
  await page.locator(form.stack).waitFor({ state: 'attached', timeout: FIELD_TIMEOUT });
  const csrf = await page.locator(form.csrf).getAttribute('value', { timeout: FIELD_TIMEOUT });
  if (!csrf) throw new Error('login page has an empty CSRF field');
}

/**
 * Saves full-page screenshots into artifacts/: <name>.png at the page's
 * desktop width and <name>-375.png at a phone's 375 px. Returns both paths.
 */
export async function screenshot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  const desktop = page.viewportSize();
  const phone = join(ARTIFACTS, `${name}-375.png`);
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: phone, fullPage: true });
  if (desktop) await page.setViewportSize(desktop);
  return [path, phone];
}

/**
 * Fills the form as a person would: picks the stack, pastes the token, sets
 * the scope boxes and presses a button. Resolves once the browser has left the
 * page or re-rendered it.
 */
export async function fillLogin(page, { stack, token, scopes = ['keboola:read'], action = 'approve' }) {
  await onField(page, 'the stack picker', form.stack, (l) => l.selectOption(stack, { timeout: FIELD_TIMEOUT }));
  await onField(page, 'the Storage token field', form.token, (l) => l.fill(token, { timeout: FIELD_TIMEOUT }));
  for (const s of ['keboola:read', 'keboola:write']) {
    await onField(page, `the ${s} checkbox`, form.scope(s), (l) => l.setChecked(scopes.includes(s), { timeout: FIELD_TIMEOUT }));
  }
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 30_000 }),
    onField(page, `the ${action} button`, form.action(action), (l) => l.click({ timeout: FIELD_TIMEOUT })),
  ]);
}

/** Acts on one form control; a failure names the control and its selector. */
async function onField(page, what, selector, act) {
  try {
    await act(page.locator(selector));
  } catch (err) {
    const first = String(err?.message ?? err).split('\n')[0];
    throw new Error(`login page: cannot use ${what} (${selector}): ${first}`);
  }
}

/**
 * A loopback HTTP listener playing an OAuth client's redirect URI. next()
 * resolves with the query of the next request to /callback.
 */
export async function startCallbackServer() {
  const waiting = [];
  const arrived = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    if (u.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const params = Object.fromEntries(u.searchParams);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>done</title><p id="result">${params.error ? 'error' : 'ok'}</p>`);
    const w = waiting.shift();
    if (w) w(params);
    else arrived.push(params);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/callback`,
    next() {
      if (arrived.length) return Promise.resolve(arrived.shift());
      return new Promise((ok) => waiting.push(ok));
    },
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
