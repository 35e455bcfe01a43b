// Test bodies shared by every transport. Each define* function declares
// node:test tests inside the caller's describe(); getConn returns the
// connection set up by the caller's before() hook.
import assert from 'node:assert/strict';
import { it } from 'node:test';

import { TEST_TIMEOUT, call, textOf, uniqueName } from './harness.js';

const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'];
const WEST = 1003;

/** Creates a group under West and returns its id. */
async function createGroup(client, label) {
  const name = uniqueName(`interop ${label}`);
  const res = await call(client, 'create_group', { org_unit_name: name, org_unit_parent_id: WEST });
  assert.ok(!res.isError, `create_group failed: ${textOf(res)}`);
  const id = res.structuredContent?.org_unit_id;
  assert.ok(Number.isInteger(id) && id > 0, `create_group returned no org_unit_id: ${JSON.stringify(res)}`);
  assert.equal(res.structuredContent.status, 'created');
  return { id, name };
}

/** get_group's org_unit_status for id. */
async function statusOf(client, id) {
  const res = await call(client, 'get_group', { id });
  assert.ok(!res.isError, `get_group ${id} failed: ${textOf(res)}`);
  assert.equal(res.structuredContent?.org_unit_id, id);
  return res.structuredContent.org_unit_status;
}

/** Walks a get_group_tree result and returns the node named name, with its parent. */
function findNode(nodes, name, parent = null) {
  for (const n of nodes ?? []) {
    if (n.name === name) return { node: n, parent };
    const found = findNode(n.children, name, n);
    if (found) return found;
  }
  return null;
}

/** Asserts res is a confirmation_required answer and returns its token. */
function assertConfirmationRequired(res, { id, name }) {
  assert.ok(!res.isError, `first delete_group call must not be an error: ${textOf(res)}`);
  const sc = res.structuredContent;
  assert.ok(sc, `confirmation answer has no structuredContent: ${JSON.stringify(res)}`);
  assert.equal(sc.status, 'confirmation_required');
  assert.equal(typeof sc.action, 'string');
  assert.ok(sc.action.includes(String(id)) && sc.action.includes(name), `action does not name the group: ${sc.action}`);
  assert.equal(typeof sc.preview, 'object');
  assert.equal(sc.preview.org_unit_id, id);
  assert.equal(typeof sc.confirmation_token, 'string');
  assert.ok(sc.confirmation_token.length > 0);
  assert.ok(!Number.isNaN(Date.parse(sc.expires_at)), `expires_at is not a date: ${sc.expires_at}`);
  assert.ok(Date.parse(sc.expires_at) > Date.now(), 'expires_at is in the past');
  assert.match(textOf(res), /confirmation_token/);
  return sc.confirmation_token;
}

/** Deletes a group through the token path and checks every step. */
async function deleteWithToken(client, group) {
  const first = await call(client, 'delete_group', { id: group.id });
  const token = assertConfirmationRequired(first, group);
  assert.equal(await statusOf(client, group.id), 'active', 'the first call must not delete anything');

  const second = await call(client, 'delete_group', { id: group.id, confirmation_token: token });
  assert.ok(!second.isError, `confirmed delete_group failed: ${textOf(second)}`);
  assert.equal(second.structuredContent?.status, 'deleted');
  assert.equal(second.structuredContent?.org_unit_id, group.id);

  const replay = await call(client, 'delete_group', { id: group.id, confirmation_token: token });
  assert.equal(replay.isError, true, `a replayed token must be refused: ${JSON.stringify(replay)}`);
  assert.ok(textOf(replay).length > 0, 'the refusal must say why');

  assert.equal(await statusOf(client, group.id), 'deleted');
}

