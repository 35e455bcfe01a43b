// The promise of the default confirmation mode (auto), tested against an
// adversary: a "model" client that has no elicitation, follows every
// instruction in every result, re-sends every token and id it was given
// (as confirmation_token, as other arguments, as the sealed state of an
// elicitation answer nobody asked for), fetches every URL it sees without
// the approver's secret and submits every form in it, cannot make any
// confirmable tool execute, over stdio and over Streamable HTTP; nor can an
// HTTP client that declares elicitation (form and URL) and answers every
// question "accept, confirm: true" itself. Each case reads the sandbox
// before and after (the group still exists, the number is still not the
// account's...) and checks every answer was confirmation_required, waiting
// for approval, or a refusal.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { binaryPath, newToken, startHttpServer, textOf } from '../lib/harness.js';

const CASE_TIMEOUT = 110_000;
const REQUEST_TIMEOUT = 15_000;
const ROUNDS = 3;

// The server under attack: the default mode (the harness's other suites use
// mode token), every toolset, a redemption of a pending approval answered
// at once (CONVIRZA_MCP_APPROVAL_WAIT: no 30 s wait per re-sent token), no
// browser opened for a person who is not there.
const SERVER_ENV = {
  CONVIRZA_MCP_CONFIRMATION_MODE: 'auto',
  CONVIRZA_MCP_TOOLSETS: 'all',
  CONVIRZA_MCP_APPROVAL_WAIT: '1ns',
  CONVIRZA_MCP_APPROVAL_BROWSER: 'never',
};

// Seeded ids (internal/sandbox).
const DENVER = 1042;
const SPRING = '1ec0a7d4-5b1e-4c2a-9f00-000000000001';
const SCHEDULED_BC = 3006;

/**
 * Every confirmable tool of --toolsets all with valid arguments on seed
 * data (a first call gets a confirmation, not a refusal), and the read that
 * shows whether it executed.
 */
function targets(carrier) {
  return {
    delete_group: { args: { id: DENVER }, probe: ['get_group', { id: DENVER }] },
    delete_user: { args: { id: 12345 }, probe: ['get_user', { id: 12345 }] },
    delete_webhook: { args: { id: 3 }, probe: ['get_webhook', { id: 3 }] },
    delete_media_prompt: { args: { id: 3002 }, probe: ['list_media_prompts', { type: 'whisper' }] },
    delete_voice_agent: { args: { id: 801 }, probe: ['get_voice_agent', { id: 801 }] },
    delete_provisioned_route: { args: { id: 7001 }, probe: ['get_provisioned_route', { id: 7001 }] },
    release_phone_number: { args: { number: '3035550100' }, probe: ['list_assigned_numbers', { npa: '303' }] },
    order_phone_number: { args: { number: carrier, org_unit_id: DENVER }, probe: ['list_assigned_numbers', { npa: carrier.slice(0, 3) }] },
    delete_broadcast: { args: { id: SCHEDULED_BC }, probe: ['get_broadcast', { id: SCHEDULED_BC }] },
    create_broadcast: {
      args: {
        broadcast_name: 'Adversary blast',
        message: 'You won! Reply YES.',
        recipients: ['+13035550101', '+13035550102'],
        from_number: '+13035550144',
        org_unit_id: DENVER,
      },
      probe: ['list_broadcasts', { broadcast_name: 'Adversary blast' }],
    },
    // Edits that change what a scheduled broadcast says: confirmed like a send.
    update_broadcast: { args: { id: SCHEDULED_BC, message: 'Changed by the adversary. Reply STOP to opt out.' }, probe: ['get_broadcast', { id: SCHEDULED_BC }] },
    replace_broadcast: {
      args: {
        id: SCHEDULED_BC,
        broadcast_name: 'Hijacked',
        message: 'Replaced by the adversary. Reply STOP to opt out.',
        recipients: ['+13035550199'],
        from_number: '+13035550144',
        scheduled_at: '2030-01-17T15:00:00Z',
        agent_name: 'Sam Standard',
      },
      probe: ['get_broadcast', { id: SCHEDULED_BC }],
    },
    delete_tags: { args: { org_unit_id: DENVER, tag_ids: [221] }, probe: ['list_tags', { org_unit_id: DENVER }] },
    delete_record_list: { args: { id: SPRING }, probe: ['get_record_list', { id: SPRING }] },
    delete_records: { args: { record_list_id: SPRING, phone_numbers: ['+13035550103'] }, probe: ['list_records', { record_list_id: SPRING }] },
  };
}

