// Per-person sign-in (CONVIRZA_MCP_AUTH=oauth) driven by the official
// TypeScript SDK's OAuth client: its auth() helper with an
// OAuthClientProvider does discovery (RFC 9728, RFC 8414), dynamic
// registration, PKCE and the token exchange; this test plays the person's
// browser, posting the sign-in form as a browser would (the same sign-in
// in a real headless Chromium: oauth-browser.test.js). Then a tools/list
// with the person's token, refresh rotation, and sign-out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';

import { TEST_TIMEOUT, startHttpServer } from '../lib/harness.js';
import { MemoryProvider, PASSWORD, connectWith, listTools } from '../lib/oauth.js';

// Nothing listens here: signInAsBrowser reads the redirect without
// following it (oauth-browser.test.js has a browser follow it for real).
const REDIRECT = 'http://127.0.0.1:47123/callback';

/**
 * The person's browser: opens the sign-in page, fills in the form's
 * visible fields and sends it with its hidden ones, and returns where the
 * server sent it back (without following: nothing listens there).
 */
async function signInAsBrowser(authorizationUrl, email, password) {
  const page = await fetch(authorizationUrl, { signal: AbortSignal.timeout(10_000) });
  assert.equal(page.status, 200, 'the sign-in page');
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  const action = html.match(/<form method="post" action="([^"]+)">/);
  assert.ok(action, 'the page has a form');
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1], unescape(m[2]));
  assert.match(html, /name="email"/);
  assert.match(html, /name="password"/);
  form.set('email', email);
  form.set('password', password);
  return fetch(new URL(unescape(action[1]), authorizationUrl), {
    method: 'POST',
    body: form,
    redirect: 'manual',
    headers: { origin: new URL(authorizationUrl).origin },
    signal: AbortSignal.timeout(10_000),
  });
}

function unescape(s) {
  return s.replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#34;', '"').replaceAll('&#39;', "'");
}

