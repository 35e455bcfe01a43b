// Talkdesk record lists end to end (issue 4), over stdio and over Streamable
// HTTP: create a list, add 5 records, bulk-delete 2 of them by phone number
// through the confirmation token, and see 3 left; then a bulk of 101, mixed
// identifier kinds and an unknown list are each refused with a clear
// isError and change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TEST_TIMEOUT, call, connect, newToken, startHttpServer, textOf, uniqueName } from '../lib/harness.js';

const UNKNOWN_LIST = '1ec0a7d4-5b1e-4c2a-9f00-00000000dead';

const PEOPLE = [
  ['Ava', 'Lopez', '+13035550401'],
  ['Ben', 'Okoro', '+13035550402'],
  ['Cara', 'Smith', '+13035550403'],
  ['Dev', 'Rao', '+13035550404'],
  ['Eli', 'Young', '+13035550405'],
];
const DELETED = ['+13035550402', '+13035550404'];
const LEFT = ['+13035550401', '+13035550403', '+13035550405'];

/** The list's records' phone numbers, sorted, through list_records. */
async function phonesOf(client, listId) {
  const res = await call(client, 'list_records', { record_list_id: listId, per_page: 100 });
  assert.ok(!res.isError, `list_records failed: ${textOf(res)}`);
  const records = res.structuredContent?.records ?? [];
  assert.equal(res.structuredContent.total, records.length, 'all records fit one page');
  return records.flatMap((r) => r.phone_numbers.map((p) => p.phone_number)).sort();
}

/** Asserts a call was refused with an isError matching pattern, and the list still holds LEFT. */
async function assertRefused(client, listId, tool, args, pattern) {
  const res = await call(client, tool, args);
  assert.equal(res.isError, true, `${tool} must be refused: ${JSON.stringify(res)}`);
  assert.match(textOf(res), pattern);
  assert.ok(!textOf(res).includes('confirmation_token"'), 'a refused call must not hand out a token');
  assert.deepEqual(await phonesOf(client, listId), LEFT, `${tool} changed the list`);
  const got = await call(client, 'get_record_list', { id: listId });
  assert.equal(got.structuredContent?.records_count, 3);
}

function defineScenario(label, getConn) {
  const st = {};

  it(`${label}: creates a record list and adds 5 records`, { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    st.name = uniqueName('interop dialer');
    const created = await call(client, 'create_record_list', { name: st.name });
    assert.ok(!created.isError, textOf(created));
    assert.equal(created.structuredContent?.status, 'created');
    st.id = created.structuredContent.record_list?.id;
    assert.match(st.id ?? '', /^[A-Za-z0-9_-]+$/);

    const records = PEOPLE.map(([first_name, last_name, phone_number]) => ({ first_name, last_name, phone_numbers: [{ phone_number, phone_type: 'MOBILE' }] }));
    const added = await call(client, 'create_records', { record_list_id: st.id, records });
    assert.ok(!added.isError, textOf(added));
    assert.equal(added.structuredContent?.status, 'created');
    assert.equal(added.structuredContent.total_created, 5);
    assert.deepEqual(await phonesOf(client, st.id), PEOPLE.map((p) => p[2]).sort());
  });

  it(`${label}: bulk-deletes 2 records by phone number through the confirmation token`, { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    const args = { record_list_id: st.id, phone_numbers: DELETED };
    const first = await call(client, 'delete_records', args);
    assert.ok(!first.isError, `the first call must ask, not fail: ${textOf(first)}`);
    const sc = first.structuredContent;
    assert.equal(sc?.status, 'confirmation_required');
    assert.ok(sc.action.includes(st.name), `the action must name the list: ${sc.action}`);
    assert.match(sc.action, /\b2 of 2\b/);
    assert.match(sc.action, /phone number/);
    assert.equal(sc.preview?.records_to_delete, 2);
    assert.equal(typeof sc.confirmation_token, 'string');
    assert.equal((await phonesOf(client, st.id)).length, 5, 'the first call must delete nothing');

    const done = await call(client, 'delete_records', { ...args, confirmation_token: sc.confirmation_token });
    assert.ok(!done.isError, textOf(done));
    assert.equal(done.structuredContent?.status, 'deleted');
    assert.equal(done.structuredContent.total_deleted, 2);
    assert.equal(done.structuredContent.record_list_id, st.id);
    assert.deepEqual(await phonesOf(client, st.id), LEFT);

    const replay = await call(client, 'delete_records', { ...args, confirmation_token: sc.confirmation_token });
    assert.equal(replay.isError, true, 'a used token must be refused');
    assert.deepEqual(await phonesOf(client, st.id), LEFT);
  });

  it(`${label}: refuses 101 records, changing nothing`, { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    const phones = Array.from({ length: 101 }, (_, i) => `+1720555${String(2000 + i)}`);
    await assertRefused(client, st.id, 'delete_records', { record_list_id: st.id, phone_numbers: [...phones.slice(0, 100), LEFT[0]] }, /phone_numbers.*100.*101.*nothing was sent upstream/i);
    const records = phones.map((p, i) => ({ first_name: `Bulk${i}`, last_name: 'Test', phone_numbers: [{ phone_number: p }] }));
    await assertRefused(client, st.id, 'create_records', { record_list_id: st.id, records }, /records.*100.*101.*nothing was sent upstream/i);
  });

  it(`${label}: refuses mixed identifier kinds, changing nothing`, { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    const list = await call(client, 'list_records', { record_list_id: st.id });
    const someId = list.structuredContent.records[0].id;
    await assertRefused(client, st.id, 'delete_records', { record_list_id: st.id, ids: [someId], phone_numbers: [LEFT[1]] }, /exactly one of ids, phone_numbers or external_ids.*nothing was sent upstream/i);
  });

  it(`${label}: refuses an unknown list, changing nothing`, { timeout: TEST_TIMEOUT }, async () => {
    const { client } = getConn();
    await assertRefused(client, st.id, 'delete_records', { record_list_id: UNKNOWN_LIST, phone_numbers: LEFT }, new RegExp(`${UNKNOWN_LIST} does not exist.*nothing was done`, 'i'));
  });
}

describe('record lists over stdio', () => {
  let conn;
  before(async () => {
    conn = await connect('stdio', { serverArgs: ['--toolsets', 'all'] });
  });
  after(async () => {
    await conn?.close();
  });
  defineScenario('stdio', () => conn);
});

describe('record lists over Streamable HTTP', () => {
  let server;
  let conn;
  before(async () => {
    const token = newToken();
    server = await startHttpServer({ token, env: { CONVIRZA_MCP_TOOLSETS: 'all' } });
    conn = await connect('http', { baseUrl: server.baseUrl, token });
  });
  after(async () => {
    await conn?.close();
    await server?.stop();
  });
  defineScenario('http', () => conn);
});
