// The operator's stories of issue 16, as an assistant would follow them from
// the tool descriptions alone, in few calls, with each answer's size
// printed (o200k tokens). Over stdio, --toolsets all, mode token (the
// harness's default for flow suites: the token stands for the person's yes,
// which has its own suites).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import { TEST_TIMEOUT, call, connect, textOf } from '../lib/harness.js';

/** Calls a tool, asserts it answered, prints the answer's size. */
async function step(client, story, tool, args) {
  const res = await call(client, tool, args);
  assert.ok(!res.isError, `${story}: ${tool} ${JSON.stringify(args)} failed: ${textOf(res)}`);
  console.log(`${story}: ${tool}: ${countTokens(textOf(res))} tokens`);
  return res.structuredContent;
}

/** A confirmable call: the first answer asks, the token confirms. */
async function confirmed(client, story, tool, args, action) {
  const first = await step(client, story, tool, args);
  assert.equal(first.status, 'confirmation_required', JSON.stringify(first));
  if (action) assert.match(first.action, action);
  return step(client, story, tool, { ...args, confirmation_token: first.confirmation_token });
}

describe('operator stories', () => {
  let conn;
  before(async () => {
    conn = await connect('stdio', { serverArgs: ['--toolsets', 'all'] });
  });
  after(async () => {
    await conn?.close();
  });

  it('remove opted-out numbers from the dialer list, in any spelling', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const story = 'dialer opt-out';
    const lists = await step(client, story, 'list_record_lists', {});
    const list = lists.record_lists.find((l) => l.records_count >= 3);
    assert.ok(list, JSON.stringify(lists));
    const records = (await step(client, story, 'list_records', { record_list_id: list.id, per_page: 3 })).records;
    const phones = records.map((r) => r.phone_numbers[0].phone_number); // E.164
    // As people write them: (303) 555-0101, 303.555.0102, 1 303 555 0103.
    const spelt = [
      phones[0].replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3'),
      phones[1].replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '$1.$2.$3'),
      phones[2].replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '1 $1 $2 $3'),
    ];
    const names = records.map((r) => `${r.first_name ?? ''} ${r.last_name ?? ''}`.trim()).filter(Boolean);
    const done = await confirmed(client, story, 'delete_records', { record_list_id: list.id, phone_numbers: spelt },
      new RegExp(names[0] ? names[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : 'Delete'));
    assert.equal(done.total_deleted, 3, JSON.stringify(done));
    const left = await step(client, story, 'list_records', { record_list_id: list.id, per_page: 100 });
    const still = left.records.flatMap((r) => r.phone_numbers.map((p) => p.phone_number));
    for (const p of phones) assert.ok(!still.includes(p), `${p} is still in the list`);
  });

  it('release the numbers of the closed Denver office with one confirmation', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const story = 'office clean-up';
    const found = await step(client, story, 'list_groups', { group_name: 'Denver' });
    const denver = found.groups.find((g) => g.org_unit_name === 'Denver Office');
    assert.ok(denver && denver.path && denver.org_unit_status, JSON.stringify(found));
    const nums = (await step(client, story, 'list_assigned_numbers', { org_unit_id: denver.org_unit_id })).numbers;
    assert.ok(nums.length >= 2, JSON.stringify(nums));
    for (const n of nums) assert.match(n.number, /^\+1\d{10}$/, 'numbers are answered in E.164');
    const numbers = nums.map((n) => n.number);
    const done = await confirmed(client, story, 'release_phone_number', { numbers }, new RegExp(`Release ${numbers.length} numbers`));
    assert.equal(done.status, 'done', JSON.stringify(done));
    const after = (await step(client, story, 'list_assigned_numbers', { org_unit_id: denver.org_unit_id })).numbers ?? [];
    assert.equal(after.length, 0, JSON.stringify(after));
  });

  it('which office missed the most calls last month: one call, a small table', { timeout: TEST_TIMEOUT }, async () => {
    const { client } = conn;
    const story = 'missed calls';
    const end = new Date();
    const start = new Date(end.getTime() - 30 * 24 * 3600 * 1000);
    const args = { start: start.toISOString(), end: end.toISOString(), group_by: ['org_unit'], disposition: ['NO ANSWER'] };
    const table = await step(client, story, 'summarize_calls', args);
    const rows = table.rows ?? table.table ?? [];
    assert.ok(rows.length > 0, JSON.stringify(table));
    const res = await call(client, 'summarize_calls', args);
    assert.ok(countTokens(textOf(res)) < 1000, 'a month by office fits in a few hundred tokens');
  });
});
