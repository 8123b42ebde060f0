/**
 * @module test/deploy/dockerfile
 * The container image without a container engine: the Dockerfile's build stage is replayed in a
 * temporary context holding exactly what it copies (plus node_modules), `npm run build` runs
 * there, and the runtime stage's copies, start command, health check, environment and runtime
 * dependencies are checked against the result. The start command is then run as the image would
 * run it, answers /healthz and stops cleanly on SIGTERM.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { CONFIG_FIELDS } from '../../src/config.js';
import { freePort } from '../helpers/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Instruction {
  stage: string;
  keyword: string;
  args: string;
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped, each with its stage. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = '';
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(trimmed)!;
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? args;
    out.push({ stage, keyword: keyword.toUpperCase(), args: args.trim() });
  }
  return out;
}

interface Copy {
  stage: string;
  from?: string;
  sources: string[];
  dest: string;
}

function parseCopy(ins: Instruction): Copy {
  const words = ins.args.startsWith('[') ? (JSON.parse(ins.args) as string[]) : ins.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { stage: ins.stage, from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const copies = dockerfile.filter((i) => i.keyword === 'COPY').map(parseCopy);
const runtime = dockerfile.filter((i) => i.stage === 'runtime');
const jsonArgs = (keyword: string) => JSON.parse(runtime.find((i) => i.keyword === keyword)!.args) as string[];
const WORKDIR = '/app';

/** Where a source copied from the build stage is, in the replayed build context. */
const inContext = (context: string, source: string) => join(context, relative(WORKDIR, source));

