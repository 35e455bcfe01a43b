// The tool catalog is read by the assistant on every turn: keep it small.
// Measures the tools/list payload in o200k tokens and fails above budget.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

import { binaryPath, TEST_TIMEOUT } from '../lib/harness.js';

// The budgets of issue 16: the full catalog ≤ 13,500 tokens and ≤ 200 a tool on
// average, the default toolsets ≤ 6,000.
const BUDGETS = { all: 13_500, default: 6_000 };

async function listTools(toolsets) {
  const client = new Client({ name: 'token-budget', version: '0.0.0' });
  const transport = new StdioClientTransport({
    command: binaryPath(),
    args: ['serve', '--sandbox', '--toolsets', toolsets],
    env: { CONVIRZA_MCP_LOG_LEVEL: 'warn' },
    stderr: 'ignore',
  });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    return tools;
  } finally {
    await client.close();
  }
}

describe('tools/list token budget (o200k)', { timeout: TEST_TIMEOUT }, () => {
  for (const [toolsets, budget] of Object.entries(BUDGETS)) {
    test(`--toolsets ${toolsets} fits in ${budget} tokens`, async () => {
      const tools = await listTools(toolsets);
      const total = countTokens(JSON.stringify(tools));
      const rows = tools
        .map((t) => ({ name: t.name, tokens: countTokens(JSON.stringify(t)) }))
        .sort((a, b) => b.tokens - a.tokens);
      console.log(`${toolsets}: ${tools.length} tools, ${total} tokens (budget ${budget})`);
      for (const r of rows) console.log(`  ${String(r.tokens).padStart(5)}  ${r.name}`);
      assert.ok(tools.length > 0, 'no tools listed');
      assert.ok(total <= budget, `${toolsets}: ${total} tokens > budget ${budget}`);
      assert.ok(total / tools.length <= 200, `${toolsets}: ${(total / tools.length).toFixed(0)} tokens a tool on average > 200`);
    });
  }
});
