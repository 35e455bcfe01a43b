// A smoke pass over every tool of `--toolsets all`, driven over stdio by the
// official TypeScript SDK against the sandbox. STEPS holds realistic
// arguments for each tool (the sandbox's seeded ids: internal/sandbox), and
// the first test fails when a listed tool has no step or a step names a tool
// that is not listed. Reads run first on seed data; then each toolset creates
// its own resources, changes them (read back to check), and deletes them
// through the confirmation token, so no write breaks a later read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TEST_TIMEOUT, call, connect, textOf, uniqueName } from '../lib/harness.js';

// Seeded ids (internal/sandbox).
const ROOT = 1001;
const WEST = 1003;
const DENVER = 1042; // Denver Office, under West
const PHOENIX = 1043;
const JOHN = 12345; // John Smith, Inside Sales
const DENVER_HOOK = 3; // "Denver dispatch board"
const DENVER_AGENT = 801;
const DENVER_ROUTE = 7001; // "Denver Google Ads", tracking +13035550100
const SCHEDULED_BC = 3006; // "Spring Sale Final Days"
const SENT_BC = 3001; // "Holiday Hours Notice", already sent
const FIRST_CALL = 900001;
const SPRING = '1ec0a7d4-5b1e-4c2a-9f00-000000000001'; // Talkdesk "Spring Campaign", 5 records

// The two W$ tools: not destructive, but they cost money or reach people.
const COSTLY = new Set(['order_phone_number', 'create_broadcast']);
const SOMETIMES = new Set(['update_broadcast', 'replace_broadcast']);

// A 44-byte WAV header (no samples), base64.
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=';

/** Ids created along the way, shared by later steps. */
const s = {};

// Step constructors. args is an object or (a possibly async) function of
// {client, s}; check receives the structuredContent and {client, s}.
const read = (tool, args, check) => ({ tool, kind: 'read', args, check });
const write = (tool, args, check) => ({ tool, kind: 'write', args, check });
/**
 * The first call must answer confirmation_required whose action matches
 * action() and, if given, pass pending (nothing happened yet); then the call
 * is completed with the token and checked.
 */
const confirm = (tool, args, action, check, pending) => ({ tool, kind: 'confirm', args, action, check, pending });
/** A destructive call the server must refuse outright (isError matching refusal), without a token. */
const blocked = (tool, args, refusal, check) => ({ tool, kind: 'confirm', args, refusal, check });

/** A read of one tool inside a check: must succeed; returns structuredContent. */
async function get(client, tool, args) {
  const res = await call(client, tool, args);
  assert.ok(!res.isError, `${tool} ${JSON.stringify(args)} failed: ${textOf(res)}`);
  assert.ok(res.structuredContent, `${tool} returned no structuredContent`);
  return res.structuredContent;
}

const ids = (items, key) => (items ?? []).map((x) => x[key]);
const includes = (items, key, value) => assert.ok(ids(items, key).includes(value), `${key} ${value} not in ${JSON.stringify(ids(items, key))}`);

