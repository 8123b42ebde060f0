/**
 * Test harness: a real Airwaves server on a random loopback port, and a raw WebSocket client
 * that speaks protocol v1 frame by frame (so tests see exactly what the server sends).
 */
import { WebSocket } from 'ws';
import { createServer, type AirwavesServer, type ServerOptions } from '../../src/server.js';
import type { AirwavesConfig } from '../../src/config.js';
import { createLogger } from '../../src/core/logger.js';

/** Explicit secrets: tests never generate into ./data, and both pass the start-up checks. */
export const TEST_API_KEY = 'test-admin-api-key-0123456789abcdef-0123';
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';

/**
 * A server as tests want it: explicit secrets, demo logins on (the help desk tests sign in as
 * demo users), login limits lifted (many sign-ins from 127.0.0.1).
 */
export async function startServer(config: Partial<AirwavesConfig> = {}, options: Omit<ServerOptions, 'config'> = {}): Promise<AirwavesServer & { wsUrl: string }> {
  const server = await createServer({
    env: {},
    apps: [],
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...options,
    config: { port: 0, host: '127.0.0.1', apiKey: TEST_API_KEY, jwtSecret: TEST_JWT_SECRET, demo: true, loginRatePerMinute: 1_000_000, ...config },
  });
  await server.listen();
  return Object.assign(server, { wsUrl: server.url.replace('http', 'ws') + '/ws' });
}

/** fetch as the admin (the API key as bearer), unless the caller sets its own authorization. */
export function adminFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${TEST_API_KEY}`);
  return fetch(url, { ...init, headers });
}

export type Frame = Record<string, unknown> & { id?: number; ok?: boolean; channel?: string; offset?: number; event?: string; data?: unknown };

/** A raw protocol client: send commands, await replies by id, collect pushes. */
export class RawClient {
  readonly ws: WebSocket;
  readonly pushes: Frame[] = [];
  readonly binaries: Buffer[] = [];
  readonly textFrames: string[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (f: Frame) => void>();
  private pushWaiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closeCode?: number;
  closeReason?: string;
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;

  constructor(url: string, options: { paused?: boolean } = {}) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve(code);
      }),
    );
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.binaries.push(data as Buffer);
        return;
      }
      const text = data.toString();
      this.textFrames.push(text);
      for (const line of text.split('\n')) this.onFrame(JSON.parse(line) as Frame);
    });
    if (options.paused) this.opened.then(() => (this.ws as unknown as { _socket: { pause(): void } })._socket.pause()).catch(() => {});
  }

  static async open(url: string, options: { paused?: boolean } = {}): Promise<RawClient> {
    const c = new RawClient(url, options);
    await c.opened;
    return c;
  }

  private onFrame(f: Frame): void {
    if (typeof f.id === 'number' && this.waiting.has(f.id)) {
      this.waiting.get(f.id)!(f);
      this.waiting.delete(f.id);
      return;
    }
    if (f.id !== undefined && f.ok === false && f.id === null) {
      // errors without an id (bad JSON) are pushes for the test's purpose
    }
    this.pushes.push(f);
    this.pushWaiters = this.pushWaiters.filter((w) => {
      if (w.pred(f)) {
        w.resolve(f);
        return false;
      }
      return true;
    });
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = 5000): Promise<Frame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for reply to ${op} #${id}`)), timeoutMs);
      this.waiting.set(id, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ id, op, ...fields }));
    });
  }

  waitPush(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const found = this.pushes.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout waiting for push')), timeoutMs);
      this.pushWaiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  async waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error('timeout waiting for condition');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  publications(channel: string): Frame[] {
    return this.pushes.filter((f) => f.channel === channel && typeof f.offset === 'number');
  }

  close(): void {
    this.ws.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a condition every `everyMs`; fails naming `what` after `timeoutMs` (generous: CI is loaded). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(everyMs);
  }
}
