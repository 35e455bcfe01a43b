// The policy file (--policy FILE, or CONVIRZA_MCP_POLICY) as a real client
// sees it: a denied tool does not exist, read-only serves only R tools,
// confirmation.mode elicitation fails closed for clients that cannot ask,
// scope refuses other org units, the audit log records decisions and
// outcomes, and a bad file stops the server at start-up naming the line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { TEST_TIMEOUT, binaryPath, call, connect, newToken, startHttpServer, textOf, uniqueName } from '../lib/harness.js';

const WEST = 1003;
const DENVER = 1042; // under West
const SALES = 1002; // a sibling of West

let dir;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-policy-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes a policy file into the temp directory and returns its path. */
function policyFile(name, yaml) {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** Creates a group under West and returns its id. */
async function createGroup(client, label, extra = {}) {
  const res = await call(client, 'create_group', { org_unit_name: uniqueName(`policy ${label}`), org_unit_parent_id: WEST, ...extra });
  assert.ok(!res.isError, `create_group failed: ${textOf(res)}`);
  assert.ok(Number.isInteger(res.structuredContent?.org_unit_id), JSON.stringify(res));
  return res.structuredContent.org_unit_id;
}

async function statusOf(client, id) {
  const res = await call(client, 'get_group', { id });
  assert.ok(!res.isError, `get_group ${id} failed: ${textOf(res)}`);
  return res.structuredContent.org_unit_status;
}

/**
 * Calls a tool that must fail: either a JSON-RPC error (the SDK throws) or
 * an isError result. Returns the error's text.
 */
async function failingCall(client, name, args) {
  let res;
  try {
    res = await call(client, name, args);
  } catch (err) {
    return String(err.message);
  }
  assert.equal(res.isError, true, `${name} must fail: ${JSON.stringify(res)}`);
  return textOf(res);
}

describe('policy: tools.deny', () => {
  let conn;
  before(async () => {
    const file = policyFile('deny.yaml', 'tools:\n  deny: [delete_group]\n');
    conn = await connect('stdio', { serverArgs: ['--policy', file] });
  });
  after(async () => {
    await conn?.close();
  });

  it('does not list a denied tool, and calling it fails and changes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(!names.includes('delete_group'), 'delete_group is listed');
    assert.ok(names.includes('create_group') && names.includes('get_group'), `the other group tools must stay: ${names}`);

    const id = await createGroup(client, 'deny');
    const msg = await failingCall(client, 'delete_group', { id });
    assert.match(msg, /delete_group/);
    assert.match(msg, /not found|unknown tool/i);
    assert.equal(await statusOf(client, id), 'active');
  });
});

describe('policy: mode read-only', () => {
  let conn;
  let full;
  before(async () => {
    const file = policyFile('read-only.yaml', 'mode: read-only\n');
    conn = await connect('stdio', { serverArgs: ['--policy', file, '--toolsets', 'all'] });
    full = await connect('stdio', { serverArgs: ['--toolsets', 'all'] });
  });
  after(async () => {
    await conn?.close();
    await full?.close();
  });

  it('lists exactly the read-only tools, and a write fails', { timeout: TEST_TIMEOUT }, async () => {
    const { tools } = await conn.client.listTools();
    assert.ok(tools.length > 0, 'no tools listed');
    for (const t of tools) assert.equal(t.annotations?.readOnlyHint, true, `${t.name} is not read-only`);
    const reads = (await full.client.listTools()).tools.filter((t) => t.annotations.readOnlyHint).map((t) => t.name);
    assert.deepEqual(tools.map((t) => t.name).sort(), reads.sort(), 'read-only must serve every R tool of the toolsets');

    const msg = await failingCall(conn.client, 'create_group', { org_unit_name: uniqueName('policy ro'), org_unit_parent_id: WEST });
    assert.match(msg, /create_group/);
    const res = await call(conn.client, 'get_group', { id: DENVER });
    assert.ok(!res.isError, textOf(res));
  });
});

describe('policy: confirmation.mode elicitation', () => {
  let plain;
  let asking;
  before(async () => {
    const file = policyFile('elicit.yaml', 'confirmation:\n  mode: elicitation\n');
    plain = await connect('stdio', { serverArgs: ['--policy', file] });
    asking = await connect('stdio', { serverArgs: ['--policy', file], elicitation: true });
  });
  after(async () => {
    await plain?.close();
    await asking?.close();
  });

  it('refuses a client without elicitation, deleting nothing and handing out no token', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = plain;
    const id = await createGroup(client, 'no elicitation');
    const res = await call(client, 'delete_group', { id });
    assert.equal(res.isError, true, `delete_group must be refused: ${JSON.stringify(res)}`);
    assert.match(textOf(res), /elicitation/i);
    assert.ok(!textOf(res).includes('confirmation_token"'), 'no token may be issued');
    assert.equal(await statusOf(client, id), 'active');
  });

  it('deletes for a client with elicitation that accepts', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = asking;
    const id = await createGroup(client, 'elicitation');
    asking.setAnswer(() => ({ action: 'accept', content: { confirm: true } }));
    const res = await call(client, 'delete_group', { id });
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent?.status, 'deleted');
    assert.equal(asking.elicitations.length, 1, 'exactly one question');
    assert.ok(asking.elicitations[0].message.includes(String(id)), asking.elicitations[0].message);
    assert.equal(await statusOf(client, id), 'deleted');
  });
});

