// The default confirmation mode (only a person approves), driven as people
// and clients meet it: the approval pages in a real headless Chromium
// (puppeteer-core and the system's /usr/bin/chromium), the official
// TypeScript SDK as the assistant's client over Streamable HTTP and stdio,
// URL elicitation (the client opens the page for its person), and the
// desktop page a stdio server opens with $BROWSER.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { launchBrowser } from '../lib/browser.js';
import { TEST_TIMEOUT, binaryPath, call, connect, newToken, startHttpServer, textOf, uniqueName } from '../lib/harness.js';

const WEST = 1003;

let dir;
let chromium;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-approvals-'));
  chromium = await launchBrowser();
});
after(async () => {
  await chromium?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh browser profile's worth of state: its own cookies. */
const freshPage = () => chromium.freshPage();

/** Creates an empty group under West (deletable) and returns its id. */
async function newGroup(client, label) {
  const res = await call(client, 'create_group', { org_unit_name: uniqueName(`approvals ${label}`), org_unit_parent_id: WEST });
  assert.ok(!res.isError, `create_group failed: ${textOf(res)}`);
  return res.structuredContent.org_unit_id;
}

async function statusOf(client, id) {
  const res = await call(client, 'get_group', { id });
  assert.ok(!res.isError, textOf(res));
  return res.structuredContent.org_unit_status;
}

/** The first call of a deletion: pending a person's approval. */
async function askToDelete(client, id) {
  const res = await call(client, 'delete_group', { id });
  const sc = res.structuredContent;
  assert.ok(!res.isError, textOf(res));
  assert.equal(sc?.status, 'confirmation_required', JSON.stringify(res));
  assert.ok(sc.approval_id && sc.confirmation_token, JSON.stringify(sc));
  return sc;
}

/**
 * Signs in on the page in front of it (the sign-in form the approval pages
 * answer 401 with) with the approver token, and waits for the page it leads to.
 */
async function signIn(page, approverToken) {
  await page.type('input[name="token"]', approverToken);
  await Promise.all([page.waitForNavigation(), page.click('button[name="signin"]')]);
}

/** Clicks Approve or Decline on an approval page and returns the state shown after. */
async function decide(page, what) {
  await Promise.all([page.waitForNavigation(), page.click(`#${what}`)]);
  return page.$eval('#state', (e) => e.textContent.trim());
}

describe('approval pages in a browser (HTTP, mode auto)', () => {
  const token = newToken();
  const approverToken = newToken();
  let server;
  let conn;
  before(async () => {
    server = await startHttpServer({
      token,
      env: { CONVIRZA_MCP_CONFIRMATION_MODE: 'auto', CONVIRZA_MCP_APPROVER_TOKEN: approverToken },
    });
    conn = await connect('http', { baseUrl: server.baseUrl, token });
  });
  after(async () => {
    await conn?.close();
    await server?.stop();
  });

  it('answers 401 without an approver, and to the MCP client token', { timeout: TEST_TIMEOUT }, async () => {
    for (const headers of [{}, { authorization: `Bearer ${token}` }]) {
      const res = await fetch(new URL('/approvals', server.baseUrl), { headers, signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 401, `GET /approvals with ${JSON.stringify(headers)}`);
    }
    const { page, close } = await freshPage();
    try {
      const res = await page.goto(new URL('/approvals', server.baseUrl).href);
      assert.equal(res.status(), 401);
      assert.ok(await page.$('input[name="token"]'), 'the 401 page offers the sign-in form');
      // The MCP token is no approver token.
      await page.type('input[name="token"]', token);
      const [answer] = await Promise.all([page.waitForNavigation(), page.click('button[name="signin"]')]);
      assert.equal(answer.status(), 401);
      assert.match(await page.content(), /not an approver token/);
    } finally {
      await close();
    }
  });

  it('a person signs in, sees the action, approves; the next call executes once', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const id = await newGroup(client, 'approve');
    const first = await askToDelete(client, id);
    const pageURL = new URL(`/approvals/${first.approval_id}`, server.baseUrl).href;
    assert.ok(first.approve.includes(pageURL), `the answer names the page: ${first.approve}`);

    const { page, close } = await freshPage();
    try {
      const res = await page.goto(pageURL);
      assert.equal(res.status(), 401);
      await signIn(page, approverToken);
      assert.equal(new URL(page.url()).pathname, `/approvals/${first.approval_id}`);
      assert.equal(await page.$eval('#action', (e) => e.textContent), first.action);
      assert.equal(await page.$eval('#tool', (e) => e.textContent), 'delete_group');
      assert.match(await page.$eval('#arguments', (e) => e.textContent), new RegExp(`"id": ${id}`));
      assert.equal(await page.$eval('#state', (e) => e.textContent), 'pending');
      assert.ok(!(await page.content()).includes(first.confirmation_token), 'the page shows the token');
      assert.equal(await decide(page, 'approve'), 'approved');
      assert.match(await page.$eval('#approver', (e) => e.textContent), /approver token [0-9a-f]{6}/);
    } finally {
      await close();
    }

    const done = await call(client, 'delete_group', { id, confirmation_token: first.confirmation_token });
    assert.ok(!done.isError, textOf(done));
    assert.equal(done.structuredContent?.status, 'deleted');
    const again = await call(client, 'delete_group', { id, confirmation_token: first.confirmation_token });
    assert.equal(again.isError, true, 'the token executed twice');
    assert.equal(await statusOf(client, id), 'deleted');
  });

  it('a person declines; the call answers declined and nothing changes', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const id = await newGroup(client, 'decline');
    const first = await askToDelete(client, id);
    const { page, close } = await freshPage();
    try {
      await page.goto(new URL(`/approvals/${first.approval_id}`, server.baseUrl).href);
      await signIn(page, approverToken);
      assert.equal(await decide(page, 'decline'), 'declined');
    } finally {
      await close();
    }
    const res = await call(client, 'delete_group', { id, confirmation_token: first.confirmation_token });
    assert.equal(res.structuredContent?.status, 'declined', JSON.stringify(res));
    assert.equal(await statusOf(client, id), 'active');
  });

  it('a signed-in approver who follows a link from another site (a chat notice) is still signed in there', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const id = await newGroup(client, 'link');
    const first = await askToDelete(client, id);
    const pageURL = new URL(`/approvals/${first.approval_id}`, server.baseUrl).href;
    // A chat's page on another site: "localhost" is another site than
    // "127.0.0.1", whatever the ports.
    const chat = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><p>An assistant asks: <a id="link" href="${pageURL}">review</a></p>`);
    });
    await new Promise((resolve) => chat.listen(0, '127.0.0.1', resolve));
    const { page, close } = await freshPage();
    try {
      await page.goto(new URL('/approvals', server.baseUrl).href);
      await signIn(page, approverToken);
      await page.goto(`http://localhost:${chat.address().port}/`);
      const [res] = await Promise.all([page.waitForNavigation(), page.click('#link')]);
      assert.equal(res.status(), 200, 'the approval page, not the sign-in form');
      assert.equal(await page.$eval('#state', (e) => e.textContent), 'pending');
      assert.equal(await decide(page, 'decline'), 'declined', 'and the decision posts from the page');
    } finally {
      await close();
      await new Promise((resolve) => chat.close(resolve));
    }
  });

  it('refuses a cross-site post, even to a signed-in browser', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const id = await newGroup(client, 'cross-site');
    const first = await askToDelete(client, id);
    const approveURL = new URL(`/approvals/${first.approval_id}/approve`, server.baseUrl).href;

    // Another site (same host, another port: same-site, so the session
    // cookie goes along) posts a form without the CSRF field.
    const evil = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form method="post" action="${approveURL}"><button id="go">win a prize</button></form>`);
    });
    await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const { page, close } = await freshPage();
    try {
      await page.goto(new URL('/approvals', server.baseUrl).href);
      await signIn(page, approverToken); // this browser is signed in
      await page.goto(`http://127.0.0.1:${evil.address().port}/`);
      const [res] = await Promise.all([page.waitForNavigation(), page.click('#go')]);
      assert.equal(res.status(), 403, 'the cross-site post must be refused');
    } finally {
      await close();
      await new Promise((resolve) => evil.close(resolve));
    }
    // A script with a foreign Origin is refused too, approver token or not.
    const forged = await fetch(approveURL, {
      method: 'POST',
      headers: { origin: 'https://evil.example', authorization: `Bearer ${approverToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(forged.status, 403);

    const page2 = await fetch(new URL(`/approvals/${first.approval_id}`, server.baseUrl), {
      headers: { authorization: `Bearer ${approverToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.match(await page2.text(), /id="state">pending</, 'a refused post decided');
    assert.equal(await statusOf(client, id), 'active');
  });

  it('URL elicitation: the client opens the page, its person signs in and approves; the call executes', { timeout: TEST_TIMEOUT }, async () => {
    const client = new Client({ name: 'url-elicitation-interop', version: '0.0.0' }, { capabilities: { elicitation: { url: {} } } });
    const asked = [];
    const decided = [];
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params);
      if (req.params.mode !== 'url') return { action: 'decline' };
      // What a client does: open the page for its person, and tell the
      // server it did; the person decides there.
      decided.push(
        (async () => {
          const { page, close } = await freshPage();
          try {
            const res = await page.goto(req.params.url);
            if (res.status() === 401) await signIn(page, approverToken);
            return await decide(page, 'approve');
          } finally {
            await close();
          }
        })(),
      );
      return { action: 'accept' };
    });
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', server.baseUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    try {
      const id = await newGroup(conn.client, 'url');
      const res = await call(client, 'delete_group', { id });
      assert.equal(asked.length, 1, JSON.stringify(asked));
      assert.equal(asked[0].mode, 'url');
      assert.ok(asked[0].url.startsWith(`${server.baseUrl}/approvals/`) && !asked[0].url.includes('?'), asked[0].url);
      // The server may have executed it before the page reloaded.
      assert.match(await decided[0], /^(approved|redeemed)$/);
      assert.ok(!res.isError, textOf(res));
      assert.equal(res.structuredContent?.status, 'deleted');
      assert.equal(await statusOf(conn.client, id), 'deleted');
    } finally {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
  });
});

