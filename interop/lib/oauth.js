// Helpers for the tests of per-person sign-in (CONVIRZA_MCP_AUTH=oauth)
// through the official TypeScript SDK's OAuth client.
import { randomBytes } from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The sandbox demo users' password (internal/sandbox DemoPassword). */
export const PASSWORD = 'sandbox-demo';

/**
 * An OAuthClientProvider that keeps everything in memory, for a public
 * client whose one redirect URI is redirect. The SDK's auth() hands it the
 * authorization URL (authorizationUrl) instead of opening a browser;
 * lastState is the state it last made up.
 */
export class MemoryProvider {
  constructor(redirect) {
    this.redirect = redirect;
    this.authorizationUrl = undefined;
    this.lastState = undefined;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: 'interop oauth client',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.lastState = randomBytes(12).toString('hex');
    return this.lastState;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/**
 * Connects an SDK client to baseUrl/mcp over Streamable HTTP with the
 * provider's tokens. Returns {client, close()}.
 */
export async function connectWith(baseUrl, provider) {
  const client = new Client({ name: 'interop-oauth', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { authProvider: provider });
  await client.connect(transport, { timeout: 15_000 });
  return {
    client,
    async close() {
      if (transport.sessionId) await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

/** tools/list with the provider's tokens, on a connection of its own. */
export async function listTools(baseUrl, provider) {
  const { client, close } = await connectWith(baseUrl, provider);
  try {
    return await client.listTools(undefined, { timeout: 15_000 });
  } finally {
    await close();
  }
}
