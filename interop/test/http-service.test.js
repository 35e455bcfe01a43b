// The HTTP transport as a shared service, seen by the official TypeScript
// SDK and plain fetch: bearer token on every endpoint (SSE stream and
// message posts included), confirmations bound to the client, Origin check,
// body cap, many concurrent sessions, and a SIGTERM that lets in-flight
// calls finish.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TEST_TIMEOUT, call, connect, newToken, startHttpServer, textOf } from '../lib/harness.js';

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'interop-raw', version: '0' } },
});

/** fetch with the headers an MCP client sends, and a bound. */
function request(url, { method = 'POST', token, headers = {}, body, signal } = {}) {
  const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  return fetch(url, { method, headers: h, body, signal: signal ?? AbortSignal.timeout(10_000) });
}

/**
 * Opens a legacy SSE stream with fetch and returns the message endpoint it
 * announces, and a function that closes the stream.
 */
async function openSseStream(baseUrl, token) {
  const ac = new AbortController();
  const res = await request(new URL('/sse', baseUrl), { method: 'GET', token, signal: ac.signal });
  assert.equal(res.status, 200, 'the SSE stream with the right token must open');
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    const m = buf.match(/event: endpoint\s*\ndata: (\S+)/);
    if (m) return { endpoint: new URL(m[1], baseUrl), close: () => ac.abort() };
  }
  ac.abort();
  throw new Error(`no endpoint event on the SSE stream: ${buf}`);
}

/** The value of a Prometheus sample, summed over the label sets that match. */
function sample(metrics, name, labels = {}) {
  let sum = null;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^(\w+)(\{([^}]*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[4]);
  }
  return sum;
}

async function metrics(baseUrl, token) {
  const res = await request(new URL('/metrics', baseUrl), { method: 'GET', token });
  assert.equal(res.status, 200);
  return res.text();
}