/** Tests every transport passes: discovery, reads, writes, the token path, bad input. */
export function defineCoreTests(label, getConn, { listing = true } = {}) {
  // Compact mode lists two tools; compact.test.js checks that listing.
  if (listing) {
    it('lists the tools with all four hints and a title', { timeout: TEST_TIMEOUT }, async () => {
      const { tools } = await getConn().client.listTools();
      assert.ok(tools.length > 0, 'no tools listed');
      for (const t of tools) {
        assert.equal(typeof t.annotations, 'object', `${t.name} has no annotations`);
        for (const h of HINTS) {
          assert.equal(typeof t.annotations[h], 'boolean', `${t.name}: ${h} must be set explicitly as a boolean`);
        }
        const title = t.title ?? t.annotations.title;
        assert.ok(typeof title === 'string' && title.length > 0, `${t.name} has no title`);
        assert.equal(t.inputSchema?.type, 'object', `${t.name}: input schema must be an object schema`);
        assert.match(t.name, /^[a-z][a-z0-9_]{0,39}$/);
      }
      const del = tools.find((t) => t.name === 'delete_group');
      assert.ok(del, 'delete_group is not listed');
      assert.equal(del.annotations.destructiveHint, true);
      assert.equal(del.annotations.readOnlyHint, false);
      assert.equal(del.inputSchema.properties?.confirmation_token?.type, 'string', 'delete_group must accept confirmation_token');
      assert.ok(!(del.inputSchema.required ?? []).includes('confirmation_token'), 'confirmation_token must be optional');
      const get = tools.find((t) => t.name === 'get_group');
      assert.ok(get, 'get_group is not listed');
      assert.equal(get.annotations.readOnlyHint, true);
      assert.equal(get.annotations.destructiveHint, false);
    });
  }

  it('get_group_tree shows Denver Office under West', { timeout: TEST_TIMEOUT }, async () => {
    const res = await call(getConn().client, 'get_group_tree', {});
    assert.ok(!res.isError, textOf(res));
    const found = findNode(res.structuredContent?.groups, 'Denver Office');
    assert.ok(found, `Denver Office not in the tree: ${textOf(res).slice(0, 500)}`);
    assert.equal(found.node.org_unit_id, 1042);
    assert.equal(found.parent?.org_unit_id, WEST);
    assert.equal(found.parent?.name, 'West');
    // The text content carries the same JSON as the structured content.
    assert.deepEqual(JSON.parse(textOf(res)), res.structuredContent);
  });

  it('creates a group and deletes it through the confirmation token', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    const group = await createGroup(client, label);
    await deleteWithToken(client, group);
  });

  it('refuses a token bound to other arguments', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    const a = await createGroup(client, `${label} a`);
    const b = await createGroup(client, `${label} b`);
    const first = await call(client, 'delete_group', { id: a.id });
    const token = assertConfirmationRequired(first, a);
    const wrong = await call(client, 'delete_group', { id: b.id, confirmation_token: token });
    assert.equal(wrong.isError, true, `a token for group ${a.id} must not delete group ${b.id}`);
    assert.equal(await statusOf(client, a.id), 'active');
    assert.equal(await statusOf(client, b.id), 'active');
    const forged = await call(client, 'delete_group', { id: a.id, confirmation_token: 'not-a-token' });
    assert.equal(forged.isError, true, 'a forged token must be refused');
    assert.equal(await statusOf(client, a.id), 'active');
  });

  it('refuses to delete the root unit or a group with users, without a token', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    for (const id of [1001, 1043]) {
      const res = await call(client, 'delete_group', { id });
      assert.equal(res.isError, true, `delete_group ${id} must be refused: ${JSON.stringify(res)}`);
      assert.ok(!textOf(res).includes('confirmation_token"'), 'no token may be issued for a blocked delete');
      assert.match(textOf(res), id === 1001 ? /root|billing/i : /user/i);
      assert.equal(await statusOf(client, id), 'active');
    }
  });

  it('answers bad input with an isError result naming the problem', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    for (const tool of ['get_group', 'delete_group']) {
      const notInt = await call(client, tool, { id: 'abc' });
      assert.equal(notInt.isError, true, `${tool} {"id":"abc"} must be an error`);
      assert.match(textOf(notInt), /\bid\b/, `${tool}: the error must name the argument: ${textOf(notInt)}`);
      assert.match(textOf(notInt), /integer/i, `${tool}: the error must say what was expected: ${textOf(notInt)}`);

      const unknown = await call(client, tool, { id: 1042, bogus_field: 1 });
      assert.equal(unknown.isError, true, `${tool} with an unknown argument must be an error`);
      assert.match(textOf(unknown), /bogus_field/, `${tool}: the error must name the unknown argument: ${textOf(unknown)}`);
    }
    assert.equal(await statusOf(client, 1042), 'active');
  });
}

/**
 * Tests for a client that declared elicitation on a transport that can
 * carry it. getConn().setAnswer(fn) sets how the next question is answered.
 */
export function defineElicitationTests(label, getConn) {
  const ask = async (answer) => {
    const conn = getConn();
    const group = await createGroup(conn.client, `${label} elicit`);
    conn.setAnswer(answer);
    const before = conn.elicitations.length;
    const res = await call(conn.client, 'delete_group', { id: group.id });
    const asked = conn.elicitations.slice(before);
    assert.equal(asked.length, 1, `expected exactly one elicitation, got ${asked.length}: ${JSON.stringify(res)}`);
    const q = asked[0];
    assert.ok(q.message.includes(String(group.id)) && q.message.includes(group.name), `the question must name the group: ${q.message}`);
    assert.equal(q.requestedSchema?.type, 'object');
    assert.equal(q.requestedSchema?.properties?.confirm?.type, 'boolean');
    assert.ok(!JSON.stringify(res.structuredContent ?? {}).includes('confirmation_token'), 'an elicited call must not hand out a token');
    return { group, res };
  };

  it('elicitation: decline executes nothing and says so', { timeout: TEST_TIMEOUT }, async () => {
    const { group, res } = await ask(() => ({ action: 'decline' }));
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent?.status, 'declined');
    assert.match(textOf(res), /declined/i);
    assert.equal(await statusOf(getConn().client, group.id), 'active');
  });

  it('elicitation: accept with confirm=true deletes', { timeout: TEST_TIMEOUT }, async () => {
    const { group, res } = await ask(() => ({ action: 'accept', content: { confirm: true } }));
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent?.status, 'deleted');
    assert.equal(res.structuredContent?.org_unit_id, group.id);
    assert.equal(await statusOf(getConn().client, group.id), 'deleted');
  });

  it('elicitation: cancel executes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const { group, res } = await ask(() => ({ action: 'cancel' }));
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent?.status, 'declined');
    assert.match(textOf(res), /cancel/i);
    assert.equal(await statusOf(getConn().client, group.id), 'active');
  });

  it('elicitation: accept with confirm=false executes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const { group, res } = await ask(() => ({ action: 'accept', content: { confirm: false } }));
    assert.ok(!res.isError, textOf(res));
    assert.equal(res.structuredContent?.status, 'declined');
    assert.equal(await statusOf(getConn().client, group.id), 'active');
  });
}

/**
 * For a client that declared elicitation on a transport that cannot carry
 * it (legacy SSE): the server must fall back to the token path.
 */
export function defineTokenFallbackTests(label, getConn) {
  it('falls back to the confirmation token although the client declared elicitation', { timeout: TEST_TIMEOUT }, async () => {
    const conn = getConn();
    conn.setAnswer(() => ({ action: 'accept', content: { confirm: true } }));
    const group = await createGroup(conn.client, `${label} fallback`);
    await deleteWithToken(conn.client, group);
    assert.equal(conn.elicitations.length, 0, 'the server must not send elicitation/create over legacy SSE');
  });
}