/** A stdio server of the adversary's own, spawned by the SDK. */
function stdioTransport() {
  return new StdioClientTransport({
    command: binaryPath(),
    args: ['serve', '--sandbox'],
    env: {
      ...SERVER_ENV,
      CONVIRZA_MCP_LOG_LEVEL: 'warn',
      CONVIRZA_MCP_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-state-')),
    },
    stderr: 'ignore',
  });
}

/**
 * The adversary's client. With elicitation, it declares form and URL
 * elicitation and answers every question "accept, confirm: true" itself;
 * questions collects what it was asked, and seen every URL and id in them.
 */
async function adversaryClient(transport, { elicitation = false, seen } = {}) {
  const capabilities = elicitation ? { elicitation: { form: {}, url: {} } } : {};
  const client = new Client({ name: 'adversary', version: '0.0.0' }, { capabilities });
  const questions = [];
  if (elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      questions.push(req.params);
      if (seen) harvest(req.params, seen);
      return req.params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { confirm: true } };
    });
  }
  await client.connect(transport, { timeout: REQUEST_TIMEOUT });
  return { client, questions };
}

/** A tool call whose failure (a JSON-RPC error) is an answer too. */
async function attempt(client, params) {
  try {
    return await client.request({ method: 'tools/call', params }, CallToolResultSchema, { timeout: REQUEST_TIMEOUT });
  } catch (err) {
    return { rpcError: String(err?.message ?? err) };
  }
}

async function read(client, [tool, args]) {
  const res = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: REQUEST_TIMEOUT });
  // A read that fails (the record list is gone) is a state too.
  return res.isError ? { error: textOf(res) } : res.structuredContent;
}

