// Per-person sign-in (CONVIRZA_MCP_AUTH=oauth) as a person meets it: the
// official TypeScript SDK's OAuth client gets the authorization URL, a real
// headless Chromium (puppeteer-core, the system's chromium) opens the
// Convirza sign-in page, a person types a wrong password, then the right
// one, and clicks Sign in; the browser follows the server's redirect to the
// client's loopback redirect URI (a real node:http server on 127.0.0.1), which
// takes the code. The SDK then redeems it and calls tools as that person.
// This is the page with the browser's own rules applied (its CSP, its
// Origin and Sec-Fetch-Site headers, the referrer policy, the redirect
// after a form POST), which oauth.test.js, posting the form with fetch,
// cannot show. Then another site's page posting the form in the same
// browser: refused.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { launchBrowser } from '../lib/browser.js';
import { TEST_TIMEOUT, startHttpServer, textOf } from '../lib/harness.js';
import { MemoryProvider, PASSWORD, connectWith } from '../lib/oauth.js';

const PERSON = 'readonly@summit-demo.example'; // Riley Reader, not the server's own admin

/** Rejects after ms unless promise settles first (a bound, not a sleep). */
function within(promise, ms, what) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/**
 * The client's redirect URI: a loopback HTTP server (RFC 8252 §7.3) on a
 * port of its own. Each request to /callback ({method, url, headers}) is
 * kept in callbacks (the browser's /favicon.ico is not one); next()
 * resolves with the next one.
 */
async function startRedirectServer() {
  const callbacks = [];
  let waiting = [];
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`);
    const seen = { method: req.method, url, headers: req.headers };
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><title>Signed in</title><p id="done">You are signed in. You can close this window.</p>');
    if (url.pathname === '/callback') {
      callbacks.push(seen);
      const w = waiting;
      waiting = [];
      for (const resolve of w) resolve(seen);
    }
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${srv.address().port}/callback`,
    callbacks,
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        srv.closeAllConnections();
        srv.close(resolve);
      }),
  };
}

/** Empties a field and types text into it, key by key, as a person would. */
async function typeInto(page, selector, text) {
  await page.$eval(selector, (e) => {
    e.value = '';
  });
  await page.type(selector, text);
}

/** Clicks a form's button and waits for where it leads. */
async function submitWith(page, button) {
  const [res] = await Promise.all([page.waitForNavigation(), page.click(button)]);
  return res;
}

/** Clicks the sign-in form's Sign in button and waits for where it leads. */
const submit = (page) => submitWith(page, 'form button[type="submit"]');