describe('policy: scope over Streamable HTTP (CONVIRZA_MCP_POLICY)', () => {
  let server;
  let conn;
  before(async () => {
    const file = policyFile('scope.yaml', `scope:\n  org_units: [${WEST}]\n`);
    const token = newToken();
    server = await startHttpServer({ token, env: { CONVIRZA_MCP_POLICY: file } });
    conn = await connect('http', { baseUrl: server.baseUrl, token });
  });
  after(async () => {
    await conn?.close();
    await server?.stop();
  });

  it('serves a group inside the scope and refuses one outside', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const inside = await call(client, 'get_group', { id: DENVER });
    assert.ok(!inside.isError, textOf(inside));
    assert.equal(inside.structuredContent?.org_unit_name, 'Denver Office');

    const outside = await call(client, 'get_group', { id: SALES });
    assert.equal(outside.isError, true, `get_group ${SALES} must be refused: ${JSON.stringify(outside)}`);
    assert.match(textOf(outside), /scope/i);
    assert.ok(!textOf(outside).includes('Sales Division'), `the refusal leaks the group: ${textOf(outside)}`);
  });
});

describe('policy: audit log', () => {
  let conn;
  let audit;
  before(async () => {
    // A relative audit path is relative to the policy file.
    const file = policyFile('audit.yaml', 'confirmation:\n  mode: token\naudit:\n  file: audit.jsonl\n');
    audit = path.join(dir, 'audit.jsonl');
    conn = await connect('stdio', { serverArgs: ['--policy', file] });
  });
  after(async () => {
    await conn?.close();
  });

  it('records decisions and outcomes of a create and a confirmed delete', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const id = await createGroup(client, 'audit', { phone_number: '+13035550188' });
    const first = await call(client, 'delete_group', { id });
    assert.equal(first.structuredContent?.status, 'confirmation_required', textOf(first));
    const token = first.structuredContent.confirmation_token;
    assert.equal(await statusOf(client, id), 'active'); // a read that succeeds is not recorded
    const done = await call(client, 'delete_group', { id, confirmation_token: token });
    assert.equal(done.structuredContent?.status, 'deleted', textOf(done));

    assert.equal(statSync(audit).mode & 0o777, 0o600, 'the audit log must be mode 0600');
    const text = readFileSync(audit, 'utf8');
    assert.ok(text.endsWith('\n'), 'every line ends with a newline');
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    const shape = lines.map((l) => [l.tool, l.event, l.decision ?? l.outcome]);
    assert.deepEqual(shape, [
      ['create_group', 'decision', 'allowed'],
      ['create_group', 'outcome', 'ok'],
      ['delete_group', 'decision', 'confirmation_required'],
      ['delete_group', 'decision', 'confirmed'],
      ['delete_group', 'outcome', 'ok'],
    ]);
    for (const l of lines) {
      assert.ok(!Number.isNaN(Date.parse(l.time)), `bad time in ${JSON.stringify(l)}`);
      assert.match(l.call_id, /^[0-9a-f]{16}$/);
      assert.equal(l.client, 'convirza-mcp-interop');
    }
    const [create, created, asked, confirmed, deleted] = lines;
    assert.equal(create.class, 'W');
    assert.equal(create.call_id, created.call_id, 'a call\'s decision and outcome share its call_id');
    assert.equal(create.arguments?.org_unit_parent_id, WEST);
    assert.equal(create.arguments?.phone_number, '+*******0188', 'phone numbers keep only their last 4 digits');
    assert.ok(created.request_id, 'the outcome names the upstream request_id');

    assert.equal(asked.class, 'D');
    assert.ok(asked.action?.includes(String(id)), `the confirmation line carries the action: ${JSON.stringify(asked)}`);
    assert.notEqual(asked.call_id, confirmed.call_id, 'the two delete_group calls are two calls');
    assert.equal(confirmed.call_id, deleted.call_id);
    assert.equal(confirmed.arguments?.id, id);
    assert.ok(!text.includes(token), 'the confirmation token must not be written to the audit log');
  });
});

describe('policy: a bad file', () => {
  it('stops the server at start-up, naming the line', { timeout: TEST_TIMEOUT }, async () => {
    const file = policyFile('bad.yaml', '# one deployment\nmode: read-write\ntool:\n  deny: [delete_group]\n');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONVIRZA_') && !k.startsWith('TALKDESK_')));
    const child = spawn(binaryPath(), ['serve', '--sandbox', '--policy', file], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.on('data', (c) => (stdout += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await new Promise((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    child.stdin.destroy();
    assert.equal(signal, null, `the server did not exit by itself (killed by ${signal}); stderr:\n${stderr}`);
    assert.notEqual(code, 0, `the server must exit non-zero; stderr:\n${stderr}`);
    assert.match(stderr, /bad\.yaml line 3/, stderr);
    assert.match(stderr, /unknown key "tool"/, stderr);
    assert.match(stderr, /did you mean tools/, stderr);
    assert.equal(stdout, '', 'nothing may be written to stdout (the MCP channel)');
  });
});