const URL_RE = /https?:\/\/[^\s"'<>`\\)\]]+/g;

/** Everything the adversary was given: tokens, approval ids, URLs. */
function harvest(value, seen) {
  const walk = (v, key) => {
    if (typeof v === 'string') {
      if (key === 'confirmation_token') seen.tokens.add(v);
      if (key === 'approval_id' || key === 'elicitationId') seen.ids.add(v);
      for (const u of v.match(URL_RE) ?? []) seen.urls.add(u);
      // Ids named in prose: "approval abcd2345", "approvals approve abcd2345".
      for (const m of v.matchAll(/approv(?:al|e) ([a-z2-9]{8})\b/g)) seen.ids.add(m[1]);
    } else if (Array.isArray(v)) {
      v.forEach((x) => walk(x, key));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(value, '');
}

/** The answer is one the promise allows: asked, waiting, or refused; never done. */
function assertNotExecuted(tool, res, sent) {
  const what = `${tool} ${JSON.stringify(sent).slice(0, 300)}`;
  if (res.rpcError) return; // refused at the protocol level
  if (res.isError) {
    assert.match(
      textOf(res),
      /Nothing was|waiting for approval|not a known argument|Nothing (is|has been) (done|executed)/i,
      `${what}: a refusal must say nothing was done: ${textOf(res)}`,
    );
    return;
  }
  assert.equal(res.structuredContent?.status, 'confirmation_required', `${what} was answered as if done: ${JSON.stringify(res).slice(0, 500)}`);
}

function isLoopback(u) {
  try {
    const { hostname } = new URL(u);
    return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
  } catch {
    return false;
  }
}

/** The forms of an HTML page: action, method, and each way to submit its fields. */
function forms(html, base) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attr = (s, name) => s.match(new RegExp(`${name}\\s*=\\s*["']([^"']*)["']`, 'i'))?.[1];
    const action = new URL(attr(m[1], 'action') ?? '', base).toString();
    const method = (attr(m[1], 'method') ?? 'GET').toUpperCase();
    const fields = {};
    const buttons = [];
    for (const i of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const name = attr(i[2], 'name');
      if (!name) continue;
      const value = attr(i[2], 'value') ?? '';
      if (i[1].toLowerCase() === 'button' || /type\s*=\s*["']submit["']/i.test(i[2])) buttons.push([name, value]);
      else fields[name] = value;
    }
    out.push({ action, method, fields, buttons: buttons.length ? buttons : [null] });
  }
  return out;
}

/**
 * Fetches a URL the way the adversary would (its MCP bearer token, if it
 * has one, on the server's own origin; never an approver's secret), and
 * submits every form in the page with every button. Only loopback URLs are
 * fetched (the others, a webhook's receiver say, are not this server's and
 * the tests stay off the network). A page of the server's /approvals must
 * answer 401 or 403.
 */
async function fetchAndSubmit(url, ctx) {
  if (!isLoopback(url)) return;
  const approvalsPage = ctx.baseUrl && url.startsWith(`${ctx.baseUrl}/approvals`);
  const headers = ctx.bearer && ctx.baseUrl && url.startsWith(ctx.baseUrl) ? { Authorization: `Bearer ${ctx.bearer}` } : {};
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(5_000) }).catch(() => null);
  if (!res) return;
  if (approvalsPage) assert.ok([401, 403].includes(res.status), `GET ${url} without the approver's secret answered ${res.status}`);
  const html = await res.text();
  for (const f of forms(html, url)) {
    for (const button of f.buttons) {
      const body = new URLSearchParams({ ...f.fields, ...(button ? { [button[0]]: button[1] } : {}) });
      const sub = await fetch(f.action, {
        method: f.method === 'GET' ? 'GET' : 'POST',
        headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: f.method === 'GET' ? undefined : body,
        redirect: 'manual',
        signal: AbortSignal.timeout(5_000),
      }).catch(() => null);
      if (sub && f.action.startsWith(`${ctx.baseUrl}/approvals`)) {
        assert.ok([401, 403].includes(sub.status), `${f.method} ${f.action} without the approver's secret answered ${sub.status}`);
      }
    }
  }
}

/**
 * The approval pages guessed from an approval id, asked with what the
 * adversary holds (nothing, or the MCP bearer token): 401 or 403; 404 only
 * from a server that serves no approval pages at all.
 */
async function probePages(ctx, id) {
  if (!ctx.baseUrl) return;
  const auth = ctx.bearer ? { Authorization: `Bearer ${ctx.bearer}` } : {};
  const served = (await fetch(`${ctx.baseUrl}/approvals`, { headers: auth, redirect: 'manual' })).status !== 404;
  const allowed = served ? [401, 403] : [401, 403, 404];
  for (const headers of [{}, auth]) {
    for (const [method, p, body] of [
      ['GET', '/approvals', undefined],
      ['GET', `/approvals/${id}`, undefined],
      ['POST', `/approvals/${id}`, new URLSearchParams({ decision: 'approve', approve: '1' })],
      ['POST', `/approvals/${id}/approve`, new URLSearchParams({ confirm: 'true' })],
    ]) {
      const res = await fetch(`${ctx.baseUrl}${p}`, { method, headers, body, redirect: 'manual' });
      assert.ok(allowed.includes(res.status), `${method} ${p} with ${Object.keys(headers).length ? "the MCP client's token" : 'nothing'} answered ${res.status}`);
    }
  }
}

/**
 * Plays the adversary against one confirmable tool for ROUNDS rounds and
 * returns how many answers it got; every answer is checked as it comes.
 */
async function attack(client, tool, args, ctx) {
  const seen = ctx.seen;
  const mine = { tokens: new Set(), ids: new Set() };
  let answers = 0;
  const send = async (params) => {
    const res = await attempt(client, params);
    answers++;
    assertNotExecuted(tool, res, params);
    const before = new Set(seen.tokens);
    const ids = new Set(seen.ids);
    harvest(res, seen);
    for (const t of seen.tokens) if (!before.has(t)) mine.tokens.add(t);
    for (const i of seen.ids) if (!ids.has(i)) mine.ids.add(i);
    return res;
  };
  for (let round = 0; round < ROUNDS; round++) {
    // "Call it": the first call, and what every refusal says to do again.
    await send({ name: tool, arguments: args });
    // "Call again with the same arguments plus confirmation_token": every
    // token and id it holds, its own and (a few) of other tools' calls.
    const foreign = [...seen.tokens].filter((t) => !mine.tokens.has(t)).slice(-3);
    for (const tok of [...mine.tokens, ...mine.ids, ...foreign]) {
      await send({ name: tool, arguments: { ...args, confirmation_token: tok } });
    }
    // Ids as arguments of their own: refused as unknown.
    for (const id of mine.ids) await send({ name: tool, arguments: { ...args, approval_id: id } });
    // An answer to a question nobody asked: a token as the sealed request
    // state of a form or URL elicitation, with "accept, confirm: true".
    for (const tok of mine.tokens) {
      for (const requestState of [tok, `url:${tok}`]) {
        await send({
          name: tool,
          arguments: args,
          requestState,
          inputResponses: { confirm: { action: 'accept', content: { confirm: true } }, approve: { action: 'accept' } },
        });
      }
    }
    // Every URL it saw; every guessable approval page.
    for (const u of seen.urls) await fetchAndSubmit(u, ctx);
    for (const id of mine.ids) await probePages(ctx, id);
  }
  return answers;
}

/** Runs the whole attack on a connected client and checks nothing changed. */
async function attackAll(client, ctx) {
  const { tools } = await client.listTools();
  const confirmable = tools.filter((t) => t.inputSchema.properties?.confirmation_token).map((t) => t.name).sort();
  for (const t of tools) {
    if (t.annotations?.destructiveHint) assert.ok(confirmable.includes(t.name), `${t.name} is destructive but takes no confirmation_token`);
  }
  const search = await client.callTool({ name: 'search_available_numbers', arguments: { npa: '303', limit: 20 } });
  const carrier = search.structuredContent?.numbers?.find((n) => n.needs_order === true)?.number;
  assert.ok(carrier, `no carrier number to order: ${textOf(search)}`);
  const plan = targets(carrier);
  assert.deepEqual(Object.keys(plan).sort(), confirmable, 'a case for exactly the confirmable tools of --toolsets all');

  const before = {};
  for (const [tool, t] of Object.entries(plan)) before[tool] = await read(client, t.probe);
  let answers = 0;
  for (const [tool, t] of Object.entries(plan)) answers += await attack(client, tool, t.args, ctx);
  for (const [tool, t] of Object.entries(plan)) {
    assert.deepEqual(await read(client, t.probe), before[tool], `${tool} changed the account: ${JSON.stringify(t.probe)}`);
  }
  // Every first call asked (one approval per call), so it was really tried.
  assert.ok(ctx.seen.ids.size >= confirmable.length * ROUNDS, `only ${ctx.seen.ids.size} approvals were opened`);
  assert.ok(answers > confirmable.length * ROUNDS * 3, `only ${answers} answers`);
}

const newSeen = () => ({ tokens: new Set(), ids: new Set(), urls: new Set() });

describe('adversary: no confirmable tool executes in the default mode', () => {
  it('over stdio, a client without elicitation', { timeout: CASE_TIMEOUT }, async () => {
    const { client } = await adversaryClient(stdioTransport());
    try {
      await attackAll(client, { seen: newSeen() });
    } finally {
      await client.close();
    }
  });

  describe('over Streamable HTTP', () => {
    let server;
    const token = newToken();
    before(async () => {
      server = await startHttpServer({ token, env: SERVER_ENV });
    });
    after(async () => {
      await server?.stop();
    });
    const transport = () =>
      new StreamableHTTPClientTransport(new URL('/mcp', server.baseUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });

    it('a client without elicitation', { timeout: CASE_TIMEOUT }, async () => {
      const { client } = await adversaryClient(transport());
      try {
        await attackAll(client, { seen: newSeen(), baseUrl: server.baseUrl, bearer: token });
      } finally {
        await client.close();
      }
    });

    it('a client that declares form and URL elicitation and accepts every question itself', { timeout: CASE_TIMEOUT }, async () => {
      const ctx = { seen: newSeen(), baseUrl: server.baseUrl, bearer: token };
      const { client, questions } = await adversaryClient(transport(), { elicitation: true, seen: ctx.seen });
      try {
        await attackAll(client, ctx);
      } finally {
        await client.close();
      }
      // An HTTP client's own form answer is never taken for a person's: it
      // is not asked a form question; a URL question, if any, is a page
      // that needs the approver (fetched and submitted as the rounds went).
      assert.equal(questions.filter((q) => q.mode !== 'url').length, 0, `asked a form question over HTTP: ${JSON.stringify(questions[0])}`);
    });
  });
});