describe('OAuth sign-in page in headless Chromium (CONVIRZA_MCP_AUTH=oauth)', () => {
  let server;
  let chromium;
  let redirect;
  before(async () => {
    [server, chromium, redirect] = await Promise.all([
      startHttpServer({ env: { CONVIRZA_MCP_AUTH: 'oauth' } }),
      launchBrowser(),
      startRedirectServer(),
    ]);
  });
  after(async () => {
    await Promise.all([chromium?.close(), redirect?.close(), server?.stop()]);
  });

  it('the SDK client sends a person to the page; a wrong password is refused there, the right one returns a code to the loopback redirect; the SDK calls tools as that person', { timeout: TEST_TIMEOUT }, async () => {
    const mcpUrl = new URL('/mcp', server.baseUrl);
    const provider = new MemoryProvider(redirect.url);

    // The SDK client meets the 401 and does discovery, registration and
    // PKCE; its provider is handed the authorization URL to open.
    const first = new Client({ name: 'interop-oauth-browser', version: '0.0.0' });
    await assert.rejects(
      first.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }), { timeout: 15_000 }),
      (err) => err.name === 'UnauthorizedError' || /unauthorized/i.test(err.message),
    );
    await first.close();
    assert.deepEqual(provider.client?.redirect_uris, [redirect.url], 'registered with the loopback redirect URI');
    const authUrl = provider.authorizationUrl;
    assert.ok(authUrl, 'the SDK asked to open the sign-in page');
    assert.equal(authUrl.origin + authUrl.pathname, new URL('/authorize', server.baseUrl).href);
    assert.equal(authUrl.searchParams.get('redirect_uri'), redirect.url, 'the registered loopback redirect URI');
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('state'), provider.lastState);

    const { page, close } = await chromium.freshPage();
    // What the browser itself refuses (a CSP violation, a blocked form, a
    // failed request) shows up here.
    const complaints = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => complaints.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => complaints.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
    try {
      const shown = await page.goto(authUrl.href);
      assert.equal(shown.status(), 200, 'the sign-in page');
      assert.match(shown.headers()['content-security-policy'] ?? '', /default-src 'none'/, 'the page is served under its CSP');
      assert.match(await page.title(), /Sign in with Convirza/);
      assert.ok(await page.$('form[method="post"] input[name="email"][type="email"]'), 'the email field');
      assert.ok(await page.$('form[method="post"] input[name="password"][type="password"]'), 'the password field');
      // The CSP's style-src 'unsafe-inline' lets the page's own style apply.
      assert.equal(await page.$eval('form button[type="submit"]', (b) => getComputedStyle(b).backgroundColor), 'rgb(31, 95, 191)');

      // A wrong password: the page says so, and nothing goes back to the client.
      await typeInto(page, 'input[name="email"]', PERSON);
      await typeInto(page, 'input[name="password"]', 'not-the-password');
      const refused = await submit(page);
      assert.equal(refused.status(), 200);
      assert.equal(new URL(page.url()).origin, server.baseUrl, 'the browser stayed on the sign-in page');
      assert.equal(await page.$eval('.error[role="alert"]', (e) => e.textContent.trim()), 'Wrong email or password.');
      assert.ok(await page.$('input[name="password"]'), 'the form is offered again');
      assert.equal(redirect.callbacks.length, 0, 'nothing reached the redirect URI');

      // The right password, sent with a click: the browser follows the 303
      // to the loopback redirect URI, which takes the code.
      await typeInto(page, 'input[name="email"]', PERSON);
      await typeInto(page, 'input[name="password"]', PASSWORD);
      const arrived = within(redirect.next(), 10_000, 'the redirect URI');
      const landed = await submit(page);
      const back = await arrived;
      assert.equal(landed.status(), 200);
      assert.equal(landed.url().split('?')[0], redirect.url, 'the browser followed the redirect');
      const chain = landed.request().redirectChain();
      assert.equal(chain.length, 1);
      assert.equal(chain[0].method(), 'POST');
      assert.equal(chain[0].response().status(), 303);
      assert.equal(await page.$eval('#done', (e) => e.textContent.length > 0), true);

      assert.equal(back.method, 'GET');
      assert.equal(back.url.searchParams.get('state'), provider.lastState, 'the state came back unchanged');
      assert.equal(back.url.searchParams.get('iss'), server.baseUrl, 'the issuer (RFC 9207)');
      assert.equal(back.url.searchParams.get('error'), null);
      assert.equal(back.headers.referer, undefined, 'Referrer-Policy: no-referrer holds in the browser');
      const code = back.url.searchParams.get('code');
      assert.ok(code, 'a code');
      assert.equal(redirect.callbacks.length, 1, 'one request reached the redirect URI');
      assert.deepEqual(complaints, [], 'the browser refused nothing on the page');
    } finally {
      await close();
    }

    // The SDK redeems the code (PKCE verifier) and calls as the person.
    const code = redirect.callbacks[0].url.searchParams.get('code');
    assert.equal(await auth(provider, { serverUrl: mcpUrl, authorizationCode: code }), 'AUTHORIZED');
    assert.ok(provider.tokens()?.access_token, 'an access token');
    const conn = await connectWith(server.baseUrl, provider);
    try {
      const { tools } = await conn.client.listTools(undefined, { timeout: 15_000 });
      assert.ok(tools.some((t) => t.name === 'get_profile'), 'tools/list names get_profile');
      const profile = await conn.client.callTool({ name: 'get_profile', arguments: {} }, undefined, { timeout: 15_000 });
      assert.ok(!profile.isError, textOf(profile));
      assert.equal(profile.structuredContent?.user?.email, PERSON, `get_profile names the signed-in person: ${textOf(profile)}`);
      assert.equal(profile.structuredContent.user.role, 'ReadOnly', 'with the person\'s own role');
    } finally {
      await conn.close();
    }
  });

  it('refuses the sign-in form posted from another site, even from a page that makes the browser send Origin: null', { timeout: TEST_TIMEOUT }, async () => {
    // Another site (same host, another port: same-site) has a live request
    // id of its own (it opened the sign-in page itself) and makes a visitor's
    // browser post it. Its page sets Referrer-Policy: no-referrer, so the
    // browser's Origin header on the post is "null".
    const provider = new MemoryProvider(redirect.url);
    assert.equal(await auth(provider, { serverUrl: new URL('/mcp', server.baseUrl) }), 'REDIRECT');
    const html = await (await fetch(provider.authorizationUrl, { signal: AbortSignal.timeout(10_000) })).text();
    const request = html.match(/<input type="hidden" name="request" value="([^"]+)">/)?.[1];
    assert.ok(request, 'the page has a request id');
    const target = new URL('/authorize', server.baseUrl).href;
    const evil = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' });
      res.end(
        `<!doctype html><form method="post" action="${target}">` +
          `<input type="hidden" name="request" value="${request}">` +
          `<input type="hidden" name="email" value="${PERSON}">` +
          `<input type="hidden" name="password" value="${PASSWORD}">` +
          '<button id="go">win a prize</button></form>',
      );
    });
    await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const before = redirect.callbacks.length;
    const { page, close } = await chromium.freshPage();
    try {
      await page.goto(`http://127.0.0.1:${evil.address().port}/`);
      const res = await submitWith(page, '#go');
      assert.equal(res.status(), 403, `the cross-site post must be refused (landed on ${res.url()})`);
      assert.equal(res.request().redirectChain().length, 0, 'no redirect');
      assert.equal(redirect.callbacks.length, before, 'nothing reached the redirect URI');
    } finally {
      await close();
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
  });
});
