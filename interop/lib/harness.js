// Harness for the interop tests: find the built binary, start it (stdio or
// HTTP), connect official-SDK clients over each transport, and stop
// everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const interopDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Per-test bound (ms); a hung call fails its test instead of the run. */
export const TEST_TIMEOUT = 30_000;
/** Bound on one MCP request (ms). */
const REQUEST_TIMEOUT = 15_000;
/** Bound on an HTTP server becoming healthy (ms). */
const STARTUP_DEADLINE = 15_000;

/**
 * The server binary: $CONVIRZA_MCP_BIN, else ../bin/convirza-mcp relative to
 * interop/. Throws with instructions when it is missing.
 */
export function binaryPath() {
  const bin = path.resolve(interopDir, process.env.CONVIRZA_MCP_BIN || '../bin/convirza-mcp');
  let ok = false;
  try {
    const st = statSync(bin);
    ok = st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `convirza-mcp binary not found or not executable at ${bin}. ` +
        'Build it first (go build -o bin/convirza-mcp ./cmd/convirza-mcp from the repository root, or run scripts/test), ' +
        'or point CONVIRZA_MCP_BIN at it.',
    );
  }
  return bin;
}

/**
 * The environment for a spawned server: this process's, without any
 * CONVIRZA_* or TALKDESK_* setting that could change its behaviour (an auth
 * token, a confirmation mode, credentials), plus extra.
 */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('CONVIRZA_') || k.startsWith('TALKDESK_')) continue;
    env[k] = v;
  }
  env.CONVIRZA_MCP_LOG_LEVEL = 'warn';
  // Each server its own state store.
  env.CONVIRZA_MCP_STATE_DIR = mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-state-'));
  // These suites drive tools and transports through the confirmation token
  // (mode token, the protocol of scripted agents); the default mode, where
  // only a person approves, has its own suite (approvals.test.js). A
  // policy file in a test sets its own mode.
  if (!('CONVIRZA_MCP_POLICY' in extra)) env.CONVIRZA_MCP_CONFIRMATION_MODE = 'token';
  return { ...env, ...extra };
}

/**
 * A policy file that trusts HTTP clients' elicitation (a client that shows
 * its person the question), for the suites that test elicitation over HTTP.
 */
export function trustedElicitationPolicy() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-policy-'));
  const file = path.join(dir, 'trusted.yaml');
  writeFileSync(file, 'toolsets: [default]\nconfirmation:\n  mode: auto\n  client_elicitation: trusted\n');
  return file;
}

/** A fresh bearer token for one server. */
export function newToken() {
  return `interop-${randomBytes(16).toString('hex')}`;
}

/** Keeps the last bytes a process wrote to stderr, for failure messages. */
function tail(limit = 8192) {
  let buf = '';
  return {
    push(chunk) {
      buf = (buf + chunk.toString()).slice(-limit);
    },
    toString() {
      return buf;
    },
  };
}

/** A TCP port free on 127.0.0.1 right now. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `BIN serve --sandbox --transport http` on a free loopback port and
 * waits (bounded) until /healthz answers. With token, the server requires it
 * (CONVIRZA_MCP_AUTH_TOKEN, a comma list for several); env adds variables.
 * Returns {baseUrl, stop(), stderr(), exited}; stop() sends SIGTERM (SIGKILL
 * after 5 s) and resolves to the exit {code, signal}.
 */