describe('CONVIRZA_MCP_AUTH=oauth with the SDK OAuth client', { timeout: TEST_TIMEOUT * 2 }, () => {
  let server;
  before(async () => {
    server = await startHttpServer({ env: { CONVIRZA_MCP_AUTH: 'oauth' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('discovers, registers, signs a person in, calls tools/list, refreshes and signs out', async () => {
    const mcpUrl = new URL('/mcp', server.baseUrl);
    const provider = new MemoryProvider(REDIRECT);

    // Discovery starts at the 401.
    const denied = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(denied.status, 401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(denied);
    assert.equal(String(resourceMetadataUrl), new URL('/.well-known/oauth-protected-resource', server.baseUrl).href);

    assert.equal(await auth(provider, { serverUrl: mcpUrl, resourceMetadataUrl }), 'REDIRECT');
    assert.match(provider.client?.client_id ?? '', /^cmcp_c_/, 'registered dynamically');
    const authUrl = provider.authorizationUrl;
    assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authUrl.searchParams.get('resource'), mcpUrl.href, 'the resource indicator is the MCP endpoint');

    // A wrong password is refused on the page, nothing sent back.
    const wrong = await signInAsBrowser(authUrl, 'standard@summit-demo.example', 'not-it');
    assert.equal(wrong.status, 200);
    assert.match(await wrong.text(), /Wrong email or password/);

    const back = await signInAsBrowser(authUrl, 'standard@summit-demo.example', PASSWORD);
    assert.equal(back.status, 303, 'the sign-in sends the browser back to the client');
    const redirected = new URL(back.headers.get('location'));
    assert.equal(redirected.origin + redirected.pathname, REDIRECT);
    assert.equal(redirected.searchParams.get('state'), provider.lastState);
    const code = redirected.searchParams.get('code');
    assert.ok(code);

    assert.equal(await auth(provider, { serverUrl: mcpUrl, resourceMetadataUrl, authorizationCode: code }), 'AUTHORIZED');
    const first = provider.tokens();
    assert.ok(first.access_token && first.refresh_token);

    const listed = await listTools(server.baseUrl, provider);
    assert.ok(listed.tools.length > 0, 'tools/list with the person\'s token');

    // Refresh: auth() with a refresh token rotates it.
    assert.equal(await auth(provider, { serverUrl: mcpUrl, resourceMetadataUrl }), 'AUTHORIZED');
    const second = provider.tokens();
    assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token rotated');
    assert.notEqual(second.access_token, first.access_token);
    assert.ok((await listTools(server.baseUrl, provider)).tools.length > 0, 'tools/list with the refreshed token');

    // Sign-out (RFC 7009), then the next request is a clear 401.
    const revoked = await fetch(new URL('/revoke', server.baseUrl), {
      method: 'POST',
      body: new URLSearchParams({ token: second.refresh_token, client_id: provider.client.client_id }),
    });
    assert.equal(revoked.status, 200);
    const after = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${second.access_token}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    await assert.rejects(listTools(server.baseUrl, provider), 'the SDK client is signed out');
  });

  it('two people at once, each acting as themself: an Admin and a ReadOnly person see and may do only their own', async () => {
    const mcpUrl = new URL('/mcp', server.baseUrl);
    const signIn = async (email) => {
      const provider = new MemoryProvider(REDIRECT);
      assert.equal(await auth(provider, { serverUrl: mcpUrl }), 'REDIRECT');
      const back = await signInAsBrowser(provider.authorizationUrl, email, PASSWORD);
      assert.equal(back.status, 303, `${email} signed in`);
      const code = new URL(back.headers.get('location')).searchParams.get('code');
      assert.equal(await auth(provider, { serverUrl: mcpUrl, authorizationCode: code }), 'AUTHORIZED');
      return connectWith(server.baseUrl, provider);
    };
    const [admin, reader] = await Promise.all([signIn('admin@summit-demo.example'), signIn('readonly@summit-demo.example')]);
    try {
      const profile = async (c) => JSON.parse((await c.client.callTool({ name: 'get_profile', arguments: {} }, undefined, { timeout: 15_000 })).content[0].text);
      const [adminTools, readerTools, adminProfile, readerProfile] = await Promise.all([
        admin.client.listTools(undefined, { timeout: 15_000 }),
        reader.client.listTools(undefined, { timeout: 15_000 }),
        profile(admin),
        profile(reader),
      ]);
      assert.equal(adminProfile.user.email, 'admin@summit-demo.example');
      assert.equal(readerProfile.user.email, 'readonly@summit-demo.example');
      assert.equal(readerProfile.user.role, 'ReadOnly');

      const names = (r) => new Set(r.tools.map((t) => t.name));
      assert.ok(names(adminTools).has('delete_group') && names(adminTools).has('create_tag'), 'the Admin lists writes');
      const writes = readerTools.tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
      assert.deepEqual(writes, [], 'the ReadOnly person lists reads only');
      assert.ok(!names(readerTools).has('list_groups'), 'nor the Admin-only reads');
      assert.ok(readerTools.tools.length > 0 && readerTools.tools.length < adminTools.tools.length);

      // A write the ReadOnly person's list does not hold is refused, and
      // nothing changes for the Admin meanwhile.
      const refused = await reader.client
        .callTool({ name: 'create_tag', arguments: { org_unit_id: 1001, tag_name: 'interop' } }, undefined, { timeout: 15_000 })
        .then((r) => (r.isError ? r.content[0].text : 'executed'), (e) => String(e.message ?? e));
      assert.notEqual(refused, 'executed', 'a ReadOnly person cannot call a write tool');
      assert.match(refused, /ReadOnly|not found|may not/i);
      assert.equal((await profile(admin)).user.role, 'Admin');
    } finally {
      await Promise.all([admin.close(), reader.close()]);
    }
  });
});
