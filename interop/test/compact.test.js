// Compact mode (--tool-mode compact): search_tools, call_read_tool and call_write_tool.
// The same flows as the full catalog, run through the dispatchers, confirmation
// included, over stdio and Streamable HTTP; and its catalog fits 1,500 tokens.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import { TEST_TIMEOUT, call, connect, startHttpServer, textOf, trustedElicitationPolicy, viaCallTool } from '../lib/harness.js';
import { defineCoreTests, defineElicitationTests } from '../lib/suites.js';

const COMPACT = ['--tool-mode', 'compact', '--toolsets', 'all'];

describe('compact mode over stdio', () => {
  let conn;
  before(async () => {
    conn = viaCallTool(await connect('stdio', { serverArgs: COMPACT }));
  });
  after(async () => {
    await conn?.close();
  });

  it('lists exactly search_tools and the two dispatchers, within 1,500 tokens', { timeout: TEST_TIMEOUT }, async () => {
    const { tools } = await conn.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['call_read_tool', 'call_write_tool', 'search_tools']);
    const tokens = countTokens(JSON.stringify(tools));
    console.log(`compact: 3 tools, ${tokens} tokens (budget 1500)`);
    assert.ok(tokens <= 1500, `compact catalog is ${tokens} tokens`);
    // Each dispatcher's hints are true of every tool it runs.
    const read = tools.find((t) => t.name === 'call_read_tool');
    assert.equal(read.annotations.readOnlyHint, true);
    assert.equal(read.annotations.destructiveHint, false);
    const write = tools.find((t) => t.name === 'call_write_tool');
    assert.equal(write.annotations.readOnlyHint, false);
    assert.equal(write.annotations.destructiveHint, true);
  });

  it('a dispatcher runs only its own kind of tool', { timeout: TEST_TIMEOUT }, async () => {
    const res = await call(conn.real, 'call_read_tool', { name: 'delete_group', arguments: { id: 1042 } });
    assert.equal(res.isError, true);
    assert.match(textOf(res), /call_write_tool/);
  });

  it('search_tools finds delete_group with its schema', { timeout: TEST_TIMEOUT }, async () => {
    const res = await call(conn.real, 'search_tools', { query: 'delete a group' });
    assert.ok(!res.isError, textOf(res));
    const hit = res.structuredContent.tools.find((t) => t.name === 'delete_group');
    assert.ok(hit, JSON.stringify(res.structuredContent));
    assert.equal(hit.class, 'D');
    assert.equal(hit.input_schema.properties.confirmation_token.type, 'string');
  });

  defineCoreTests('compact stdio', () => conn, { listing: false });
});

describe('compact mode over stdio with elicitation', () => {
  let conn;
  before(async () => {
    conn = viaCallTool(await connect('stdio', { elicitation: true, serverArgs: COMPACT }));
  });
  after(async () => {
    await conn?.close();
  });
  defineElicitationTests('compact stdio', () => conn);
});

describe('compact mode over Streamable HTTP', () => {
  let server;
  let trusting;
  let conn;
  let asking;
  before(async () => {
    server = await startHttpServer({ env: { CONVIRZA_MCP_TOOL_MODE: 'compact' } });
    trusting = await startHttpServer({ env: { CONVIRZA_MCP_TOOL_MODE: 'compact', CONVIRZA_MCP_POLICY: trustedElicitationPolicy() } });
    conn = viaCallTool(await connect('http', { baseUrl: server.baseUrl }));
    asking = viaCallTool(await connect('http', { baseUrl: trusting.baseUrl, elicitation: true }));
  });
  after(async () => {
    await conn?.close();
    await asking?.close();
    await server?.stop();
    await trusting?.stop();
  });
  defineCoreTests('compact http', () => conn, { listing: false });
  defineElicitationTests('compact http', () => asking);
});