export async function startHttpServer({ token, env = {} } = {}) {
  const extra = { ...env };
  if (token) extra.CONVIRZA_MCP_AUTH_TOKEN = token;
  const bin = binaryPath();
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const stderr = tail();
    const child = spawn(bin, ['serve', '--sandbox', '--transport', 'http', '--addr', `127.0.0.1:${port}`], {
      env: cleanEnv(extra),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (c) => stderr.push(c));
    // Safety net: never outlive this test process, even if after() never runs.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let exitInfo = null;
    exited.then((info) => {
      exitInfo = info;
    });
    child.once('error', (err) => {
      exitInfo = { code: null, signal: null, error: err };
    });

    const baseUrl = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (exitInfo || child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const info = await exited;
      clearTimeout(killer);
      return info;
    };

    const deadline = Date.now() + STARTUP_DEADLINE;
    while (Date.now() < deadline && !exitInfo) {
      try {
        const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) {
          const body = await res.json();
          if (body.status === 'ok') return { baseUrl, stop, exited, stderr: () => stderr.toString() };
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await stop();
    lastErr = new Error(
      exitInfo
        ? `server exited before becoming healthy (${JSON.stringify(exitInfo)}); stderr:\n${stderr}`
        : `server did not answer ${baseUrl}/healthz within ${STARTUP_DEADLINE} ms; stderr:\n${stderr}`,
    );
    // A port taken between freePort() and the bind: try another one.
    if (!/address already in use/i.test(stderr.toString())) break;
  }
  throw lastErr;
}

/**
 * Connects an SDK client. kind: 'stdio' (spawns its own server), 'http'
 * (Streamable HTTP at baseUrl/mcp) or 'sse' (legacy SSE at baseUrl/sse).
 * With token, HTTP requests (the SSE stream included) carry
 * `Authorization: Bearer <token>`.
 * With elicitation: true the client declares the elicitation capability and
 * answers elicitation/create with the function last given to setAnswer
 * (default: decline). Returns {client, close(), setAnswer(fn), elicitations,
 * stderr()}; elicitations collects the params of every question received.
 */
export async function connect(kind, { baseUrl, token, elicitation = false, name = 'convirza-mcp-interop', serverArgs = [] } = {}) {
  const capabilities = elicitation ? { elicitation: {} } : {};
  const client = new Client({ name, version: '0.0.0' }, { capabilities });
  const elicitations = [];
  let answer = () => ({ action: 'decline' });
  if (elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      elicitations.push(req.params);
      return answer(req.params);
    });
  }
  let transport;
  const stderr = tail();
  const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
  switch (kind) {
    case 'stdio':
      transport = new StdioClientTransport({
        command: binaryPath(),
        args: ['serve', '--sandbox', ...serverArgs],
        env: {
          CONVIRZA_MCP_LOG_LEVEL: 'warn',
          CONVIRZA_MCP_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'convirza-mcp-state-')),
          // A stdio client is trusted to show its person a question; one
          // that declares elicitation is asked (mode auto); the others use
          // the token (see cleanEnv). A policy file sets its own mode.
          ...(serverArgs.includes('--policy') ? {} : { CONVIRZA_MCP_CONFIRMATION_MODE: elicitation ? 'auto' : 'token' }),
        },
        stderr: 'pipe',
      });
      transport.stderr.on('data', (c) => stderr.push(c));
      break;
    case 'http':
      transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit });
      break;
    case 'sse':
      transport = new SSEClientTransport(new URL('/sse', baseUrl), { requestInit });
      break;
    default:
      throw new Error(`unknown transport ${kind}`);
  }
  await client.connect(transport, { timeout: REQUEST_TIMEOUT });
  let closed = false;
  return {
    client,
    elicitations,
    setAnswer(fn) {
      answer = fn;
    },
    stderr: () => stderr.toString(),
    async close() {
      if (closed) return;
      closed = true;
      if (kind === 'http' && transport.sessionId) {
        await transport.terminateSession().catch(() => {});
      }
      await client.close();
    },
  };
}

/** Calls a tool with a bounded wait. */
export async function call(client, name, args) {
  return client.callTool({ name, arguments: args }, undefined, { timeout: REQUEST_TIMEOUT });
}

/** The text of a result's text content, joined. */
export function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
}

/** A group name no other run or test will use. */
export function uniqueName(prefix) {
  return `${prefix} ${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Wraps a connection to a server in compact mode (--tool-mode compact) so
 * that tests written for the full catalog run unchanged: every callTool
 * goes through the dispatcher search_tools names for the tool
 * (call_read_tool or call_write_tool), with the tool's name and arguments.
 */
export function viaCallTool(conn) {
  const real = conn.client;
  const dispatchers = new Map();
  const dispatcherOf = async (name) => {
    if (!dispatchers.has(name)) {
      const res = await real.callTool({ name: 'search_tools', arguments: { query: name, limit: 1 } });
      const hit = res.structuredContent?.tools?.find((t) => t.name === name);
      dispatchers.set(name, hit?.run_with ?? 'call_write_tool');
    }
    return dispatchers.get(name);
  };
  const client = {
    callTool: async (req, schema, opts) =>
      real.callTool({ name: await dispatcherOf(req.name), arguments: { name: req.name, arguments: req.arguments } }, schema, opts),
    listTools: (...a) => real.listTools(...a),
  };
  return { ...conn, client, real };
}
