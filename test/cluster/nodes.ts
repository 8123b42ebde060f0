/**
 * @module test/cluster/nodes
 * Airwaves nodes as real processes (`node --import tsx src/cli.ts serve`) on chosen loopback
 * ports, for the cluster tests and the cluster benchmark: start, wait for /readyz, SIGKILL,
 * restart with the same node id, stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { freePort } from '../helpers/redis.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const API_KEY = 'cluster-test-api-key-0123456789abcdef';
/** Every node of a cluster shares the token secret (a token from one node is good on all). */
export const JWT_SECRET = 'cluster-test-jwt-secret-0123456789abcdef';
export const CHAT_NAMESPACES = JSON.stringify([{ name: 'chat', publish: 'anonymous', historySize: 10_000, historyTtlSeconds: 600 }]);

export interface NodeOptions {
  id: string;
  redisUrl?: string;
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof for a benchmark's profile). */
  nodeArgs?: string[];
  /**
   * Start the node as the leader of its own process group (the cluster benchmark kills the group
   * when interrupted); otherwise it shares its parent's group, and a terminal's Ctrl-C reaches it.
   */
  detached?: boolean;
}

export class NodeProcess {
  proc?: ChildProcess;
  output = '';
  private constructor(
    readonly options: NodeOptions,
    readonly port: number,
  ) {}

  static async start(options: NodeOptions): Promise<NodeProcess> {
    const node = new NodeProcess(options, await freePort());
    await node.start();
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AIRWAVES_PORT: String(this.port),
      AIRWAVES_HOST: '127.0.0.1',
      AIRWAVES_NODE_ID: this.options.id,
      AIRWAVES_API_KEY: API_KEY,
      AIRWAVES_JWT_SECRET: JWT_SECRET,
      AIRWAVES_NAMESPACES: CHAT_NAMESPACES,
      AIRWAVES_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      AIRWAVES_SHUTDOWN_DRAIN_MS: '200',
      AIRWAVES_DATA_DIR: join(root, 'data', `test-${this.options.id}`),
      // Radio synthesis runs continuously and would take CPU from the hub under test.
      AIRWAVES_RADIO_ENABLED: 'false',
      // Likewise the market's venue connections and the live app's RTMP listener.
      AIRWAVES_MARKET_ENABLED: 'false',
      AIRWAVES_LIVE_RTMP_ENABLED: 'false',
      // Each test node keeps its own embedded database (nothing of the tests lives there); a
      // caller that needs a shared one sets DATABASE_URL.
      AIRWAVES_CLUSTER_LOCAL_DATABASE: 'true',
      ...(this.options.redisUrl ? { AIRWAVES_REDIS_URL: this.options.redisUrl } : {}),
      ...this.options.env,
    };
    const proc = spawn(process.execPath, [...(this.options.nodeArgs ?? []), '--import', 'tsx', 'src/cli.ts', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: this.options.detached ?? false });
    this.proc = proc;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    // Generous: a cold tsx start of the whole server takes 10-20 s on a loaded 2-core machine.
    await this.waitReady(90_000);
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) throw new Error(`node ${this.options.id} exited (${this.proc.exitCode}):\n${this.output}`);
      try {
        // ?apps=all: every app's routes answer (plain /readyz is 200 while the apps still start).
        const res = await fetch(`${this.url}/readyz?apps=all`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        this.proc?.kill('SIGKILL');
        throw new Error(`node ${this.options.id} not ready after ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the process with `signal` and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}
