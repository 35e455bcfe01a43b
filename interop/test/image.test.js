// The container image, checked without a container builder (none runs on
// these machines): the Dockerfile parsed with dockerfile-ast, then the
// static binary run the way the image runs it: as uid/gid 65532, with only
// the environment the image sets (plus a token and --sandbox), its
// exec-form HEALTHCHECK polled until it exits 0.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { DockerfileParser } from 'dockerfile-ast';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = DockerfileParser.parse(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
const serverJSON = JSON.parse(readFileSync(path.join(root, 'server.json'), 'utf8'));
const UID = 65532;

const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();
const finalStage = instructions.filter((i) => i.getRange().start.line > froms.at(-1).getRange().start.line);
const one = (kw) => {
  const found = finalStage.filter((i) => i.getKeyword() === kw);
  assert.equal(found.length, 1, `the final stage has one ${kw}`);
  return found[0];
};
const execForm = (text) => {
  const v = JSON.parse(text);
  assert.ok(Array.isArray(v) && v.every((s) => typeof s === 'string'), `exec form: ${text}`);
  return v;
};

describe('Dockerfile', () => {
  it('is multi-stage: a Go build stage, then a final stage without a shell', () => {
    assert.ok(froms.length >= 2, 'at least two FROM');
    assert.match(froms[0].getImageName(), /^golang$/);
    assert.match(froms.at(-1).getImageName(), /distroless\/static/);
    assert.deepEqual(finalStage.filter((i) => i.getKeyword() === 'RUN'), [], 'no RUN in the final stage (no shell there)');
    const build = instructions.find((i) => i.getKeyword() === 'RUN' && /go build/.test(i.getArgumentsContent()));
    assert.match(build.getArgumentsContent(), /CGO_ENABLED=0/, 'a static binary');
    assert.match(build.getArgumentsContent(), /internal\/version\.version=/, 'version stamped');
  });

  it('runs as a numeric non-root user, serving HTTP by default, health-checked in exec form', () => {
    assert.equal(one('USER').getArgumentsContent(), `${UID}:${UID}`);
    assert.deepEqual(execForm(one('ENTRYPOINT').getArgumentsContent()), ['/usr/local/bin/convirza-mcp']);
    assert.deepEqual(execForm(one('CMD').getArgumentsContent()), ['serve', '--transport', 'http']);
    const hc = one('HEALTHCHECK');
    assert.equal(hc.getSubcommand().getValue(), 'CMD');
    const cmd = execForm(hc.getArgumentsContent().replace(/^CMD\s+/, ''));
    assert.deepEqual(cmd, ['/usr/local/bin/convirza-mcp', 'healthcheck']);
  });

  it('carries the registry label naming server.json', () => {
    const labels = Object.fromEntries(
      finalStage.filter((i) => i.getKeyword() === 'LABEL').flatMap((l) => l.getProperties().map((p) => [p.getName(), p.getValue()])),
    );
    assert.equal(labels['io.modelcontextprotocol.server.name'], serverJSON.name);
  });

  it('gives the runtime user its state directory', () => {
    const env = imageEnv();
    const copy = finalStage.find(
      (i) => i.getKeyword() === 'COPY' && i.getArgumentsContent().trim().endsWith(env.CONVIRZA_MCP_STATE_DIR),
    );
    assert.ok(copy, 'the state directory is created in the image');
    assert.equal(copy.getFlags().find((f) => f.getName() === 'chown')?.getValue(), `${UID}:${UID}`);
  });
});

/** The final stage's ENV, as the container gets it. */
function imageEnv() {
  const env = {};
  for (const e of finalStage.filter((i) => i.getKeyword() === 'ENV')) {
    for (const p of e.getProperties()) env[p.getName()] = p.getValue();
  }
  return env;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function run(argv, opts) {
  return new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { ...opts, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, err }));
  });
}

describe('the image, run as the image runs it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'convirza-image-'));
  const asRoot = process.getuid?.() === 0;
  let server;
  after(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves as uid 65532 with only the image environment, and its HEALTHCHECK passes', { timeout: 240_000 }, async () => {
    // The binary the build stage makes: static (CGO_ENABLED=0).
    const bin = path.join(dir, 'convirza-mcp');
    execFileSync('go', ['build', '-trimpath', '-o', bin, './cmd/convirza-mcp'], {
      cwd: root, env: { ...process.env, CGO_ENABLED: '0' }, stdio: 'inherit',
    });
    chmodSync(dir, 0o755);
    chmodSync(bin, 0o755);
    // The state directory as the image makes it: owned by the runtime user.
    const state = path.join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    if (asRoot) chownSync(state, UID, UID);

    const port = await freePort();
    const env = imageEnv();
    env.CONVIRZA_MCP_ADDR = env.CONVIRZA_MCP_ADDR.replace(/:8080$/, `:${port}`); // a free port here
    env.CONVIRZA_MCP_STATE_DIR = state; // where the image's directory is, on this machine
    env.CONVIRZA_MCP_AUTH_TOKEN = 'image-test-token'; // required off loopback (0.0.0.0)
    env.HOME = '/home/nonroot'; // what distroless's passwd gives the user
    const cred = asRoot ? { uid: UID, gid: UID } : {}; // not root: as this user (the rest is the same)

    const cmd = execForm(one('CMD').getArgumentsContent());
    const entry = execForm(one('ENTRYPOINT').getArgumentsContent()).map((a) => a.replace('/usr/local/bin/convirza-mcp', bin));
    server = spawn(entry[0], [...entry.slice(1), ...cmd, '--sandbox'], { env, ...cred, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr.on('data', (d) => (log += d));
    const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));

    const hc = execForm(one('HEALTHCHECK').getArgumentsContent().replace(/^CMD\s+/, '')).map((a) =>
      a.replace('/usr/local/bin/convirza-mcp', bin),
    );
    const deadline = Date.now() + 20_000;
    let last;
    for (;;) {
      last = await run(hc, { env, ...cred });
      if (last.code === 0) break;
      assert.ok(Date.now() < deadline, `healthcheck never passed: ${last.err}\nserver log:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // JSON logs, as the image asks (CONVIRZA_MCP_LOG_FORMAT=json).
    const first = log.split('\n').find((l) => l.trim());
    assert.doesNotThrow(() => JSON.parse(first), `a JSON log line: ${first}`);
    if (asRoot) {
      const owner = execFileSync('ps', ['-o', 'uid=', '-p', String(server.pid)]).toString().trim();
      assert.equal(owner, String(UID));
    }
    server.kill('SIGTERM');
    assert.equal(await exited, 0, `clean exit on SIGTERM:\n${log}`);
    server = undefined;
  });
});
