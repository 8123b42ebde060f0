/**
 * @module test/readme/snippets
 * The README's "Try the hub" snippets, run as printed against a real server: `npm start`, the
 * curl publish with the generated API key, and the SDK example with a minted token. They run in a
 * temporary folder laid out like the repository (symlinks), so `./data` is a fresh one; only the
 * port differs (a free loopback port instead of 8080, set with AIRWAVES_PORT). The text of every
 * snippet is taken from README.md at test time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../..');

/** `<!-- snippet: name -->` followed by a fenced block → name → block text. */
function readmeSnippets(markdown: string): Map<string, string> {
  const snippets = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- snippet: ([\w.-]+) -->\n```\w*\n([\s\S]*?)```/g)) snippets.set(m[1]!, m[2]!);
  return snippets;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
  const { port } = probe.address() as { port: number };
  await new Promise((ok) => probe.close(ok));
  return port;
}

let port = 0;
let server: ChildProcess | undefined;
let serverLog = '';
const scratch = mkdtempSync(join(tmpdir(), 'airwaves-readme-'));
const snippets = readmeSnippets(readFileSync(join(repo, 'README.md'), 'utf8'));
const onPort = (text: string) => text.replaceAll('localhost:8080', `127.0.0.1:${port}`);

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  port = await freePort();
  const script = snippets.get('server');
  assert.ok(script, 'README has a "server" snippet');
  // A folder laid out like the repository root: `npm start`, ./data and "hello.ts next to package.json".
  for (const entry of ['package.json', 'tsconfig.json', 'node_modules', 'src', 'scripts', 'dist']) symlinkSync(join(repo, entry), join(scratch, entry));
  server = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: scratch,
    detached: true, // its own process group: npm, sh and node stop together
    env: { ...process.env, AIRWAVES_PORT: String(port), AIRWAVES_HOST: '127.0.0.1', AIRWAVES_LOG_LEVEL: 'warn' },
  });
  server.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  const deadline = Date.now() + 240_000; // the first start may build
  for (;;) {
    // Every app, not just the hub: a first start initialises the embedded database, whose work
    // runs on the event loop and can hold a WebSocket handshake past the SDK's 10 s timeout on a
    // loaded machine (the snippets are checked here, not start-up latency: bench/footprint is).
    const ready = await fetch(`http://127.0.0.1:${port}/readyz?apps=all`).then((r) => r.ok, () => false);
    if (ready) break;
    if (server.exitCode !== null || Date.now() > deadline) assert.fail(`server did not become ready:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  if (server?.pid && server.exitCode === null) {
    const exited = new Promise((ok) => server!.once('exit', ok));
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

test('the curl publish answers with the offset of the message in chat:lobby', () => {
  const r = sh(onPort(snippets.get('publish')!), scratch);
  assert.equal(r.status, 0, r.stderr);
  const ack = JSON.parse(r.stdout) as { offset: number };
  assert.ok(Number.isInteger(ack.offset) && ack.offset >= 1, r.stdout);
});

test('hello.ts, run with a minted token, receives its own publication and exits', () => {
  writeFileSync(join(scratch, 'hello.ts'), onPort(snippets.get('hello.ts')!));
  const r = sh(snippets.get('run-hello')!, scratch);
  assert.equal(r.status, 0, `${r.stderr}\n${serverLog}`);
  assert.match(r.stdout.trim(), /^\d+ \{ text: 'hello' \}$/);
});