describe('http service', () => {
  let server;
  const token = newToken();
  const rotated = newToken();
  before(async () => {
    // The 50 sessions below share two tokens, so for the per-client caps
    // they are two clients, each running up to ~33 calls at once.
    server = await startHttpServer({ token: `${token},${rotated}`, env: { CONVIRZA_MCP_MAX_CALLS_PER_CLIENT: '64' } });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers 401 without or with a wrong token, on every endpoint', { timeout: TEST_TIMEOUT }, async () => {
    const { baseUrl } = server;
    const sse = await openSseStream(baseUrl, token);
    try {
      const ping = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' });
      for (const bad of [undefined, 'wrong-token', `${token}x`]) {
        for (const [method, path, body] of [
          ['POST', '/mcp', INIT],
          ['GET', '/sse', undefined],
          ['POST', sse.endpoint.pathname + sse.endpoint.search, ping],
          ['GET', '/metrics', undefined],
        ]) {
          const res = await request(new URL(path, baseUrl), { method, token: bad, body });
          assert.equal(res.status, 401, `${method} ${path} with token ${bad}: ${res.status}`);
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
          await res.body?.cancel();
        }
      }
      // Either token of the rotation list works, the message post included.
      const ok = await request(sse.endpoint, { token, body: ping });
      assert.equal(ok.status, 202);
      const init = await request(new URL('/mcp', baseUrl), { token: rotated, body: INIT });
      assert.equal(init.status, 200);
      await init.body?.cancel();
    } finally {
      sse.close();
    }
    await assert.rejects(connect('http', { baseUrl }), 'an SDK client without a token must not connect');
    await assert.rejects(connect('sse', { baseUrl, token: 'wrong-token' }), 'an SDK client with a wrong token must not connect');
    for (const p of ['/healthz', '/readyz']) {
      const res = await request(new URL(p, baseUrl), { method: 'GET' });
      assert.equal(res.status, 200, `${p} is for probes and needs no token`);
      await res.body?.cancel();
    }
  });

  it('answers 403 to a foreign Origin', { timeout: TEST_TIMEOUT }, async () => {
    for (const [method, path, body] of [
      ['POST', '/mcp', INIT],
      ['GET', '/sse', undefined],
    ]) {
      const res = await request(new URL(path, server.baseUrl), { method, token, body, headers: { origin: 'https://evil.example' } });
      assert.equal(res.status, 403, `${method} ${path}`);
      await res.body?.cancel();
    }
  });

  it('refuses a 20 MiB body with 413', { timeout: TEST_TIMEOUT }, async () => {
    const pad = 'x'.repeat(20 << 20);
    const body = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${pad}"}}`;
    const res = await request(new URL('/mcp', server.baseUrl), { token, body });
    assert.equal(res.status, 413);
    const answer = await res.json();
    assert.match(answer.error, /larger than/);
  });

  it("refuses one client's confirmation_token to another", { timeout: TEST_TIMEOUT }, async () => {
    const a = await connect('http', { baseUrl: server.baseUrl, token });
    const b = await connect('http', { baseUrl: server.baseUrl, token: rotated });
    try {
      const name = `interop binding ${process.pid}-${Date.now().toString(36)}`;
      const created = await call(a.client, 'create_group', { org_unit_name: name, org_unit_parent_id: 1003 });
      assert.ok(!created.isError, textOf(created));
      const id = created.structuredContent.org_unit_id;
      const first = await call(a.client, 'delete_group', { id });
      assert.equal(first.structuredContent?.status, 'confirmation_required', textOf(first));
      const tok = first.structuredContent.confirmation_token;
      const stolen = await call(b.client, 'delete_group', { id, confirmation_token: tok });
      assert.equal(stolen.isError, true, `client B redeemed client A's token: ${textOf(stolen)}`);
      const still = await call(a.client, 'get_group', { id });
      assert.equal(still.structuredContent?.org_unit_status, 'active');
      const mine = await call(a.client, 'delete_group', { id, confirmation_token: tok });
      assert.ok(!mine.isError, textOf(mine));
      assert.equal(mine.structuredContent?.status, 'deleted');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('serves 50 concurrent sessions, each completing its tool calls', { timeout: TEST_TIMEOUT }, async () => {
    const conns = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connect(i % 2 ? 'sse' : 'http', { baseUrl: server.baseUrl, token: i % 3 ? token : rotated })),
    );
    try {
      const open = sample(await metrics(server.baseUrl, token), 'convirza_mcp_active_sessions');
      assert.ok(open >= 50, `active sessions gauge ${open}, want at least 50`);
      await Promise.all(
        conns.map(async ({ client }) => {
          const one = await call(client, 'get_group', { id: 1042 });
          assert.ok(!one.isError, textOf(one));
          assert.equal(one.structuredContent?.org_unit_id, 1042);
          const tree = await call(client, 'get_group_tree', {});
          assert.ok(!tree.isError, textOf(tree));
        }),
      );
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    const m = await metrics(server.baseUrl, token);
    assert.ok(sample(m, 'convirza_mcp_tool_calls_total', { tool: 'get_group', outcome: 'ok' }) >= 50);
    assert.ok(sample(m, 'convirza_mcp_tool_calls_total', { tool: 'get_group_tree', outcome: 'ok' }) >= 50);
  });
});

describe('http service shutdown', () => {
  it('exits 0 on SIGTERM after the calls in flight complete', { timeout: TEST_TIMEOUT }, async () => {
    const token = newToken();
    // Every simulator answer takes 400 ms, so the calls are still running
    // when the signal arrives.
    const server = await startHttpServer({ token, env: { CONVIRZA_MCP_SANDBOX_LATENCY: '400ms' } });
    const conns = [];
    try {
      for (const kind of ['http', 'sse', 'http', 'sse']) conns.push(await connect(kind, { baseUrl: server.baseUrl, token }));
      const calls = conns.map(({ client }) => call(client, 'get_group', { id: 1042 }));
      const deadline = Date.now() + 10_000;
      let inFlight = 0;
      while (Date.now() < deadline) {
        inFlight = sample(await metrics(server.baseUrl, token), 'convirza_mcp_tool_calls_in_flight');
        if (inFlight === conns.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(inFlight, conns.length, 'all calls must be running before the signal');

      const exit = await server.stop();
      const results = await Promise.all(calls);
      for (const res of results) {
        assert.ok(!res.isError, `an in-flight call was cut: ${textOf(res)}`);
        assert.equal(res.structuredContent?.org_unit_id, 1042);
      }
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM; stderr:\n${server.stderr()}`);
      await assert.rejects(fetch(new URL('/healthz', server.baseUrl)), 'nothing listens after the exit');
    } finally {
      await Promise.all(conns.map((c) => c.close().catch(() => {})));
      await server.stop();
    }
  });
});
