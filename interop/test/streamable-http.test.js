// The official TypeScript SDK over Streamable HTTP (/mcp) against
// `convirza-mcp serve --sandbox --transport http` started by this file
// with a bearer token (CONVIRZA_MCP_AUTH_TOKEN) that every request carries.
import { after, before, describe } from 'node:test';

import { connect, newToken, startHttpServer, trustedElicitationPolicy } from '../lib/harness.js';
import { defineCoreTests, defineElicitationTests } from '../lib/suites.js';

describe('streamable http', () => {
  let server;
  let trusting;
  let plain;
  let eliciting;
  before(async () => {
    const token = newToken();
    server = await startHttpServer({ token });
    // An HTTP client's elicitation is a person's answer only where the
    // policy trusts it (anything with the bearer token could answer).
    trusting = await startHttpServer({ token, env: { CONVIRZA_MCP_POLICY: trustedElicitationPolicy() } });
    plain = await connect('http', { baseUrl: server.baseUrl, token });
    eliciting = await connect('http', { baseUrl: trusting.baseUrl, token, elicitation: true });
  });
  after(async () => {
    await plain?.close();
    await eliciting?.close();
    await server?.stop();
    await trusting?.stop();
  });

  describe('without elicitation', () => {
    defineCoreTests('http', () => plain);
  });
  describe('with elicitation', () => {
    defineElicitationTests('http', () => eliciting);
  });
});
