// The official TypeScript SDK over stdio: each client spawns
// `convirza-mcp serve --sandbox` (its own process, its own sandbox).
import { after, before, describe } from 'node:test';

import { connect } from '../lib/harness.js';
import { defineCoreTests, defineElicitationTests } from '../lib/suites.js';

describe('stdio', () => {
  let conn;
  before(async () => {
    conn = await connect('stdio');
  });
  after(async () => {
    await conn?.close();
  });
  defineCoreTests('stdio', () => conn);
});

describe('stdio with elicitation', () => {
  let conn;
  before(async () => {
    conn = await connect('stdio', { elicitation: true });
  });
  after(async () => {
    await conn?.close();
  });
  defineElicitationTests('stdio', () => conn);
});
