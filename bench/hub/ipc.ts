/**
 * @module bench/hub/ipc
 * Request/reply over a forked child's IPC channel, and the shapes the coordinator and its load
 * generator processes exchange.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { HistogramSnapshot } from './histogram.js';
import type { ServerKind } from './wire.js';

export type ReceiverRequest =
  | { type: 'connect'; kind: ServerKind; host: string; port: number; subscriptions: (string | null)[]; concurrency: number }
  | { type: 'step'; step: number }
  | { type: 'progress' }
  | { type: 'report'; expected: Record<string, number> }
  | { type: 'close' };

export interface ReceiverReport {
  clients: number;
  connected: number;
  received: number;
  /** Messages of the current step that never arrived, summed over clients. */
  lost: number;
  /** Messages of the current step that arrived more often than published. */
  duplicated: number;
  /** Messages whose sequence number was not the previous one plus one. */
  outOfOrder: number;
  /** Messages from an earlier step that arrived during this one. */
  stale: number;
  frames: number;
  histogram: HistogramSnapshot;
}

export type PublisherRequest =
  | { type: 'connect'; kind: ServerKind; host: string; port: number }
  /** `channelIndexes`: the channels this publisher publishes (default 0 … channels-1), round-robin at `rate` in all. */
  | { type: 'run'; step: number; rate: number; durationMs: number; channels: number; payloadBytes: number; channelIndexes?: number[] }
  | { type: 'close' };

export interface PublisherResult {
  /** Publications sent per channel name. */
  published: Record<string, number>;
  total: number;
  elapsedMs: number;
  achievedRate: number;
}

type Reply = { rid: number; ok: boolean; error?: string; value?: unknown };

/** A forked TypeScript child (through tsx) answering requests by id. */
export class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly process: ChildProcess;
  private exited = false;

  constructor(script: string, name: string) {
    this.process = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_ROLE: name } });
    this.process.on('message', (m: Reply) => {
      const w = this.waiting.get(m.rid);
      if (!w) return;
      this.waiting.delete(m.rid);
      if (m.ok) w.resolve(m.value);
      else w.reject(new Error(`${name}: ${m.error}`));
    });
    this.process.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  call<T>(request: object, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error('child has exited'));
    const rid = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error(`no reply to ${JSON.stringify(request).slice(0, 60)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ ...request, rid });
    });
  }

  /** Asks the child to close, then kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.process.once('exit', () => r()));
    this.call({ type: 'close' }, 5000).catch(() => {});
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * After a publishing step: waits (bounded) until the receivers have everything the publisher
 * sent (`expected` deliveries), or stop making progress for `quietMs`, or `maxMs` passes; then collects their reports.
 */
export async function drainReceivers(
  receivers: readonly Pick<Child, 'call'>[],
  published: Record<string, number>,
  subscribersPerChannel: ReadonlyMap<string, number>,
  { quietMs, maxMs }: { quietMs: number; maxMs: number },
): Promise<{ expected: number; drainMs: number; reports: ReceiverReport[] }> {
  let expected = 0;
  for (const [ch, n] of Object.entries(published)) expected += n * (subscribersPerChannel.get(ch) ?? 0);
  const drainStart = performance.now();
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const progress = await Promise.all(receivers.map((r) => r.call<{ received: number }>({ type: 'progress' })));
    const got = progress.reduce((a, p) => a + p.received, 0);
    const now = performance.now();
    if (got >= expected) break;
    if (got !== last) {
      last = got;
      lastChange = now;
    } else if (now - lastChange > quietMs) break;
    if (now - drainStart > maxMs) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const drainMs = performance.now() - drainStart;
  const reports = await Promise.all(receivers.map((r) => r.call<ReceiverReport>({ type: 'report', expected: published })));
  return { expected, drainMs, reports };
}

/** The child side: answer each request with its handler's result. */
export function serve(handler: (request: { type: string } & Record<string, unknown>) => unknown): void {
  process.on('message', (m: { rid: number; type: string } & Record<string, unknown>) => {
    Promise.resolve()
      .then(() => handler(m))
      .then(
        (value) => process.send!({ rid: m.rid, ok: true, value }),
        (err: unknown) => process.send!({ rid: m.rid, ok: false, error: (err as Error).message ?? String(err) }),
      );
  });
  // The coordinator going away must not leave generators running.
  process.on('disconnect', () => process.exit(0));
}