describe('approval pages: no approver token set', () => {
  let server;
  before(async () => {
    server = await startHttpServer({ token: newToken(), env: { CONVIRZA_MCP_CONFIRMATION_MODE: 'auto' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers 401 saying how to turn them on', { timeout: TEST_TIMEOUT }, async () => {
    const { page, close } = await freshPage();
    try {
      const res = await page.goto(new URL('/approvals', server.baseUrl).href);
      assert.equal(res.status(), 401);
      assert.match(await page.content(), /CONVIRZA_MCP_APPROVER_TOKEN/);
    } finally {
      await close();
    }
  });
});

describe('desktop approval page (stdio, $BROWSER)', () => {
  let client;
  let transport;
  let stderr = '';
  let opened;
  before(async () => {
    opened = path.join(dir, 'opened');
    const script = path.join(dir, 'browser');
    // A browser that only writes down the link it was given.
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`, { mode: 0o755 });
    transport = new StdioClientTransport({
      command: binaryPath(),
      args: ['serve', '--sandbox'],
      env: {
        CONVIRZA_MCP_LOG_LEVEL: 'debug',
        CONVIRZA_MCP_STATE_DIR: mkdtempSync(path.join(dir, 'state-')),
        CONVIRZA_MCP_CONFIRMATION_MODE: 'auto',
        BROWSER: script,
      },
      stderr: 'pipe',
    });
    transport.stderr.on('data', (c) => {
      stderr += c.toString();
    });
    client = new Client({ name: 'desktop-interop', version: '0.0.0' }, { capabilities: {} });
    await client.connect(transport);
  });
  after(async () => {
    await client?.close();
  });

  it('opens a single-use link, the person approves in the browser, the call executes; the link is in no result or log', { timeout: TEST_TIMEOUT }, async () => {
    const id = await newGroup(client, 'desktop');
    const res = await call(client, 'delete_group', { id });
    const first = res.structuredContent;
    assert.equal(first?.status, 'confirmation_required', JSON.stringify(res));
    assert.match(first.approve, /opened in the browser/);

    let link = '';
    const deadline = Date.now() + 10_000;
    while (!link && Date.now() < deadline) {
      try {
        link = readFileSync(opened, 'utf8').trim();
      } catch {
        // not yet written
      }
      if (!link) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(link, 'the browser was never given the link');
    const u = new URL(link);
    assert.equal(u.hostname, '127.0.0.1');
    assert.equal(u.pathname, `/approvals/${first.approval_id}`);
    const secret = u.searchParams.get('s');
    assert.ok(secret && secret.length >= 32, link);
    assert.ok(!textOf(res).includes(`${u.host}`) && !textOf(res).includes(secret), 'the result names the link');

    const { page, close } = await freshPage();
    try {
      await page.goto(link);
      assert.equal(new URL(page.url()).search, '', 'the secret stays in the address bar');
      assert.equal(await page.$eval('#action', (e) => e.textContent), first.action);
      assert.equal(await decide(page, 'approve'), 'approved');
    } finally {
      await close();
    }
    // The link was used: another browser loading it is refused.
    const again = await freshPage();
    try {
      const r = await again.page.goto(link);
      assert.equal(r.status(), 403);
    } finally {
      await again.close();
    }

    const done = await call(client, 'delete_group', { id, confirmation_token: first.confirmation_token });
    assert.ok(!done.isError, textOf(done));
    assert.equal(done.structuredContent?.status, 'deleted');
    assert.ok(stderr.length > 0, 'the server logged nothing at debug level');
    assert.ok(!stderr.includes(secret), 'the link reached the server log');
  });
});
