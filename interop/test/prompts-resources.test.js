// Prompts, resources, completions and progress, as the official TypeScript
// SDK sees them, over stdio and Streamable HTTP: the behaviour the
// conformance suite's prompts-list, resources-list and completion-complete
// scenarios check, on this server's own prompts and resources.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TEST_TIMEOUT, connect, startHttpServer } from '../lib/harness.js';

for (const kind of ['stdio', 'http']) {
  describe(`prompts, resources and completions over ${kind}`, () => {
    let server;
    let conn;
    before(async () => {
      if (kind === 'http') server = await startHttpServer({ env: { CONVIRZA_MCP_TOOLSETS: 'all' } });
      conn = await connect(kind, { baseUrl: server?.baseUrl, serverArgs: ['--toolsets', 'all'] });
    });
    after(async () => {
      await conn?.close();
      await server?.stop();
    });

    it('lists the workflow prompts and fills one in', { timeout: TEST_TIMEOUT }, async () => {
      const { prompts } = await conn.client.listPrompts();
      assert.deepEqual(prompts.map((p) => p.name).sort(), ['dialer_opt_out', 'missed_calls_report', 'new_office_setup', 'number_cleanup']);
      for (const p of prompts) assert.ok(p.description, `${p.name} has no description`);
      const res = await conn.client.getPrompt({ name: 'number_cleanup', arguments: { org_unit: 'Denver Office' } });
      assert.equal(res.messages[0].role, 'user');
      assert.match(res.messages[0].content.text, /Denver Office \(org unit 1042\)/);
      await assert.rejects(conn.client.getPrompt({ name: 'number_cleanup', arguments: {} }), /org_unit/);
    });

    it('completes org unit and record list names', { timeout: TEST_TIMEOUT }, async () => {
      const unit = await conn.client.complete({ ref: { type: 'ref/prompt', name: 'number_cleanup' }, argument: { name: 'org_unit', value: 'pho' } });
      assert.deepEqual(unit.completion.values, ['Phoenix Office']);
      const list = await conn.client.complete({ ref: { type: 'ref/prompt', name: 'dialer_opt_out' }, argument: { name: 'record_list', value: 'win' } });
      assert.deepEqual(list.completion.values, ['Win-back Q3']);
      const none = await conn.client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'test' } });
      assert.deepEqual(none.completion.values, []);
    });

    it('serves the org tree and a call transcript linked from get_call', { timeout: TEST_TIMEOUT }, async () => {
      const { resources } = await conn.client.listResources();
      assert.deepEqual(resources.map((r) => r.uri), ['convirza://org-tree']);
      const { resourceTemplates } = await conn.client.listResourceTemplates();
      assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), ['convirza://calls/{id}/recording', 'convirza://calls/{id}/transcript']);
      const tree = await conn.client.readResource({ uri: 'convirza://org-tree' });
      assert.match(tree.contents[0].text, /Summit Marketing Agency/);

      const calls = await conn.client.callTool({ name: 'list_calls', arguments: { include: ['transcription'], limit: 200 } });
      const withText = calls.structuredContent.calls.find((c) => c.transcription);
      assert.ok(withText, 'no call with a transcript');
      const got = await conn.client.callTool({ name: 'get_call', arguments: { id: withText.call_id } });
      const link = got.content.find((c) => c.type === 'resource_link' && c.uri.endsWith('/transcript'));
      assert.ok(link, `get_call has no transcript link: ${JSON.stringify(got.content.map((c) => c.type))}`);
      const text = await conn.client.readResource({ uri: link.uri });
      assert.equal(text.contents[0].text, withText.transcription.text);
    });

    it('reports progress while summarize_calls walks 400 days', { timeout: TEST_TIMEOUT }, async () => {
      const seen = [];
      const start = new Date(Date.now() - 400 * 24 * 3600 * 1000).toISOString();
      const res = await conn.client.callTool({ name: 'summarize_calls', arguments: { start, group_by: ['org_unit'] } }, undefined, {
        onprogress: (p) => seen.push(p.progress),
        resetTimeoutOnProgress: true,
        timeout: 20_000,
      });
      assert.equal(res.isError, undefined);
      assert.ok(res.structuredContent.total.calls >= 300);
      // One per 31-day window (13), sent in increasing order; the last may
      // still be in flight when the result arrives, and over Streamable
      // HTTP mcp-go's notifications can arrive out of order (seen here).
      assert.ok(new Set(seen).size === seen.length && seen.length >= 10 && Math.max(...seen) <= 13, `progress: ${seen}`);
    });
  });
}
