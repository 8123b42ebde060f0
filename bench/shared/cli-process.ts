/**
 * @module bench/shared/cli-process
 * A server process started as a user starts it, watched from outside: the built CLI
 * (`node dist/src/cli.js serve`, or any command with the port in its environment) on a free
 * loopback port, `/readyz` polled until the hub serves, `/readyz?apps=all` (or its `starting`
 * list) until every app does, CPU and RSS read from /proc. The footprint, start and pages
 * benchmarks share it, so each measures the same thing the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUILT_CLI, HOST, freePort, sampleProc } from '../hub/servers.js';
import { serverNodeFlags } from './node-flags.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What every benchmark passes a spawned CLI: loopback only, quiet logs, no fixed RTMP port. */
export const CLI_BASE_ENV: NodeJS.ProcessEnv = { AIRWAVES_HOST: HOST, AIRWAVES_LOG_LEVEL: 'warn', AIRWAVES_LIVE_RTMP_PORT: '0' };

export interface CliProcessOptions {
  /** The process's environment beyond the parent's, given its port (default: CLI_BASE_ENV and AIRWAVES_PORT). */
  env?: (port: number) => NodeJS.ProcessEnv;
  /** The CLI to run `serve` of with this Node (default: the built one, dist/src/cli.js). */
  cli?: string;
  /** Another command altogether (a peer server), instead of the CLI. */
  command?: string[];
  /** Where its stderr goes: kept (the last 4 kB, shown in errors) or inherited. */
  stderr?: 'keep' | 'inherit';
}

export class CliProcess {
  readonly child: ChildProcess;
  /** performance.now() at spawn: every "ms from spawn" figure counts from here. */
  readonly startedAt = performance.now();
  private stderrTail = '';

  private constructor(
    readonly port: number,
    command: string[],
    env: NodeJS.ProcessEnv,
    stderr: 'keep' | 'inherit',
  ) {
    this.child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', stderr === 'keep' ? 'pipe' : 'inherit'] });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-4000)));
  }

  /** Spawns on a free port. The built CLI must exist (`npm run build`) unless `command` is given. */
  static async start(options: CliProcessOptions = {}): Promise<CliProcess> {
    const cli = options.cli ?? BUILT_CLI;
    if (!options.command && !existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
    const port = await freePort();
    const env = options.env?.(port) ?? { ...CLI_BASE_ENV, AIRWAVES_PORT: String(port) };
    const nodeFlags = serverNodeFlags();
    return new CliProcess(port, options.command ?? [process.execPath, ...nodeFlags, cli, 'serve'], env, options.stderr ?? 'keep');
  }

  get base(): string {
    return `http://${HOST}:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Ms since spawn. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** CPU (user + system, every thread) the process has used, in seconds. */
  cpuSeconds(): number {
    return sampleProc(this.pid).cpuSeconds;
  }

  rssMb(): number {
    return sampleProc(this.pid).rssBytes / 1024 / 1024;
  }

  /** Throws when the process has exited (with what it last wrote to stderr, when kept). */
  assertAlive(what: string): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`server exited with ${this.child.exitCode ?? this.child.signalCode} ${what}\n${this.stderrTail}`);
  }

  /**
   * Polls `path` until it answers 200 (or, `anyAnswer`, any HTTP status: the bare ws peer answers
   * plain HTTP with 426); resolves with the ms from spawn.
   */
  async waitFor(path: string, timeoutMs: number, { pollMs = 5, anyAnswer = false } = {}): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      this.assertAlive(`before ${path} answered`);
      const status = await fetch(this.base + path).then((r) => r.status, () => 0);
      if (status === 200 || (anyAnswer && status !== 0)) return this.elapsedMs();
      await sleep(pollMs);
    }
    throw new Error(`${this.base}${path} not ready within ${timeoutMs} ms\n${this.stderrTail}`);
  }

  /** `/readyz` 200: the hub serves. Ms from spawn. */
  waitReady(timeoutMs: number, pollMs = 5): Promise<number> {
    return this.waitFor('/readyz', timeoutMs, { pollMs });
  }

  /** `/readyz?apps=all` 200: every enabled app serves too. Ms from spawn. */
  waitAllApps(timeoutMs: number, pollMs = 5): Promise<number> {
    return this.waitFor('/readyz?apps=all', timeoutMs, { pollMs });
  }

  /**
   * Polls `/readyz` (its body names the apps still `starting`) until none is left; returns when
   * each app left the list, ms from spawn: apps start together and each serves once it is in.
   */
  async watchAppsServe(timeoutMs: number): Promise<Record<string, number>> {
    const deadline = Date.now() + timeoutMs;
    const seen = new Set<string>();
    const served: Record<string, number> = {};
    while (Date.now() < deadline) {
      this.assertAlive('before every app served');
      // A refused or reset connection on a starved machine is retried.
      const body = (await fetch(`${this.base}/readyz`).then((res) => res.json(), () => null).catch(() => null)) as { starting?: string[] } | null;
      if (body) {
        const starting = new Set(body.starting ?? []);
        for (const app of starting) seen.add(app);
        for (const app of seen) if (!starting.has(app) && served[app] === undefined) served[app] = Math.round(this.elapsedMs());
        if (starting.size === 0) return served;
      }
      await sleep(5);
    }
    throw new Error(`${this.base}/readyz: apps still starting after ${timeoutMs} ms\n${this.stderrTail}`);
  }

  /** A gauge of the server's /metrics (first sample), or null when it did not answer. */
  async metric(name: string): Promise<number | null> {
    const text = await fetch(`${this.base}/metrics`).then((r) => r.text(), () => '');
    const m = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  }

  /** SIGTERM, then waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
