// The official TypeScript SDK over Streamable HTTP (/mcp) against
// `convirza-mcp serve --sandbox --transport http` started by this file.
import { after, before, describe } from 'node:test';

import { connect, startHttpServer } from '../lib/harness.js';
import { defineCoreTests, defineElicitationTests } from '../lib/suites.js';

describe('streamable http', () => {
  let server;
  let plain;
  let eliciting;
  before(async () => {
    server = await startHttpServer();
    plain = await connect('http', { baseUrl: server.baseUrl });
    eliciting = await connect('http', { baseUrl: server.baseUrl, elicitation: true });
  });
  after(async () => {
    await plain?.close();
    await eliciting?.close();
    await server?.stop();
  });

  describe('without elicitation', () => {
    defineCoreTests('http', () => plain);
  });
  describe('with elicitation', () => {
    defineElicitationTests('http', () => eliciting);
  });
});