describe('Dockerfile', () => {
  let context: string;

  before(() => {
    // Replay the build stage: exactly the files it copies from the repository, then its build.
    context = mkdtempSync(join(tmpdir(), 'airwaves-image-'));
    for (const c of copies.filter((c) => c.stage === 'build' && !c.from)) {
      // `COPY a b ./` puts each source in the directory; `COPY src ./src` names the target.
      for (const source of c.sources) cpSync(join(root, source), join(context, c.dest.endsWith('/') ? join(c.dest, basename(source)) : c.dest), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(context, 'node_modules'), 'dir');
    const build = spawnSync('npm', ['run', 'build'], { cwd: context, encoding: 'utf8', timeout: 300_000 });
    assert.equal(build.status, 0, `npm run build in the replayed build context failed:\n${build.stdout}\n${build.stderr}`);
  });
  after(() => rmSync(context, { recursive: true, force: true }));

  test('has a build stage and a node:20-bookworm-slim runtime stage running as a non-root user', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    assert.deepEqual(froms, ['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS runtime']);
    const user = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    assert.deepEqual(user, ['node']);
    const installs = runtime.filter((i) => i.keyword === 'RUN' && /npm ci/.test(i.args)).map((i) => i.args);
    assert.equal(installs.length, 1);
    assert.match(installs[0], /npm ci --omit=dev/);
  });

  test('every path the build stage copies exists in the repository and is not excluded by .dockerignore', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const sources = copies.filter((c) => !c.from).flatMap((c) => c.sources);
    assert.ok(sources.includes('src') && sources.includes('package-lock.json'));
    for (const source of sources) {
      assert.ok(existsSync(join(root, source)), `${source} exists in the repository`);
      assert.ok(!ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is not excluded by .dockerignore`);
    }
  });

  test('every path the runtime stage copies from the build stage exists after npm run build', () => {
    const fromBuild = copies.filter((c) => c.from === 'build');
    assert.deepEqual(fromBuild.flatMap((c) => c.sources).sort(), ['/app/dist/all', '/app/dist/hub', '/app/dist/src', '/app/dist/web']);
    for (const source of fromBuild.flatMap((c) => c.sources)) {
      const path = inContext(context, source);
      assert.ok(existsSync(path) && readdirSync(path).length > 0, `${source} was produced by the build`);
    }
    assert.ok(existsSync(inContext(context, '/app/dist/src/cli.js')), 'the CLI entry point is built');
    assert.ok(existsSync(inContext(context, '/app/dist/web/hub/index.html')), 'the web UIs are built');
    assert.ok(existsSync(inContext(context, '/app/dist/hub/server.cjs')), 'the hub-alone bundle is built (the CLI loads it when AIRWAVES_APPS is empty)');
    assert.ok(existsSync(inContext(context, '/app/dist/hub/server.cjs.cache')), 'with its V8 code cache (made by the build: the image runs as a user who cannot write it)');
    assert.ok(existsSync(inContext(context, '/app/dist/all/server.js')) && existsSync(inContext(context, '/app/dist/all/config.js')), 'the all-apps bundle is built (the CLI loads it when an app is enabled)');
  });

  test('the start command is the README\'s (npm start = the package start script, without the rebuild)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.match(readme, /npm install && npm start/, 'the README starts the server with npm start');
    // npm start adds demo mode for a first look (docs/security.md); the container runs without it.
    assert.match(pkg.scripts.start, /^AIRWAVES_DEMO=\$\{AIRWAVES_DEMO:-true\} /);
    assert.equal(jsonArgs('CMD').join(' '), pkg.scripts.start.replace(/^AIRWAVES_DEMO=\S+ /, ''));
    assert.deepEqual(jsonArgs('ENTRYPOINT'), ['/usr/bin/tini', '--'], 'tini is PID 1 and forwards SIGTERM');
    assert.ok(runtime.some((i) => i.keyword === 'RUN' && /apt-get install[^&]*\btini\b/.test(i.args)), 'tini is installed in the runtime stage');
  });

  test('environment names exist in the configuration table; the data directory is the volume; both ports are exposed', () => {
    const known = new Set<string>(Object.values(CONFIG_FIELDS).map(([variable]) => variable));
    const envLine = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    const env = Object.fromEntries([...envLine.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    for (const name of Object.keys(env)) if (name !== 'NODE_ENV') assert.ok(known.has(name), `${name} is a configuration variable`);
    assert.deepEqual(JSON.parse(runtime.find((i) => i.keyword === 'VOLUME')!.args), [env.AIRWAVES_DATA_DIR]);
    const rtmpDefault = CONFIG_FIELDS.liveRtmpPort[1].parse(undefined);
    assert.deepEqual(runtime.find((i) => i.keyword === 'EXPOSE')!.args.split(/\s+/), [env.AIRWAVES_PORT, String(rtmpDefault)], 'HTTP and the live app\'s RTMP listener');
    assert.match(runtime.find((i) => i.keyword === 'HEALTHCHECK')!.args, /\/healthz/);
  });

  test('every package the built server imports is a production dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const distSrc = inContext(context, '/app/dist/src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.js')) files.push(p);
      }
    };
    walk(distSrc);
    const specifiers = new Map<string, string>();
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      // TypeScript's pre-processor finds static imports, re-exports, import() and require().
      for (const { fileName: spec } of ts.preProcessFile(code, true, true).importedFiles) {
        if (spec.startsWith('.')) {
          // Relative imports must stay inside dist/src: the image copies nothing else.
          const target = resolve(dirname(file), spec);
          assert.ok(target.startsWith(distSrc), `${relative(context, file)} imports ${spec}, outside dist/src`);
          assert.ok(existsSync(target), `${relative(context, file)} imports ${spec}, which exists`);
        } else if (!builtins.has(spec)) specifiers.set(spec, relative(context, file));
      }
    }
    assert.ok(specifiers.size >= 10, `found the server's package imports (${[...specifiers.keys()].join(', ')})`);
    const require = createRequire(join(distSrc, 'cli.js'));
    for (const [spec, file] of specifiers) {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      assert.ok(name in pkg.dependencies, `${file} imports ${spec}: ${name} must be in dependencies (npm ci --omit=dev leaves devDependencies out)`);
      assert.doesNotThrow(() => require.resolve(spec), `${spec} resolves`);
    }
  });

  test('the start command serves /healthz, the health check passes, and SIGTERM stops it with exit 0', async () => {
    const port = await freePort();
    const [cmd, ...args] = jsonArgs('CMD');
    assert.equal(cmd, 'node');
    const env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      AIRWAVES_HOST: '127.0.0.1',
      AIRWAVES_PORT: String(port),
      AIRWAVES_DATA_DIR: join(context, 'data'),
      AIRWAVES_RADIO_ENABLED: 'false',
      // The image's 1935 may be taken by another test on this machine; the port is the image's business.
      AIRWAVES_LIVE_RTMP_PORT: '0',
      AIRWAVES_LOG_LEVEL: 'info',
    };
    const proc = spawn(process.execPath, args, { cwd: context, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      // Generous: a first start opens the embedded database and runs every app's migrations, which
      // takes minutes on a 2-core machine under a load average of 30.
      const deadline = Date.now() + 240_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline && proc.exitCode === null) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, `the built server answers /healthz:\n${output.slice(-4000)}`);
      const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, '');
      const [hcCmd, ...hcArgs] = JSON.parse(healthcheck) as string[];
      assert.equal(hcCmd, 'node');
      const probe = spawnSync(process.execPath, hcArgs, { env, encoding: 'utf8', timeout: 10_000 });
      assert.equal(probe.status, 0, `HEALTHCHECK passes: ${probe.stderr}`);
    } finally {
      proc.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `SIGTERM ends the server with exit 0:\n${output.slice(-4000)}`);
  });
});
