/**
 * @module bench/cluster/c-receiver
 * The cluster bench's receiver written in C (bench/cluster/delivery-receiver.c): built at bench time
 * with the system's `cc` (nothing downloaded, no binary committed), run as a child process and
 * asked the hub receiver's requests (bench/hub/ipc.ts `ReceiverRequest`), which this wrapper turns
 * into the binary's one-line commands. Why: the Node receivers cost 45–57 % of a core at the 3-node
 * saturation, 41 % of it Node's per-read call into JavaScript; the C one does the same per-message
 * check (test/cluster/c-receiver.test.ts holds it to delivery-check's cases) without that call.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, type ReceiverRequest } from '../hub/ipc.js';
import { pathFor } from '../hub/wire.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Which receiver the rig runs: the compiled one (the default) or bench/hub/receiver.ts (`--receiver node`). */
export type ReceiverKind = 'c' | 'node';
export const RECEIVER_KINDS: readonly ReceiverKind[] = ['c', 'node'];

const NODE_RECEIVER = join(here, '..', 'hub', 'receiver.ts');

/** A receiver process of either kind: both answer the same requests with the same report. */
export type ReceiverProcess = Child | CReceiver;

export function startReceiver(kind: ReceiverKind, name: string): ReceiverProcess {
  return kind === 'node' ? new Child(NODE_RECEIVER, name) : new CReceiver(buildCReceiver(), name);
}

let built: string | null = null;

/** Compiles the receiver once per process; throws with the compiler's message when there is no working `cc`. */
export function buildCReceiver(): string {
  if (built) return built;
  const out = join(mkdtempSync(join(tmpdir(), 'airwaves-c-receiver-')), 'delivery-receiver');
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, join(here, 'delivery-receiver.c')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`cluster bench: the C receiver did not build (${r.error?.message ?? r.stderr.trim()}); --receiver node runs the Node one`);
  built = out;
  return out;
}

/** The request as the binary's command line (delivery-receiver.c's header lists them). */
function commandLine(request: ReceiverRequest): string {
  switch (request.type) {
    case 'connect':
      if (request.kind !== 'airwaves' && request.kind !== 'airwaves-cli' && request.kind !== 'airwaves-cli-all') throw new Error(`the C receiver speaks only the Airwaves protocol, not ${request.kind}`);
      return `connect ${request.host} ${request.port} ${pathFor(request.kind)} ${request.concurrency} ${request.subscriptions.map((s) => s ?? '-').join(' ')}`;
    case 'step':
      return `step ${request.step}`;
    case 'progress':
      return 'progress';
    case 'report':
      return `report ${Object.entries(request.expected).map(([ch, n]) => `${ch}=${n}`).join(' ')}`;
    case 'close':
      return 'close';
  }
}

/** The compiled receiver behind the same `call`/`stop`/`pid` as a forked Node receiver (bench/hub/ipc.ts `Child`). */
export class CReceiver {
  readonly process: ChildProcess;
  /** Answers come back one line per command, in order; commands are sent one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private buffered = '';
  private exited = false;

  constructor(
    binary: string,
    private readonly name: string,
  ) {
    this.process = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.process.stdout!.setEncoding('utf8');
    this.process.stdout!.on('data', (text: string) => {
      this.buffered += text;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(line);
      }
    });
    this.process.stdin!.on('error', () => {}); // EPIPE after an exit is reported by 'exit'
    this.process.on('exit', (code, signal) => {
      this.exited = true;
      this.waiting?.reject(new Error(`${name} exited (${code ?? signal})`));
      this.waiting = null;
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  call<T>(request: object, timeoutMs = 120_000): Promise<T> {
    const run = this.queue.then(() => this.send<T>(request as ReceiverRequest, timeoutMs));
    this.queue = run.catch(() => {});
    return run;
  }

  private send<T>(request: ReceiverRequest, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        // A late answer would be taken for the next command's: a receiver that did not answer is ended.
        this.process.kill('SIGKILL');
        reject(new Error(`${this.name}: no reply to ${request.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (line) => {
          clearTimeout(timer);
          const value = JSON.parse(line) as T & { error?: string };
          if (typeof value.error === 'string') reject(new Error(`${this.name}: ${value.error}`));
          else resolve(value);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.process.stdin!.write(`${commandLine(request)}\n`);
    });
  }

  /** Asks the receiver to close, then kills it if it lingers. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.process.once('exit', () => r()));
    this.call({ type: 'close' }, 5000).catch(() => {});
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
