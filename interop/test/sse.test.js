// The official TypeScript SDK over the legacy SSE transport (/sse +
// /message) against `convirza-mcp serve --sandbox --transport http` started
// by this file, with a bearer token (CONVIRZA_MCP_AUTH_TOKEN) that every
// request carries, the stream included. Legacy SSE sessions cannot carry
// elicitation, so even a client that declares it must get the
// confirmation-token path.
import { after, before, describe } from 'node:test';

import { connect, newToken, startHttpServer } from '../lib/harness.js';
import { defineCoreTests, defineTokenFallbackTests } from '../lib/suites.js';

describe('legacy sse', () => {
  let server;
  let plain;
  let eliciting;
  before(async () => {
    const token = newToken();
    server = await startHttpServer({ token });
    plain = await connect('sse', { baseUrl: server.baseUrl, token });
    eliciting = await connect('sse', { baseUrl: server.baseUrl, token, elicitation: true });
  });
  after(async () => {
    await plain?.close();
    await eliciting?.close();
    await server?.stop();
  });

  describe('without elicitation', () => {
    defineCoreTests('sse', () => plain);
  });
  describe('client declaring elicitation', () => {
    defineTokenFallbackTests('sse', () => eliciting);
  });
});