const STEPS = [
  // ---- reads, on seed data ----
  read('get_profile', {}, (sc) => {
    assert.equal(sc.user?.email, 'admin@summit-demo.example');
    assert.equal(sc.user?.org_unit_id, ROOT);
  }),
  read('get_group_tree', {}, (sc) => {
    assert.equal(sc.groups?.[0]?.org_unit_id, ROOT);
    assert.ok(sc.groups[0].children.length >= 4);
  }),
  read('list_groups', { org_unit_id: WEST }, (sc) => includes(sc.groups, 'org_unit_id', DENVER)),
  read('get_group', { id: DENVER }, (sc) => {
    assert.equal(sc.org_unit_name, 'Denver Office');
    assert.equal(sc.org_unit_parent_id, WEST);
  }),
  read('get_org_unit_hierarchy', { org_unit_id: WEST }, (sc) => assert.deepEqual(sc.org_units, [WEST, DENVER, PHOENIX, 1044])),
  read('list_users', { org_unit_id: PHOENIX }, (sc) => includes(sc.users, 'ct_user_id', 12348)),
  read('get_user', { id: JOHN }, (sc) => assert.equal(sc.email, 'john.smith@summit-demo.example')),
  read('list_webhooks', { org_unit_id: DENVER }, (sc) => includes(sc.webhooks, 'webhook_id', DENVER_HOOK)),
  read('get_webhook', { id: DENVER_HOOK }, (sc) => assert.equal(sc.webhook_name, 'Denver dispatch board')),
  read('list_media_prompts', { type: 'whisper' }, (sc) => includes(sc.media_prompts, 'media_prompt_id', 3002)),
  read('list_voice_agents', { status: 'active' }, (sc) => includes(sc.voice_agents, 'voice_agent_id', DENVER_AGENT)),
  read('get_voice_agent', { id: DENVER_AGENT }, (sc) => assert.equal(sc.org_unit_id, DENVER)),
  read('search_available_numbers', { npa: '303', limit: 20 }, (sc) => {
    const carrier = sc.numbers?.find((n) => n.needs_order === true);
    assert.ok(carrier, `no carrier number to order in ${JSON.stringify(sc)}`);
    s.carrierNumber = carrier.number;
  }),
  read('list_assigned_numbers', { npa: '303' }, (sc) => includes(sc.numbers, 'number', '+13035550100')),
  read('list_provisioned_numbers', {}, (sc) => includes(sc.numbers, 'number', '+13035550100')),
  read('list_provisioned_routes', { org_unit_id: DENVER }, (sc) => includes(sc.provisioned_routes, 'provisioned_route_id', DENVER_ROUTE)),
  read('get_provisioned_route', { id: DENVER_ROUTE }, (sc) => assert.equal(sc.phone_number, '+13035550100')),
  read('list_broadcasts', { status: 'scheduled' }, (sc) => includes(sc.broadcasts, 'broadcast_id', SCHEDULED_BC)),
  read('get_broadcast', { id: SCHEDULED_BC }, (sc) => assert.equal(sc.broadcast_name, 'Spring Sale Final Days')),
  read('list_calls', { limit: 5 }, (sc) => assert.equal(sc.calls?.length, 5)),
  read('summarize_calls', { group_by: ['org_unit'] }, (sc) => assert.ok(sc.total?.calls > 0 && sc.rows?.length > 0)),
  read('get_call', { id: FIRST_CALL, include: ['tags', 'call_flow'] }, (sc) => {
    assert.equal(sc.call_id, FIRST_CALL);
    assert.ok(sc.call_flow?.length > 0);
  }),
  read('list_sms_conversations', { limit: 5 }, (sc) => assert.ok(sc.conversations?.length > 0)),
  read('list_industries', { industry_group: 'Professional Services' }, (sc) => assert.deepEqual(ids(sc.industries, 'industry_id').sort(), [10, 14])),
  read('list_ad_sources', {}, (sc) => includes(sc.ad_sources, 'ad_source_name', 'Google Ads')),
  read('list_tags', { org_unit_id: DENVER }, (sc) => includes(sc.tags, 'tag_id', 221)),
  read('list_record_lists', {}, (sc) => includes(sc.record_lists, 'id', SPRING)),
  read('get_record_list', { id: SPRING }, (sc) => assert.equal(sc.records_count, 5)),
  read('list_records', { record_list_id: SPRING }, (sc) => assert.equal(sc.records?.length, 5)),

  // ---- groups ----
  write('create_group', () => ({ org_unit_name: (s.groupName = uniqueName('smoke group')), org_unit_parent_id: WEST }), (sc) => {
    assert.equal(sc.status, 'created');
    s.group = sc.org_unit_id;
  }),
  write('update_group', () => ({ id: s.group, city: 'Boulder' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_group', { id: s.group })).city, 'Boulder');
  }),
  write(
    'replace_group',
    () => ({
      id: s.group,
      org_unit_name: `${s.groupName} (replaced)`,
      org_unit_ext_id: 'SMOKE-1',
      org_unit_parent_id: WEST,
      address: '1 Pearl St',
      city: 'Boulder',
      state: 'CO',
      zip: '80302',
      phone_number: '+13035550199',
      industry_id: 11,
    }),
    async (_, { client }) => {
      const g = await get(client, 'get_group', { id: s.group });
      assert.equal(g.org_unit_name, `${s.groupName} (replaced)`);
      assert.equal(g.org_unit_ext_id, 'SMOKE-1');
    },
  ),
  blocked('delete_group', { id: ROOT }, /root|billing/i),
  confirm(
    'delete_group',
    () => ({ id: s.group }),
    () => new RegExp(`${s.group}`),
    async (_, { client }) => assert.equal((await get(client, 'get_group', { id: s.group })).org_unit_status, 'deleted'),
    async ({ client }) => assert.equal((await get(client, 'get_group', { id: s.group })).org_unit_status, 'active'),
  ),

  // ---- users ----
  write(
    'create_user',
    () => ({ username: `smoke.${process.pid}.${Date.now()}@summit-demo.example`, first_name: 'Sky', last_name: 'Moke', ct_user_ou_id: DENVER, role: 'Standard' }),
    (sc) => {
      assert.equal(sc.status, 'created');
      s.user = sc.ct_user_id;
      s.username = sc.username;
    },
  ),
  write('update_user', () => ({ id: s.user, last_name: 'Updated' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_user', { id: s.user })).last_name, 'Updated');
  }),
  write(
    'replace_user',
    () => ({
      id: s.user,
      username: s.username,
      first_name: 'Skye',
      last_name: 'Replaced',
      ct_user_ou_id: DENVER,
      role: 'ReadOnly',
      user_ext_id: 'SMOKE-U1',
      user_status: 'active',
      timezone: 'America/Denver',
      agent_ring_to: '+13035550198',
      agent_code: 'SMK',
      score_call: false,
      access_audio: false,
    }),
    async (_, { client }) => {
      const u = await get(client, 'get_user', { id: s.user });
      assert.equal(u.first_name, 'Skye');
      assert.equal(u.last_name, 'Replaced');
    },
  ),
  blocked('delete_user', { id: 1 }, /logged in/i),
  confirm('delete_user', () => ({ id: s.user }), () => new RegExp(`${s.user}`), async (_, { client }) => {
    assert.equal((await get(client, 'get_user', { id: s.user })).status, 'deleted');
    const u = await get(client, 'list_users', { org_unit_id: DENVER, user_status: 'deleted' });
    includes(u.users, 'ct_user_id', s.user);
  }),

  // ---- webhooks ----
  write(
    'create_webhook',
    { webhook_name: 'Smoke dispatch', webhook_url: 'https://hooks.smoke.example/calls', webhook_type: 'post_call', org_unit_id: DENVER },
    (sc) => {
      assert.equal(sc.status, 'created');
      s.hook = sc.webhook_id;
    },
  ),
  write('update_webhook', () => ({ id: s.hook, status: 'inactive' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_webhook', { id: s.hook })).status, 'inactive');
  }),
  write(
    'replace_webhook',
    () => ({
      id: s.hook,
      webhook_name: 'Smoke dispatch v2',
      webhook_url: 'https://hooks.smoke.example/v2/calls',
      webhook_type: 'pre_call',
      org_unit_id: DENVER,
      method: 'GET',
      static_params: [{ name: 'source', value: 'smoke' }],
      status: 'active',
    }),
    async (_, { client }) => {
      const h = await get(client, 'get_webhook', { id: s.hook });
      assert.equal(h.webhook_url, 'https://hooks.smoke.example/v2/calls');
      assert.equal(h.webhook_type, 'pre_call');
    },
  ),
  confirm('delete_webhook', () => ({ id: s.hook }), () => /Smoke dispatch v2/, async (_, { client }) => {
    assert.equal((await get(client, 'get_webhook', { id: s.hook })).status, 'deleted');
    const h = await get(client, 'list_webhooks', { org_unit_id: DENVER });
    assert.ok(!ids(h.webhooks, 'webhook_id').includes(s.hook), 'the deleted webhook is still listed');
  }),

  // ---- media ----
  write('upload_media_prompt', { name: 'Smoke greeting', type: 'prompt', filename: 'smoke.wav', content: WAV, org_unit_id: DENVER }, async (sc, { client }) => {
    assert.equal(sc.status, 'uploaded');
    s.media = sc.media_prompt_id;
    const l = await get(client, 'list_media_prompts', { name: 'Smoke greeting' });
    includes(l.media_prompts, 'media_prompt_id', s.media);
  }),
  confirm('delete_media_prompt', () => ({ id: s.media }), () => /Smoke greeting/, async (_, { client }) => {
    const l = await get(client, 'list_media_prompts', { name: 'Smoke greeting' });
    assert.ok(!ids(l.media_prompts, 'media_prompt_id').includes(s.media), 'the deleted prompt is still listed');
  }),

  // ---- voice agents ----
  write('create_voice_agent', { name: 'Smoke receptionist', org_unit_id: DENVER, greeting: 'Hello from the smoke test.' }, (sc) => {
    assert.equal(sc.status, 'created');
    s.agent = sc.voice_agent_id;
  }),
  write('update_voice_agent', () => ({ id: s.agent, status: 'inactive' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_voice_agent', { id: s.agent })).status, 'inactive');
  }),
  write(
    'replace_voice_agent',
    () => ({
      id: s.agent,
      name: 'Smoke receptionist v2',
      org_unit_id: DENVER,
      status: 'active',
      greeting: 'Thanks for calling.',
      instructions: 'Take a message.',
      voice: 'sage',
      language: 'en-US',
    }),
    async (_, { client }) => {
      const a = await get(client, 'get_voice_agent', { id: s.agent });
      assert.equal(a.name, 'Smoke receptionist v2');
      assert.equal(a.voice, 'sage');
    },
  ),
  confirm('delete_voice_agent', () => ({ id: s.agent }), () => /Smoke receptionist v2/, async (_, { client }) => {
    assert.equal((await get(client, 'get_voice_agent', { id: s.agent })).status, 'deleted');
  }),

  // ---- numbers and routes: buy a number, route it, drop the route, give the number back ----
  confirm(
    'order_phone_number',
    () => ({ number: s.carrierNumber, org_unit_id: DENVER }),
    () => new RegExp(s.carrierNumber.slice(-4)),
    async (_, { client }) => includes((await get(client, 'list_assigned_numbers', { npa: s.carrierNumber.slice(2, 5) })).numbers, 'number', s.carrierNumber),
    async ({ client }) => {
      const l = await get(client, 'list_assigned_numbers', { npa: s.carrierNumber.slice(2, 5) });
      assert.ok(!ids(l.numbers, 'number').includes(s.carrierNumber), 'the number was bought before the confirmation');
    },
  ),
  write(
    'create_provisioned_route',
    () => ({ provisioned_route_name: 'Smoke Ads', phone_number: s.carrierNumber, ring_to: '+13035559000', org_unit_id: DENVER }),
    (sc) => {
      assert.equal(sc.status, 'created');
      s.route = sc.provisioned_route_id;
    },
  ),
  write('update_provisioned_route', () => ({ id: s.route, provisioned_route_status: 'inactive' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_provisioned_route', { id: s.route })).provisioned_route_status, 'inactive');
  }),
  write(
    'replace_provisioned_route',
    () => ({ id: s.route, provisioned_route_name: 'Smoke Ads v2', phone_number: s.carrierNumber, ring_to: '+13035559001', provisioned_route_status: 'active' }),
    async (_, { client }) => {
      const r = await get(client, 'get_provisioned_route', { id: s.route });
      assert.equal(r.provisioned_route_name, 'Smoke Ads v2');
      assert.equal(r.ring_to, '+13035559001');
    },
  ),
  confirm('delete_provisioned_route', () => ({ id: s.route }), () => /Smoke Ads v2/, async (_, { client }) => {
    assert.equal((await get(client, 'get_provisioned_route', { id: s.route })).provisioned_route_status, 'deleted');
  }),
  confirm(
    'release_phone_number',
    () => ({ number: s.carrierNumber }),
    () => new RegExp(s.carrierNumber.slice(-4)),
    async (_, { client }) => {
      const l = await get(client, 'list_assigned_numbers', { npa: s.carrierNumber.slice(2, 5) });
      assert.ok(!ids(l.numbers, 'number').includes(s.carrierNumber), 'the released number is still assigned');
    },
    async ({ client }) => includes((await get(client, 'list_assigned_numbers', { npa: s.carrierNumber.slice(2, 5) })).numbers, 'number', s.carrierNumber),
  ),

  // ---- broadcasts: schedule one, change it, cancel it ----
  confirm(
    'create_broadcast',
    {
      broadcast_name: 'Smoke reminder',
      message: 'Smoke test: your appointment is tomorrow. Reply STOP to opt out.',
      recipients: ['+13035550101', '+13035550102'],
      from_number: '+13035550144',
      scheduled_at: '2030-01-15T15:00:00Z',
      org_unit_id: DENVER,
    },
    () => /2 recipients/,
    (sc) => {
      s.broadcast = sc.broadcast_id;
      assert.ok(Number.isInteger(s.broadcast), JSON.stringify(sc));
    },
    async ({ client }) => {
      const l = await get(client, 'list_broadcasts', { broadcast_name: 'Smoke reminder' });
      assert.equal(l.broadcasts?.length ?? 0, 0, 'the broadcast was created before the confirmation');
    },
  ),
  // A new send time costs like a send: confirmed first.
  confirm('update_broadcast', () => ({ id: s.broadcast, broadcast_name: 'Smoke reminder (moved)', scheduled_at: '2030-01-16T15:00:00Z' }), () => /send time 2030-01-16/, async (_, { client }) => {
    assert.equal((await get(client, 'get_broadcast', { id: s.broadcast })).broadcast_name, 'Smoke reminder (moved)');
  }),
  // A new name alone reaches nobody: no confirmation.
  write('update_broadcast', () => ({ id: s.broadcast, agent_name: 'Sam Standard' }), async (_, { client }) => {
    assert.equal((await get(client, 'get_broadcast', { id: s.broadcast })).agent_name, 'Sam Standard');
  }),
  confirm(
    'replace_broadcast',
    () => ({
      id: s.broadcast,
      broadcast_name: 'Smoke reminder v2',
      message: 'Smoke test v2. Reply STOP to opt out.',
      recipients: ['+13035550103'],
      from_number: '+13035550144',
      scheduled_at: '2030-01-17T15:00:00Z',
      agent_name: 'Sam Standard',
    }),
    () => /recipients 2 → 1/,
    async (_, { client }) => {
      const b = await get(client, 'get_broadcast', { id: s.broadcast });
      assert.equal(b.broadcast_name, 'Smoke reminder v2');
      assert.deepEqual(b.recipients, ['+13035550103']);
    },
  ),
  blocked('delete_broadcast', { id: SENT_BC }, /already sent/i, async (_, { client }) => {
    assert.equal((await get(client, 'get_broadcast', { id: SENT_BC })).status, 'sent');
  }),
  confirm('delete_broadcast', () => ({ id: s.broadcast }), () => /Smoke reminder v2/, async (_, { client }) => {
    assert.equal((await get(client, 'get_broadcast', { id: s.broadcast })).status, 'cancelled');
  }),

  // ---- account: tags ----
  write('create_tag', { tag_name: 'Smoke Lead', org_unit_id: DENVER }, (sc) => {
    assert.equal(sc.status, 'created');
    s.tag = sc.tag_id;
  }),
  write('update_tag', () => ({ tag_id: s.tag, tag_name: 'Smoke Lead (old)', status: 'inactive' }), async (_, { client }) => {
    const l = await get(client, 'list_tags', { org_unit_id: DENVER, status: 'inactive' });
    const t = l.tags?.find((x) => x.tag_id === s.tag);
    assert.equal(t?.tag_name, 'Smoke Lead (old)');
  }),
  blocked('delete_tags', { org_unit_id: ROOT, tag_ids: [1] }, /system/i),
  confirm(
    'delete_tags',
    () => ({ org_unit_id: DENVER, tag_ids: [s.tag] }),
    () => /Smoke Lead \(old\)/,
    async (_, { client }) => {
      for (const status of ['active', 'inactive']) {
        const l = await get(client, 'list_tags', { org_unit_id: DENVER, status });
        assert.ok(!ids(l.tags, 'tag_id').includes(s.tag), `the deleted tag is still listed as ${status}`);
      }
    },
    async ({ client }) => includes((await get(client, 'list_tags', { org_unit_id: DENVER, status: 'inactive' })).tags, 'tag_id', s.tag),
  ),

  // ---- Talkdesk record lists ----
  write('create_record_list', { name: 'Smoke dialer list' }, (sc) => {
    assert.equal(sc.status, 'created');
    s.list = sc.record_list?.id;
    assert.ok(s.list, JSON.stringify(sc));
  }),
  write(
    'create_records',
    () => ({
      record_list_id: s.list,
      records: [
        { first_name: 'Ada', last_name: 'Lane', phone_numbers: [{ phone_number: '+13035550301', phone_type: 'MOBILE' }] },
        { first_name: 'Bo', last_name: 'Reyes', phone_numbers: [{ phone_number: '+13035550302' }], priority: 3 },
      ],
    }),
    async (sc, { client }) => {
      assert.equal(sc.total_created, 2);
      const l = await get(client, 'list_records', { record_list_id: s.list });
      assert.equal(l.records?.length, 2);
      s.records = Object.fromEntries(l.records.map((r) => [r.first_name, r.id]));
    },
  ),
  write('update_records', () => ({ record_list_id: s.list, records: [{ id: s.records.Ada, first_name: 'Adah' }] }), async (sc, { client }) => {
    assert.equal(sc.total_updated, 1);
    const l = await get(client, 'list_records', { record_list_id: s.list });
    assert.deepEqual(l.records.map((r) => r.first_name).sort(), ['Adah', 'Bo']);
  }),
  confirm(
    'delete_records',
    () => ({ record_list_id: s.list, ids: [s.records.Bo] }),
    () => /1 of 1/,
    async (sc, { client }) => {
      assert.equal(sc.total_deleted, 1);
      assert.equal((await get(client, 'get_record_list', { id: s.list })).records_count, 1);
    },
    async ({ client }) => assert.equal((await get(client, 'get_record_list', { id: s.list })).records_count, 2),
  ),
  confirm('delete_record_list', () => ({ id: s.list }), () => /Smoke dialer list/, async (_, { client }) => {
    const res = await call(client, 'get_record_list', { id: s.list });
    assert.equal(res.isError, true, `the deleted list is still there: ${JSON.stringify(res.structuredContent)}`);
  }),
];

describe('smoke: every tool of --toolsets all over stdio', () => {
  let conn;
  let listed;
  before(async () => {
    conn = await connect('stdio', { serverArgs: ['--toolsets', 'all'] });
    const { tools } = await conn.client.listTools();
    listed = new Map(tools.map((t) => [t.name, t]));
  });
  after(async () => {
    await conn?.close();
  });

  it('has a step for exactly the listed tools, of the kind their annotations say', { timeout: TEST_TIMEOUT }, () => {
    const stepped = [...new Set(STEPS.map((st) => st.tool))].sort();
    assert.deepEqual(stepped, [...listed.keys()].sort(), 'STEPS must cover exactly the tools listed by --toolsets all');
    for (const st of STEPS) {
      const t = listed.get(st.tool);
      const confirmable = t.annotations.destructiveHint === true || COSTLY.has(st.tool);
      // Some calls of these need confirmation (a broadcast edit that changes who receives it or what it says).
      const sometimes = SOMETIMES.has(st.tool);
      const kind = t.annotations.readOnlyHint ? 'read' : confirmable ? 'confirm' : 'write';
      assert.ok(st.kind === kind || (sometimes && st.kind === 'confirm'), `${st.tool} is a ${kind} tool, its step is a ${st.kind}`);
      assert.equal(
        t.inputSchema.properties?.confirmation_token?.type === 'string',
        confirmable || sometimes,
        `${st.tool}: confirmation_token must be accepted exactly by confirmable tools`,
      );
    }
  });

  STEPS.forEach((st, i) => {
    const label = st.refusal ? 'refused' : st.kind;
    it(`${String(i + 1).padStart(2, '0')} ${st.tool} (${label})`, { timeout: TEST_TIMEOUT }, async () => {
      const { client } = conn;
      const ctx = { client, s };
      const args = typeof st.args === 'function' ? await st.args(ctx) : st.args;
      const res = await call(client, st.tool, args);
      const what = `${st.tool} ${JSON.stringify(args)}`;

      if (st.refusal) {
        assert.equal(res.isError, true, `${what} must be refused: ${JSON.stringify(res)}`);
        assert.match(textOf(res), st.refusal);
        assert.ok(!textOf(res).includes('confirmation_token"'), 'no token may be issued for a blocked call');
        if (st.check) await st.check(res.structuredContent, ctx);
        return;
      }
      assert.ok(!res.isError, `${what} failed: ${textOf(res)}`);
      const sc = res.structuredContent;
      assert.ok(sc && typeof sc === 'object' && Object.keys(sc).length > 0, `${what}: empty structuredContent`);

      if (st.kind !== 'confirm') {
        assert.notEqual(sc.status, 'confirmation_required', `${what}: a ${st.kind} tool must not ask for confirmation`);
        if (st.check) await st.check(sc, ctx);
        return;
      }

      assert.equal(sc.status, 'confirmation_required', `${what}: the first call must ask: ${textOf(res)}`);
      assert.equal(typeof sc.confirmation_token, 'string');
      assert.ok(sc.confirmation_token.length > 0);
      assert.ok(Date.parse(sc.expires_at) > Date.now(), `expires_at ${sc.expires_at}`);
      assert.match(sc.action, st.action(), `${what}: the action must name what will happen`);
      if (st.pending) await st.pending(ctx);

      const done = await call(client, st.tool, { ...args, confirmation_token: sc.confirmation_token });
      assert.ok(!done.isError, `confirmed ${what} failed: ${textOf(done)}`);
      const dsc = done.structuredContent;
      assert.ok(dsc && Object.keys(dsc).length > 0, `confirmed ${what}: empty structuredContent`);
      assert.ok(!['confirmation_required', 'declined'].includes(dsc.status), `confirmed ${what} did not run: ${textOf(done)}`);
      if (st.check) await st.check(dsc, ctx);
    });
  });
});
